"""Collections larger than the block cache, and DEL of a big collection.

The first test loads a hash, a sorted set and a list many times the size of the block
cache into one server (pipelined HSET/ZADD/RPUSH of many members per command, over a raw
socket), then checks that point reads (HGET, ZSCORE), ranges (ZRANGEBYSCORE ... LIMIT,
LRANGE deep inside the list) still answer correctly and that the server's resident memory
(VmRSS) stays within what its configuration allows:

    budget = shards x (block-cache-size + (1 + 2) x memtable-size) + fixed overhead

(per shard: its block cache, its mutable memtable and up to two immutable memtables waiting
for their flush, engine::DBOptions::max_immutable_memtables). The fixed overhead is the RSS
of the same server freshly started and empty (code, fiber stacks, io_uring rings, WAL tails)
plus FIXED_SLACK for what a loaded server adds whatever the data's size (open table readers
with their index partitions and filters, compaction and readahead buffers, the connection's
buffers, malloc's retained free lists).

The suite runs a scaled version (members / 10, 8 MiB block cache: the data is still many
times the cache); CASCADE_BIG=1 runs the issue's full size (5M hash fields, 2M sorted-set
members, a 2M-item list, 64 MiB block cache), which takes minutes. Both print their figures
(load time, RSS, budget, answer latency).
"""

import os
import random
import statistics
import time

from conftest import Raw, encode

MiB = 1 << 20
BIG = os.environ.get("CASCADE_BIG") == "1"
SCALE = 1 if BIG else 10
HASH_FIELDS = 5_000_000 // SCALE
ZSET_MEMBERS = 2_000_000 // SCALE
LIST_ITEMS = 2_000_000 // SCALE
BLOCK_CACHE = (64 if BIG else 8) * MiB
MEMTABLE = (8 if BIG else 2) * MiB
SHARDS = 2
MAX_IMMUTABLE_MEMTABLES = 2  # engine::DBOptions::max_immutable_memtables
FIXED_SLACK = 32 * MiB
PER_COMMAND = 1000  # members per HSET / ZADD / RPUSH
IN_FLIGHT = 16      # commands sent ahead of their replies
LOAD_DEADLINE = 1800 if BIG else 60  # seconds for all three loads

# Values that zstd cannot shrink much: 48-byte windows of a seeded random blob.
_BLOB = random.Random(9).randbytes(8192)


def hash_value(i):
    off = (i * 1031) % 8000
    return b"v%d:" % i + _BLOB[off:off + 48]


def list_item(i):
    off = (i * 523) % 8000
    return b"i%d:" % i + _BLOB[off:off + 32]


def zset_score(i):
    return i * 2 + 1  # distinct, odd, so ranges between them are easy to state


def zset_member(i):
    return b"member:%d" % i


def vm_rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def pipelined(client, commands, deadline):
    """Sends each command of the iterable with at most IN_FLIGHT unanswered; every reply must
    be an integer (HSET/ZADD/RPUSH), returns the last."""
    pending = 0
    last = None

    def take():
        nonlocal last
        reply = client.reply()
        assert reply.startswith(b":"), reply[:200]
        last = int(reply[1:-2])

    for command in commands:
        client.send(encode(command))
        pending += 1
        while pending >= IN_FLIGHT:
            take()
            pending -= 1
        assert time.monotonic() < deadline, "loading took too long"
    while pending:
        take()
        pending -= 1
    return last


def hset_commands(key, n):
    for start in range(0, n, PER_COMMAND):
        args = [b"HSET", key]
        for i in range(start, min(n, start + PER_COMMAND)):
            args += [b"f%d" % i, hash_value(i)]
        yield args


def zadd_commands(key, n):
    # Members arrive in a scrambled order (a stride coprime to n), not sorted by score.
    stride = 7919 if n % 7919 else 7907
    for start in range(0, n, PER_COMMAND):
        args = [b"ZADD", key]
        for j in range(start, min(n, start + PER_COMMAND)):
            i = (j * stride) % n
            args += [b"%d" % zset_score(i), zset_member(i)]
        yield args


def rpush_commands(key, n):
    for start in range(0, n, PER_COMMAND):
        yield [b"RPUSH", key] + [list_item(i) for i in range(start, min(n, start + PER_COMMAND))]


def bulk(value):
    return b"$%d\r\n%s\r\n" % (len(value), value)


def array(values):
    return b"*%d\r\n" % len(values) + b"".join(bulk(v) for v in values)


def timed(client, command, expected, samples):
    started = time.monotonic()
    assert client.call(command) == expected, command
    samples.append(time.monotonic() - started)


def test_collections_larger_than_the_block_cache_answer_within_the_memory_budget(
        start_cascade):
    server = start_cascade("--shards", SHARDS, "--block-cache-size", BLOCK_CACHE,
                           "--memtable-size", MEMTABLE, "--appendfsync", "everysec",
                           "--wal-segment-size", "8mb", "--wal-segments", "4")
    client = Raw(server.port, timeout=60)
    try:
        assert client.call("PING") == b"+PONG\r\n"
        idle_rss = vm_rss(server.proc.pid)
        budget = (SHARDS * (BLOCK_CACHE + (1 + MAX_IMMUTABLE_MEMTABLES) * MEMTABLE)
                  + idle_rss + FIXED_SLACK)

        deadline = time.monotonic() + LOAD_DEADLINE
        peak = idle_rss
        started = time.monotonic()
        assert pipelined(client, hset_commands(b"big:hash", HASH_FIELDS), deadline) == PER_COMMAND
        hash_seconds = time.monotonic() - started
        peak = max(peak, vm_rss(server.proc.pid))
        started = time.monotonic()
        pipelined(client, zadd_commands(b"big:zset", ZSET_MEMBERS), deadline)
        zset_seconds = time.monotonic() - started
        peak = max(peak, vm_rss(server.proc.pid))
        started = time.monotonic()
        assert pipelined(client, rpush_commands(b"big:list", LIST_ITEMS), deadline) == LIST_ITEMS
        list_seconds = time.monotonic() - started
        peak = max(peak, vm_rss(server.proc.pid))

        assert client.call("HLEN big:hash") == b":%d\r\n" % HASH_FIELDS
        assert client.call("ZCARD big:zset") == b":%d\r\n" % ZSET_MEMBERS
        assert client.call("LLEN big:list") == b":%d\r\n" % LIST_ITEMS

        rng = random.Random(17)
        hget, zscore, zrange, lrange = [], [], [], []
        for _ in range(200):
            i = rng.randrange(HASH_FIELDS)
            timed(client, [b"HGET", b"big:hash", b"f%d" % i], bulk(hash_value(i)), hget)
        timed(client, [b"HGET", b"big:hash", b"f%d" % HASH_FIELDS], b"$-1\r\n", hget)
        for _ in range(200):
            i = rng.randrange(ZSET_MEMBERS)
            timed(client, [b"ZSCORE", b"big:zset", zset_member(i)], bulk(b"%d" % zset_score(i)),
                  zscore)
        for _ in range(50):
            i = rng.randrange(ZSET_MEMBERS - 20)
            # (min, max] between two members' scores: the 10 members after i.
            command = [b"ZRANGEBYSCORE", b"big:zset", b"%d" % (zset_score(i) + 1), b"+inf",
                       b"WITHSCORES", b"LIMIT", b"0", b"10"]
            expected = []
            for k in range(i + 1, i + 11):
                expected += [zset_member(k), b"%d" % zset_score(k)]
            timed(client, command, array(expected), zrange)
        for _ in range(50):
            i = rng.randrange(LIST_ITEMS - 100)
            timed(client, [b"LRANGE", b"big:list", b"%d" % i, b"%d" % (i + 99)],
                  array([list_item(k) for k in range(i, i + 100)]), lrange)
        i = rng.randrange(1, 100)
        assert client.call([b"LRANGE", b"big:list", b"-%d" % i, b"-1"]) == array(
            [list_item(k) for k in range(LIST_ITEMS - i, LIST_ITEMS)])
        peak = max(peak, vm_rss(server.proc.pid))

        storage = client.call("INFO storage").decode()
        sst_bytes = int(storage.split("storage_sst_bytes:")[1].split("\r\n")[0])
        print(f"\nbig collections ({'full size' if BIG else 'scaled 1/10'}): "
              f"{HASH_FIELDS} hash fields in {hash_seconds:.1f}s, {ZSET_MEMBERS} zset members "
              f"in {zset_seconds:.1f}s, {LIST_ITEMS} list items in {list_seconds:.1f}s; "
              f"tables {sst_bytes / MiB:.0f} MiB on disk; block cache {BLOCK_CACHE // MiB} MiB, "
              f"memtable {MEMTABLE // MiB} MiB, {SHARDS} shards; idle RSS "
              f"{idle_rss / MiB:.0f} MiB, peak RSS {peak / MiB:.0f} MiB, budget "
              f"{budget / MiB:.0f} MiB; median latency HGET {statistics.median(hget) * 1e3:.2f} "
              f"ms, ZSCORE {statistics.median(zscore) * 1e3:.2f} ms, ZRANGEBYSCORE LIMIT 10 "
              f"{statistics.median(zrange) * 1e3:.2f} ms, LRANGE 100 "
              f"{statistics.median(lrange) * 1e3:.2f} ms")
        # The data does not fit in the cache (or the test would prove nothing).
        assert sst_bytes > 4 * BLOCK_CACHE
        assert peak <= budget, f"peak RSS {peak / MiB:.0f} MiB over budget {budget / MiB:.0f} MiB"
    finally:
        client.close()


# ---- DEL of a big set ---------------------------------------------------------------------

DEL_MEMBERS = 1_000_000
FILLER_MEMBERS = 100_000


def sadd_commands(key, n, prefix=b"m"):
    for start in range(0, n, PER_COMMAND):
        yield [b"SADD", key] + [b"%s%d" % (prefix, i)
                                for i in range(start, min(n, start + PER_COMMAND))]


def storage(client):
    text = client.call("INFO storage").decode()
    fields = dict(line.split(":", 1) for line in text.split("\r\n")
                  if ":" in line and not line.startswith("#"))
    return {k: int(float(v)) for k, v in fields.items()}


def disk_bytes(client):
    s = storage(client)
    return s["storage_sst_bytes"] + s["storage_vlog_live_bytes"] + s["storage_vlog_garbage_bytes"]


def test_del_of_a_million_member_set_is_constant_time_and_its_space_returns(start_cascade):
    # Small memtables: the set's members reach tables, and the filler's flushes compact.
    server = start_cascade("--memtable-size", "1mb", "--appendfsync", "everysec")
    client = Raw(server.port, timeout=60)
    try:
        deadline = time.monotonic() + 120
        assert pipelined(client, sadd_commands(b"bigset", DEL_MEMBERS), deadline) == PER_COMMAND
        assert pipelined(client, sadd_commands(b"small", 10), deadline) == 10
        assert client.call("SCARD bigset") == b":%d\r\n" % DEL_MEMBERS
        before = disk_bytes(client)

        # DEL is one metadata write whatever the size: time it against a 10-member set.
        big, small = [], []
        started = time.monotonic()
        assert client.call("DEL bigset") == b":1\r\n"
        big.append(time.monotonic() - started)
        for _ in range(5):
            started = time.monotonic()
            assert client.call("DEL small") == b":1\r\n"
            small.append(time.monotonic() - started)
            assert pipelined(client, sadd_commands(b"small", 10), deadline) == 10
        print(f"\nDEL of {DEL_MEMBERS} members: {big[0] * 1e3:.2f} ms; of 10 members: median "
              f"{statistics.median(small) * 1e3:.2f} ms; tables before DEL {before / MiB:.1f} MiB")
        assert big[0] < 0.1 + 10 * statistics.median(small)

        assert client.call("SCARD bigset") == b":0\r\n"
        assert client.call("EXISTS bigset") == b":0\r\n"
        assert client.call("SMEMBERS bigset") == b"*0\r\n"
        assert client.call("SISMEMBER bigset m5") == b":0\r\n"
        assert client.call("SADD bigset m5 new") == b":2\r\n"
        assert client.call("SCARD bigset") == b":2\r\n"
        assert client.call("SISMEMBER bigset new") == b":1\r\n"
        assert client.call("SISMEMBER bigset m6") == b":0\r\n"
        assert client.call("DEL bigset") == b":1\r\n"

        # Space returns: compactions meet the dead members (the filler sets bigsea and bigsez
        # sort on either side of bigset, so every flush of them overlaps its tables), the
        # filter queues the dead version, the sweeper tombstones its members and later
        # compactions drop them.
        reclaimed = None
        waited = time.monotonic() + 60
        round_ = 0
        while time.monotonic() < waited:
            commands = []
            for start in range(0, FILLER_MEMBERS, PER_COMMAND):
                for key in (b"bigsea", b"bigsez"):
                    commands.append([b"SADD", key] + [b"r%dm%d" % (round_, i) for i in range(
                        start, start + PER_COMMAND // 2)])
            pipelined(client, commands, deadline + 60)
            assert client.call("DEL bigsea bigsez") == b":2\r\n"
            round_ += 1
            time.sleep(0.5)
            now = disk_bytes(client)
            if now < before // 2:
                reclaimed = now
                break
        print(f"tables after {round_} filler rounds: "
              f"{(reclaimed if reclaimed is not None else disk_bytes(client)) / MiB:.1f} MiB")
        assert reclaimed is not None, (before, disk_bytes(client), storage(client))
    finally:
        client.close()


# ---- whole-collection replies -------------------------------------------------------------

WHOLE_MEMBERS = 20_000  # replies of several hundred KiB: past the reply buffer's 16 KiB
                        # threshold, so encoded replies are handed over without a copy


def test_whole_collection_replies_match_redis_in_both_protocols(start_cascade, redis_server):
    cascade = start_cascade()
    servers = [Raw(cascade.port, timeout=60), Raw(redis_server.port, timeout=60)]
    try:
        servers[1].call("FLUSHALL")
        for client in servers:
            deadline = time.monotonic() + 60
            pipelined(client, sadd_commands(b"whole:set", WHOLE_MEMBERS), deadline)
            pipelined(client, hset_commands(b"whole:hash", WHOLE_MEMBERS), deadline)
            pipelined(client, rpush_commands(b"whole:list", WHOLE_MEMBERS), deadline)
            pipelined(client, zadd_commands(b"whole:zset", WHOLE_MEMBERS), deadline)
            pipelined(client, [[b"ZADD", b"whole:zset", b"0.1", b"tenth", b"-inf", b"low",
                                b"1e300", b"high"]], deadline)
        for protocol in (2, 3):
            replies = []
            for client in servers:
                client.call(f"HELLO {protocol}")
                replies.append([client.call(command) for command in (
                    "LRANGE whole:list 0 -1", "LRANGE whole:list 100 -100",
                    "ZRANGE whole:zset 0 -1", "ZRANGE whole:zset 0 -1 WITHSCORES",
                    "ZRANGEBYSCORE whole:zset -inf +inf WITHSCORES", "ZREVRANGE whole:zset 0 -1",
                    "SPOP whole:missing 5", "SMEMBERS whole:missing", "HGETALL whole:missing")])
                # Sets and hashes come in another order from redis-server: compare the
                # header and the elements as a multiset.
                for command in ("SMEMBERS whole:set", "HGETALL whole:hash", "HKEYS whole:hash",
                                "HVALS whole:hash"):
                    reply = client.call(command)
                    head, _, body = reply.partition(b"\r\n")
                    elements = body.split(b"\r\n")
                    if command.startswith("HGETALL"):
                        pairs = sorted(zip(elements[0:-1:4], elements[1:-1:4],
                                           elements[2:-1:4], elements[3:-1:4]))
                        replies[-1].append((head, pairs))
                    else:
                        replies[-1].append((head, sorted(zip(elements[0:-1:2],
                                                             elements[1:-1:2]))))
            assert replies[0] == replies[1], f"RESP{protocol}"
        # SPOP of more than the set holds answers every member (and deletes the key).
        for client in servers:
            client.call("HELLO 2")
        popped = [sorted(c.call(f"SPOP whole:set {WHOLE_MEMBERS + 1}").split(b"\r\n")[1:])
                  for c in servers]
        assert popped[0] == popped[1] and len(popped[0]) == 2 * WHOLE_MEMBERS + 1
        assert [c.call("EXISTS whole:set") for c in servers] == [b":0\r\n"] * 2
    finally:
        for client in servers:
            client.close()
