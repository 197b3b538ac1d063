// The command line shared by the VAE step profiles (bench_vae_phases, bench_vae_jobs):
// `<name> [steps] [--data DIR]`, then run(train, threads, steps) for 1 and 2 threads.
#pragma once

#include <aigc/aigc.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

template <class Run>
int vae_step_main(int argc, char** argv, const char* name, int steps, Run run) {
  std::string data = aigc::default_fashion_mnist_dir();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--data" && i + 1 < argc) {
      data = argv[++i];
    } else if (std::atoi(a.c_str()) > 0) {
      steps = std::atoi(a.c_str());
    } else {
      std::fprintf(stderr, "%s: unknown argument %s\n", name, a.c_str());
      return 1;
    }
  }
  const auto train = aigc::load_mnist_format<float>(data, aigc::Split::train);
  for (int threads : {1, 2}) run(train, threads, steps);
  return 0;
}
