#!/usr/bin/env bash
# Runs cascade-bench and RocksDB's db_bench on the same workloads, one after the other (never
# at once: they would share the two cores), and prints a side-by-side table with ratios.
#
#   scripts/bench-engine.sh [--num N] [--reads N] [--seeks N] [--sync_num N] [--threads N]
#                           [--value_size N] [--memtable_size BYTES] [--cache_size BYTES]
#                           [--db DIR] [--keep]
#
# Phases, each run by both tools with the same flags (db_bench's names and meanings):
#   1. fillseq,fillrandom,overwrite       --num ops each, no sync (fresh db)
#   2. readrandom                          --reads gets over phase 1's db
#   3. seekrandom --seek_nexts=10          --seeks seeks
#   4. readseq                             the whole db: live entries, then space on disk
#   5. fillrandom --threads N              --num ops in all, no sync (group commit)
#   6. fillrandom --sync=1 --threads 1     --sync_num ops
#   7. fillrandom --sync=1 --threads N     --sync_num ops in all (group commit)
# Keys 16 bytes, values --value_size bytes compressible to half (--compression_ratio=0.5).
# Both tools: zstd level 3 per block, 10 bloom bits per key, the same block cache size
# (--cache_size, default 8 MiB: db_bench's default, well under the data), O_DIRECT reads and
# table writes, the same memtable size and count (ours: 1 mutable + 2 immutable; db_bench
# --max_write_buffer_number=3).
# Differences that stay (printed under the table): RocksDB's WAL is buffered in the page cache while ours is buffered in its own tail and
# written with O_DIRECT in whole pages; RocksDB runs flushes and compactions on background threads
# (two cores) while ours share the shard's thread with the writers.
#
# Write amplification = (WAL bytes + table bytes written by flushes and compactions) /
# (ops x (16 + value_size)) over phase 1. Space = directory size on disk (allocated blocks)
# / (live entries counted by readseq x (16 + value_size)), after phase 4.
# Outputs of every run stay in DIR/logs. DIR defaults to ./bench-db (never /tmp: the disk
# under test is the working directory's).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NUM=1000000
READS=100000
SEEKS=2000
SYNC_NUM=10000
THREADS=8
VALUE_SIZE=100
MEMTABLE_SIZE=$((64 << 20))
CACHE_SIZE=$((8 << 20))
DB="./bench-db"
KEEP=0

while (($#)); do
  case "$1" in
    --num) NUM="$2"; shift 2 ;;
    --reads) READS="$2"; shift 2 ;;
    --seeks) SEEKS="$2"; shift 2 ;;
    --sync_num) SYNC_NUM="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --value_size) VALUE_SIZE="$2"; shift 2 ;;
    --memtable_size) MEMTABLE_SIZE="$2"; shift 2 ;;
    --cache_size) CACHE_SIZE="$2"; shift 2 ;;
    --db) DB="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
    *) echo "bench-engine: unknown argument $1" >&2; exit 2 ;;
  esac
done
((READS > NUM)) && READS=$NUM
((SEEKS > NUM)) && SEEKS=$NUM

DB_BENCH="$(command -v db_bench || command -v rocksdb_db_bench || true)"
if [[ -z "$DB_BENCH" ]]; then
  echo "bench-engine: db_bench not found: run scripts/setup.sh (package rocksdb-tools)" >&2
  exit 1
fi
ninja -C "$ROOT/build" cascade-bench >/dev/null
CASCADE_BENCH="$ROOT/build/cascade-bench"

mkdir -p "$DB"
DB="$(cd "$DB" && pwd)"
LOGS="$DB/logs"
rm -rf "$DB/cascade" "$DB/rocksdb" "$LOGS"
mkdir -p "$LOGS"

COMMON=(--key_size=16 --value_size="$VALUE_SIZE" --compression_ratio=0.5 --histogram=1
  --cache_size="$CACHE_SIZE")
CASCADE_FLAGS=(--db="$DB/cascade" --memtable_size="$MEMTABLE_SIZE")
ROCKSDB_FLAGS=(--db="$DB/rocksdb" --compression_type=zstd --compression_level=3
  --use_direct_reads=true --use_direct_io_for_flush_and_compaction=true
  --bloom_bits=10 --write_buffer_size="$MEMTABLE_SIZE" --max_write_buffer_number=3
  --statistics=1)

# run PHASE FLAGS...: both tools, one after the other; outputs in LOGS/{cascade,rocksdb}-PHASE.
run() {
  local phase="$1"
  shift
  echo "bench-engine: $phase: cascade-bench $*" >&2
  "$CASCADE_BENCH" "${CASCADE_FLAGS[@]}" "${COMMON[@]}" "$@" >"$LOGS/cascade-$phase" 2>&1 ||
    { cat "$LOGS/cascade-$phase" >&2; exit 1; }
  echo "bench-engine: $phase: db_bench $*" >&2
  "$DB_BENCH" "${ROCKSDB_FLAGS[@]}" "${COMMON[@]}" "$@" >"$LOGS/rocksdb-$phase" 2>"$LOGS/rocksdb-$phase.err" ||
    { cat "$LOGS/rocksdb-$phase" "$LOGS/rocksdb-$phase.err" >&2; exit 1; }
}

# space TOOL: "allocated_bytes table_bytes table_files" of the tool's directory.
space() {
  local dir="$DB/$1"
  local allocated tables files
  allocated=$(du -s --block-size=1 "$dir" | cut -f1)
  tables=$(find "$dir" -name '*.sst' -printf '%s\n' | awk '{s += $1} END {print s + 0}')
  files=$(find "$dir" -name '*.sst' | wc -l)
  echo "$allocated $tables $files"
}

# Seeds a thousand apart: both tools give thread i of their k-th benchmark seed + k + i, so
# close seeds would make a read replay the keys a fill wrote (every get a hit).
START=$(date +%s)
run 1-fill --num="$NUM" --seed=1000 --benchmarks=fillseq,fillrandom,overwrite
run 2-readrandom --num="$NUM" --seed=2000 --use_existing_db=1 --reads="$READS" --benchmarks=readrandom
run 3-seekrandom --num="$NUM" --seed=3000 --use_existing_db=1 --reads="$SEEKS" --seek_nexts=10 \
  --benchmarks=seekrandom
run 4-readseq --num="$NUM" --seed=4000 --use_existing_db=1 --benchmarks=readseq
echo "$(space cascade) $(space rocksdb)" >"$LOGS/space"
run 5-fillrandom-threads --num="$NUM" --seed=5000 --threads="$THREADS" \
  --writes=$((NUM / THREADS)) --benchmarks=fillrandom
run 6-sync-1 --num="$SYNC_NUM" --seed=6000 --sync=1 --threads=1 --benchmarks=fillrandom
run 7-sync-threads --num="$SYNC_NUM" --seed=7000 --sync=1 --threads="$THREADS" \
  --writes=$((SYNC_NUM / THREADS)) --benchmarks=fillrandom
ELAPSED=$(($(date +%s) - START))

python3 - "$LOGS" "$VALUE_SIZE" "$THREADS" "$NUM" "$ELAPSED" "$CACHE_SIZE" <<'EOF'
import re, sys
logs, value_size, threads, num, elapsed, cache_size = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
entry = 16 + value_size
line_re = re.compile(r"^(\w+)\s+:\s+([\d.]+) micros/op (\d+) ops/sec ([\d.]+) seconds (\d+) operations;\s*(?:([\d.]+) MB/s)?")
pct_re = re.compile(r"^Percentiles: P50: ([\d.]+) P75: [\d.]+ P99: ([\d.]+)")

def parse(path):
    rows, cur = [], None
    for line in open(path, errors="replace"):
        m = line_re.match(line)
        if m:
            cur = dict(name=m[1], us=float(m[2]), ops=int(m[3]), n=int(m[5]),
                       mbs=float(m[6] or 0), p50=None, p99=None)
            rows.append(cur)
        m = pct_re.match(line)
        if m and cur is not None and cur["p50"] is None:
            cur["p50"], cur["p99"] = float(m[1]), float(m[2])
    return rows

def stat(path, name):
    m = re.search(r"^rocksdb\.%s COUNT : (\d+)" % re.escape(name), open(path).read(), re.M)
    return int(m[1]) if m else 0

phases = [("1-fill", ""), ("2-readrandom", ""), ("3-seekrandom", " nexts=10"), ("4-readseq", ""),
          ("5-fillrandom-threads", " t=" + threads), ("6-sync-1", " sync t=1"),
          ("7-sync-threads", " sync t=" + threads)]
def ratio(a, b):
    return "%.2f" % (a / b) if b else "-"
hdr = "%-24s %10s %10s %6s | %7s %7s | %9s %9s | %8s %8s | %9s %9s %6s" % (
    "workload", "cascade/s", "rocksdb/s", "ratio", "c MB/s", "r MB/s", "c us/op", "r us/op",
    "c P50", "r P50", "c P99", "r P99", "ratio")
print(hdr)
print("-" * len(hdr))
live = {}
for phase, label in phases:
    c, r = parse(f"{logs}/cascade-{phase}"), parse(f"{logs}/rocksdb-{phase}")
    for a, b in zip(c, r):
        print("%-24s %10d %10d %6s | %7.1f %7.1f | %9.2f %9.2f | %8.2f %8.2f | %9.2f %9.2f %6s" % (
            a["name"] + label, a["ops"], b["ops"], ratio(a["ops"], b["ops"]), a["mbs"], b["mbs"],
            a["us"], b["us"], a["p50"] or 0, b["p50"] or 0, a["p99"] or 0, b["p99"] or 0,
            ratio(a["p99"] or 0, b["p99"] or 0)))
        if a["name"] == "readseq":
            live = {"cascade": a["n"], "rocksdb": b["n"]}
print("ratio: cascade / rocksdb (ops/s: higher is better for us; P99: lower is better for us)")
print()

# Write amplification over phase 1.
user = sum(x["n"] for x in parse(f"{logs}/cascade-1-fill")) * entry
m = re.search(r"^Write amplification: ([\d.]+)\s+\(WAL ([\d.]+) MiB \+ tables ([\d.]+) MiB",
              open(f"{logs}/cascade-1-fill").read(), re.M)
rpath = f"{logs}/rocksdb-1-fill"
r_wal, r_flush, r_compact = stat(rpath, "wal.bytes"), stat(rpath, "flush.write.bytes"), stat(rpath, "compact.write.bytes")
r_user = sum(x["n"] for x in parse(rpath)) * entry
print("write amplification (phase 1: %.1f MiB of user data)" % (user / 2**20))
if m:
    print("  cascade %6.2f  = WAL %.1f MiB + tables %.1f MiB (flushes + compactions)" % (float(m[1]), float(m[2]), float(m[3])))
print("  rocksdb %6.2f  = WAL %.1f MiB + flushes %.1f MiB + compactions %.1f MiB" % (
    (r_wal + r_flush + r_compact) / r_user, r_wal / 2**20, r_flush / 2**20, r_compact / 2**20))

sp = open(f"{logs}/space").read().split()
c_alloc, c_tables, c_files, r_alloc, r_tables, r_files = map(int, sp)
print("space after phase 4 (directory on disk / live user data; live = readseq entries x %d B)" % entry)
for name, alloc, tables, files in (("cascade", c_alloc, c_tables, c_files), ("rocksdb", r_alloc, r_tables, r_files)):
    n = live.get(name, 0) * entry
    if n:
        print("  %s %6.2f  = %.1f MiB on disk (tables %.1f MiB in %d files: %.2f) / %.1f MiB live" % (
            name, alloc / n, alloc / 2**20, tables / 2**20, files, tables / n, n / 2**20))
print()
print("limits: both compact (leveled, L0 at 4 tables, 256 MiB L1, ratio 10);")
print("  the same block cache size (%s bytes) on both sides, but our index partitions go" % cache_size)
print("  through it while RocksDB keeps whole index blocks outside it (pinned in memory);")
print("  our WAL writes whole 4 KiB pages with O_DIRECT (unsynced batches are acknowledged from")
print("  its in-memory tail), RocksDB's WAL goes to the page cache; our flush and compaction")
print("  fibers share the one shard thread with the writers, RocksDB flushes and compacts on")
print("  background threads (2 cores here); Debian's db_bench is built with assertions, as is")
print("  our debugoptimized build. Run time %s s; outputs in %s." % (elapsed, logs))
EOF

if ((KEEP == 0)); then rm -rf "$DB/cascade" "$DB/rocksdb"; fi
