// libFuzzer target: the PNG and JPEG decoders and the resize to a model's input on arbitrary bytes.
// Every input must be decoded or refused with an aigc::Error naming the file. PNG chunks carry
// CRCs that random mutations almost never keep right, so each PNG input is also decoded with its
// CRCs recomputed, which lets the fuzzer reach the image data.
#include <zlib.h>

#include <aigc/data/image_folder.hpp>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

const std::string fuzz_name = "fuzz-input.png";

void fuzz_decode(const std::uint8_t* data, std::size_t size) {
  aigc::DecodeLimits limits;
  limits.max_pixels = std::uint64_t{1} << 20;  // larger images only cost the fuzzer time
  try {
    const aigc::DecodedImage img = aigc::decode_image(data, size, fuzz_name, limits);
    const std::size_t n = static_cast<std::size_t>(img.width) * img.height * img.channels;
    if (img.width <= 0 || img.height <= 0 || img.channels < 1 || img.channels > 4 ||
        img.pixels.size() != n) {
      std::abort();
    }
    for (int channels : {1, 3}) {
      aigc::ImageFolderOptions o;
      o.channels = channels;
      o.image_size = 9;
      std::vector<std::uint8_t> out(static_cast<std::size_t>(channels * 81));
      aigc::prepare_image(img, o, out.data(), fuzz_name);
    }
  } catch (const aigc::Error& e) {
    if (std::string(e.what()).rfind(fuzz_name + ": ", 0) != 0) std::abort();
  }
}

// The input with every PNG chunk's CRC recomputed (as far as the chunks' lengths hold).
std::vector<std::uint8_t> fix_png_crcs(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> b(data, data + size);
  std::size_t at = 8;
  while (at + 12 <= b.size()) {
    const std::uint32_t len =
        static_cast<std::uint32_t>(b[at]) << 24 | b[at + 1] << 16 | b[at + 2] << 8 | b[at + 3];
    if (len > b.size() - at - 12) break;
    const std::uint32_t crc = static_cast<std::uint32_t>(crc32(0, b.data() + at + 4, len + 4));
    for (int i = 0; i < 4; ++i)
      b[at + 8 + len + i] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
    at += 12 + len;
  }
  return b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz_decode(data, size);
  if (aigc::sniff_image_format(data, size) == aigc::ImageFormat::png) {
    const std::vector<std::uint8_t> fixed = fix_png_crcs(data, size);
    fuzz_decode(fixed.data(), fixed.size());
  }
  return 0;
}
