#!/usr/bin/env bash
# Compile time of a consumer's translation unit, before and after, in one run: compiles the same
# TUs against a base source tree and against this working tree in turns (base, new, base, new, ...)
# so that the machine's drift hits both alike, and prints every run and the medians.
# Usage: benchmarks/compile_time.sh <base source dir> [rounds, default 5]
#   e.g. git worktree add --detach /tmp/aigc-base 5336675
#        benchmarks/compile_time.sh /tmp/aigc-base 7
# The TUs: one holding only '#include <aigc/aigc.hpp>' and an empty main, and each tree's own
# examples/getting_started/main.cpp (a whole trainer: what a consumer really compiles).
# Flags: ${CXX:-g++} -std=c++20 -O2 ${CXXFLAGS} -c, with the include folders the installed package
# gives (the tree's include/, a generated aigc/version.hpp, Eigen's from pkg-config).
set -euo pipefail
cd "$(dirname "$0")/.."
base="$(cd "${1:?usage: benchmarks/compile_time.sh <base source dir> [rounds]}" && pwd)"
rounds="${2:-5}"
cxx="${CXX:-g++}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
eigen="$(pkg-config --cflags eigen3 2> /dev/null || echo -I/usr/include/eigen3)"
version="$(sed -n 's/^project(aigc VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)"
printf '#include <aigc/aigc.hpp>\nint main() {}\n' > "$work/include_only.cpp"
for side in base new; do
  tree="$PWD"
  [ "$side" = base ] && tree="$base"
  mkdir -p "$work/$side/aigc"
  IFS=. read -r major minor patch <<< "$version"
  sed -e "s/@PROJECT_VERSION_MAJOR@/$major/; s/@PROJECT_VERSION_MINOR@/$minor/" \
      -e "s/@PROJECT_VERSION_PATCH@/$patch/; s/@PROJECT_VERSION@/$version/" \
      "$tree/include/aigc/version.hpp.in" > "$work/$side/aigc/version.hpp"
done
echo "# $cxx -std=c++20 -O2 ${CXXFLAGS:-} -c TU -I<tree>/include -I<generated version.hpp> $eigen"
echo "# $("$cxx" --version | sed -n 1p); $(nproc) cores; base $base; new $PWD"
echo "# seconds: wall (user+sys)"
for tu in include_only getting_started; do
  for r in $(seq "$rounds"); do
    for side in base new; do
      tree="$PWD"
      [ "$side" = base ] && tree="$base"
      src="$work/include_only.cpp"
      [ "$tu" = getting_started ] && src="$tree/examples/getting_started/main.cpp"
      # shellcheck disable=SC2086  # the flags are words
      /usr/bin/time -f "%e %U %S" -o "$work/time" "$cxx" -std=c++20 -O2 ${CXXFLAGS:-} -c "$src" \
        -o /dev/null -I"$tree/include" -I"$work/$side" $eigen
      read -r wall user sys < "$work/time"
      cpu="$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')"
      echo "$tu $side $wall ($cpu)" | tee -a "$work/runs.txt"
    done
  done
done
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for tu in include_only getting_started; do
  b="$(awk -v t="$tu" '$1 == t && $2 == "base" { print $3 }' "$work/runs.txt" | median)"
  n="$(awk -v t="$tu" '$1 == t && $2 == "new" { print $3 }' "$work/runs.txt" | median)"
  awk -v t="$tu" -v b="$b" -v n="$n" \
    'BEGIN { printf "median %s: base %.2f s, new %.2f s, new / base %.2f\n", t, b, n, n / b }'
done
