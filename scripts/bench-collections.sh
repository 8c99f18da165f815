#!/usr/bin/env bash
# Side-by-side collections benchmark: cascade-server against Debian's redis-server, in one
# run, and two tables of the results.
#
#   scripts/bench-collections.sh [--quick] [-n REQUESTS] [-r KEYSPACE] [-c CLIENTS]
#                                [--rounds N] [--zset-small N] [--zset-large N] [--zset-sizes N,N,...]
#                                [--zset-ops N] [--zset-only] [--baseline BIN]
#                                [--no-settle]
#
# Servers, started one at a time on a spare 127.0.0.1 port, each in its own temporary
# directory (under $TMPDIR), and stopped (by the pid this script started) before the next:
#   redis none          no persistence at all (save "", appendonly no)
#   redis always        appendonly yes, appendfsync always
#   cascade everysec    appendfsync everysec
#   cascade always      appendfsync always: a write is acknowledged once its WAL is synced
# cascade runs its default shard count (one per core); redis-server is one thread.
#
# 1. redis-benchmark -t lpush,rpush,lpop,rpop,sadd,spop,hset,zadd,zpopmin,lrange_100,
#    lrange_600,mset -r KEYSPACE -c CLIENTS -n REQUESTS against each server, in --rounds
#    rounds (each a fresh start of every server in turn, so the servers alternate).
#    Defaults: -n 100000, -r 100000, -c 50, 3 rounds. The table: the median ops/s per
#    server, and the ratios the issue aims at, of those medians: cascade everysec / redis
#    none (aim >= 1 on every row) and cascade always / redis always (aim >= 2.5 on every
#    write row), with the lowest and highest of the rounds' own ratios. A row lasts 0.5-2 s
#    on the 2-core development machine, whose other load moves a single row by 20-30%:
#    one round's ratios were not worth quoting.
# 2. Sorted sets of two sizes (--zset-small, default 10,000; --zset-large, default 1,000,000:
#    10 million members take ~15 minutes to load on the 2-core development machine), or of
#    every size in --zset-sizes, loaded with pipelined ZADDs of 1,000 members, then timed one
#    request at a time (round trip included): ZADD of a new member, ZRANGE key r r+9 at a
#    random rank r, ZRANK of a random member; up to --zset-ops requests (default 2000) or
#    20 s each. The table: median and p90 microseconds per operation at each size and the
#    growth (largest / smallest), against cascade everysec and redis none; the load times
#    give ZADD's throughput. ZRANK and ZRANGE by rank go through the sorted sets' rank index
#    (src/types/zset_rank.h), so they should grow with the log of the size. Before timing,
#    the script waits (up to 10 minutes) until cascade has no compaction pending and no
#    memtable waiting for its flush (INFO storage), and reports how long that took: right
#    after a load of millions of members, level 0 is past the write slowdown point, and
#    every write waits for compaction (--no-settle times it so).
#
# --zset-only: only part 2 (no redis-benchmark rows, no appendfsync always servers).
# --baseline BIN: part 2 also against another cascade-server binary (say, main's build),
# run the same way and labelled cascade-baseline, for a before/after in one run.
#
# --quick: -n 300, -r 1000, -c 5, sets of 1,000 and 5,000 members, 50 requests, small WAL
# segments: a smoke test of this script (tests/integration), not a measurement.
# Benchmarks are never assertions.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CASCADE_BIN="${CASCADE_BIN:-$ROOT/build/cascade-server}"
REDIS_BIN="${REDIS_BIN:-$(command -v redis-server || true)}"
BENCH_BIN="${REDIS_BENCHMARK:-$(command -v redis-benchmark || true)}"
REQUESTS=100000
ROUNDS=3
KEYSPACE=100000
CLIENTS=50
ZSET_SMALL=10000
ZSET_LARGE=1000000
ZSET_OPS=2000
ZSET_SIZES=""
ZSET_ONLY=0
SETTLE=1
BASELINE_BIN=""
QUICK=0

while (($#)); do
  case "$1" in
    --quick) QUICK=1; REQUESTS=300; KEYSPACE=1000; CLIENTS=5; ZSET_SMALL=1000
             ZSET_LARGE=5000; ZSET_OPS=50; ROUNDS=1; shift ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    -n) REQUESTS="$2"; shift 2 ;;
    -r) KEYSPACE="$2"; shift 2 ;;
    -c) CLIENTS="$2"; shift 2 ;;
    --zset-small) ZSET_SMALL="$2"; shift 2 ;;
    --zset-large) ZSET_LARGE="$2"; shift 2 ;;
    --zset-sizes) ZSET_SIZES="$2"; shift 2 ;;
    --zset-ops) ZSET_OPS="$2"; shift 2 ;;
    --zset-only) ZSET_ONLY=1; shift ;;
    --no-settle) SETTLE=0; shift ;;
    --baseline) BASELINE_BIN="$2"; shift 2 ;;
    -h|--help) sed -n '2,40p' "$0"; exit 0 ;;
    *) echo "bench-collections: unknown argument $1" >&2; exit 2 ;;
  esac
done

[[ -n "$ZSET_SIZES" ]] || ZSET_SIZES="$ZSET_SMALL,$ZSET_LARGE"
for tool in "$CASCADE_BIN" "$REDIS_BIN" "$BENCH_BIN" ${BASELINE_BIN:+"$BASELINE_BIN"}; do
  if [[ -z "$tool" || ! -x "$tool" ]]; then
    echo "bench-collections: missing ${tool:-redis-server or redis-benchmark}" \
      "(build first; apt install redis)" >&2
    exit 2
  fi
done

# shellcheck source=scripts/bench-lib.sh
source "$ROOT/scripts/bench-lib.sh"
bench_init cascade-bench-coll


start_server() {  # name port dir
  local name="$1" port="$2" dir="$3"
  mkdir -p "$dir"
  case "$name" in
    cascade-always|cascade-everysec|cascade-baseline)
      local wal=() bin="$CASCADE_BIN" fsync="${name#cascade-}"
      ((QUICK)) && wal=(--wal-segment-size 4mb --wal-segments 2)
      [[ "$name" == cascade-baseline ]] && bin="$BASELINE_BIN" fsync=everysec
      "$bin" --port "$port" --bind 127.0.0.1 --dir "$dir" --appendonly yes \
        --appendfsync "$fsync" "${wal[@]}" >"$dir/server.log" 2>&1 &
      ;;
    redis-always)
      "$REDIS_BIN" --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly yes \
        --appendfsync always >"$dir/server.log" 2>&1 &
      ;;
    redis-none)
      "$REDIS_BIN" --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no \
        >"$dir/server.log" 2>&1 &
      ;;
  esac
  SERVER_PID=$!
  if ! wait_ready "$port"; then
    echo "bench-collections: $name did not start:" >&2
    cat "$dir/server.log" >&2
    exit 1
  fi
}

TESTS="lpush,rpush,lpop,rpop,sadd,spop,hset,zadd,zpopmin,lrange_100,lrange_600,mset"
RESULTS="$WORK/results.csv"
ZRESULTS="$WORK/zsets.csv"
echo "server,test,rps,round" >"$RESULTS"
echo "server,size,op,count,p50_us,p90_us,load_s,settle_s" >"$ZRESULTS"

# The sorted-set timings: loads a key of each of ZSET_SIZES members and times single
# requests against each (a raw socket, one request in flight).
zset_scaling() {  # name port
  /usr/bin/python3 - "$1" "$2" "$ZSET_SIZES" "$ZSET_OPS" "$SETTLE" >>"$ZRESULTS" <<'EOF'
import random, socket, sys, time

name, port, ops = sys.argv[1], int(sys.argv[2]), int(sys.argv[4])
settle = sys.argv[5] == "1"
sizes = [int(n) for n in sys.argv[3].split(",")]
sock = socket.create_connection(("127.0.0.1", port), timeout=120)
buf = b""

def encode(args):
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)

def reply():
    """Reads one reply; returns its first line (the whole reply is consumed)."""
    global buf
    def need_line(pos):
        global buf
        while buf.find(b"\r\n", pos) < 0:
            chunk = sock.recv(1 << 20)
            if not chunk:
                raise EOFError
            buf += chunk
        return buf.find(b"\r\n", pos)
    def skip(pos):
        global buf
        end = need_line(pos)
        kind, head = buf[pos:pos + 1], buf[pos + 1:end]
        pos = end + 2
        if kind == b"-":
            raise RuntimeError(buf[:end].decode())
        if kind in b"$" and int(head) >= 0:
            while len(buf) < pos + int(head) + 2:
                buf += sock.recv(1 << 20)
            return pos + int(head) + 2
        if kind == b"*":
            for _ in range(int(head)):
                pos = skip(pos)
        return pos
    end = skip(0)
    first = buf[:buf.find(b"\r\n")]
    buf = buf[end:]
    return first

def load(key, n):
    started = time.monotonic()
    rng = random.Random(n)
    pending = 0
    for start in range(0, n, 1000):
        args = [b"ZADD", key]
        for i in range(start, min(n, start + 1000)):
            args += [b"%.6f" % rng.random(), b"member:%d" % i]
        sock.sendall(encode(args))
        pending += 1
        while pending >= 8:
            reply()
            pending -= 1
    while pending:
        reply()
        pending -= 1
    return time.monotonic() - started

def bulk():
    # One reply, whole: a bulk string's bytes.
    global buf
    while b"\r\n" not in buf:
        buf += sock.recv(1 << 16)
    head, rest = buf.split(b"\r\n", 1)
    length = int(head[1:])
    while len(rest) < length + 2:
        rest += sock.recv(1 << 16)
    buf = rest[length + 2:]
    return rest[:length]

def wait_for_compaction(limit_s):
    # Seconds until INFO storage shows no compaction pending and no memtable waiting for
    # its flush (0 at once for a server without that section).
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        sock.sendall(encode([b"INFO", b"storage"]))
        fields = dict(line.split(":", 1) for line in bulk().decode().splitlines()
                      if ":" in line)
        if "storage_pending_compaction_bytes" not in fields:
            return 0.0
        if (int(fields["storage_pending_compaction_bytes"]) == 0
                and int(fields["storage_immutable_memtables"]) == 0):
            break
        time.sleep(0.5)
    return time.monotonic() - started

def timed(make, count, seconds):
    samples = []
    deadline = time.monotonic() + seconds
    while len(samples) < count and time.monotonic() < deadline:
        command = make()
        started = time.perf_counter()
        sock.sendall(encode(command))
        reply()
        samples.append((time.perf_counter() - started) * 1e6)
    samples.sort()
    return samples

for n in sizes:
    key = b"zbench:%d" % n
    sock.sendall(encode([b"DEL", key]))
    reply()
    load_s = load(key, n)
    settle_s = wait_for_compaction(600) if settle else 0.0
    rng = random.Random(7)
    fresh = iter(range(n, n + 10 ** 9))
    cases = [
        ("ZADD", lambda: [b"ZADD", key, b"%.6f" % rng.random(), b"member:%d" % next(fresh)]),
        ("ZRANGE rank", lambda: [b"ZRANGE", key, *(lambda r: [b"%d" % r, b"%d" % (r + 9)])(
            rng.randrange(n))]),
        ("ZRANK", lambda: [b"ZRANK", key, b"member:%d" % rng.randrange(n)]),
    ]
    for op, make in cases:
        s = timed(make, ops, 20.0)
        print(f"{name},{n},{op},{len(s)},{s[len(s) // 2]:.1f},{s[len(s) * 9 // 10]:.1f},"
              f"{load_s:.2f},{settle_s:.1f}")
EOF
}

run_server() {
  local name="$1" round="$2" port dir
  port="$(free_port)"
  dir="$WORK/$name-$round"
  start_server "$name" "$port" "$dir"
  ((ZSET_ONLY)) || "$BENCH_BIN" -h 127.0.0.1 -p "$port" -t "$TESTS" -r "$KEYSPACE" -c "$CLIENTS" \
    -n "$REQUESTS" --csv 2>/dev/null |
    /usr/bin/python3 -c '
import csv, sys
for row in csv.DictReader(sys.stdin):
    print(",".join([sys.argv[1], row["test"].split(" ")[0], row["rps"], sys.argv[2]]))
' "$name" "$round" >>"$RESULTS"
  if ((round == 1)) && [[ "$name" == cascade-everysec || "$name" == cascade-baseline ||
                          "$name" == redis-none ]]; then
    zset_scaling "$name" "$port"
  fi
  stop_server
  rm -rf "$dir"
  echo "bench-collections: $name done (round $round)" >&2
}

SERVERS=(redis-none redis-always cascade-everysec cascade-always)
((ZSET_ONLY)) && SERVERS=(redis-none cascade-everysec)
[[ -n "$BASELINE_BIN" ]] && SERVERS+=(cascade-baseline)
((ZSET_ONLY)) && ROUNDS=1
for ((round = 1; round <= ROUNDS; round++)); do
  for name in "${SERVERS[@]}"; do
    run_server "$name" "$round"
  done
done

echo "redis-benchmark -t $TESTS -r $KEYSPACE -c $CLIENTS -n $REQUESTS, $ROUNDS rounds" \
  "(medians); $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$RESULTS" "$ZRESULTS" <<'EOF'
import csv, sys

import statistics

rows = list(csv.DictReader(open(sys.argv[1])))
by_round = {}  # (server, test) -> {round: ops/s}
for r in rows:
    by_round.setdefault((r["server"], r["test"]), {})[r["round"]] = float(r["rps"])
rps = {k: statistics.median(v.values()) for k, v in by_round.items()}
tests = list(dict.fromkeys(r["test"] for r in rows))
servers = ["redis-none", "redis-always", "cascade-everysec", "cascade-always"]
writes = {"LPUSH", "RPUSH", "LPOP", "RPOP", "SADD", "SPOP", "HSET", "ZADD", "ZPOPMIN", "MSET"}

def ratio(test, num, den, aim):
    """The ratio of the medians, then the range of the rounds' own ratios."""
    a, b = rps.get((num, test)), rps.get((den, test))
    if not a or not b:
        return "-"
    mark = "" if aim is None or a / b >= aim else " (miss)"
    na, nb = by_round[(num, test)], by_round[(den, test)]
    each = [na[k] / nb[k] for k in na if k in nb and nb[k]]
    spread = f" ({min(each):.2f}-{max(each):.2f})" if len(each) > 1 else ""
    return f"{a / b:.2f}{spread}{mark}"

if tests:
    print("| test | " + " | ".join(servers) + " | cascade everysec / redis none | "
          "cascade always / redis always |")
    print("|---|" + "---:|" * (len(servers) + 2))
for test in tests:
    cells = [f"{rps.get((s, test), 0):,.0f}" for s in servers]
    everysec = ratio(test, "cascade-everysec", "redis-none", 1.0)
    always = ratio(test, "cascade-always", "redis-always", 2.5 if test in writes else None)
    print(f"| {test} | " + " | ".join(cells) + f" | {everysec} | {always} |")

print()
zrows = list(csv.DictReader(open(sys.argv[2])))
sizes = sorted({int(r["size"]) for r in zrows})
z = {(r["server"], int(r["size"]), r["op"]): r for r in zrows}
print("| server | operation | " + " | ".join(f"{n:,} members: p50 / p90 us" for n in sizes)
      + " | growth (p50) |")
print("|---|---|" + "---:|" * (len(sizes) + 1))
for server in ("cascade-everysec", "cascade-baseline", "redis-none"):
    for op in ("ZADD", "ZRANGE rank", "ZRANK"):
        got = [z.get((server, n, op)) for n in sizes]
        if not all(got):
            continue
        cells = [f"{float(g['p50_us']):,.0f} / {float(g['p90_us']):,.0f} ({g['count']})"
                 for g in got]
        growth = float(got[-1]["p50_us"]) / float(got[0]["p50_us"])
        print(f"| {server} | {op} | " + " | ".join(cells) + f" | {growth:.1f}x |")
loads = {(r["server"], int(r["size"])): (r["load_s"], r["settle_s"]) for r in zrows}
print()
print("load (pipelined ZADD, 1000 members each), then the wait for compaction: " + "; ".join(
    f"{s} {n:,}: {loads[(s, n)][0]} s, {loads[(s, n)][1]} s" for (s, n) in sorted(loads)))
EOF
