#!/usr/bin/env bash
# Side-by-side server benchmark: cascade-server against Debian's redis-server, in one run,
# with redis-benchmark, and a table of the results.
#
#   scripts/bench.sh [--quick] [-n REQUESTS] [-r KEYSPACE] [-c CLIENTS]
#
# Servers, started one at a time on a spare 127.0.0.1 port, each in its own temporary
# directory (under $TMPDIR), and stopped (by the pid this script started) before the next:
#   cascade always      appendfsync always: a write is acknowledged once its WAL is synced
#   cascade everysec    appendfsync everysec
#   redis always        appendonly yes, appendfsync always
#   redis everysec      appendonly yes, appendfsync everysec
#   redis none          no persistence at all (save "", appendonly no)
# cascade runs its default shard count (one per core); redis-server is one thread.
#
# Workloads, against each server: redis-benchmark -t set,get -d 64 -r KEYSPACE -c CLIENTS
# -n REQUESTS, once without pipelining and once with -P 16 (SET runs first, so GET finds
# the keys SET wrote). Defaults: -n 200000, -r 1000000, -c 50. --quick: -n 1000, -r 10000,
# -c 10 and small WAL segments: a smoke test of this script (tests/integration), not a
# measurement.
#
# The table: ops/s, p50 and p99 latency (ms, from redis-benchmark --csv), and the ratio of
# cascade's ops/s to redis-server's at the same durability (always with always, everysec
# with everysec) and to redis-server without persistence. Benchmarks are never assertions.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CASCADE_BIN="${CASCADE_BIN:-$ROOT/build/cascade-server}"
REDIS_BIN="${REDIS_BIN:-$(command -v redis-server || true)}"
BENCH_BIN="${REDIS_BENCHMARK:-$(command -v redis-benchmark || true)}"
REQUESTS=200000
KEYSPACE=1000000
CLIENTS=50
QUICK=0

while (($#)); do
  case "$1" in
    --quick) QUICK=1; REQUESTS=1000; KEYSPACE=10000; CLIENTS=10; shift ;;
    -n) REQUESTS="$2"; shift 2 ;;
    -r) KEYSPACE="$2"; shift 2 ;;
    -c) CLIENTS="$2"; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "bench: unknown argument $1" >&2; exit 2 ;;
  esac
done

for tool in "$CASCADE_BIN" "$REDIS_BIN" "$BENCH_BIN"; do
  if [[ -z "$tool" || ! -x "$tool" ]]; then
    echo "bench: missing ${tool:-redis-server or redis-benchmark} (build first; apt install redis)" >&2
    exit 2
  fi
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cascade-bench.XXXXXX")"
SERVER_PID=""
stop_server() {
  if [[ -n "$SERVER_PID" ]]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 150); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
cleanup() {
  stop_server
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until the server answers PING; fails if it exits or takes more than 20 s.
wait_ready() {
  local port="$1"
  for _ in $(seq 1 200); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then return 1; fi
    if [[ "$(redis-cli -p "$port" ping 2>/dev/null)" == "PONG" ]]; then return 0; fi
    sleep 0.1
  done
  return 1
}

start_server() {  # name port dir
  local name="$1" port="$2" dir="$3"
  mkdir -p "$dir"
  case "$name" in
    cascade-always|cascade-everysec)
      local wal=()
      ((QUICK)) && wal=(--wal-segment-size 4mb --wal-segments 2)
      "$CASCADE_BIN" --port "$port" --bind 127.0.0.1 --dir "$dir" --appendonly yes \
        --appendfsync "${name#cascade-}" "${wal[@]}" >"$dir/server.log" 2>&1 &
      ;;
    redis-always|redis-everysec)
      "$REDIS_BIN" --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly yes \
        --appendfsync "${name#redis-}" >"$dir/server.log" 2>&1 &
      ;;
    redis-none)
      "$REDIS_BIN" --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no \
        >"$dir/server.log" 2>&1 &
      ;;
  esac
  SERVER_PID=$!
  if ! wait_ready "$port"; then
    echo "bench: $name did not start:" >&2
    cat "$dir/server.log" >&2
    exit 1
  fi
}

RESULTS="$WORK/results.csv"
echo "server,pipeline,test,rps,p50,p99" >"$RESULTS"

run_server() {
  local name="$1" port dir
  port="$(free_port)"
  dir="$WORK/$name"
  start_server "$name" "$port" "$dir"
  for pipeline in 1 16; do
    "$BENCH_BIN" -h 127.0.0.1 -p "$port" -t set,get -d 64 -r "$KEYSPACE" -c "$CLIENTS" \
      -n "$REQUESTS" -P "$pipeline" --csv 2>/dev/null |
      /usr/bin/python3 -c '
import csv, sys
name, pipeline = sys.argv[1], sys.argv[2]
for row in csv.DictReader(sys.stdin):
    fields = [row[k] for k in ("test", "rps", "p50_latency_ms", "p99_latency_ms")]
    print(",".join([name, pipeline] + fields))
' "$name" "$pipeline" >>"$RESULTS"
  done
  stop_server
  echo "bench: $name done" >&2
}

for name in cascade-always cascade-everysec redis-always redis-everysec redis-none; do
  run_server "$name"
done

echo "redis-benchmark -t set,get -d 64 -r $KEYSPACE -c $CLIENTS -n $REQUESTS; $(nproc) cores"
/usr/bin/python3 - "$RESULTS" <<'EOF'
import csv, sys

rows = list(csv.DictReader(open(sys.argv[1])))
rps = {(r["server"], r["pipeline"], r["test"]): float(r["rps"]) for r in rows}

def ratio(a, b):
    return f"{a / b:.2f}" if b else "-"

print("| server | pipeline | test | ops/s | p50 ms | p99 ms | vs redis same durability | vs redis none |")
print("|---|---|---|---:|---:|---:|---:|---:|")
for r in rows:
    server, pipeline, test = r["server"], r["pipeline"], r["test"]
    ops = float(r["rps"])
    same = none = "-"
    if server.startswith("cascade-"):
        peer = "redis-" + server[len("cascade-"):]
        same = ratio(ops, rps.get((peer, pipeline, test), 0))
        none = ratio(ops, rps.get(("redis-none", pipeline, test), 0))
    print(f"| {server} | {pipeline} | {test} | {ops:,.0f} | {r['p50']} | {r['p99']} | {same} | {none} |")
EOF
