// Every example program in one binary (CMake's AIGC_EXAMPLES_AS_ONE, which the sanitized test
// stage uses): the programs share one compilation of the library's templates instead of nine, and
// the sanitized build takes minutes less. Each example's main.cpp is compiled unchanged as a
// function; the program runs the one named by the name it was called by (the build makes a hard
// link per example: vae, gan, ...) or by its first argument (`aigc_examples vae --help`).
//
// The headers the examples include come first, so that the `#define main` below renames only the
// examples' own main functions.
#include <CLI/CLI.hpp>
#include <aigc/aigc.hpp>
#include <aigc/io/image_folder.hpp>
#include <aigc/models/classifier.hpp>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/gan.hpp"
#include "common/trainer.hpp"

#define main vae_main
#include "vae/main.cpp"
#undef main
#define main gan_main
#include "gan/main.cpp"
#undef main
#define main cgan_main
#include "cgan/main.cpp"
#undef main
#define main cvae_main
#include "cvae/main.cpp"
#undef main
#define main dcgan_main
#include "dcgan/main.cpp"
#undef main
#define main evaluate_main
#include "evaluate/main.cpp"
#undef main
#define main train_classifier_main
#include "train_classifier/main.cpp"
#undef main
#define main generate_main
#include "generate/main.cpp"
#undef main
#define main tutorial_main
#include "tutorial/main.cpp"
#undef main
#define main getting_started_main
#include "getting_started/main.cpp"
#undef main

namespace {

struct Program {
  std::string_view name;
  int (*main)(int, char**);
};

constexpr Program programs[] = {
    {"vae", vae_main},
    {"gan", gan_main},
    {"cgan", cgan_main},
    {"cvae", cvae_main},
    {"dcgan", dcgan_main},
    {"evaluate", evaluate_main},
    {"train_classifier", train_classifier_main},
    {"generate", generate_main},
    {"tutorial", tutorial_main},
    {"getting_started", getting_started_main},
};

std::optional<int> run(std::string_view name, int argc, char** argv) {
  for (const Program& p : programs) {
    if (p.name == name) return p.main(argc, argv);
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string called = std::filesystem::path(argv[0]).filename().string();
  if (const auto rc = run(called, argc, argv)) return *rc;
  if (argc >= 2) {
    if (const auto rc = run(argv[1], argc - 1, argv + 1)) return *rc;
  }
  std::fprintf(stderr,
               "%s: call it as one of the examples (a link named vae, gan, ...) or as '%s "
               "<example> [flags...]'; examples:",
               called.c_str(), called.c_str());
  for (const Program& p : programs)
    std::fprintf(stderr, " %.*s", int(p.name.size()), p.name.data());
  std::fprintf(stderr, "\n");
  return 2;
}
