#!/usr/bin/env bash
# Three single WAL appenders at once on one disk, each in its own process: what the three members
# of store_bench do for every write at 1 in flight (each member syncs its own log on the same disk).
#
#   benches/wal-three-appenders.sh [--seconds N] [--dir DIR] [--cipher none|chacha20]
#
# Runs `wal_bench --appenders 1` three times in parallel (the binary that
# `cargo run --release -p benches --bin wal_bench` runs) and prints their three lines. DIR is the
# directory the logs are written under (default: $TMPDIR or /tmp); it must be on the disk to measure.
set -euo pipefail

args=(--appenders 1)
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds | --dir | --cipher) args+=("$1" "$2"); shift 2 ;;
    *)
      awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
      exit 2
      ;;
  esac
done

cd "$(dirname "$0")/.."
wal_bench=$(cargo build --release -p benches --bin wal_bench --message-format json-render-diagnostics |
  sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
[ -x "$wal_bench" ] || { echo "wal-three-appenders.sh: the build produced no wal_bench" >&2; exit 1; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
pids=()
for i in 1 2 3; do
  "$wal_bench" "${args[@]}" > "$out/$i" &
  pids+=("$!")
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
cat "$out/1" "$out/2" "$out/3"
exit "$status"
