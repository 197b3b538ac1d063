#!/usr/bin/env bash
# Trains every example trainer at its default epochs and scores its samples with examples/evaluate
# (FID in the FID classifier's feature space; class accuracy of the conditional models' samples):
# the table of docs/evaluation.md. Writes out/eval/<model>/ and out/eval/scores.csv.
# THREADS (default 2) is passed to every program.
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${THREADS:-2}"
data=/usr/share/datasets/fashion-mnist
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DAIGC_NATIVE=ON \
      -DAIGC_BUILD_EXAMPLES=ON -DAIGC_BUILD_TESTS=OFF > /dev/null
cmake --build build/release -j"$(nproc)" --target vae gan dcgan cgan cvae evaluate
bin=build/release/examples
out=out/eval
mkdir -p "$out"
score() { "$bin/evaluate" --threads "$threads" --reference both --csv "$out/scores.csv" "$@"; }

score "$data/t10k-images-idx3-ubyte.gz" --labels "$data/t10k-labels-idx1-ubyte.gz"
for model in vae gan dcgan cgan cvae; do
  "$bin/$model" --threads "$threads" --out "$out/$model"
done
score "$out/vae/samples.idx.gz"
score "$out/gan/samples.idx.gz"
score "$out/dcgan/samples.idx.gz"
score "$out/cgan/samples.idx.gz" --labels "$out/cgan/samples-labels.idx.gz"
score "$out/cvae/samples.idx.gz" --labels "$out/cvae/samples-labels.idx.gz"
