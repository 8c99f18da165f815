#!/usr/bin/env bash
# Issue 5's mixed benchmark: reads while writes go on and compaction runs, against the same
# with compaction paused. Target: read p99 with compaction running at most 2x the p99 with
# it paused.
#
#   scripts/bench-mixed.sh [--rounds N] [--num N] [--reads N] [--threads N] [--value_size N]
#                          [--memtable_size BYTES] [--cache_size BYTES] [--write_rate B/s]
#                          [--db DIR] [--quick]
#
# One run of a variant, on a database made afresh from the same seeds:
#   1. cascade-bench fillrandom --num: --num random puts, compaction on; it ends with
#      compaction behind (L0 past its trigger, pending bytes), as a loaded shard is;
#   2. cascade-bench readwhilewriting --use_existing_db: --threads reader fibers do --reads
#      random gets each while one writer fiber puts random keys at --write_rate bytes/s, so
#      flushes go on and feed L0 (db_bench's readwhilewriting and
#      --benchmark_write_rate_limit);
#      "running": automatic compaction on (it starts at open on the debt of step 1);
#      "paused":  --disable_auto_compactions: flushes only, L0 grows; the write throttle is
#                 off then (as RocksDB's L0 stall triggers are), so the writer never stops.
# The two variants alternate, the first of each round swapping, for --rounds rounds (the
# machine is shared: interleaving spreads its noise over both). Printed: per run the read
# P50/P99/P99.9, reads/s, the writer's ops and P99, and the compaction MiB written during
# step 2 (nonzero running, zero paused); then the medians and the ratio of the read P99s.
# Keys 16 bytes, values --value_size bytes compressible to half, an 8 MiB block cache (well
# under the data: most gets read a block from disk). Outputs stay in DIR/logs-mixed; DIR
# defaults to ./bench-db (never /tmp: the disk under test is the working directory's).
# --quick: tiny sizes, one round (a smoke test of the script and the benchmark, ~2 s).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ROUNDS=3
NUM=1000000
READS=100000
THREADS=4
VALUE_SIZE=100
MEMTABLE_SIZE=$((4 << 20))
CACHE_SIZE=$((8 << 20))
WRITE_RATE=$((4 << 20))
DB="./bench-db"

while (($#)); do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --num) NUM="$2"; shift 2 ;;
    --reads) READS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --value_size) VALUE_SIZE="$2"; shift 2 ;;
    --memtable_size) MEMTABLE_SIZE="$2"; shift 2 ;;
    --cache_size) CACHE_SIZE="$2"; shift 2 ;;
    --write_rate) WRITE_RATE="$2"; shift 2 ;;
    --db) DB="$2"; shift 2 ;;
    --quick) ROUNDS=1; NUM=20000; READS=2000; MEMTABLE_SIZE=$((256 << 10)); WRITE_RATE=$((1 << 20)); shift ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "bench-mixed: unknown argument $1" >&2; exit 2 ;;
  esac
done

CASCADE_BENCH="${CASCADE_BENCH:-$ROOT/build/cascade-bench}"
if [[ -z "${CASCADE_BENCH_PREBUILT:-}" ]]; then ninja -C "$ROOT/build" cascade-bench >/dev/null; fi

mkdir -p "$DB"
DB="$(cd "$DB" && pwd)"
LOGS="$DB/logs-mixed"
rm -rf "$DB/mixed" "$LOGS"
mkdir -p "$LOGS"
trap 'rm -rf "$DB/mixed"' EXIT

COMMON=(--db="$DB/mixed" --num="$NUM" --key_size=16 --value_size="$VALUE_SIZE"
  --compression_ratio=0.5 --cache_size="$CACHE_SIZE" --memtable_size="$MEMTABLE_SIZE")

# run VARIANT ROUND: fill afresh, then readwhilewriting; outputs in LOGS/VARIANT-ROUND.{fill,rww}.
run() {
  local variant="$1" round="$2" extra=()
  [[ "$variant" == paused ]] && extra=(--disable_auto_compactions)
  echo "bench-mixed: round $round, compaction $variant" >&2
  rm -rf "$DB/mixed"
  "$CASCADE_BENCH" "${COMMON[@]}" --seed=1000 --benchmarks=fillrandom \
    >"$LOGS/$variant-$round.fill" 2>&1 || { cat "$LOGS/$variant-$round.fill" >&2; exit 1; }
  "$CASCADE_BENCH" "${COMMON[@]}" --seed=2000 --use_existing_db --threads="$THREADS" \
    --reads="$READS" --benchmark_write_rate_limit="$WRITE_RATE" --benchmarks=readwhilewriting \
    "${extra[@]}" >"$LOGS/$variant-$round.rww" 2>&1 || { cat "$LOGS/$variant-$round.rww" >&2; exit 1; }
}

START=$(date +%s)
for round in $(seq 1 "$ROUNDS"); do
  if ((round % 2)); then order=(running paused); else order=(paused running); fi
  for variant in "${order[@]}"; do run "$variant" "$round"; done
done
ELAPSED=$(($(date +%s) - START))

/usr/bin/python3 - "$LOGS" "$ROUNDS" "$ELAPSED" "$NUM" "$READS" "$THREADS" "$WRITE_RATE" \
  "$MEMTABLE_SIZE" "$CACHE_SIZE" <<'EOF'
import os, re, statistics, sys
logs, rounds, elapsed = sys.argv[1], int(sys.argv[2]), sys.argv[3]
num, reads, threads, rate, memtable, cache = sys.argv[4:10]
line_re = re.compile(r"^readwhilewriting\s+:\s+[\d.]+ micros/op (\d+) ops/sec")
pct_re = re.compile(r"^Percentiles: P50: ([\d.]+) P75: [\d.]+ P99: ([\d.]+) P99\.9: ([\d.]+)")
writes_re = re.compile(r"^Writes .*: (\d+) ops, (\d+) ops/sec, [\d.]+ MB/s; Percentiles: P50: [\d.]+ P99: ([\d.]+)")
comp_re = re.compile(r"^Compaction: ([\d.]+) MiB read, ([\d.]+) MiB written; level 0 (\d+) -> (\d+) tables")

def parse(path):
    r, seen = {}, False
    for line in open(path, errors="replace"):
        if m := line_re.match(line):
            r["reads_s"], seen = int(m[1]), True
        elif seen and "p50" not in r and (m := pct_re.match(line)):
            r["p50"], r["p99"], r["p999"] = float(m[1]), float(m[2]), float(m[3])
        elif seen and (m := writes_re.match(line)):
            r["writes"], r["writes_s"], r["w_p99"] = int(m[1]), int(m[2]), float(m[3])
        elif seen and (m := comp_re.match(line)):
            r["c_read"], r["c_written"] = float(m[1]), float(m[2])
            r["l0"] = "%s->%s" % (m[3], m[4])
    missing = {"reads_s", "p50", "writes", "c_written"} - r.keys()
    if missing:
        sys.exit("bench-mixed: %s lacks %s" % (path, ", ".join(sorted(missing))))
    return r

runs = {v: [parse(f"{logs}/{v}-{i}.rww") for i in range(1, rounds + 1)] for v in ("running", "paused")}
hdr = "%-8s %5s | %8s %9s %9s %9s | %8s %9s | %11s %11s %7s" % (
    "compact", "round", "reads/s", "read P50", "read P99", "P99.9", "writes", "write P99",
    "comp MiB rd", "comp MiB wr", "L0")
print(hdr)
print("-" * len(hdr))
for i in range(rounds):
    for v in ("running", "paused"):
        r = runs[v][i]
        print("%-8s %5d | %8d %9.1f %9.1f %9.1f | %8d %9.1f | %11.1f %11.1f %7s" % (
            v, i + 1, r["reads_s"], r["p50"], r["p99"], r["p999"], r["writes"], r["w_p99"],
            r["c_read"], r["c_written"], r["l0"]))
print()
med = {v: {k: statistics.median(r[k] for r in runs[v])
           for k in ("reads_s", "p50", "p99", "p999", "c_written", "writes")} for v in runs}
print("medians over %d rounds (latencies in microseconds)" % rounds)
for v in ("running", "paused"):
    m = med[v]
    print("  compaction %-7s  reads/s %8.0f  read P50 %7.1f  P99 %8.1f  P99.9 %8.1f  writes %7.0f  compaction wrote %.1f MiB" % (
        v, m["reads_s"], m["p50"], m["p99"], m["p999"], m["writes"], m["c_written"]))
ratio = med["running"]["p99"] / med["paused"]["p99"] if med["paused"]["p99"] else float("inf")
print("read P99 running / paused: %.2f (target <= 2)" % ratio)
per_round = ["%.2f" % (a["p99"] / b["p99"]) for a, b in zip(runs["running"], runs["paused"]) if b["p99"]]
print("  per round: %s" % " ".join(per_round))
print()
print("setup: %s keys filled (fillrandom), then readwhilewriting: %s reader fibers x %s gets," % (num, threads, reads))
print("  1 writer fiber at %s B/s, %s B memtables, %s B block cache; one shard thread" % (rate, memtable, cache))
print("  (readers, writer, flush and compaction fibers share it). Run time %s s; outputs in %s." % (elapsed, logs))
EOF
