// The list flags of the benchmarks that time FP32 and bf16 side by side (bench_train,
// bench_dcgan64): --precision, "fp32", "bf16" or a comma-separated list of them, and the names
// they print; --threads, a comma-separated list of thread counts.
#pragma once

#include <aigc/aigc.hpp>
#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {

inline const char* precision_name(aigc::Precision p) {
  return p == aigc::Precision::bf16 ? "bf16" : "fp32";
}

inline std::vector<aigc::Precision> parse_precisions(const std::string& value) {
  std::vector<aigc::Precision> out;
  for (std::size_t p = 0; p < value.size();) {
    const std::size_t q = std::min(value.find(',', p), value.size());
    const std::string name = value.substr(p, q - p);
    if (name != "fp32" && name != "bf16") {
      throw std::invalid_argument("--precision takes fp32 and/or bf16, got '" + name + "'");
    }
    out.push_back(name == "bf16" ? aigc::Precision::bf16 : aigc::Precision::fp32);
    p = q + 1;
  }
  return out;
}

// "1,2" as {1, 2}; std::stoi's exceptions for what is not a number.
inline std::vector<int> parse_thread_counts(const std::string& value) {
  std::vector<int> out;
  for (std::size_t p = 0; p < value.size();) {
    const std::size_t q = std::min(value.find(',', p), value.size());
    out.push_back(std::stoi(value.substr(p, q - p)));
    p = q + 1;
  }
  return out;
}

}  // namespace bench
