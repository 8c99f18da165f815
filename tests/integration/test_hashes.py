"""The hash family against the real binary: HSET HMSET HSETNX HGET HMGET HDEL HLEN HSTRLEN
HEXISTS HGETALL HKEYS HVALS HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN.

Targeted cases compare each command, option and error text with a real redis-server; a
seeded differential run compares every reply over keys on both shards (WRONGTYPE against a
string key included) in RESP2 and RESP3, random replies compared on what Redis promises;
HSCAN's guarantee and persistence across a restart are checked on cascade alone.

A failing random sequence prints its seed; CASCADE_HASHES_SEED=<seed> replays it."""

import os

import pytest

from conftest import Raw, compare_sequences, parse
from key_shards import keys_on_each_shard

SHARDS = 2
KEYS = keys_on_each_shard(b"h", SHARDS, 3)
STRING_KEY = b"str"
FIELDS = [b"f", b"g", b"n", b"", b"\x00\xff", b"long" * 8]
VALUES = [b"", b"v", b"10", b"-3", b"1.5", b"9223372036854775807", b"abc", b"3e2", b" 1"]



def pairs(value):
    """A flat [k, v, ...] list or RESP3's [[k, v], ...] as sorted (k, v) tuples."""
    if value and isinstance(value[0], list):
        return sorted(tuple(p) for p in value)
    return sorted(zip(value[0::2], value[1::2]))


UNORDERED = {b"HKEYS", b"HVALS"}


def same_reply(command, ours, theirs):
    name = command[0].upper()
    if ours.startswith(b"-") or theirs.startswith(b"-"):
        return ours == theirs
    if name in UNORDERED:
        return ours[:1] == theirs[:1] and sorted(parse(ours)) == sorted(parse(theirs))
    if name == b"HGETALL":
        return ours[:1] == theirs[:1] and pairs(parse(ours)) == pairs(parse(theirs))
    if name == b"HRANDFIELD":
        a, b = parse(ours), parse(theirs)
        if len(command) == 2:
            return (a is None) == (b is None) and ours[:1] == theirs[:1]
        if command[2].startswith(b"-"):
            return ours[:1] == theirs[:1] and len(a) == len(b)
        if len(command) == 4:
            return pairs(a) == pairs(b)
        return sorted(a) == sorted(b)
    if name == b"HSCAN":
        a, b = parse(ours), parse(theirs)
        return a[0] == b[0] == b"0" and pairs(a[1]) == pairs(b[1])
    return ours == theirs


SCRIPTS = [
    [b"HSET h f 1 g 2", b"HSETNX h f 9", b"HSETNX h z 9", b"HSETNX nokey2 a b", b"HGETALL nokey2",
     b"HMGET h f zz z", b"HMGET nokey a b", b"HKEYS h", b"HVALS h", b"HKEYS nokey",
     b"HVALS nokey", b"HSTRLEN h f", b"HSTRLEN h zz", b"HSTRLEN nokey f", b"HSETNX h",
     b"HMGET h", b"HSTRLEN h"],
    [b"HSET h i 10 s abc fl 1.5 big 9223372036854775800", b"HINCRBY h i 5", b"HINCRBY h i -20",
     b"HINCRBY h new 7", b"HINCRBY h s 1", b"HINCRBY h fl 1", b"HINCRBY h i x",
     b"HINCRBY h big 8", b"HINCRBY h big 7", b"HINCRBY h i 9223372036854775808",
     b"HINCRBY nokey f 3", b"HGET nokey f", b"HINCRBYFLOAT h fl 0.25", b"HINCRBYFLOAT h i 1.5",
     b"HINCRBYFLOAT h s 1", b"HINCRBYFLOAT h fl x", b"HINCRBYFLOAT h fl inf",
     b"HINCRBYFLOAT h fl nan", b"HINCRBYFLOAT h nf 1e308", b"HINCRBYFLOAT h nf 1e308",
     b"HINCRBYFLOAT h x2 3.0e2", b"HINCRBYFLOAT h x3 0x10", b"HINCRBYFLOAT h x4 -0",
     b"HGETALL h", b"HINCRBY h", b"HINCRBYFLOAT h f"],
    [b"SET str v", b"HSETNX str f v", b"HMGET str f", b"HKEYS str", b"HVALS str",
     b"HSTRLEN str f", b"HINCRBY str f 1", b"HINCRBY str f x", b"HINCRBYFLOAT str f 1",
     b"HINCRBYFLOAT str f x", b"HRANDFIELD str", b"HRANDFIELD str 2", b"HRANDFIELD str x",
     b"HSCAN str 0", b"HSCAN str x", b"HSCAN str 0 COUNT 0"],
    [b"HSET h a 1 b 2 c 3", b"HRANDFIELD h x", b"HRANDFIELD h 1 foo",
     b"HRANDFIELD h 1 withvalues x", b"HRANDFIELD h -9223372036854775808",
     b"HRANDFIELD h -4611686018427387904 withvalues",
     b"HRANDFIELD h 4611686018427387904 WITHVALUES", b"HRANDFIELD h 0",
     b"HRANDFIELD h 0 withvalues", b"HRANDFIELD nokey", b"HRANDFIELD nokey 3",
     b"HRANDFIELD nokey -3 withvalues", b"HRANDFIELD h 3", b"HRANDFIELD h 10 withvalues",
     b"HRANDFIELD h -2 WITHVALUES", b"HRANDFIELD h -5", b"HRANDFIELD h"],
    [b"HSET h a 1 b 2 c 3", b"HSCAN h x", b"HSCAN h 0 COUNT 0", b"HSCAN h 0 COUNT x",
     b"HSCAN h 0 MATCH", b"HSCAN h 0 TYPE hash", b"HSCAN h 0 NOVALUES", b"HSCAN nokey 0",
     b"HSCAN nokey 0 COUNT 0", b"HSCAN nokey x", b"HSCAN h 0 MATCH [ab] COUNT 100",
     b"HSCAN h 0 COUNT 100 MATCH *"],
]


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("script", range(len(SCRIPTS)))
def test_scripted_cases_match_redis(cascade, redis_clean, script, protocol):
    clients = [Raw(cascade.port), Raw(redis_clean.port)]
    clients[1].call("FLUSHALL")
    for c in clients:
        c.call(f"HELLO {protocol}")
    for line in SCRIPTS[script]:
        command = line.split(b" ")
        ours, theirs = (c.call(command) for c in clients)
        assert same_reply(command, ours, theirs), (line, ours, theirs)
    for c in clients:
        c.close()


def test_command_info_matches_redis(cascade, redis_server):
    names = ("hset hmset hsetnx hget hmget hdel hlen hstrlen hexists hgetall hkeys hvals "
             "hincrby hincrbyfloat hrandfield hscan")
    replies = [Raw(port).call("COMMAND INFO " + names) for port in (cascade.port, redis_server.port)]
    assert replies[0] == replies[1]


def fill(client, key, count):
    fields = []
    for start in range(0, count, 500):
        args = [b"HSET", key]
        for i in range(start, min(count, start + 500)):
            args += [b"field:%d" % i, b"value:%d" % i]
            fields.append(b"field:%d" % i)
        client.call(args)
    return fields


@pytest.mark.parametrize("size", [4, 250, 2000])
def test_hrandfield_answers_what_redis_promises(cascade, size):
    client = Raw(cascade.port)
    fields = set(fill(client, b"r", size))
    for count in (1, 5, size // 8 + 1, size - 1, size + 3):
        got = parse(client.call([b"HRANDFIELD", b"r", b"%d" % count]))
        assert len(got) == min(count, size) and len(set(got)) == len(got) and set(got) <= fields
    got = parse(client.call([b"HRANDFIELD", b"r", b"-40", b"WITHVALUES"]))
    assert len(got) == 80
    for field, value in zip(got[0::2], got[1::2]):
        assert field in fields and value == b"value:" + field[len(b"field:"):]
    client.call("HELLO 3")
    got = parse(client.call([b"HRANDFIELD", b"r", b"3", b"WITHVALUES"]))
    assert len(got) == min(3, size) and all(len(p) == 2 for p in got)
    assert len({p[0] for p in got}) == len(got)
    draws = {parse(client.call([b"HRANDFIELD", b"r"])) for _ in range(200)}
    assert draws <= fields and len(draws) > min(size - 1, 20)


def test_hscan_visits_every_field_with_its_value(cascade):
    client = Raw(cascade.port)
    fields = fill(client, b"scan", 700)
    cursor, seen, calls = b"0", {}, 0
    while True:
        cursor, page = parse(client.call([b"HSCAN", b"scan", cursor, b"COUNT", b"33"]))
        for field, value in zip(page[0::2], page[1::2]):
            seen[field] = value
        calls += 1
        # fields removed during the scan must not hide the others
        client.call([b"HDEL", b"scan", fields[calls * 3]])
        if cursor == b"0":
            break
    assert calls >= 700 // 33
    removed = {fields[i * 3] for i in range(1, calls + 1)}
    assert set(fields) - removed <= set(seen)
    assert all(seen[f] == b"value:" + f[len(b"field:"):] for f in seen)
    # MATCH filters after COUNT: a full scan returns exactly the matching fields
    cursor, matched = b"0", []
    while True:
        cursor, page = parse(client.call([b"HSCAN", b"scan", cursor, b"MATCH", b"field:1?",
                                          b"COUNT", b"50"]))
        matched += page[0::2]
        if cursor == b"0":
            break
    assert sorted(matched) == sorted(f for f in fields if len(f) == 8 and f.startswith(b"field:1")
                                     and f not in removed)


def test_hashes_survive_a_restart(start_cascade):
    server = start_cascade("--appendfsync", "always")
    client = Raw(server.port)
    client.call([b"HSET", b"k", b"a", b"1", b"b", b"2"])
    client.call([b"HINCRBY", b"k", b"a", b"41"])
    client.call([b"HINCRBYFLOAT", b"k", b"f", b"2.5"])
    client.call([b"HSETNX", b"k", b"b", b"9"])
    client.call([b"HDEL", b"k", b"b"])
    client.close()
    server.stop()
    server = start_cascade("--appendfsync", "always")
    client = Raw(server.port)
    assert pairs(parse(client.call([b"HGETALL", b"k"]))) == [(b"a", b"42"), (b"f", b"2.5")]
    assert parse(client.call([b"HLEN", b"k"])) == 2


def random_command(rng):
    kind = rng.randrange(14)
    key = rng.choice(KEYS + [STRING_KEY, b"nokey"])
    field = rng.choice(FIELDS)
    if kind in (0, 1):
        args = [rng.choice([b"HSET", b"HMSET"]), key]
        for f in rng.sample(FIELDS, rng.randint(1, 3)):
            args += [f, rng.choice(VALUES)]
        return args
    if kind == 2:
        return [b"HSETNX", key, field, rng.choice(VALUES)]
    if kind == 3:
        return [b"HMGET", key] + rng.sample(FIELDS, rng.randint(1, 3))
    if kind == 4:
        return [rng.choice([b"HKEYS", b"HVALS", b"HGETALL", b"HLEN"]), key]
    if kind == 5:
        return [rng.choice([b"HSTRLEN", b"HGET", b"HEXISTS"]), key, field]
    if kind == 6:
        return [b"HINCRBY", key, field, rng.choice([b"1", b"-5", b"100", b"x",
                                                      b"9223372036854775807"])]
    if kind == 7:
        return [b"HINCRBYFLOAT", key, field, rng.choice([b"1.5", b"-0.25", b"x", b"inf",
                                                           b"3e2", b"1e308"])]
    if kind == 8:
        return [b"HDEL", key] + rng.sample(FIELDS, rng.randint(1, 2))
    if kind == 9:
        return [b"HRANDFIELD", key] + rng.choice(
            [[], [b"100"], [b"100", b"WITHVALUES"], [b"-3"], [b"-2", b"WITHVALUES"], [b"0"],
             [b"x"], [b"1", b"foo"]])
    if kind == 10:
        return [b"HSCAN", key, b"0", b"COUNT", b"100"] + rng.choice(
            [[], [b"MATCH", b"[fg]"], [b"COUNT", b"0"]])
    if kind == 11:
        return [b"SET", STRING_KEY, b"v"] if rng.random() < 0.5 else [b"DEL", key]
    if kind == 12:
        return [rng.choice([b"HSETNX", b"HMGET", b"HINCRBY", b"HRANDFIELD", b"HSCAN"])]
    return [b"HGET", key, field]


SEEDS = [int(os.environ["CASCADE_HASHES_SEED"])] if "CASCADE_HASHES_SEED" in os.environ \
    else [31, 42]


@pytest.mark.parametrize("seed", SEEDS)
def test_random_hash_commands_match_redis(start_cascade, redis_clean, seed):
    server = start_cascade("--appendfsync", "no")
    compare_sequences(server.port, redis_clean.port, seed, 1200, 2 + seed % 2, random_command,
                      reset="FLUSHALL", same=same_reply)
