/// @file
/// aigc: walking a tree of modules (Sequential chains and their layers), the check that no two
/// of its tensors share a name, and the tree's BatchNorm layers (synchronised statistics,
/// recomputed running statistics).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "aigc/core/module.hpp"
#include "aigc/core/process_group.hpp"
#include "aigc/layers/batchnorm.hpp"
#include "aigc/layers/sequential.hpp"

namespace aigc {

/// Calls visit(module) for `root` and every module inside it, depth first, each container before
/// its children (Sequential is the container; any other module is a leaf).
template <class T>
void for_each_module(Module<T>& root, const std::function<void(Module<T>&)>& visit) {
  visit(root);
  if (auto* seq = dynamic_cast<Sequential<T>*>(&root)) {
    for (std::size_t i = 0; i < seq->size(); ++i) for_each_module((*seq)[i], visit);
  }
}

/// Throws ArgumentError when two parameters (or two buffers) of the tree share a name, naming
/// both layers that hold them: saving would keep one and loading would give both its values. A
/// custom layer avoids it by naming its tensors after its own name in set_name, as Dense does.
/// Trainers and save_model call it.
template <class T>
void check_unique_names(Module<T>& root) {
  std::map<std::string, std::string> param_owner, buffer_owner;
  auto layer_text = [](const Module<T>& m) {
    return m.name().empty() ? std::string("an unnamed layer") : "layer '" + m.name() + "'";
  };
  auto claim = [&](std::map<std::string, std::string>& owners, const std::string& name,
                   const Module<T>& m, const char* kind) {
    const auto [it, fresh] = owners.emplace(name, layer_text(m));
    if (!fresh) {
      const std::string other = layer_text(m);
      throw ArgumentError(std::string("two ") + kind + "s are named '" + name + "': one of " +
                          it->second + ", one of " + other +
                          (it->second == other ? " (the same layer)" : std::string()) +
                          "; a layer must name its " + kind +
                          "s after its own name (override set_name, as Dense does)");
    }
  };
  for_each_module<T>(root, [&](Module<T>& m) {
    if (dynamic_cast<Sequential<T>*>(&m)) return;
    for (Param<T>* p : m.params()) claim(param_owner, p->name, m, "parameter");
    for (Buffer<T>* b : m.buffers()) claim(buffer_owner, b->name, m, "buffer");
  });
}

/// Gives every BatchNorm layer of root's tree synchronised statistics over `group` (null: each
/// process's own batch again); see BatchNorm::set_process_group.
template <class T>
void set_batch_norm_process_group(Module<T>& root, ProcessGroup* group) {
  for_each_module<T>(root, [&](Module<T>& m) {
    if (auto* bn = dynamic_cast<BatchNorm<T>*>(&m)) bn->set_process_group(group);
  });
}

/// Recomputes the running statistics of every BatchNorm layer of root's tree for its current
/// weights, as torch.optim.swa_utils.update_bn does after weights are averaged: `forward(k)` for
/// k < batches runs root's forward on a batch (root is in train mode then), and each layer's
/// running mean and variance become the plain means of those batches' statistics (the unbiased
/// variance, as in training). The averaged running statistics of an exponential moving average
/// belong to the raw weights of the steps averaged, not to the averaged weights, so that sampling
/// the averaged network with them shifts every layer's normalisation. The other buffers of the
/// tree (spectral norm's vectors) and its random generators (Dropout's) are as before afterwards,
/// and so are the layers' momentum, synchronised statistics (none during the passes) and mode.
template <class T, class Forward>
void update_batchnorm(Module<T>& root, Index batches, Forward&& forward) {
  std::vector<BatchNorm<T>*> layers;
  for_each_module<T>(root, [&](Module<T>& m) {
    if (auto* bn = dynamic_cast<BatchNorm<T>*>(&m)) layers.push_back(bn);
  });
  if (layers.empty() || batches <= 0) return;
  const std::vector<Buffer<T>*> buffers = root.buffers();
  std::vector<Tensor<T>> before;
  for (const Buffer<T>* b : buffers) before.push_back(b->value);
  const std::vector<NamedRng> rngs = root.rngs();  // Dropout's draws, as if the passes never ran
  std::vector<Rng> rng_states;
  for (const NamedRng& r : rngs) rng_states.push_back(*r.rng);
  std::vector<double> momenta;
  std::vector<ProcessGroup*> groups;
  for (BatchNorm<T>* bn : layers) {
    bn->running_mean().value.setZero();  // replaced by the first batch's (momentum 1)
    bn->running_var().value.setZero();
    momenta.push_back(bn->options().momentum);
    groups.push_back(bn->process_group());
    bn->set_process_group(nullptr);
  }
  const bool training = root.training();
  struct Restore {  // even when forward throws
    std::vector<BatchNorm<T>*>& layers;
    std::vector<double>& momenta;
    std::vector<ProcessGroup*>& groups;
    Module<T>& root;
    bool training;
    ~Restore() {
      for (std::size_t i = 0; i < layers.size(); ++i) {
        layers[i]->set_momentum(momenta[i]);
        layers[i]->set_process_group(groups[i]);
      }
      root.set_training(training);
    }
  } restore{layers, momenta, groups, root, training};
  root.set_training(true);
  for (Index k = 0; k < batches; ++k) {
    for (BatchNorm<T>* bn : layers) bn->set_momentum(1.0 / static_cast<double>(k + 1));
    forward(k);
  }
  std::vector<Tensor<T>> recomputed;
  for (BatchNorm<T>* bn : layers) {
    recomputed.push_back(bn->running_mean().value);
    recomputed.push_back(bn->running_var().value);
  }
  for (std::size_t i = 0; i < buffers.size(); ++i) buffers[i]->value = before[i];
  for (std::size_t i = 0; i < rngs.size(); ++i) *rngs[i].rng = rng_states[i];
  for (std::size_t i = 0; i < layers.size(); ++i) {
    layers[i]->running_mean().value = recomputed[2 * i];
    layers[i]->running_var().value = recomputed[2 * i + 1];
  }
}

}  // namespace aigc
