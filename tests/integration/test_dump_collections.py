"""DUMP and RESTORE of hashes, lists, sets and sorted sets between redis-server and cascade.

Each collection is built in redis-server, in a small form (which Redis 7.0 dumps in its
compact encodings: listpack, intset, quicklist of listpacks, sometimes LZF-compressed) and
a large one (plain encodings); its DUMP is restored into cascade, cascade's DUMP of that key
is restored back into redis-server, and the round trip must give redis-server the same
collection. So both directions of both codecs, and cascade's storage in between, are
checked against Redis itself."""

import redis

from conftest import Raw


def crc64(data):
    """Redis's CRC-64 (Jones polynomial, reflected)."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x95AC9329AC4BC9B5 if crc & 1 else 0)
    return crc


def reseal(body, version=10):
    """A DUMP payload: body, RDB version, checksum."""
    sealed = body + version.to_bytes(2, "little")
    return sealed + crc64(sealed).to_bytes(8, "little")


def client(server):
    return redis.Redis(host="127.0.0.1", port=server.port)


def contents(r, key):
    kind = r.type(key)
    if kind == b"hash":
        return kind, r.hgetall(key)
    if kind == b"list":
        return kind, r.lrange(key, 0, -1)
    if kind == b"set":
        return kind, r.smembers(key)
    if kind == b"zset":
        return kind, r.zrange(key, 0, -1, withscores=True)
    return kind, r.dump(key)


def build(rs):
    """Collections of every type and size in redis-server; returns their keys."""
    rs.hset(b"h:small", mapping={b"a": b"1", b"b": b"xyz", b"": b"empty field"})
    rs.hset(b"h:big", mapping={b"f%d" % i: b"v" * (i % 90) for i in range(300)})
    rs.rpush(b"l:small", b"0", b"1", b"2", b"-5", b"1000000", b"9007199254740993", b"")
    rs.rpush(b"l:big", *[b"e%d" % i for i in range(2000)], b"x" * 20000)
    rs.sadd(b"s:int", 1, 2, 300, -70000, 2**40)
    rs.sadd(b"s:str", b"x", b"-7", b"hello", bytes(range(256)))
    rs.sadd(b"s:big", *[b"m%d" % i for i in range(1000)])
    rs.zadd(b"z:small", {b"a": 1.5, b"b": -2, b"c": 0, b"d": float("inf"), b"e": float("-inf")})
    rs.zadd(b"z:big", {b"m%d" % i: i * 0.1 - 30 for i in range(500)})
    return [b"h:small", b"h:big", b"l:small", b"l:big", b"s:int", b"s:str", b"s:big",
            b"z:small", b"z:big"]


def test_collections_round_trip_between_redis_and_cascade(cascade, redis_server):
    rs, c = client(redis_server), client(cascade)
    rs.flushall()
    try:
        for key in build(rs):
            original = contents(rs, key)
            c.restore(key, 0, rs.dump(key))
            assert c.type(key) == original[0]
            back = b"back:" + key
            rs.restore(back, 0, c.dump(key))
            assert contents(rs, back) == original, key
        # cascade's own view of a restored hash, read with its commands.
        assert c.hgetall(b"h:small") == rs.hgetall(b"h:small")
        assert c.hlen(b"h:big") == 300
        assert c.hget(b"h:big", b"f89") == b"v" * 89
    finally:
        rs.flushall()


def test_restore_of_a_collection_keeps_ttl_replaces_and_survives_restart(start_cascade,
                                                                           redis_server):
    rs = client(redis_server)
    rs.flushall()
    try:
        rs.hset(b"src", mapping={b"f": b"v", b"g": b"w"})
        payload = rs.dump(b"src")
        rs.rpush(b"lst", b"a", b"b")
        list_payload = rs.dump(b"lst")
    finally:
        rs.flushall()
    server = start_cascade()
    c = client(server)
    c.hset(b"k", mapping={b"old": b"1"})
    raw = Raw(server.port)
    assert raw.call([b"RESTORE", b"k", b"0", payload]) == \
        b"-BUSYKEY Target key name already exists.\r\n"
    assert raw.call([b"RESTORE", b"k", b"100000", payload, b"REPLACE"]) == b"+OK\r\n"
    assert c.hgetall(b"k") == {b"f": b"v", b"g": b"w"}  # the old field is gone
    assert 0 < c.pttl(b"k") <= 100000
    # A list over a hash: the type changes with REPLACE.
    assert raw.call([b"RESTORE", b"k2", b"0", list_payload]) == b"+OK\r\n"
    assert c.type(b"k2") == b"list"
    # A damaged listpack inside a valid envelope (right version and checksum): refused as a
    # bad format, and nothing is written.
    body = bytearray(payload[:-10])
    assert body[0] == 16  # a hash as a listpack: type, length byte, then the listpack
    body[2 + 4] ^= 0x01   # its entry count
    damaged = reseal(bytes(body))
    assert raw.call([b"RESTORE", b"bad", b"0", damaged]) == b"-ERR Bad data format\r\n"
    assert c.exists(b"bad") == 0
    raw.close()
    server.stop()
    server = start_cascade()
    c = client(server)
    assert c.hgetall(b"k") == {b"f": b"v", b"g": b"w"}
    assert c.type(b"k2") == b"list"
    again = client(redis_server)
    try:
        again.restore(b"k2", 0, c.dump(b"k2"))
        assert again.lrange(b"k2", 0, -1) == [b"a", b"b"]
    finally:
        again.flushall()


def test_object_encoding_names_collections_as_redis_does(cascade, redis_server):
    """Collections restored from redis-server report Redis's encoding for the same content."""
    rs, c = client(redis_server), client(cascade)
    rs.flushall()
    try:
        cases = {
            b"h:lp": lambda k: rs.hset(k, mapping={b"f%d" % i: b"v" for i in range(512)}),
            b"h:many": lambda k: rs.hset(k, mapping={b"f%d" % i: b"v" for i in range(513)}),
            b"z:many": lambda k: rs.zadd(k, {b"m%d" % i: i for i in range(129)}),
            b"z:edge": lambda k: rs.zadd(k, {b"m%d" % i: i for i in range(128)}),
            b"h:long": lambda k: rs.hset(k, mapping={b"f": b"v" * 65}),
            b"s:int": lambda k: rs.sadd(k, *range(512)),
            b"s:many": lambda k: rs.sadd(k, *range(513)),
            b"s:str": lambda k: rs.sadd(k, 1, b"x"),
            b"s:noncanon": lambda k: rs.sadd(k, b"01"),
            b"z:lp": lambda k: rs.zadd(k, {b"m" * 64: 1}),
            b"z:long": lambda k: rs.zadd(k, {b"m" * 65: 1}),
            b"l": lambda k: rs.rpush(k, b"a"),
        }
        for key, make in cases.items():
            make(key)
            c.restore(key, 0, rs.dump(key))
            assert c.object("encoding", key) == rs.object("encoding", key), key
            assert c.object("refcount", key) == 1
    finally:
        rs.flushall()
