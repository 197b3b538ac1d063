// Where a step of the default VAE spends its time: the phases of VaeTrainer::step (same layers,
// loss and optimiser; each layer's forward and backward on its own) timed one by one, at 1 and 2
// threads, in microseconds per step. Adam and
// zero_grad are run a second time right after the first ("again") to show what they cost on
// data that is already in the right core's cache.
// Usage: bench_vae_phases [steps = 300] [--data DIR] [--precision fp32|bf16]
#include <aigc/aigc.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>

#include "vae_step_main.hpp"

namespace {

using Clock = std::chrono::steady_clock;

void run(const aigc::Dataset<float>& train, int threads, int steps) {
  using namespace aigc;
  set_num_threads(threads);
  Rng init(0);
  auto enc = make_vae_encoder<float>(784, 400, 20, init);
  auto dec = make_vae_decoder<float>(20, 400, 784, init);
  set_precision(*enc, vae_step_precision);
  set_precision(*dec, vae_step_precision);
  std::vector<Param<float>*> params = enc->params();
  for (Param<float>* p : dec->params()) params.push_back(p);
  Adam<float> opt(params, AdamOptions{});
  Reparameterization<float> reparam;
  Rng rng(1);
  BatchLoader<float> loader(train, {.batch_size = 128, .shuffle = true, .seed = 0});
  Tensor<float> x, mu, logvar, dlogits, dmu, dlogvar, dh;
  enc->set_needs_input_grad(false);
  std::map<std::string, double> seconds;
  auto tick = Clock::now();
  auto lap = [&](const std::string& phase) {
    const auto now = Clock::now();
    seconds[phase] += std::chrono::duration<double>(now - tick).count();
    tick = now;
  };
  // A network's layers one by one, as Sequential runs them (each layer but the first may keep a
  // pointer to its input; the first too when in_stable, as VaeTrainer says of the encoder's
  // input), each timed as its own phase.
  auto forward = [&](Sequential<float>& net, const Tensor<float>& in, const std::string& phase,
                     bool in_stable) {
    const Tensor<float>* h = &in;
    for (std::size_t i = 0; i < net.size(); ++i) {
      net[i].set_input_stable(i > 0 || in_stable);
      h = &net[i].forward(*h);
      lap(phase + ", layer " + std::to_string(i));
    }
    return h;
  };
  auto backward = [&](Sequential<float>& net, const Tensor<float>& dy, const std::string& phase) {
    const Tensor<float>* d = &dy;
    for (std::size_t i = net.size(); i-- > 0;) {
      d = &net[i].backward(*d);
      lap(phase + ", layer " + std::to_string(i));
    }
    return d;
  };
  double total = 0.0;
  for (int s = -20; s < steps; ++s) {  // 20 untimed steps first
    if (s == 0) seconds.clear();
    if (!loader.next(x)) loader.next(x);
    const auto t0 = Clock::now();
    tick = t0;
    opt.zero_grad();
    lap("a zero_grad");
    const Tensor<float>& h = *forward(*enc, x, "b encoder forward", true);
    mu = h.leftCols(20);
    logvar = h.rightCols(20);
    const Tensor<float>& z = reparam.forward(mu, logvar, rng);
    lap("c reparameterisation");
    const Tensor<float>& logits = *forward(*dec, z, "d decoder forward", false);
    bce_with_logits(logits, x, Reduction::sum, &dlogits);
    lap("e BCE");
    gaussian_kl(mu, logvar, Reduction::sum, &dmu, &dlogvar);
    lap("f KL");
    const Tensor<float>& dz = *backward(*dec, dlogits, "g decoder backward");
    reparam.backward(dz, dmu, dlogvar);
    dh.resize(x.rows(), 40);
    dh.leftCols(20) = dmu;
    dh.rightCols(20) = dlogvar;
    lap("h reparameterisation backward");
    backward(*enc, dh, "i encoder backward");
    check_finite_grads(opt.params(), "bench", 1);
    lap("j finite check");
    opt.step();
    lap("k Adam");
    if (s >= 0) total += std::chrono::duration<double>(Clock::now() - t0).count();
    opt.step();
    lap("l Adam again");
    opt.zero_grad();
    lap("m zero_grad again");
  }
  std::printf("%d thread(s): %.3f ms per step without the 'again' phases\n", threads,
              1e3 * total / steps);
  for (const auto& [phase, s] : seconds) {
    std::printf("  %-30s %8.1f us\n", phase.c_str(), 1e6 * s / steps);
  }
}

}  // namespace

int main(int argc, char** argv) { return vae_step_main(argc, argv, "bench_vae_phases", 300, run); }
