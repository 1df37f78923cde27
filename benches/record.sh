#!/usr/bin/env bash
# Runs a bench command RUNS times and prints, before each run, what a published figure needs
# besides its output: the commit, the date and time (UTC), the machine and its load average.
#
#   benches/record.sh [-n RUNS] COMMAND [ARGS...]
#
# For example, from the repository root:
#   cargo build --release -p benches
#   benches/record.sh -n 3 cargo run --release -p benches --bin sched_scenarios
#   benches/record.sh -n 3 cargo run --release -p benches --bin seal_bench
#   benches/record.sh -n 3 benches/wal-three-appenders.sh
# Build first: a build during the first run would raise the load the later runs report.
set -euo pipefail

runs=1
if [ "${1:-}" = -n ]; then
  runs=${2:-}
  shift 2 || true
fi
case "$runs" in "" | *[!0-9]*) echo "record.sh: -n takes a number" >&2; exit 2 ;; esac
if [ $# -eq 0 ]; then
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
  exit 2
fi

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit+uncommitted"
echo "# commit $commit; $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(uname -r)"
echo "# command: $*"
for i in $(seq 1 "$runs"); do
  echo "# run $i/$runs $(date -u '+%Y-%m-%d %H:%M:%S UTC') load $(cut -d' ' -f1-3 /proc/loadavg)"
  "$@"
done
echo "# done $(date -u '+%Y-%m-%d %H:%M:%S UTC') load $(cut -d' ' -f1-3 /proc/loadavg)"
