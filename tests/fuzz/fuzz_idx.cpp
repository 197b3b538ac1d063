// libFuzzer target: the IDX reader (raw and gzip'd) on arbitrary bytes, through a memory file.
// Every input must be read or refused with an aigc::Error naming the file.
#include <sys/mman.h>
#include <unistd.h>

#include <aigc/data/dataset.hpp>
#include <aigc/data/idx.hpp>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const int fd = memfd_create("fuzz-idx", 0);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (fd < 0 || ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) {
    std::abort();
  }
  for (int dims : {0, 1, 3}) {
    try {
      const aigc::IdxArray a = aigc::read_idx(path, dims);
      std::size_t total = 1;
      for (auto d : a.dims) total *= static_cast<std::size_t>(d);
      if (total != a.values.size()) std::abort();
    } catch (const aigc::Error& e) {
      if (std::string(e.what()).find(path) == std::string::npos) std::abort();
    }
  }
  try {
    aigc::read_idx_labels(path, 10);
  } catch (const aigc::Error&) {
  }
  try {
    aigc::read_idx_images<float>(path);
  } catch (const aigc::Error&) {
  }
  return 0;
}
