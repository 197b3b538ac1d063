// DiffAugment: each transform as DiffAugment defines it, its backward by the gradient check in
// double, p = 0 the identity, and seeded draws.
#include <aigc/layers/diff_augment.hpp>
#include <aigc/testing/gradcheck.hpp>
#include <catch2/catch.hpp>

using namespace aigc;

TEST_CASE("DiffAugment: the backward passes the gradient check in double", "[diff_augment]") {
  for (Index c : {1, 3}) {
    for (int which = 0; which < 4; ++which) {
      const DiffAugmentOptions o{.colour = which == 0 || which == 3,
                                 .translation = which == 1 || which == 3,
                                 .cutout = which == 2 || which == 3};
      DiffAugment<double> aug({c, 7, 6}, 11 + static_cast<std::uint64_t>(which), o);
      const Tensor<double> x = random_input(5, c * 42, 3);
      aug.forward(x);
      aug.hold(true);
      const auto r = check_module_gradients(aug, x);
      INFO("channels " << c << ", transforms " << which);
      CHECK(r.input_error < 1e-6);
    }
  }
}

TEST_CASE("DiffAugment: the transforms as DiffAugment defines them", "[diff_augment]") {
  Tensor<float> x(64, 3 * 8 * 8);
  Rng(1).fill_uniform(x, -1.0, 1.0);
  DiffAugment<float> none({3, 8, 8}, 2);
  none.set_probability(0.0);
  CHECK(none.forward(x) == x);

  DiffAugment<float> shift({3, 8, 8}, 3, {.colour = false, .cutout = false});
  const Tensor<float> y = shift.forward(x);
  for (Index b = 0; b < 64; ++b) {
    const auto& d = shift.draws()[static_cast<std::size_t>(b)];
    CHECK(std::abs(d.shift_x) <= 1);  // int(8 * 0.125 + 0.5) = 1
    CHECK(std::abs(d.shift_y) <= 1);
    const Index i = 4, j = 3;
    CHECK(y(b, 64 + i * 8 + j) == x(b, 64 + (i + d.shift_y) * 8 + (j + d.shift_x)));
  }
  DiffAugment<float> cut({3, 8, 8}, 4, {.colour = false, .translation = false});
  const Tensor<float> z = cut.forward(x);
  for (Index b = 0; b < 64; ++b) {
    const auto& d = cut.draws()[static_cast<std::size_t>(b)];
    CHECK(d.cut_y1 - d.cut_y0 == 4);
    Index zeros = 0;
    for (Index k = 0; k < z.cols(); ++k) zeros += z(b, k) == 0.0f ? 1 : 0;
    const Index rows = std::min<Index>(d.cut_y1, 8) - std::max<Index>(d.cut_y0, 0);
    const Index cols = std::min<Index>(d.cut_x1, 8) - std::max<Index>(d.cut_x0, 0);
    CHECK(zeros == 3 * rows * cols);
  }
  DiffAugment<float> a({3, 8, 8}, 5), b({3, 8, 8}, 5);
  CHECK(a.forward(x) == b.forward(x));
  const Tensor<float> first = a.forward(x);
  CHECK(a.forward(x) != first);  // new draws each forward
  REQUIRE_THROWS_WITH(DiffAugment<float>({64}, 1), Catch::Contains("{C, H, W}"));
}
