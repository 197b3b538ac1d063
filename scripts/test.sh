#!/usr/bin/env bash
# Builds and runs the test suite twice: with -march=native and without (portable x86-64),
# both with -Wall -Wextra -Wpedantic -Werror. The consumer-project tests (packaging) run once, in
# the native variant: they exercise the build system, not the generated code.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh protobuf-compiler  # protoc: the event-file test decodes records with it
jobs="$(nproc)"
for variant in native portable; do
  native=ON
  [ "$variant" = portable ] && native=OFF
  dir="build/test-$variant"
  echo "== aigc tests ($variant) =="
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DAIGC_NATIVE=$native \
        -DAIGC_TEST_CONSUMERS=$native -DAIGC_BUILD_TESTS=ON -DAIGC_BUILD_EXAMPLES=ON > /dev/null
  cmake --build "$dir" -j"$jobs"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs"
done
