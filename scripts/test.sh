#!/usr/bin/env bash
# Builds and runs the test suite twice: with -march=native and without (portable x86-64),
# both with -Wall -Wextra -Wpedantic -Werror. The example trainers (and the tests that run them)
# and the consumer-project tests (packaging) are built once, in the native variant: they exercise
# the flags, files and build system, while the portable variant exists for the library's code
# paths without AVX, which the unit tests cover. With AIGC_SANITIZE_STAGE=1, then a third time
# under AddressSanitizer and UndefinedBehaviorSanitizer (portable; every unit test but the
# allocation tests, whose malloc replacement ASan cannot share a process with; the examples'
# tests but the DCGAN's resume run; no consumer builds), and each libFuzzer target briefly
# (AIGC_FUZZ_SECONDS, default 30; 0 skips them). That stage is opt-in: its build alone took 12 and
# 21 minutes in two runs on 2 cores, beyond this suite's 10-minute budget (docs/robustness.md).
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
        -DAIGC_TEST_CONSUMERS=$native -DAIGC_BUILD_TESTS=ON -DAIGC_BUILD_EXAMPLES=$native > /dev/null
  cmake --build "$dir" -j"$jobs"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs"
done

if [ "${AIGC_SANITIZE_STAGE:-0}" != 1 ]; then
  echo "== sanitizer and fuzz stage skipped (AIGC_SANITIZE_STAGE=1 runs it) =="
  exit 0
fi

scripts/install-deps.sh clang-14 libclang-rt-14-dev  # the libFuzzer targets
echo "== aigc tests (ASan+UBSan) =="
dir="build/test-sanitize"
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DAIGC_NATIVE=OFF -DAIGC_SANITIZE=ON \
      -DAIGC_TEST_CONSUMERS=OFF -DAIGC_BUILD_TESTS=ON -DAIGC_BUILD_EXAMPLES=ON > /dev/null
cmake --build "$dir" -j"$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir "$dir" --output-on-failure -j"$jobs"

fuzz_seconds="${AIGC_FUZZ_SECONDS:-30}"
if [ "$fuzz_seconds" -gt 0 ]; then
  if command -v clang++-14 > /dev/null || command -v clang++ > /dev/null; then
    echo "== fuzzing, ${fuzz_seconds} s per target =="
    scripts/fuzz.sh "$fuzz_seconds"
  else
    echo "== fuzzing skipped: no clang++ (install clang-14 libclang-rt-14-dev) =="
  fi
fi
