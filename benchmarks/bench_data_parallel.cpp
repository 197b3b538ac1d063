// Data parallel over MPI (aigc::mpi): the 64x64 DCGAN's training step (PyTorch's DCGAN, global
// batch 128, random colour data), the MLP GAN's step (batch 128, random data) and the MLP VAE's
// epoch (Fashion-MNIST, batch 128), each on
// every process of the job; and the all-reduce of each model's gradients alone (the
// communication part of a step). Run it under mpirun with 1 and 2 processes
// (benchmarks/data_parallel.sh does, and prints the ratios).
// Usage: mpirun -np P bench_data_parallel [--threads 1] [--steps 4] [--vae-epochs 1]
//                                         [--data DIR] [--reduces 20]
//                                         [--models dcgan64,mlpgan,vae] [--shards 64,16,2]
//                                         [--shared-shards 64] [--whole-update 1]
// --shards R,...: also the step of one process (without a group) on R rows of a batch, the share
// of each of P = 128 / R processes: the compute part of the scaling model (docs/distributed.md),
// measured rather than assumed to shrink as 1 / P.
// --shared-shards R,...: only that step, on every process of the job at once, each alone (no
// exchange): the compute part when P processes share one machine's caches and memory.
// --whole-update 1: every process sums and updates all the values (not the trainers' default
// sharded update, where each updates the values it owns and the processes gather them).
#include <aigc/aigc.hpp>
#include <aigc/distributed.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Milliseconds (median of `reps`) of the exchange of `values` floats over the group that a
// trainer's update makes: an all-reduce (whole), or the sum of the owned values and the gather
// of the updated ones (sharded).
double allreduce_ms(aigc::MpiProcessGroup& group, std::size_t values, int reps, bool sharded) {
  std::vector<float> v(values, 1.0f);
  const std::span<float> piece(v);
  const std::span<const std::span<float>> pieces(&piece, 1);
  std::vector<double> ms;
  for (int r = 0; r < reps; ++r) {
    group.barrier();
    const auto t0 = Clock::now();
    if (sharded) {
      group.sum_owned_pieces(pieces, 1.0f, {});
      group.gather_pieces(pieces);
    } else {
      group.sum(v.data(), v.size());
    }
    ms.push_back(1e3 * seconds_since(t0));
  }
  return median(ms);
}

// Milliseconds (median of `reps`) of one optimizer update: the work of a step that every process
// does whole, however many share the batch (on the gradients the last step left).
double update_ms(aigc::Adam<float>& opt, int reps) {
  std::vector<double> ms;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    opt.step();
    ms.push_back(1e3 * seconds_since(t0));
  }
  return median(ms);
}

}  // namespace

int main(int argc, char** argv) {
  aigc::MpiSession mpi(argc, argv);
  int threads = 1, steps = 4, vae_epochs = 1, reduces = 20;
  bool whole_update = false;
  std::string data = aigc::default_fashion_mnist_dir(), models = "dcgan64,mlpgan,vae";
  std::vector<aigc::Index> shards, shared_shards;
  const auto parse_rows = [](std::string v, std::vector<aigc::Index>& to) {
    while (!v.empty()) {
      const std::size_t comma = v.find(',');
      to.push_back(std::stol(v.substr(0, comma)));
      v = comma == std::string::npos ? "" : v.substr(comma + 1);
    }
  };
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--threads")
      threads = std::atoi(argv[i + 1]);
    else if (k == "--steps")
      steps = std::atoi(argv[i + 1]);
    else if (k == "--vae-epochs")
      vae_epochs = std::atoi(argv[i + 1]);
    else if (k == "--reduces")
      reduces = std::atoi(argv[i + 1]);
    else if (k == "--data")
      data = argv[i + 1];
    else if (k == "--models")
      models = "," + std::string(argv[i + 1]) + ",";
    else if (k == "--shards")
      parse_rows(argv[i + 1], shards);
    else if (k == "--shared-shards")
      parse_rows(argv[i + 1], shared_shards);
    else if (k == "--whole-update")
      whole_update = std::atoi(argv[i + 1]) != 0;
    else {
      std::fprintf(stderr, "bench_data_parallel: unknown flag %s\n", k.c_str());
      aigc::MpiSession::abort(2);
    }
  }
  try {
    aigc::MpiProcessGroup group;
    aigc::set_num_threads(threads);
    const bool root = group.rank() == 0;
    const int P = group.size();
    const bool sharded = !whole_update && P > 1;

    const auto wanted = [&](const char* m) {
      return models.find(std::string(",") + m + ",") != std::string::npos ||
             models == "dcgan64,mlpgan,vae";
    };

    // One process's step on `rows` rows, without a group (no exchange), in ms.
    const auto dcgan_shard_ms = [&](aigc::Index rows) {  // median of `steps` steps
      aigc::Rng init(1);
      auto g = aigc::make_dcgan_generator<float>(100, 3, 64, init, 64);
      auto d = aigc::make_dcgan_discriminator<float>(3, 64, init, 64);
      aigc::GanTrainer<float> trainer(*g, *d, {.latent = 100, .seed = 2});
      aigc::Tensor<float> real(rows, 3 * 64 * 64);
      aigc::Rng data_rng(3);
      data_rng.fill_uniform(real, -1.0, 1.0);
      trainer.step(real);
      std::vector<double> s;
      for (int i = 0; i < steps; ++i) {
        const auto t0 = Clock::now();
        trainer.step(real);
        s.push_back(seconds_since(t0));
      }
      return 1e3 * median(s);
    };
    const auto mlpgan_shard_ms = [&](aigc::Index rows) {  // median of 5 rounds of 20 steps
      aigc::Rng init(1);
      auto g = aigc::make_mlp_generator<float>(64, 784, init);
      auto d = aigc::make_mlp_discriminator<float>(784, init);
      aigc::GanTrainer<float> trainer(*g, *d, {.latent = 64, .seed = 2});
      aigc::Tensor<float> real(rows, 784);
      aigc::Rng data_rng(3);
      data_rng.fill_uniform(real, -1.0, 1.0);
      for (int i = 0; i < 5; ++i) trainer.step(real);
      std::vector<double> s;
      for (int r = 0; r < 5; ++r) {
        const auto t0 = Clock::now();
        for (int i = 0; i < 20; ++i) trainer.step(real);
        s.push_back(seconds_since(t0) / 20);
      }
      return 1e3 * median(s);
    };
    const auto vae_shard_ms = [&](aigc::Index rows) {  // 400 steps on real batches of `rows`
      const aigc::Dataset<float> train = aigc::load_mnist_format<float>(data, aigc::Split::train);
      aigc::Rng init(1);
      auto enc = aigc::make_vae_encoder<float>(784, 400, 20, init);
      auto dec = aigc::make_vae_decoder<float>(20, 400, 784, init);
      aigc::VaeTrainer<float> trainer(*enc, *dec, {.latent = 20, .seed = 2});
      aigc::BatchLoader<float> loader(train, {.batch_size = rows, .seed = 4});
      aigc::Tensor<float> batch;
      const auto run = [&](int n) {
        for (int i = 0; i < n; ++i) {
          if (!loader.next(batch)) loader.next(batch);  // the next epoch's first batch
          trainer.step(batch);
        }
      };
      run(50);
      const auto t0 = Clock::now();
      run(400);
      return 1e3 * seconds_since(t0) / 400;
    };

    // --shared-shards: every process at once, each alone; process 0's figure.
    if (!shared_shards.empty()) {
      for (const aigc::Index rows : shared_shards) {
        const std::pair<const char*, std::function<double(aigc::Index)>> runs[] = {
            {"dcgan64", dcgan_shard_ms}, {"mlpgan", mlpgan_shard_ms}, {"vae", vae_shard_ms}};
        for (const auto& [name, shard_ms] : runs) {
          if (!wanted(name)) continue;
          group.barrier();
          const double ms = shard_ms(rows);
          if (root) {
            std::printf("%s_shard_shared processes %d rows %ld step_ms %.4f\n", name, P,
                        static_cast<long>(rows), ms);
          }
        }
      }
      return 0;
    }

    // The 64x64 DCGAN, global batch 128.
    if (wanted("dcgan64")) {
      aigc::Rng init(1);
      auto g = aigc::make_dcgan_generator<float>(100, 3, 64, init, 64);
      auto d = aigc::make_dcgan_discriminator<float>(3, 64, init, 64);
      aigc::GanTrainer<float> trainer(*g, *d, {.latent = 100, .seed = 2});
      trainer.set_process_group(&group, false, !whole_update);
      aigc::Tensor<float> real(128, 3 * 64 * 64);
      aigc::Rng data_rng(3);
      data_rng.fill_uniform(real, -1.0, 1.0);
      trainer.step(real);  // warm-up: buffers sized
      std::vector<double> s;
      for (int i = 0; i < steps; ++i) {
        group.barrier();
        const auto t0 = Clock::now();
        trainer.step(real);
        s.push_back(seconds_since(t0));
      }
      const std::size_t gp = trainer.generator_optimizer().value_count();
      const std::size_t dp = trainer.discriminator_optimizer().value_count();
      const double reduce_g = allreduce_ms(group, gp, reduces, sharded);
      const double reduce_d = allreduce_ms(group, dp, reduces, sharded);
      const double update = update_ms(trainer.generator_optimizer(), reduces) +
                            update_ms(trainer.discriminator_optimizer(), reduces);
      if (root) {
        std::printf(
            "dcgan64 processes %d threads %d step_s %.4f (min %.4f) params_g %zu params_d %zu "
            "allreduce_g_ms %.3f allreduce_d_ms %.3f update_ms %.3f sharded %d\n",
            P, threads, median(s), *std::min_element(s.begin(), s.end()), gp, dp, reduce_g,
            reduce_d, update, sharded ? 1 : 0);
      }
    }

    // One process, no group, on each shard's rows: ms per step (median of `steps`).
    if (root && P == 1 && wanted("dcgan64")) {
      for (const aigc::Index rows : shards)
        std::printf("dcgan64_shard rows %ld step_ms %.3f\n", static_cast<long>(rows),
                    dcgan_shard_ms(rows));
    }

    // The MLP GAN of examples/gan (latent 64, 784 values per image), global batch 128.
    if (wanted("mlpgan")) {
      aigc::Rng init(1);
      auto g = aigc::make_mlp_generator<float>(64, 784, init);
      auto d = aigc::make_mlp_discriminator<float>(784, init);
      aigc::GanTrainer<float> trainer(*g, *d, {.latent = 64, .seed = 2});
      trainer.set_process_group(&group, false, !whole_update);
      aigc::Tensor<float> real(128, 784);
      aigc::Rng data_rng(3);
      data_rng.fill_uniform(real, -1.0, 1.0);
      for (int i = 0; i < 5; ++i) trainer.step(real);  // warm-up
      std::vector<double> s;
      for (int r = 0; r < 5; ++r) {
        group.barrier();
        const auto t0 = Clock::now();
        for (int i = 0; i < 20; ++i) trainer.step(real);
        s.push_back(seconds_since(t0) / 20);
      }
      const std::size_t n = trainer.generator_optimizer().value_count() +
                            trainer.discriminator_optimizer().value_count();
      const double reduce =
          allreduce_ms(group, trainer.generator_optimizer().value_count(), reduces, sharded) +
          allreduce_ms(group, trainer.discriminator_optimizer().value_count(), reduces, sharded);
      const double update = update_ms(trainer.generator_optimizer(), reduces) +
                            update_ms(trainer.discriminator_optimizer(), reduces);
      if (root) {
        std::printf(
            "mlpgan processes %d threads %d step_s %.5f params %zu allreduce_ms %.3f update_ms "
            "%.3f sharded %d\n",
            P, threads, median(s), n, reduce, update, sharded ? 1 : 0);
      }
    }

    if (root && P == 1 && wanted("mlpgan")) {
      for (const aigc::Index rows : shards)
        std::printf("mlpgan_shard rows %ld step_ms %.4f\n", static_cast<long>(rows),
                    mlpgan_shard_ms(rows));
    }

    // The MLP VAE on Fashion-MNIST, batch 128: one epoch (469 steps).
    if (wanted("vae")) {
      const aigc::Dataset<float> train = aigc::load_mnist_format<float>(data, aigc::Split::train);
      aigc::Rng init(1);
      auto enc = aigc::make_vae_encoder<float>(784, 400, 20, init);
      auto dec = aigc::make_vae_decoder<float>(20, 400, 784, init);
      aigc::VaeTrainer<float> trainer(*enc, *dec, {.latent = 20, .seed = 2});
      trainer.set_process_group(&group, false, !whole_update);
      aigc::BatchLoader<float> loader(train, {.batch_size = 128, .seed = 4});
      std::vector<double> s;
      for (int e = 0; e < vae_epochs; ++e) {
        group.barrier();
        const auto t0 = Clock::now();
        trainer.train_epoch(loader);
        s.push_back(seconds_since(t0));
      }
      const std::size_t n = trainer.optimizer().value_count();
      const double reduce = allreduce_ms(group, n, reduces, sharded);
      const double update = update_ms(trainer.optimizer(), reduces);
      if (root) {
        std::printf(
            "vae processes %d threads %d epoch_s %.4f steps %ld params %zu allreduce_ms %.3f "
            "update_ms %.3f sharded %d\n",
            P, threads, median(s), static_cast<long>(loader.batches_per_epoch()), n, reduce, update,
            sharded ? 1 : 0);
      }
    }
    if (root && P == 1 && wanted("vae")) {
      for (const aigc::Index rows : shards)
        std::printf("vae_shard rows %ld step_ms %.4f\n", static_cast<long>(rows),
                    vae_shard_ms(rows));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_data_parallel: %s\n", e.what());
    aigc::MpiSession::abort(1);
  }
  return 0;
}
