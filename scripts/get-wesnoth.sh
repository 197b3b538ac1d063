#!/usr/bin/env bash
# Installs Debian's wesnoth-1.16-data (about 146 MB of game data; not one of the README's two
# commands and not used by CI) and prints the folder of unit sprites, one subfolder per faction:
# the colour image folder of the docs and benchmarks. Usage: scripts/get-wesnoth.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh wesnoth-1.16-data
units=/usr/share/games/wesnoth/1.16/data/core/images/units
if [ ! -d "$units" ]; then
  echo "get-wesnoth: wesnoth-1.16-data is installed but $units does not exist" >&2
  exit 1
fi
echo "$units"
