#include <aigc/core/rng.hpp>
#include <aigc/kernels/gemm.hpp>
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

// A matrix stored row-major with a leading dimension larger than its width (a sub-block).
template <class T>
struct Strided {
  Index rows, cols, ld;
  std::vector<T> data;
  Strided(Index r, Index c, Index pad, Rng& rng) : rows(r), cols(c), ld(c + pad) {
    data.resize(static_cast<std::size_t>(std::max<Index>(1, r * ld)));
    for (T& v : data) v = static_cast<T>(rng.uniform(-1.0, 1.0));
  }
  T at(Index i, Index j) const { return data[static_cast<std::size_t>(i * ld + j)]; }
};

// C = alpha op(A) op(B) + beta C (beta == 0: C ignored) by the textbook loop, in long double;
// bound[i, j] = sum_k |op(A)_ik op(B)_kj| + |beta C_ij|, the scale of the rounding errors.
template <class T>
void naive_gemm(Trans ta, Trans tb, Index M, Index N, Index K, T alpha, const Strided<T>& a,
                const Strided<T>& b, T beta, const Strided<T>& c, std::vector<long double>& ref,
                std::vector<long double>& bound) {
  ref.assign(static_cast<std::size_t>(M * N), 0.0L);
  bound.assign(static_cast<std::size_t>(M * N), 0.0L);
  for (Index i = 0; i < M; ++i) {
    for (Index j = 0; j < N; ++j) {
      long double s = 0, m = 0;
      for (Index k = 0; k < K; ++k) {
        const long double x = ta == Trans::no ? a.at(i, k) : a.at(k, i);
        const long double y = tb == Trans::no ? b.at(k, j) : b.at(j, k);
        s += x * y;
        m += std::fabs(x * y);
      }
      long double v = static_cast<long double>(alpha) * s;
      long double bnd = std::fabs(static_cast<long double>(alpha)) * m;
      if (beta != T(0)) {
        v += static_cast<long double>(beta) * c.at(i, j);
        bnd += std::fabs(static_cast<long double>(beta) * c.at(i, j));
      }
      ref[static_cast<std::size_t>(i * N + j)] = v;
      bound[static_cast<std::size_t>(i * N + j)] = bnd;
    }
  }
}

const char* name(Trans t) { return t == Trans::no ? "N" : "T"; }

// Checks gemm<T, A> against the naive loop for every transpose case, beta in {0, 1, 0.5},
// and the given sizes (padded leading dimensions included).
template <class T, class A>
void check_gemm_against_naive(const std::vector<Index>& sizes) {
  const T eps = std::numeric_limits<T>::epsilon();
  Rng rng(11);
  for (Trans ta : {Trans::no, Trans::yes}) {
    for (Trans tb : {Trans::no, Trans::yes}) {
      for (Index M : sizes) {
        for (Index N : sizes) {
          for (Index K : sizes) {
            for (T beta : {T(0), T(1), T(0.5)}) {
              const T alpha = beta == T(1) ? T(1) : T(-0.75);
              const Strided<T> a(ta == Trans::no ? M : K, ta == Trans::no ? K : M, 3, rng);
              const Strided<T> b(tb == Trans::no ? K : N, tb == Trans::no ? N : K, 1, rng);
              Strided<T> c(M, N, 2, rng);
              const Strided<T> c0 = c;
              std::vector<long double> ref, bound;
              naive_gemm(ta, tb, M, N, K, alpha, a, b, beta, c0, ref, bound);
              kernels::gemm<T, A>(ta, tb, M, N, K, alpha, a.data.data(), a.ld, b.data.data(), b.ld,
                                  beta, c.data.data(), c.ld);
              double worst = 0.0;
              for (Index i = 0; i < M; ++i) {
                for (Index j = 0; j < N; ++j) {
                  const auto e = std::fabs(c.at(i, j) - ref[static_cast<std::size_t>(i * N + j)]);
                  const auto tol =
                      2 * (K + 2) * eps * (bound[static_cast<std::size_t>(i * N + j)] + 1e-30L);
                  worst = std::max(worst, static_cast<double>(e / tol));
                }
                for (Index j = N; j < c.ld; ++j) {  // the padding of C is not touched
                  REQUIRE(c.at(i, j) == c0.at(i, j));
                }
              }
              INFO(name(ta) << name(tb) << " M=" << M << " N=" << N << " K=" << K
                            << " beta=" << beta << " arch " << A::name());
              REQUIRE(worst <= 1.0);
            }
          }
        }
      }
    }
  }
}

}  // namespace

TEST_CASE("gemm matches a naive loop on odd sizes, all transposes and betas (float)", "[gemm]") {
  check_gemm_against_naive<float, kernels::simd_arch>({1, 7, 17, 33, 100});
}

TEST_CASE("gemm matches a naive loop on odd sizes, all transposes and betas (double)", "[gemm]") {
  check_gemm_against_naive<double, kernels::simd_arch>({1, 7, 17, 33, 100});
}

namespace {

// Operands whose rows lie exactly 2 KB apart (the leading dimension of a convolution's dZ or col
// is a power of two): the transposing pack then takes 8 columns at a time.
template <class T>
void check_kilobyte_rows() {
  const Index ld = 2048 / static_cast<Index>(sizeof(T));
  const T eps = std::numeric_limits<T>::epsilon();
  Rng rng(12);
  for (Trans ta : {Trans::no, Trans::yes}) {
    for (Index M : {3, 100}) {
      for (Index N : {7, 53, 100}) {
        for (Index K : {17, 120}) {
          const Index ar = ta == Trans::no ? M : K, ac = ta == Trans::no ? K : M;
          const Strided<T> a(ar, ac, ld - ac, rng), b(N, K, ld - K, rng);
          Strided<T> c(M, N, 1, rng);
          const Strided<T> c0 = c;
          std::vector<long double> ref, bound;
          naive_gemm(ta, Trans::yes, M, N, K, T(-0.75), a, b, T(0.5), c0, ref, bound);
          kernels::gemm<T>(ta, Trans::yes, M, N, K, T(-0.75), a.data.data(), a.ld, b.data.data(),
                           b.ld, T(0.5), c.data.data(), c.ld);
          INFO(name(ta) << "T M=" << M << " N=" << N << " K=" << K << " ld=" << ld);
          for (Index i = 0; i < M; ++i) {
            for (Index j = 0; j < N; ++j) {
              const auto e = std::fabs(c.at(i, j) - ref[static_cast<std::size_t>(i * N + j)]);
              REQUIRE(e <=
                      2 * (K + 2) * eps * (bound[static_cast<std::size_t>(i * N + j)] + 1e-30L));
            }
          }
        }
      }
    }
  }
}

}  // namespace

TEST_CASE("gemm matches a naive loop when the rows of A and B lie 2 KB apart", "[gemm]") {
  check_kilobyte_rows<float>();
  check_kilobyte_rows<double>();
}

TEST_CASE("gemm's scalar fallback matches a naive loop", "[gemm]") {
  check_gemm_against_naive<float, kernels::scalar_arch>({1, 7, 33});
  check_gemm_against_naive<double, kernels::scalar_arch>({1, 7, 33});
}

TEST_CASE("gemm with depth 0 or alpha 0 scales C by beta", "[gemm]") {
  std::vector<float> c = {1, 2, 3, 4}, a = {5, 6}, b = {7, 8};
  kernels::gemm<float>(Trans::no, Trans::no, 2, 2, 0, 1.f, a.data(), 1, b.data(), 2, 0.5f, c.data(),
                       2);
  CHECK(c == std::vector<float>{0.5f, 1.f, 1.5f, 2.f});
  kernels::gemm<float>(Trans::no, Trans::no, 2, 2, 1, 0.f, a.data(), 1, b.data(), 2, 0.f, c.data(),
                       2);
  CHECK(c == std::vector<float>{0, 0, 0, 0});
}

TEST_CASE("gemm with beta 0 overwrites NaNs in C", "[gemm]") {
  for (Trans tb : {Trans::no, Trans::yes}) {
    const Index M = 9, N = 21, K = 5;
    const auto a = random_vector<float>(M * K, 1), b = random_vector<float>(K * N, 2);
    std::vector<float> c(M * N, std::numeric_limits<float>::quiet_NaN());
    kernels::gemm<float>(Trans::no, tb, M, N, K, 1.f, a.data(), K, b.data(),
                         tb == Trans::no ? N : K, 0.f, c.data(), N);
    for (float v : c) REQUIRE(std::isfinite(v));
  }
}

TEST_CASE("gemm is bitwise the same for 1, 2 and 3 threads", "[gemm][threads]") {
  // Shapes of the models (Dense forward NT, weight gradient TN, input gradient NN) and odd ones.
  struct Shape {
    Index M, N, K;
  };
  const Shape shapes[] = {{128, 400, 300}, {64, 784, 200}, {400, 784, 64}, {77, 131, 50},
                          {130, 97, 261},  {1, 400, 784},  {40, 33, 128}};
  for (const Shape& s : shapes) {
    for (Trans ta : {Trans::no, Trans::yes}) {
      for (Trans tb : {Trans::no, Trans::yes}) {
        const auto a = random_vector<float>(static_cast<std::size_t>(s.M * s.K), 3);
        const auto b = random_vector<float>(static_cast<std::size_t>(s.K * s.N), 4);
        const auto c0 = random_vector<float>(static_cast<std::size_t>(s.M * s.N), 5);
        const auto bias = random_vector<float>(static_cast<std::size_t>(s.N), 6);
        const Index lda = ta == Trans::no ? s.K : s.M, ldb = tb == Trans::no ? s.N : s.K;
        std::vector<std::vector<float>> results;
        for (int threads : {1, 2, 3}) {
          set_num_threads(threads);
          std::vector<float> c = c0;
          kernels::gemm<float>(ta, tb, s.M, s.N, s.K, 1.f, a.data(), lda, b.data(), ldb, 1.f,
                               c.data(), s.N);
          std::vector<float> d(c0.size());
          kernels::gemm_bias_activation<float>(ta, tb, s.M, s.N, s.K, 0.5f, a.data(), lda, b.data(),
                                               ldb, 0.f, d.data(), s.N, bias.data(),
                                               Activation::tanh, 0.f);
          c.insert(c.end(), d.begin(), d.end());
          results.push_back(std::move(c));
        }
        set_num_threads(0);
        INFO(name(ta) << name(tb) << " " << s.M << " x " << s.N << " x " << s.K);
        for (std::size_t t = 1; t < results.size(); ++t) {
          REQUIRE(std::memcmp(results[0].data(), results[t].data(),
                              results[0].size() * sizeof(float)) == 0);
        }
      }
    }
  }
}

TEST_CASE("gemm_bias_activation fuses the bias and activation of a naive loop", "[gemm]") {
  const Index M = 33, N = 70, K = 17;
  const auto a = random_vector<double>(M * K, 7), b = random_vector<double>(N * K, 8);
  const auto bias = random_vector<double>(N, 9);
  for (Activation act : {Activation::identity, Activation::relu, Activation::leaky_relu,
                         Activation::sigmoid, Activation::tanh}) {
    for (Trans tb : {Trans::no, Trans::yes}) {
      for (bool with_bias : {true, false}) {
        std::vector<double> c(M * N, 3.0);
        kernels::gemm_bias_activation<double>(Trans::no, tb, M, N, K, 2.0, a.data(), K, b.data(),
                                              tb == Trans::no ? N : K, 0.5, c.data(), N,
                                              with_bias ? bias.data() : nullptr, act, 0.1);
        for (Index i = 0; i < M; ++i) {
          for (Index j = 0; j < N; ++j) {
            double v = 0.5 * 3.0 + (with_bias ? bias[static_cast<std::size_t>(j)] : 0.0);
            for (Index k = 0; k < K; ++k) {
              const double bkj = tb == Trans::no ? b[static_cast<std::size_t>(k * N + j)]
                                                 : b[static_cast<std::size_t>(j * K + k)];
              v += 2.0 * a[static_cast<std::size_t>(i * K + k)] * bkj;
            }
            switch (act) {
              case Activation::identity:
                break;
              case Activation::relu:
                v = v > 0 ? v : 0;
                break;
              case Activation::leaky_relu:
                v = v > 0 ? v : 0.1 * v;
                break;
              case Activation::sigmoid:
                v = 1 / (1 + std::exp(-v));
                break;
              case Activation::tanh:
                v = std::tanh(v);
                break;
            }
            INFO("act " << static_cast<int>(act) << " tb " << name(tb) << " bias " << with_bias);
            REQUIRE(c[static_cast<std::size_t>(i * N + j)] ==
                    Approx(v).epsilon(1e-12).margin(1e-13));
          }
        }
      }
    }
  }
}

TEST_CASE("gemm_depth_halves adds the products of the two depth halves, for any thread count",
          "[gemm][threads]") {
  // dX = dY W of a 400 -> 784 layer (batch 40), and odd sizes (K odd: halves of 65 and 66).
  struct Shape {
    Index M, N, K;
  };
  for (const Shape s : {Shape{40, 400, 784}, Shape{13, 37, 131}, Shape{1, 5, 2}}) {
    const auto a = random_vector<double>(static_cast<std::size_t>(s.M * s.K), 7);
    const auto b = random_vector<double>(static_cast<std::size_t>(s.K * s.N), 8);
    const Index h = s.K / 2;
    // The definition: the two products by the plain GEMM, added element by element.
    std::vector<double> first(static_cast<std::size_t>(s.M * s.N)), second(first.size());
    kernels::gemm<double>(Trans::no, Trans::no, s.M, s.N, h, 1.0, a.data(), s.K, b.data(), s.N, 0.0,
                          first.data(), s.N);
    kernels::gemm<double>(Trans::no, Trans::no, s.M, s.N, s.K - h, 1.0, a.data() + h, s.K,
                          b.data() + h * s.N, s.N, 0.0, second.data(), s.N);
    double worst = 0.0;
    for (Index i = 0; i < s.M; ++i) {
      for (Index j = 0; j < s.N; ++j) {
        double ref = 0.0, bound = 0.0;
        for (Index k = 0; k < s.K; ++k) {
          ref +=
              a[static_cast<std::size_t>(i * s.K + k)] * b[static_cast<std::size_t>(k * s.N + j)];
          bound += std::fabs(a[static_cast<std::size_t>(i * s.K + k)] *
                             b[static_cast<std::size_t>(k * s.N + j)]);
        }
        const std::size_t ij = static_cast<std::size_t>(i * s.N + j);
        first[ij] += second[ij];
        worst = std::max(worst, std::fabs(first[ij] - ref) / (4.0 * s.K * 1e-16 * bound + 1e-300));
      }
    }
    REQUIRE(worst <= 1.0);  // against the textbook sum, within rounding
    for (int threads : {1, 2, 3}) {
      set_num_threads(threads);
      std::vector<double> c(first.size(), std::numeric_limits<double>::quiet_NaN()), half(c);
      kernels::gemm_depth_halves<double>(s.M, s.N, s.K, a.data(), s.K, b.data(), s.N, c.data(),
                                         half.data());
      INFO(s.M << " x " << s.N << " x " << s.K << ", " << threads << " thread(s)");
      REQUIRE(std::memcmp(c.data(), first.data(), c.size() * sizeof(double)) == 0);
    }
    set_num_threads(0);
  }
}

TEST_CASE("gemm_by_weights: depth halves for a large W, one product for a small one", "[gemm]") {
  // A large W (784 x 400 = 313,600 elements) takes the depth halves, a small one (131 x 37) the
  // plain GEMM; both for any thread count.
  struct Shape {
    Index M, N, K;
  };
  for (const Shape s : {Shape{40, 400, 784}, Shape{13, 37, 131}}) {
    const auto a = random_vector<double>(static_cast<std::size_t>(s.M * s.K), 9);
    const auto w = random_vector<double>(static_cast<std::size_t>(s.K * s.N), 10);
    std::vector<double> expected(static_cast<std::size_t>(s.M * s.N)), half(expected.size());
    if (s.K * s.N >= Index{1} << 16) {
      kernels::gemm_depth_halves<double>(s.M, s.N, s.K, a.data(), s.K, w.data(), s.N,
                                         expected.data(), half.data());
    } else {
      kernels::gemm<double>(Trans::no, Trans::no, s.M, s.N, s.K, 1.0, a.data(), s.K, w.data(), s.N,
                            0.0, expected.data(), s.N);
    }
    for (int threads : {1, 2, 3}) {
      set_num_threads(threads);
      std::vector<double> c(expected.size(), std::numeric_limits<double>::quiet_NaN());
      kernels::gemm_by_weights<double>(s.M, s.N, s.K, a.data(), w.data(), c.data());
      INFO(s.M << " x " << s.N << " x " << s.K << ", " << threads << " thread(s)");
      REQUIRE(std::memcmp(c.data(), expected.data(), c.size() * sizeof(double)) == 0);
    }
    set_num_threads(0);
  }
}

TEST_CASE("gemm's self-balancing row chunks give the same bits whichever part runs them",
          "[gemm][threads]") {
  // Y = X W^T (a Dense forward, batch 50, 300 -> 200, with bias and ReLU) as the core GEMM
  // computes it: W^T's rows broadcast in place, X^T packed, the output stored transposed. Part 0
  // alone claims every chunk of a two-part split, its own share and then part 1's from the back,
  // as it does when part 1's core is slow; the result must equal the one-thread GEMM's bits.
  using A = kernels::simd_arch;
  using G = kernels::detail::GemmBlocking<float, A>;
  const Index M = 50, N = 200, K = 300;
  const auto x = random_vector<float>(static_cast<std::size_t>(M * K), 11);
  const auto w = random_vector<float>(static_cast<std::size_t>(N * K), 12);
  const auto bias = random_vector<float>(static_cast<std::size_t>(N), 13);
  set_num_threads(1);
  std::vector<float> ref(static_cast<std::size_t>(M * N));
  kernels::gemm_bias_activation<float>(Trans::no, Trans::yes, M, N, K, 1.f, x.data(), K, w.data(),
                                       K, 0.f, ref.data(), N, bias.data(), Activation::relu, 0.f);
  set_num_threads(0);
  const kernels::detail::GemmView<float> g{
      w.data(), K, 1, x.data(), 1, K, nullptr, 1, N, bias.data(), Activation::relu, 0.f};
  for (Index r_unit : {Index{G::MR}, Index{2 * G::MR}}) {
    std::vector<float> out(ref.size(), std::numeric_limits<float>::quiet_NaN());
    auto view = g;
    view.out = out.data();
    const Index r_units = (N + r_unit - 1) / r_unit;
    aigc::kernels::BalancedChunks chunks(r_units, 2, 4);
    kernels::detail::gemm_claimed_rows<float, A, true, true>(view, N, M, K, 1.f, 0.f, r_unit,
                                                             chunks, 0);
    INFO("rows in units of " << r_unit);
    REQUIRE(std::memcmp(out.data(), ref.data(), ref.size() * sizeof(float)) == 0);
  }
}

TEST_CASE(
    "gemm of a small A B^T over a long depth (dot products) matches a naive loop and is "
    "bitwise the same for 1, 2 and 3 threads",
    "[gemm][threads]") {
  struct Shape {
    Index M, N, K;
  };
  // a convolution's weight gradient with 3 input channels (64 x 48 over 2^15 positions), and odd
  // sizes: tiles of 4 cut short, a depth that is no multiple of the vector width
  const Shape shapes[] = {{64, 48, Index{1} << 15}, {7, 5, 32781}, {1, 3, 40000}};
  for (const Shape& s : shapes) {
    Rng rng(21);
    const Strided<float> a(s.M, s.K, 3, rng), b(s.N, s.K, 1, rng);
    for (float beta : {0.0f, 0.5f}) {
      const Strided<float> c0(s.M, s.N, 2, rng);
      std::vector<long double> ref, bound;
      naive_gemm(Trans::no, Trans::yes, s.M, s.N, s.K, -0.75f, a, b, beta, c0, ref, bound);
      std::vector<std::vector<float>> results;
      for (int threads : {1, 2, 3}) {
        set_num_threads(threads);
        Strided<float> c = c0;
        kernels::gemm<float>(Trans::no, Trans::yes, s.M, s.N, s.K, -0.75f, a.data.data(), a.ld,
                             b.data.data(), b.ld, beta, c.data.data(), c.ld);
        INFO(s.M << " x " << s.N << " x " << s.K << " beta " << beta << ", " << threads
                 << " thread(s)");
        for (Index i = 0; i < s.M; ++i) {
          for (Index j = 0; j < s.N; ++j) {
            const auto e = std::fabs(c.at(i, j) - ref[static_cast<std::size_t>(i * s.N + j)]);
            // sums of 2^15 random terms err by far less than the worst case K eps sum |x y|
            REQUIRE(e <= 64 * std::numeric_limits<float>::epsilon() *
                             (bound[static_cast<std::size_t>(i * s.N + j)] + 1e-30L));
          }
          for (Index j = s.N; j < c.ld; ++j) REQUIRE(c.at(i, j) == c0.at(i, j));
        }
        results.push_back(c.data);
      }
      set_num_threads(0);
      CHECK(results[1] == results[0]);
      CHECK(results[2] == results[0]);
    }
  }
}
