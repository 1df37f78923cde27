#!/usr/bin/env bash
# swarm-store's store_bench side by side with etcd 3.4 on one machine, alternating, so that both
# are measured in the same minutes (absolute figures move with the machine; the ratio is the result).
#
#   benches/etcd/side-by-side.sh [--rounds N] [--pairs N] [--inflight LIST] [--no-reads]
#                                [--dir DIR] [--no-install] [--store-bench PATH]
#
# What it does, in order:
#  1. installs what it needs on Debian if missing (apt: etcd-server, etcd-client for etcdctl,
#     protobuf-compiler and libprotobuf-dev for the load generator's build), unless --no-install;
#  2. builds store_bench (`cargo build --release -p benches --bin store_bench`, the binary that
#     `cargo run --release -p benches --bin store_bench` runs) and the etcd load generator
#     (benches/etcd/etcd-bench, outside the workspace);
#  3. starts a 3-member etcd cluster on 127.0.0.1 (etcd-cluster.sh: fsync on, etcd's defaults),
#     finds its leader with etcdctl and keeps that cluster for the whole run;
#  4. --rounds N (default 4) rounds, each: etcd-bench puts at every level of --inflight
#     (`etcd-bench put LEADER C min(C,16) OPS 256`, OPS 8000 at 1 in flight, 20000 above), gets at
#     1 and 64 in flight, then one store_bench with `--inflight LIST` (a fresh 3-member cluster,
#     10 s or 20,000 operations per row, default StoreConfig, reads at 1 and 64 in flight);
#  5. --pairs N (default 6) more 1-in-flight pairs: `etcd-bench put LEADER 1 1 8000 256`, then
#     `store_bench --inflight 1 --no-reads`;
#  6. prints, for every pair, both lines and the ratio, then a summary per in-flight level.
# --store-bench PATH runs a store_bench built elsewhere instead of building this tree's, e.g. one
# of a commit before the layout move, where it was `cargo build --release -p swarm-mode-store
# --example store_bench` (target/release/examples/store_bench); the printed commit is then this
# tree's, not that binary's.
#
# The defaults are the runs behind the published store-vs-etcd figures (BENCHMARKS.md): 4 rounds
# at 1, 16, 64 and 256 in flight with reads, then 6 extra 1-in-flight pairs (ten in all).
# Both systems keep their data under DIR (default: a new directory under $TMPDIR or /tmp), so they
# sync to the same disk; on tmpfs the figures mean nothing and the script says so. DIR/etcd and
# DIR/store are removed at the end.
# Run it on an otherwise idle machine; the load average is printed before every run.
set -euo pipefail

rounds=4
pairs=6
inflight="1,16,64,256"
reads=1
install=1
dir=""
store_bench=""

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --pairs) pairs=$2; shift 2 ;;
    --inflight) inflight=$2; shift 2 ;;
    --no-reads) reads=0; shift ;;
    --dir) dir=$2; shift 2 ;;
    --no-install) install=0; shift ;;
    --store-bench) store_bench=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "side-by-side.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
case "$rounds$pairs" in *[!0-9]*) echo "side-by-side.sh: --rounds and --pairs take a number" >&2; exit 2 ;; esac
case "$inflight" in "" | *[!0-9,]* | ,* | *, | *,,*)
  echo "side-by-side.sh: --inflight takes a list like 1,64,256" >&2; exit 2 ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

# 1. What the run needs.
# etcd-client's build script compiles etcd's protos, which import protobuf's own (libprotobuf-dev).
protos=/usr/include/google/protobuf/descriptor.proto
if [ "$install" = 1 ] && ! { command -v etcd && command -v etcdctl && command -v protoc && [ -f "$protos" ]; } >/dev/null; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends \
    etcd-server etcd-client protobuf-compiler libprotobuf-dev
fi
for tool in etcd etcdctl protoc cargo; do
  command -v "$tool" >/dev/null || { echo "side-by-side.sh: $tool not found" >&2; exit 1; }
done

# 2. Build both load generators; the executables' paths come from cargo itself.
executable() { sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1; }
echo "# building store_bench and etcd-bench (release)" >&2
if [ -z "$store_bench" ]; then
  store_bench=$(cargo build --release -p benches --bin store_bench --message-format json-render-diagnostics | executable)
fi
etcd_bench=$(cargo build --release --manifest-path benches/etcd/etcd-bench/Cargo.toml \
  --message-format json-render-diagnostics | executable)
if [ ! -x "$store_bench" ] || [ ! -x "$etcd_bench" ]; then
  echo "side-by-side.sh: the build produced no binary" >&2
  exit 1
fi

# 3. One etcd cluster for the whole run, data beside store_bench's under one directory.
if [ -z "$dir" ]; then
  dir=$(mktemp -d "${TMPDIR:-/tmp}/side-by-side.XXXXXX")
else
  mkdir -p "$dir"
fi
dir=$(cd "$dir" && pwd)
mkdir -p "$dir/etcd" "$dir/store"
cleanup() {
  "$here/etcd-cluster.sh" stop "$dir/etcd" 2>/dev/null || true
  rm -rf "$dir/etcd" "$dir/store"
  rmdir "$dir" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fs=$(stat -f -c %T "$dir")
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit+uncommitted"
echo "# commit $commit, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(uname -r)"
echo "# $(etcd --version | head -n 1), $(rustc --version), data in $dir ($fs)"
[ "$fs" = tmpfs ] && echo "# WARNING: $dir is on tmpfs: fsync costs nothing there, pick a disk with --dir" >&2

eps=$("$here/etcd-cluster.sh" start 3 "$dir/etcd")
leader=$(ETCDCTL_API=3 etcdctl --endpoints "$eps" endpoint status | awk -F', ' '$5 == "true" { print $1 }')
[ -n "$leader" ] || { echo "side-by-side.sh: etcd cluster has no leader ($eps)" >&2; exit 1; }
echo "# etcd members $eps, leader $leader"
echo "# store_bench: $store_bench (TMPDIR=$dir/store)"

# Progress and load lines go to the output as they happen (fd 3), results are captured.
exec 3>&1
load() { cut -d' ' -f1-3 /proc/loadavg; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2" | head -n 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

run_etcd() { # mode clients -> one RESULT line
  local mode=$1 c=$2 conns=$2 ops=20000
  [ "$c" -gt 16 ] && conns=16
  [ "$c" = 1 ] && ops=8000
  echo "# $(date -u +%H:%M:%S) load $(load): etcd-bench $mode $leader $c $conns $ops 256" >&3
  "$etcd_bench" "$mode" "$leader" "$c" "$conns" "$ops" 256 | grep '^RESULT'
}
run_store() { # store_bench arguments -> its result lines
  echo "# $(date -u +%H:%M:%S) load $(load): store_bench $*" >&3
  TMPDIR="$dir/store" "$store_bench" "$@"
}

summary=""
pair() { # label kind(write|read) inflight etcd_line store_line
  local label=$1 kind=$2 c=$3 e=$4 s=$5
  local eo ep50 ep99 so sp50 sp99
  eo=$(field ops_per_s "$e"); ep50=$(field p50_us "$e"); ep99=$(field p99_us "$e")
  so=$(field ops_per_s "$s"); sp50=$(field p50_ms "$s"); sp99=$(field p99_ms "$s")
  echo "$label $kind inflight=$c"
  echo "  etcd:        $e"
  echo "  swarm-store: $s"
  echo "  ratio ops/s $(ratio "$so" "$eo")x, p50 $(ratio "$sp50" "$(awk -v u="$ep50" 'BEGIN { print u / 1000 }')")x, p99 $(ratio "$sp99" "$(awk -v u="$ep99" 'BEGIN { print u / 1000 }')")x (swarm-store / etcd)"
  summary+="$kind $c $so $eo $sp50 $(awk -v u="$ep50" 'BEGIN { print u / 1000 }') $sp99 $(awk -v u="$ep99" 'BEGIN { print u / 1000 }')"$'\n'
}

# 4. Full rounds.
levels=${inflight//,/ }
for r in $(seq 1 "$rounds"); do
  declare -A etcd_put=() etcd_get=()
  for c in $levels; do etcd_put[$c]=$(run_etcd put "$c"); done
  read_levels=""
  if [ "$reads" = 1 ]; then
    for c in $levels; do
      if [ "$c" = 1 ] || [ "$c" = 64 ]; then
        read_levels+="$c "
        etcd_get[$c]=$(run_etcd get "$c")
      fi
    done
    store_out=$(run_store --inflight "$inflight")
  else
    store_out=$(run_store --inflight "$inflight" --no-reads)
  fi
  for c in $levels; do
    pair "round $r/$rounds" write "$c" "${etcd_put[$c]}" "$(grep "^write inflight=$c " <<<"$store_out")"
  done
  for c in $read_levels; do
    pair "round $r/$rounds" read "$c" "${etcd_get[$c]}" "$(grep "^read inflight=$c " <<<"$store_out")"
  done
done

# 5. Extra 1-in-flight pairs.
for p in $(seq 1 "$pairs"); do
  e=$(run_etcd put 1)
  s=$(run_store --inflight 1 --no-reads)
  pair "pair $p/$pairs" write 1 "$e" "$(grep '^write inflight=1 ' <<<"$s")"
done

# 6. Summary per row: ratio range, median and aggregate (sum of both sides' ops/s) of the pairs.
echo
echo "# summary (swarm-store / etcd): ops/s ratio min-max, median, aggregate; p50 and p99 ratio min-max"
printf '%s' "$summary" | sort -k1,1 -k2,2n | awk '
  function flush() {
    if (n == 0) return
    m = (n % 2) ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
    printf "%s inflight=%s pairs=%d ops/s %.2f-%.2fx median %.2fx aggregate %.2fx p50 %.2f-%.2fx p99 %.2f-%.2fx\n",
      kind, c, n, r[1], r[n], m, so / eo, p50lo, p50hi, p99lo, p99hi
  }
  {
    if ($1 != kind || $2 != c) { flush(); kind = $1; c = $2; n = 0; so = 0; eo = 0 }
    x = ($4 > 0) ? $3 / $4 : 0; a = ($6 > 0) ? $5 / $6 : 0; b = ($8 > 0) ? $7 / $8 : 0
    # insertion sort of the ops/s ratios for the median
    i = n; while (i > 0 && r[i] > x) { r[i + 1] = r[i]; i-- } r[i + 1] = x; n++
    so += $3; eo += $4
    if (n == 1 || a < p50lo) p50lo = a; if (n == 1 || a > p50hi) p50hi = a
    if (n == 1 || b < p99lo) p99lo = b; if (n == 1 || b > p99hi) p99hi = b
  }
  END { flush() }'
