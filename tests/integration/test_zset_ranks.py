"""Ranks on sorted sets large enough to have a rank index of two levels (src/types/
zset_rank.h; buckets of 64-128 members, nodes of up to 32 separators: past ~3,000 members): ZRANK, ZREVRANK, ZRANGE by
rank, long LIMIT offsets, ZREMRANGEBYRANK and ZRANGESTORE against redis-server through a seeded mix of writes
that move members between buckets, and the index carried by COPY, RENAME, MOVE,
DUMP/RESTORE, *STORE, MULTI/EXEC and a restart. The index is built on demand, by the first
rank query more than 1,024 entries from both ends (src/types/zset.h): the first far ZRANK
inside MULTI/EXEC, or on a WATCHed key, behaves as redis-server's (a build is no change
of the key for WATCH)."""

import random

import pytest

from conftest import Raw, parse
from key_shards import keys_on_each_shard

SHARDS = 2
MEMBERS = 12000



def load(clients, key, rng, count):
    """ZADD `count` members in chunks; few distinct scores, so ties order by member."""
    for start in range(0, count, 1000):
        args = [b"ZADD", key]
        for i in range(start, min(count, start + 1000)):
            args += [b"%d" % rng.randrange(500), b"m%05d" % i]
        for c in clients:
            c.call(args)


def same(clients, command):
    replies = [parse(c.call(command)) for c in clients]
    assert replies[0] == replies[1], f"{command!r}\ncascade: {replies[0]!r}\nredis: {replies[1]!r}"
    return replies[0]


def rank_probes(clients, key, rng, size, count=25):
    for _ in range(count):
        member = b"m%05d" % rng.randrange(MEMBERS + 2000)
        same(clients, [b"ZRANK", key, member])
        same(clients, [b"ZREVRANK", key, member])
        start = rng.randrange(-size, size) if size else 0
        same(clients, [b"ZRANGE", key, b"%d" % start, b"%d" % (start + rng.randrange(12)),
                       b"WITHSCORES"])
        same(clients, [b"ZRANGE", key, b"%d" % start, b"%d" % (start + 5), b"REV"])
    # Long LIMIT offsets (a rank lookup plus a rank seek), both ways, past the end too.
    for _ in range(max(1, count // 5)):
        low = rng.randrange(-10, 400)
        offset = rng.choice([0, 1, 255, 256, 257, rng.randrange(size + 300)])
        same(clients, [b"ZRANGE", key, b"%d" % low, b"+inf", b"BYSCORE", b"LIMIT",
                       b"%d" % offset, b"4", b"WITHSCORES"])
        same(clients, [b"ZRANGE", key, b"(%d" % (low + 100), b"-inf", b"BYSCORE", b"REV",
                       b"LIMIT", b"%d" % offset, b"4"])
        same(clients, [b"ZRANGEBYSCORE", key, b"%d" % low, b"%d" % (low + 50), b"LIMIT",
                       b"%d" % offset, b"-1"])


@pytest.mark.parametrize("seed", [1, 2])
def test_ranks_of_a_large_set_match_redis_through_random_writes(cascade, redis_clean, seed):
    rng = random.Random(seed)
    print("seed", seed)
    clients = [Raw(cascade.port), Raw(redis_clean.port)]
    key = keys_on_each_shard(b"rank", SHARDS, 1)[seed % SHARDS]
    load(clients, key, rng, MEMBERS)
    for _ in range(150):
        op = rng.randrange(10)
        member = b"m%05d" % rng.randrange(MEMBERS + 2000)
        if op < 3:
            same(clients, [b"ZADD", key, b"%d" % rng.randrange(500), member,
                           b"%d" % rng.randrange(500), b"m%05d" % rng.randrange(MEMBERS)])
        elif op == 3:
            same(clients, [b"ZINCRBY", key, b"%d" % rng.randrange(-50, 50), member])
        elif op == 4:
            same(clients, [b"ZREM", key, member, b"m%05d" % rng.randrange(MEMBERS)])
        elif op == 5:
            same(clients, [rng.choice([b"ZPOPMIN", b"ZPOPMAX"]), key, b"%d" % rng.randrange(1, 60)])
        elif op == 6:
            start = rng.randrange(-3000, 3000)
            same(clients, [b"ZREMRANGEBYRANK", key, b"%d" % start,
                           b"%d" % (start + rng.randrange(300))])
        elif op == 7:
            low = rng.randrange(500)
            same(clients, [b"ZREMRANGEBYSCORE", key, b"%d" % low, b"(%d" % (low + 2)])
        else:
            same(clients, [b"ZADD", key, b"GT", b"CH", b"%d" % rng.randrange(500), member])
        size = same(clients, [b"ZCARD", key])
        rank_probes(clients, key, rng, size, 3)
    size = same(clients, [b"ZCARD", key])
    assert size > 5000
    rank_probes(clients, key, rng, size)
    for c in clients:
        c.close()


def test_copies_stores_restores_and_transactions_keep_ranks(cascade, redis_clean):
    rng = random.Random(11)
    clients = [Raw(cascade.port), Raw(redis_clean.port)]
    src, other = keys_on_each_shard(b"src", SHARDS, 1)
    load(clients, src, rng, MEMBERS)
    same(clients, [b"ZREMRANGEBYRANK", src, b"100", b"400"])
    size = same(clients, [b"ZCARD", src])
    # COPY and RENAME across shards, MOVE to another database: the records travel along.
    same(clients, [b"COPY", src, other])
    same(clients, [b"ZADD", other, b"7", b"new-one"])
    rank_probes(clients, other, rng, size + 1)
    same(clients, [b"RENAME", other, b"{x}renamed"])
    rank_probes(clients, b"{x}renamed", rng, size + 1)
    same(clients, [b"MOVE", b"{x}renamed", b"3"])
    for c in clients:
        c.call([b"SELECT", b"3"])
    rank_probes(clients, b"{x}renamed", rng, size + 1)
    same(clients, [b"ZREMRANGEBYRANK", b"{x}renamed", b"0", b"999"])
    rank_probes(clients, b"{x}renamed", rng, size - 999)
    for c in clients:
        c.call([b"SELECT", b"0"])
    # DUMP taken from cascade, restored into both servers (no index until a far rank).
    payload = parse(clients[0].call([b"DUMP", src]))
    for c in clients:
        c.call([b"RESTORE", b"{x}restored", b"0", payload])
    rank_probes(clients, b"{x}restored", rng, size)
    same(clients, [b"ZADD", b"{x}restored", b"1", b"zz-late"])
    rank_probes(clients, b"{x}restored", rng, size + 1)
    # Stores: a new version filled in bulk (no index until a far rank), then written to.
    same(clients, [b"ZRANGESTORE", b"{x}dst", src, b"50", b"9000"])
    rank_probes(clients, b"{x}dst", rng, 8951)
    same(clients, [b"ZUNIONSTORE", b"{x}union", b"2", src, b"{x}dst", b"WEIGHTS", b"1", b"2"])
    same(clients, [b"ZINCRBY", b"{x}union", b"3", b"m00042"])
    rank_probes(clients, b"{x}union", rng, size)
    # A transaction reads its own writes: the ranks after its earlier commands.
    for c in clients:
        assert parse(c.call([b"MULTI"])) == b"OK"
        c.call([b"ZADD", src, b"-1", b"aaa-first", b"1000", b"zzz-last"])
        c.call([b"ZRANK", src, b"aaa-first"])
        c.call([b"ZREVRANK", src, b"zzz-last"])
        c.call([b"ZREMRANGEBYRANK", src, b"0", b"4999"])
        c.call([b"ZRANK", src, b"zzz-last"])
        c.call([b"ZRANGE", src, b"100", b"104"])
    same(clients, [b"EXEC"])
    rank_probes(clients, src, rng, size + 2 - 5000)
    for c in clients:
        c.close()


def test_ranks_survive_a_restart(start_cascade):
    server = start_cascade()
    c = Raw(server.port)
    rng = random.Random(5)
    load([c], b"kept", rng, 10000)
    c.call([b"ZREM", b"kept", b"m00010", b"m05000"])
    probes = [[b"ZRANK", b"kept", b"m%05d" % i] for i in range(0, 10000, 97)]
    probes += [[b"ZRANGE", b"kept", b"%d" % r, b"%d" % (r + 3)] for r in range(0, 9998, 331)]
    before = [parse(c.call(p)) for p in probes]
    c.close()
    server.stop()
    server = start_cascade()
    c = Raw(server.port)
    assert [parse(c.call(p)) for p in probes] == before
    # And the index is still kept after the restart.
    c.call([b"ZADD", b"kept", b"-1", b"first"])
    assert parse(c.call([b"ZRANK", b"kept", b"first"])) == 0
    assert parse(c.call([b"ZRANK", b"kept", b"m00000"])) == before[0] + 1
    c.close()


def test_long_lex_offsets_on_one_score_match_redis(cascade, redis_clean):
    rng = random.Random(3)
    clients = [Raw(cascade.port), Raw(redis_clean.port)]
    for start in range(0, 3000, 1000):
        args = [b"ZADD", b"lex"]
        for i in range(start, start + 1000):
            args += [b"0", b"w%04d" % rng.randrange(10000)]
        for c in clients:
            c.call(args)
    for offset in [0, 256, 257, 1000, 2500, 2700, 5000]:
        same(clients, [b"ZRANGEBYLEX", b"lex", b"[w2", b"+", b"LIMIT", b"%d" % offset, b"3"])
        same(clients, [b"ZREVRANGEBYLEX", b"lex", b"(w8", b"-", b"LIMIT", b"%d" % offset, b"3"])
        same(clients, [b"ZRANGE", b"lex", b"-", b"+", b"BYLEX", b"LIMIT", b"%d" % offset, b"2"])
    for c in clients:
        c.close()


def test_first_far_rank_in_a_transaction_and_under_watch_matches_redis(cascade, redis_clean):
    """Sets filled by ZADD alone have no rank index: the first far ZRANK or ZRANGE builds
    it, here inside MULTI/EXEC and on WATCHed keys."""
    rng = random.Random(21)
    clients = [Raw(cascade.port), Raw(redis_clean.port)]
    others = [Raw(cascade.port), Raw(redis_clean.port)]
    keys = keys_on_each_shard(b"lazy", SHARDS, 3)
    for key in keys:
        load(clients, key, rng, 5000)
    by_shard = [keys[3 * i:3 * i + 3] for i in range(SHARDS)]
    # 1. The first far rank inside MULTI/EXEC, with writes before and after it.
    key = by_shard[0][0]
    for c in clients:
        assert parse(c.call([b"MULTI"])) == b"OK"
        c.call([b"ZRANGE", key, b"2500", b"2503", b"WITHSCORES"])
        c.call([b"ZADD", key, b"250", b"mid-new"])
        c.call([b"ZRANK", key, b"mid-new"])
        c.call([b"ZREVRANK", key, b"m02500"])
        c.call([b"ZREMRANGEBYRANK", key, b"2000", b"2100"])
        c.call([b"ZRANK", key, b"mid-new"])
    same(clients, [b"EXEC"])
    rank_probes(clients, key, rng, 5000 - 100)
    # 2. WATCH, then the key's first far rank by this client and by another: EXEC runs.
    for key in (by_shard[0][1], by_shard[1][0]):
        for c in clients:
            assert parse(c.call([b"WATCH", key])) == b"OK"
        same(clients, [b"ZRANK", key, b"m02500"])
        for o in others:
            o.call([b"ZRANGE", key, b"-2600", b"-2590"])
        for c in clients:
            assert parse(c.call([b"MULTI"])) == b"OK"
            c.call([b"ZADD", key, b"1", b"watched-add"])
            c.call([b"ZRANK", key, b"watched-add"])
        reply = same(clients, [b"EXEC"])
        assert reply is not None
    # 3. A far rank built inside a transaction that WATCHes its key and another client's
    # real write: EXEC still fails, as redis-server's, and nothing of it stays.
    key = by_shard[1][1]
    for c in clients:
        assert parse(c.call([b"WATCH", key])) == b"OK"
    same(others, [b"ZADD", key, b"3", b"from-another"])
    for c in clients:
        assert parse(c.call([b"MULTI"])) == b"OK"
        c.call([b"ZRANK", key, b"m02400"])
        c.call([b"ZADD", key, b"2", b"never"])
    assert same(clients, [b"EXEC"]) is None
    same(clients, [b"ZSCORE", key, b"never"])
    rank_probes(clients, key, rng, 5001)
    # 4. A far rank under WATCH on a key of the other shard, then EXEC of a read: not null.
    key = by_shard[1][2]
    for c in clients:
        assert parse(c.call([b"WATCH", key])) == b"OK"
        assert parse(c.call([b"MULTI"])) == b"OK"
        c.call([b"ZRANGE", key, b"1500", b"1501"])
    assert same(clients, [b"EXEC"]) is not None
    for c in clients + others:
        c.close()
