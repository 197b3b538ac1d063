#include <aigc/training/log.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "support/idx_files.hpp"

using namespace aigc;

namespace {

// Epochs of 3 steps, from `first` to `last`; the epoch's mean logged at its end.
void train(TrainingLog& log, EpochSums& sums, int first, int last) {
  for (int step = first; step <= last; ++step) {
    const int epoch = (step + 2) / 3;
    const double loss = 1.0 / step;
    log.step(epoch, step, epoch - 1 + (step - 1) % 3 / 3.0, {loss});
    sums.add(0, loss);
    if (step % 3 == 0) {
      log.epoch(epoch, step, {sums.mean(0)}, 0.0);
      sums.reset();
    }
  }
}

}  // namespace

TEST_CASE("A resumed TrainingLog writes the CSV logs of an uninterrupted run", "[csv][resume]") {
  test::TempDir dir("training-log-resume");
  std::filesystem::create_directories(dir / "straight");
  std::filesystem::create_directories(dir / "cut");
  {
    TrainingLog log(dir / "straight", {"loss"}, {"loss"}, "loss");
    EpochSums sums(1);
    train(log, sums, 1, 9);
  }
  StateDict checkpoint;
  {
    // Checkpointed at step 5 (mid-epoch 2), then killed after logging steps 6 and 7 and epoch 2.
    TrainingLog log(dir / "cut", {"loss"}, {"loss"}, "loss");
    EpochSums sums(1);
    train(log, sums, 1, 5);
    sums.save(checkpoint);
    train(log, sums, 6, 7);
  }
  {
    TrainingLog log(dir / "cut", {"loss"}, {"loss"}, "loss", LogResume{5, 1, 3});
    EpochSums sums(1);
    sums.load(checkpoint);  // without it, epoch 2's mean would cover step 6 alone
    train(log, sums, 6, 9);
  }
  CHECK(test::read_text(dir / "cut/steps.csv") == test::read_text(dir / "straight/steps.csv"));
  CHECK(test::read_text(dir / "cut/metrics.csv") == test::read_text(dir / "straight/metrics.csv"));
}
