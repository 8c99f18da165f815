"""Pipelines of GET, SET, the counters and collection writes, which the server runs as key
batches
(src/commands/key_batch.h):
one cross-shard call per shard, a shard's part in order, runs of plain SETs as one engine
write. Seeded random pipelines heavy in GET and SET on a few keys of both shards (so one key
recurs within a batch, and batches are cut by other commands) must get redis-server's
replies exactly; and a pipeline of plain SETs under appendfsync always costs a WAL sync per
shard, not one per SET.

A failing random sequence prints its seed; CASCADE_PIPELINE_SEED=<seed> replays it."""

import os
import threading

import pytest

from conftest import Raw, compare_sequences, encode, parse
from key_shards import key_shard, keys_on_each_shard

KEYS = keys_on_each_shard(b"pipe:", 2, per_shard=3)
VALUES = [b"", b"v", b"12", b"x" * 100, b"a\r\nb", b"\x00\xff"]
SET_OPTIONS = [[], [], [], [b"NX"], [b"XX"], [b"GET"], [b"EX", b"1000"], [b"PX", b"0"],
               [b"KEEPTTL"], [b"NX", b"GET"], [b"XX", b"EX", b"100"], [b"bogus"]]


def random_command(rng):
    """Mostly GET and SET (most SETs plain), now and then a command that is not batched."""
    key = rng.choice(KEYS)
    roll = rng.random()
    if roll < 0.40:
        return [b"GET", key]
    if roll < 0.85:
        return [b"SET", key, rng.choice(VALUES)] + rng.choice(SET_OPTIONS)
    if roll < 0.87:
        return [b"INCR", key]
    if roll < 0.90:  # the other counters, with their argument errors
        return rng.choice([[b"DECR", key], [b"INCRBY", key, b"7"], [b"DECRBY", key, b"-3"],
                           [b"INCRBY", key, b"x"], [b"DECRBY", key, b"-9223372036854775808"],
                           [b"INCRBYFLOAT", key, b"1.5"], [b"INCRBYFLOAT", key, b"nan"]])
    if roll < 0.92:  # collection writes, batched too: on string keys they are WRONGTYPE
        return rng.choice([[b"LPUSH", key, b"a", b"b"], [b"RPUSH", key, b"c"],
                           [b"RPUSHX", key, b"d"], [b"LPUSHX", key, b"e"],
                           [b"HSET", key, b"f", b"1"], [b"HMSET", key, b"f", b"2", b"g", b"3"],
                           [b"HSET", key, b"odd"], [b"SADD", key, b"m", b"n", b"m"]])
    if roll < 0.94:
        return [b"DEL"] + rng.sample(KEYS, rng.randint(1, 3))
    if roll < 0.97:
        return [b"MGET"] + rng.sample(KEYS, rng.randint(1, 4))
    return [b"GET"]  # a wrong number of arguments: an error reply between batches


@pytest.fixture
def redis(redis_server):
    """The shared redis-server, left without this file's keys (later tests compare INFO
    keyspace with a fresh cascade)."""
    yield redis_server
    client = Raw(redis_server.port)
    try:
        client.call([b"DEL"] + KEYS)
    finally:
        client.close()


SEEDS = [int(os.environ["CASCADE_PIPELINE_SEED"])] if "CASCADE_PIPELINE_SEED" in os.environ \
    else [5, 6]


@pytest.mark.parametrize("seed", SEEDS)
def test_pipelined_gets_and_sets_match_redis(start_cascade, redis, seed):
    server = start_cascade("--appendfsync", "no")
    compare_sequences(server.port, redis.port, seed, 2000, 2, random_command,
                      reset=[b"DEL"] + KEYS, batch=100)


def test_pipelined_gets_and_sets_match_redis_with_every_write_synced(start_cascade, redis):
    server = start_cascade("--appendfsync", "always")
    compare_sequences(server.port, redis.port, 7, 400, 3, random_command,
                      reset=[b"DEL"] + KEYS, batch=100)


def wal_syncs(client):
    info = parse(client.call("INFO storage")).decode()
    return int(info.split("storage_wal_syncs:")[1].split("\r\n")[0])


def test_a_pipeline_of_plain_sets_takes_one_wal_sync_per_shard(start_cascade):
    server = start_cascade("--appendfsync", "always")
    keys = keys_on_each_shard(b"sync:", 2, per_shard=30)
    assert {key_shard(k, 2) for k in keys} == {0, 1}
    client = Raw(server.port)
    before = wal_syncs(client)
    client.send(b"".join(encode([b"SET", k, b"v" + k]) for k in keys))
    assert [client.reply() for _ in keys] == [b"+OK\r\n"] * len(keys)
    synced = wal_syncs(client) - before
    # One sync per shard when the 60 SETs arrive in one read; a few more if TCP splits them.
    # One at a time they would take 60.
    assert 1 <= synced <= 8
    client.send(b"".join(encode([b"GET", k]) for k in keys))
    assert [parse(client.reply()) for _ in keys] == [b"v" + k for k in keys]


def test_clients_setting_one_hot_key_share_wal_syncs(start_cascade):
    """A plain SET does not hold its key's lock while its write waits for the WAL sync, so
    concurrent SETs of one key under appendfsync always join one WAL group: fewer syncs than
    SETs (holding the lock, every SET of the key would wait for the previous one's sync)."""
    server = start_cascade("--appendfsync", "always")
    clients, per_client = 16, 25
    connections = [Raw(server.port, timeout=30) for _ in range(clients)]
    before = wal_syncs(connections[0])
    threads = []
    for n, client in enumerate(connections):
        def one_client(client=client, n=n):
            for i in range(per_client):
                assert client.call([b"SET", b"hot", b"%d:%d" % (n, i)]) == b"+OK\r\n"
        threads.append(threading.Thread(target=one_client))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    synced = wal_syncs(connections[0]) - before
    assert 1 <= synced < clients * per_client * 3 // 4
    value = parse(connections[0].call("GET hot"))
    n, i = value.split(b":")
    assert 0 <= int(n) < clients and 0 <= int(i) < per_client
    assert parse(connections[0].call("INCR cnt")) == 1  # a read-modify-write still works
    for client in connections:
        client.close()


def test_pipelined_counters_on_distinct_keys_share_wal_syncs(start_cascade):
    """Under appendfsync always a batch's writes on distinct keys run at once on their shard
    (KeyBatch::run_concurrently), so they share WAL syncs; a key's repeated INCRs still
    count in order, and the replies keep the pipeline's order."""
    server = start_cascade("--appendfsync", "always")
    keys = keys_on_each_shard(b"ctr:", 2, per_shard=20)
    client = Raw(server.port)
    before = wal_syncs(client)
    client.send(b"".join(encode([b"INCRBY", k, b"%d" % n]) for n, k in enumerate(keys)))
    assert [parse(client.reply()) for _ in keys] == list(range(len(keys)))
    synced = wal_syncs(client) - before
    # One at a time the 40 INCRBYs would take 40 syncs.
    assert 1 <= synced <= 12
    # A key repeated in the pipeline: its commands apply in order, between other keys'.
    commands = []
    for round_ in range(5):
        for k in keys[:6]:
            commands.append([b"INCR", k])
        commands.append([b"GET", keys[0]])
    client.send(b"".join(encode(c) for c in commands))
    replies = [parse(client.reply()) for _ in commands]
    expected = []
    count = {k: n for n, k in enumerate(keys)}
    for c in commands:
        if c[0] == b"INCR":
            count[c[1]] += 1
            expected.append(count[c[1]])
        else:
            expected.append(b"%d" % count[c[1]])
    assert replies == expected


def test_a_pipelined_push_wakes_a_blocked_client(start_cascade):
    """LPUSH runs in a key batch on the list's shard; the client blocked on the list there
    is woken by it, whichever shard the pushing connection is on."""
    server = start_cascade()
    lists = keys_on_each_shard(b"wake:", 2)
    for key in lists:
        waiter = Raw(server.port, timeout=10)
        waiter.send(encode([b"BLPOP", key, b"5"]))
        pusher = Raw(server.port)
        pusher.send(b"".join(encode(c) for c in ([b"SET", b"other", b"1"],
                                               [b"RPUSH", key, b"x", b"y"],
                                               [b"GET", b"other"])))
        assert [pusher.reply() for _ in range(3)] == [b"+OK\r\n", b":2\r\n", b"$1\r\n1\r\n"]
        assert parse(waiter.reply()) == [key, b"x"]
        assert parse(pusher.call([b"LRANGE", key, b"0", b"-1"])) == [b"y"]
        waiter.close()
        pusher.close()
