/// @file
/// aigc: batch normalisation, y = gamma (x - mean) / sqrt(var + eps) + beta per channel, with
/// batch statistics in train mode and running statistics in eval mode, as torch.nn.BatchNorm1d
/// (over the features of batch x F) and torch.nn.BatchNorm2d (over the channels of NCHW images).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "aigc/core/activation.hpp"
#include "aigc/core/buffer.hpp"
#include "aigc/core/config.hpp"
#include "aigc/core/module.hpp"
#include "aigc/core/process_group.hpp"
#include "aigc/kernels/batchnorm.hpp"

namespace aigc {

/// Options of BatchNorm1d and BatchNorm2d.
struct BatchNormOptions {
  double eps = 1e-5;      ///< added to the variance before the square root
  double momentum = 0.1;  ///< running = (1 - momentum) running + momentum batch statistic
  bool affine = true;     ///< learn gamma ("weight", init 1) and beta ("bias", init 0)
  /// Applied to the output, fused into the layer's passes: BatchNorm2d(c, {.activation =
  /// Activation::relu}) computes what BatchNorm2d(c) then ReLU compute, bit for bit, without the
  /// activation layer's pass over the output forward and over its gradient backward. identity,
  /// relu or leaky_relu (the gradients of sigmoid and tanh are multiply-adds, which the compiler
  /// may contract differently once fused: not the same bits as the separate layers).
  Activation activation = Activation::identity;
  double negative_slope = 0.01;  ///< for Activation::leaky_relu
};

/// The common layer over rows of channels * positions values: positions = 1 for BatchNorm1d,
/// H*W for BatchNorm2d (the positions are deduced from the input's columns).
template <class T>
class BatchNorm : public Module<T> {
 public:
  /// Train: xhat = (x - mean_B) / sqrt(var_B + eps) with the batch's statistics, running
  /// statistics updated (unbiased variance); eval: the running statistics. y = gamma xhat + beta.
  /// The backward needs xhat: when the input stays until then (input_stable(), as in a
  /// Sequential after the first layer), it recomputes xhat from x with the same bits, else the
  /// forward stores it.
  const Tensor<T>& forward(const Tensor<T>& x) override {
    check_input(x);
    const Index batch = x.rows(), S = x.cols() / channels_;
    x_in_ = this->input_stable() ? &x : nullptr;
    if (!x_in_) xhat_.resize(x.rows(), x.cols());
    T* xhat = x_in_ ? nullptr : xhat_.data();
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
      count_ = batch * S;
      if (group_) synchronize_statistics();
      kernels::batchnorm_update_running(mean_.data(), var_.data(), channels_, count_,
                                        options_.momentum, running_mean_.value.data(),
                                        running_var_.value.data());
      kernels::batchnorm_invstd(var_.data(), channels_, options_.eps, invstd_.data());
      kernels::batchnorm_normalize(x.data(), batch, channels_, S, mean_.data(), invstd_.data(),
                                   gamma, beta, xhat, y_.data(), fused());
    } else {
      // The running statistics as they are now: a train forward before this mode's backward
      // updates them, and a recomputed xhat must use the mean this forward normalised with.
      mean_ = running_mean_.value;
      kernels::batchnorm_invstd(running_var_.value.data(), channels_, options_.eps, invstd_.data());
      kernels::batchnorm_normalize(x.data(), batch, channels_, S, mean_.data(), invstd_.data(),
                                   gamma, beta, xhat, y_.data(), fused());
    }
    return y_;
  }

  /// Train or eval mode; what the last forward of each mode left for its backward (xhat or the
  /// input it is recomputed from, the inverse deviations, which statistics were used) is kept per
  /// mode, like the buffers.
  void set_training(bool on) override {
    if (on != this->training()) {
      invstd_.swap(other_mode_invstd_);
      mean_.swap(other_mode_mean_);
      std::swap(batch_statistics_, other_mode_batch_statistics_);
      std::swap(x_in_, other_mode_x_in_);
    }
    Module<T>::set_training(on);
  }

  /// The input shape: the layer keeps it.
  SampleShape output_shape() const override { return this->input_shape(); }
  /// dgamma += sum G xhat; dbeta += sum G; train: dX = gamma invstd (G - mean(G) - xhat
  /// mean(G xhat)); eval: dX = gamma invstd G; G = dY act'(Y) with an activation, else dY.
  const Tensor<T>& backward(const Tensor<T>& dy) override {
    check_same_shape(dy, y_, [&] { return kind_ + " '" + this->name() + "' backward (dY vs Y)"; });
    const Index batch = dy.rows(), S = dy.cols() / channels_;
    T* dx = nullptr;
    if (this->needs_input_grad()) {
      dx_.resize(dy.rows(), dy.cols());
      dx = dx_.data();
    } else {
      no_dx_.resize(0, dy.cols());  // dx_ keeps its storage for the next call
    }
    const bool param_grads = options_.affine && this->needs_param_grads();
    const T* gamma = options_.affine ? weight_.value.data() : nullptr;
    if (group_ && batch_statistics_) {  // dX from the sums over every process's batch
      T* sums = scratch_.data() + 3 * channels_;
      kernels::batchnorm_backward_sums(dy.data(), xhat(), batch, channels_, S, sums,
                                       sums + channels_, y_.data(), fused());
      for (Index c = 0; param_grads && c < channels_; ++c) {  // this process's part, summed later
        weight_.grad.data()[c] += sums[channels_ + c];
        bias_.grad.data()[c] += sums[c];
      }
      group_->sum(sums, static_cast<std::size_t>(2 * channels_));
      if (dx) {
        kernels::batchnorm_backward_input(dy.data(), xhat(), batch, channels_, S, gamma,
                                          invstd_.data(), true, sums, sums + channels_, count_, dx,
                                          scratch_.data(), y_.data(), fused());
      }
      return dx ? dx_ : no_dx_;
    }
    kernels::batchnorm_backward(dy.data(), xhat(), batch, channels_, S, gamma, invstd_.data(),
                                batch_statistics_, param_grads ? weight_.grad.data() : nullptr,
                                param_grads ? bias_.grad.data() : nullptr, dx, scratch_.data(),
                                y_.data(), fused());
    return dx ? dx_ : no_dx_;
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

  Index channels() const { return channels_; }  ///< Channels (features) normalised.
  Param<T>& weight() { return weight_; }  ///< The weight (see the class comment for its layout).
  /// The bias, one per output channel (unused when the layer has none).
  Param<T>& bias() { return bias_; }
  /// Running mean per channel (init 0), used in eval mode.
  Buffer<T>& running_mean() { return running_mean_; }
  /// Running unbiased variance per channel (init 1), used in eval mode.
  Buffer<T>& running_var() { return running_var_; }
  /// The options given at construction.
  const BatchNormOptions& options() const { return options_; }

  /// Synchronised statistics (null: this process's batch alone, the default): in train mode the
  /// mean and variance are those of the batches of every process of `group` together, and the
  /// backward pass sums its per-channel terms over them; every process must then run each of
  /// this layer's train-mode passes. The group must outlive the layer's use.
  void set_process_group(ProcessGroup* group) { group_ = group; }
  /// The synchronised statistics' group (null: this process's batch alone).
  ProcessGroup* process_group() const { return group_; }

  /// Sets the weight of a train-mode batch's statistics in the running ones (in [0, 1]):
  /// update_batchnorm sets 1 / (k + 1) for its k-th batch, so that the running statistics become
  /// the plain mean of its batches' (what PyTorch's momentum = None does).
  void set_momentum(double momentum) {
    if (!(momentum >= 0.0 && momentum <= 1.0)) {
      throw ArgumentError(kind_ + " '" + this->name() + "': momentum must be in [0, 1], got " +
                          std::to_string(momentum));
    }
    options_.momentum = momentum;
  }

 protected:
  /// Writes "<size_key>" = channels and the options to a model file's configuration.
  void write_batchnorm_config(Config& c, const char* size_key) const {
    c.set_int(size_key, channels_);
    c.set_double("eps", options_.eps);
    c.set_double("momentum", options_.momentum);
    c.set_bool("affine", options_.affine);
    if (options_.activation != Activation::identity) {  // files of plain BatchNorm as before
      c.set_string("activation", activation_name(options_.activation));
      c.set_double("negative_slope", options_.negative_slope);
    }
  }
  /// The options of a model file's configuration.
  static BatchNormOptions batchnorm_options(const Config& c) {
    BatchNormOptions o{.eps = c.get_double("eps", 1e-300, 1.0),
                       .momentum = c.get_double("momentum", 0.0, 1.0),
                       .affine = c.get_bool("affine")};
    if (c.contains("activation")) {
      o.activation = activation_from_name(c.get_string("activation"));
      o.negative_slope = c.get_double("negative_slope", 0.0, 1e6);
    }
    return o;
  }

  /// `kind` names the layer in errors; positions = 0 deduces H*W from the input.
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
    if (options.activation != Activation::identity && options.activation != Activation::relu &&
        options.activation != Activation::leaky_relu) {
      throw ArgumentError(
          kind_ + ": the fused activation must be identity, relu or leaky_relu, got " +
          activation_name(options.activation) + " (use an activation layer after the BatchNorm)");
    }
    if (options.activation == Activation::leaky_relu && !(options.negative_slope > 0.0)) {
      throw ArgumentError(kind_ + ": negative_slope must be > 0 for leaky_relu, got " +
                          std::to_string(options.negative_slope));
    }
    if (options.affine) {
      weight_ = Param<T>("weight", 1, channels);
      weight_.value.setOnes();
      bias_ = Param<T>("bias", 1, channels);
    }
    running_mean_ = Buffer<T>("running_mean", 1, channels, T(0));
    running_var_ = Buffer<T>("running_var", 1, channels, T(1));
    mean_.resize(channels);
    other_mode_mean_.resize(channels);
    var_.resize(channels);
    invstd_.resize(channels);
    other_mode_invstd_.resize(channels);
    scratch_.resize(5 * channels);
    set_name("");
  }

 private:
  /// The fused activation as the kernels take it.
  kernels::BatchNormActivation fused() const {
    return {options_.activation, options_.negative_slope};
  }

  /// The mean and biased variance over every process's batch from each one's mean_ and var_ over
  /// its count_ values: mean = sum n mean / N, var = sum n (var + (mean - mean_all)^2) / N.
  void synchronize_statistics() {
    const auto C = static_cast<std::size_t>(channels_);
    const auto n = static_cast<double>(count_);
    sync_.resize(C + 1);
    for (std::size_t c = 0; c < C; ++c) sync_[c] = n * static_cast<double>(mean_[Index(c)]);
    sync_[C] = n;
    group_->sum(sync_.data(), C + 1);
    const double total = sync_[C];
    for (std::size_t c = 0; c < C; ++c) {
      const double mean_all = sync_[c] / total;
      const double d = static_cast<double>(mean_[Index(c)]) - mean_all;
      mean_[Index(c)] = static_cast<T>(mean_all);
      sync_[c] = n * (static_cast<double>(var_[Index(c)]) + d * d);
    }
    group_->sum(sync_.data(), C);
    for (std::size_t c = 0; c < C; ++c) var_[Index(c)] = static_cast<T>(sync_[c] / total);
    count_ = static_cast<Index>(total);
  }

  /// Where the backward reads xhat: stored by the forward, or recomputed from its input with the
  /// statistics it was normalised with (this mode's mean_ and invstd_).
  kernels::BatchNormXhat<T> xhat() const {
    if (!x_in_) return {xhat_.data()};
    return {nullptr, x_in_->data(), mean_.data(), invstd_.data()};
  }

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
  bool other_mode_batch_statistics_ = false;
  /// The mean and inverse deviations the last forward of each mode normalised with (in eval mode
  /// a copy of the running mean then).
  RowVector<T> mean_, other_mode_mean_, var_, invstd_, other_mode_invstd_, scratch_;
  ProcessGroup* group_ = nullptr;  ///< synchronised statistics over these processes (null: none)
  Index count_ = 0;                ///< values per channel behind the last train-mode statistics
  std::vector<double> sync_;
  std::vector<Tensor<T>*> work_buffers() override { return {&xhat_, &y_, &dx_}; }
  Tensor<T> xhat_, y_, dx_, no_dx_;
  const Tensor<T>* x_in_ = nullptr;  ///< the last forward's input when it stays (else xhat_)
  const Tensor<T>* other_mode_x_in_ = nullptr;
};

/// torch.nn.BatchNorm1d over batch x num_features: one mean and variance per feature.
template <class T>
class BatchNorm1d : public BatchNorm<T> {
 public:
  /// Normalises each of `num_features` features over the batch.
  explicit BatchNorm1d(Index num_features, BatchNormOptions options = {})
      : BatchNorm<T>("BatchNorm1d", num_features, 1, options) {}

  /// The layer's type in model files.
  static constexpr const char* type_name = "BatchNorm1d";
  /// Writes the size and options to a model file's configuration.
  void write_config(Config& c) const { this->write_batchnorm_config(c, "num_features"); }
  /// The layer of a model file's configuration.
  static std::unique_ptr<BatchNorm1d> from_config(const Config& c) {
    const Index n = c.get_int("num_features", 1, config_max_size);
    c.check_elements(Config::product(4, n), "the statistics and the affine parameters");
    return std::make_unique<BatchNorm1d>(n, BatchNorm<T>::batchnorm_options(c));
  }
  /// Checks that a sample holds num_features values.
  void set_input_shape(const SampleShape& shape) override {
    if (sample_size(shape) != this->channels()) {
      throw ShapeError("BatchNorm1d '" + this->name() + "': input shape " +
                       sample_shape_string(shape) + " does not hold " +
                       std::to_string(this->channels()) + " features");
    }
    Module<T>::set_input_shape(shape);
  }
};

/// torch.nn.BatchNorm2d over NCHW images (batch x C*H*W): one mean and variance per channel,
/// over the batch and the H*W positions. Any image size whose C*H*W is a multiple of C is
/// accepted.
template <class T>
class BatchNorm2d : public BatchNorm<T> {
 public:
  /// Normalises each of `num_channels` channels over the batch and the positions.
  explicit BatchNorm2d(Index num_channels, BatchNormOptions options = {})
      : BatchNorm<T>("BatchNorm2d", num_channels, 0, options) {}

  /// The layer's type in model files.
  static constexpr const char* type_name = "BatchNorm2d";
  /// Writes the size and options to a model file's configuration.
  void write_config(Config& c) const { this->write_batchnorm_config(c, "num_channels"); }
  /// The layer of a model file's configuration.
  static std::unique_ptr<BatchNorm2d> from_config(const Config& c) {
    const Index n = c.get_int("num_channels", 1, config_max_size);
    c.check_elements(Config::product(4, n), "the statistics and the affine parameters");
    return std::make_unique<BatchNorm2d>(n, BatchNorm<T>::batchnorm_options(c));
  }
  /// Checks that a sample is {num_channels, H, W} (or a multiple of num_channels values).
  void set_input_shape(const SampleShape& shape) override {
    const Index n = sample_size(shape);
    if (n == 0 || n % this->channels() != 0 ||
        (shape.size() == 3 && shape[0] != this->channels())) {
      throw ShapeError("BatchNorm2d '" + this->name() + "': input shape " +
                       sample_shape_string(shape) + " is not {" + std::to_string(this->channels()) +
                       ", H, W}");
    }
    Module<T>::set_input_shape(shape);
  }
};

}  // namespace aigc
