"""The list family against the real binary: every command, option and error compared reply
for reply with a real redis-server (scripted cases and seeded random sequences, RESP2 and
RESP3, keys on both shards, WRONGTYPE against string keys), lists surviving a restart, and
the blocking pops: woken by pushes from other connections and shards, first come first
served, timeouts, disconnects, CLIENT UNBLOCK.

A failing random sequence prints its seed; CASCADE_LISTS_SEED=<seed> replays it."""

import os
import socket
import threading
import time

import pytest

from conftest import Raw, compare_sequences, encode, parse
from key_shards import key_shard, keys_on_each_shard

SHARDS = 2
LIST_KEYS = keys_on_each_shard(b"l", SHARDS, 3) + [b"{t}a", b"{t}b"]
STRING_KEY = b"str"
KEYS = LIST_KEYS + [STRING_KEY, b"missing"]
VALUES = [b"a", b"b", b"c", b"", b"x" * 30, b"\x00\xff", b"12"]



# ---- scripted cases: each compared with redis-server --------------------------------------

SCRIPTS = [
    # pushes, pops with and without a count, empty and missing keys
    [b"RPUSH l a b c d e", b"LPUSH l z y", b"LRANGE l 0 -1", b"LPOP l", b"RPOP l",
     b"LPOP l 2", b"RPOP l 0", b"LPOP l 0", b"LPOP missing", b"LPOP missing 2",
     b"LPOP missing 0", b"RPOP l -1", b"RPOP l x", b"LPOP l 1 2", b"LPOP l 100", b"EXISTS l",
     b"LLEN l", b"LPUSHX l a", b"RPUSHX l a", b"LPUSHX", b"RPUSH l", b"LLEN missing"],
    # indexes: LINDEX LSET LRANGE clamping
    [b"RPUSH l a b c d e", b"LINDEX l 0", b"LINDEX l -1", b"LINDEX l 5", b"LINDEX l -6",
     b"LINDEX l x", b"LINDEX missing 0", b"LSET l 2 C", b"LSET l -1 E", b"LSET l 5 x",
     b"LSET l x y", b"LSET missing 0 x", b"LRANGE l 0 -1", b"LRANGE l -100 100",
     b"LRANGE l 3 1", b"LRANGE l 5 10", b"LRANGE l -2 -1", b"LRANGE l a 1",
     b"LRANGE missing 0 -1", b"LRANGE l 1 -3"],
    # LINSERT LREM LTRIM
    [b"RPUSH l a b a c a d", b"LINSERT l BEFORE a x", b"LINSERT l after d y",
     b"LINSERT l AFTER zz q", b"LINSERT l middle a b", b"LINSERT missing BEFORE a b",
     b"LRANGE l 0 -1", b"LREM l 1 a", b"LRANGE l 0 -1", b"LREM l -1 a", b"LRANGE l 0 -1",
     b"LREM l 0 a", b"LREM l 0 nothing", b"LREM l x a", b"LREM missing 0 a", b"LRANGE l 0 -1",
     b"LTRIM l 1 -2", b"LRANGE l 0 -1", b"LTRIM l 5 1", b"EXISTS l", b"LTRIM missing 0 1",
     b"RPUSH l a b c", b"LTRIM l -100 100", b"LRANGE l 0 -1", b"LTRIM l x 1"],
    # LPOS and its options' errors
    [b"RPUSH l a b a c a", b"LPOS l a", b"LPOS l a RANK 2", b"LPOS l a RANK -1",
     b"LPOS l a RANK -2 COUNT 2", b"LPOS l a COUNT 0", b"LPOS l a COUNT 0 MAXLEN 3",
     b"LPOS l a RANK -1 MAXLEN 2", b"LPOS l z", b"LPOS l z COUNT 0", b"LPOS l a RANK 0",
     b"LPOS l a COUNT -1", b"LPOS l a MAXLEN -1", b"LPOS l a RANK x", b"LPOS l a RANK",
     b"LPOS l a FOO 1", b"LPOS missing a", b"LPOS missing a COUNT 2",
     b"LPOS l a RANK -9223372036854775808", b"LPOS l a RANK 9223372036854775807",
     b"LPOS l a RANK 4", b"LPOS l a rank 1 count 1 maxlen 0"],
    # COUNT and MAXLEN answer their own error for a non-number too (differential finding)
    [b"RPUSH l a b", b"LPOS l a COUNT x", b"LPOS l a MAXLEN 1.5", [b"LPOS", b"l", b"a", b"MAXLEN", b""],
     b"LPOS l a COUNT 9223372036854775808", b"LPOS l a MAXLEN x RANK 0", b"LPOS l a RANK x COUNT x"],
    # rotating a one-element list keeps its expiry (differential finding)
    [b"RPUSH l a", b"EXPIRE l 1000", b"LMOVE l l LEFT RIGHT", b"TTL l", b"RPOPLPUSH l l",
     b"TTL l", b"BLMOVE l l RIGHT LEFT 0", b"TTL l", b"LRANGE l 0 -1", b"RPUSH m a",
     b"LMOVE m m LEFT LEFT", b"TTL m"],
    # BLMPOP reads its timeout after numkeys, the keys, the side and COUNT (differential
    # finding)
    [b"BLMPOP -1 7 a LEFT", b"BLMPOP x 1 a LEFT COUNT 0", b"BLMPOP x 0 a LEFT",
     b"BLMPOP x 1 a MIDDLE", b"BLMPOP x 1 a LEFT", b"BLMPOP -1 1 a RIGHT COUNT 2"],
    # LMOVE RPOPLPUSH LMPOP, rotation, errors
    [b"RPUSH a 1 2 3", b"LMOVE a b LEFT RIGHT", b"LMOVE a b RIGHT LEFT", b"LRANGE a 0 -1",
     b"LRANGE b 0 -1", b"LMOVE a a LEFT RIGHT", b"LRANGE a 0 -1", b"RPOPLPUSH a a",
     b"LRANGE a 0 -1", b"LMOVE a b up down", b"LMOVE missing b LEFT LEFT",
     b"RPOPLPUSH missing b", b"RPOPLPUSH a b", b"RPOPLPUSH a b", b"EXISTS a",
     b"LMPOP 2 a b LEFT", b"LMPOP 2 a b RIGHT COUNT 5", b"LMPOP 2 a b LEFT",
     b"LMPOP 0 a LEFT", b"LMPOP -1 a LEFT", b"LMPOP x a LEFT", b"LMPOP 2 a LEFT",
     b"LMPOP 1 a MIDDLE", b"LMPOP 1 a LEFT COUNT 0", b"LMPOP 1 a LEFT COUNT x",
     b"LMPOP 1 a LEFT COUNT 1 COUNT 2", b"LMPOP 1 a LEFT FOO", b"LMPOP 1 a LEFT COUNT"],
    # WRONGTYPE everywhere, and its order against other errors
    [b"SET s v", b"RPUSH l x", b"LPUSH s a", b"RPUSHX s a", b"LPOP s", b"RPOP s 2",
     b"LLEN s", b"LINDEX s 0", b"LSET s 0 a", b"LRANGE s 0 1", b"LINSERT s BEFORE a b",
     b"LREM s 0 a", b"LTRIM s 0 1", b"LPOS s a", b"LMOVE s l LEFT LEFT",
     b"LMOVE l s LEFT LEFT", b"LMOVE missing s LEFT LEFT", b"RPOPLPUSH l s", b"LRANGE l 0 -1",
     b"LMPOP 2 s l LEFT", b"LMPOP 2 l s LEFT", b"LMPOP 2 missing s LEFT", b"BLPOP s 1",
     b"BLPOP missing s l 1", b"BLPOP l s 1", b"BLMOVE s l LEFT LEFT 1", b"BLMPOP 1 2 s l LEFT",
     b"GET l", b"LINSERT s middle a b", b"LINDEX s x"],
    # the blocking pops when there is something to pop, and their argument errors
    [b"RPUSH a 1 2 3", b"BLPOP missing a 0", b"BRPOP a 0", b"BLMPOP 0 2 missing a RIGHT",
     b"RPUSH a 4 5", b"BLMPOP 0.5 1 a LEFT COUNT 10", b"RPUSH a 6", b"BLMOVE a b LEFT RIGHT 0",
     b"BRPOPLPUSH b a 0", b"LRANGE a 0 -1", b"BLPOP a -1", b"BLPOP a abc", b"BLPOP a inf",
     b"BLPOP a 1e20", b"BLPOP a -0.0001", b"BLPOP a nan", [b"BLPOP", b"a", b" 1"], b"RPUSH a 7", b"BLPOP a 0x10",
     b"BLMPOP -1 1 a LEFT", b"BLMPOP 0 0 a LEFT", b"BLMOVE a b LEFT UP 0",
     b"BLMOVE a b LEFT LEFT -2", b"BRPOPLPUSH a b x", b"BLPOP a"],
    # timeouts reply a null array (in RESP2 and in RESP3)
    [b"BLPOP missing 0.01", b"BRPOP missing other 0.01", b"BLMPOP 0.01 1 missing LEFT",
     b"BLMOVE missing b LEFT LEFT 0.01", b"BRPOPLPUSH missing b 0.01", b"HELLO 3",
     b"BLPOP missing 0.01", b"BLMOVE missing b LEFT LEFT 0.01", b"LPOP missing",
     b"LPOP missing 1", b"LMPOP 1 missing LEFT"],
]


@pytest.mark.parametrize("script", range(len(SCRIPTS)))
def test_scripted_cases_match_redis(cascade, redis_clean, script):
    clients = [Raw(cascade.port), Raw(redis_clean.port)]
    clients[1].call("FLUSHALL")
    for line in SCRIPTS[script]:
        args = line if isinstance(line, list) else line.split(b" ")
        ours, theirs = (c.call(args) for c in clients)
        assert ours == theirs or args[0] == b"HELLO", line
    for c in clients:
        c.close()


def test_command_info_matches_redis(cascade, redis_server):
    names = ("lpush rpush lpushx rpushx lpop rpop llen lindex lrange lset linsert lrem ltrim "
             "lpos lmove rpoplpush blpop brpop blmove brpoplpush lmpop blmpop")
    replies = [Raw(port).call("COMMAND INFO " + names) for port in (cascade.port, redis_server.port)]
    ours, theirs = parse(replies[0]), parse(replies[1])
    # Name, arity, flags, first/last key and step: Redis's facts (docs are our own words).
    assert [c[:6] for c in ours] == [c[:6] for c in theirs]


# ---- seeded random sequences against redis-server -------------------------------------------

def random_command(rng):
    key = rng.choice(KEYS)
    kind = rng.randrange(22)
    if kind in (0, 1):
        return [rng.choice([b"LPUSH", b"RPUSH", b"LPUSHX", b"RPUSHX"]), key] + \
            [rng.choice(VALUES) for _ in range(rng.randint(1, 4))]
    if kind == 2:
        args = [rng.choice([b"LPOP", b"RPOP"]), key]
        if rng.random() < 0.5:
            args.append(rng.choice([b"0", b"1", b"2", b"5", b"-1", b"x"]))
        return args
    if kind == 3:
        return [b"LLEN", key]
    if kind in (4, 5):
        return [b"LRANGE", key, str(rng.randint(-8, 8)).encode(), str(rng.randint(-8, 8)).encode()]
    if kind == 6:
        return [b"LINDEX", key, rng.choice([str(rng.randint(-8, 8)).encode(), b"x"])]
    if kind == 7:
        return [b"LSET", key, str(rng.randint(-6, 6)).encode(), rng.choice(VALUES)]
    if kind == 8:
        return [b"LINSERT", key, rng.choice([b"BEFORE", b"AFTER", b"after", b"x"]),
                rng.choice(VALUES), rng.choice(VALUES)]
    if kind == 9:
        return [b"LREM", key, str(rng.randint(-3, 3)).encode(), rng.choice(VALUES)]
    if kind == 10:
        return [b"LTRIM", key, str(rng.randint(-6, 6)).encode(), str(rng.randint(-6, 6)).encode()]
    if kind == 11:
        args = [b"LPOS", key, rng.choice(VALUES)]
        for _ in range(rng.randrange(3)):
            args += rng.choice([[b"RANK", rng.choice([b"1", b"2", b"-1", b"-3", b"0"])],
                                [b"COUNT", rng.choice([b"0", b"1", b"2", b"-1"])],
                                [b"MAXLEN", rng.choice([b"0", b"2", b"5", b"-1"])]])
        return args
    if kind in (12, 13):
        return [b"LMOVE", key, rng.choice(KEYS), rng.choice([b"LEFT", b"RIGHT"]),
                rng.choice([b"LEFT", b"RIGHT", b"left"])]
    if kind == 14:
        return [b"RPOPLPUSH", key, rng.choice(KEYS)]
    if kind == 15:
        keys = [rng.choice(KEYS) for _ in range(rng.randint(1, 3))]
        args = [b"LMPOP", str(len(keys)).encode()] + keys + [rng.choice([b"LEFT", b"RIGHT"])]
        if rng.random() < 0.5:
            args += [b"COUNT", rng.choice([b"1", b"3", b"10", b"0"])]
        return args
    if kind == 16:
        # Blocking forms over keys that may be empty: a short timeout keeps the run fast.
        keys = [rng.choice(KEYS) for _ in range(rng.randint(1, 3))]
        return [rng.choice([b"BLPOP", b"BRPOP"])] + keys + [b"0.001"]
    if kind == 17:
        return [b"BLMOVE", key, rng.choice(KEYS), rng.choice([b"LEFT", b"RIGHT"]),
                rng.choice([b"LEFT", b"RIGHT"]), b"0.001"]
    if kind == 18:
        return [b"SET", STRING_KEY, rng.choice(VALUES)]
    if kind == 19:
        return [b"DEL", key]
    if kind == 20:
        return [b"TYPE", key]
    return [b"LRANGE", key, b"0", b"-1"]


def run_sequence(cascade_port, redis_port, seed, count, protocol):
    compare_sequences(cascade_port, redis_port, seed, count, protocol, random_command,
                      reset="FLUSHALL")


SEEDS = [int(os.environ["CASCADE_LISTS_SEED"])] if "CASCADE_LISTS_SEED" in os.environ \
    else [11, 12]


@pytest.mark.parametrize("seed", SEEDS)
def test_random_list_commands_match_redis(start_cascade, redis_clean, seed):
    server = start_cascade("--appendfsync", "no")
    run_sequence(server.port, redis_clean.port, seed, count=1500, protocol=2 + seed % 2)


def test_random_list_commands_match_redis_with_every_write_synced(start_cascade, redis_clean):
    server = start_cascade("--appendfsync", "always")
    run_sequence(server.port, redis_clean.port, 13, count=300, protocol=3)


# ---- larger lists and restarts --------------------------------------------------------------

def test_positions_in_a_long_list_after_edits_in_the_middle(cascade, redis_clean):
    clients = [Raw(cascade.port), Raw(redis_clean.port)]
    clients[1].call("FLUSHALL")
    script = [[b"RPUSH", b"big"] + [b"%d" % i for i in range(2000)],
              [b"LINSERT", b"big", b"BEFORE", b"1500", b"ins"],
              [b"LINSERT", b"big", b"AFTER", b"10", b"ins2"],
              [b"LREM", b"big", b"0", b"ins"], [b"LSET", b"big", b"1000", b"set"],
              [b"LTRIM", b"big", b"5", b"-7"], [b"LPUSH", b"big", b"h"]]
    for command in script:
        assert clients[0].call(command) == clients[1].call(command), command
    for index in (0, 1, 999, 1000, 1001, 1987, -1, -2):
        command = [b"LINDEX", b"big", str(index).encode()]
        assert clients[0].call(command) == clients[1].call(command), command
    for command in ([b"LRANGE", b"big", b"990", b"1010"], [b"LRANGE", b"big", b"0", b"-1"],
                    [b"LPOS", b"big", b"1990", b"RANK", b"-1"], [b"LLEN", b"big"]):
        assert clients[0].call(command) == clients[1].call(command), command


def test_lists_survive_a_restart(start_cascade):
    server = start_cascade()
    client = Raw(server.port)
    keys = keys_on_each_shard(b"p", SHARDS)
    for key in keys:
        assert client.call([b"RPUSH", key, b"a", b"b", b"c", b"d"]) == b":4\r\n"
        client.call([b"LPUSH", key, b"z"])
        client.call([b"LINSERT", key, b"AFTER", b"b", b"m"])
    client.call([b"LMOVE", keys[0], keys[1], b"RIGHT", b"LEFT"])
    client.close()
    server.stop()
    server = start_cascade()
    client = Raw(server.port)
    assert parse(client.call([b"LRANGE", keys[0], b"0", b"-1"])) == [b"z", b"a", b"b", b"m", b"c"]
    assert parse(client.call([b"LRANGE", keys[1], b"0", b"-1"])) == \
        [b"d", b"z", b"a", b"b", b"m", b"c", b"d"]
    assert parse(client.call([b"LINDEX", keys[1], b"-1"])) == b"d"
    client.close()


def test_lmove_between_shards_never_loses_or_duplicates_an_element(cascade):
    a, b = keys_on_each_shard(b"m", SHARDS)
    setup = Raw(cascade.port)
    setup.call([b"RPUSH", a] + [b"%d" % i for i in range(200)])
    errors = []

    def mover(src, dst):
        client = Raw(cascade.port)
        for _ in range(150):
            reply = client.call([b"LMOVE", src, dst, b"LEFT", b"RIGHT"])
            if reply.startswith(b"-"):
                errors.append(reply)
        client.close()

    threads = [threading.Thread(target=mover, args=(a, b)), threading.Thread(target=mover, args=(b, a))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    both = parse(setup.call([b"LRANGE", a, b"0", b"-1"])) + parse(setup.call([b"LRANGE", b, b"0", b"-1"]))
    assert sorted(both) == sorted(b"%d" % i for i in range(200))
    setup.close()


# ---- blocking ---------------------------------------------------------------------------

def blocked_clients(client):
    info = parse(client.call(b"INFO clients")).decode()
    return int(info.split("blocked_clients:")[1].split("\r\n")[0])


def wait_blocked(client, count, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if blocked_clients(client) == count:
            return
        time.sleep(0.01)
    raise AssertionError(f"blocked_clients never reached {count}")


def test_a_push_from_another_connection_wakes_clients_blocked_on_either_shard(cascade):
    control = Raw(cascade.port)
    keys = keys_on_each_shard(b"w", SHARDS)
    # Several waiters per key, so the connections (spread over the shards by the kernel)
    # wait on keys of their own shard and of the other one.
    waiters = []
    for i in range(6):
        client = Raw(cascade.port, timeout=10)
        client.send(encode([b"BLPOP", keys[i % 2], b"0"]))
        waiters.append((client, keys[i % 2]))
    wait_blocked(control, 6)
    for key in keys:
        pusher = Raw(cascade.port)
        assert pusher.call([b"RPUSH", key, b"x", b"y", b"z"]) == b":3\r\n"
        pusher.close()
    got = {}
    for client, key in waiters:
        reply = parse(client.reply())
        assert reply[0] == key
        got.setdefault(key, []).append(reply[1])
        client.close()
    for key in keys:
        assert sorted(got[key]) == [b"x", b"y", b"z"]
    assert blocked_clients(control) == 0
    assert control.call([b"EXISTS"] + keys) == b":0\r\n"


def test_clients_are_served_in_the_order_they_blocked(cascade):
    control = Raw(cascade.port)
    key = b"fifo"
    clients = []
    for i in range(3):
        client = Raw(cascade.port, timeout=10)
        client.send(encode([b"BRPOP", key, b"0"]))
        wait_blocked(control, i + 1)
        clients.append(client)
    for i in range(3):
        control.call([b"LPUSH", key, b"e%d" % i])
        assert parse(clients[i].reply()) == [key, b"e%d" % i]
    for client in clients:
        client.close()


def test_a_timeout_returns_on_time_with_a_null_array(cascade):
    client = Raw(cascade.port)
    for command, null in (([b"BLPOP", b"nothing", b"0.1"], b"*-1\r\n"),
                          ([b"BLMOVE", b"nothing", b"x", b"LEFT", b"LEFT", b"0.1"], b"*-1\r\n"),
                          ([b"BLMPOP", b"0.1", b"1", b"nothing", b"LEFT"], b"*-1\r\n")):
        start = time.monotonic()
        assert client.call(command) == null
        assert 0.1 <= time.monotonic() - start < 0.5
    client.call(b"HELLO 3")
    start = time.monotonic()
    assert client.call([b"BRPOP", b"nothing", b"0.2"]) == b"_\r\n"
    assert 0.2 <= time.monotonic() - start < 0.6


def test_a_killed_blocked_client_consumes_nothing(cascade):
    control = Raw(cascade.port)
    blocked = Raw(cascade.port)
    cid = client_id(blocked)
    blocked.send(encode([b"BRPOP", b"killed", b"0"]))
    wait_blocked(control, 1)
    assert control.call([b"CLIENT", b"KILL", b"ID", str(cid).encode()]) == b":1\r\n"
    assert blocked.read_until_closed() == b""
    wait_blocked(control, 0)
    control.call([b"RPUSH", b"killed", b"x"])
    assert control.call([b"LLEN", b"killed"]) == b":1\r\n"


def test_a_server_stops_promptly_with_clients_blocked(start_cascade):
    server = start_cascade()
    control = Raw(server.port)
    clients = [Raw(server.port) for _ in range(4)]
    for i, client in enumerate(clients):
        client.send(encode([b"BLPOP", b"never%d" % i, b"0"]))
    wait_blocked(control, 4)
    start = time.monotonic()
    assert server.stop() == 0
    assert time.monotonic() - start < 10


@pytest.mark.parametrize("point,moved", [("multi-shard-before-decision", False),
                                         ("multi-shard-after-decision", True),
                                         ("multi-shard-after-part", True)])
def test_an_interrupted_lmove_across_shards_is_whole_or_absent(start_cascade, monkeypatch,
                                                               point, moved):
    src, dst = keys_on_each_shard(b"cm", SHARDS)
    monkeypatch.setenv("CASCADE_CRASH_POINT", point)
    server = start_cascade("--appendfsync", "always")
    client = Raw(server.port)
    client.call([b"RPUSH", src, b"a", b"b"])
    client.call([b"RPUSH", dst, b"c"])
    client.send(encode([b"LMOVE", src, dst, b"LEFT", b"RIGHT"]))
    with pytest.raises((EOFError, ConnectionError)):
        client.reply()
    server.proc.wait(timeout=10)
    monkeypatch.delenv("CASCADE_CRASH_POINT")
    client = Raw(start_cascade().port)
    lists = [parse(client.call([b"LRANGE", k, b"0", b"-1"])) for k in (src, dst)]
    assert lists == ([[b"b"], [b"c", b"a"]] if moved else [[b"a", b"b"], [b"c"]])


def test_a_client_that_disconnects_while_blocked_consumes_nothing(cascade):
    control = Raw(cascade.port)
    for key in keys_on_each_shard(b"d", SHARDS):
        client = Raw(cascade.port)
        client.send(encode([b"BLPOP", key, b"0"]))
        wait_blocked(control, 1)
        client.close()
        wait_blocked(control, 0)
        assert control.call([b"RPUSH", key, b"kept"]) == b":1\r\n"
        time.sleep(0.05)
        assert control.call([b"LRANGE", key, b"0", b"-1"]) == b"*1\r\n$4\r\nkept\r\n"


def client_id(client):
    return int(client.call(b"CLIENT ID")[1:-2])


def test_client_unblock_ends_the_wait_with_a_timeout_reply_or_an_error(cascade):
    control = Raw(cascade.port)
    blocked = Raw(cascade.port)
    cid = client_id(blocked)
    assert control.call([b"CLIENT", b"UNBLOCK", str(cid).encode()]) == b":0\r\n"
    blocked.send(encode([b"BLPOP", b"u", b"0"]))
    wait_blocked(control, 1)
    listing = parse(control.call([b"CLIENT", b"LIST", b"ID", str(cid).encode()]))
    assert b" flags=b " in listing and b" cmd=blpop " in listing
    assert control.call([b"CLIENT", b"UNBLOCK", str(cid).encode()]) == b":1\r\n"
    assert blocked.reply() == b"*-1\r\n"
    blocked.send(encode([b"BLMOVE", b"u", b"v", b"LEFT", b"LEFT", b"0"]))
    wait_blocked(control, 1)
    assert control.call([b"CLIENT", b"UNBLOCK", str(cid).encode(), b"ERROR"]) == b":1\r\n"
    assert blocked.reply() == b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
    assert blocked_clients(control) == 0
    # Nothing was consumed and the connection still works.
    control.call([b"RPUSH", b"u", b"1"])
    assert blocked.call([b"LPOP", b"u"]) == b"$1\r\n1\r\n"
    assert control.call([b"CLIENT", b"UNBLOCK", b"x"]) == \
        b"-ERR value is not an integer or out of range\r\n"
    assert control.call([b"CLIENT", b"UNBLOCK", str(cid).encode(), b"later"]) == \
        b"-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n"


def test_a_wake_up_for_a_key_of_another_type_does_not_hold_the_turn(cascade):
    """Clients woken for a key that turned out to hold a sorted set keep waiting, and still
    get their turns, in order, once it is a list."""
    control = Raw(cascade.port)
    clients = []
    for i in range(2):
        client = Raw(cascade.port, timeout=10)
        client.send(encode([b"BLPOP", b"turn", b"0"]))
        wait_blocked(control, i + 1)
        clients.append(client)
    control.call(b"MULTI")
    control.call([b"ZADD", b"turn", b"1", b"m"])
    assert control.call(b"EXEC") == b"*1\r\n:1\r\n"
    time.sleep(0.1)
    assert blocked_clients(control) == 2
    control.call([b"DEL", b"turn"])
    control.call([b"RPUSH", b"turn", b"x", b"y"])
    assert parse(clients[0].reply()) == [b"turn", b"x"]
    assert parse(clients[1].reply()) == [b"turn", b"y"]


def test_blmove_across_shards_is_woken_by_a_push(cascade):
    src, dst = keys_on_each_shard(b"bm", SHARDS)
    control = Raw(cascade.port)
    client = Raw(cascade.port, timeout=10)
    client.send(encode([b"BLMOVE", src, dst, b"RIGHT", b"LEFT", b"0"]))
    wait_blocked(control, 1)
    control.call([b"RPUSH", src, b"a", b"b"])
    assert client.reply() == b"$1\r\nb\r\n"
    assert parse(control.call([b"LRANGE", src, b"0", b"-1"])) == [b"a"]
    assert parse(control.call([b"LRANGE", dst, b"0", b"-1"])) == [b"b"]
    # A push by LMOVE (from another shard) into a key someone waits on wakes them too.
    other = keys_on_each_shard(b"bm2", SHARDS)[1 - key_shard(src, SHARDS)]
    client.send(encode([b"BLMPOP", b"0", b"2", b"nokey", other, b"RIGHT", b"COUNT", b"5"]))
    wait_blocked(control, 1)
    assert control.call([b"LMOVE", src, other, b"LEFT", b"LEFT"]) == b"$1\r\na\r\n"
    assert parse(client.reply()) == [other, [b"a"]]
    assert control.call([b"EXISTS", src, other]) == b":0\r\n"


def test_commands_pipelined_behind_a_blocked_one_run_after_it(cascade):
    control = Raw(cascade.port)
    client = Raw(cascade.port, timeout=10)
    client.send(encode([b"BLPOP", b"pipe", b"0"]) + encode([b"PING"]) + encode([b"LLEN", b"pipe"]))
    wait_blocked(control, 1)
    control.call([b"RPUSH", b"pipe", b"1", b"2"])
    assert parse(client.reply()) == [b"pipe", b"1"]
    assert client.reply() == b"+PONG\r\n"
    assert client.reply() == b":1\r\n"


def test_many_blocked_clients_each_get_one_element(cascade):
    control = Raw(cascade.port)
    keys = keys_on_each_shard(b"many", SHARDS)
    clients = []
    for i in range(20):
        client = Raw(cascade.port, timeout=15)
        client.send(encode([b"BLPOP"] + keys + [b"0"]))
        clients.append(client)
    wait_blocked(control, 20)
    for i in range(20):
        control.call([b"RPUSH", keys[i % 2], b"%d" % i])
    got = sorted(parse(c.reply())[1] for c in clients)
    assert got == sorted(b"%d" % i for i in range(20))
    assert control.call([b"EXISTS"] + keys) == b":0\r\n"
    for c in clients:
        c.close()
