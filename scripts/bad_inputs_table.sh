#!/usr/bin/env bash
# Runs tests/examples/bad_inputs.sh on every example program and writes their tables (input, exit
# code, message) to build/robustness/bad-inputs.md (docs/robustness.md describes them).
# Usage: scripts/bad_inputs_table.sh [build folder, default build/dev]   (the examples built there)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/dev}"
mkdir -p build/robustness
tables=build/robustness/bad-inputs.md
: > "$tables"
status=0
for example in vae gan cgan dcgan cvae train_classifier evaluate; do
  exe="$build/examples/$example"
  [ -x "$exe" ] || { echo "$exe: not built (cmake --build $build --target $example)" >&2; exit 1; }
  echo "running bad_inputs.sh on $example" >&2
  {
    echo "### $example"
    echo
    tests/examples/bad_inputs.sh "$exe" 2>&1 || status=1
    echo
  } >> "$tables"
done
echo "wrote $tables" >&2
exit "$status"
