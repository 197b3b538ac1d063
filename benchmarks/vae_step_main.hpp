// The command line shared by the VAE step profiles (bench_vae_phases, bench_vae_jobs):
// `<name> [steps] [--data DIR] [--precision fp32|bf16]`, then run(train, threads, steps) for 1
// and 2 threads (the products' precision in vae_step_precision).
#pragma once

#include <aigc/aigc.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

// The precision of the networks' products (--precision).
inline aigc::Precision vae_step_precision = aigc::Precision::fp32;

template <class Run>
int vae_step_main(int argc, char** argv, const char* name, int steps, Run run) {
  std::string data = aigc::default_fashion_mnist_dir();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--data" && i + 1 < argc) {
      data = argv[++i];
    } else if (a == "--precision" && i + 1 < argc) {
      const std::string p = argv[++i];
      if (p != "fp32" && p != "bf16") {
        std::fprintf(stderr, "%s: --precision takes fp32 or bf16, got %s\n", name, p.c_str());
        return 1;
      }
      vae_step_precision = p == "bf16" ? aigc::Precision::bf16 : aigc::Precision::fp32;
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
