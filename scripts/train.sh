#!/usr/bin/env bash
# The main job: installs what is missing, builds the examples (-march=native, Release),
# trains the VAE on Fashion-MNIST and writes its images. Extra arguments go to the trainer,
# e.g. scripts/train.sh --epochs 3.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DAIGC_NATIVE=ON \
      -DAIGC_BUILD_EXAMPLES=ON -DAIGC_BUILD_TESTS=OFF > /dev/null
cmake --build build/release -j"$(nproc)"
out="${AIGC_OUT:-out/vae}"
build/release/examples/vae --out "$out" "$@"
echo "images: $(pwd)/$out/samples.png and $(pwd)/$out/reconstructions.png"
