// aigc: general matrix multiply on row-major storage.
#pragma once

#include <Eigen/Core>

#include "aigc/core/tensor.hpp"

namespace aigc::kernels {

enum class Trans { no, yes };

// C = alpha * op(A) * op(B) + beta * C with op(A) M x K and op(B) K x N, all row-major with
// leading dimensions lda, ldb, ldc. beta == 0 overwrites C (NaNs in C are not propagated).
template <class T>
void gemm(Trans trans_a, Trans trans_b, Index M, Index N, Index K, T alpha, const T* A, Index lda,
          const T* B, Index ldb, T beta, T* C, Index ldc) {
  using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Stride = Eigen::OuterStride<>;
  Eigen::Map<RowMat, 0, Stride> c(C, M, N, Stride(ldc));
  if (beta == T(0)) {
    c.setZero();
  } else if (beta != T(1)) {
    c *= beta;
  }
  if (M == 0 || N == 0 || K == 0) return;
  auto a_rows = trans_a == Trans::no ? M : K;
  auto a_cols = trans_a == Trans::no ? K : M;
  auto b_rows = trans_b == Trans::no ? K : N;
  auto b_cols = trans_b == Trans::no ? N : K;
  Eigen::Map<const RowMat, 0, Stride> a(A, a_rows, a_cols, Stride(lda));
  Eigen::Map<const RowMat, 0, Stride> b(B, b_rows, b_cols, Stride(ldb));
  if (trans_a == Trans::no && trans_b == Trans::no) {
    c.noalias() += alpha * a * b;
  } else if (trans_a == Trans::no) {
    c.noalias() += alpha * a * b.transpose();
  } else if (trans_b == Trans::no) {
    c.noalias() += alpha * a.transpose() * b;
  } else {
    c.noalias() += alpha * a.transpose() * b.transpose();
  }
}

}  // namespace aigc::kernels
