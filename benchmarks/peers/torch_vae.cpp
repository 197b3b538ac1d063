// The default VAE of examples/vae (PyTorch's examples/vae/main.py: 784-400-20, ReLU, batch 128,
// Adam 1e-3, loss = BCE(sum) + KL(sum), one sampled z per image) written with PyTorch's C++
// library, for the speed and test-loss comparison of benchmarks/run.sh. The images are read with
// aigc's IDX reader (data loading only); every computation is libtorch's. --precision bf16: the
// forward passes and the loss under CPU autocast to bfloat16 (bf16_autocast.hpp), training and
// test. Usage: torch_vae [--epochs N] [--threads T] [--precision fp32|bf16] [--data DIR]
#include <torch/torch.h>

#include <aigc/data/dataset.hpp>
#include <chrono>
#include <cstdio>
#include <string>

#include "bf16_autocast.hpp"

namespace {

struct VaeImpl : torch::nn::Module {
  VaeImpl()
      : fc1(register_module("fc1", torch::nn::Linear(784, 400))),
        fc21(register_module("fc21", torch::nn::Linear(400, 20))),
        fc22(register_module("fc22", torch::nn::Linear(400, 20))),
        fc3(register_module("fc3", torch::nn::Linear(20, 400))),
        fc4(register_module("fc4", torch::nn::Linear(400, 784))) {}

  // Returns the logits of the reconstruction, mu and logvar.
  std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> forward(const torch::Tensor& x) {
    const torch::Tensor h = torch::relu(fc1(x));
    torch::Tensor mu = fc21(h), logvar = fc22(h);
    const torch::Tensor z = mu + torch::randn_like(mu) * torch::exp(0.5 * logvar);
    return {fc4(torch::relu(fc3(z))), mu, logvar};
  }

  torch::Tensor decode(const torch::Tensor& z) { return torch::sigmoid(fc4(torch::relu(fc3(z)))); }

  torch::nn::Linear fc1, fc21, fc22, fc3, fc4;
};
TORCH_MODULE(Vae);

torch::Tensor loss_function(const torch::Tensor& logits, const torch::Tensor& x,
                            const torch::Tensor& mu, const torch::Tensor& logvar) {
  const torch::Tensor bce =
      torch::binary_cross_entropy_with_logits(logits, x, {}, {}, torch::Reduction::Sum);
  const torch::Tensor kl = -0.5 * torch::sum(1 + logvar - mu.pow(2) - logvar.exp());
  return bce + kl;
}

torch::Tensor to_torch(const aigc::Dataset<float>& d) {
  return torch::from_blob(const_cast<float*>(d.images.data()), {d.size(), d.features()},
                          torch::kFloat32)
      .clone();
}

}  // namespace

int main(int argc, char** argv) {
  int epochs = 10, threads = 2;
  bool bf16 = false;
  std::string data = aigc::default_fashion_mnist_dir();
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--epochs") {
      epochs = std::stoi(value);
    } else if (flag == "--threads") {
      threads = std::stoi(value);
    } else if (flag == "--precision" && (value == "fp32" || value == "bf16")) {
      bf16 = value == "bf16";
    } else if (flag == "--data") {
      data = value;
    } else {
      std::fprintf(stderr, "torch_vae: unknown flag %s\n", flag.c_str());
      return 1;
    }
  }
  torch::set_num_threads(threads);
  torch::manual_seed(0);
  const torch::Tensor train = to_torch(aigc::load_mnist_format<float>(data, aigc::Split::train));
  const torch::Tensor test = to_torch(aigc::load_mnist_format<float>(data, aigc::Split::test));
  const int64_t n = train.size(0), batch = 128;

  Vae model;
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-3));
  std::printf("PyTorch %s VAE 784-400-20, batch %ld, %d thread(s)%s\n", TORCH_VERSION,
              static_cast<long>(batch), torch::get_num_threads(),
              bf16 ? ", CPU autocast to bfloat16" : "");
  std::vector<double> seconds;
  double test_loss = 0.0;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    model->train();
    const auto t0 = std::chrono::steady_clock::now();
    const torch::Tensor order = torch::randperm(n, torch::kLong);
    double train_loss = 0.0;
    for (int64_t begin = 0; begin < n; begin += batch) {
      const torch::Tensor x = train.index_select(0, order.slice(0, begin, begin + batch));
      optimizer.zero_grad();
      torch::Tensor loss;
      {
        const Bf16Autocast autocast(bf16);
        auto [logits, mu, logvar] = model->forward(x);
        loss = loss_function(logits, x, mu, logvar);
      }
      loss.backward();
      optimizer.step();
      train_loss += loss.item<double>();
    }
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    model->eval();
    torch::NoGradGuard no_grad;
    test_loss = 0.0;
    for (int64_t begin = 0; begin < test.size(0); begin += 1000) {
      const torch::Tensor x = test.slice(0, begin, begin + 1000);
      const Bf16Autocast autocast(bf16);
      auto [logits, mu, logvar] = model->forward(x);
      test_loss += loss_function(logits, x, mu, logvar).item<double>();
    }
    test_loss /= static_cast<double>(test.size(0));
    std::printf("epoch %2d  train loss %.2f  test loss %.2f  (%.3f s)\n", epoch,
                train_loss / static_cast<double>(n), test_loss, seconds.back());
    std::fflush(stdout);
  }

  // Generator throughput: decode batches of 1000 latent codes, best of 5 passes of 10000 images.
  torch::NoGradGuard no_grad;
  const torch::Tensor z = torch::randn({1000, 20});
  double best = 1e30;
  for (int pass = 0; pass < 5; ++pass) {
    const auto t0 = std::chrono::steady_clock::now();
    const Bf16Autocast autocast(bf16);
    for (int b = 0; b < 10; ++b) model->decode(z);
    best = std::min(best,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds.size() % 2
                            ? seconds[seconds.size() / 2]
                            : 0.5 * (seconds[seconds.size() / 2 - 1] + seconds[seconds.size() / 2]);
  std::printf(
      "RESULT torch threads=%d epoch_s=%.4f test_loss=%.4f images_per_s=%.0f precision=%s\n",
      torch::get_num_threads(), median, test_loss, 10000.0 / best, bf16 ? "bf16" : "fp32");
  return 0;
}
