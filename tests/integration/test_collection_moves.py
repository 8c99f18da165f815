"""RENAME, RENAMENX, COPY and MOVE carry a collection's members, for every type, between
keys of one shard and of two, and between databases; the result matches redis-server's."""

import redis

# Keys on both shards of the two-shard fixture ({t} pins a pair to one shard).
NAMES = [(b"{t}src", b"{t}dst"), (b"src", b"dst"), (b"a", b"b"), (b"user:1", b"user:2")]


def client(server, db=0):
    return redis.Redis(host="127.0.0.1", port=server.port, db=db)


def fill(r, key, kind):
    if kind == "hash":
        r.hset(key, mapping={b"f%d" % i: b"v%d" % i for i in range(50)})
    elif kind == "list":
        r.rpush(key, *[b"e%d" % i for i in range(50)])
        r.lpush(key, b"head")
    elif kind == "set":
        r.sadd(key, *[b"m%d" % i for i in range(50)])
    else:
        r.zadd(key, {b"m%d" % i: i * 0.5 for i in range(50)})


def contents(r, key):
    kind = r.type(key)
    if kind == b"hash":
        return kind, sorted(r.hgetall(key).items())
    if kind == b"list":
        return kind, r.lrange(key, 0, -1)
    if kind == b"set":
        return kind, sorted(r.smembers(key))
    if kind == b"zset":
        return kind, r.zrange(key, 0, -1, withscores=True)
    return kind, None


def test_moves_carry_members_as_redis_does(cascade, redis_server):
    c, rs = client(cascade), client(redis_server)
    rs.flushall()
    try:
        for kind in ("hash", "list", "set", "zset"):
            for src, dst in NAMES:
                for r in (c, rs):
                    r.flushall()
                    fill(r, src, kind)
                    r.expire(src, 1000)
                    assert r.rename(src, dst)
                    r.copy(dst, src)
                    fill(r, b"other", "set")
                    r.copy(dst, b"other", replace=True)  # replaces a set with `kind`
                    r.move(src, 1)
                for key in (src, dst, b"other"):
                    assert contents(c, key) == contents(rs, key), (kind, key)
                assert contents(client(cascade, 1), src) == contents(client(redis_server, 1), src)
                assert 990 < c.ttl(dst) <= 1000
                # Editing the copy leaves the original alone.
                for r in (c, rs):
                    r.delete(dst) if kind == "list" else r.rename(dst, b"gone")
                assert contents(c, b"other") == contents(rs, b"other")
                assert c.exists(dst) == rs.exists(dst)
    finally:
        rs.flushall()


def test_a_renamed_collection_survives_restart(start_cascade):
    server = start_cascade()
    r = client(server)
    fill(r, b"h", "hash")
    assert r.rename(b"h", b"h2")
    assert r.renamenx(b"h2", b"user:9")
    server.stop()
    r = client(start_cascade())
    assert r.hlen(b"user:9") == 50
    assert r.hget(b"user:9", b"f7") == b"v7"
    assert r.exists(b"h", b"h2") == 0
