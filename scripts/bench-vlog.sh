#!/usr/bin/env bash
# Issue 5's value-log benchmark: cascade-bench with the value log against RocksDB's db_bench
# without blob files, one after the other (never at once: they would share the two cores),
# on the same workloads, and a side-by-side table.
#
#   scripts/bench-vlog.sh [--num N] [--reads N] [--value_size N] [--memtable_size BYTES]
#                         [--cache_size BYTES] [--db DIR] [--shards N] [--keep]
#                         [--level_base BYTES --file_size BYTES] [--separate_at_write 0|1]
#
# Phases, each run by both tools with the same flags (db_bench's names and meanings):
#   1. fillrandom,overwrite   --num ops each, no sync, fresh db (4 KiB values by default)
#   2. readrandom             --reads gets over phase 1's db
# cascade: values >= 512 bytes go to the value log (its GC runs inside compaction); RocksDB:
# every value in its tables (--enable_blob_files=0, the default). Otherwise as
# scripts/bench-engine.sh: keys 16 bytes, values compressible to half, zstd level 3, 10 bloom
# bits, the same block cache size and memtables, O_DIRECT for both.
#
# Write amplification = (WAL + tables + value log written) / (ops x (16 + value_size)) over
# phase 1, for RocksDB (WAL + flush + compaction bytes) from its statistics.
#
# --level_base and --file_size set level 1's target size and the table size for both tools
# (db_bench's --max_bytes_for_level_base and --target_file_size_base; defaults: each
# tool's own, 256 MiB and 32 MiB for cascade, 256 MiB and 64 MiB for RocksDB). Smaller
# ones give a short run the depth of a larger database, where write amplification is
# told apart: with --level_base 16 MiB, 1 GiB of tables spans four levels, as 16 GiB would
# with the defaults.
#
# --separate_at_write 0 has cascade log large values whole in its WAL and separate them at
# flush, as it did before it wrote them to the value log as they arrive (the default, 1).
#
# --shards N (default 1) runs cascade as the server does, one engine per core: N
# cascade-bench processes at once, each with its own engine directory, N-th of the keys
# (--num/N), N-th of the operations, N-th of the memtable and block cache budgets (the
# server splits them the same way), different seeds. Their rows are summed: ops/s = all
# operations / the slowest process's seconds, us/op its inverse (not a latency), p99 =
# the worst process's. db_bench
# runs as always: one process, whose flushes and compactions run on background threads
# beside its writer (it uses both cores too).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NUM=100000
READS=20000
VALUE_SIZE=4096
MEMTABLE_SIZE=$((64 << 20))
CACHE_SIZE=$((8 << 20))
DB="./bench-db"
KEEP=0
SHARDS=1
LEVEL_FLAGS=()
SEPARATE_AT_WRITE=1

while (($#)); do
  case "$1" in
    --num) NUM="$2"; shift 2 ;;
    --reads) READS="$2"; shift 2 ;;
    --value_size) VALUE_SIZE="$2"; shift 2 ;;
    --memtable_size) MEMTABLE_SIZE="$2"; shift 2 ;;
    --cache_size) CACHE_SIZE="$2"; shift 2 ;;
    --db) DB="$2"; shift 2 ;;
    --shards) SHARDS="$2"; shift 2 ;;
    --separate_at_write) SEPARATE_AT_WRITE="$2"; shift 2 ;;
    --level_base) LEVEL_FLAGS+=(--max_bytes_for_level_base="$2"); shift 2 ;;
    --file_size) LEVEL_FLAGS+=(--target_file_size_base="$2"); shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "bench-vlog: unknown argument $1" >&2; exit 2 ;;
  esac
done
((READS > NUM)) && READS=$NUM
if ! [[ "$SHARDS" =~ ^[1-9][0-9]*$ ]]; then
  echo "bench-vlog: --shards takes a positive integer, not '$SHARDS'" >&2
  exit 2
fi

DB_BENCH="$(command -v db_bench || command -v rocksdb_db_bench || true)"
if [[ -z "$DB_BENCH" ]]; then
  echo "bench-vlog: db_bench not found: run scripts/setup.sh (package rocksdb-tools)" >&2
  exit 1
fi
ninja -C "$ROOT/build" cascade-bench >/dev/null
CASCADE_BENCH="$ROOT/build/cascade-bench"

mkdir -p "$DB"
DB="$(cd "$DB" && pwd)"
LOGS="$DB/logs-vlog"
rm -rf "$DB/cascade" "$DB/rocksdb" "$LOGS"
mkdir -p "$LOGS"

COMMON=(--key_size=16 --value_size="$VALUE_SIZE" --compression_ratio=0.5 --histogram=1
  --cache_size="$CACHE_SIZE" "${LEVEL_FLAGS[@]}")
CASCADE_FLAGS=(--memtable_size="$MEMTABLE_SIZE" --enable_blob_files=1
  --min_blob_size=512 --separate_at_write="$SEPARATE_AT_WRITE")
ROCKSDB_FLAGS=(--db="$DB/rocksdb" --compression_type=zstd --compression_level=3
  --use_direct_reads=true --use_direct_io_for_flush_and_compaction=true
  --bloom_bits=10 --write_buffer_size="$MEMTABLE_SIZE" --max_write_buffer_number=3
  --enable_blob_files=false --statistics=1)

# One cascade-bench per shard, at once; shard i's log is cascade-PHASE.shard-i (or
# cascade-PHASE with one shard).
run_cascade() {
  local phase="$1"
  shift
  if ((SHARDS == 1)); then
    "$CASCADE_BENCH" --db="$DB/cascade" "${CASCADE_FLAGS[@]}" "${COMMON[@]}" "$@" \
      >"$LOGS/cascade-$phase" 2>&1 ||
      { cat "$LOGS/cascade-$phase" >&2; exit 1; }
    return
  fi
  local pids=() i arg args
  # A failed shard stops the others.
  trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
  for ((i = 0; i < SHARDS; i++)); do
    args=(--memtable_size="$((MEMTABLE_SIZE / SHARDS))" --cache_size="$((CACHE_SIZE / SHARDS))")
    for arg in "$@"; do
      case "$arg" in
        --num=*) args+=("--num=$((${arg#--num=} / SHARDS))") ;;
        --reads=*) args+=("--reads=$((${arg#--reads=} / SHARDS))") ;;
        --seed=*) args+=("--seed=$((${arg#--seed=} + 100 * i))") ;;
        *) args+=("$arg") ;;
      esac
    done
    mkdir -p "$DB/cascade"
    "$CASCADE_BENCH" --db="$DB/cascade/shard-$i" "${CASCADE_FLAGS[@]}" "${COMMON[@]}" "${args[@]}" \
      >"$LOGS/cascade-$phase.shard-$i" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || { cat "$LOGS/cascade-$phase.shard-$i" >&2; exit 1; }
  done
  trap - EXIT
}

run() {
  local phase="$1"
  shift
  echo "bench-vlog: $phase: cascade-bench ($SHARDS shard(s)) $*" >&2
  run_cascade "$phase" "$@"
  echo "bench-vlog: $phase: db_bench $*" >&2
  "$DB_BENCH" "${ROCKSDB_FLAGS[@]}" "${COMMON[@]}" "$@" >"$LOGS/rocksdb-$phase" 2>"$LOGS/rocksdb-$phase.err" ||
    { cat "$LOGS/rocksdb-$phase" "$LOGS/rocksdb-$phase.err" >&2; exit 1; }
}

START=$(date +%s)
run 1-fill --num="$NUM" --seed=1000 --benchmarks=fillrandom,overwrite
run 2-readrandom --num="$NUM" --seed=2000 --use_existing_db=1 --reads="$READS" --benchmarks=readrandom
ELAPSED=$(($(date +%s) - START))

python3 - "$LOGS" "$VALUE_SIZE" "$ELAPSED" "$SHARDS" <<'PY'
import re, sys
logs, value_size, elapsed, shards = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
entry = 16 + value_size
line_re = re.compile(r"^(\w+)\s+:\s+([\d.]+) micros/op (\d+) ops/sec ([\d.]+) seconds (\d+) operations;")
pct_re = re.compile(r"^Percentiles: P50: ([\d.]+) P75: [\d.]+ P99: ([\d.]+)")

def parse(path):
    rows, cur = [], None
    for line in open(path, errors="replace"):
        m = line_re.match(line)
        if m:
            cur = dict(name=m[1], us=float(m[2]), ops=int(m[3]), secs=float(m[4]), n=int(m[5]),
                       p50=None, p99=None)
            rows.append(cur)
        m = pct_re.match(line)
        if m and cur is not None and cur["p50"] is None:
            cur["p50"], cur["p99"] = float(m[1]), float(m[2])
    return rows

def cascade_logs(phase):
    return [f"{logs}/cascade-{phase}"] if shards == 1 else [
        f"{logs}/cascade-{phase}.shard-{i}" for i in range(shards)]

# The shards' rows of one phase as one: every operation over the slowest shard's time.
def parse_cascade(phase):
    per_shard = [parse(path) for path in cascade_logs(phase)]
    rows = []
    for same in zip(*per_shard):
        n = sum(r["n"] for r in same)
        secs = max(r["secs"] for r in same)
        ops = n / secs if secs > 0 else 0
        rows.append(dict(name=same[0]["name"], n=n, secs=secs, ops=int(ops),
                         us=1e6 / ops if ops else 0,
                         p99=max((r["p99"] or 0) for r in same)))
    return rows

def stat(path, name):
    m = re.search(r"^rocksdb\.%s COUNT : (\d+)" % re.escape(name), open(path).read(), re.M)
    return int(m[1]) if m else 0

print("%-12s %11s %11s %6s | %9s %9s %6s | %9s %9s" % (
    "workload", "cascade/s", "rocksdb/s", "ratio", "c us/op", "r us/op", "ratio", "c P99", "r P99"))
for phase in ("1-fill", "2-readrandom"):
    for a, b in zip(parse_cascade(phase), parse(f"{logs}/rocksdb-{phase}")):
        print("%-12s %11d %11d %6.2f | %9.2f %9.2f %6.2f | %9.2f %9.2f" % (
            a["name"], a["ops"], b["ops"], a["ops"] / b["ops"], a["us"], b["us"], a["us"] / b["us"],
            a["p99"] or 0, b["p99"] or 0))
print("ratio: cascade / rocksdb (ops/s: higher is better for us; us/op: lower is better for us)")
if shards > 1:
    print("cascade ran %d shards at once: its us/op is the inverse of their summed ops/s" % shards)
wamp_re = r"^Write amplification: ([\d.]+)\s+\(WAL ([\d.]+) MiB \+ tables ([\d.]+) MiB \+ value log ([\d.]+) MiB"
c_user = sum(x["n"] for x in parse_cascade("1-fill")) * entry
m = None
c_all = [open(path).read() for path in cascade_logs("1-fill")]
found = [re.search(wamp_re, text, re.M) for text in c_all]
if all(found):
    wal, tables, vlog = (sum(float(f[k]) for f in found) for k in (2, 3, 4))
    m = {1: "%.3f" % ((wal + tables + vlog) * 2**20 / c_user), 2: "%.1f" % wal,
         3: "%.1f" % tables, 4: "%.1f" % vlog}
rpath = f"{logs}/rocksdb-1-fill"
r_wal, r_flush, r_compact = stat(rpath, "wal.bytes"), stat(rpath, "flush.write.bytes"), stat(rpath, "compact.write.bytes")
r_user = sum(x["n"] for x in parse(rpath)) * entry
print("write amplification over phase 1 (%.1f MiB of user data)" % (c_user / 2**20))
if m:
    print("  cascade %6.2f = WAL %s MiB + tables %s MiB + value log %s MiB" % (float(m[1]), m[2], m[3], m[4]))
    rw = (r_wal + r_flush + r_compact) / r_user
    print("  rocksdb %6.2f = WAL %.1f MiB + flushes %.1f MiB + compactions %.1f MiB" % (
        rw, r_wal / 2**20, r_flush / 2**20, r_compact / 2**20))
    print("  ratio   %6.2f" % (float(m[1]) / rw))
    nw = float(m[1]) - float(m[2]) * 2**20 / c_user
    rnw = (r_flush + r_compact) / r_user
    print("  without the WAL: cascade %.2f, rocksdb %.2f, ratio %.2f" % (nw, rnw, nw / rnw))
for shard, text in enumerate(c_all):
    for line in text.splitlines():
        if line.startswith("Value log:") or line.startswith("Space:"):
            print("  cascade%s %s" % ("" if shards == 1 else " shard %d" % shard, line))
print("run time %s s; outputs in %s" % (elapsed, logs))
PY

if ((KEEP == 0)); then rm -rf "$DB/cascade" "$DB/rocksdb"; fi
