/// @file
/// aigc: data parallel over MPI (link aigc::mpi): the MPI session of a program and the
/// ProcessGroup the trainers sum their gradients through, a ring all-reduce whose order of
/// additions is fixed by the number of processes.
#pragma once

#include <mpi.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>
#include <string>
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

/// The processes of an MPI communicator (by default every process of the job) as a ProcessGroup.
/// sum() is a ring all-reduce (reduce-scatter, then all-gather) over MPI_Sendrecv, with each of
/// its size() chunks added in the ring's order starting at the process of its index: the
/// additions are fixed by the number of processes, not by the MPI library, and every process
/// receives the same bits. Each process sends and receives 2 (P - 1) / P of the values.
class MpiProcessGroup : public ProcessGroup {
 public:
  /// A group of the processes of `comm` (duplicated: its messages never meet the program's).
  explicit MpiProcessGroup(MPI_Comm comm = MPI_COMM_WORLD) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) throw Error("MpiProcessGroup: MPI is not initialised (make an MpiSession)");
    check(MPI_Comm_dup(comm, &comm_), "MPI_Comm_dup");
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  MpiProcessGroup(const MpiProcessGroup&) = delete;             ///< owns its communicator
  MpiProcessGroup& operator=(const MpiProcessGroup&) = delete;  ///< owns its communicator
  /// Frees the duplicated communicator (unless MPI is already finalised).
  ~MpiProcessGroup() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Comm_free(&comm_);
  }

  /// This process's rank in the communicator.
  int rank() const override { return rank_; }
  /// The number of processes in the communicator.
  int size() const override { return size_; }
  /// The ring all-reduce of data[0, n) (see the class comment).
  void sum(float* data, std::size_t n) override { ring_sum(data, n, MPI_FLOAT, float_scratch_); }
  /// The same in double.
  void sum(double* data, std::size_t n) override { ring_sum(data, n, MPI_DOUBLE, double_scratch_); }
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
  void ring_sum(T* data, std::size_t n, MPI_Datatype type, std::vector<T>& scratch) {
    if (size_ == 1 || n == 0) return;
    if (n / static_cast<std::size_t>(size_) + 1 >
        static_cast<std::size_t>(std::numeric_limits<int>::max())) {
      throw ArgumentError("MpiProcessGroup::sum: " + std::to_string(n) +
                          " values make chunks larger than MPI's int count");
    }
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
    // All-gather: the complete chunks travel once round the ring, copied, not added.
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

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  std::vector<float> float_scratch_;
  std::vector<double> double_scratch_;
};

}  // namespace aigc
