#include <aigc/layers/conditioning.hpp>
#include <aigc/layers/dense.hpp>
#include <aigc/layers/sequential.hpp>
#include <aigc/testing/gradcheck.hpp>
#include <catch2/catch.hpp>

using namespace aigc;

namespace {

// [x | code(label)] per row, the code repeated over `pixels` columns: the naive reference.
Tensor<double> naive_condition(const Tensor<double>& x, const std::vector<int>& labels,
                               const Tensor<double>& table, Index pixels) {
  const Index code = table.cols();
  Tensor<double> y(x.rows(), x.cols() + code * pixels);
  for (Index r = 0; r < x.rows(); ++r) {
    for (Index c = 0; c < x.cols(); ++c) y(r, c) = x(r, c);
    for (Index e = 0; e < code; ++e) {
      for (Index p = 0; p < pixels; ++p) {
        y(r, x.cols() + e * pixels + p) = table(labels[static_cast<std::size_t>(r)], e);
      }
    }
  }
  return y;
}

const std::vector<int> labels5 = {2, 0, 3, 2, 1};

}  // namespace

TEST_CASE("Conditioning forward matches a naive reference (vectors and images)", "[conditioning]") {
  Rng rng(1);
  SECTION("one-hot on a vector") {
    Conditioning<double> cond(6, 4, rng);
    cond.set_labels(labels5);
    const Tensor<double> x = random_input(5, 6, 2);
    const Tensor<double>& y = cond.forward(x);
    CHECK(cond.out_features() == 10);
    CHECK(y == naive_condition(x, labels5, Tensor<double>::Identity(4, 4), 1));
    CHECK(cond.params().empty());
  }
  SECTION("embedding broadcast as channels of a 2 x 3 x 5 image") {
    Conditioning<double> cond(
        2, 4, rng, {.code = LabelCode::embedding, .embedding_dim = 3, .height = 3, .width = 5});
    cond.set_name("d.cond");
    cond.set_labels(labels5);
    const Tensor<double> x = random_input(5, 2 * 15, 3);
    const Tensor<double>& y = cond.forward(x);
    CHECK(y.cols() == (2 + 3) * 15);
    CHECK(y == naive_condition(x, labels5, cond.weight().value, 15));
    REQUIRE(cond.params().size() == 1);
    CHECK(cond.params()[0]->name == "d.cond.weight");
    // nn.Embedding's N(0, 1) initialisation.
    Rng big(4);
    Conditioning<double> wide(1, 100, big, {.code = LabelCode::embedding, .embedding_dim = 100});
    CHECK(std::abs(wide.weight().value.mean()) < 0.05);
    CHECK(std::abs(wide.weight().value.array().square().mean() - 1.0) < 0.05);
  }
}

TEST_CASE("Conditioning gradients match finite differences", "[conditioning][gradcheck]") {
  for (LabelCode code : {LabelCode::one_hot, LabelCode::embedding}) {
    for (Index pixels_side : {1, 3}) {
      Rng rng(5);
      Conditioning<double> cond(
          2, 4, rng,
          {.code = code, .embedding_dim = 3, .height = pixels_side, .width = pixels_side});
      cond.set_labels(labels5);
      const auto r = check_module_gradients(cond, random_input(5, cond.in_features(), 6));
      INFO("code " << static_cast<int>(code) << " side " << pixels_side);
      CHECK(r.input_error < 1e-6);
      CHECK(r.max_param_error < 1e-6);
    }
  }
  // Inside a network: the embedding learns through the Dense layer after it.
  Rng rng(7);
  Sequential<double> net;
  auto& cond = net.emplace<Conditioning<double>>(
      "cond", 3, 4, rng, ConditioningOptions{.code = LabelCode::embedding, .embedding_dim = 2});
  net.emplace<Dense<double>>("fc", 5, 2, rng, DenseOptions{.activation = Activation::tanh});
  cond.set_labels(labels5);
  const auto r = check_module_gradients(net, random_input(5, 3, 8));
  CHECK(r.input_error < 1e-6);
  CHECK(r.max_param_error < 1e-6);
}

TEST_CASE("Conditioning honours needs_input_grad and needs_param_grads", "[conditioning]") {
  Rng rng(5);
  Conditioning<float> cond(2, 3, rng, {.code = LabelCode::embedding, .embedding_dim = 2});
  cond.set_labels({0, 2});
  cond.forward(Tensor<float>::Ones(2, 2));
  cond.zero_grad();
  cond.set_needs_param_grads(false);
  const Tensor<float>& dx = cond.backward(Tensor<float>::Ones(2, 4));
  CHECK(dx == Tensor<float>::Ones(2, 2));
  CHECK(cond.weight().grad.isZero(0.0f));
  cond.set_needs_param_grads(true);
  cond.set_needs_input_grad(false);
  CHECK(cond.backward(Tensor<float>::Ones(2, 4)).rows() == 0);
  CHECK(cond.weight().grad(0, 0) == 1.0f);
  CHECK(cond.weight().grad(1, 0) == 0.0f);
  CHECK(cond.weight().grad(2, 1) == 1.0f);
}

TEST_CASE("Conditioning errors name the label, the range and the shapes", "[conditioning]") {
  Rng rng(5);
  Conditioning<float> cond(4, 10, rng);
  cond.set_name("g.cond");
  REQUIRE_THROWS_WITH(cond.set_labels({1, 10}),
                      Catch::Contains("label 10") && Catch::Contains("index 1") &&
                          Catch::Contains("[0, 10)") && Catch::Contains("g.cond"));
  REQUIRE_THROWS_WITH(cond.set_labels({-1}), Catch::Contains("label -1"));
  cond.set_labels({1, 2, 3});
  REQUIRE_THROWS_WITH(cond.forward(Tensor<float>::Zero(3, 5)),
                      Catch::Contains("[batch x 4]") && Catch::Contains("[3 x 5]"));
  REQUIRE_THROWS_WITH(cond.forward(Tensor<float>::Zero(2, 4)),
                      Catch::Contains("3 labels") && Catch::Contains("2 rows"));
  REQUIRE_THROWS_AS(Conditioning<float>(4, 0, rng), ArgumentError);
  REQUIRE_THROWS_WITH(Conditioning<float>(4, 3, rng, {.code = LabelCode::embedding}),
                      Catch::Contains("embedding_dim"));
}

TEST_CASE("Conditioning's label mix: the codes between two classes, for sampling",
          "[conditioning]") {
  // Image input (2 channels of 3 x 2) with a learned embedding, and a vector input with one-hot
  // codes: at t = 0 and 1 the mix is the plain labels' output; between, each code value is the
  // weighted sum of the two classes' values, from any row's own pair.
  for (const bool image : {true, false}) {
    Rng rng(4);
    const ConditioningOptions o = image ? ConditioningOptions{.code = LabelCode::embedding,
                                                              .embedding_dim = 3,
                                                              .height = 3,
                                                              .width = 2}
                                        : ConditioningOptions{};
    const Index channels = image ? 2 : 5;
    Conditioning<double> c(channels, 4, rng, o);
    Tensor<double> x = random_input(3, image ? channels * 6 : channels, 5);
    auto plain = [&](const std::vector<int>& labels) {
      c.set_labels(labels);
      return Tensor<double>(c.forward(x));
    };
    const Tensor<double> y_from = plain({0, 3, 2}), y_to = plain({1, 1, 2});
    c.set_label_mix({0, 3, 2}, {1, 1, 2}, {0.0, 1.0, 0.25});
    const Tensor<double> mixed = c.forward(x);
    CHECK(mixed.row(0) == y_from.row(0));
    CHECK(mixed.row(1) == y_to.row(1));
    CHECK(mixed.row(2) == y_from.row(2));  // the same class at both ends
    c.set_label_mix({0, 3, 2}, {1, 1, 0}, {0.5, 0.5, 0.25});
    const Tensor<double> half = c.forward(x);
    const Tensor<double> y_other = plain({1, 1, 0});
    for (Index r = 0; r < 2; ++r) {
      CHECK((half.row(r) - 0.5 * (y_from.row(r) + y_to.row(r))).cwiseAbs().maxCoeff() < 1e-12);
    }
    CHECK((half.row(2) - (0.75 * y_from.row(2) + 0.25 * y_other.row(2))).cwiseAbs().maxCoeff() <
          1e-12);
    // A backward after a mixed forward is refused; set_labels ends the mix.
    c.set_label_mix({0, 3, 2}, {1, 1, 0}, {0.5, 0.5, 0.25});
    const Tensor<double> y = c.forward(x);
    CHECK_THROWS_WITH(c.backward(y), Catch::Contains("mixed two labels' codes"));
    CHECK(plain({0, 3, 2}) == y_from);
    CHECK_NOTHROW(c.backward(y_from));
    CHECK_THROWS_WITH(c.set_label_mix({0, 1}, {1}, {0.5, 0.5}), Catch::Contains("got 2, 1, 2"));
    CHECK_THROWS_WITH(c.set_label_mix({0}, {4}, {0.5}), Catch::Contains("label 4"));
  }
}
