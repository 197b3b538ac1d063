#include <aigc/layers/activation.hpp>
#include <aigc/layers/batchnorm.hpp>
#include <aigc/layers/conv2d.hpp>
#include <aigc/layers/conv_transpose2d.hpp>
#include <aigc/layers/dense.hpp>
#include <aigc/layers/reshape.hpp>
#include <aigc/layers/sequential.hpp>
#include <aigc/testing/gradcheck.hpp>
#include <catch2/catch.hpp>

using namespace aigc;

TEST_CASE("Sequential names parameters by path", "[sequential]") {
  Rng rng(1);
  Sequential<float> net;
  net.emplace<Dense<float>>("fc1", 4, 3, rng);
  net.emplace<ReLU<float>>("act");
  net.emplace<Dense<float>>("fc2", 3, 2, rng, DenseOptions{.bias = false});
  net.set_name("encoder");
  const auto p = net.params();
  REQUIRE(p.size() == 3);
  CHECK(p[0]->name == "encoder.fc1.weight");
  CHECK(p[1]->name == "encoder.fc1.bias");
  CHECK(p[2]->name == "encoder.fc2.weight");
}

TEST_CASE("Sequential gradients match finite differences", "[sequential][gradcheck]") {
  Rng rng(2);
  Sequential<double> net;
  net.emplace<Dense<double>>("fc1", 6, 5, rng, DenseOptions{.activation = Activation::tanh});
  net.emplace<LeakyReLU<double>>("act", 0.1);
  net.emplace<Dense<double>>("fc2", 5, 3, rng);
  net.emplace<Sigmoid<double>>("out");
  const auto r = check_module_gradients(net, random_input(4, 6, 3));
  CHECK(r.input_error < 1e-6);
  CHECK(r.max_param_error < 1e-6);
}

TEST_CASE("Sequential shape errors name the layer", "[sequential]") {
  Rng rng(2);
  Sequential<float> net;
  REQUIRE_THROWS_AS(net.forward(Tensor<float>::Zero(1, 1)), ArgumentError);
  net.emplace<Dense<float>>("fc1", 6, 5, rng);
  net.emplace<Dense<float>>("fc2", 4, 3, rng);
  net.set_name("decoder");
  REQUIRE_THROWS_WITH(net.forward(Tensor<float>::Zero(2, 6)),
                      Catch::Contains("decoder.fc2") && Catch::Contains("[2 x 5]"));
}

TEST_CASE("Sequential passes needs_param_grads to every child, also to ones added later",
          "[sequential]") {
  Rng rng(2);
  Sequential<float> net;
  auto& fc1 = net.emplace<Dense<float>>("fc1", 6, 5, rng);
  net.set_needs_param_grads(false);
  auto& fc2 = net.emplace<Dense<float>>("fc2", 5, 3, rng);
  CHECK(!fc1.needs_param_grads());
  CHECK(!fc2.needs_param_grads());
  net.zero_grad();
  net.forward(Tensor<float>::Ones(2, 6));
  const Tensor<float>& dx = net.backward(Tensor<float>::Ones(2, 3));
  CHECK(dx.rows() == 2);
  CHECK(dx.cwiseAbs().sum() > 0.0f);
  for (Param<float>* p : net.params()) CHECK(p->grad.isZero(0.0f));
  net.set_needs_param_grads(true);
  CHECK(fc1.needs_param_grads());
  net.backward(Tensor<float>::Ones(2, 3));
  CHECK(!fc1.weight().grad.isZero(0.0f));
}

TEST_CASE("Sequential: only children fed by a previous child keep a pointer to their input",
          "[sequential]") {
  // A reshape (which returns its input) first: the first Dense is fed the caller's tensor, which
  // the caller overwrites between forward and backward; the gradients must not see that.
  auto build = [](Rng& rng) {
    auto net = std::make_unique<Sequential<double>>();
    net->emplace<Flatten<double>>("flat");
    net->emplace<Dense<double>>("fc1", 6, 5, rng, DenseOptions{.activation = Activation::tanh});
    net->emplace<Dense<double>>("fc2", 5, 3, rng);
    return net;
  };
  Rng r1(3), r2(3), data(4);
  auto a = build(r1), b = build(r2);
  Tensor<double> x(4, 6), dy(4, 3);
  data.fill_uniform(x, -1.0, 1.0);
  data.fill_uniform(dy, -1.0, 1.0);
  const Tensor<double> x0 = x;
  a->forward(x);
  x.setConstant(7.0);  // the caller reuses its buffer before backward
  const Tensor<double> dxa = a->backward(dy);
  b->forward(x0);
  const Tensor<double> dxb = b->backward(dy);
  CHECK(dxa == dxb);
  const auto pa = a->params(), pb = b->params();
  for (std::size_t i = 0; i < pa.size(); ++i) CHECK(pa[i]->grad == pb[i]->grad);
  CHECK(!(*a)[1].input_stable());  // fed the caller's x (through the flatten)
  CHECK((*a)[2].input_stable());   // fed fc1's output
  // A container whose caller promises a stable input passes the promise to its first children.
  a->set_input_stable(true);
  a->forward(x0);
  CHECK((*a)[1].input_stable());
}

TEST_CASE("Sequential infers PyTorch's 64x64 DCGAN discriminator's sizes", "[sequential]") {
  // netD of PyTorch's dcgan example (nc = 3; ndf = 8 to keep the test small): no height, width
  // or flatten size is written anywhere.
  const Index nc = 3, ndf = 8;
  Rng rng(3);
  Sequential<float> d({nc, 64, 64});
  const Conv2dOptions down{.stride = 2, .padding = 1, .bias = false};
  d.emplace<Conv2d<float>>("conv1", nc, ndf, 4, rng, down);
  d.emplace<LeakyReLU<float>>("lrelu1", 0.2);
  d.emplace<Conv2d<float>>("conv2", ndf, ndf * 2, 4, rng, down);
  d.emplace<BatchNorm2d<float>>("bn2", ndf * 2);
  d.emplace<LeakyReLU<float>>("lrelu2", 0.2);
  d.emplace<Conv2d<float>>("conv3", ndf * 2, ndf * 4, 4, rng, down);
  d.emplace<BatchNorm2d<float>>("bn3", ndf * 4);
  d.emplace<LeakyReLU<float>>("lrelu3", 0.2);
  d.emplace<Conv2d<float>>("conv4", ndf * 4, ndf * 8, 4, rng, down);
  d.emplace<BatchNorm2d<float>>("bn4", ndf * 8);
  d.emplace<LeakyReLU<float>>("lrelu4", 0.2);
  d.emplace<Conv2d<float>>("conv5", ndf * 8, 1, 4, rng, Conv2dOptions{.bias = false});
  d.emplace<Sigmoid<float>>("sigmoid");
  CHECK(dynamic_cast<Conv2d<float>&>(d[2]).in_height() == 32);
  CHECK(dynamic_cast<Conv2d<float>&>(d[11]).in_height() == 4);
  CHECK(d.output_shape() == SampleShape{1, 1, 1});
  Tensor<float> x(2, nc * 64 * 64);
  rng.fill_uniform(x, -1, 1);
  CHECK(d.forward(x).cols() == 1);

  // The 28x28 variant ends in Flatten and a Dense whose input size the chain supplies.
  Sequential<float> small({1, 28, 28});
  small.emplace<Conv2d<float>>("conv1", 1, 4, 4, rng, down);
  small.emplace<Conv2d<float>>("conv2", 4, 8, 4, rng, down);
  small.emplace<Flatten<float>>("flat");
  CHECK(small.out_features() == 8 * 7 * 7);
  auto& fc = small.emplace<Dense<float>>("fc", 1, rng);
  CHECK(fc.in_features() == 8 * 7 * 7);
  // A size that does not fit is refused as the chain is built, naming the layer.
  CHECK_THROWS_WITH(small.emplace<Conv2d<float>>("bad", 3, 1, 1, rng),
                    Catch::Contains("Conv2d 'bad': input shape {1}"));
}

TEST_CASE("Layers built without input sizes draw the weights the sized constructors draw",
          "[sequential]") {
  Rng a(8), b(8);
  const Conv2dOptions o{.stride = 2, .padding = 1};
  Conv2d<float> sized(3, 5, 4, 12, 12, a, o);
  Conv2d<float> open(3, 5, 4, b, o);
  CHECK(sized.weight().value == open.weight().value);
  CHECK(sized.bias().value == open.bias().value);
  ConvTranspose2d<float> tsized(5, 2, 4, 6, 6, a, {.stride = 2, .padding = 1});
  ConvTranspose2d<float> topen(5, 2, 4, b, {.stride = 2, .padding = 1});
  CHECK(tsized.weight().value == topen.weight().value);
  Dense<float> dsized(7, 3, a);
  Dense<float> dopen(3, b);  // drawn when the input size is known: here, at once
  dopen.set_input_shape({7});
  CHECK(dsized.weight().value == dopen.weight().value);
  CHECK(dsized.bias().value == dopen.bias().value);
  CHECK(a.next_u64() == b.next_u64());

  // Without any shape, the first input decides: square images for a convolution.
  Tensor<float> x = Tensor<float>::Ones(2, 3 * 12 * 12);
  CHECK(open.forward(x) == sized.forward(x));
  CHECK(open.in_height() == 12);
  Tensor<float> not_square = Tensor<float>::Ones(2, 3 * 10);
  Conv2d<float> open2(3, 5, 3, b);
  CHECK_THROWS_WITH(open2.forward(not_square), Catch::Contains("not 3 square images"));
}
