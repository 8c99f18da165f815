"""Keyspace-wide commands against the real binary: KEYS, SCAN, RANDOMKEY, DBSIZE, FLUSHDB and
FLUSHALL across shards and databases, active expiry, OBJECT, and DUMP/RESTORE in both
directions with a real redis-server."""

import time

import pytest
import redis

from conftest import Raw

# Keys spread over both shards of the default two-shard fixture.
STABLE = [b"stable:%d" % i for i in range(300)]


def client(server, db=0):
    return redis.Redis(host="127.0.0.1", port=server.port, db=db, socket_timeout=10)


def full_scan(r, **kwargs):
    seen, cursor, calls = [], 0, 0
    while True:
        cursor, keys = r.scan(cursor, **kwargs)
        seen.extend(keys)
        calls += 1
        assert calls < 10000, "SCAN never finished"
        if cursor == 0:
            return seen, calls


def test_keys_dbsize_and_scan_see_every_shard_and_only_their_database(cascade):
    r0, r1 = client(cascade, 0), client(cascade, 1)
    for key in STABLE:
        r0.set(key, b"v")
    r1.set(b"other", b"v")
    assert r0.dbsize() == len(STABLE)
    assert r1.dbsize() == 1
    assert sorted(r0.keys("*")) == sorted(STABLE)
    assert sorted(r0.keys("stable:1?")) == sorted(b"stable:1%d" % i for i in range(10))
    assert r0.keys("nothing*") == []
    assert r1.keys("*") == [b"other"]
    seen, calls = full_scan(r0, count=7)
    assert set(seen) == set(STABLE)
    assert calls > len(STABLE) // 7 - 1  # COUNT bounds each call's work
    seen, _ = full_scan(r0, match="stable:2*", count=50)
    assert set(seen) == {k for k in STABLE if k.startswith(b"stable:2")}
    assert full_scan(r0, _type="string")[0] and not full_scan(r0, _type="hash")[0]


def test_scan_returns_every_key_present_for_the_whole_scan_despite_churn(cascade):
    r = client(cascade)
    for key in STABLE:
        r.set(key, b"v")
    seen, cursor, step = set(), 0, 0
    while True:
        cursor, keys = r.scan(cursor, count=5)
        seen.update(keys)
        # Keys that come and go around the stable ones while the scan runs.
        r.set(b"churn:%d" % step, b"x")
        r.set(b"stable:%d:after" % (step % 300), b"x")
        r.delete(b"churn:%d" % (step - 3))
        step += 1
        assert step < 5000
        if cursor == 0:
            break
    assert set(STABLE) <= seen


def test_a_scan_cursor_survives_a_restart_by_resuming_from_its_key_head(start_cascade):
    server = start_cascade()
    r = client(server)
    for key in STABLE:
        r.set(key, b"v")
    seen = set()
    cursor, keys = r.scan(0, count=40)
    seen.update(keys)
    cursor, keys = r.scan(cursor, count=40)
    seen.update(keys)
    assert cursor != 0
    server.stop()
    server = start_cascade()  # the same data directory; the cursor's token is gone
    r = client(server)
    while True:
        cursor, keys = r.scan(cursor, count=40)
        seen.update(keys)
        if cursor == 0:
            break
    assert seen == set(STABLE)


def test_scan_argument_errors_are_redis_errors(cascade, raw):
    c = raw(cascade.port)
    assert c.call(["SCAN", "abc"]) == b"-ERR invalid cursor\r\n"
    assert c.call(["SCAN", "0", "COUNT", "0"]) == b"-ERR syntax error\r\n"
    assert c.call(["SCAN", "0", "COUNT", "x"]) == b"-ERR value is not an integer or out of range\r\n"
    assert c.call(["SCAN", "0", "MATCH"]) == b"-ERR syntax error\r\n"
    assert c.call(["SCAN", "0", "FOO", "bar"]) == b"-ERR syntax error\r\n"
    assert c.call(["SCAN", "18446744073709551615"]).startswith(b"*2\r\n")


def test_randomkey_returns_keys_of_every_shard(cascade):
    r = client(cascade)
    assert r.randomkey() is None
    keys = [b"a", b"b", b"c", b"d", b"e", b"f"]
    for key in keys:
        r.set(key, b"v")
    seen = {r.randomkey() for _ in range(300)}
    assert seen == set(keys)  # every key comes up, the first and last of each shard too
    r.set(b"gone", b"v", px=1)
    r.delete(*keys)
    time.sleep(0.01)
    assert r.randomkey() is None  # an expired key is never returned


def test_flushdb_empties_only_the_selected_database_and_stays_flushed(start_cascade, raw):
    server = start_cascade()
    r0, r1 = client(server, 0), client(server, 1)
    for key in STABLE[:50]:
        r0.set(key, b"v")
        r1.set(key, b"w")
    assert r0.flushdb() is True
    assert r0.dbsize() == 0 and r0.get(STABLE[0]) is None
    assert r1.dbsize() == 50
    r0.set(b"new", b"1")
    c = raw(server.port)
    assert c.call(["FLUSHDB", "FOO"]) == b"-ERR syntax error\r\n"
    assert c.call(["FLUSHDB", "ASYNC", "SYNC"]) == b"-ERR syntax error\r\n"
    server.stop()
    server = start_cascade()
    r0, r1 = client(server, 0), client(server, 1)
    assert r0.keys("*") == [b"new"]
    assert r1.dbsize() == 50
    assert r1.flushall(asynchronous=True) is True
    assert r0.dbsize() == 0 and r1.dbsize() == 0
    r1.set(b"after", b"2")
    server.stop()
    server = start_cascade()
    assert client(server, 0).dbsize() == 0
    assert client(server, 1).keys("*") == [b"after"]


def test_active_expiry_deletes_expired_keys_nobody_touches(cascade):
    r = client(cascade)
    for i in range(40):
        r.set(b"short:%d" % i, b"v", px=100)
    for i in range(5):
        r.set(b"long:%d" % i, b"v")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if r.info("stats")["expired_keys"] >= 40:
            break
        time.sleep(0.1)
    assert r.info("stats")["expired_keys"] == 40
    assert r.dbsize() == 5
    assert sorted(full_scan(r)[0]) == sorted(b"long:%d" % i for i in range(5))


def test_object_answers_as_redis_for_strings(cascade, raw):
    r = client(cascade)
    r.set(b"int", b"123")
    r.set(b"big", b"12345678901234567890")
    r.set(b"short", b"x" * 44)
    r.set(b"long", b"x" * 45)
    assert r.object("encoding", b"int") == b"int"
    assert r.object("encoding", b"big") == b"embstr"
    assert r.object("encoding", b"short") == b"embstr"
    assert r.object("encoding", b"long") == b"raw"
    assert r.object("refcount", b"int") == 2147483647
    assert r.object("refcount", b"long") == 1
    assert r.object("idletime", b"int") == 0
    assert r.object("encoding", b"missing") is None
    c = raw(cascade.port)
    assert c.call(["OBJECT", "FREQ", "int"]).startswith(b"-ERR An LFU maxmemory policy is not selected")
    assert c.call(["OBJECT", "FOO"]) == b"-ERR unknown subcommand 'FOO'. Try OBJECT HELP.\r\n"
    assert c.call(["OBJECT", "HELP"]).startswith(b"*")


def test_object_names_strings_modified_in_place_raw_as_redis(start_cascade, clean_redis):
    """Redis stores a string it modified in place "raw" whatever its content, until a new
    value is written; the name survives EXPIRE, PERSIST, COPY, RENAME and MOVE, and a
    restart (the record's flag)."""
    steps = [
        ["SET", "a", "10"], ["APPEND", "a", "x"],              # raw "10x"
        ["APPEND", "fresh", "12"],                             # a new key: by content (int)
        ["SET", "b", "7"], ["APPEND", "b", ""],                # raw "7", refcount 1
        ["SETRANGE", "c", "0", "12"],                          # a new key, raw "12"
        ["SET", "d", "abc"], ["SETRANGE", "d", "1", ""],      # nothing written: embstr
        ["SETBIT", "e", "3", "1"],
        ["SET", "f", "xyz"], ["BITFIELD", "f", "SET", "u8", "0", "65"],
        ["SET", "g", "5"], ["BITFIELD", "g", "GET", "u8", "0"],  # a read: still int
        ["SET", "h1", "ab"], ["BITOP", "OR", "h", "h1", "h1"],
        ["SET", "i", "1"], ["APPEND", "i", "1"], ["INCR", "i"],  # INCR writes a new value
        ["SET", "j", "9"], ["APPEND", "j", "9"], ["EXPIRE", "j", "100"], ["PERSIST", "j"],
        ["COPY", "j", "k"], ["RENAME", "k", "l"], ["MOVE", "l", "1"],
        ["SET", "m", "1"], ["APPEND", "m", "2"], ["SET", "m", "12"],  # SET: by content
        ["SET", "n", "1"], ["APPEND", "n", "2"], ["GETEX", "n", "PX", "100000"],
    ]
    keys = ["a", "fresh", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "m", "n"]
    cascade = start_cascade()
    for name, server in (("cascade", cascade), ("redis", clean_redis)):
        r = client(server)
        for step in steps:
            r.execute_command(*step)
    c, rs = client(cascade), client(clean_redis)
    expected = {}
    for key in keys:
        theirs = (rs.object("encoding", key), rs.object("refcount", key) if rs.exists(key) else None)
        ours = (c.object("encoding", key), c.object("refcount", key) if c.exists(key) else None)
        assert ours == theirs, key
        expected[key] = ours
    assert client(cascade, 1).object("encoding", "l") == client(clean_redis, 1).object("encoding", "l") == b"raw"
    assert expected["a"][0] == b"raw" and expected["fresh"][0] == b"int"
    assert expected["j"][0] == b"raw" and expected["m"][0] == b"int"
    # The flag is stored with the value.
    assert cascade.stop() == 0
    c = client(start_cascade())
    for key in keys:
        assert (c.object("encoding", key), c.object("refcount", key) if c.exists(key) else None) == expected[key], key


@pytest.fixture
def clean_redis(redis_server):
    """The session's redis-server, emptied before and after (other tests compare with it)."""
    client(redis_server).flushall()
    yield redis_server
    client(redis_server).flushall()


VALUES = [b"", b"0", b"-129", b"70000", b"2147483648", b"007", b"hello",
          b"ab" * 40, bytes(range(256)), b"z" * 20000]


def test_dump_and_restore_move_strings_between_redis_and_cascade(cascade, clean_redis):
    c, rs = client(cascade), client(clean_redis)
    for i, value in enumerate(VALUES):
        key = b"v%d" % i
        rs.set(key, value)
        c.set(key, value)
        from_redis, from_cascade = rs.dump(key), c.dump(key)
        c.restore(b"r" + key, 0, from_redis)
        rs.restore(b"r" + key, 0, from_cascade)
        assert c.get(b"r" + key) == value
        assert rs.get(b"r" + key) == value
        if len(value) <= 20:  # Redis compresses longer values; cascade never does
            assert from_cascade == from_redis
    assert c.dump(b"missing") is None


def test_restore_options_and_errors(cascade, clean_redis, raw):
    r = client(cascade)
    r.set(b"src", b"hello")
    payload = r.dump(b"src")
    c = raw(cascade.port)
    assert c.call([b"RESTORE", b"src", b"0", payload]) == b"-BUSYKEY Target key name already exists.\r\n"
    assert c.call([b"RESTORE", b"src", b"0", payload, b"REPLACE"]) == b"+OK\r\n"
    assert c.call([b"RESTORE", b"k", b"-1", payload]) == b"-ERR Invalid TTL value, must be >= 0\r\n"
    assert c.call([b"RESTORE", b"k", b"0", payload[:-1] + b"x"]) == \
        b"-ERR DUMP payload version or checksum are wrong\r\n"
    assert c.call([b"RESTORE", b"k", b"0", payload, b"IDLETIME", b"-1"]) == \
        b"-ERR Invalid IDLETIME value, must be >= 0\r\n"
    assert c.call([b"RESTORE", b"k", b"0", payload, b"FREQ", b"256"]) == \
        b"-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n"
    assert c.call([b"RESTORE", b"k", b"0", payload, b"IDLETIME", b"1", b"FREQ", b"1"]) == \
        b"-ERR syntax error\r\n"
    assert c.call([b"RESTORE", b"k", b"5000", payload]) == b"+OK\r\n"
    assert 0 < r.pttl(b"k") <= 5000
    far = int(time.time() * 1000) + 100000
    assert c.call([b"RESTORE", b"abs", str(far).encode(), payload, b"ABSTTL", b"FREQ", b"3"]) == b"+OK\r\n"
    assert r.pexpiretime(b"abs") == far
    assert c.call([b"RESTORE", b"src", b"1", payload, b"ABSTTL", b"REPLACE"]) == b"+OK\r\n"
    assert r.exists(b"src") == 0  # a TTL in the past deletes the replaced key
    rs = client(clean_redis)
    rs.xadd(b"stream", {b"f": b"v"})  # streams are the one type cascade does not store
    assert c.call([b"RESTORE", b"stream", b"0", rs.dump(b"stream")]).startswith(
        b"-ERR DUMP payload holds a type")
