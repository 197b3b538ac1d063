#!/usr/bin/env bash
# Generates the API reference with Doxygen (docs/Doxyfile) into build/docs/html. Fails on any
# warning, undocumented public types and functions included (aigc::detail is left out).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh doxygen
out=build/docs
# Configure only, to generate aigc/version.hpp from project(VERSION).
cmake -S . -B "$out/cmake" -DAIGC_BUILD_TESTS=OFF -DAIGC_BUILD_EXAMPLES=OFF > /dev/null
export AIGC_DOCS_OUT="$out" AIGC_DOCS_WARNINGS="$out/warnings.log"
export AIGC_VERSION_INCLUDE="$out/cmake/include"
export AIGC_VERSION_HEADER="$AIGC_VERSION_INCLUDE/aigc/version.hpp"
AIGC_VERSION="$(sed -n 's/^#define AIGC_VERSION_STRING "\(.*\)"/\1/p' "$AIGC_VERSION_HEADER")"
export AIGC_VERSION
rm -rf "$out/html" "$out/warnings.log"
mkdir -p "$out"
status=0
doxygen docs/Doxyfile || status=$?
if [ -s "$out/warnings.log" ]; then
  cat "$out/warnings.log" >&2
  echo "docs: $(wc -l < "$out/warnings.log") line(s) of Doxygen warnings, see above" >&2
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "docs: doxygen failed ($status)" >&2
  exit "$status"
fi
echo "docs: $(pwd)/$out/html/index.html"
