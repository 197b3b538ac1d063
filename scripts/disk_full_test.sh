#!/usr/bin/env bash
# Disk-full test (needs root, for mount): trains the VAE example with its checkpoints on a 6 MiB
# tmpfs. The first checkpoint (~3.9 MB at --hidden 200) fits; the second cannot (its temporary
# file and the first do not fit together), so the run must stop with a clear error, and the
# first checkpoint must still be there, intact and loadable.
# Usage: scripts/disk_full_test.sh <vae binary>
set -uo pipefail
vae="$1"
work="$(mktemp -d /tmp/aigc-diskfull.XXXXXX)"
mnt="$work/small"
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=6m tmpfs "$mnt" 2> /dev/null; then
  echo "disk-full test skipped: cannot mount a tmpfs (not root?)"
  rm -rf "$work"
  exit 0
fi
trap 'umount "$mnt"; rm -rf "$work"' EXIT
flags=(--limit 512 --batch-size 128 --hidden 200 --threads 1)
"$vae" "${flags[@]}" --out "$work/out" --checkpoint-dir "$mnt" --epochs 3 > "$work/log" 2>&1
rc=$?
err="$(grep 'error' "$work/log")"
echo "exit $rc: $err"
ls -l "$mnt"
ok=yes
[ "$rc" -ne 0 ] || { echo "FAILED: the run did not stop" >&2; ok=no; }
[[ "$err" == *"No space left on device"* ]] || { echo "FAILED: no ENOSPC message" >&2; ok=no; }
first="$mnt/vae-000000000004.aigc"
if "$vae" "${flags[@]}" --verify "$first"; then :; else echo "FAILED: $first does not verify" >&2; ok=no; fi
if ls "$mnt"/*.tmp > /dev/null 2>&1; then echo "FAILED: a temporary file was left" >&2; ok=no; fi
[ "$ok" = yes ] && echo "disk-full test: passed (clear error, previous checkpoint intact)"
[ "$ok" = yes ]
