#!/usr/bin/env bash
# Side-by-side server benchmark: cascade-server against Debian's redis-server, in one run,
# with redis-benchmark, and tables of the results (markdown, on stdout).
#
#   scripts/bench.sh [--quick] [-c CLIENTS] [--seconds S] [--shards N]   the side-by-side report
#   scripts/bench.sh big [--quick]                            larger than memory, next to fio
#
# Servers, started one at a time on a spare 127.0.0.1 port, each in its own temporary
# directory (under $TMPDIR), and stopped (by the pid this script started) before the next:
#   cascade always      appendfsync always: a write is acknowledged once its WAL is synced
#   cascade everysec    appendfsync everysec
#   redis always        appendonly yes, appendfsync always
#   redis everysec      appendonly yes, appendfsync everysec
#   redis none          no persistence at all (save "", appendonly no)
# cascade runs its default shard count (one per core) unless --shards N says otherwise;
# redis-server is one thread. On a 2-core machine redis-benchmark needs one of the cores,
# so --shards 1 gives each server one core's worth of threads. Both allow 11000 clients
# (the 10,000 idle connections below, and the benchmark's own).
#
# The report, for each server in turn:
#  1. Memory: VmRSS (/proc/PID/status) before and after loading 1M keys of 64-byte values
#     (key:000000000000 ..., pipelined SETs from scripts/bench_clients.py), DBSIZE and
#     INFO used_memory after the load; then VmRSS before and after 10,000 idle clients have
#     connected and had a PING answered. Each reading is the median of three 0.5 s apart.
#  2. Throughput: redis-benchmark -c CLIENTS, once without pipelining and once with -P 16,
#     SET GET INCR MSET with 64-byte values over the 1M loaded keys (-r 1000000, so GET
#     always finds its key), then 100,000 keys of 4 KiB are loaded and SET GET MSET run
#     with -d 4096 -r 100000. INCR has no value size and runs once. MSET sets 10 keys per
#     command; its ops/s are commands. Each row first probes its rate with a short run
#     (growing 10x until the probe lasts 0.5 s, at most 4 probes), then runs -n rate x S
#     requests (S = --seconds, default 3), so a row lasts a few seconds whatever the
#     server's speed: the whole default run takes 10-15 minutes on the 2-core machine
#     (15.5 minutes on 2026-12-05 at load average ~20; big mode: 2.5 minutes).
# Tables: ops/s, p50 and p99 (ms, redis-benchmark --csv), the ratio of cascade's ops/s to
# redis-server's at the same durability (always with always, everysec with everysec) and
# to redis-server without persistence; the memory per key and per connection, and their
# ratio to redis-server without persistence.
#
# big: cascade alone with a 64 MiB block cache in total (--block-cache-size 32mb on each of
# its 2 shards) and 16 MiB memtables, loaded with 500,000 keys of 4 KiB incompressible
# values (2 GB, 4 connections of pipelined SETs, everysec; the load's keys/s and MB/s are
# reported), then random GETs over the loaded keys (redis-benchmark -t get -r 500000
# -c 50, without and with -P 16, each lasting ~10 s), next to fio's 4 KiB random reads at
# queue depth 32 (--direct=1, io_uring) on a file as large as the data set in the same
# directory. Reported: ops/s, p99, the GETs' ratio to fio's IOPS (the aim is >= 0.70), the
# bytes the server read from the disk per GET (/proc/PID/io read_bytes: the reads do go to
# the disk) and the block cache's hit ratio. Both the tables' and the value log's reads are
# O_DIRECT (engine/table_cache.cc, engine/vlog/value_log.cc), so the page cache serves
# none; a value of at most 64 KiB is kept in the block cache once read. All data is
# deleted at the end.
#
# --quick (either mode): tiny sizes, -n 400, no probes, and a server's tests of one value
# size and pipeline depth in one redis-benchmark run: a smoke test of this script
# (tests/integration/test_bench_script.py), not a measurement. Benchmarks are never
# assertions.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CASCADE_BIN="${CASCADE_BIN:-$ROOT/build/cascade-server}"
REDIS_BIN="${REDIS_BIN:-$(command -v redis-server || true)}"
BENCH_BIN="${REDIS_BENCHMARK:-$(command -v redis-benchmark || true)}"
FIO_BIN="${FIO:-$(command -v fio || true)}"
CLIENTS_PY=("/usr/bin/python3" "$ROOT/scripts/bench_clients.py")

MODE=default
QUICK=0
CLIENTS=50
SHARDS=""                # empty: cascade's default (one shard per core)
ROW_SECONDS=3
MEMORY_KEYS=1000000      # 64-byte keys loaded before the memory readings and the 64 B rows
IDLE_CONNECTIONS=10000
LARGE_KEYS=100000        # 4 KiB keys loaded before the 4 KiB rows
SETTLE_S=0.5
BIG_KEYS=500000
BIG_CACHE_PER_SHARD=32mb
BIG_MEMTABLE=16mb
BIG_SECONDS=10
FIO_SECONDS=15
QUICK_REQUESTS=400
BENCH_TIMEOUT_S=180      # one redis-benchmark run; a row is sized to last ~ROW_SECONDS

while (($#)); do
  case "$1" in
    big) MODE=big; shift ;;
    --quick)
      QUICK=1; CLIENTS=10; MEMORY_KEYS=10000; IDLE_CONNECTIONS=100; LARGE_KEYS=1000
      SETTLE_S=0.05; BIG_KEYS=2000; BIG_CACHE_PER_SHARD=1mb; BIG_MEMTABLE=1mb
      FIO_SECONDS=1; shift ;;
    -c) CLIENTS="$2"; shift 2 ;;
    --shards) SHARDS="$2"; shift 2 ;;
    --seconds) ROW_SECONDS="$2"; BIG_SECONDS="$2"; shift 2 ;;
    -h|--help) sed -n '2,55p' "$0"; exit 0 ;;
    *) echo "bench: unknown argument $1" >&2; exit 2 ;;
  esac
done

need=("$CASCADE_BIN" "$BENCH_BIN")
[[ $MODE == default ]] && need+=("$REDIS_BIN")
[[ $MODE == big ]] && need+=("$FIO_BIN")
for tool in "${need[@]}"; do
  if [[ -z "$tool" || ! -x "$tool" ]]; then
    echo "bench: missing ${tool:-a tool} (build first; scripts/setup.sh installs redis, fio)" >&2
    exit 2
  fi
done

# shellcheck source=scripts/bench-lib.sh
source "$ROOT/scripts/bench-lib.sh"
bench_init cascade-bench

load_average() { cut -d' ' -f1-3 /proc/loadavg; }


start_server() {  # name port dir
  local name="$1" port="$2" dir="$3"
  mkdir -p "$dir"
  local common=(--port "$port" --bind 127.0.0.1 --dir "$dir" --maxclients 11000)
  case "$name" in
    cascade-always|cascade-everysec)
      local wal=()
      ((QUICK)) && wal=(--wal-segment-size 4mb --wal-segments 2)
      local shards=()
      [[ -n $SHARDS ]] && shards=(--shards "$SHARDS")
      "$CASCADE_BIN" "${common[@]}" --appendonly yes --appendfsync "${name#cascade-}" \
        "${shards[@]}" "${wal[@]}" >"$dir/server.log" 2>&1 &
      ;;
    cascade-big)
      local wal=()
      ((QUICK)) && wal=(--wal-segment-size 4mb --wal-segments 2)
      "$CASCADE_BIN" "${common[@]}" --shards 2 --appendonly yes --appendfsync everysec \
        --block-cache-size "$BIG_CACHE_PER_SHARD" --memtable-size "$BIG_MEMTABLE" \
        "${wal[@]}" >"$dir/server.log" 2>&1 &
      ;;
    redis-always|redis-everysec)
      "$REDIS_BIN" "${common[@]}" --save "" --appendonly yes \
        --appendfsync "${name#redis-}" >"$dir/server.log" 2>&1 &
      ;;
    redis-none)
      "$REDIS_BIN" "${common[@]}" --save "" --appendonly no >"$dir/server.log" 2>&1 &
      ;;
  esac
  SERVER_PID=$!
  if ! wait_ready "$port"; then
    echo "bench: $name did not start:" >&2
    cat "$dir/server.log" >&2
    exit 1
  fi
}

# One redis-benchmark run of one or more tests (comma-separated); prints a line
# "TEST,rps,p50_ms,p99_ms" for each (MSET's "MSET (10 keys)" shortened to MSET). Bounded:
# redis-benchmark retries a lost server forever, so a run past BENCH_TIMEOUT_S is killed,
# failing the script.
benchmark() {  # port tests value_size keyspace pipeline requests
  local port="$1" tests="$2" size="$3" keyspace="$4" pipeline="$5" requests="$6"
  timeout --kill-after=5 "$BENCH_TIMEOUT_S" "$BENCH_BIN" -h 127.0.0.1 -p "$port" \
    -t "$tests" -d "$size" -r "$keyspace" -c "$CLIENTS" -P "$pipeline" -n "$requests" \
    --csv 2>/dev/null |
    tr -d '"' | awk -F, 'NR > 1 { sub(/ .*/, "", $1); print $1 "," $2 "," $5 "," $7 }'
}

# The -n that makes this row last about `seconds`, from probes that grow 10x until one
# lasts 0.5 s (at most 4).
requests_for() {  # port test value_size keyspace pipeline seconds
  local port="$1" test="$2" size="$3" keyspace="$4" pipeline="$5" seconds="$6"
  local n=$((4 * CLIENTS * pipeline)) rps=0
  for _ in 1 2 3 4; do
    rps="$(benchmark "$port" "$test" "$size" "$keyspace" "$pipeline" "$n" | cut -d, -f2)"
    if awk -v n="$n" -v r="$rps" 'BEGIN { exit !(r > 0 && n / r >= 0.5) }'; then break; fi
    n=$((n * 10))
  done
  awk -v r="$rps" -v s="$seconds" -v n="$n" \
    'BEGIN { m = int(r * s); if (m < n) m = n; if (m > 20000000) m = 20000000; print m }'
}

RESULTS="$WORK/results.csv"
MEMORY="$WORK/memory.csv"

# A row per test in `tests`, each with its own -n from requests_for; --quick: one
# redis-benchmark run of them all with -n QUICK_REQUESTS (one process instead of one per
# test keeps the smoke test short).
run_rows() {  # server port tests value_size keyspace pipeline
  local server="$1" port="$2" tests="$3" size="$4" keyspace="$5" pipeline="$6"
  local out test n
  if ((QUICK)); then
    out="$(benchmark "$port" "$tests" "$size" "$keyspace" "$pipeline" "$QUICK_REQUESTS" |
      sed "s/^/$QUICK_REQUESTS,/")"
  else
    out=""
    for test in ${tests//,/ }; do
      n="$(requests_for "$port" "$test" "$size" "$keyspace" "$pipeline" "$ROW_SECONDS")"
      out+="$n,$(benchmark "$port" "$test" "$size" "$keyspace" "$pipeline" "$n")"$'\n'
    done
  fi
  # Every test must have printed its row: "n,TEST,rps,p50,p99".
  local expected="${tests^^}" got
  got="$(awk -F, 'NF == 5 { printf "%s%s", sep, $2; sep = "," }' <<<"$out")"
  if [[ "$got" != "$expected" ]]; then
    echo "bench: redis-benchmark -t $tests against $server printed rows for '$got'" >&2
    exit 1
  fi
  awk -F, -v prefix="$server,$size,$pipeline" 'NF == 5 {
    print prefix "," $2 "," $1 "," $3 "," $4 "," $5 }' <<<"$out" >>"$RESULTS"
}

run_server() {
  local name="$1" port dir pipeline memory
  port="$(free_port)"
  dir="$WORK/$name"
  start_server "$name" "$port" "$dir"
  memory="$("${CLIENTS_PY[@]}" memory "$SERVER_PID" "$port" "$MEMORY_KEYS" \
    "$IDLE_CONNECTIONS" --settle "$SETTLE_S")"
  echo "$name,$memory" >>"$MEMORY"
  for pipeline in 1 16; do
    run_rows "$name" "$port" set,get,incr,mset 64 "$MEMORY_KEYS" "$pipeline"
  done
  "${CLIENTS_PY[@]}" load "$port" "$LARGE_KEYS" 4096 >/dev/null
  for pipeline in 1 16; do
    run_rows "$name" "$port" set,get,mset 4096 "$LARGE_KEYS" "$pipeline"
  done
  stop_server
  rm -rf "$dir"
  echo "bench: $name done (load average $(load_average))" >&2
}

default_mode() {
  echo "server,size,pipeline,test,requests,rps,p50,p99" >"$RESULTS"
  echo "server,rss_before,rss_loaded,dbsize,used_memory,rss_conns_before,rss_conns_after,connections" >"$MEMORY"
  local started per_row="~${ROW_SECONDS} s per row"
  ((QUICK)) && per_row="-n $QUICK_REQUESTS per row"
  started="$(load_average)"
  for name in cascade-always cascade-everysec redis-always redis-everysec redis-none; do
    run_server "$name"
  done
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -r); load average" \
    "$started at the start, $(load_average) at the end; redis-benchmark -c $CLIENTS," \
    "$per_row; 64 B rows over $MEMORY_KEYS keys, 4 KiB rows over $LARGE_KEYS;" \
    "cascade --shards ${SHARDS:-$(nproc) (default)}"
  echo
  /usr/bin/python3 - "$RESULTS" "$MEMORY" <<'EOF'
import csv, sys

rows = list(csv.DictReader(open(sys.argv[1])))
rps = {(r["server"], r["size"], r["pipeline"], r["test"]): float(r["rps"]) for r in rows}

def ratio(a, b):
    return f"{a / b:.2f}" if b else "-"

print("| server | value | pipeline | test | ops/s | p50 ms | p99 ms | vs redis same durability | vs redis none |")
print("|---|---|---|---|---:|---:|---:|---:|---:|")
for r in rows:
    key = (r["size"], r["pipeline"], r["test"])
    server, ops = r["server"], float(r["rps"])
    same = none = "-"
    if server.startswith("cascade-"):
        peer = "redis-" + server[len("cascade-"):]
        same = ratio(ops, rps.get((peer,) + key, 0))
        none = ratio(ops, rps.get(("redis-none",) + key, 0))
    value = "4 KiB" if r["size"] == "4096" else r["size"] + " B"
    print(f"| {server} | {value} | {r['pipeline']} | {r['test']} | {ops:,.0f} | {r['p50']} "
          f"| {r['p99']} | {same} | {none} |")

MiB = 1 << 20
memory = list(csv.DictReader(open(sys.argv[2])))
per_key, per_conn = {}, {}
for m in memory:
    keys, conns = int(m["dbsize"]), int(m["connections"])
    per_key[m["server"]] = (int(m["rss_loaded"]) - int(m["rss_before"])) / max(keys, 1)
    per_conn[m["server"]] = (int(m["rss_conns_after"]) - int(m["rss_conns_before"])) / max(conns, 1)
print()
print("| server | keys (DBSIZE) | RSS empty MiB | RSS loaded MiB | used_memory MiB | RSS bytes/key "
      "| idle connections | RSS bytes/connection | bytes/key vs redis none | bytes/connection vs redis none |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for m in memory:
    s = m["server"]
    print(f"| {s} | {int(m['dbsize']):,} | {int(m['rss_before']) / MiB:.1f} "
          f"| {int(m['rss_loaded']) / MiB:.1f} | {int(m['used_memory']) / MiB:.1f} "
          f"| {per_key[s]:.0f} | {int(m['connections']):,} | {per_conn[s]:.0f} "
          f"| {ratio(per_key[s], per_key.get('redis-none', 0))} "
          f"| {ratio(per_conn[s], per_conn.get('redis-none', 0))} |")
EOF
}

info_field() {  # port section field
  redis-cli -p "$1" info "$2" | tr -d '\r' | awk -F: -v f="$3" '$1 == f { print $2 }'
}

disk_read_bytes() { awk '$1 == "read_bytes:" { print $2 }' "/proc/$1/io"; }

# Waits (at most 5 minutes) until the loaded server's compactions have caught up, so the
# reads measure reads and not reads competing with the load's compaction backlog.
wait_compactions() {
  local port="$1"
  for _ in $(seq 1 300); do
    [[ "$(info_field "$port" storage storage_pending_compaction_bytes)" == 0 ]] && return 0
    sleep 1
  done
  echo "bench: compactions still pending after 5 minutes; reading anyway" >&2
}

big_mode() {
  local port dir started load_row keys seconds bytes dbsize data_bytes
  port="$(free_port)"
  dir="$WORK/big"
  started="$(load_average)"
  start_server cascade-big "$port" "$dir"
  load_row="$("${CLIENTS_PY[@]}" load "$port" "$BIG_KEYS" 4096 --random)"
  IFS=, read -r keys seconds bytes <<<"$load_row"
  wait_compactions "$port"
  dbsize="$(redis-cli -p "$port" dbsize)"
  if [[ "$dbsize" != "$BIG_KEYS" ]]; then
    echo "bench: loaded $BIG_KEYS keys but DBSIZE is $dbsize" >&2
    exit 1
  fi
  # The data set: the tables and the value log's live bytes (the directory also holds the
  # WAL's preallocated segments, which no read touches).
  data_bytes=$(($(info_field "$port" storage storage_sst_bytes) +
    $(info_field "$port" storage storage_vlog_live_bytes)))

  local reads=() pipeline n row read_before read_after hit_ratio
  for pipeline in 1 16; do
    n="$QUICK_REQUESTS"
    ((QUICK)) || n="$(requests_for "$port" get 4096 "$BIG_KEYS" "$pipeline" "$BIG_SECONDS")"
    read_before="$(disk_read_bytes "$SERVER_PID")"
    row="$(benchmark "$port" get 4096 "$BIG_KEYS" "$pipeline" "$n" | cut -d, -f2-)"
    read_after="$(disk_read_bytes "$SERVER_PID")"
    if [[ -z "$row" ]]; then
      echo "bench: redis-benchmark -t get -P $pipeline printed no result" >&2
      exit 1
    fi
    reads+=("$pipeline,$n,$row,$((read_after - read_before))")
  done
  hit_ratio="$(info_field "$port" storage storage_block_cache_hit_ratio)"
  stop_server

  # fio on a file as large as the data set, in the same directory, then nothing is left.
  local fio_size=$((data_bytes / (1 << 20)))M fio_json="$WORK/fio.json"
  "$FIO_BIN" --name=randread --filename="$dir/fio.dat" --size="$fio_size" --rw=randread \
    --bs=4k --iodepth=32 --ioengine=io_uring --direct=1 --runtime="$FIO_SECONDS" \
    --time_based --output-format=json --output="$fio_json" >/dev/null
  rm -rf "$dir"

  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -r); load average" \
    "$started at the start, $(load_average) at the end; cascade --shards 2" \
    "--block-cache-size $BIG_CACHE_PER_SHARD (per shard) --memtable-size $BIG_MEMTABLE," \
    "appendfsync everysec; $dbsize keys of 4 KiB," \
    "$((data_bytes / (1 << 20))) MiB of tables and live value log"
  echo
  /usr/bin/python3 - "$fio_json" "$CLIENTS" "$keys" "$seconds" "$bytes" "$hit_ratio" \
    "${reads[@]}" <<'EOF'
import json, sys

fio_json, clients, keys, seconds, nbytes, hit_ratio = sys.argv[1:7]
job = json.load(open(fio_json))["jobs"][0]["read"]
fio_iops = job["iops"]
fio_p99 = job["clat_ns"]["percentile"]["99.000000"] / 1e6
keys, seconds, nbytes = int(keys), float(seconds), int(nbytes)

print("| workload | ops/s | MB/s | p50 ms | p99 ms | vs fio IOPS | disk bytes read per op |")
print("|---|---:|---:|---:|---:|---:|---:|")
print(f"| load: SET of {keys:,} x 4 KiB, 4 connections pipelined | {keys / seconds:,.0f} "
      f"| {nbytes / seconds / 1e6:.1f} | - | - | - | - |")
for read in sys.argv[7:]:
    pipeline, n, rps, p50, p99, disk = read.split(",")
    rps = float(rps)
    label = f"random GET, -c {clients}" + ("" if pipeline == "1" else f" -P {pipeline}")
    print(f"| {label} | {rps:,.0f} | {rps * 4096 / 1e6:.1f} | {p50} | {p99} "
          f"| {rps / fio_iops:.2f} | {int(disk) / int(n):,.0f} |")
print(f"| fio 4 KiB randread, iodepth 32, direct | {fio_iops:,.0f} "
      f"| {job['bw_bytes'] / 1e6:.1f} | - | {fio_p99:.3f} | 1.00 "
      f"| {job['io_bytes'] / max(job['total_ios'], 1):,.0f} |")
print()
print(f"block cache hit ratio over the run (cascade's INFO): {float(hit_ratio):.3f}")
EOF
}

if [[ $MODE == big ]]; then big_mode; else default_mode; fi
