"""Multi-key commands against the real binary: MGET MSET MSETNX DEL UNLINK EXISTS TOUCH
RENAME RENAMENX COPY MOVE BITOP LCS, compared reply for reply with a real redis-server over
seeded random sequences (keys on every shard, several databases), their error texts, and
their atomicity across shards under concurrent clients.

A failing random sequence prints its seed; CASCADE_MULTI_KEY_SEED=<seed> replays it."""

import os
import random
import threading

import pytest

from conftest import Raw, compare_sequences, encode, parse
from key_shards import key_shard, keys_on_each_shard

SHARDS = 2
# Keys on both shards, a hashtag pair, an empty and a binary key.
KEYS = keys_on_each_shard(b"k", SHARDS, 3) + [b"{t}a", b"{t}b", b"", b"b\x00\xff"]
VALUES = [b"", b"a", b"ab", b"abc", b"foobar", b"ohmytext", b"mynewtext", b"\x00\xff\x0f",
          b"x" * 40, b"12345", b"ACGTACGTTGCA"]
FAR_MS = 4102444800000  # 2100-01-01: absolute, so both servers report the same expiry



def pick_keys(rng, low, high):
    return [rng.choice(KEYS) for _ in range(rng.randint(low, high))]


def random_command(rng):
    kind = rng.randrange(16)
    if kind == 0:
        return [b"MGET"] + pick_keys(rng, 1, 6)
    if kind in (1, 2):
        name = rng.choice([b"MSET", b"MSETNX"])
        args = [name]
        for key in pick_keys(rng, 1, 5):
            args += [key, rng.choice(VALUES)]
        if rng.random() < 0.05:
            args.pop()  # an odd count
        return args
    if kind == 3:
        return [rng.choice([b"DEL", b"UNLINK", b"EXISTS", b"TOUCH"])] + pick_keys(rng, 1, 5)
    if kind == 4:
        return [rng.choice([b"RENAME", b"RENAMENX"])] + pick_keys(rng, 2, 2)
    if kind == 5:
        args = [b"COPY"] + pick_keys(rng, 2, 2)
        for _ in range(rng.randrange(3)):
            args += rng.choice([[b"REPLACE"], [b"DB", rng.choice([b"0", b"1", b"2", b"16", b"-1",
                                                               b"x"])], [b"replace"], [b"foo"],
                                [b"db"]])
        return args
    if kind == 6:
        return [b"MOVE", rng.choice(KEYS), rng.choice([b"0", b"1", b"2", b"16", b"x"])]
    if kind == 7:
        return [b"SELECT", rng.choice([b"0", b"1"])]
    if kind == 8:
        op = rng.choice([b"AND", b"OR", b"XOR", b"NOT", b"and", b"nand"])
        return [b"BITOP", op] + pick_keys(rng, 2, 5)
    if kind == 9:
        args = [b"LCS"] + pick_keys(rng, 2, 2)
        for _ in range(rng.randrange(4)):
            args += rng.choice([[b"LEN"], [b"IDX"], [b"WITHMATCHLEN"], [b"idx"],
                                [b"MINMATCHLEN", rng.choice([b"0", b"2", b"-3", b"x"])],
                                [b"MINMATCHLEN"], [b"bogus"]])
        return args
    if kind == 10:
        return [b"PEXPIREAT", rng.choice(KEYS), str(FAR_MS + rng.randrange(1000)).encode()]
    if kind == 11:
        return [b"PEXPIRETIME", rng.choice(KEYS)]
    if kind == 12:
        return [b"SET", rng.choice(KEYS), rng.choice(VALUES)]
    if kind == 13:
        return [rng.choice([b"MGET", b"MSET", b"DEL", b"RENAME", b"COPY", b"MOVE", b"BITOP",
                            b"LCS", b"TOUCH"])]  # too few arguments
    return [b"GET", rng.choice(KEYS)]


def run_sequence(cascade_port, redis_port, seed, count, protocol):
    compare_sequences(cascade_port, redis_port, seed, count, protocol, random_command,
                      reset="FLUSHALL")


SEEDS = [int(os.environ["CASCADE_MULTI_KEY_SEED"])] if "CASCADE_MULTI_KEY_SEED" in os.environ \
    else [101, 202, 303]


@pytest.mark.parametrize("seed", SEEDS)
def test_random_multi_key_commands_match_redis(start_cascade, redis_clean, seed):
    server = start_cascade("--appendfsync", "no")
    run_sequence(server.port, redis_clean.port, seed, count=1500, protocol=2 + seed % 2)


def test_random_multi_key_commands_match_redis_with_every_write_synced(start_cascade,
                                                                       redis_clean):
    server = start_cascade("--appendfsync", "always")
    run_sequence(server.port, redis_clean.port, 404, count=300, protocol=2)


def test_command_info_matches_redis(cascade, redis_server):
    names = "mget mset msetnx rename renamenx copy move bitop lcs touch"
    replies = [Raw(port).call("COMMAND INFO " + names) for port in (cascade.port, redis_server.port)]
    assert replies[0] == replies[1]


# Each case: commands run in order on a fresh database of both servers, every reply compared.
SCRIPTS = [
    [b"SET a 1", b"RENAME nokey b", b"RENAMENX nokey b", b"RENAME a a", b"RENAMENX a a",
     b"RENAME b b"],
    [b"SET a 1", b"COPY a a", b"COPY a a DB 1", b"COPY a b DB x", b"COPY a b DB 16",
     b"COPY a b DB", b"COPY a b foo", b"COPY nokey b DB x", b"COPY a b DB 1 DB 2",
     b"SELECT 2", b"GET b"],
    [b"SET a 1", b"MOVE a 0", b"MOVE a x", b"MOVE a 16", b"MOVE a -1", b"MOVE nokey 1",
     b"MOVE a 1", b"GET a", b"SELECT 1", b"GET a", b"SET a 2", b"MOVE a 0"],
    [b"BITOP foo d a", b"BITOP NOT d a b", b"BITOP NOT d", b"BITOP AND d nokey",
     b"EXISTS d", b"SET d x", b"BITOP OR d nokey1 nokey2", b"EXISTS d"],
    [b"SET a foobar", b"SET b barfoo", b"BITOP AND d a b", b"GET d", b"BITOP OR d a b nokey",
     b"GET d", b"BITOP XOR d a b a", b"GET d", b"BITOP NOT d a", b"GET d", b"BITOP XOR a a",
     b"GET a"],
    [b"SET a ohmytext", b"SET b mynewtext", b"LCS a b", b"LCS a b LEN", b"LCS a b IDX",
     b"LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN", b"LCS a b LEN IDX", b"LCS a b foo",
     b"LCS a b MINMATCHLEN x", b"LCS a b MINMATCHLEN", b"LCS nokey b", b"LCS a b idx len",
     b"LCS a nokey IDX"],
    [b"MSET a", b"MSET a 1 b", b"MSETNX a 1 b", b"MSET a 1 a 2", b"GET a",
     b"MSETNX a 1 c 2", b"EXISTS c", b"MSETNX c 1 d 2", b"MGET a b c d nokey",
     b"DEL a a b nokey", b"EXISTS c c d nokey", b"TOUCH c d nokey"],
    [b"SET a 1 PX 100000000", b"SET b 2", b"PEXPIREAT b 4102444800000", b"RENAME b c",
     b"PEXPIRETIME c", b"MSET c 3", b"PEXPIRETIME c", b"COPY a d", b"RENAME d b",
     b"PEXPIRETIME b"],
]


@pytest.mark.parametrize("script", range(len(SCRIPTS)))
def test_scripted_cases_match_redis(cascade, redis_clean, script):
    clients = [Raw(cascade.port), Raw(redis_clean.port)]
    clients[1].call("FLUSHALL")
    for line in SCRIPTS[script]:
        ours, theirs = (c.call(line.split(b" ")) for c in clients)
        if line.startswith(b"PEXPIRETIME") and ours.startswith(b":") and theirs.startswith(b":"):
            # a relative PX lands at slightly different instants on the two servers
            assert abs(int(ours[1:-2]) - int(theirs[1:-2])) < 5000 or int(ours[1:-2]) < 0, line
        else:
            assert ours == theirs, line
    for c in clients:
        c.close()


def test_rename_and_copy_across_shards_keep_the_expiry(cascade):
    client = Raw(cascade.port)
    src, dst = keys_on_each_shard(b"r", SHARDS)
    assert key_shard(src, SHARDS) != key_shard(dst, SHARDS)
    assert client.call([b"SET", src, b"v", b"PXAT", b"4102444800123"]) == b"+OK\r\n"
    assert client.call([b"RENAME", src, dst]) == b"+OK\r\n"
    assert parse(client.call([b"PEXPIRETIME", dst])) == 4102444800123
    assert parse(client.call([b"EXISTS", src])) == 0
    assert parse(client.call([b"COPY", dst, src, b"DB", b"3"])) == 1
    assert client.call("SELECT 3") == b"+OK\r\n"
    assert parse(client.call([b"GET", src])) == b"v"
    assert parse(client.call([b"PEXPIRETIME", src])) == 4102444800123


def test_mget_never_sees_half_an_mset_across_shards(cascade):
    keys = keys_on_each_shard(b"atomic", SHARDS, 4)
    assert {key_shard(k, SHARDS) for k in keys} == set(range(SHARDS))
    writers, readers, rounds = 4, 4, 150
    errors = []

    def writer(w):
        client = Raw(cascade.port, timeout=30)
        try:
            for r in range(rounds):
                value = b"w%d-%d" % (w, r)
                args = [b"MSET"]
                for key in keys:
                    args += [key, value]
                assert client.call(args) == b"+OK\r\n"
        except Exception as e:  # reported by the main thread
            errors.append(e)
        finally:
            client.close()

    def reader():
        client = Raw(cascade.port, timeout=30)
        try:
            for _ in range(rounds):
                values = parse(client.call([b"MGET"] + keys))
                assert len(set(values)) == 1, f"MGET saw a mix of MSETs: {values}"
        except Exception as e:
            errors.append(e)
        finally:
            client.close()

    Raw(cascade.port).call([b"MSET"] + [x for k in keys for x in (k, b"start")])
    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    threads += [threading.Thread(target=reader) for _ in range(readers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a client hung (deadlock?)"
    assert not errors, errors[0]


def test_crossing_renames_and_deletes_do_not_deadlock(cascade):
    """Commands taking the same keys in opposite argument orders, across shards, at once."""
    a, b = keys_on_each_shard(b"x", SHARDS)
    rounds = 200
    errors = []

    def worker(first, second):
        client = Raw(cascade.port, timeout=30)
        try:
            for _ in range(rounds):
                client.call([b"MSET", first, b"1", second, b"2"])
                client.call([b"RENAME", first, second])
                client.call([b"DEL", second, first])
        except Exception as e:
            errors.append(e)
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=pair) for pair in ((a, b), (b, a)) * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a client hung (deadlock?)"
    assert not errors, errors[0]


def test_get_never_sees_an_mset_on_one_shard_and_misses_it_on_another(cascade):
    # The coordinator (the writer's own shard, or the lowest) writes first, so reading its
    # key and then the other shard's would catch the gap between the two writes if plain
    # reads ignored it. The readers read in both orders, as the writer's connection may be
    # on either shard.
    first, second = keys_on_each_shard(b"order", SHARDS)
    assert key_shard(first, SHARDS) < key_shard(second, SHARDS)
    rounds = 300
    done = threading.Event()
    errors = []

    def writer():
        client = Raw(cascade.port, timeout=30)
        try:
            for n in range(1, rounds + 1):
                client.call([b"MSET", first, b"%d" % n, second, b"%d" % n])
        finally:
            done.set()
            client.close()

    def reader(x, y):
        client = Raw(cascade.port, timeout=30)
        try:
            for _ in range(10000):
                if done.is_set():
                    break
                a = parse(client.call([b"GET", x]))
                b = parse(client.call([b"GET", y]))
                if int(b or 0) < int(a or 0):
                    errors.append(f"read {x!r}={a} and then {y!r}={b}")
                    break
        finally:
            client.close()

    threads = [threading.Thread(target=writer)]
    threads += [threading.Thread(target=reader, args=pair)
                for pair in ((first, second), (second, first), (first, second), (second, first))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors[0]


def test_mset_replaces_keys_of_any_type_across_shards(cascade):
    """MSET does not read what its keys held: a collection or an expiring string is simply
    replaced, and a later collection under the name starts empty."""
    client = Raw(cascade.port)
    h, z = keys_on_each_shard(b"replaced", SHARDS)
    assert parse(client.call([b"HSET", h, b"f1", b"v1", b"f2", b"v2"])) == 2
    assert client.call([b"SET", z, b"old", b"EX", b"100"]) == b"+OK\r\n"
    assert client.call([b"MSET", h, b"s1", z, b"s2"]) == b"+OK\r\n"
    assert parse(client.call([b"MGET", h, z])) == [b"s1", b"s2"]
    assert client.call([b"TYPE", h]) == b"+string\r\n"
    assert parse(client.call([b"TTL", z])) == -1
    assert client.call([b"HLEN", h]).startswith(b"-WRONGTYPE")
    assert parse(client.call([b"DEL", h])) == 1
    assert parse(client.call([b"HSET", h, b"f3", b"v3"])) == 1
    assert parse(client.call([b"HGETALL", h])) == [b"f3", b"v3"]
    # MSETNX still reads: an existing key stops it.
    assert parse(client.call([b"MSETNX", h, b"x", b"fresh", b"y"])) == 0
    assert parse(client.call([b"EXISTS", b"fresh"])) == 0


def test_redis_py_reads_the_replies(cascade):
    redis = pytest.importorskip("redis")
    client = redis.Redis(port=cascade.port)
    keys = keys_on_each_shard(b"py", SHARDS)
    assert client.mset({keys[0]: b"ohmytext", keys[1]: b"mynewtext"})
    assert client.mget(keys + [b"missing"]) == [b"ohmytext", b"mynewtext", None]
    assert client.msetnx({keys[0]: b"x", b"fresh": b"y"}) is False
    assert client.lcs(keys[0], keys[1]) == b"mytext"
    assert client.lcs(keys[0], keys[1], len=True) == 6
    assert client.lcs(keys[0], keys[1], idx=True, minmatchlen=4, withmatchlen=True) == \
        [b"matches", [[[4, 7], [5, 8], 4]], b"len", 6]
    assert client.copy(keys[0], b"copied", destination_db=2)
    assert client.rename(keys[0], b"renamed")
    assert client.bitop("XOR", b"dest", keys[1], b"renamed") == 9
    assert client.move(b"renamed", 5)
    assert client.exists(b"renamed", keys[1]) == 1
    assert client.delete(keys[1], b"dest") == 2


def encode_long(args):
    """A multibulk request built in one join (conftest's encode grows a bytes object)."""
    parts = [b"*%d\r\n" % len(args)]
    parts += [b"$%d\r\n%s\r\n" % (len(a), a) for a in args]
    return b"".join(parts)


def test_an_mset_of_many_keys_is_one_write(cascade):
    client = Raw(cascade.port, timeout=60)
    keys = [b"many:%d" % i for i in range(20000)]
    args = [b"MSET"]
    for i, key in enumerate(keys):
        args += [key, b"%d" % i]
    for request, expected in ((args, b"+OK\r\n"), ([b"MGET"] + keys, None),
                              ([b"DEL"] + keys + keys, b":%d\r\n" % len(keys)),
                              ([b"EXISTS"] + keys[:100], b":0\r\n")):
        client.send(encode_long(request))
        reply = client.reply()
        if expected is None:
            assert parse(reply) == [b"%d" % i for i in range(len(keys))]
        else:
            assert reply == expected


def test_an_mset_whose_part_is_larger_than_a_wal_record_is_refused_whole(cascade):
    """The fixture's WAL segments hold 2 MiB: shard 1's part of this MSET (6,000 values of
    400 bytes, each below min-blob-size) cannot be one record there, while shard 0's part
    can. The write is refused before any batch, not left written on shard 0 alone. From
    new connections, so either shard decides it (the connection's own does)."""
    big = [k for k in (b"part:%d" % i for i in range(20000)) if key_shard(k, 2) == 1][:6000]
    for attempt, small in enumerate(keys_on_each_shard(b"whole:", 2, per_shard=8)[:8]):
        client = Raw(cascade.port, timeout=60)
        args = [b"MSET", small, b"new"]
        for key in big:
            args += [key, (b"%d" % attempt) * 400]
        client.send(encode_long(args))
        assert client.reply() == b"-ERR storage error, see the server log\r\n"
        client.send(encode_long([b"EXISTS", small] + big[:100]))
        assert client.reply() == b":0\r\n", f"attempt {attempt}: half the MSET is there"
        client.send(encode([b"SET", small, b"after"]))
        assert client.reply() == b"+OK\r\n"
        client.close()


def test_cycles_of_multi_shard_commands_over_three_shards_do_not_deadlock(start_cascade):
    """Each worker takes the keys of three shards in its own argument order (a cycle a->b,
    b->c, c->a), the case a per-argument lock order would deadlock on."""
    server = start_cascade("--shards", "3")
    a, b, c = keys_on_each_shard(b"cyc", 3)
    orders = [(a, b, c), (b, c, a), (c, a, b)]
    rounds = 150
    errors = []

    def worker(x, y, z):
        client = Raw(server.port, timeout=30)
        try:
            for _ in range(rounds):
                client.call([b"MSET", x, b"1", y, b"2", z, b"3"])
                client.call([b"RENAME", x, y])
                client.call([b"BITOP", b"OR", z, y, x])
                client.call([b"COPY", z, x, b"REPLACE"])
                client.call([b"MGET", z, y, x])
        except Exception as e:
            errors.append(e)
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=order) for order in orders * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a client hung (deadlock?)"
    assert not errors, errors[0]
    assert parse(Raw(server.port).call([b"EXISTS", a, b, c])) >= 1


def test_a_key_read_new_means_the_whole_mset_is_in_for_scans_too(start_cascade, monkeypatch):
    """KEYS, SCAN and DBSIZE do not wait for fences, so the stripes of a multi-shard MSET's
    coordinator stay held until every part is in: once a client reads one of its keys, KEYS
    finds the others. The parts wait 20 ms after the decision here, so a coordinator that
    let go early would be caught. Each round's keys are new, so nothing else removes them."""
    monkeypatch.setenv("CASCADE_DEBUG_PART_DELAY_MS", "20")
    server = start_cascade()
    rounds = 20
    pairs = [keys_on_each_shard(b"sa%d-" % r, SHARDS) for r in range(rounds)]
    errors = []
    done = threading.Event()

    def writer():
        client = Raw(server.port, timeout=30)
        try:
            for a, b in pairs:
                assert client.call([b"MSET", a, b"v", b, b"v"]) == b"+OK\r\n"
        except Exception as e:
            errors.append(e)
        finally:
            done.set()
            client.close()

    def reader(side):
        client = Raw(server.port, timeout=30)
        try:
            r = 0
            while r < rounds and not done.is_set():
                key, other = pairs[r][side], pairs[r][1 - side]
                if parse(client.call([b"GET", key])) is None:
                    continue
                if parse(client.call([b"KEYS", other])) != [other]:
                    errors.append(f"read {key!r}, then KEYS did not find {other!r}")
                    return
                r += 1
        finally:
            client.close()

    threads = [threading.Thread(target=writer)]
    threads += [threading.Thread(target=reader, args=(side,)) for side in (0, 1, 0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors[0]
