// A user's program: checks that the version macros match the CMake package, then trains a custom
// model (a small auto-encoder of its own, not one of aigc's trainers) with aigc::fit and checks
// what fit gives it: a progress line, CSV logs, a TensorBoard file, loss.png, and a checkpoint
// that a second run resumes from; then sets its layers' products to bfloat16.
#include <aigc/aigc.hpp>
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

namespace {

// The user's model: x -> 8 ReLU -> 16 through MSE, Adam; what fit needs is step(x) returning
// stats with values(), train_epoch, step_count and save_state / load_state.
struct AutoEncoder {
  struct Stats {
    double mse = 0.0;
    std::array<aigc::StepValue, 1> values() const { return {aigc::StepValue{"mse", mse}}; }
  };

  aigc::Rng init{3};
  aigc::Sequential<float> net;
  aigc::Adam<float> adam;
  aigc::Tensor<float> batch, dy;

  AutoEncoder() : net(make_net(init)), adam(net.params(), {.lr = 1e-2}) {}
  static aigc::Sequential<float> make_net(aigc::Rng& rng) {
    aigc::Sequential<float> s;
    s.set_name("autoencoder");
    s.emplace<aigc::Dense<float>>("fc1", 16, 8, rng,
                                  aigc::DenseOptions{.activation = aigc::Activation::relu});
    s.emplace<aigc::Dense<float>>("fc2", 8, 16, rng);
    return s;
  }

  Stats step(const aigc::Tensor<float>& x) {
    adam.zero_grad();
    const double loss = aigc::mse(net.forward(x), x, aigc::Reduction::mean, &dy);
    net.backward(dy);
    adam.step();
    return {loss};
  }
  void train_epoch(aigc::BatchLoader<float>& loader,
                   const std::function<void(const Stats&)>& on_step) {
    while (loader.next(batch)) on_step(step(batch));
  }
  std::int64_t step_count() const { return adam.steps(); }
  void save_state(aigc::StateDict& s) {
    aigc::save_params(s, adam.params());
    aigc::save_optimizer(s, adam);
  }
  void load_state(const aigc::StateDict& s) {
    aigc::load_params(s, adam.params());
    aigc::load_optimizer(s, adam);
  }
};

int failures = 0;
void expect(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "consumer: %s\n", what.c_str());
    ++failures;
  }
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

int main() {
  if (std::strcmp(AIGC_VERSION_STRING, AIGC_CONSUMER_EXPECTED_VERSION) != 0) {
    std::fprintf(stderr, "aigc/version.hpp says %s, the build system says %s\n",
                 AIGC_VERSION_STRING, AIGC_CONSUMER_EXPECTED_VERSION);
    return 1;
  }
  aigc::Dataset<float> data;
  data.images.resize(64, 16);
  aigc::Rng rng(1);
  rng.fill_uniform(data.images, 0.0, 1.0);
  data.height = data.width = 4;
  // In the working folder (run.cmake runs each consumer build in its own): the consumer builds
  // run side by side, and a shared temporary folder let one delete another's run.
  const std::filesystem::path out = std::filesystem::current_path() / "fit-run";
  std::filesystem::remove_all(out);

  std::FILE* progress = std::tmpfile();
  aigc::FitOptions options{.epochs = 3, .out = out.string(), .name = "autoencoder"};
  options.progress_file = progress;
  {
    AutoEncoder model;
    aigc::BatchLoader<float> loader(data, {.batch_size = 16, .seed = 2});
    const aigc::FitResult run = aigc::fit(model, loader, options);
    std::printf("%s\n", run.summary(out.string()).c_str());
    expect(run.steps == 12, "3 epochs of 4 batches took " + std::to_string(run.steps) + " steps");
    expect(run.last_epoch.at(0).second < 0.2, "the MSE did not fall");
  }
  std::rewind(progress);
  char line[512] = {};
  expect(std::fgets(line, sizeof line, progress) && std::strstr(line, "epoch 1") &&
             std::strstr(line, "mse"),
         std::string("no progress line, got '") + line + "'");
  std::fclose(progress);
  expect(read_text(out / "steps.csv").rfind("epoch,step,mse\n", 0) == 0, "steps.csv");
  expect(read_text(out / "metrics.csv").rfind("epoch,step,mse,seconds\n1,4,", 0) == 0,
         "metrics.csv");
  expect(std::filesystem::file_size(out / "loss.png") > 1000, "loss.png");
  bool events = false;
  for (const auto& f : std::filesystem::directory_iterator(out / "tensorboard"))
    events = events || f.path().filename().string().rfind("events.out.tfevents.", 0) == 0;
  expect(events, "no TensorBoard events file");
  const std::filesystem::path last = out / "checkpoints/autoencoder-000000000012.aigc";
  expect(std::filesystem::exists(last), last.string() + " missing");

  // A second program resumes the run from its checkpoint folder and trains a fourth epoch.
  AutoEncoder resumed;
  aigc::BatchLoader<float> loader(data, {.batch_size = 16, .seed = 2});
  options.epochs = 4;
  options.progress = false;
  options.resume = (out / "checkpoints").string();
  const aigc::FitResult more = aigc::fit(resumed, loader, options);
  expect(more.steps == 16, "the resumed run ended at step " + std::to_string(more.steps));
  const std::string steps = read_text(out / "steps.csv");
  expect(std::count(steps.begin(), steps.end(), '\n') == 17, "steps.csv does not hold 16 steps");
  std::filesystem::remove_all(out);

  // Mixed precision on the user's own model: its two Dense layers take bfloat16 products (FP32 on
  // a build without AVX-512 BF16, which says so on stderr), close to the FP32 forward.
  {
    AutoEncoder model;
    const aigc::Tensor<float> fp32 = model.net.forward(data.images);
    expect(aigc::set_precision(model.net, aigc::Precision::bf16) == 2,
           "set_precision did not reach the two Dense layers");
    const aigc::Tensor<float> bf16 = model.net.forward(data.images);
    const float worst = (fp32 - bf16).cwiseAbs().maxCoeff();
    expect(worst < 0.05f, "bf16 forward off by " + std::to_string(worst));
  }
  std::printf("aigc %s: a custom model trained with fit and resumed: %s\n", AIGC_VERSION_STRING,
              failures ? "FAILED" : "ok");
  return failures ? 1 : 0;
}
