#!/usr/bin/env bash
# Checks aigc's ONNX export against ONNX Runtime (a check to run, not part of CI: the runtime
# package is about 300 MB). Installs Node.js and npm (Debian packages, when missing) and npm's
# onnxruntime-node into build/check-onnx/node (npm install --ignore-scripts: the CPU runtime ships
# in the package, the install script only fetches GPU parts), then:
#   1. the VAE decoder, the MLP generator, the 28x28 and 64x64 DCGAN generators, the cGAN
#      generator and the CVAE decoder (randomly initialised; BatchNorm statistics of a few
#      training-mode batches), exported and run by aigc and by ONNX Runtime on the same codes and
#      labels at batch 1 and 64: a table of the max absolute / relative differences (tolerance
#      1e-4) and of both sampling times;
#   2. unless AIGC_CHECK_CGAN=0: the cGAN example trained for AIGC_CGAN_EPOCHS (default 5: after
#      one epoch its samples do not follow the labels yet, and both accuracies are chance) epochs
#      on Fashion-MNIST (or the model file AIGC_CGAN_MODEL, when set), 1000 samples (100 per class)
#      drawn by aigc and by ONNX Runtime, each set scored by aigc-evaluate's classifier against
#      the requested classes.
# Usage: scripts/check_onnx.sh [build folder, default build/check-onnx/build]
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
work="$root/build/check-onnx"
build="${1:-$work/build}"
deps=(libonnx-dev libprotobuf-dev)
command -v node > /dev/null || deps+=(nodejs)
command -v npm > /dev/null || deps+=(npm)
scripts/install-deps.sh "${deps[@]}"

mkdir -p "$work/node"
if [ ! -d "$work/node/node_modules/onnxruntime-node" ]; then
  (cd "$work/node" && { [ -f package.json ] || echo '{"name": "aigc-check-onnx", "private": true}' > package.json; } &&
     npm install --ignore-scripts --no-audit --no-fund onnxruntime-node)
fi

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DAIGC_BUILD_TESTS=ON \
  -DAIGC_BUILD_EXAMPLES=ON -DAIGC_TEST_CONSUMERS=OFF > /dev/null
nice -n 19 cmake --build "$build" -j"$(nproc)" --target onnx_reference cgan evaluate
export NODE_PATH="$work/node/node_modules"

echo "== aigc vs ONNX Runtime: six models, batch 1 and 64 =="
rm -rf "$work/models"
"$build/tests/onnx_reference" "$work/models"
status=0
node scripts/check_onnx.js "$work/models" --tolerance 1e-4 || status=$?

if [ "${AIGC_CHECK_CGAN:-1}" != 0 ]; then
  echo "== the trained cGAN: class accuracy of aigc's and ONNX Runtime's samples =="
  out="$work/cgan"
  rm -rf "$out"
  model="${AIGC_CGAN_MODEL:-}"
  if [ -z "$model" ]; then
    "$build/examples/cgan" --epochs "${AIGC_CGAN_EPOCHS:-5}" --out "$out" --fid-samples 10 \
      > "$work/cgan.log"
    tail -n 3 "$work/cgan.log"
    model="$out/generator.aigc"
  fi
  "$build/tests/onnx_reference" --model "$model" --n 1000 "$out/check"
  node scripts/check_onnx.js "$out/check" --tolerance 1e-4 --write-outputs || status=$?
  "$build/tests/onnx_reference" --to-idx "$out/check/trained-1000-ort.f32" 1,28,28 symmetric \
    "$out/check/trained-1000-ort.idx"
  for who in aigc ort; do
    echo "-- samples of $who:"
    "$build/examples/evaluate" "$out/check/trained-1000-$who.idx" \
      --labels "$out/check/trained-1000-labels.idx" --reference none | grep -i "accuracy"
  done
fi
exit $status
