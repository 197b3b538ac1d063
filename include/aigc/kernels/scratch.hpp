/// @file
/// aigc: the kernels' scratch buffers (packed GEMM panels, im2col's padded plane), sized once and
/// reused, owned by the part of a parallel job that uses them.
#pragma once

#include <cstddef>
#include <new>

namespace aigc::kernels {

/// A growable, 64-byte aligned scratch buffer. Grows, never shrinks, so that steady-state calls
/// do not allocate.
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer() { release(); }

  /// Room for `count` values of T, 64-byte aligned; the contents are not kept when it grows.
  template <class T>
  T* get(std::size_t count) {
    const std::size_t bytes = count * sizeof(T);
    if (bytes > bytes_) {
      release();
      data_ = ::operator new(bytes, std::align_val_t(64));
      bytes_ = bytes;
    }
    return static_cast<T*>(data_);
  }

 private:
  void release() {
    if (data_) ::operator delete(data_, std::align_val_t(64));
    data_ = nullptr;
    bytes_ = 0;
  }
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
};

/// The scratch buffers a kernel's part may use (slots 0 .. 4).
struct ScratchSet {
  AlignedBuffer slots[5];  ///< the buffers, each grown as a kernel asks
};

/// The scratch set of the work running on this thread: while the thread runs part p of a pooled
/// job, part p's own set (the same whichever thread runs the part, so that which thread runs
/// which part never decides whether a step allocates); otherwise the thread's own set.
inline ScratchSet*& current_scratch() {
  thread_local ScratchSet own;
  thread_local ScratchSet* current = &own;
  return current;
}

/// Slot `slot` of the current scratch set (see current_scratch).
inline AlignedBuffer& scratch(int slot) { return current_scratch()->slots[slot]; }

}  // namespace aigc::kernels
