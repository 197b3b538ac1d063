#include <aigc/core/rng.hpp>
#include <aigc/kernels/conditioning.hpp>
#include <catch2/catch.hpp>
#include <vector>

using namespace aigc;

namespace {

template <class T, class A>
void check_concat(Index rows, Index cols, Index codes, Index repeat) {
  Rng rng(rows * 131 + cols * 7 + codes + repeat);
  const int classes = 3;
  Tensor<T> x(rows, cols), table(classes, codes), dy(rows, cols + codes * repeat);
  rng.fill_normal(x);
  rng.fill_normal(table);
  rng.fill_normal(dy);
  std::vector<int> labels(static_cast<std::size_t>(rows));
  for (int& l : labels) l = static_cast<int>(rng.below(classes));

  Tensor<T> y(rows, cols + codes * repeat);
  kernels::concat_label_codes<T, A>(x.data(), rows, cols, table.data(), codes, labels.data(),
                                    repeat, y.data());
  Tensor<T> dx(rows, cols), dtable = Tensor<T>::Constant(classes, codes, T(0.5));
  kernels::concat_label_codes_backward<T, A>(dy.data(), rows, cols, codes, labels.data(), repeat,
                                             dx.data(), dtable.data());
  Tensor<double> dtable_ref = Tensor<double>::Constant(classes, codes, 0.5);
  INFO("rows " << rows << " cols " << cols << " codes " << codes << " repeat " << repeat << " arch "
               << A::name());
  for (Index r = 0; r < rows; ++r) {
    const int l = labels[static_cast<std::size_t>(r)];
    for (Index c = 0; c < cols; ++c) {
      REQUIRE(y(r, c) == x(r, c));
      REQUIRE(dx(r, c) == dy(r, c));
    }
    for (Index e = 0; e < codes; ++e) {
      for (Index p = 0; p < repeat; ++p) {
        REQUIRE(y(r, cols + e * repeat + p) == table(l, e));
        dtable_ref(l, e) += static_cast<double>(dy(r, cols + e * repeat + p));
      }
    }
  }
  const double tol = sizeof(T) == 4 ? 1e-5 : 1e-12;
  for (Index i = 0; i < dtable.size(); ++i) {
    REQUIRE(dtable.data()[i] == Approx(dtable_ref.data()[i]).epsilon(tol).margin(tol));
  }
  // Null outputs are skipped.
  Tensor<T> keep = dtable;
  kernels::concat_label_codes_backward<T, A>(dy.data(), rows, cols, codes, labels.data(), repeat,
                                             nullptr, nullptr);
  CHECK(keep == dtable);
}

}  // namespace

TEST_CASE("concat_label_codes and its backward match naive loops", "[kernels][conditioning]") {
  for (Index rows : {1, 7, 33}) {
    for (Index repeat : {1, 7, 17, 49}) {
      check_concat<float, kernels::simd_arch>(rows, 5, 3, repeat);
      check_concat<double, kernels::simd_arch>(rows, 17, 2, repeat);
      check_concat<float, kernels::scalar_arch>(rows, 1, 1, repeat);
    }
  }
  check_concat<float, kernels::simd_arch>(64, 784, 10, 1);
}
