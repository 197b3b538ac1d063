#!/usr/bin/env bash
# Retrains the FID classifier (include/aigc/models/classifier.hpp) on Fashion-MNIST with a fixed
# seed and writes data/classifier-fmnist.bin (weights after every epoch) and
# out/classifier/metrics.csv. Same seed and thread count: the same weights.
# Extra arguments go to the trainer, e.g. scripts/train_classifier.sh --epochs 4.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DAIGC_NATIVE=ON \
      -DAIGC_BUILD_EXAMPLES=ON -DAIGC_BUILD_TESTS=OFF > /dev/null
cmake --build build/release --target train_classifier -j"$(nproc)"
build/release/examples/train_classifier --seed 0 --epochs 12 --weights data/classifier-fmnist.bin \
  --log out/classifier/metrics.csv "$@"
