/// @file
/// aigc: batch normalisation, y = gamma (x - mean) / sqrt(var + eps) + beta per channel, with
/// batch statistics in train mode and running statistics in eval mode, as torch.nn.BatchNorm1d
/// (over the features of batch x F) and torch.nn.BatchNorm2d (over the channels of NCHW images).
#pragma once

#include <string>
#include <vector>

#include "aigc/core/buffer.hpp"
#include "aigc/core/module.hpp"
#include "aigc/kernels/batchnorm.hpp"

namespace aigc {

/// Options of BatchNorm1d / BatchNorm2d, with PyTorch's defaults.
struct BatchNormOptions {
  double eps = 1e-5;      ///< added to the variance
  double momentum = 0.1;  ///< running = (1 - momentum) running + momentum batch statistic
  bool affine = true;     ///< learn gamma ("weight", init 1) and beta ("bias", init 0)
};

/// The common layer over rows of channels * positions values: positions = 1 for BatchNorm1d,
/// H*W for BatchNorm2d (the positions are deduced from the input's columns).
template <class T>
class BatchNorm : public Module<T> {
 public:
  /// Train: xhat = (x - mean_B) / sqrt(var_B + eps) with the batch's statistics, running
  /// statistics updated (unbiased variance); eval: the running statistics. y = gamma xhat + beta.
  const Tensor<T>& forward(const Tensor<T>& x) override {
    check_input(x);
    const Index batch = x.rows(), S = x.cols() / channels_;
    xhat_.resize(x.rows(), x.cols());
    y_.resize(x.rows(), x.cols());
    const T* gamma = options_.affine ? weight_.value.data() : nullptr;
    const T* beta = options_.affine ? bias_.value.data() : nullptr;
    batch_statistics_ = this->training();
    if (batch_statistics_) {
      if (batch * S < 2) {
        throw ArgumentError(kind_ + " '" + this->name() +
                            "': train mode needs more than one value per channel, got input " +
                            shape_string(x));
      }
      kernels::batchnorm_statistics(x.data(), batch, channels_, S, mean_.data(), var_.data());
      kernels::batchnorm_update_running(mean_.data(), var_.data(), channels_, batch * S,
                                        options_.momentum, running_mean_.value.data(),
                                        running_var_.value.data());
      kernels::batchnorm_invstd(var_.data(), channels_, options_.eps, invstd_.data());
      kernels::batchnorm_normalize(x.data(), batch, channels_, S, mean_.data(), invstd_.data(),
                                   gamma, beta, xhat_.data(), y_.data());
    } else {
      kernels::batchnorm_invstd(running_var_.value.data(), channels_, options_.eps, invstd_.data());
      kernels::batchnorm_normalize(x.data(), batch, channels_, S, running_mean_.value.data(),
                                   invstd_.data(), gamma, beta, xhat_.data(), y_.data());
    }
    return y_;
  }

  /// dgamma += sum dY xhat; dbeta += sum dY; train: dX = gamma invstd (dY - mean(dY) - xhat
  /// mean(dY xhat)); eval: dX = gamma invstd dY.
  const Tensor<T>& backward(const Tensor<T>& dy) override {
    check_same_shape(dy, y_, [&] { return kind_ + " '" + this->name() + "' backward (dY vs Y)"; });
    const Index batch = dy.rows(), S = dy.cols() / channels_;
    T* dx = nullptr;
    if (this->needs_input_grad()) {
      dx_.resize(dy.rows(), dy.cols());
      dx = dx_.data();
    } else {
      dx_.resize(0, dy.cols());
    }
    kernels::batchnorm_backward(dy.data(), xhat_.data(), batch, channels_, S,
                                options_.affine ? weight_.value.data() : nullptr, invstd_.data(),
                                batch_statistics_, options_.affine ? weight_.grad.data() : nullptr,
                                options_.affine ? bias_.grad.data() : nullptr, dx, scratch_.data());
    return dx_;
  }

  std::vector<Param<T>*> params() override {
    if (options_.affine) return {&weight_, &bias_};
    return {};
  }

  std::vector<Buffer<T>*> buffers() override { return {&running_mean_, &running_var_}; }

  void set_name(const std::string& name) override {
    Module<T>::set_name(name);
    weight_.name = this->child_name("weight");
    bias_.name = this->child_name("bias");
    running_mean_.name = this->child_name("running_mean");
    running_var_.name = this->child_name("running_var");
  }

  /// Number of features (1d) or channels (2d).
  Index channels() const { return channels_; }
  /// gamma, 1 x channels.
  Param<T>& weight() { return weight_; }
  /// beta, 1 x channels.
  Param<T>& bias() { return bias_; }
  /// The running mean, 1 x channels (used in eval mode).
  Buffer<T>& running_mean() { return running_mean_; }
  /// The running (unbiased) variance, 1 x channels (used in eval mode).
  Buffer<T>& running_var() { return running_var_; }

 protected:
  /// A layer named `kind` in messages over `channels` channels of `positions` values each
  /// (0: deduced from the input).
  BatchNorm(std::string kind, Index channels, Index positions, BatchNormOptions options)
      : kind_(std::move(kind)), channels_(channels), positions_(positions), options_(options) {
    if (channels <= 0) {
      throw ArgumentError(kind_ + ": the number of channels must be positive, got " +
                          std::to_string(channels));
    }
    if (!(options.eps > 0.0) || !(options.momentum >= 0.0 && options.momentum <= 1.0)) {
      throw ArgumentError(kind_ + ": eps must be > 0 and momentum in [0, 1], got eps " +
                          std::to_string(options.eps) + ", momentum " +
                          std::to_string(options.momentum));
    }
    if (options.affine) {
      weight_ = Param<T>("weight", 1, channels);
      weight_.value.setOnes();
      bias_ = Param<T>("bias", 1, channels);
    }
    running_mean_ = Buffer<T>("running_mean", 1, channels, T(0));
    running_var_ = Buffer<T>("running_var", 1, channels, T(1));
    mean_.resize(channels);
    var_.resize(channels);
    invstd_.resize(channels);
    scratch_.resize(3 * channels);
    set_name("");
  }

 private:
  /// Rows of channels * positions values (positions = 0: any multiple of the channels).
  void check_input(const Tensor<T>& x) const {
    const bool ok = positions_ > 0 ? x.cols() == channels_ * positions_
                                   : x.cols() > 0 && x.cols() % channels_ == 0;
    if (!ok) {
      throw ShapeError(kind_ + " '" + this->name() + "' forward: expected an input of shape " +
                       (positions_ > 0 ? "[batch x " + std::to_string(channels_ * positions_) + "]"
                                       : "[batch x " + std::to_string(channels_) + "*H*W]") +
                       ", got " + shape_string(x));
    }
  }

  std::string kind_;
  Index channels_, positions_;
  BatchNormOptions options_;
  Param<T> weight_, bias_;
  Buffer<T> running_mean_, running_var_;
  bool batch_statistics_ = true;  ///< of the last forward
  RowVector<T> mean_, var_, invstd_, scratch_;
  Tensor<T> xhat_, y_, dx_;
};

/// torch.nn.BatchNorm1d over batch x num_features: one mean and variance per feature.
template <class T>
class BatchNorm1d : public BatchNorm<T> {
 public:
  /// Normalisation of `num_features` features.
  explicit BatchNorm1d(Index num_features, BatchNormOptions options = {})
      : BatchNorm<T>("BatchNorm1d", num_features, 1, options) {}
};

/// torch.nn.BatchNorm2d over NCHW images (batch x C*H*W): one mean and variance per channel,
/// over the batch and the H*W positions. Any image size whose C*H*W is a multiple of C is
/// accepted.
template <class T>
class BatchNorm2d : public BatchNorm<T> {
 public:
  /// Normalisation of `num_channels` channels.
  explicit BatchNorm2d(Index num_channels, BatchNormOptions options = {})
      : BatchNorm<T>("BatchNorm2d", num_channels, 0, options) {}
};

}  // namespace aigc
