/// @file
/// aigc: data parallel over MPI (link aigc::mpi): the MPI session of a program and the
/// ProcessGroup the trainers sum their gradients through: shared memory on one machine, a ring
/// all-reduce between machines, in an order of additions fixed by the number of processes.
#pragma once

#include <mpi.h>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "aigc/core/error.hpp"
#include "aigc/core/process_group.hpp"

namespace aigc {

/// Whether this process was started by an MPI launcher (mpirun, srun, ...): its environment
/// names the job's size.
inline bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"}) {
    if (std::getenv(v)) return true;
  }
  return false;
}

/// MPI for the life of a program: MPI_Init in the constructor, MPI_Finalize in the destructor;
/// a destructor run by an exception (or abort()) ends the whole job with MPI_Abort instead, so
/// that the other processes stop rather than wait for this one.
class MpiSession {
 public:
  /// Initialises MPI (MPI_THREAD_FUNNELED: only this thread calls MPI) with the program's
  /// arguments.
  MpiSession(int& argc, char**& argv) : uncaught_(std::uncaught_exceptions()) {
    int provided = 0;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
      throw Error("MPI_Init_thread failed");
  }
  /// Initialises MPI without the program's arguments (Open MPI takes its settings from the
  /// environment mpirun sets).
  MpiSession() : uncaught_(std::uncaught_exceptions()) {
    int provided = 0;
    if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
      throw Error("MPI_Init_thread failed");
  }
  MpiSession(const MpiSession&) = delete;             ///< one session per program
  MpiSession& operator=(const MpiSession&) = delete;  ///< one session per program
  /// MPI_Finalize; MPI_Abort (exit code 1) when an exception is on its way out.
  ~MpiSession() {
    if (std::uncaught_exceptions() > uncaught_) abort(1);
    MPI_Finalize();
  }

  /// Ends every process of the job with `code` (MPI_Abort on MPI_COMM_WORLD): what a process
  /// that fails calls, so that the others do not wait forever in a sum it will never join.
  [[noreturn]] static void abort(int code) {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);  // MPI_Abort does not return; in case it does
  }

 private:
  int uncaught_;
};

/// How an MpiProcessGroup adds up its processes' values.
enum class MpiSum {
  /// Through shared memory when every process of the communicator runs on one machine (MPI-3
  /// shared windows), else the ring.
  automatic,
  /// Always the ring of MPI_Sendrecv (what runs between machines).
  ring,
};

/// The processes of an MPI communicator (by default every process of the job) as a ProcessGroup.
///
/// The sums are added in an order fixed by the number of processes P, never by the MPI library:
/// the values are cut into P chunks, chunk c being [n c / P, n (c + 1) / P), and chunk c is added
/// starting at process c: ((x_c + x_{c+1}) + x_{c+2}) + ... (indices mod P). Every process
/// receives the same bits, and both ways of getting there give the same bits:
/// - the ring (between machines): a reduce-scatter, then an all-gather, over MPI_Sendrecv to the
///   neighbours; each process sends and receives 2 (P - 1) / P of the values;
/// - shared memory (every process on one machine, the default there): each process writes its
///   values into its part of an MPI-3 shared window, process c adds chunk c of every part into
///   its own, and each process reads the finished chunks back; two barriers, no message, no copy
///   through the kernel, and the losses ride along with the gradients (sum_pieces).
/// A sharded update takes the two halves apart (owned, sum_owned_pieces, gather_pieces): each
/// process owns the chunk whose sum it forms (chunk rank through shared memory, rank + 1 over the
/// ring, where the reduce-scatter leaves it), and the gather moves the owners' chunks as the
/// all-gather moves the sums.
class MpiProcessGroup : public ProcessGroup {
 public:
  /// A group of the processes of `comm` (duplicated: its messages never meet the program's).
  explicit MpiProcessGroup(MPI_Comm comm = MPI_COMM_WORLD, MpiSum how = MpiSum::automatic)
      : uncaught_(std::uncaught_exceptions()) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) throw Error("MpiProcessGroup: MPI is not initialised (make an MpiSession)");
    check(MPI_Comm_dup(comm, &comm_), "MPI_Comm_dup");
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    if (how == MpiSum::automatic && size_ > 1) {
      MPI_Comm node = MPI_COMM_NULL;
      check(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node),
            "MPI_Comm_split_type");
      int node_size = 0;
      MPI_Comm_size(node, &node_size);
      MPI_Comm_free(&node);
      shared_ = node_size == size_;
    }
  }
  MpiProcessGroup(const MpiProcessGroup&) = delete;             ///< owns its communicator
  MpiProcessGroup& operator=(const MpiProcessGroup&) = delete;  ///< owns its communicator
  /// Frees the shared window and the duplicated communicator (collective calls), unless MPI is
  /// already finalised or an exception is on its way out: then the other processes may never
  /// join, and the job is about to end (MpiSession aborts it).
  ~MpiProcessGroup() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized || std::uncaught_exceptions() > uncaught_) return;
    free_window();
    MPI_Comm_free(&comm_);
  }

  /// This process's rank in the communicator.
  int rank() const override { return rank_; }
  /// The number of processes in the communicator.
  int size() const override { return size_; }
  /// Whether the sums go through shared memory (every process on this machine) or the ring.
  bool shared_memory() const { return shared_; }
  /// The sum of data[0, n) over the processes (see the class comment for the order).
  void sum(float* data, std::size_t n) override { sum_one(data, n, MPI_FLOAT, float_scratch_); }
  /// The same in double.
  void sum(double* data, std::size_t n) override { sum_one(data, n, MPI_DOUBLE, double_scratch_); }
  /// ProcessGroup::sum_pieces: in one exchange through shared memory, without packing copies
  /// of its own; over the ring, packed (one copy) and summed with sum().
  void sum_pieces(std::span<const std::span<float>> pieces, float scale,
                  std::span<double> extras) override {
    sum_pieces_in(pieces, scale, extras);
  }
  /// The same in double.
  void sum_pieces(std::span<const std::span<double>> pieces, double scale,
                  std::span<double> extras) override {
    sum_pieces_in(pieces, scale, extras);
  }
  /// ProcessGroup::owned: the chunk whose sum this process forms (see the class comment).
  std::pair<std::size_t, std::size_t> owned(std::size_t n) const override {
    if (size_ == 1) return {0, n};
    const int c = shared_ ? rank_ : (rank_ + 1) % size_;
    return {chunk_begin(n, c), chunk_begin(n, c + 1)};
  }
  /// ProcessGroup::sum_owned_pieces: the first half of sum_pieces (one barrier through shared
  /// memory; the reduce-scatter over the ring).
  void sum_owned_pieces(std::span<const std::span<float>> pieces, float scale,
                        std::span<double> extras) override {
    owned_sum_in(pieces, scale, extras, MPI_FLOAT, float_scratch_, float_packed_);
  }
  /// The same in double.
  void sum_owned_pieces(std::span<const std::span<double>> pieces, double scale,
                        std::span<double> extras) override {
    owned_sum_in(pieces, scale, extras, MPI_DOUBLE, double_scratch_, double_packed_);
  }
  /// ProcessGroup::gather_pieces: the second half (one barrier through shared memory; the
  /// all-gather over the ring).
  void gather_pieces(std::span<const std::span<float>> pieces) override {
    gather_in(pieces, MPI_FLOAT, float_packed_);
  }
  /// The same in double.
  void gather_pieces(std::span<const std::span<double>> pieces) override {
    gather_in(pieces, MPI_DOUBLE, double_packed_);
  }
  /// Waits until every process of the group gets here.
  void barrier() { check(MPI_Barrier(comm_), "MPI_Barrier"); }
  /// The communicator (a duplicate of the one given).
  MPI_Comm communicator() const { return comm_; }

 private:
  static void check(int code, const char* call) {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    throw Error(std::string("MpiProcessGroup: ") + call + " failed: " + std::string(text, length));
  }

  /// Chunk c of n values: [n c / P, n (c + 1) / P).
  std::size_t chunk_begin(std::size_t n, int c) const {
    return n * static_cast<std::size_t>(c) / static_cast<std::size_t>(size_);
  }

  template <class T>
  void sum_pieces_in(std::span<const std::span<T>> pieces, T scale, std::span<double> extras) {
    if (shared_) {
      shared_sum(pieces, scale, extras);
    } else {
      ProcessGroup::sum_pieces(pieces, scale, extras);
    }
  }

  template <class T>
  void owned_sum_in(std::span<const std::span<T>> pieces, T scale, std::span<double> extras,
                    MPI_Datatype type, std::vector<T>& scratch, std::vector<T>& packed) {
    if (size_ == 1) {
      ProcessGroup::sum_pieces(pieces, scale, extras);  // scales, as the sums do
    } else if (shared_) {
      shared_sum(pieces, scale, extras, true);
    } else {
      const std::size_t n = pack(pieces, scale, packed);
      ring_reduce_scatter(packed.data(), n, type, scratch);
      const auto [begin, end] = owned(n);
      for_segments(pieces, begin, end, [&](T* seg, std::size_t at, std::size_t len) {
        std::copy(packed.data() + at, packed.data() + at + len, seg);
      });
      if (!extras.empty()) sum(extras.data(), extras.size());
    }
  }

  template <class T>
  void gather_in(std::span<const std::span<T>> pieces, MPI_Datatype type, std::vector<T>& packed) {
    if (size_ == 1) return;
    if (shared_) {
      shared_gather(pieces);
      return;
    }
    const std::size_t n = total_size(pieces);
    packed.resize(n);
    const auto [begin, end] = owned(n);  // the all-gather sends this chunk and fills the others
    for_segments(pieces, begin, end, [&](T* seg, std::size_t at, std::size_t len) {
      std::copy(seg, seg + len, packed.data() + at);
    });
    ring_all_gather(packed.data(), n, type);
    for_segments(pieces, 0, n, [&](T* seg, std::size_t at, std::size_t len) {
      std::copy(packed.data() + at, packed.data() + at + len, seg);
    });
  }

  template <class T>
  void sum_one(T* data, std::size_t n, MPI_Datatype type, std::vector<T>& scratch) {
    if (size_ == 1 || n == 0) return;
    if (shared_) {
      const std::span<T> piece(data, n);
      shared_sum(std::span<const std::span<T>>(&piece, 1), T(1), {});
    } else {
      ring_sum(data, n, type, scratch);
    }
  }

  template <class T>
  void ring_sum(T* data, std::size_t n, MPI_Datatype type, std::vector<T>& scratch) {
    if (size_ == 1 || n == 0) return;
    ring_reduce_scatter(data, n, type, scratch);
    ring_all_gather(data, n, type);
  }

  void check_ring_counts(std::size_t n) const {
    if (n / static_cast<std::size_t>(size_) + 1 >
        static_cast<std::size_t>(std::numeric_limits<int>::max())) {
      throw ArgumentError("MpiProcessGroup::sum: " + std::to_string(n) +
                          " values make chunks larger than MPI's int count");
    }
  }

  template <class T>
  void ring_reduce_scatter(T* data, std::size_t n, MPI_Datatype type, std::vector<T>& scratch) {
    if (size_ == 1 || n == 0) return;
    check_ring_counts(n);
    const int P = size_, right = (rank_ + 1) % P, left = (rank_ + P - 1) % P;
    const auto mod = [P](int c) { return ((c % P) + P) % P; };
    scratch.resize(n / static_cast<std::size_t>(P) + 1);
    // Reduce-scatter: after step s, chunk rank - s - 1 holds the sum of processes
    // rank - s - 1, ..., rank, added in that order; at the end chunk rank + 1 is complete here.
    for (int s = 0; s < P - 1; ++s) {
      const int send = mod(rank_ - s), recv = mod(rank_ - s - 1);
      const std::size_t sb = chunk_begin(n, send), rb = chunk_begin(n, recv);
      const auto scount = static_cast<int>(chunk_begin(n, send + 1) - sb);
      const auto rcount = static_cast<int>(chunk_begin(n, recv + 1) - rb);
      check(MPI_Sendrecv(data + sb, scount, type, right, s, scratch.data(), rcount, type, left, s,
                         comm_, MPI_STATUS_IGNORE),
            "MPI_Sendrecv (reduce-scatter)");
      T* own = data + rb;
      for (int i = 0; i < rcount; ++i) own[i] = scratch[static_cast<std::size_t>(i)] + own[i];
    }
  }

  /// The all-gather of the ring: chunk rank + 1 of data goes round, copied, not added.
  template <class T>
  void ring_all_gather(T* data, std::size_t n, MPI_Datatype type) {
    if (size_ == 1 || n == 0) return;
    check_ring_counts(n);
    const int P = size_, right = (rank_ + 1) % P, left = (rank_ + P - 1) % P;
    const auto mod = [P](int c) { return ((c % P) + P) % P; };
    for (int s = 0; s < P - 1; ++s) {
      const int send = mod(rank_ + 1 - s), recv = mod(rank_ - s);
      const std::size_t sb = chunk_begin(n, send), rb = chunk_begin(n, recv);
      const auto scount = static_cast<int>(chunk_begin(n, send + 1) - sb);
      const auto rcount = static_cast<int>(chunk_begin(n, recv + 1) - rb);
      check(MPI_Sendrecv(data + sb, scount, type, right, P + s, data + rb, rcount, type, left,
                         P + s, comm_, MPI_STATUS_IGNORE),
            "MPI_Sendrecv (all-gather)");
    }
  }

  // Shared memory. Each process's part of the window holds two slots (used in turn, so that a
  // process may write the next sum's values while another still reads this one's results); a
  // slot is a header (the two lengths, to catch processes that disagree), the values, the
  // extras.
  static constexpr std::size_t kAlign = 64;
  static std::size_t round_up(std::size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

  /// Makes each process's slots hold `slot_bytes` (collective: every process calls it with the
  /// same sizes, as every sum is collective).
  void reserve_window(std::size_t slot_bytes) {
    if (slot_bytes <= slot_bytes_) return;
    free_window();
    slot_bytes = round_up(slot_bytes + slot_bytes / 4);  // room to grow without a new window
    void* base = nullptr;
    check(MPI_Win_allocate_shared(static_cast<MPI_Aint>(2 * slot_bytes), 1, MPI_INFO_NULL, comm_,
                                  &base, &window_),
          "MPI_Win_allocate_shared");
    check(MPI_Win_lock_all(MPI_MODE_NOCHECK, window_), "MPI_Win_lock_all");
    parts_.assign(static_cast<std::size_t>(size_), nullptr);
    for (int r = 0; r < size_; ++r) {
      MPI_Aint bytes = 0;
      int unit = 0;
      void* part = nullptr;
      check(MPI_Win_shared_query(window_, r, &bytes, &unit, &part), "MPI_Win_shared_query");
      parts_[static_cast<std::size_t>(r)] = static_cast<unsigned char*>(part);
    }
    slot_bytes_ = slot_bytes;
    slot_ = 0;
  }

  void free_window() {
    if (window_ == MPI_WIN_NULL) return;
    MPI_Win_unlock_all(window_);
    MPI_Win_free(&window_);
    slot_bytes_ = 0;
  }

  /// Writes scale * from[0, n) to `to` in this process's slot (a plain copy when scale is 1) with
  /// streaming stores where the target has them: whole cache lines go out without first being
  /// fetched. A plain store to a line of the slot must first take the line from the other
  /// processes' caches, where their reads of the last exchange left it, one line at a time: on
  /// the 2-core test machine 1.3 MB took 0.20 ms that way and 0.03-0.04 ms streamed (and the other
  /// process's read of it 0.050 ms before, 0.04 ms after). The values are the same bits;
  /// window_barrier() orders the stores (sfence) before the others read them.
  template <class T>
  static void stream_copy(const T* from, std::size_t n, T scale, T* to) {
#if defined(__SSE2__)
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      constexpr std::size_t lane = 16 / sizeof(T);
      // Plain stores up to a 16-byte boundary (`to` is T-aligned: the slots are 64-byte aligned
      // and hold T values from their start), 16-byte streams, plain stores for the tail.
      const std::size_t head =
          std::min(n, (16 - reinterpret_cast<std::uintptr_t>(to) % 16) % 16 / sizeof(T));
      ProcessGroup::scaled_copy(from, head, scale, to);
      std::size_t i = head;
      for (; i + lane <= n; i += lane) {
        if constexpr (std::is_same_v<T, float>) {
          __m128 v = _mm_loadu_ps(from + i);
          if (scale != T(1)) v = _mm_mul_ps(v, _mm_set1_ps(scale));
          _mm_stream_ps(to + i, v);
        } else {
          __m128d v = _mm_loadu_pd(from + i);
          if (scale != T(1)) v = _mm_mul_pd(v, _mm_set1_pd(scale));
          _mm_stream_pd(to + i, v);
        }
      }
      ProcessGroup::scaled_copy(from + i, n - i, scale, to + i);
      return;
    }
#endif
    ProcessGroup::scaled_copy(from, n, scale, to);
  }

  /// Every process's writes to the window before this call are seen by every process after it.
  void window_barrier() {
#if defined(__SSE2__)
    _mm_sfence();  // the streaming stores of stream_copy, in order before the barrier's
#endif
    check(MPI_Win_sync(window_), "MPI_Win_sync");
    check(MPI_Barrier(comm_), "MPI_Barrier");
    check(MPI_Win_sync(window_), "MPI_Win_sync");
  }

  /// The sum through the window; with owned_only, its first half: chunk `rank` summed into the
  /// pieces alone (the same bits), no second barrier, nothing read back.
  template <class T>
  void shared_sum(std::span<const std::span<T>> pieces, T scale, std::span<double> extras,
                  bool owned_only = false) {
    const std::size_t n = total_size(pieces);
    const std::size_t m = extras.size();
    if (size_ == 1 || (n == 0 && m == 0)) return;
    const std::size_t header = round_up(2 * sizeof(std::uint64_t));
    const std::size_t values_bytes = round_up(n * sizeof(T));
    reserve_window(header + values_bytes + m * sizeof(double));
    slot_ ^= 1;
    const auto slot = [&](int r) {
      return parts_[static_cast<std::size_t>(r)] + slot_ * slot_bytes_;
    };
    const auto values = [&](int r) { return reinterpret_cast<T*>(slot(r) + header); };
    const auto extra = [&](int r) {
      return reinterpret_cast<double*>(slot(r) + header + values_bytes);
    };
    // 1. This process's values (scaled) into its slot, all but chunk `rank` (which only this
    //    process reads, from the pieces themselves), and its extras.
    auto* lengths = reinterpret_cast<std::uint64_t*>(slot(rank_));
    lengths[0] = n;
    lengths[1] = m;
    const std::size_t own_begin = chunk_begin(n, rank_), own_end = chunk_begin(n, rank_ + 1);
    const auto outside_own = [&](auto&& f) {  // f(segment, its first value's index) outside it
      for_segments(pieces, 0, own_begin, f);
      for_segments(pieces, own_end, n, f);
    };
    outside_own([&](T* seg, std::size_t at, std::size_t len) {
      stream_copy(seg, len, scale, values(rank_) + at);
    });
    std::copy(extras.begin(), extras.end(), extra(rank_));
    window_barrier();
    for (int r = 0; r < size_; ++r) {
      const auto* l = reinterpret_cast<const std::uint64_t*>(slot(r));
      if (l[0] != n || l[1] != m) {
        throw Error("MpiProcessGroup::sum: process " + std::to_string(r) + " sums " +
                    std::to_string(l[0]) + " + " + std::to_string(l[1]) + " values, this process " +
                    std::to_string(n) + " + " + std::to_string(m));
      }
    }
    // 2. Chunk `rank`: this process's values, then those of processes rank + 1, rank + 2, ...
    //    added in turn, written back into the pieces (and, for the whole sum, into the slot for
    //    the others to read);
    //    each extra added in the same order for its chunk, by every process for itself.
    const int P = size_;
    for_segments(pieces, own_begin, own_end, [&](T* seg, std::size_t at, std::size_t len) {
      // Summed in the pieces, in blocks that stay in L1 while every process's values are added.
      constexpr std::size_t kBlock = 2048;
      for (std::size_t b = 0; b < len; b += kBlock) {
        const std::size_t e = std::min(len, b + kBlock);
        if (scale != T(1)) {
          for (std::size_t i = b; i < e; ++i) seg[i] = seg[i] * scale;
        }
        for (int k = 1; k < P; ++k) {
          const T* x = values((rank_ + k) % P) + at;
          for (std::size_t i = b; i < e; ++i) seg[i] = seg[i] + x[i];
        }
      }
      // The whole sum streams the finished chunk into the slot for the others, in one go
      // (streamed block by block, between the blocks' loads of the other processes' values, the
      // sum of the VAE's 2.6 MB on 2 processes took 0.25 ms, not 0.17).
      if (!owned_only) stream_copy(seg, len, T(1), values(rank_) + at);
    });
    for (int c = 0; c < P; ++c) {
      for (std::size_t j = chunk_begin(m, c); j < chunk_begin(m, c + 1); ++j) {
        double v = extra(c)[j];
        for (int k = 1; k < P; ++k) v = v + extra((c + k) % P)[j];
        extras[j] = v;
      }
    }
    if (owned_only) return;  // the next exchange writes the other slot (see gather_pieces)
    window_barrier();
    // 3. The other finished chunks back into the pieces, each from the process that added it.
    from_owners(pieces, n, values);
  }

  /// The gather through the window: this process's chunk into its slot, one barrier, the other
  /// chunks from their owners' slots. Every exchange writes the slot the one before did not, and
  /// every process finishes reading an exchange's slots before it reaches the next one's
  /// barrier, so one barrier each is enough (for the first half of a sum as for this).
  template <class T>
  void shared_gather(std::span<const std::span<T>> pieces) {
    const std::size_t n = total_size(pieces);
    if (size_ == 1 || n == 0) return;
    const std::size_t header = round_up(2 * sizeof(std::uint64_t));
    reserve_window(header + round_up(n * sizeof(T)));
    slot_ ^= 1;
    const auto slot = [&](int r) {
      return parts_[static_cast<std::size_t>(r)] + slot_ * slot_bytes_;
    };
    const auto values = [&](int r) { return reinterpret_cast<T*>(slot(r) + header); };
    constexpr std::uint64_t kGather = ~std::uint64_t{0};  // in place of the extras' count
    auto* lengths = reinterpret_cast<std::uint64_t*>(slot(rank_));
    lengths[0] = n;
    lengths[1] = kGather;
    const std::size_t own_begin = chunk_begin(n, rank_), own_end = chunk_begin(n, rank_ + 1);
    for_segments(pieces, own_begin, own_end, [&](T* seg, std::size_t at, std::size_t len) {
      stream_copy(seg, len, T(1), values(rank_) + at);
    });
    window_barrier();
    for (int r = 0; r < size_; ++r) {
      const auto* l = reinterpret_cast<const std::uint64_t*>(slot(r));
      if (l[0] != n || l[1] != kGather) {
        throw Error(
            "MpiProcessGroup::gather_pieces: process " + std::to_string(r) +
            (l[1] == kGather ? " gathers " + std::to_string(l[0]) + " values" : " sums instead") +
            ", this process gathers " + std::to_string(n));
      }
    }
    from_owners(pieces, n, values);
  }

  /// Every value of the pieces outside chunk `rank` (n values in all), copied from its chunk's
  /// owner: values(c) is owner c's part of the slot.
  template <class T, class Values>
  void from_owners(std::span<const std::span<T>> pieces, std::size_t n, const Values& values) {
    const auto copy = [&](T* seg, std::size_t at, std::size_t len) {
      int c = 0;
      while (len > 0) {
        while (chunk_begin(n, c + 1) <= at) ++c;
        const std::size_t take = std::min(len, chunk_begin(n, c + 1) - at);
        const T* from = values(c) + at;
        seg = std::copy(from, from + take, seg);
        at += take;
        len -= take;
      }
    };
    for_segments(pieces, 0, chunk_begin(n, rank_), copy);
    for_segments(pieces, chunk_begin(n, rank_ + 1), n, copy);
  }

  /// Calls f(data, at, len) for each run of the concatenated pieces' values [begin, end): `len`
  /// values at `data`, the first being value `at` of the concatenation; in order.
  template <class T, class F>
  static void for_segments(std::span<const std::span<T>> pieces, std::size_t begin, std::size_t end,
                           F&& f) {
    std::size_t at = 0;
    for (const std::span<T>& p : pieces) {
      if (at >= end) return;
      const std::size_t lo = std::max(at, begin), hi = std::min(at + p.size(), end);
      if (lo < hi) f(p.data() + (lo - at), lo, hi - lo);
      at += p.size();
    }
  }

  int uncaught_;
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  bool shared_ = false;
  MPI_Win window_ = MPI_WIN_NULL;
  std::vector<unsigned char*> parts_;  ///< each process's part of the window, as mapped here
  std::size_t slot_bytes_ = 0;
  int slot_ = 0;
  std::vector<float> float_scratch_, float_packed_;
  std::vector<double> double_scratch_, double_packed_;
};

}  // namespace aigc
