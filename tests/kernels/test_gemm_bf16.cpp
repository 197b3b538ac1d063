#include <aigc/kernels/gemm_bf16.hpp>
#include <aigc/kernels/threads.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "support/random.hpp"

using namespace aigc;
using aigc::test::random_vector;
using kernels::Trans;

namespace {

float float_of(std::uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

}  // namespace

TEST_CASE("to_bf16 rounds to nearest with ties to even and keeps NaN and infinity",
          "[gemm_bf16][kernels]") {
  CHECK(kernels::to_bf16(1.0f) == 0x3f80);
  CHECK(kernels::to_bf16(float_of(0x3f808000u)) == 0x3f80);  // halfway, to the even 0x3f80
  CHECK(kernels::to_bf16(float_of(0x3f818000u)) == 0x3f82);  // halfway, to the even 0x3f82
  CHECK(kernels::to_bf16(float_of(0x3f808001u)) == 0x3f81);  // past halfway
  CHECK(kernels::to_bf16(-2.0f) == 0xc000);
  CHECK(std::isinf(kernels::from_bf16(kernels::to_bf16(std::numeric_limits<float>::infinity()))));
  CHECK(std::isnan(kernels::from_bf16(kernels::to_bf16(std::numeric_limits<float>::quiet_NaN()))));
  CHECK(kernels::from_bf16(0x3f80) == 1.0f);
}

TEST_CASE(
    "gemm_bf16 matches a naive loop on the bfloat16-rounded operands, all transposes, "
    "and is bitwise the same for 1, 2 and 3 threads (gemm itself without AVX-512 BF16)",
    "[gemm_bf16][kernels]") {
  struct Shape {
    Index M, N, K;
  };
  // {20, 600, 1100}: B packed in several groups of panels (4 of 550 depth pairs), a part's last
  // group short of 4. The shallow shapes come before the deep ones: the packing buffers only
  // grow, and one sized for a deep product would hide one sized too small for a wide group of
  // shallow panels (as the sanitized run of these tests would not see).
  const Shape shapes[] = {{1, 1, 1},      {7, 17, 33},    {9, 49, 31},
                          {33, 100, 2},   {128, 400, 64}, {64, 97, 1030},
                          {41, 150, 257}, {130, 20, 500}, {20, 600, 1100}};
  const float eps = std::numeric_limits<float>::epsilon();
  for (const Shape& s : shapes) {
    for (Trans ta : {Trans::no, Trans::yes}) {
      for (Trans tb : {Trans::no, Trans::yes}) {
        for (float beta : {0.0f, 1.0f, 0.5f}) {
          const float alpha = beta == 1.0f ? 1.0f : -0.75f;
          const Index lda = (ta == Trans::no ? s.K : s.M) + 3;
          const Index ldb = (tb == Trans::no ? s.N : s.K) + 1;
          const Index ldc = s.N + 2;
          const auto a = random_vector<float>((ta == Trans::no ? s.M : s.K) * lda, 1);
          const auto b = random_vector<float>((tb == Trans::no ? s.K : s.N) * ldb, 2);
          const auto c0 = random_vector<float>(s.M * ldc, 3);
          INFO(s.M << " x " << s.N << " x " << s.K << " " << (ta == Trans::no ? "N" : "T")
                   << (tb == Trans::no ? "N" : "T") << " beta " << beta);
          std::vector<std::vector<float>> results;
          for (int threads : {1, 2, 3}) {
            set_num_threads(threads);
            std::vector<float> c = c0;
            kernels::gemm_bf16(ta, tb, s.M, s.N, s.K, alpha, a.data(), lda, b.data(), ldb, beta,
                               c.data(), ldc);
            results.push_back(std::move(c));
          }
          set_num_threads(0);
          CHECK(results[1] == results[0]);
          CHECK(results[2] == results[0]);
          if (!kernels::has_bf16_products) {
            std::vector<float> c = c0;
            kernels::gemm<float>(ta, tb, s.M, s.N, s.K, alpha, a.data(), lda, b.data(), ldb, beta,
                                 c.data(), ldc);
            CHECK(results[0] == c);
            continue;
          }
          const auto round = [](float x) { return kernels::from_bf16(kernels::to_bf16(x)); };
          for (Index i = 0; i < s.M; ++i) {
            for (Index j = 0; j < s.N; ++j) {
              double dot = 0.0, scale = 0.0;
              for (Index k = 0; k < s.K; ++k) {
                const double x = round(ta == Trans::no ? a[i * lda + k] : a[k * lda + i]);
                const double y = round(tb == Trans::no ? b[k * ldb + j] : b[j * ldb + k]);
                dot += x * y;
                scale += std::fabs(x * y);
              }
              const double ref = alpha * dot + (beta != 0.0f ? beta * c0[i * ldc + j] : 0.0);
              const double tol = 2.0 * (s.K + 2) * eps * (scale + std::fabs(c0[i * ldc + j]));
              REQUIRE(std::fabs(results[0][i * ldc + j] - ref) <= tol + 1e-30);
            }
            for (Index j = s.N; j < ldc; ++j) REQUIRE(results[0][i * ldc + j] == c0[i * ldc + j]);
          }
        }
      }
    }
  }
}

TEST_CASE(
    "gemm_bf16_packed gives gemm_bf16's bits for an A packed once (Bf16PackedA), for any thread "
    "count, product after product",
    "[gemm_bf16][kernels]") {
  struct Shape {
    Index M, N, K;
  };
  const Shape shapes[] = {{1, 1, 1},      {9, 49, 31},    {300, 700, 40},  // shallow first
                          {64, 97, 1030}, {130, 20, 500}, {20, 600, 1100}};
  for (const Shape& s : shapes) {
    for (Trans ta : {Trans::no, Trans::yes}) {
      for (Trans tb : {Trans::no, Trans::yes}) {
        INFO(s.M << " x " << s.N << " x " << s.K << " " << (ta == Trans::no ? "N" : "T")
                 << (tb == Trans::no ? "N" : "T"));
        const Index lda = (ta == Trans::no ? s.K : s.M) + 1;
        const Index ldb = (tb == Trans::no ? s.N : s.K) + 2;
        const auto a = random_vector<float>((ta == Trans::no ? s.M : s.K) * lda, 4);
        const auto b1 = random_vector<float>((tb == Trans::no ? s.K : s.N) * ldb, 5);
        const auto b2 = random_vector<float>((tb == Trans::no ? s.K : s.N) * ldb, 6);
        const auto c0 = random_vector<float>(s.M * s.N, 7);
        std::vector<float> want1 = c0, want2 = c0;
        kernels::gemm_bf16(ta, tb, s.M, s.N, s.K, 0.5f, a.data(), lda, b1.data(), ldb, 1.0f,
                           want1.data(), s.N);
        kernels::gemm_bf16(ta, tb, s.M, s.N, s.K, 1.0f, a.data(), lda, b2.data(), ldb, 0.0f,
                           want2.data(), s.N);
        for (int threads : {1, 2, 3}) {
          set_num_threads(threads);
          kernels::Bf16PackedA<float> packed;
          packed.pack(ta, s.M, s.K, a.data(), lda);
          std::vector<float> c1 = c0, c2 = c0;
          kernels::gemm_bf16_packed(packed, tb, s.N, 0.5f, b1.data(), ldb, 1.0f, c1.data(), s.N);
          kernels::gemm_bf16_packed(packed, tb, s.N, 1.0f, b2.data(), ldb, 0.0f, c2.data(), s.N);
          CHECK(c1 == want1);
          CHECK(c2 == want2);
        }
        set_num_threads(0);
      }
    }
  }
}
