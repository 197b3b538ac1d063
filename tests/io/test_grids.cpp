#include <aigc/io/grids.hpp>
#include <catch2/catch.hpp>

using namespace aigc;

TEST_CASE("interpolate_rows walks from each start to its end, endpoints included", "[grids]") {
  Tensor<double> from(2, 2), to(2, 2);
  from << 0, 0, 1, 0;
  to << 4, 8, 0, 1;
  const Tensor<double> lin = interpolate_rows(from, to, 5);
  REQUIRE(lin.rows() == 10);
  CHECK(lin.row(0) == from.row(0));
  CHECK(lin(2, 0) == Approx(2));
  CHECK(lin(2, 1) == Approx(4));
  CHECK(lin.row(4) == to.row(0));
  CHECK(lin.row(5) == from.row(1));
  CHECK(lin.row(9).isApprox(to.row(1)));
  // Spherical: between two orthogonal unit vectors every step stays on the unit circle.
  const Tensor<double> sph = interpolate_rows(from, to, 5, Interpolation::spherical);
  for (Index k = 5; k < 10; ++k) CHECK(sph.row(k).norm() == Approx(1.0));
  CHECK(sph(7, 0) == Approx(std::sqrt(0.5)));
  CHECK(sph.row(9).isApprox(to.row(1)));
  REQUIRE_THROWS_AS(interpolate_rows(from, to, 1), ArgumentError);
  REQUIRE_THROWS_AS(interpolate_rows(from, Tensor<double>(3, 2), 4), ShapeError);
}

TEST_CASE("latent_interpolation_grid, class labels, one-hot rows", "[grids]") {
  Rng rng(1);
  const Tensor<float> g = latent_interpolation_grid<float>(3, 8, 16, rng);
  CHECK(g.rows() == 24);
  CHECK(g.cols() == 16);
  const auto labels = class_grid_labels(3, 2);
  CHECK(labels == std::vector<int>{0, 0, 1, 1, 2, 2});
  const Tensor<float> oh = one_hot_rows<float>(labels, 3);
  CHECK(oh.rows() == 6);
  CHECK(oh(3, 1) == 1.0f);
  CHECK(oh.row(3).sum() == 1.0f);
  REQUIRE_THROWS_WITH(one_hot_rows<float>({0, 3}, 3), Catch::Contains("label 3 at index 1"));
}

TEST_CASE("reconstruction_rows puts each grid row of originals above its reconstructions",
          "[grids]") {
  Tensor<float> x(5, 1), r(5, 1);
  for (Index i = 0; i < 5; ++i) {
    x(i, 0) = static_cast<float>(i);
    r(i, 0) = static_cast<float>(10 + i);
  }
  const Tensor<float> out = reconstruction_rows(x, r, 3);
  REQUIRE(out.rows() == 12);
  const std::vector<float> expected = {0, 1, 2, 10, 11, 12, 3, 4, 0, 13, 14, 0};
  for (Index i = 0; i < 12; ++i) CHECK(out(i, 0) == expected[static_cast<std::size_t>(i)]);
}
