// PyTorch's data parallel training of the 64x64 DCGAN, for benchmarks/data_parallel.sh: libtorch's
// own collective layer (c10d::ProcessGroupGloo over loopback, a c10d::TCPStore rendezvous) around
// torch_gan's DCGAN step. The global batch of 128 rows of random colour data is split over the
// processes (each takes its own 128/P rows and draws its own 128/P latent vectors); before each of
// D's and G's Adam steps the model's gradients are summed over the processes and divided by P, as
// DistributedDataParallel does, so every process applies the update of one process on 128 rows.
// BatchNorm keeps per-process batch statistics, as DDP does without SyncBatchNorm.
// The rank and process count come from Open MPI's environment under mpirun, else from the flags.
// Usage: mpirun -np P torch_ddp [--threads 1] [--steps 3] [--port 29500]
//        torch_ddp --rank R --world P [--threads 1] [--steps 3] [--port 29500]
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <vector>

#include "torch_gan_step.hpp"

namespace {

namespace nn = torch::nn;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The gradients of `model` averaged over the group in one flattened buffer (sum, then / P).
// DDP's buckets (1 MB first, then 25 MB) hold each of these models in two, the large one ready
// only when backward ends; this reduces after backward, in one all-reduce per model.
void average_gradients(c10d::ProcessGroup& group, nn::Sequential& model) {
  std::vector<torch::Tensor> grads;
  for (const torch::Tensor& p : model->parameters()) grads.push_back(p.grad().reshape({-1}));
  std::vector<torch::Tensor> flat{torch::cat(grads)};
  group.allreduce(flat)->wait();
  flat[0].div_(group.getSize());
  int64_t at = 0;
  for (const torch::Tensor& p : model->parameters()) {
    const int64_t n = p.numel();
    p.mutable_grad().copy_(flat[0].slice(0, at, at + n).view_as(p));
    at += n;
  }
}

// Rank 0's parameters copied to every process, as DDP's constructor does.
void broadcast_parameters(c10d::ProcessGroup& group, nn::Sequential& model) {
  torch::NoGradGuard no_grad;
  for (torch::Tensor& p : model->parameters()) {
    std::vector<torch::Tensor> one{p.data()};
    group.broadcast(one)->wait();
  }
}

// Sum of all parameters of `model` in double: equal on every process when the updates agree.
double checksum(nn::Sequential& model) {
  double s = 0;
  for (const torch::Tensor& p : model->parameters())
    s += p.to(torch::kFloat64).sum().item<double>();
  return s;
}

// The smallest and largest `value` over the processes.
std::pair<double, double> range(c10d::ProcessGroup& group, double value) {
  std::vector<torch::Tensor> lo{torch::full({1}, value, torch::kFloat64)};
  std::vector<torch::Tensor> hi{torch::full({1}, value, torch::kFloat64)};
  group.allreduce(lo, {c10d::ReduceOp::MIN})->wait();
  group.allreduce(hi, {c10d::ReduceOp::MAX})->wait();
  return {lo[0].item<double>(), hi[0].item<double>()};
}

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::stoi(v) : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1, steps = 3, port = c10d::TCPStoreOptions::kDefaultPort;
  int rank = env_int("OMPI_COMM_WORLD_RANK", 0), world = env_int("OMPI_COMM_WORLD_SIZE", 1);
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--threads") {
      threads = std::stoi(value);
    } else if (flag == "--steps") {
      steps = std::stoi(value);
    } else if (flag == "--port") {
      port = std::stoi(value);
    } else if (flag == "--rank") {
      rank = std::stoi(value);
    } else if (flag == "--world") {
      world = std::stoi(value);
    } else {
      std::fprintf(stderr, "torch_ddp: unknown flag %s\n", flag.c_str());
      return 1;
    }
  }
  if (argc % 2 == 0) {
    std::fprintf(stderr, "torch_ddp: flag %s has no value\n", argv[argc - 1]);
    return 1;
  }
  if (world < 1 || rank < 0 || rank >= world || 128 % world != 0 || steps < 1) {
    std::fprintf(stderr,
                 "torch_ddp: rank %d of %d processes, %d steps: need 0 <= rank < P, P dividing "
                 "128, steps >= 1\n",
                 rank, world, steps);
    return 1;
  }
  try {
    torch::set_num_threads(threads);
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<std::uint16_t>(port);
    store_options.isServer = rank == 0;
    store_options.numWorkers = world;
    store_options.timeout = std::chrono::seconds(60);
    auto store = c10::make_intrusive<c10d::TCPStore>("127.0.0.1", store_options);
    auto options = c10d::ProcessGroupGloo::Options::create(std::chrono::seconds(60));
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    c10d::ProcessGroupGloo group(store, rank, world, options);
    const bool root = rank == 0;

    constexpr int64_t latent = 100, global_batch = 128;
    const int64_t batch = global_batch / world;
    torch::manual_seed(0);
    nn::Sequential g = torch_peers::dcgan64_generator(), d = torch_peers::dcgan64_discriminator();
    broadcast_parameters(group, g);
    broadcast_parameters(group, d);
    const torch::Tensor images = torch::rand({global_batch, 3 * 64 * 64})
                                     .mul(2)
                                     .sub(1)
                                     .slice(0, rank * batch, (rank + 1) * batch)
                                     .clone();
    torch::manual_seed(1 + rank);  // each process its own latent vectors
    double reduce_s = 0;
    auto step =
        torch_peers::gan_step(g, d, latent, images, batch, false, [&](nn::Sequential& model) {
          const auto t0 = Clock::now();
          average_gradients(group, model);
          reduce_s += seconds_since(t0);
        });
    if (root) {
      std::printf(
          "PyTorch %s DCGAN 3x64x64 data parallel, c10d Gloo over loopback: %d process(es) x %d "
          "thread(s), global batch %ld (%ld rows per process)\n",
          TORCH_VERSION, world, torch::get_num_threads(), static_cast<long>(global_batch),
          static_cast<long>(batch));
      std::fflush(stdout);
    }
    step();  // warm-up
    std::vector<double> step_s;
    for (int i = 0; i < steps; ++i) {
      group.barrier()->wait();
      reduce_s = 0;
      const auto t0 = Clock::now();
      step();
      step_s.push_back(seconds_since(t0));
      if (root) {
        std::printf("DCGAN 64x64 data parallel step %d: %.3f s (all-reduce %.3f s)\n", i + 1,
                    step_s.back(), reduce_s);
        std::fflush(stdout);
      }
    }
    const auto [g_lo, g_hi] = range(group, checksum(g));
    const auto [d_lo, d_hi] = range(group, checksum(d));
    if (g_lo != g_hi || d_lo != d_hi) {
      throw std::runtime_error("the processes' weights differ after " + std::to_string(steps + 1) +
                               " steps: G " + std::to_string(g_lo) + " .. " + std::to_string(g_hi) +
                               ", D " + std::to_string(d_lo) + " .. " + std::to_string(d_hi));
    }
    if (root) {
      std::printf("weights equal on the %d process(es) after %d steps: sums G %.9g, D %.9g\n",
                  world, steps + 1, g_lo, d_lo);
      std::printf("DCGAN64_DDP_RESULT torch processes=%d threads=%d step_s=%.4f\n", world,
                  torch::get_num_threads(), torch_peers::median(step_s));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "torch_ddp (rank %d): %s\n", rank, e.what());
    return 1;
  }
  return 0;
}
