// Spectral normalisation of Dense, Conv2d and ConvTranspose2d: sigma converges to the largest
// singular value, the backward through W / sigma passes the gradient check in double, u and v
// are buffers that model files and checkpoints keep, and a module without it is unchanged.
#include <aigc/io/model_file.hpp>
#include <aigc/layers/conv2d.hpp>
#include <aigc/layers/conv_transpose2d.hpp>
#include <aigc/layers/dense.hpp>
#include <aigc/layers/sequential.hpp>
#include <aigc/layers/spectral_norm.hpp>
#include <aigc/testing/gradcheck.hpp>
#include <catch2/catch.hpp>

#include "support/idx_files.hpp"

using namespace aigc;

namespace {

// The largest singular value of w: the root of W^T W's top eigenvalue by 2000 power iterations.
double top_singular_value(const Tensor<double>& w) {
  Eigen::VectorXd v = Eigen::VectorXd::Constant(w.cols(), 1.0);
  for (int i = 0; i < 2000; ++i) v = (w.transpose() * (w * v)).normalized();
  return (w * v).norm();
}

}  // namespace

TEST_CASE("Spectral norm: sigma converges to the largest singular value; W_sn's is 1",
          "[spectral_norm]") {
  Rng rng(1);
  Dense<double> fc(17, 7, rng);
  fc.enable_spectral_norm(50);
  const double top = top_singular_value(fc.weight().value);
  fc.forward(random_input(3, 17, 2));
  CHECK(fc.spectral_norm().sigma() == Approx(top).epsilon(1e-9));
  const Tensor<double> wsn = fc.spectral_norm().normalized_weight();
  CHECK(top_singular_value(wsn) == Approx(1.0).epsilon(1e-9));
  // One power iteration per step moves sigma towards the new top value after an update.
  fc.weight().value *= 3.0;
  fc.spectral_norm_power_iteration();
  fc.forward(random_input(3, 17, 2));
  CHECK(fc.spectral_norm().sigma() == Approx(3 * top).epsilon(1e-6));
}

TEST_CASE("Spectral norm: Dense, Conv2d and ConvTranspose2d pass the gradient check in double",
          "[spectral_norm][gradcheck]") {
  Rng rng(3);
  const DenseOptions leaky{.activation = Activation::leaky_relu, .negative_slope = 0.2};
  for (bool bias : {true, false}) {
    Dense<double> fc(9, 5, rng, DenseOptions{.bias = bias, .activation = Activation::tanh});
    fc.enable_spectral_norm(3);  // not converged: the backward holds for any u, v
    auto r = check_module_gradients(fc, random_input(4, 9, 4));
    CHECK(r.input_error < 1e-6);
    CHECK(r.max_param_error < 1e-6);

    Conv2d<double> conv(2, 3, 3, 5, 5, rng,
                        Conv2dOptions{.stride = 2,
                                      .padding = 1,
                                      .bias = bias,
                                      .activation = Activation::leaky_relu,
                                      .negative_slope = 0.2});
    conv.enable_spectral_norm(2);
    r = check_module_gradients(conv, random_input(2, 2 * 25, 5));
    CHECK(r.input_error < 1e-6);
    CHECK(r.max_param_error < 1e-6);

    ConvTranspose2d<double> convt(3, 2, 4, 3, 3, rng,
                                  ConvTranspose2dOptions{.stride = 2, .padding = 1, .bias = bias});
    convt.enable_spectral_norm(1);
    r = check_module_gradients(convt, random_input(2, 3 * 9, 6));
    CHECK(r.input_error < 1e-6);
    CHECK(r.max_param_error < 1e-6);
  }
  // In a chain, through a leaky activation.
  Sequential<double> net;
  net.set_name("d");
  net.emplace<Dense<double>>("fc1", 6, 8, rng, leaky);
  net.emplace<Dense<double>>("fc2", 8, 1, rng);
  CHECK(apply_spectral_norm(net) == 2);
  const auto r = check_module_gradients(net, random_input(5, 6, 7));
  CHECK(r.worst() < 1e-6);
}

TEST_CASE("Spectral norm: u and v are named buffers; off, the layer has none and runs as before",
          "[spectral_norm]") {
  Rng a(4), b(4);
  Conv2d<float> plain(1, 4, 3, 6, 6, a, Conv2dOptions{.bias = false});
  Conv2d<float> normed(1, 4, 3, 6, 6, b, Conv2dOptions{.bias = false});
  plain.set_name("conv");
  normed.set_name("conv");
  CHECK(plain.buffers().empty());
  normed.enable_spectral_norm();
  REQUIRE(normed.buffers().size() == 2);
  CHECK(normed.buffers()[0]->name == "conv.weight_u");
  CHECK(normed.buffers()[1]->name == "conv.weight_v");
  CHECK(normed.buffers()[0]->value.cols() == 4);
  CHECK(normed.buffers()[1]->value.cols() == 9);
  Tensor<float> x(2, 36);
  Rng(5).fill_normal(x);
  const Tensor<float> y = normed.forward(x);
  const float sigma = normed.spectral_norm().sigma();
  CHECK(((plain.forward(x) / sigma - y).cwiseAbs().maxCoeff()) < 1e-5f);
  CHECK(spectral_norm_layers<float>(plain).empty());
  CHECK(spectral_norm_layers<float>(normed).size() == 1);
}

TEST_CASE("Spectral norm: a model file keeps it, with u and v, and computes the same",
          "[spectral_norm][model_file]") {
  test::TempDir dir("spectral-norm");
  Rng rng(6);
  Sequential<float> g;
  g.set_name("g");
  g.emplace<ConvTranspose2d<float>>("conv1", 4, 3, 4, 1, 1, rng,
                                    ConvTranspose2dOptions{.stride = 1, .padding = 0});
  g.emplace<Conv2d<float>>("conv2", 3, 2, 3, 4, 4, rng, Conv2dOptions{.padding = 1});
  g.emplace<Dense<float>>("fc", 32, 5, rng);
  apply_spectral_norm(g);
  for (auto* s : spectral_norm_layers<float>(g)) s->spectral_norm_power_iteration();
  g.set_training(false);
  Tensor<float> z(3, 4);
  Rng(7).fill_normal(z);
  const Tensor<float> y = g.forward(z);
  save_model(dir / "g.aigc", g);
  ModelFile<float> file = load_model_file<float>(dir / "g.aigc");
  CHECK(file.module->forward(z) == y);
  CHECK(file.module->buffers().size() == 6);
  StateDict s = read_checkpoint(dir / "g.aigc");
  CHECK(s.contains("buffer/g.conv1.weight_u"));
  CHECK(s.contains("layer/1/option/spectral_norm"));
}
