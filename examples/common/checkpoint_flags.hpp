// The checkpoint flags of the example trainers: --checkpoint-every, --checkpoint-dir, --keep,
// --resume.
#pragma once

#include <CLI/CLI.hpp>
#include <aigc/io/checkpoint.hpp>
#include <string>

struct CheckpointFlags {
  long every = 0;
  std::string dir;  // default: <out>/checkpoints
  int keep = 3;
  std::string resume;

  // Adds the flags to `app`; `step` names what the trainer counts ("steps", "D steps").
  void add_to(CLI::App& app, const std::string& step) {
    app.add_option("--checkpoint-every", every,
                   "write a checkpoint every N " + step + " (0: at the end of each epoch only)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--checkpoint-dir", dir, "checkpoint folder (default: <out>/checkpoints)");
    app.add_option("--keep", keep, "checkpoints kept (0: all)")->check(CLI::NonNegativeNumber);
    app.add_option("--resume", resume,
                   "checkpoint file, or folder whose newest valid checkpoint is resumed");
  }

  // Where the checkpoints of a run writing into `out` go, named `<prefix>-<step>.aigc`.
  aigc::CheckpointOptions options(const std::string& out, const std::string& prefix) const {
    return {
        .folder = dir.empty() ? out + "/checkpoints" : dir, .prefix = prefix, .keep_last = keep};
  }
};
