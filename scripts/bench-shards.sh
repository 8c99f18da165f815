#!/usr/bin/env bash
# What a cross-shard call costs when the clients share the server's cores: cascade with
# one shard and with the default (one per core), side by side with redis-server without
# persistence, under redis-benchmark on the same machine.
#
#   scripts/bench-shards.sh [--rounds R] [-n REQUESTS] [--tests set,get] [--shards 1,2]
#
# CASCADE_BIN names the server binary (default: build/cascade-server, built first).
# For each round, each test and each of: redis-server (save "", appendonly no), then
# cascade-server (appendfsync everysec) at each shard count in --shards, started one at a
# time on a spare 127.0.0.1 port in its own temporary directory and stopped before the
# next: a warm-up of 20,000 requests, then redis-benchmark -t TEST -r 100000 -c 50 -n
# REQUESTS, unpipelined and with -P 16. The server's CPU time (utime + stime from
# /proc/PID/stat) over the timed run gives its CPU per request. The table gives the
# median ops/s and CPU per request over the rounds, and each row's ops/s over
# redis-server's. Defaults: 3 rounds, -n 200000 (x5 with -P 16), tests set,get, shards
# 1 and the core count.
#
# With random keys, half of a client's commands name a key of the other shard when there
# are two; each such call wakes the other shard's thread and then the caller's. When
# redis-benchmark takes a core of two, the two shard threads sleep and wake around it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=3
REQUESTS=200000
TESTS=set,get
SHARD_COUNTS="1,$(nproc)"
while (($#)); do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    -n) REQUESTS=$2; shift 2 ;;
    --tests) TESTS=$2; shift 2 ;;
    --shards) SHARD_COUNTS=$2; shift 2 ;;
    *) echo "bench-shards: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [[ -z ${CASCADE_BIN:-} ]]; then  # the tests pass the binary they built
  ./scripts/build.sh >/dev/null
  CASCADE_BIN=$PWD/build/cascade-server
fi
REDIS_BIN=$(command -v redis-server)
command -v redis-benchmark >/dev/null || { echo "bench-shards: redis-benchmark not found" >&2; exit 1; }

work=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start NAME: starts the server NAME ("redis" or "shards-N") and sets pid and port.
start() {
  local name=$1 dir
  dir=$(mktemp -d "$work/$name.XXXX")
  port=$(free_port)
  if [[ $name == redis ]]; then
    "$REDIS_BIN" --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" >/dev/null 2>&1 &
  else
    "$CASCADE_BIN" --port "$port" --bind 127.0.0.1 --dir "$dir" --appendfsync everysec \
      --shards "${name#shards-}" >/dev/null 2>&1 &
  fi
  pid=$!
  for _ in $(seq 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "bench-shards: $name did not start" >&2
  exit 1
}

stop() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

# run NAME TEST PIPELINE: appends "NAME TEST P ops/s cpu_us_per_request" to results.
run() {
  local name=$1 test=$2 p=$3 n=$REQUESTS c0 c1 ops
  ((p > 1)) && n=$((REQUESTS * 5))
  start "$name"
  redis-benchmark -p "$port" -t "$test" -r 100000 -c 50 -n 20000 -P "$p" -q >/dev/null 2>&1
  c0=$(cpu_ticks)
  ops=$(redis-benchmark -p "$port" -t "$test" -r 100000 -c 50 -n "$n" -P "$p" --csv 2>/dev/null |
        tail -1 | cut -d, -f2 | tr -d '"')
  c1=$(cpu_ticks)
  stop
  local hz
  hz=$(getconf CLK_TCK)
  echo "$name $test $p $ops $(awk -v a="$c0" -v b="$c1" -v n="$n" -v hz="$hz" \
                               'BEGIN {printf "%.2f", (b - a) * 1e6 / hz / n}')" >>"$work/results"
}

servers=(redis)
IFS=, read -ra counts <<<"$SHARD_COUNTS"
for s in "${counts[@]}"; do servers+=("shards-$s"); done
IFS=, read -ra tests <<<"$TESTS"
for ((round = 1; round <= ROUNDS; ++round)); do
  for test in "${tests[@]}"; do
    for p in 1 16; do
      for name in "${servers[@]}"; do run "$name" "$test" "$p"; done
    done
  done
  echo "bench-shards: round $round done" >&2
done

/usr/bin/python3 - "$work/results" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'EOF'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
print(f"redis-benchmark -r 100000 -c 50; {sys.argv[2]} cores, load average {sys.argv[3]} at the end; "
      "medians over the rounds; cascade appendfsync everysec, redis-server without persistence")
print()
print("| test | -P | server | ops/s | server CPU per request (µs) | ops/s vs redis-server |")
print("|---|---:|---|---:|---:|---:|")
keys = []
for name, test, p, _, _ in rows:
    if (test, p, name) not in keys:
        keys.append((test, p, name))
def med(test, p, name, col):
    return statistics.median(float(r[col]) for r in rows if r[0] == name and r[1] == test and r[2] == p)
for test, p, name in keys:
    ops = med(test, p, name, 3)
    base = med(test, p, "redis", 3)
    label = "redis-server" if name == "redis" else f"cascade, {name.split('-')[1]} shard(s)"
    print(f"| {test.upper()} | {p} | {label} | {ops:,.0f} | {med(test, p, name, 4):.2f} | {ops / base:.2f} |")
EOF
