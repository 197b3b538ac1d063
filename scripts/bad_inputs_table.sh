#!/usr/bin/env bash
# Regenerates the tables of docs/robustness.md: runs tests/examples/bad_inputs.sh on every example
# program and puts each one's table (input, exit code, message) between the markers of the page.
# Usage: scripts/bad_inputs_table.sh [build folder, default build/dev]   (the examples built there)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/dev}"
page=docs/robustness.md
tables="$(mktemp)"
trap 'rm -f "$tables"' EXIT
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
awk -v tables="$tables" '
  /<!-- bad inputs: begin -->/ { print; while ((getline line < tables) > 0) print line; skip = 1; next }
  /<!-- bad inputs: end -->/ { skip = 0 }
  !skip' "$page" > "$page.new"
mv "$page.new" "$page"
echo "wrote $page" >&2
exit "$status"
