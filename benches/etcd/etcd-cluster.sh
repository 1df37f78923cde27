#!/usr/bin/env bash
# Start / stop a loopback-only etcd cluster (Debian etcd-server 3.4) for benchmarking.
# usage: etcd-cluster.sh start <members 1|3> <base_dir>   -> prints client endpoints, writes <base_dir>/pids
#        etcd-cluster.sh stop <base_dir>                  -> kills exactly the pids it started
# Everything listens on 127.0.0.1 only. Data dirs: <base_dir>/m<i>. etcd fsyncs WAL by default.
set -euo pipefail
cmd=${1:-}
case "$cmd" in
start)
  n=$2; base=$3
  mkdir -p "$base"; : > "$base/pids"
  cluster=""
  for i in $(seq 1 "$n"); do cluster+="m$i=http://127.0.0.1:$((23800+i)),"; done
  cluster=${cluster%,}
  eps=""
  for i in $(seq 1 "$n"); do
    rm -rf "$base/m$i"
    etcd --name "m$i" --data-dir "$base/m$i" \
      --listen-client-urls "http://127.0.0.1:$((23790+i))" --advertise-client-urls "http://127.0.0.1:$((23790+i))" \
      --listen-peer-urls "http://127.0.0.1:$((23800+i))" --initial-advertise-peer-urls "http://127.0.0.1:$((23800+i))" \
      --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "bench-$n" \
      --quota-backend-bytes $((8*1024*1024*1024)) --log-level warn \
      > "$base/m$i.log" 2>&1 &
    echo $! >> "$base/pids"
    eps+="http://127.0.0.1:$((23790+i)),"
  done
  eps=${eps%,}
  # wait for health
  for _ in $(seq 1 50); do
    if ETCDCTL_API=3 etcdctl --endpoints "$eps" endpoint health >/dev/null 2>&1; then break; fi
    sleep 0.2
  done
  echo "$eps"
  ;;
stop)
  base=$2
  pids=$(cat "$base/pids")
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  # A leader whose peers are gone waits to hand over leadership: give it 15 s, then SIGKILL.
  for _ in $(seq 1 75); do
    alive=""
    for p in $pids; do if kill -0 "$p" 2>/dev/null; then alive+="$p "; fi; done
    [ -n "$alive" ] || break
    sleep 0.2
  done
  for p in $alive; do kill -9 "$p" 2>/dev/null || true; done
  ;;
*)
  sed -n '3,4s/^# //p' "$0" >&2
  exit 2
  ;;
esac
