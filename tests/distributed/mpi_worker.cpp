// The program the distributed tests start under mpirun: trains a small model of each kind with
// fit, data parallel over every process of the job, and writes each process's final state.
//   mpi_worker --model vae|cvae|gan|cgan|dcgan --out DIR [--epochs E] [--batches K] [--batch B]
//              [--resume] [--fail-at S --fail-how kill|throw] [--double] [--sync-bn] [--ring]
//              [--whole-update]
// Process P - 1 fails after its step S when asked (SIGKILL, or an exception that ends the job).
// --ring sums over the ring of messages even when every process runs on this machine.
// --whole-update: every process sums and updates every value (not the sharded update).
#include <unistd.h>

#include <aigc/aigc.hpp>
#include <aigc/distributed.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>

namespace {

struct Args {
  std::string model = "vae", out;
  int epochs = 10, batches = 10, batch = 16;
  bool resume = false;
  std::int64_t fail_at = -1;
  std::string fail_how = "kill";
  bool double_precision = false;
  bool sync_batch_norm = false;
  bool ring = false;
  bool whole_update = false;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (i + 1 >= argc && k != "--resume" && k != "--double" && k != "--sync-bn" && k != "--ring" &&
        k != "--whole-update")
      throw aigc::ArgumentError("mpi_worker: " + k + ": no value");
    if (k == "--model")
      a.model = argv[++i];
    else if (k == "--out")
      a.out = argv[++i];
    else if (k == "--epochs")
      a.epochs = std::atoi(argv[++i]);
    else if (k == "--batches")
      a.batches = std::atoi(argv[++i]);
    else if (k == "--batch")
      a.batch = std::atoi(argv[++i]);
    else if (k == "--resume")
      a.resume = true;
    else if (k == "--double")
      a.double_precision = true;
    else if (k == "--sync-bn")
      a.sync_batch_norm = true;
    else if (k == "--ring")
      a.ring = true;
    else if (k == "--whole-update")
      a.whole_update = true;
    else if (k == "--fail-at")
      a.fail_at = std::atoll(argv[++i]);
    else if (k == "--fail-how")
      a.fail_how = argv[++i];
    else
      throw aigc::ArgumentError("mpi_worker: unknown flag " + k);
  }
  if (a.out.empty()) throw aigc::ArgumentError("mpi_worker: --out is required");
  return a;
}

/// A trainer that fails on the last process after step fail_at: what fit sees is the trainer.
template <class Trainer, class T>
struct Failing {
  Trainer& trainer;
  std::int64_t fail_at;
  std::string how;

  auto step(const aigc::Tensor<T>& x) { return trainer.step(x); }
  template <class Loader, class OnStep>
  auto train_epoch(Loader& loader, const OnStep& on_step) {
    aigc::ProcessGroup& g = *trainer.process_group();
    return trainer.train_epoch(loader, [&](const auto& s) {
      on_step(s);
      if (trainer.step_count() == fail_at && g.rank() == g.size() - 1) {
        std::fprintf(stderr, "mpi_worker: process %d fails after step %lld (%s)\n", g.rank(),
                     static_cast<long long>(fail_at), how.c_str());
        if (how == "kill") std::raise(SIGKILL);
        throw aigc::Error("mpi_worker: the failure asked for at step " + std::to_string(fail_at));
      }
    });
  }
  std::int64_t step_count() const { return trainer.step_count(); }
  void save_state(aigc::StateDict& s) { trainer.save_state(s); }
  void consolidate_state() { trainer.consolidate_state(); }
  void load_state(const aigc::StateDict& s) { trainer.load_state(s); }
  aigc::ProcessGroup* process_group() const { return trainer.process_group(); }
};

/// Images of side x side values in [lo, hi) and labels in [0, 10), from a fixed seed.
template <class T>
aigc::Dataset<T> synthetic(aigc::Index rows, aigc::Index side, double lo, double hi) {
  aigc::Dataset<T> d;
  d.height = d.width = side;
  d.images.resize(rows, side * side);
  aigc::Rng rng(7);
  rng.fill_uniform(d.images, lo, hi);
  for (aigc::Index i = 0; i < rows; ++i) d.labels.push_back(static_cast<int>(rng.below(10)));
  d.num_classes = 10;
  return d;
}

template <class Trainer, class T>
void train(Trainer& trainer, aigc::ProcessGroup& group, const aigc::Dataset<T>& data,
           const Args& a) {
  trainer.set_process_group(&group, a.sync_batch_norm, !a.whole_update);
  aigc::BatchLoader<T> loader(data, {.batch_size = a.batch, .seed = 3});
  Failing<Trainer, T> failing{trainer, a.fail_at, a.fail_how};
  aigc::FitOptions o{.epochs = a.epochs,
                     .out = a.out,
                     .name = a.model,
                     .progress = false,
                     .print = false,
                     .tensorboard = false,
                     .plot = false,
                     .keep = 0};
  if (a.resume) o.resume = a.out + "/checkpoints";
  aigc::fit(failing, loader, o);
  aigc::StateDict s;
  trainer.save_state(s);
  aigc::write_checkpoint(a.out + "/final-rank" + std::to_string(group.rank()) + ".aigc", s);
}

template <class T>
void run(const Args& a, aigc::ProcessGroup& group) {
  aigc::set_num_threads(1);
  aigc::Rng init(11);
  const aigc::Index rows = static_cast<aigc::Index>(a.batches) * a.batch;
  if (a.model == "vae" || a.model == "cvae") {
    const auto data = synthetic<T>(rows, 8, 0.0, 1.0);
    const aigc::VaeOptions o{.latent = 8, .seed = 5};
    if (a.model == "vae") {
      auto enc = aigc::make_vae_encoder<T>(64, 32, 8, init);
      auto dec = aigc::make_vae_decoder<T>(8, 32, 64, init);
      aigc::VaeTrainer<T> t(*enc, *dec, o);
      train(t, group, data, a);
    } else {
      auto enc = aigc::make_cvae_encoder<T>(64, 32, 8, 10, init);
      auto dec = aigc::make_cvae_decoder<T>(8, 32, 64, 10, init);
      aigc::CvaeTrainer<T> t(*enc, *dec, o);
      train(t, group, data, a);
    }
  } else if (a.model == "gan" || a.model == "cgan") {
    const auto data = synthetic<T>(rows, 8, -1.0, 1.0);
    const aigc::GanOptions o{.latent = 8, .seed = 5};
    const int classes = a.model == "cgan" ? 10 : 0;
    auto g = aigc::make_mlp_generator<T>(8, 64, init, classes);
    auto d = aigc::make_mlp_discriminator<T>(64, init, classes);
    if (classes) {
      aigc::CganTrainer<T> t(*g, *d, o);
      train(t, group, data, a);
    } else {
      aigc::GanTrainer<T> t(*g, *d, o);
      train(t, group, data, a);
    }
  } else if (a.model == "dcgan") {
    const auto data = synthetic<T>(rows, 16, -1.0, 1.0);
    auto g = aigc::make_dcgan_generator<T>(8, 1, 16, init, 8);
    auto d = aigc::make_dcgan_discriminator<T>(1, 16, init, 8);
    aigc::GanTrainer<T> t(*g, *d, {.latent = 8, .seed = 5});
    train(t, group, data, a);
  } else {
    throw aigc::ArgumentError("mpi_worker: unknown model '" + a.model + "'");
  }
}

}  // namespace

int main(int argc, char** argv) {
  aigc::MpiSession mpi(argc, argv);
  try {
    const Args a = parse(argc, argv);
    aigc::MpiProcessGroup group(MPI_COMM_WORLD,
                                a.ring ? aigc::MpiSum::ring : aigc::MpiSum::automatic);
    if (a.double_precision) {
      run<double>(a, group);
    } else {
      run<float>(a, group);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mpi_worker: %s\n", e.what());
    aigc::MpiSession::abort(1);
  }
  return 0;
}
