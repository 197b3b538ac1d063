/// @file
/// aigc: spectral normalisation of a layer's weight (Miyato et al. 2018, torch.nn.utils.
/// spectral_norm): W_sn = W / sigma, sigma = u^T W v estimated by power iteration, u and v saved
/// buffers; Dense, Conv2d and ConvTranspose2d hold one, off until enabled.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "aigc/core/buffer.hpp"
#include "aigc/core/module.hpp"
#include "aigc/core/tensor.hpp"
#include "aigc/kernels/gemm.hpp"
#include "aigc/kernels/update.hpp"
#include "aigc/layers/module_tree.hpp"

namespace aigc {

/// The spectral normalisation of one weight matrix W (rows x cols, as the layer stores it; for
/// ConvTranspose2d that is in_channels x out_channels*k*k, where PyTorch takes out_channels as
/// the rows). u (1 x rows) and v (1 x cols) are buffers ("<layer>.weight_u", "<layer>.weight_v");
/// u and v are constants of the forward pass (as in PyTorch), so W_sn is a function of W alone
/// between two power iterations, which the trainer runs once per step.
template <class T>
class SpectralNorm {
 public:
  /// Whether the weight is normalised.
  bool on() const { return on_; }

  /// Turns the normalisation on for W: u = (1, ..., 1) / sqrt(rows), then `iterations` power
  /// iterations (PyTorch runs 15 when it attaches the norm).
  void enable(const Tensor<T>& w, int iterations = 15) {
    on_ = true;
    u_.value = Tensor<T>::Constant(1, w.rows(), T(1) / std::sqrt(static_cast<T>(w.rows())));
    v_.value = Tensor<T>::Zero(1, w.cols());
    for (int i = 0; i < iterations; ++i) power_iteration(w);
  }

  /// v = W^T u / |W^T u|; u = W v / |W v|.
  void power_iteration(const Tensor<T>& w) {
    const Index rows = w.rows(), cols = w.cols();
    kernels::gemm(kernels::Trans::no, kernels::Trans::no, 1, cols, rows, T(1), u_.value.data(),
                  rows, w.data(), cols, T(0), v_.value.data(), cols);
    normalize(v_.value);
    kernels::gemm(kernels::Trans::no, kernels::Trans::yes, 1, rows, cols, T(1), v_.value.data(),
                  cols, w.data(), cols, T(0), u_.value.data(), rows);
    normalize(u_.value);
  }

  /// sigma = u^T W v; returns W_sn = W / sigma (kept for backward).
  const Tensor<T>& normalized(const Tensor<T>& w) {
    const Index rows = w.rows(), cols = w.cols();
    uw_.resize(1, cols);
    kernels::gemm(kernels::Trans::no, kernels::Trans::no, 1, cols, rows, T(1), u_.value.data(),
                  rows, w.data(), cols, T(0), uw_.data(), cols);
    sigma_ = uw_.cwiseProduct(v_.value).sum();
    w_sn_.resize(rows, cols);
    kernels::copy(w.data(), w_sn_.data(), w.size());
    kernels::scale(w_sn_.data(), w_sn_.size(), T(1) / sigma_);
    return w_sn_;
  }
  /// W_sn of the last normalized().
  const Tensor<T>& normalized_weight() const { return w_sn_; }

  /// The buffer the layer's backward writes dL/dW_sn into (beta 0), sized like W.
  Tensor<T>& dweight_normalized(const Tensor<T>& w) {
    dw_sn_.resize(w.rows(), w.cols());
    return dw_sn_;
  }

  /// dW += (dW_sn - <dW_sn, W_sn> u v^T) / sigma, from the dW_sn of dweight_normalized (which it
  /// scales).
  void backward(Tensor<T>& dw) {
    const T c = dw_sn_.cwiseProduct(w_sn_).sum();
    kernels::scale(dw_sn_.data(), dw_sn_.size(), T(1) / sigma_);
    kernels::add_inplace(dw.data(), dw_sn_.data(), dw.size());
    kernels::gemm(kernels::Trans::yes, kernels::Trans::no, dw.rows(), dw.cols(), 1, -c / sigma_,
                  u_.value.data(), dw.rows(), v_.value.data(), dw.cols(), T(1), dw.data(),
                  dw.cols());
  }

  /// The last sigma computed by normalized().
  T sigma() const { return sigma_; }
  /// u, 1 x rows.
  Buffer<T>& u() { return u_; }
  /// v, 1 x cols.
  Buffer<T>& v() { return v_; }
  /// u and v when on, none otherwise.
  std::vector<Buffer<T>*> buffers() {
    if (!on_) return {};
    return {&u_, &v_};
  }
  /// Names u and v after the layer: "<layer>.weight_u", "<layer>.weight_v".
  void set_names(const std::string& u_name, const std::string& v_name) {
    u_.name = u_name;
    v_.name = v_name;
  }

 private:
  bool on_ = false;
  Buffer<T> u_, v_;
  static void normalize(Tensor<T>& x) {
    const double norm = std::sqrt(kernels::sum_of_squares(x.data(), x.size()));
    kernels::scale(x.data(), x.size(), static_cast<T>(1.0 / std::max(norm, 1e-12)));
  }

  T sigma_ = T(1);
  Tensor<T> uw_, w_sn_, dw_sn_;
};

/// A layer whose weight can be spectrally normalised (Dense, Conv2d, ConvTranspose2d): holds the
/// layer's SpectralNorm and the calls on it; the layer names the weight it normalises.
template <class T>
class SpectralNormalizable {
 public:
  /// Virtual: reached through dynamic_cast from a Module.
  virtual ~SpectralNormalizable() = default;
  /// Normalises the weight by its largest singular value from now on: buffers
  /// "<name>.weight_u" and "<name>.weight_v", and "spectral_norm" in the model file.
  void enable_spectral_norm(int iterations = 15) {
    spectral_norm_.enable(normalized_param().value, iterations);
  }
  /// One power iteration on the current weight (when on).
  void spectral_norm_power_iteration() {
    if (spectral_norm_.on()) spectral_norm_.power_iteration(normalized_param().value);
  }
  /// Whether it is on.
  bool spectral_norm_on() const { return spectral_norm_.on(); }
  /// The spectral normalisation of the weight (off unless enabled).
  SpectralNorm<T>& spectral_norm() { return spectral_norm_; }

 protected:
  /// The weight that is normalised.
  virtual Param<T>& normalized_param() = 0;
  SpectralNorm<T> spectral_norm_;  ///< off until enabled
};

/// Turns spectral normalisation on for every Dense, Conv2d and ConvTranspose2d in `module`
/// (call it after the weights are initialised, before a trainer is built on the module); returns
/// how many layers it normalised.
template <class T>
int apply_spectral_norm(Module<T>& module, int iterations = 15) {
  int n = 0;
  for_each_module<T>(module, [&](Module<T>& m) {
    if (auto* s = dynamic_cast<SpectralNormalizable<T>*>(&m)) {
      s->enable_spectral_norm(iterations);
      ++n;
    }
  });
  return n;
}

/// The layers of `module` whose weights are spectrally normalised.
template <class T>
std::vector<SpectralNormalizable<T>*> spectral_norm_layers(Module<T>& module) {
  std::vector<SpectralNormalizable<T>*> out;
  for_each_module<T>(module, [&](Module<T>& m) {
    auto* s = dynamic_cast<SpectralNormalizable<T>*>(&m);
    if (s && s->spectral_norm_on()) out.push_back(s);
  });
  return out;
}

}  // namespace aigc
