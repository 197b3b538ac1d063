// PyTorch's CPU autocast to bfloat16 over a scope, what `with torch.autocast("cpu",
// dtype=torch.bfloat16):` does in Python: the ops autocast lists (linear, convolutions, matmul)
// take bfloat16 operands. On leaving the outermost scope the cache of the weights' bfloat16 casts
// is cleared (else the next step would reuse the casts of weights the optimiser has changed).
#pragma once

#include <ATen/autocast_mode.h>

struct Bf16Autocast {
  explicit Bf16Autocast(bool enabled) : on(enabled) {
    if (!on) return;
    previous = at::autocast::is_cpu_enabled();
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::increment_nesting();
  }
  ~Bf16Autocast() {
    if (!on) return;
    at::autocast::set_cpu_enabled(previous);
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  }
  Bf16Autocast(const Bf16Autocast&) = delete;
  Bf16Autocast& operator=(const Bf16Autocast&) = delete;

  bool on, previous = false;
};
