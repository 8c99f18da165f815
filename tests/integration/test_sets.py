"""The set family against the real binary: SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP
SRANDMEMBER SMOVE SINTER SINTERCARD SUNION SDIFF SINTERSTORE SUNIONSTORE SDIFFSTORE SSCAN.

Targeted cases check each command, option and error text against a real redis-server; a
seeded differential run compares every reply over keys on both shards (WRONGTYPE against a
string key included) in RESP2 and RESP3, with random replies compared on what Redis
promises (types, counts, membership, distinctness); SSCAN's guarantee, the multi-shard
SMOVE/*STORE atomicity under concurrent readers and persistence across a restart are
checked on cascade alone.

A failing random sequence prints its seed; CASCADE_SETS_SEED=<seed> replays it."""

import os
import random
import threading

import pytest

from conftest import Raw, compare_sequences, parse
from key_shards import key_shard, keys_on_each_shard

SHARDS = 2
KEYS = keys_on_each_shard(b"s", SHARDS, 3) + [b"{t}a", b"{t}b"]
STRING_KEY = b"str"
MEMBERS = [b"a", b"b", b"c", b"d", b"1", b"2", b"", b"\x00\xff", b"x" * 30]



def both(cascade, redis):
    clients = [Raw(cascade.port), Raw(redis.port)]
    clients[1].call("FLUSHALL")
    return clients


def sorted_reply(data):
    """A reply whose order is unspecified: its RESP type byte and its sorted elements."""
    if data.startswith(b"-"):
        return data
    value = parse(data)
    if isinstance(value, list):
        return data[:1], sorted(value)
    return data[:1], value


# ---- targeted cases, compared with redis-server --------------------------------------------

# Commands whose reply order is Redis's hash table order: compared as sorted.
UNORDERED = {b"SMEMBERS", b"SINTER", b"SUNION", b"SDIFF"}

SCRIPTS = [
    [b"SADD s a b c", b"SADD s a d", b"SCARD s", b"SISMEMBER s a", b"SISMEMBER s z",
     b"SMISMEMBER s a z b", b"SMISMEMBER nokey a", b"SMEMBERS s", b"SMEMBERS nokey",
     b"SREM s a z", b"SREM s z", b"SREM nokey a", b"SCARD s", b"SREM s b c d", b"EXISTS s",
     b"SCARD nokey", b"SISMEMBER nokey a"],
    [b"SET str v", b"SADD str a", b"SREM str a", b"SMEMBERS str", b"SISMEMBER str a",
     b"SMISMEMBER str a", b"SCARD str", b"SPOP str", b"SPOP str 2", b"SRANDMEMBER str",
     b"SRANDMEMBER str 2", b"SSCAN str 0", b"SINTER str", b"SUNION nokey str",
     b"SDIFF nokey str", b"SINTERCARD 1 str", b"SMOVE str s a", b"SADD s a",
     b"SMOVE s str a", b"SMOVE nokey str a", b"SINTERSTORE d str", b"SINTERSTORE str s",
     b"TYPE str", b"SMEMBERS str"],
    [b"SADD s a b c", b"SPOP s -1", b"SPOP s x", b"SPOP s 1 2", b"SPOP nokey", b"SPOP nokey 3",
     b"SPOP s 0", b"SRANDMEMBER s x", b"SRANDMEMBER s -9223372036854775808",
     b"SRANDMEMBER s 1 2", b"SRANDMEMBER nokey", b"SRANDMEMBER nokey 3",
     b"SRANDMEMBER nokey -3", b"SRANDMEMBER s 0", b"SRANDMEMBER s 3", b"SRANDMEMBER s 10",
     b"SPOP s 10", b"EXISTS s"],
    [b"SADD a 1 2 3 4", b"SADD b 3 4 5", b"SADD c 4 5 6", b"SINTER a b", b"SINTER a b c",
     b"SINTER a nokey", b"SUNION a b c", b"SUNION nokey", b"SDIFF a b", b"SDIFF a b c",
     b"SDIFF nokey a", b"SDIFF a nokey", b"SDIFF a a", b"SINTERCARD 2 a b",
     b"SINTERCARD 2 a b LIMIT 1", b"SINTERCARD 2 a b LIMIT 0", b"SINTERCARD 2 a b limit 5",
     b"SINTERCARD 1 a LIMIT 2 LIMIT 3", b"SINTERCARD 0 a", b"SINTERCARD -1 a",
     b"SINTERCARD x a", b"SINTERCARD 3 a b", b"SINTERCARD 1 a LIMIT", b"SINTERCARD 1 a LIMIT -1",
     b"SINTERCARD 1 a LIMIT x", b"SINTERCARD 1 a foo 1", b"SINTERCARD 2 a nokey"],
    [b"SADD a 1 2 3 4", b"SADD b 3 4 5", b"SET d x", b"EXPIRE d 100",
     b"SINTERSTORE d a b", b"TTL d", b"SMEMBERS d", b"SUNIONSTORE d a b", b"SMEMBERS d",
     b"SDIFFSTORE d a b", b"SMEMBERS d", b"SDIFFSTORE d b a", b"SMEMBERS d",
     b"SINTERSTORE d a nokey", b"EXISTS d", b"SUNIONSTORE a a b", b"SMEMBERS a",
     b"SINTERSTORE b b a", b"SMEMBERS b", b"SDIFFSTORE a a a", b"EXISTS a",
     b"SINTERSTORE", b"SUNIONSTORE d"],
    [b"SADD a 1 2", b"SADD b 2 3", b"EXPIRE b 100", b"SMOVE a b 1", b"SMEMBERS a",
     b"SMEMBERS b", b"TTL b", b"SMOVE a b 2", b"EXISTS a", b"SMEMBERS b", b"SMOVE a b 2",
     b"SMOVE b b 2", b"SMOVE b b 9", b"SMOVE b c 9", b"SMOVE b c 3", b"SMEMBERS c",
     b"TTL c", b"SMOVE b", b"SMOVE b c 1 2"],
    [b"SADD s a b c", b"SSCAN s x", b"SSCAN s 0 COUNT 0", b"SSCAN s 0 COUNT x",
     b"SSCAN s 0 MATCH", b"SSCAN s 0 TYPE set", b"SSCAN s 0 NOVALUES", b"SSCAN nokey 0",
     b"SSCAN nokey 0 COUNT 0", b"SSCAN s 0 MATCH a* COUNT 100", b"SSCAN s 0 COUNT 100",
     b"SSCAN s -1 COUNT 100 MATCH zz"],
]


def check_script(clients, script):
    for line in script:
        command = line.split(b" ")
        ours, theirs = (c.call(command) for c in clients)
        name = command[0].upper()
        if name in UNORDERED:
            assert sorted_reply(ours) == sorted_reply(theirs), line
        elif name == b"SSCAN" and ours[:1] == b"*" and theirs[:1] == b"*":
            # small sets: Redis answers everything at once; so does cascade with a big COUNT
            a, b = parse(ours), parse(theirs)
            assert a[0] == b[0] == b"0" and sorted(a[1]) == sorted(b[1]), line
        elif name in (b"SPOP", b"SRANDMEMBER") and not ours.startswith(b"-"):
            # random members: here every count asks for all or none of them
            assert sorted_reply(ours) == sorted_reply(theirs), line
        else:
            assert ours == theirs, line


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("script", range(len(SCRIPTS)))
def test_scripted_cases_match_redis(cascade, redis_clean, script, protocol):
    clients = both(cascade, redis_clean)
    for c in clients:
        c.call(f"HELLO {protocol}")
    check_script(clients, SCRIPTS[script])
    for c in clients:
        c.close()


def test_command_info_matches_redis(cascade, redis_server):
    # SINTERCARD is left out: its key specification (numkeys) has no form in the table yet.
    names = ("sadd srem smembers sismember smismember scard spop srandmember smove sinter "
             "sunion sdiff sinterstore sunionstore sdiffstore sscan")
    replies = [Raw(port).call("COMMAND INFO " + names) for port in (cascade.port, redis_server.port)]
    assert replies[0] == replies[1]


# ---- random members ------------------------------------------------------------------------

def fill(client, key, members):
    for start in range(0, len(members), 500):
        assert parse(client.call([b"SADD", key] + members[start:start + 500])) == \
            len(members[start:start + 500])


@pytest.mark.parametrize("size", [5, 300, 3000])
def test_srandmember_and_spop_answer_what_redis_promises(cascade, size):
    client = Raw(cascade.port)
    members = [b"member:%d" % i for i in range(size)]
    fill(client, b"r", members)
    everything = set(members)
    for count in (1, 3, size // 10 + 1, size - 1):
        got = parse(client.call([b"SRANDMEMBER", b"r", b"%d" % count]))
        assert len(got) == min(count, size) and len(set(got)) == len(got)
        assert set(got) <= everything
    got = parse(client.call([b"SRANDMEMBER", b"r", b"-50"]))
    assert len(got) == 50 and set(got) <= everything
    assert parse(client.call([b"SRANDMEMBER", b"r"])) in everything
    # draws spread: 200 single draws hit more than one member
    draws = {parse(client.call([b"SRANDMEMBER", b"r"])) for _ in range(200)}
    assert len(draws) > min(size - 1, 20)
    popped = parse(client.call([b"SPOP", b"r", b"%d" % (size // 3 + 1)]))
    assert len(popped) == size // 3 + 1 and len(set(popped)) == len(popped)
    assert set(popped) <= everything
    left = set(parse(client.call([b"SMEMBERS", b"r"])))
    assert left == everything - set(popped)
    assert parse(client.call([b"SCARD", b"r"])) == len(left)
    one = parse(client.call([b"SPOP", b"r"]))
    assert one in left
    assert parse(client.call([b"SISMEMBER", b"r", one])) == 0
    rest = parse(client.call([b"SPOP", b"r", b"%d" % size]))
    assert set(rest) == left - {one}
    assert parse(client.call([b"EXISTS", b"r"])) == 0


def test_spop_many_times_empties_the_set_without_repeats(cascade):
    client = Raw(cascade.port)
    members = [b"%d" % i for i in range(600)]
    fill(client, b"p", members)
    seen = []
    while len(seen) < 600:
        got = parse(client.call([b"SPOP", b"p", b"7"]))
        assert got, "SPOP returned nothing while members were left"
        seen += got
    assert sorted(seen) == sorted(members)
    assert parse(client.call([b"SCARD", b"p"])) == 0


# ---- SSCAN ---------------------------------------------------------------------------------

def full_scan(client, key, count, extra=()):
    cursor, seen, calls = b"0", [], 0
    while True:
        cursor, page = parse(client.call([b"SSCAN", key, cursor, b"COUNT", b"%d" % count] +
                                         list(extra)))
        seen += page
        calls += 1
        assert calls < 10000
        if cursor == b"0":
            return seen, calls


def test_sscan_returns_every_member_and_keeps_members_present_throughout(cascade):
    client = Raw(cascade.port)
    members = [b"m%04d" % i for i in range(1000)]
    fill(client, b"scan", members)
    seen, calls = full_scan(client, b"scan", 37)
    assert sorted(seen) == members and calls >= 1000 // 37
    matched, _ = full_scan(client, b"scan", 50, [b"MATCH", b"m00*"])
    assert sorted(matched) == [m for m in members if m.startswith(b"m00")]
    # members removed and added during the scan: every member present throughout is seen
    cursor, seen, step = b"0", set(), 0
    while True:
        cursor, page = parse(client.call([b"SSCAN", b"scan", cursor, b"COUNT", b"20"]))
        seen |= set(page)
        client.call([b"SREM", b"scan", members[(step * 7) % 1000]])
        client.call([b"SADD", b"scan", b"new%d" % step])
        step += 1
        if cursor == b"0":
            break
    removed = {members[(s * 7) % 1000] for s in range(step)}
    assert (set(members) - removed) <= seen


def test_sscan_cursor_survives_a_lost_resume_entry(cascade):
    # Thousands of other scans reuse the shard's resume slots; the cursor falls back to the
    # member's first bytes: repeats are allowed, misses are not.
    client = Raw(cascade.port)
    members = [b"same-prefix-%04d" % i for i in range(300)]
    fill(client, b"lost", members)
    fill(client, b"other", [b"o%d" % i for i in range(20)])
    cursor, page = parse(client.call([b"SSCAN", b"lost", b"0", b"COUNT", b"100"]))
    seen = set(page)
    assert cursor != b"0"
    for _ in range(4200):  # more than the 4096 resume slots
        client.send(b"*5\r\n$5\r\nSSCAN\r\n$5\r\nother\r\n$1\r\n0\r\n$5\r\nCOUNT\r\n$1\r\n1\r\n")
    for _ in range(4200):
        client.reply()
    while cursor != b"0":
        cursor, page = parse(client.call([b"SSCAN", b"lost", cursor, b"COUNT", b"100"]))
        seen |= set(page)
    assert seen == set(members)


# ---- multi-shard SMOVE and *STORE ----------------------------------------------------------

def test_smove_and_store_across_shards_are_atomic_for_readers(cascade):
    src, dst = keys_on_each_shard(b"mv", SHARDS)
    assert key_shard(src, SHARDS) != key_shard(dst, SHARDS)
    client = Raw(cascade.port)
    members = [b"%d" % i for i in range(40)]
    fill(client, src, members)
    errors = []
    stop = threading.Event()

    def reader():
        r = Raw(cascade.port, timeout=30)
        try:
            while not stop.is_set():
                total = parse(r.call([b"SUNION", src, dst]))
                count = parse(r.call([b"SINTERCARD", b"2", src, dst]))
                assert sorted(total) == sorted(members), "a member was missing or doubled"
                assert count == 0
        except Exception as e:
            errors.append(e)
        finally:
            r.close()

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for round_ in range(3):
            for m in members:
                a, b = (src, dst) if round_ % 2 == 0 else (dst, src)
                assert parse(client.call([b"SMOVE", a, b, m])) == 1
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors[0]
    assert sorted(parse(client.call([b"SMEMBERS", dst]))) == sorted(members)
    assert parse(client.call([b"EXISTS", src])) == 0
    # a store on the other shard than its sources
    other = keys_on_each_shard(b"st", SHARDS)
    dest = next(k for k in other if key_shard(k, SHARDS) != key_shard(dst, SHARDS))
    assert parse(client.call([b"SUNIONSTORE", dest, dst, b"nokey"])) == 40
    assert sorted(parse(client.call([b"SMEMBERS", dest]))) == sorted(members)
    assert parse(client.call([b"SINTERSTORE", dest, dst, dest])) == 40
    assert parse(client.call([b"SDIFFSTORE", dest, dst, dest])) == 0
    assert parse(client.call([b"EXISTS", dest])) == 0


def test_large_intersections_stream_in_chunks(cascade):
    # more members than one chunk (512), on both shards
    a, b = keys_on_each_shard(b"big", SHARDS)
    client = Raw(cascade.port)
    fill(client, a, [b"%05d" % i for i in range(3000)])
    fill(client, b, [b"%05d" % i for i in range(0, 6000, 2)])
    expected = [b"%05d" % i for i in range(0, 3000, 2)]
    assert sorted(parse(client.call([b"SINTER", a, b]))) == expected
    assert parse(client.call([b"SINTERCARD", b"2", a, b])) == 1500
    assert parse(client.call([b"SINTERCARD", b"2", a, b, b"LIMIT", b"700"])) == 700
    assert len(parse(client.call([b"SDIFF", a, b]))) == 1500
    assert parse(client.call([b"SDIFFSTORE", b"d", b, a])) == 1500
    assert parse(client.call([b"SUNIONSTORE", b"u", a, b])) == 4500


# ---- persistence ---------------------------------------------------------------------------

def test_sets_survive_a_restart(start_cascade):
    server = start_cascade("--appendfsync", "always")
    client = Raw(server.port)
    src, dst = keys_on_each_shard(b"keep", SHARDS)
    fill(client, src, [b"a", b"b", b"c", b"d"])
    assert parse(client.call([b"SMOVE", src, dst, b"a"])) == 1
    assert parse(client.call([b"SINTERSTORE", b"inter", src, src])) == 3
    assert parse(client.call([b"SREM", src, b"d"])) == 1
    client.close()
    server.stop()
    server = start_cascade("--appendfsync", "always")
    client = Raw(server.port)
    assert sorted(parse(client.call([b"SMEMBERS", src]))) == [b"b", b"c"]
    assert parse(client.call([b"SMEMBERS", dst])) == [b"a"]
    assert sorted(parse(client.call([b"SMEMBERS", b"inter"]))) == [b"b", b"c", b"d"]
    assert parse(client.call([b"SCARD", src])) == 2


# ---- the differential run ------------------------------------------------------------------

def pick_keys(rng, low, high):
    return [rng.choice(KEYS + [STRING_KEY, b"nokey"]) for _ in range(rng.randint(low, high))]


def random_command(rng):
    kind = rng.randrange(16)
    key = rng.choice(KEYS + [STRING_KEY])
    if kind in (0, 1, 2):
        return [b"SADD", key] + rng.sample(MEMBERS, rng.randint(1, 4))
    if kind == 3:
        return [b"SREM", key] + rng.sample(MEMBERS, rng.randint(1, 3))
    if kind == 4:
        return [rng.choice([b"SMEMBERS", b"SCARD"]), key]
    if kind == 5:
        return [b"SISMEMBER", key, rng.choice(MEMBERS)]
    if kind == 6:
        return [b"SMISMEMBER", key] + rng.sample(MEMBERS, rng.randint(1, 3))
    if kind == 7:
        return [b"SMOVE"] + pick_keys(rng, 2, 2) + [rng.choice(MEMBERS)]
    if kind == 8:
        return [rng.choice([b"SINTER", b"SUNION", b"SDIFF"])] + pick_keys(rng, 1, 4)
    if kind == 9:
        return [rng.choice([b"SINTERSTORE", b"SUNIONSTORE", b"SDIFFSTORE"])] + pick_keys(rng, 2, 4)
    if kind == 10:
        keys = pick_keys(rng, 1, 3)
        args = [b"SINTERCARD", b"%d" % len(keys)] + keys
        if rng.random() < 0.5:
            args += [b"LIMIT", rng.choice([b"0", b"1", b"2", b"-1", b"x"])]
        return args
    if kind == 11:
        # counts at least the size of any set here: deterministic replies
        return [rng.choice([b"SPOP", b"SRANDMEMBER"]), key, rng.choice([b"100", b"0", b"-1"])]
    if kind == 12:
        return [b"SSCAN", key, b"0", b"COUNT", b"100"] + rng.choice(
            [[], [b"MATCH", b"*"], [b"MATCH", b"[a-c]"], [b"COUNT", b"0"]])
    if kind == 13:
        return [b"SET", STRING_KEY, b"v"] if rng.random() < 0.5 else [b"DEL", key]
    if kind == 14:
        return [rng.choice([b"SADD", b"SMOVE", b"SINTERCARD", b"SPOP", b"SSCAN"])]
    return [b"EXISTS", key]


def same(command, ours, theirs):
    name = command[0].upper()
    if ours.startswith(b"-") or theirs.startswith(b"-"):
        return ours == theirs
    if name == b"SRANDMEMBER" and command[2] == b"-1":
        value = parse(ours)
        return ours[:1] == theirs[:1] and len(value) == len(parse(theirs)) <= 1
    if name in UNORDERED or name in (b"SPOP", b"SRANDMEMBER"):
        return sorted_reply(ours) == sorted_reply(theirs)
    if name == b"SSCAN":
        a, b = parse(ours), parse(theirs)
        return a[0] == b[0] == b"0" and sorted(a[1]) == sorted(b[1])
    return ours == theirs


SEEDS = [int(os.environ["CASCADE_SETS_SEED"])] if "CASCADE_SETS_SEED" in os.environ \
    else [11, 22]


@pytest.mark.parametrize("seed", SEEDS)
def test_random_set_commands_match_redis(start_cascade, redis_clean, seed):
    server = start_cascade("--appendfsync", "no")
    compare_sequences(server.port, redis_clean.port, seed, 1200, 2 + seed % 2, random_command,
                      reset="FLUSHALL", same=same)
