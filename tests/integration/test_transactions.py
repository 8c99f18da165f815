"""MULTI EXEC DISCARD WATCH UNWATCH against the real binary: Redis 7.0's replies and error
texts (scripted cases compared with a real redis-server, and seeded random transactions
compared reply for reply), WATCH across clients and shards, expiry and flushes, redis-py's
pipeline, atomicity across shards under concurrent readers, and crash atomicity of an EXEC
that writes on two shards.

A failing random sequence prints its seed; CASCADE_TRANSACTIONS_SEED=<seed> replays it."""

import os
import signal
import threading
import time

import pytest
import redis

from conftest import Raw, compare_sequences, encode, parse
from key_shards import key_shard, keys_on_each_shard

SHARDS = 2
A, B = keys_on_each_shard(b"tx", SHARDS)  # one key on each shard
C, D = keys_on_each_shard(b"coll", SHARDS)  # collection keys, one on each shard


def line(*parts):
    return b" ".join(parts)



def calls(client, lines):
    return [client.call(line if isinstance(line, list) else line.split(b" ")) for line in lines]


# ---- scripted cases, compared with redis-server -----------------------------------------

SCRIPTS = [
    # queued replies, runtime errors inside EXEC, an empty transaction
    [b"MULTI", b"SET a x", b"INCR a", b"GET a", b"EXEC", b"MULTI", b"EXEC"],
    # errors while queuing abort EXEC; MULTI and WATCH inside MULTI do not
    [b"MULTI", b"FOO bar", b"SET a 1", b"EXEC", b"GET a"],
    [b"MULTI", b"SET a", b"EXEC", b"EXISTS a"],
    [b"MULTI", b"SAVE", b"SET a 1", b"EXEC", b"EXISTS a"],
    [b"MULTI", b"MULTI", b"SET a 2", b"EXEC"],
    [b"MULTI", b"WATCH a", b"SET a 3", b"EXEC"],
    [b"MULTI", b"DISCARD foo", b"EXEC"],
    # EXEC refused for its arity ends the transaction at once
    [b"MULTI", b"PING", b"EXEC foo", b"SET a 4", b"EXEC"],
    [b"EXEC", b"DISCARD", b"UNWATCH", b"MULTI", b"UNWATCH", b"DISCARD", b"DISCARD"],
    # DISCARD drops the queue
    [b"SET a 1", b"MULTI", b"SET a 2", b"DISCARD", b"GET a"],
    # multi-key commands, hashes, keys on both shards
    [b"MULTI", b"MSET a 1 b 2 c 3", b"MGET a b c", b"DEL a b", b"EXISTS a b c",
     b"RENAME c d", b"GET d", b"HSET h f v g w", b"HGETALL h", b"HDEL h f", b"HLEN h",
     b"GET h", b"EXEC", b"MGET a b c d"],
    # writes are visible to later commands of the same transaction
    [b"SET n 5", b"MULTI", b"INCR n", b"INCRBY n 10", b"APPEND n x", b"GET n", b"DEL n",
     b"GET n", b"EXEC"],
    # SELECT inside MULTI moves the later commands (and keeps the client there)
    [b"MULTI", b"SELECT 2", b"SET sel 1", b"EXEC", b"GET sel", b"SELECT 0", b"GET sel"],
    # keys in other databases (MOVE, COPY DB) and a SELECT before a multi-key command
    [b"SET a 1", b"MULTI", b"COPY a b DB 1", b"MOVE a 2", b"SELECT 2", b"GET a", b"SELECT 1",
     b"MSET b 2 c 3", b"MGET a b c", b"EXEC", b"MGET a b c"],
    # a flush inside the transaction hides what was written before it
    [b"SET a 1", b"MULTI", b"SET b 2", b"FLUSHALL", b"GET b", b"SET c 3", b"EXEC",
     b"MGET a b c", b"DBSIZE"],
    # RESET inside MULTI ends it
    [b"MULTI", b"SET a x", b"RESET", b"GET a", b"EXEC"],
    # WATCH: own writes count, UNWATCH forgets
    [b"SET w 1", b"WATCH w", b"SET w 2", b"MULTI", b"GET w", b"EXEC"],
    [b"WATCH w", b"SET w 1", b"UNWATCH", b"MULTI", b"GET w", b"EXEC"],
    [b"WATCH w", b"DEL w", b"MULTI", b"GET w", b"EXEC"],
    [b"SET w 1", b"WATCH w", b"MULTI", b"DISCARD", b"SET w 2", b"MULTI", b"GET w", b"EXEC"],
    [b"SET w 1", b"WATCH w", b"RESET", b"SET w 2", b"MULTI", b"GET w", b"EXEC"],
    [b"SET w 1", b"WATCH w", b"FLUSHALL", b"MULTI", b"GET w", b"EXEC"],
    [b"WATCH w", b"FLUSHDB", b"MULTI", b"GET w", b"EXEC"],
    [b"SET w 1", b"WATCH w", b"SELECT 1", b"SET w 2", b"SELECT 0", b"MULTI", b"GET w", b"EXEC"],
    [b"HSET w f v", b"WATCH w", b"HSET w f v2", b"MULTI", b"HGET w f", b"EXEC"],
    [b"WATCH a b w", b"WATCH a", b"MSET a 1 b 2", b"MULTI", b"GET a", b"EXEC"],
    # WATCH sees the changes Redis signals, no more: SMOVE of a member the destination
    # holds already changes the source only; LTRIM keeping every element still counts
    # (differential findings)
    [line(b"SADD", C, b"a b"), line(b"SADD", D, b"a"), line(b"WATCH", D), line(b"SMOVE", C, D, b"a"),
     b"MULTI", b"PING", b"EXEC", line(b"WATCH", C), line(b"SMOVE", C, D, b"b"), b"MULTI", b"PING",
     b"EXEC", line(b"SMEMBERS", C), line(b"SCARD", D)],
    [b"RPUSH l a b", b"WATCH l", b"LTRIM l 0 -1", b"MULTI", b"PING", b"EXEC", b"WATCH l",
     b"LTRIM l 0 0", b"MULTI", b"PING", b"EXEC", b"WATCH l", b"LTRIM missing 0 -1", b"MULTI",
     b"PING", b"EXEC", b"LRANGE l 0 -1"],
    # a command whose keys the table does not name (ZINTERCARD, SINTERCARD: numkeys) runs
    # the EXEC again with its keys locked; the writes of the first try are not changes of
    # the client's own watched keys (differential finding: EXEC answered a null array)
    [b"WATCH w", b"MULTI", b"HSET w x y", b"ZINTERCARD 1 z", b"EXEC", b"WATCH w", b"MULTI",
     b"SADD s a", b"HSET w x z", b"SINTERCARD 2 s w", b"LMPOP 1 l LEFT", b"EXEC", b"HGETALL w"],
    # blocking list commands inside EXEC never wait: BLPOP/BLMPOP answer a null array,
    # BLMOVE/BRPOPLPUSH a null bulk; an element pushed earlier in the EXEC is served
    [b"MULTI", line(b"BLPOP", C, b"0"), line(b"BLMOVE", C, D, b"LEFT LEFT 0"),
     line(b"BRPOPLPUSH", C, D, b"0"), line(b"BLMPOP 0 1", C, b"LEFT"),
     line(b"RPUSH", C, b"x y z"), line(b"BLPOP", C, D, b"0"),
     line(b"BLMOVE", C, D, b"LEFT RIGHT 0"), line(b"BLMPOP 0 2", D, C, b"RIGHT COUNT 5"),
     line(b"LRANGE", C, b"0 -1"), b"EXEC", line(b"LRANGE", D, b"0 -1")],
    # collection commands over keys on both shards (TxnView: set algebra, SMOVE, zset
    # stores, LMOVE) see the writes queued before them and stage theirs in the EXEC
    [b"MULTI", line(b"SADD", C, b"a b c"), line(b"SADD", D, b"b c d"),
     line(b"SINTERSTORE", A, C, D), line(b"SCARD", A), line(b"SISMEMBER", A, b"b"),
     line(b"SMOVE", C, D, b"a"), line(b"SCARD", D), line(b"SDIFFSTORE", B, D, C),
     line(b"SISMEMBER", B, b"a"), b"EXEC", line(b"SCARD", A), line(b"SCARD", B),
     line(b"SISMEMBER", D, b"a"), line(b"SISMEMBER", C, b"a")],
    [b"MULTI", line(b"ZADD", C, b"1 a 2 b"), line(b"ZADD", D, b"3 b 4 c"),
     line(b"ZUNIONSTORE", A, b"2", C, D), line(b"ZRANGE", A, b"0 -1 WITHSCORES"),
     line(b"ZINTERSTORE", B, b"2", C, D, b"AGGREGATE MAX"), line(b"ZSCORE", B, b"b"),
     line(b"ZRANGESTORE", C, A, b"1 -1"), line(b"ZRANGE", C, b"0 -1"), b"EXEC",
     line(b"ZRANGE", A, b"0 -1 WITHSCORES"), line(b"ZRANGE", C, b"0 -1 WITHSCORES")],
    [b"MULTI", line(b"RPUSH", C, b"a b c"), line(b"LMOVE", C, D, b"LEFT RIGHT"),
     line(b"RPOPLPUSH", C, D), line(b"LMOVE", D, D, b"LEFT RIGHT"), line(b"LRANGE", D, b"0 -1"),
     line(b"LMPOP 2", D, C, b"LEFT COUNT 1"), b"EXEC", line(b"LRANGE", C, b"0 -1"),
     line(b"LRANGE", D, b"0 -1")],
    # keyspace-wide reads inside EXEC see the writes queued before them, on every shard
    # (differential finding: DBSIZE counted the committed keys only)
    [b"SET a 1", b"MULTI", b"DEL a", b"HSET h f v", b"DBSIZE", b"KEYS *", b"SCAN 0 COUNT 100",
     b"RANDOMKEY", line(b"SADD", C, b"x"), line(b"RPUSH", D, b"y"), b"DBSIZE",
     line(b"DEL", C, D), b"SCAN 0 TYPE hash", b"EXEC", b"DBSIZE"],
    # a WRONGTYPE inside EXEC does not stop the later commands
    [line(b"SET", C, b"s"), b"MULTI", line(b"SADD", C, b"a"), line(b"SUNIONSTORE", D, C),
     line(b"LMOVE", C, D, b"LEFT LEFT"), line(b"SADD", D, b"x"), b"EXEC", line(b"SCARD", D)],
]


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("script", range(len(SCRIPTS)))
def test_scripted_cases_match_redis(cascade, redis_clean, script, protocol):
    clients = [Raw(cascade.port), Raw(redis_clean.port)]
    clients[1].call("FLUSHALL")
    for c in clients:
        c.call(f"HELLO {protocol}")
    for line in SCRIPTS[script]:
        ours, theirs = (c.call(line.split(b" ")) for c in clients)
        assert ours == theirs, line
    for c in clients:
        c.close()


def test_command_info_matches_redis(cascade, redis_server):
    names = "multi exec discard watch unwatch"
    replies = [Raw(port).call("COMMAND INFO " + names) for port in (cascade.port, redis_server.port)]
    assert replies[0] == replies[1]


# ---- targeted cases ---------------------------------------------------------------------

def test_error_texts_and_queued_replies(cascade):
    c = Raw(cascade.port)
    assert c.call("EXEC") == b"-ERR EXEC without MULTI\r\n"
    assert c.call("DISCARD") == b"-ERR DISCARD without MULTI\r\n"
    assert c.call("MULTI") == b"+OK\r\n"
    assert c.call("MULTI") == b"-ERR MULTI calls can not be nested\r\n"
    assert c.call("WATCH x") == b"-ERR WATCH inside MULTI is not allowed\r\n"
    assert c.call("SET x 1") == b"+QUEUED\r\n"
    assert c.call("INCR x") == b"+QUEUED\r\n"
    assert c.call("NOSUCHCMD") == (b"-ERR unknown command 'NOSUCHCMD', with args beginning "
                                   b"with: \r\n")
    assert c.call("SAVE") == b"-ERR Command not allowed inside a transaction\r\n"
    assert c.call("EXEC") == b"-EXECABORT Transaction discarded because of previous errors.\r\n"
    assert c.call("GET x") == b"$-1\r\n"  # nothing ran
    assert c.call("MULTI") == b"+OK\r\n"
    assert c.call("SET x a") == b"+QUEUED\r\n"
    assert c.call("INCR x") == b"+QUEUED\r\n"
    assert c.call("GET x") == b"+QUEUED\r\n"
    assert c.call("EXEC") == (b"*3\r\n+OK\r\n-ERR value is not an integer or out of range\r\n"
                              b"$1\r\na\r\n")
    assert c.call("MULTI") == b"+OK\r\n"
    assert c.call("EXEC x") == (b"-EXECABORT Transaction discarded because of: wrong number of "
                                b"arguments for 'exec' command\r\n")
    assert c.call("EXEC") == b"-ERR EXEC without MULTI\r\n"


def test_pipelined_commands_inside_multi_are_queued_not_batched(cascade):
    # GET and SET sent in one write would run as one key batch outside MULTI; inside it
    # they are queued, and run in the EXEC with its atomicity.
    c = Raw(cascade.port)
    c.send(encode(b"MULTI") + encode(line(b"SET", A, b"1")) + encode(line(b"GET", A)) +
           encode(line(b"SET", B, b"2")) + encode(line(b"GET", B)) + encode(b"EXEC"))
    assert [c.reply() for _ in range(5)] == [b"+OK\r\n"] + [b"+QUEUED\r\n"] * 4
    assert c.reply() == b"*4\r\n+OK\r\n$1\r\n1\r\n+OK\r\n$1\r\n2\r\n"


def test_pipelined_plain_sets_touch_watches(cascade):
    # A run of plain SETs in one write is one blind engine write (Keyspace::put_strings).
    watcher, writer = Raw(cascade.port), Raw(cascade.port)
    assert watcher.call(line(b"WATCH", A, B)) == b"+OK\r\n"
    writer.send(encode(line(b"SET", b"other", b"0")) + encode(line(b"SET", B, b"1")) +
                encode(line(b"SET", b"more", b"2")))
    assert [writer.reply() for _ in range(3)] == [b"+OK\r\n"] * 3
    assert calls(watcher, [b"MULTI", line(b"SET", A, b"x"), b"EXEC"]) == [
        b"+OK\r\n", b"+QUEUED\r\n", b"*-1\r\n"]
    assert watcher.call(line(b"GET", A)) == b"$-1\r\n"


@pytest.mark.parametrize("push", [
    lambda: line(b"RPUSH", C, b"v"),
    lambda: line(b"LMOVE", D, C, b"LEFT LEFT"),  # from the other shard
])
def test_exec_wakes_clients_blocked_on_the_keys_it_pushed_to(cascade, push):
    blocked, pusher = Raw(cascade.port), Raw(cascade.port)
    assert pusher.call(line(b"DEL", C, D)) in (b":0\r\n", b":1\r\n", b":2\r\n")
    assert pusher.call(line(b"RPUSH", D, b"v")) == b":1\r\n"
    blocked.send(encode(line(b"BLPOP", C, b"4")))
    deadline = time.monotonic() + 2
    while b"cmd=blpop" not in pusher.call(b"CLIENT LIST") and time.monotonic() < deadline:
        time.sleep(0.01)
    start = time.monotonic()
    assert calls(pusher, [b"MULTI", push(), b"EXEC"])[:2] == [b"+OK\r\n", b"+QUEUED\r\n"]
    assert blocked.reply() == b"*2\r\n$%d\r\n%s\r\n$1\r\nv\r\n" % (len(C), C)
    assert time.monotonic() - start < 2  # woken by the EXEC, not timed out (4 s)
    assert pusher.call(line(b"LLEN", C)) == b":0\r\n"


def test_quit_inside_multi_closes_without_running_the_queue(cascade):
    c = Raw(cascade.port)
    assert calls(c, [b"MULTI", b"SET q 1"]) == [b"+OK\r\n", b"+QUEUED\r\n"]
    c.send(encode("QUIT"))
    assert c.read_until_closed() == b"+OK\r\n"
    assert Raw(cascade.port).call("EXISTS q") == b":0\r\n"


def watch_then_exec(client, key, between):
    """WATCH key, run `between`, then MULTI GET key EXEC; returns EXEC's raw reply."""
    assert client.call([b"WATCH", key]) == b"+OK\r\n"
    between()
    assert client.call("MULTI") == b"+OK\r\n"
    assert client.call([b"GET", key]) == b"+QUEUED\r\n"
    return client.call("EXEC")


def test_watch_sees_another_client_write_a_key_on_another_shard(cascade):
    c, other = Raw(cascade.port), Raw(cascade.port)
    for key in (A, B):
        assert c.call([b"SET", key, b"old"]) == b"+OK\r\n"
    # The connection's shard is one of two; watch a key of each shard.
    for key in (A, B):
        assert watch_then_exec(c, key, lambda: None) == b"*1\r\n$3\r\nold\r\n"
        reply = watch_then_exec(c, key, lambda: other.call([b"SET", key, b"new"]))
        assert reply == b"*-1\r\n"
        # Watches end with EXEC: the next transaction runs.
        assert calls(c, [b"MULTI", [b"GET", key], b"EXEC"])[-1] == b"*1\r\n$3\r\nnew\r\n"


def test_failed_exec_is_a_null_array_in_both_protocols(cascade):
    c, other = Raw(cascade.port), Raw(cascade.port)
    for protocol, null in ((2, b"*-1\r\n"), (3, b"_\r\n")):
        c.call(f"HELLO {protocol}")
        assert c.call([b"WATCH", A]) == b"+OK\r\n"
        other.call([b"SET", A, b"%d" % protocol])
        assert calls(c, [b"MULTI", [b"SET", A, b"mine"], b"EXEC"]) == [b"+OK\r\n", b"+QUEUED\r\n",
                                                                       null]
        assert other.call([b"GET", A]) == b"$1\r\n%d\r\n" % protocol  # the SET did not run


def test_watch_fails_on_writes_by_multi_key_commands_and_other_transactions(cascade):
    c, other = Raw(cascade.port), Raw(cascade.port)
    assert watch_then_exec(c, A, lambda: other.call([b"MSET", A, b"1", B, b"1"])) == b"*-1\r\n"
    assert watch_then_exec(c, B, lambda: other.call([b"DEL", A, B])) == b"*-1\r\n"
    assert watch_then_exec(c, B, lambda: calls(other, [b"MULTI", [b"SET", B, b"2"],
                                                       b"EXEC"])) == b"*-1\r\n"
    assert watch_then_exec(c, A, lambda: other.call([b"HSET", A + b"h", b"f", b"v"])) == \
        b"*1\r\n$-1\r\n"  # another key: no effect
    assert watch_then_exec(c, A, lambda: other.call([b"RENAME", B, A])) == b"*-1\r\n"
    # A write that changes nothing (DEL of a missing key) leaves the watch intact.
    assert watch_then_exec(c, A, lambda: other.call([b"DEL", b"missing"])) == b"*1\r\n$1\r\n2\r\n"


def test_watch_fails_when_the_watched_key_expires(cascade):
    c = Raw(cascade.port)
    assert c.call([b"SET", A, b"v", b"PX", b"300"]) == b"+OK\r\n"
    assert watch_then_exec(c, A, lambda: time.sleep(0.5)) == b"*-1\r\n"
    # Already expired when watched: its deletion is no change.
    assert c.call([b"SET", B, b"v", b"PX", b"50"]) == b"+OK\r\n"
    time.sleep(0.2)
    assert watch_then_exec(c, B, lambda: c.call([b"EXISTS", B])) == b"*1\r\n$-1\r\n"
    # A key with a far expiry is unaffected.
    assert c.call([b"SET", A, b"v", b"EX", b"1000"]) == b"+OK\r\n"
    assert watch_then_exec(c, A, lambda: None) == b"*1\r\n$1\r\nv\r\n"


def test_flushes_fail_watches_of_existing_keys_only(cascade):
    c, other = Raw(cascade.port), Raw(cascade.port)
    assert c.call([b"SET", A, b"v"]) == b"+OK\r\n"
    assert watch_then_exec(c, A, lambda: other.call("FLUSHALL")) == b"*-1\r\n"
    assert watch_then_exec(c, B, lambda: other.call("FLUSHALL")) == b"*1\r\n$-1\r\n"
    assert c.call([b"SET", B, b"v"]) == b"+OK\r\n"
    assert watch_then_exec(c, B, lambda: other.call("FLUSHDB")) == b"*-1\r\n"
    # A flush of another database leaves database 0's watches alone.
    assert c.call([b"SET", B, b"v"]) == b"+OK\r\n"
    assert watch_then_exec(c, B, lambda: calls(other, [b"SELECT 3", b"FLUSHDB"])) == \
        b"*1\r\n$1\r\nv\r\n"
    # After a flush, a later write to a watched key that was missing is still seen.
    assert watch_then_exec(c, A, lambda: (other.call("FLUSHALL"),
                                          other.call([b"SELECT", b"0"]),
                                          other.call([b"SET", A, b"x"]))) == b"*-1\r\n"


# ---- redis-py ---------------------------------------------------------------------------

def test_redis_py_pipeline_with_transaction(cascade):
    r = redis.Redis(port=cascade.port)
    with r.pipeline(transaction=True) as pipe:
        pipe.set(A, b"1").incr(A).mset({B: b"b", b"k3": b"c"}).get(B).hset(b"h", mapping={
            b"f": b"v"}).hgetall(b"h").delete(A, b"k3")
        assert pipe.execute() == [True, 2, True, b"b", 1, {b"f": b"v"}, 2]
    with r.pipeline(transaction=True) as pipe:
        pipe.set(A, b"x").incr(A).get(A)
        results = pipe.execute(raise_on_error=False)
        assert results[0] is True and isinstance(results[1], redis.ResponseError)
        assert results[2] == b"x"


def test_redis_py_watch_retry_loop(cascade):
    r = redis.Redis(port=cascade.port)
    r.set(A, 0)
    other = redis.Redis(port=cascade.port)
    conflicts = 0
    for attempt in range(5):
        with r.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(A)
                value = int(pipe.get(A))
                if attempt < 2:
                    other.incr(A)  # a concurrent change: this attempt must fail
                pipe.multi()
                pipe.set(A, value + 10)
                pipe.execute()
                break
            except redis.WatchError:
                conflicts += 1
    assert conflicts == 2
    assert int(r.get(A)) == 12


# ---- seeded random transactions, compared with redis-server -----------------------------

# String keys and hash keys apart: RENAME and COPY stay on strings (moving collections is
# the collection commands' business), hashes see WRONGTYPE through string commands.
KEYS = keys_on_each_shard(b"r", SHARDS, 3) + [b"{t}a", b"{t}b"]
HKEYS = keys_on_each_shard(b"h", SHARDS, 2)
VALUES = [b"", b"1", b"-3", b"abc", b"10", b"x" * 20]
FIELDS = [b"f", b"g", b"h"]


def random_inner(rng):
    """One command for inside a transaction (sometimes a mistake)."""
    key = rng.choice(KEYS)
    hkey = rng.choice(HKEYS)
    kind = rng.randrange(21)
    if kind < 3:
        return [b"SET", key, rng.choice(VALUES)]
    if kind < 5:
        return [b"GET", rng.choice([key, key, hkey])]
    if kind == 5:
        return [rng.choice([b"INCR", b"DECR"]), rng.choice([key, key, hkey])]
    if kind == 6:
        return [b"APPEND", key, rng.choice(VALUES)]
    if kind == 7:
        return [b"DEL"] + [rng.choice(KEYS + HKEYS) for _ in range(rng.randint(1, 3))]
    if kind == 8:
        args = [b"MSET"]
        for k in rng.sample(KEYS, rng.randint(1, 3)):
            args += [k, rng.choice(VALUES)]
        return args
    if kind == 9:
        return [b"MGET"] + [rng.choice(KEYS + HKEYS) for _ in range(rng.randint(1, 4))]
    if kind == 10:
        return [b"HSET", hkey, rng.choice(FIELDS), rng.choice(VALUES)]
    if kind == 11:
        return [rng.choice([b"HGET", b"HDEL", b"HEXISTS"]), rng.choice([hkey, hkey, key]),
                rng.choice(FIELDS)]
    if kind == 12:
        return [b"HLEN", hkey]  # not HGETALL: redis-server keeps fields in insertion order
    if kind == 13:
        return [rng.choice([b"RENAME", b"COPY"]), key, rng.choice(KEYS)]
    if kind == 14:
        return [b"EXISTS"] + rng.sample(KEYS + HKEYS, 2)
    if kind == 15:
        return [b"SELECT", rng.choice([b"0", b"1"])]
    if kind == 16:
        return [rng.choice([b"TYPE", b"STRLEN"]), rng.choice([key, hkey])]
    if kind == 17:
        return [b"PING"]
    if kind == 18:
        return rng.choice([[b"SET", key], [b"NOSUCHCMD", key], [b"WATCH", key], [b"MULTI"],
                           [b"GET"]])
    if kind == 19:
        return [b"HMSET", hkey, rng.choice(FIELDS), b"m", rng.choice(FIELDS), b"n"]
    return [b"EXPIRE", rng.choice([key, hkey]), b"1000"]


def transaction_maker():
    """make_command for compare_sequences: MULTI, some commands, then EXEC or DISCARD; now
    and then WATCH keys and write one of them first (on the same connection, so both
    servers see the same order)."""
    pending = []

    def make(rng):
        if not pending:
            block = []
            if rng.random() < 0.3:
                watched = rng.sample(KEYS + HKEYS, 2)
                block.append([b"WATCH"] + watched)
                if rng.random() < 0.5:
                    block.append([b"DEL", rng.choice(watched + KEYS)])
                if rng.random() < 0.2:
                    block.append([b"UNWATCH"])
            block.append([b"MULTI"])
            block += [random_inner(rng) for _ in range(rng.randint(0, 6))]
            block.append([b"DISCARD"] if rng.random() < 0.1 else [b"EXEC"])
            block.append([b"SELECT", b"0"])
            pending.extend(block)
        return pending.pop(0)
    return make


SEEDS = [int(os.environ["CASCADE_TRANSACTIONS_SEED"])] \
    if "CASCADE_TRANSACTIONS_SEED" in os.environ else [11, 22]


@pytest.mark.parametrize("seed", SEEDS)
def test_random_transactions_match_redis(start_cascade, redis_clean, seed):
    server = start_cascade("--appendfsync", "no")
    for protocol in (2, 3):
        Raw(server.port).call("FLUSHALL")  # compare_sequences empties only redis-server
        compare_sequences(server.port, redis_clean.port, seed + protocol, 700, protocol,
                          transaction_maker(), reset="FLUSHALL")


# ---- atomicity --------------------------------------------------------------------------

def test_readers_never_see_half_of_an_exec_across_shards(start_cascade, monkeypatch):
    # Every multi-shard commit waits between its first shard's part and the others', so a
    # reader not held off by the EXEC's fences would see the first part alone.
    monkeypatch.setenv("CASCADE_DEBUG_PART_DELAY_MS", "5")
    cascade = start_cascade()
    keys = keys_on_each_shard(b"at", SHARDS, 2)
    assert {key_shard(k, SHARDS) for k in keys} == set(range(SHARDS))
    rounds = 100
    errors = []
    done = threading.Event()

    def writer():
        client = Raw(cascade.port, timeout=30)
        try:
            for r in range(1, rounds + 1):
                block = [b"MULTI"] + [[b"SET", k, b"%d" % r] for k in keys] + [b"EXEC"]
                client.send(b"".join(encode(c) for c in block))
                replies = [client.reply() for _ in block]
                assert replies[-1] == b"*%d\r\n" % len(keys) + b"+OK\r\n" * len(keys)
        except Exception as e:  # reported by the main thread
            errors.append(e)
        finally:
            done.set()
            client.close()

    def plain_reader():
        # GETs one after the other: a later key never holds an older value than an earlier
        # one (the writer's values only grow), since no shard shows an EXEC before the rest.
        client = Raw(cascade.port, timeout=30)
        try:
            while not done.is_set():
                values = [int(parse(client.call([b"GET", k])) or 0) for k in keys]
                assert values == sorted(values), f"saw part of an EXEC: {values}"
        except Exception as e:
            errors.append(e)
        finally:
            client.close()

    def transaction_reader():
        client = Raw(cascade.port, timeout=30)
        try:
            while not done.is_set():
                block = [b"MULTI"] + [[b"GET", k] for k in keys] + [b"EXEC"]
                client.send(b"".join(encode(c) for c in block))
                values = parse([client.reply() for _ in block][-1])
                assert len(set(values)) == 1, f"a transaction saw part of an EXEC: {values}"
        except Exception as e:
            errors.append(e)
        finally:
            client.close()

    threads = [threading.Thread(target=writer)] + \
        [threading.Thread(target=plain_reader) for _ in range(2)] + \
        [threading.Thread(target=transaction_reader) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors[0]


def test_concurrent_increments_in_transactions_are_not_lost(cascade):
    clients, rounds = 4, 50
    errors = []

    def worker():
        client = Raw(cascade.port, timeout=30)
        try:
            for _ in range(rounds):
                block = [b"MULTI", [b"INCR", A], [b"INCR", B], b"EXEC"]
                client.send(b"".join(encode(c) for c in block))
                replies = [client.reply() for _ in block]
                assert replies[-1].startswith(b"*2\r\n:")
        except Exception as e:
            errors.append(e)
        finally:
            client.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors[0]
    c = Raw(cascade.port)
    assert parse(c.call([b"MGET", A, B])) == [b"%d" % (clients * rounds)] * 2


# ---- crash atomicity --------------------------------------------------------------------

CRASH_SHARDS = 3
CRASH_KEYS = keys_on_each_shard(b"c", CRASH_SHARDS, 1)


def start_crashing(start_cascade, monkeypatch, crash_point=None):
    if crash_point:
        monkeypatch.setenv("CASCADE_CRASH_POINT", crash_point)
    else:
        monkeypatch.delenv("CASCADE_CRASH_POINT", raising=False)
    return start_cascade("--shards", str(CRASH_SHARDS), "--appendfsync", "always")


@pytest.mark.parametrize("point,expect_new", [("multi-shard-before-decision", False),
                                              ("multi-shard-after-decision", True),
                                              ("multi-shard-after-part", True)])
def test_an_interrupted_exec_is_whole_or_absent(start_cascade, monkeypatch, point, expect_new):
    server = start_crashing(start_cascade, monkeypatch, point)
    client = Raw(server.port)
    for key in CRASH_KEYS:  # single-shard writes: no crash point stops them
        assert client.call([b"SET", key, b"old"]) == b"+OK\r\n"
        assert client.call([b"HSET", key + b"h", b"f", b"old"]) == b":1\r\n"
    block = [b"MULTI"] + [[b"SET", k, b"new"] for k in CRASH_KEYS] + \
        [[b"HSET", k + b"h", b"f", b"new"] for k in CRASH_KEYS]
    for command in block:
        assert client.call(command) in (b"+OK\r\n", b"+QUEUED\r\n")
    client.send(encode("EXEC"))
    with pytest.raises((EOFError, ConnectionError)):
        client.reply()
    server.proc.wait(timeout=10)
    assert server.proc.returncode == -signal.SIGKILL

    restarted = start_crashing(start_cascade, monkeypatch)
    client = Raw(restarted.port)
    expected = b"new" if expect_new else b"old"
    assert parse(client.call([b"MGET"] + CRASH_KEYS)) == [expected] * len(CRASH_KEYS)
    for key in CRASH_KEYS:
        assert parse(client.call([b"HGET", key + b"h", b"f"])) == expected
        assert parse(client.call([b"HLEN", key + b"h"])) == 1
