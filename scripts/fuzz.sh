#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, AddressSanitizer + UBSan) and runs each for a fixed time
# on its seed corpus (tests/fuzz/corpus/<target>); new inputs go to build/fuzz/corpus-<target>,
# crashes to build/fuzz/artifacts/ (AIGC_FUZZ_BUILD changes build/fuzz). Usage: scripts/fuzz.sh [seconds per target, default 60]
# [targets...]. Exits non-zero when a target finds a crash.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(idx checkpoint image)
cxx="${AIGC_FUZZ_CXX:-$(command -v clang++-14 || command -v clang++)}"
dir="${AIGC_FUZZ_BUILD:-build/fuzz}"
cmake -S . -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DAIGC_BUILD_FUZZERS=ON -DAIGC_BUILD_TESTS=OFF -DAIGC_BUILD_EXAMPLES=OFF > /dev/null
cmake --build "$dir" -j"$(nproc)" --target $(printf 'fuzz_%s ' "${targets[@]}")
mkdir -p "$dir/artifacts"
# The targets run side by side, each for the whole time (on 2 cores, three share them).
pids=()
for t in "${targets[@]}"; do
  mkdir -p "$dir/corpus-$t"
  echo "== fuzz_$t for ${seconds}s (log: $dir/fuzz_$t.log) =="
  "$dir/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=25 \
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/$t-" \
    "$dir/corpus-$t" "tests/fuzz/corpus/$t" > "$dir/fuzz_$t.log" 2>&1 &
  pids+=($!)
done
status=0
for i in "${!targets[@]}"; do
  t="${targets[$i]}"
  log="$dir/fuzz_$t.log"
  if wait "${pids[$i]}"; then
    echo "fuzz_$t: $(grep -E '^Done [0-9]+ runs' "$log" || true); no crash"
  else
    status=1
    echo "fuzz_$t: FAILED, see $log and $dir/artifacts/:" >&2
    grep -m 5 -E 'ERROR|SUMMARY|runtime error' "$log" >&2 || true
  fi
  grep -E '^stat::number_of_executed_units' "$log" || true
done
exit $status
