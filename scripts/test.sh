#!/usr/bin/env bash
# The test suite, in four stages, each timed:
#   format    clang-format --dry-run -Werror over include/, examples/, tests/, benchmarks/
#   native    -march=native, -O3: the unit tests (with the ONNX export's, test_onnx), the consumer
#             projects built against the installed package (one of them exports ONNX through
#             aigc::onnx), and a check that each example's main.cpp compiles alone
#             (AIGC_EXAMPLES_CHECK_ONLY, -fsyntax-only; scripts/train.sh builds them as programs),
#             and the bfloat16 GEMM's tests again under ASan + UBSan (test_bf16_sanitized: the
#             portable stage has no AVX-512 BF16, so no bf16 micro-kernel)
#   portable  no -march (the x86-64 baseline, the code paths without AVX), -O1, under
#             AddressSanitizer + UndefinedBehaviorSanitizer: every unit test but the allocation
#             tests (their malloc replacement cannot share a process with ASan's), the example
#             programs and their tests (bad inputs, resume, the docs' code); one thread per test,
#             two tests at a time
#   fuzz      each libFuzzer target for AIGC_FUZZ_SECONDS (default 30; 0 skips the stage)
# The example programs are built once, in the portable stage, as one program
# (AIGC_EXAMPLES_AS_ONE, examples/all_in_one.cpp: the library's templates compiled once, not ten
# times).
# All with -Wall -Wextra -Wpedantic -Werror. AIGC_SANITIZE_STAGE=0 builds the portable stage
# without the sanitizers and skips the fuzz stage (a quicker local run); CI runs them all.
set -euo pipefail
cd "$(dirname "$0")/.."
# protoc: the event-file test decodes records with it; ninja: builds; clang: the fuzz targets;
# ONNX and protobuf: aigc::onnx, the ONNX export and its tests (test_onnx).
scripts/install-deps.sh protobuf-compiler ninja-build clang-format clang-14 libclang-rt-14-dev \
  libonnx-dev libprotobuf-dev libopenmpi-dev openmpi-bin
jobs="$(nproc)"
started=$SECONDS
stage_start=$SECONDS
stage_name=""
times=()
stage() {  # stage <name>: ends the current stage (recording its time) and starts the next
  if [ -n "$stage_name" ]; then times+=("$stage_name $((SECONDS - stage_start)) s"); fi
  stage_name="$1"
  stage_start=$SECONDS
  [ -n "$1" ] && echo "== $1 =="
  return 0
}
report() {
  stage ""
  echo "== stage times: ${times[*]/%/,} total $((SECONDS - started)) s =="
}
trap report EXIT

stage format
scripts/check_format.sh

build_and_test() {  # build_and_test <dir> <cmake options...>: configure, build, run ctest
  local dir="$1"
  shift
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DAIGC_BUILD_TESTS=ON \
    -DAIGC_EXAMPLES_AS_ONE=ON "$@" > /dev/null
  cmake --build "$dir" -j"$jobs"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs"
}

stage native
build_and_test build/test-native -DAIGC_NATIVE=ON -DAIGC_TEST_CONSUMERS=ON -DAIGC_BUILD_EXAMPLES=ON \
  -DAIGC_EXAMPLES_CHECK_ONLY=ON

sanitize="${AIGC_SANITIZE_STAGE:-1}"
if [ "$sanitize" = 0 ]; then
  stage portable
  build_and_test build/test-portable -DAIGC_NATIVE=OFF -DAIGC_TEST_CONSUMERS=OFF \
    -DAIGC_BUILD_EXAMPLES=ON
  exit 0
fi

stage "portable (ASan + UBSan)"
OMP_NUM_THREADS=1 ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  build_and_test build/test-sanitize -DAIGC_NATIVE=OFF -DAIGC_SANITIZE=ON \
  -DAIGC_TEST_CONSUMERS=OFF -DAIGC_BUILD_EXAMPLES=ON

fuzz_seconds="${AIGC_FUZZ_SECONDS:-30}"
if [ "$fuzz_seconds" -gt 0 ]; then
  stage "fuzz (${fuzz_seconds} s per target)"
  scripts/fuzz.sh "$fuzz_seconds"
fi
