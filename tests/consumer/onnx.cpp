// A user's program on aigc::onnx (find_package(aigc COMPONENTS onnx)): exports a small generator as
// ONNX and checks the file with onnx::checker.
#include <aigc/aigc.hpp>
#include <aigc/export/onnx.hpp>
#include <cstdio>

int main() {
  aigc::Rng rng(1);
  auto g = aigc::make_mlp_generator<float>(8, 16, rng);
  aigc::GenerativeModelInfo info;
  info.latent = 8;
  info.image_shape = {1, 4, 4};
  aigc::export_onnx("consumer.onnx", *g, info);
  onnx::checker::check_model(std::string("consumer.onnx"));
  std::printf("aigc::onnx: consumer.onnx written and checked\n");
  return 0;
}
