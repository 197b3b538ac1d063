#!/usr/bin/env bash
# Installs the Debian packages aigc needs that are not installed yet (apt-get update once).
# Usage: scripts/install-deps.sh [extra packages...]
set -euo pipefail
packages=(cmake g++ make libeigen3-dev libxsimd-dev catch2 libstb-dev zlib1g-dev libpng-dev
          libjpeg62-turbo-dev libcli11-dev dataset-fashion-mnist "$@")
missing=()
for p in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$p" 2> /dev/null || true)"
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "aigc: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q "${missing[@]}"
