#include <Eigen/Eigenvalues>
#include <aigc/core/rng.hpp>
#include <aigc/metrics/frechet.hpp>
#include <catch2/catch.hpp>
#include <cmath>

using namespace aigc;

namespace {

Eigen::MatrixXd random_matrix(Index rows, Index cols, std::uint64_t seed) {
  Rng rng(seed);
  Tensor<double> t(rows, cols);
  rng.fill_normal(t);
  return t;
}

// A random orthogonal matrix (Q of a QR decomposition).
Eigen::MatrixXd random_rotation(Index d, std::uint64_t seed) {
  return Eigen::HouseholderQR<Eigen::MatrixXd>(random_matrix(d, d, seed)).householderQ();
}

GaussianStats stats(Eigen::VectorXd mean, Eigen::MatrixXd cov) {
  GaussianStats s;
  s.mean = std::move(mean);
  s.covariance = std::move(cov);
  s.count = 2;
  return s;
}

}  // namespace

TEST_CASE("Fréchet distance of diagonal Gaussians matches the closed form", "[frechet]") {
  // |mu1 - mu2|^2 + sum_i (sqrt(s1_i) - sqrt(s2_i))^2
  Eigen::VectorXd mu1(3), mu2(3), s1(3), s2(3);
  mu1 << 1, 2, 3;
  mu2 << 0, 2, 5;
  s1 << 4, 1, 9;
  s2 << 1, 1, 16;
  const double expected = (1 + 0 + 4) + (1 + 0 + 1);
  CHECK(frechet_distance(stats(mu1, s1.asDiagonal()), stats(mu2, s2.asDiagonal())) ==
        Approx(expected).epsilon(1e-12));
}

TEST_CASE("Fréchet distance of Gaussians with commuting covariances matches the closed form",
          "[frechet]") {
  const Index d = 17;
  const Eigen::MatrixXd q = random_rotation(d, 3);
  Eigen::VectorXd l1(d), l2(d);
  Rng rng(4);
  for (Index i = 0; i < d; ++i) {
    l1(i) = rng.uniform(0.1, 5.0);
    l2(i) = rng.uniform(0.1, 5.0);
  }
  const Eigen::VectorXd mu1 = random_matrix(d, 1, 5), mu2 = random_matrix(d, 1, 6);
  // Scalar square roots: Eigen's AVX-512 sqrt packet trips GCC 12's -Wuninitialized (bug 105593).
  const auto root = [](double v) { return std::sqrt(v); };
  const double expected =
      (mu1 - mu2).squaredNorm() + (l1.unaryExpr(root) - l2.unaryExpr(root)).squaredNorm();
  const double got = frechet_distance(stats(mu1, q * l1.asDiagonal() * q.transpose()),
                                      stats(mu2, q * l2.asDiagonal() * q.transpose()));
  CHECK(got == Approx(expected).epsilon(1e-10));
}

TEST_CASE("Fréchet distance agrees with Tr sqrt(S1 S2) from a general eigen-solver", "[frechet]") {
  const Index d = 9;
  const Eigen::MatrixXd a = random_matrix(d, d, 7), b = random_matrix(d, d, 8);
  const Eigen::MatrixXd s1 = a * a.transpose() + 0.1 * Eigen::MatrixXd::Identity(d, d);
  const Eigen::MatrixXd s2 = b * b.transpose() + 0.1 * Eigen::MatrixXd::Identity(d, d);
  // S1 S2 is similar to S1^1/2 S2 S1^1/2: real, positive eigenvalues.
  const Eigen::VectorXcd ev = Eigen::EigenSolver<Eigen::MatrixXd>(s1 * s2).eigenvalues();
  double trace_root = 0;
  for (Index i = 0; i < d; ++i) trace_root += std::sqrt(ev(i).real());
  const Eigen::VectorXd mu = Eigen::VectorXd::Zero(d);
  const double expected = s1.trace() + s2.trace() - 2 * trace_root;
  CHECK(frechet_distance(stats(mu, s1), stats(mu, s2)) == Approx(expected).epsilon(1e-9));
}

TEST_CASE("Fréchet distance of a feature set with itself is 0; the distance is symmetric",
          "[frechet]") {
  const Eigen::MatrixXd x = random_matrix(500, 32, 9);
  Eigen::MatrixXd y = random_matrix(400, 32, 10);
  y.col(3) *= 3.0;
  y.array() += 0.2;
  const double self = frechet_distance(x, x);
  CHECK(std::abs(self) < 1e-10);
  const double xy = frechet_distance(x, y), yx = frechet_distance(y, x);
  CHECK(xy > 1.0);
  CHECK(xy == Approx(yx).epsilon(1e-10));
  // Float features give the same distance as their double copies.
  const Tensor<float> xf = x.cast<float>();
  CHECK(frechet_distance(xf, y) == Approx(frechet_distance(xf.cast<double>(), y)).epsilon(1e-12));
}

TEST_CASE("Fréchet distance rejects too few rows and mismatched feature sizes", "[frechet]") {
  REQUIRE_THROWS_AS(gaussian_stats(random_matrix(1, 4, 1)), ArgumentError);
  REQUIRE_THROWS_WITH(frechet_distance(random_matrix(5, 4, 1), random_matrix(5, 3, 2)),
                      Catch::Contains("4 vs 3"));
}
