"""RENAME, RENAMENX, COPY and MOVE carry a collection's members, for every type, between
keys of one shard and of two, and between databases; the result matches redis-server's."""

import time

import pytest
import redis

from conftest import Raw, encode, parse
from key_shards import keys_on_each_shard

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


# ---- keys that appear by a move wake the clients blocked on them -----------------------------

def blocked_clients(raw):
    info = parse(raw.call(b"INFO clients")).decode()
    return int(info.split("blocked_clients:")[1].split("\r\n")[0])


def wait_blocked(raw, count, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and blocked_clients(raw) != count:
        time.sleep(0.01)
    assert blocked_clients(raw) == count


# (name, the waiter's database, the key it waits on, the command that makes that key).
# SRC and DST are on different shards of cascade; DUMP stands for src's DUMP payload.
WAKING_MOVES = [
    ("rename", 0, b"DST", [b"RENAME", b"SRC", b"DST"]),
    ("renamenx", 0, b"DST", [b"RENAMENX", b"SRC", b"DST"]),
    ("copy", 0, b"DST", [b"COPY", b"SRC", b"DST"]),
    ("copy-db", 1, b"DST", [b"COPY", b"SRC", b"DST", b"DB", b"1"]),
    ("move", 1, b"SRC", [b"MOVE", b"SRC", b"1"]),
    ("restore", 0, b"DST", [b"RESTORE", b"DST", b"0", b"DUMP"]),
    ("exec-rename", 0, b"DST", [b"EXEC", b"RENAME", b"SRC", b"DST"]),
]


def wake_by_move(port, kind, move):
    """Blocks a client on the key `move` creates from a list or sorted set, runs it from
    another connection; returns (move's reply, the waiter's reply)."""
    _, db, waited, command = move
    src, dst = keys_on_each_shard(b"wake", 2)
    names = {b"SRC": src, b"DST": dst}
    control = Raw(port)
    control.call(b"FLUSHALL")
    if kind == "list":
        control.call([b"RPUSH", src, b"a", b"b"])
    else:
        control.call([b"ZADD", src, b"1", b"a", b"2", b"b"])
    dump = parse(control.call([b"DUMP", src]))
    waiter = Raw(port, timeout=10)
    waiter.call([b"SELECT", str(db).encode()])
    pop = b"BLPOP" if kind == "list" else b"BZPOPMIN"
    waiter.send(encode([pop, names[waited], b"3"]))
    wait_blocked(control, 1)
    command = [names.get(a, dump if a == b"DUMP" else a) for a in command]
    if command[0] == b"EXEC":
        control.call(b"MULTI")
        control.call(command[1:])
        command = [b"EXEC"]
    reply = control.call(command)
    got = parse(waiter.reply())
    waiter.close()
    control.close()
    return reply, got


@pytest.mark.parametrize("kind", ["list", "zset"])
@pytest.mark.parametrize("move", WAKING_MOVES, ids=lambda m: m[0])
def test_a_key_made_by_a_move_wakes_its_waiters_as_in_redis(cascade, redis_server, kind, move):
    ours = wake_by_move(cascade.port, kind, move)
    assert ours[1] is not None, f"{move[0]} did not wake a client blocked on its key"
    assert ours == wake_by_move(redis_server.port, kind, move)
