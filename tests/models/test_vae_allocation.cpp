// A training step allocates nothing once the first batch has sized the buffers. Every heap
// allocation goes through malloc (operator new, Eigen, the scratch panels), so this test binary
// replaces glibc's malloc, calloc, realloc and aligned allocations with counting wrappers around
// the originals; they count only while a test switches counting on.
#include <aigc/layers/activation.hpp>
#include <aigc/layers/batchnorm.hpp>
#include <aigc/layers/conv2d.hpp>
#include <aigc/layers/conv_transpose2d.hpp>
#include <aigc/layers/dropout.hpp>
#include <aigc/layers/reshape.hpp>
#include <aigc/layers/sequential.hpp>
#include <aigc/models/cvae.hpp>
#include <aigc/models/dcgan.hpp>
#include <aigc/models/gan.hpp>
#include <aigc/models/vae.hpp>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstddef>
#include <filesystem>

#if defined(__GLIBC__)
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
}

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
inline void count() {
  if (g_counting.load(std::memory_order_relaxed)) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  }
}
}  // namespace

extern "C" {
void* malloc(std::size_t n) noexcept {
  count();
  return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t size) noexcept {
  count();
  return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t n) noexcept {
  count();
  return __libc_realloc(p, n);
}
void* aligned_alloc(std::size_t alignment, std::size_t n) noexcept {
  count();
  return __libc_memalign(alignment, n);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t n) noexcept {
  count();
  *out = __libc_memalign(alignment, n);
  return *out ? 0 : 12;  // ENOMEM
}
}

using namespace aigc;

TEST_CASE("the counting allocator sees operator new, Eigen and aligned allocations",
          "[allocation]") {
  g_allocations = 0;
  g_counting = true;
  auto* p = new int(3);
  Tensor<float> t(17, 33);
  auto* q = ::operator new(100, std::align_val_t(64));
  g_counting = false;
  ::operator delete(q, std::align_val_t(64));
  delete p;
  CHECK(g_allocations.load() == 3);
  CHECK(t.size() == 17 * 33);
}

TEST_CASE("VaeTrainer::step allocates nothing after the first batch", "[allocation][vae]") {
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    Rng init(0), data(1);
    auto enc = make_vae_encoder<float>(784, 400, 20, init);
    auto dec = make_vae_decoder<float>(20, 400, 784, init);
    VaeTrainer<float> trainer(*enc, *dec, {.latent = 20});
    Tensor<float> x(128, 784);
    data.fill_uniform(x, 0.0, 1.0);
    trainer.step(x);  // sizes every buffer
    trainer.step(x);
    g_allocations = 0;
    g_counting = true;
    for (int i = 0; i < 5; ++i) trainer.step(x);
    g_counting = false;
    INFO(threads << " thread(s)");
    CHECK(g_allocations.load() == 0);
  }
  set_num_threads(0);
}
TEST_CASE(
    "GanTrainer::step (GAN and cGAN, every objective) allocates nothing after the first "
    "batch",
    "[allocation][gan]") {
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (GanObjective objective :
         {GanObjective::bce, GanObjective::lsgan, GanObjective::hinge, GanObjective::wasserstein}) {
      for (int classes : {0, 10}) {
        Rng init(0), data(1);
        auto g = make_mlp_generator<float>(64, 100, init, classes);
        auto d = make_mlp_discriminator<float>(100, init, classes);
        const GanOptions options{.objective = objective, .d_steps = 2};
        auto trainer = classes ? std::make_unique<CganTrainer<float>>(*g, *d, options)
                               : std::make_unique<GanTrainer<float>>(*g, *d, options);
        Tensor<float> x(64, 100);
        data.fill_uniform(x, -1.0, 1.0);
        std::vector<int> labels(64);
        for (int& l : labels) l = static_cast<int>(data.below(10));
        const auto step = [&] { return classes ? trainer->step(x, labels) : trainer->step(x); };
        step();  // sizes every buffer (D step only)
        step();  // D and G step
        g_allocations = 0;
        g_counting = true;
        for (int i = 0; i < 4; ++i) step();
        g_counting = false;
        INFO(threads << " thread(s), " << to_string(objective) << ", " << classes << " classes");
        CHECK(g_allocations.load() == 0);
      }
    }
  }
  set_num_threads(0);
}

TEST_CASE("CvaeTrainer::step allocates nothing after the first batch", "[allocation][cvae]") {
  Rng init(0), data(1);
  auto enc = make_cvae_encoder<float>(784, 400, 20, 10, init);
  auto dec = make_cvae_decoder<float>(20, 400, 784, 10, init);
  CvaeTrainer<float> trainer(*enc, *dec, {.latent = 20});
  Tensor<float> x(128, 784);
  data.fill_uniform(x, 0.0, 1.0);
  std::vector<int> labels(128);
  for (int& l : labels) l = static_cast<int>(data.below(10));
  trainer.step(x, labels);
  trainer.step(x, labels);
  g_allocations = 0;
  g_counting = true;
  for (int i = 0; i < 3; ++i) trainer.step(x, labels);
  g_counting = false;
  CHECK(g_allocations.load() == 0);
}

TEST_CASE("a GAN step through the convolution layers allocates nothing after the first",
          "[allocation][conv2d]") {
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    Rng init(0), data(1);
    Sequential<float> g, d;
    g.emplace<Reshape<float>>("view", std::vector<Index>{16, 1, 1});
    g.emplace<ConvTranspose2d<float>>("convt1", 16, 32, 4, 1, 1, init);
    g.emplace<BatchNorm2d<float>>("bn1", 32);
    g.emplace<ReLU<float>>("relu1");
    g.emplace<ConvTranspose2d<float>>(
        "convt2", 32, 1, 4, 4, 4, init,
        ConvTranspose2dOptions{.stride = 2, .padding = 1, .activation = Activation::tanh});
    d.emplace<Conv2d<float>>(
        "conv1", 1, 32, 4, 8, 8, init,
        Conv2dOptions{.stride = 2, .padding = 1, .activation = Activation::leaky_relu});
    d.emplace<BatchNorm2d<float>>("bn1", 32);
    d.emplace<Dropout<float>>("drop", 0.2, 3);
    d.emplace<Flatten<float>>("flat");
    d.emplace<Conv2d<float>>("conv2", 32, 8, 4, 4, 4, init);
    d.emplace<BatchNorm1d<float>>("bn2", 8);
    g.set_needs_input_grad(false);
    Tensor<float> z(32, 16), real(32, 64), dlogit(32, 8);
    data.fill_normal(z);
    data.fill_uniform(real, -1.0, 1.0);
    data.fill_normal(dlogit);
    auto step = [&] {
      d.set_needs_input_grad(false);
      d.forward(real);
      d.backward(dlogit);
      const Tensor<float>& fake = g.forward(z);
      d.forward(fake);
      d.backward(dlogit);
      d.set_needs_input_grad(true);
      d.forward(fake);
      g.backward(d.backward(dlogit));
    };
    step();  // sizes every buffer
    step();
    g_allocations = 0;
    g_counting = true;
    for (int i = 0; i < 3; ++i) step();
    g_counting = false;
    INFO(threads << " thread(s)");
    CHECK(g_allocations.load() == 0);
  }
  set_num_threads(0);
}

TEST_CASE("GanTrainer::step on the DCGAN allocates nothing after the first batch",
          "[allocation][dcgan]") {
  Rng init(0), data(1);
  auto g = make_dcgan_generator<float>(16, init);
  auto d = make_dcgan_discriminator<float>(init);
  GanTrainer<float> trainer(*g, *d, {.latent = 16, .fixed_samples = 4});
  Tensor<float> x(8, 784);
  data.fill_uniform(x, -1.0, 1.0);
  trainer.step(x);
  trainer.step(x);
  g_allocations = 0;
  g_counting = true;
  for (int i = 0; i < 2; ++i) trainer.step(x);
  g_counting = false;
  CHECK(g_allocations.load() == 0);
}
TEST_CASE(
    "GanTrainer::step with every tool on (EMA, spectral norm, DiffAugment, ADA, R1, schedules) "
    "allocates nothing after the first batch",
    "[allocation][gan]") {
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    Rng init(0), data(1);
    auto g = make_dcgan_generator<float>(16, init);
    auto d = make_dcgan_discriminator<float>(init);
    GanOptions o{.latent = 16, .d_steps = 2};
    o.ema = o.spectral_norm_d = o.spectral_norm_g = o.diffaugment = o.ada = true;
    o.ada_interval = 1;
    o.r1_gamma = 0.1;
    o.schedule_g = o.schedule_d = {.decay = LrDecay::cosine, .warmup_steps = 2, .total_steps = 50};
    GanTrainer<float> trainer(*g, *d, o);
    Tensor<float> x(8, 784);
    data.fill_uniform(x, -1.0, 1.0);
    trainer.step(x);
    trainer.step(x);
    g_allocations = 0;
    g_counting = true;
    for (int i = 0; i < 4; ++i) trainer.step(x);
    g_counting = false;
    INFO(threads << " thread(s)");
    CHECK(g_allocations.load() == 0);
  }
  set_num_threads(0);
}

#endif
