#!/usr/bin/env bash
# Checks that every C++ file under include/, examples/, tests/ and benchmarks/ is formatted as
# .clang-format says (clang-format --dry-run -Werror); lists the files that are not.
# With --fix, formats them in place instead.
set -euo pipefail
cd "$(dirname "$0")/.."
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
format="$(command -v clang-format-14 || command -v clang-format)"
mapfile -t files < <(git ls-files -- include examples tests benchmarks |
                       grep -E '\.(hpp|cpp|h|cc)$')
if [ "${1:-}" = --fix ]; then
  "$format" -i "${files[@]}"
  exit 0
fi
if "$format" --dry-run -Werror "${files[@]}" 2> "$log"; then
  echo "clang-format: ${#files[@]} files formatted as .clang-format says"
else
  echo "clang-format: these files differ from .clang-format (scripts/check_format.sh --fix):" >&2
  grep -oE '^[^:]+\.(hpp|cpp|h|cc|in):' "$log" | sort -u | sed 's/:$//; s/^/  /' >&2
  exit 1
fi
