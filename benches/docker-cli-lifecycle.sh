#!/usr/bin/env bash
# The Docker CLI doing what docker_bench's `lifecycle` scenario does through the adapter: one
# container at a time created, started, waited for (exit 0) and removed, COUNT times (default 20).
#
#   benches/docker-cli-lifecycle.sh [COUNT]
#
# Needs the engine and the test image that .ci/docker-up starts and builds
# (swarm-test-busybox:latest). Prints the total and the time per container; run it right before or
# after `cargo run --release -p benches --bin docker_bench` to compare them in the same minutes.
set -euo pipefail

count=${1:-20}
case "$count" in "" | *[!0-9]*) echo "docker-cli-lifecycle.sh: COUNT is a number" >&2; exit 2 ;; esac
image=swarm-test-busybox:latest
docker image inspect "$image" >/dev/null || { echo "docker-cli-lifecycle.sh: no $image (run .ci/docker-up)" >&2; exit 1; }

start=$(date +%s.%N)
for _ in $(seq 1 "$count"); do
  docker run --rm --network none "$image" /bin/sh -c 'exit 0'
done
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v n="$count" \
  'BEGIN { printf "docker_cli lifecycle count=%d total_s=%.2f per_task_ms=%.0f\n", n, e - s, (e - s) * 1000 / n }'
