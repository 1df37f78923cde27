#!/usr/bin/env bash
# The same docker CLI commands against dockerd in swarm mode and against `swarmd --runtime
# docker` on the same engine, one line per step with both times:
#
#   step=create_20 docker_ms=... ours_ms=...               20 services created with --detach, until all run
#   step=rolling_update_20_par5 docker_ms=... ours_ms=...  one service of 20 replicas updated with
#                                                          --update-parallelism 5 --update-delay 0s, until converged
#   step=scale_to_50 docker_ms=... ours_ms=...             that service scaled to 50, until 50/50
#   step=stack_deploy_nerddinner docker_ms=... ours_ms=... docker stack deploy of the NerdDinner compose
#                                                          files, until every replica runs
#
#   benches/engine-api/side-by-side.sh
#
# Needs: the docker CLI, an engine (DOCKER_HOST, default unix:///var/run/docker.sock; .ci/docker-up
# starts one), the static busybox (Debian busybox-static) and swarmd (SWARMD, default
# target/release/swarmd: `cargo build --release -p swarm-mode-swarmd`). The engine must not be in
# swarm mode already: the script runs `docker swarm init` on it and `docker swarm leave --force` at
# the end. Images: one stand-in built FROM scratch from the static busybox (it stays up until
# SIGTERM), tagged with each NerdDinner image name; no registry is used (--no-resolve-image,
# --resolve-image never on both sides). Services are removed between steps (not timed), and the
# next step waits until their containers are gone. A step that does not converge within
# STEP_LIMIT_S (default 300) prints `timeout` for that side.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
fixtures="$repo/swarm-core/tests/fixtures/nerddinner"
engine="${DOCKER_HOST:-unix:///var/run/docker.sock}"
swarmd="${SWARMD:-$repo/target/release/swarmd}"
step_limit_s="${STEP_LIMIT_S:-300}"
standin="swarmd-standin"
export DOCKER_BUILDKIT=0

say() { echo "side-by-side: $*" >&2; }
die() { say "$*"; exit 1; }

command -v docker >/dev/null || die "no docker CLI"
[ -x "$swarmd" ] || die "no swarmd at $swarmd (cargo build --release -p swarm-mode-swarmd, or set SWARMD)"
[ -f /bin/busybox ] || die "no static busybox at /bin/busybox (install busybox-static)"
docker -H "$engine" info >/dev/null 2>&1 || die "no engine answers at $engine (run .ci/docker-up)"
state="$(docker -H "$engine" info --format '{{.Swarm.LocalNodeState}}')"
[ "$state" = inactive ] || die "the engine is in swarm mode already ($state): not touching it"

work="$(mktemp -d)"
swarmd_pid=""
cleanup() {
  if [ -n "$swarmd_pid" ]; then kill "$swarmd_pid" 2>/dev/null || true; wait "$swarmd_pid" 2>/dev/null || true; fi
  docker -H "$engine" swarm leave --force >/dev/null 2>&1 || true
  ids="$(docker -H "$engine" ps -aq --filter label=com.swarm.namespace=swarmd-side-by-side)"
  [ -z "$ids" ] || docker -H "$engine" rm -f $ids >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The stand-in image, tagged with every NerdDinner name.
cp /bin/busybox "$work/busybox"
cat >"$work/Dockerfile" <<'EOF'
FROM scratch
ADD busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENTRYPOINT ["/bin/sh", "-c", "echo stand-in up; trap 'exit 0' TERM; while :; do sleep 1; done", "stand-in"]
EOF
docker -H "$engine" build -q -t "$standin:a" "$work" >/dev/null 2>&1 || die "building the stand-in failed"
docker -H "$engine" tag "$standin:a" "$standin:b"
for image in $(grep -h 'image:' "$fixtures"/docker-compose.yml "$fixtures"/new-homepage.yml | awk '{print $2}'); do
  docker -H "$engine" tag "$standin:a" "$image"
done

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# until_ok CLI CHECK...: polls CHECK (a function of the CLI prefix) until it succeeds; 1 on timeout.
until_ok() {
  local deadline=$(($(date +%s) + step_limit_s))
  while ! "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# all_replicated CLI: every service shows n/n (and there is at least one).
all_replicated() {
  local out
  out="$($1 service ls --format '{{.Replicas}}' 2>/dev/null)" || return 1
  [ -n "$out" ] || return 1
  ! echo "$out" | awk -F'[/ ]' '$1 != $2 { bad = 1 } END { exit !bad }'
}

# converged CLI SERVICE IMAGE N: N tasks desired running, all running IMAGE.
converged() {
  local out
  out="$($1 service ps "$2" --filter desired-state=running --format '{{.Image}} {{.CurrentState}}' 2>/dev/null)" || return 1
  [ "$(echo "$out" | grep -c "^$3 Running")" -eq "$4" ] && [ "$(echo "$out" | wc -l)" -eq "$4" ]
}

engine_empty() {
  [ -z "$(docker -H "$engine" ps -aq --filter label=com.docker.swarm.service.id)" ] &&
    [ -z "$(docker -H "$engine" ps -aq --filter label=com.swarm.managed=true)" ]
}

remove_all() {
  local cli="$1" ids
  ids="$($cli service ls -q)"
  [ -z "$ids" ] || $cli service rm $ids >/dev/null
  until_ok engine_empty || say "containers still on the engine after ${step_limit_s}s"
}

# steps CLI SIDE: runs the four steps, writing SIDE's times to $work/SIDE.
steps() {
  local cli="$1" side="$2" t
  : >"$work/$side"
  record() { echo "$1 $2" >>"$work/$side"; }

  # Secrets, configs and the network the stack expects (not timed).
  $cli network create --driver overlay nd-swarm >/dev/null
  for c in nerd-dinner-api-config nerd-dinner-config; do
    $cli config create "$c" "$fixtures/configs/$c.json" >/dev/null
  done
  $cli secret create nerd-dinner-secrets "$fixtures/secrets/nerd-dinner-secrets.json" >/dev/null
  $cli secret create nerd-dinner-save-handler-secrets "$fixtures/secrets/save-handler-secrets.json" >/dev/null
  $cli secret create nerd-dinner-api-secrets "$fixtures/secrets/nerd-dinner-api-secrets.json" >/dev/null
  $cli secret create nerd-dinner-db-sa-password "$fixtures/secrets/nerd-dinner-db-sa-password.txt" >/dev/null
  for s in docker-client-ca docker-client-cert docker-client-key; do
    echo "-----BEGIN CERTIFICATE-----" | $cli secret create "$s" - >/dev/null
  done

  t=$(now_ms)
  for i in $(seq 1 20); do
    $cli service create --detach --no-resolve-image --name "bench-$i" "$standin:a" >/dev/null
  done
  if until_ok all_replicated "$cli"; then record create_20 $(($(now_ms) - t)); else record create_20 timeout; fi
  remove_all "$cli"

  $cli service create --detach --no-resolve-image --name roll --replicas 20 "$standin:a" >/dev/null
  until_ok converged "$cli" roll "$standin:a" 20 || say "$side: roll never reached 20 running"
  t=$(now_ms)
  $cli service update --detach --no-resolve-image --update-parallelism 5 --update-delay 0s \
    --image "$standin:b" roll >/dev/null
  if until_ok converged "$cli" roll "$standin:b" 20; then
    record rolling_update_20_par5 $(($(now_ms) - t))
  else
    record rolling_update_20_par5 timeout
  fi

  t=$(now_ms)
  $cli service scale --detach roll=50 >/dev/null
  if until_ok converged "$cli" roll "$standin:b" 50; then record scale_to_50 $(($(now_ms) - t)); else record scale_to_50 timeout; fi
  remove_all "$cli"

  t=$(now_ms)
  $cli stack deploy --resolve-image never -c "$fixtures/docker-compose.yml" \
    -c "$fixtures/docker-compose.swarm.yml" nerd-dinner >/dev/null 2>&1
  if until_ok all_replicated "$cli"; then
    record stack_deploy_nerddinner $(($(now_ms) - t))
  else
    record stack_deploy_nerddinner timeout
  fi
  $cli stack rm nerd-dinner >/dev/null
  until_ok engine_empty || say "containers still on the engine after ${step_limit_s}s"
  $cli network rm nd-swarm >/dev/null 2>&1 || true
}

# dockerd in swarm mode.
say "dockerd: swarm init"
docker -H "$engine" swarm init --advertise-addr 127.0.0.1 >/dev/null
steps "docker -H $engine" docker
docker -H "$engine" swarm leave --force >/dev/null
say "dockerd: left the swarm"

# swarmd --runtime docker on the same engine.
sock="$work/swarmd.sock"
"$swarmd" --runtime docker --docker-host "$engine" --socket "$sock" --data-dir "$work/swarmd" \
  --listen-addr 127.0.0.1:0 --hostname side-by-side 2>"$work/swarmd.log" &
swarmd_pid=$!
until_ok test -S "$sock" || die "swarmd did not open $sock"
say "swarmd: swarm init"
docker -H "unix://$sock" swarm init --advertise-addr 127.0.0.1 >/dev/null
steps "docker -H unix://$sock" ours
docker -H "unix://$sock" swarm leave --force >/dev/null

while read -r step ms; do
  echo "step=$step docker_ms=$ms ours_ms=$(awk -v s="$step" '$1 == s { print $2 }' "$work/ours")"
done <"$work/docker"
