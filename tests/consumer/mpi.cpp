// A user's data-parallel program, built against the installed package's aigc::mpi
// (find_package(aigc COMPONENTS mpi)) and run by run.cmake under mpirun on 2 processes: the VAE of
// docs/distributed.md trained with fit on every process, then checks that the processes hold the
// same weights and that process 0 alone wrote the run's files.
#include <aigc/aigc.hpp>
#include <aigc/distributed.hpp>
#include <cstdio>
#include <filesystem>
#include <string>

int main(int argc, char** argv) {
  aigc::MpiSession mpi(argc, argv);
  int failures = 0;
  const auto expect = [&](bool ok, const std::string& what) {
    if (!ok) {
      std::fprintf(stderr, "consumer (mpi): %s\n", what.c_str());
      ++failures;
    }
  };
  try {
    aigc::MpiProcessGroup group;
    expect(group.size() == 2, "run it on 2 processes, not " + std::to_string(group.size()));
    aigc::Dataset<float> data;
    data.images.resize(64, 16);
    aigc::Rng rng(1);
    rng.fill_uniform(data.images, 0.0, 1.0);
    data.height = data.width = 4;
    aigc::Rng init(0);  // the same seed on every process: the same first weights
    auto encoder = aigc::make_vae_encoder<float>(16, 8, 2, init);
    auto decoder = aigc::make_vae_decoder<float>(2, 8, 16, init);
    aigc::VaeTrainer<float> trainer(*encoder, *decoder, {.latent = 2});
    trainer.set_process_group(&group);
    aigc::BatchLoader<float> loader(data, {.batch_size = 16, .seed = 2});
    const std::filesystem::path out = std::filesystem::current_path() / "mpi-run";
    if (group.rank() == 0) std::filesystem::remove_all(out);
    group.barrier();
    const aigc::FitResult run = aigc::fit(
        trainer, loader, {.epochs = 2, .out = out.string(), .name = "vae", .progress = false});
    expect(run.steps == 8, "2 epochs of 4 global batches took " + std::to_string(run.steps));

    // The same weights on both processes: the sum over them is twice this process's (exact).
    double checksum = 0.0;
    for (const aigc::Param<float>* p : trainer.optimizer().params())
      for (aigc::Index i = 0; i < p->value.size(); ++i) checksum += p->value.data()[i];
    double both = checksum;
    group.sum(&both, 1);
    expect(both == 2.0 * checksum, "the processes' weights differ");

    // The update was sharded (the default): a few steps outside fit leave each process's Adam
    // moments current for its own values only; save_state refuses them until consolidate_state,
    // called by every process, gathers them. Then both processes hold the same moments.
    aigc::Tensor<float> batch;
    for (int i = 0; i < 3; ++i) {
      if (!loader.next(batch)) loader.next(batch);  // the next epoch's first batch
      trainer.step(batch);
    }
    aigc::StateDict state;
    bool refused = false;
    try {
      trainer.save_state(state);
    } catch (const aigc::Error&) {
      refused = true;
    }
    expect(refused, "save_state wrote moments spread over the processes");
    trainer.consolidate_state();
    aigc::StateDict consolidated;
    trainer.save_state(consolidated);
    double moments = 0.0;
    for (const aigc::OptimizerState<float>& st : trainer.optimizer().state())
      for (aigc::Index i = 0; i < st.tensor->size(); ++i) moments += st.tensor->data()[i];
    double moments_both = moments;
    group.sum(&moments_both, 1);
    expect(moments_both == 2.0 * moments, "the processes' moments differ after consolidate_state");
    if (group.rank() == 0) {
      expect(std::filesystem::exists(out / "checkpoints/vae-000000000008.aigc"),
             "process 0 wrote no checkpoint");
      expect(std::filesystem::exists(out / "steps.csv"), "process 0 wrote no steps.csv");
    }
    group.barrier();
    if (group.rank() == 0) {
      std::filesystem::remove_all(out);
      std::printf("aigc %s: a VAE trained data parallel on %d processes (%s): %s\n",
                  AIGC_VERSION_STRING, group.size(),
                  group.shared_memory() ? "shared memory" : "ring", failures ? "FAILED" : "ok");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "consumer (mpi): %s\n", e.what());
    aigc::MpiSession::abort(1);
  }
  return failures ? 1 : 0;
}
