/// @file
/// aigc: walking a tree of modules (Sequential chains and their layers), and the check that no
/// two of its tensors share a name.
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

}  // namespace aigc
