// libFuzzer target: the checkpoint parser and loader, and the model file loader, on arbitrary
// bytes. Every input must either parse, re-serialise to the same bytes and load or be refused
// with an aigc::Error; anything else (a crash, a sanitizer report, another exception, a huge
// allocation) is a finding. A model that loads must save to a file that loads again. An input
// whose CRC (or length) is wrong is also tried with them corrected.
#include <aigc/io/checkpoint.hpp>
#include <aigc/io/model_file.hpp>
#include <aigc/layers/dense.hpp>
#include <aigc/layers/sequential.hpp>
#include <aigc/optim/adam.hpp>
#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aigc;
  StateDict s;
  std::vector<std::uint8_t> fixed;
  try {
    s = parse_checkpoint(data, size, "fuzz.aigc");
  } catch (const Error&) {
    // Past the header: the same bytes with the payload length and CRC-32 made right, so that
    // mutations of the entries (and of model files' architectures) reach the loaders.
    if (size < checkpoint_header_size) return 0;
    fixed.assign(data, data + size);
    const std::uint64_t length = size - checkpoint_header_size;
    const std::uint32_t crc = detail::crc32_of(fixed.data() + checkpoint_header_size, length);
    std::memcpy(&fixed[16], &length, 8);
    std::memcpy(&fixed[24], &crc, 4);
    data = fixed.data();
    try {
      s = parse_checkpoint(data, size, "fuzz.aigc");
    } catch (const Error&) {
      return 0;
    }
  }
  // A file that parses is canonical: writing it back gives the same bytes.
  const std::vector<std::uint8_t> again = serialize_checkpoint(s);
  if (again.size() != size || std::memcmp(again.data(), data, size) != 0) std::abort();
  // Loading into a small model checks names, types and shapes of whatever the file holds.
  static Rng rng(0);
  static Sequential<float> net = [] {
    Sequential<float> n;
    n.set_name("net");
    n.emplace<Dense<float>>("fc1", 2, 3, rng);
    return n;
  }();
  static Adam<float> adam(net.params());
  try {
    load_params(s, net.params());
    load_optimizer(s, adam);
    load_rng(s, "rng", rng);
  } catch (const Error&) {
  }
  // The model file loader builds whatever architecture the file describes, within the values
  // the file holds; a model that loads saves to a state that loads again.
  try {
    ModelFile<float> model = parse_model<float>(s);
    StateDict again_state = model_state(*model.module, model.metadata);
    again_state.source = "fuzz-again.aigc";
    parse_model<float>(again_state);
  } catch (const Error&) {
  }
  return 0;
}
