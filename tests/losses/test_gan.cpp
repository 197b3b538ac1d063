#include <aigc/losses/gan.hpp>
#include <aigc/testing/gradcheck.hpp>
#include <catch2/catch.hpp>
#include <cmath>

using namespace aigc;

namespace {
const GanObjective all_objectives[] = {GanObjective::bce, GanObjective::lsgan, GanObjective::hinge,
                                       GanObjective::wasserstein};
const GanTerm all_terms[] = {GanTerm::d_real, GanTerm::d_fake, GanTerm::g};
}  // namespace

TEST_CASE("GAN objectives on hand-computed values", "[gan][losses]") {
  const double ln3 = std::log(3.0);
  Tensor<double> z(2, 1);
  z << 0.0, ln3;  // sigmoid: 1/2 and 3/4
  // Non-saturating BCE: D real -log D(x), D fake -log(1 - D(G(z))), G -log D(G(z)).
  CHECK(gan_loss(GanObjective::bce, GanTerm::d_real, z) ==
        Approx((std::log(2.0) + std::log(4.0 / 3.0)) / 2));
  CHECK(gan_loss(GanObjective::bce, GanTerm::d_fake, z) ==
        Approx((std::log(2.0) + std::log(4.0)) / 2));
  CHECK(gan_loss(GanObjective::bce, GanTerm::g, z) ==
        Approx((std::log(2.0) + std::log(4.0 / 3.0)) / 2));
  // One-sided smoothing: real target 0.9; -(0.9 log p + 0.1 log(1 - p)).
  CHECK(gan_loss(GanObjective::bce, GanTerm::d_real, z, nullptr, 0.1) ==
        Approx((std::log(2.0) - 0.9 * std::log(0.75) - 0.1 * std::log(0.25)) / 2));
  CHECK(gan_loss(GanObjective::bce, GanTerm::d_fake, z, nullptr, 0.1) ==
        gan_loss(GanObjective::bce, GanTerm::d_fake, z));
  // LSGAN: half mean squared distance to the target.
  CHECK(gan_loss(GanObjective::lsgan, GanTerm::d_real, z) ==
        Approx(0.5 * (1.0 + (ln3 - 1) * (ln3 - 1)) / 2));
  CHECK(gan_loss(GanObjective::lsgan, GanTerm::d_fake, z) == Approx(0.5 * ln3 * ln3 / 2));
  CHECK(gan_loss(GanObjective::lsgan, GanTerm::d_real, z, nullptr, 0.2) ==
        Approx(0.5 * (0.64 + (ln3 - 0.8) * (ln3 - 0.8)) / 2));

  Tensor<double> h(3, 1);
  h << 0.5, 2.0, -1.5;
  CHECK(gan_loss(GanObjective::hinge, GanTerm::d_real, h) == Approx((0.5 + 0 + 2.5) / 3));
  CHECK(gan_loss(GanObjective::hinge, GanTerm::d_fake, h) == Approx((1.5 + 3 + 0) / 3));
  CHECK(gan_loss(GanObjective::hinge, GanTerm::g, h) == Approx(-1.0 / 3));
  CHECK(gan_loss(GanObjective::wasserstein, GanTerm::d_real, h) == Approx(-1.0 / 3));
  CHECK(gan_loss(GanObjective::wasserstein, GanTerm::d_fake, h) == Approx(1.0 / 3));
  CHECK(gan_loss(GanObjective::wasserstein, GanTerm::g, h) == Approx(-1.0 / 3));
  Tensor<double> dh;
  gan_loss(GanObjective::hinge, GanTerm::d_real, h, &dh);
  CHECK(dh(0, 0) == Approx(-1.0 / 3));
  CHECK(dh(1, 0) == 0.0);
  CHECK(dh(2, 0) == Approx(-1.0 / 3));

  CHECK(mean_sigmoid(z) == Approx(0.625));
}

TEST_CASE("GAN objectives are finite and saturate correctly for huge logits", "[gan][losses]") {
  Tensor<float> z(1, 4);
  z << 1000.f, -1000.f, 90.f, -90.f;
  Tensor<float> d;
  for (GanObjective o : all_objectives) {
    for (GanTerm t : all_terms) {
      INFO(to_string(o) << " term " << static_cast<int>(t));
      CHECK(std::isfinite(gan_loss(o, t, z, &d)));
      CHECK(d.allFinite());
    }
  }
  gan_loss(GanObjective::bce, GanTerm::g, z, &d);
  CHECK(d(0, 0) == Approx(0.0f).margin(1e-7));
  CHECK(d(0, 1) == Approx(-0.25f));  // the non-saturating G loss keeps its gradient at D = 0
}

TEST_CASE("GAN objective gradients match finite differences", "[gan][losses][gradcheck]") {
  for (GanObjective o : all_objectives) {
    for (GanTerm t : all_terms) {
      for (double smoothing : {0.0, 0.1}) {
        if (smoothing != 0.0 && (o == GanObjective::hinge || o == GanObjective::wasserstein)) {
          continue;
        }
        Tensor<double> z = 2.0 * random_input(16, 1, 3);
        for (Index i = 0; i < z.size(); ++i) {  // keep away from the hinge's kinks at +-1
          double& v = z.data()[i];
          if (std::abs(std::abs(v) - 1.0) < 1e-3) v *= 1.01;
        }
        Tensor<double> d;
        gan_loss(o, t, z, &d, smoothing);
        const auto num = numeric_gradient([&] { return gan_loss(o, t, z, nullptr, smoothing); }, z);
        INFO(to_string(o) << " term " << static_cast<int>(t) << " smoothing " << smoothing);
        CHECK(relative_error(d, num) < 1e-6);
      }
    }
  }
}

TEST_CASE("GAN objective errors name the objective, the flag and the value", "[gan][losses]") {
  CHECK(parse_gan_objective("wgan") == GanObjective::wasserstein);
  CHECK(parse_gan_objective("nonsaturating") == GanObjective::bce);
  REQUIRE_THROWS_WITH(parse_gan_objective("minimax"), Catch::Contains("'minimax'"));
  const Tensor<float> z = Tensor<float>::Zero(2, 1);
  REQUIRE_THROWS_WITH(gan_loss(GanObjective::hinge, GanTerm::d_real, z, nullptr, 0.1),
                      Catch::Contains("label_smoothing") && Catch::Contains("hinge"));
  REQUIRE_THROWS_WITH(gan_loss(GanObjective::bce, GanTerm::d_real, z, nullptr, 1.0),
                      Catch::Contains("label_smoothing") && Catch::Contains("1.0"));
  REQUIRE_THROWS_AS(gan_loss(GanObjective::bce, GanTerm::g, Tensor<float>(0, 1)), ShapeError);
}
