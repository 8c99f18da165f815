"""Differential test of the collections: cascade (two shards) and a real redis-server get the
same seeded random steps over hashes, lists, sets, sorted sets, the keyspace commands on
them and MULTI/EXEC/WATCH blocks (collection_commands.py makes them), and every reply is
compared, in RESP2 and in RESP3.

Replies are compared byte for byte (reply types included) except where Redis promises less:
  - members in no particular order (SMEMBERS, SINTER/SUNION/SDIFF, HKEYS, HVALS, HGETALL):
    the same reply shape and the same members;
  - a whole SCAN/SSCAN/HSCAN/ZSCAN from cursor 0: each server's cursor is walked to its end
    and what was visited compared as a set (another cursor: the errors, or the reply's form);
  - SRANDMEMBER, HRANDFIELD, ZRANDMEMBER: the same shape, cascade's picks are members (with
    their values or scores), distinct for a positive count, as many as Redis returns;
  - SPOP: the same, then redis-server is made to hold what cascade holds (the members each
    popped are put back or removed there), and the two sets compared;
  - TTL/PTTL/EXPIRETIME within a second; DUMP by restoring each payload on the other server;
    OBJECT ENCODING exactly for a key just built from nothing, else a small encoding in
    Redis must be small in cascade (Redis never converts back when a collection shrinks);
  - EXEC: element by element, with the rules above;
  - the score -0 of a sorted set reads as 0 (see unsigned_zeros);
  - a lex range (ZRANGEBYLEX, ZLEXCOUNT, ZRANGE BYLEX...) over a sorted set whose members
    have different scores is not sent: Redis leaves its result unspecified (and queued
    commands never include one).
Every 50 steps and at the end of a sequence the two keyspaces (databases 0 and 1: types,
contents, expiry) are compared whole.

The seed is printed; CASCADE_DIFF_SEED=<seed> replays a run, CASCADE_DIFF_COMMANDS sets the
number of steps per sequence."""

import os
import random

import pytest

from collection_commands import RANDOM, lex_source, step
from conftest import Raw

SEQUENCES = 3
COMMANDS = int(os.environ.get("CASCADE_DIFF_COMMANDS", "500"))
SNAPSHOT_EVERY = 50
SCAN_LIMIT = 10000


# ---- replies as trees ---------------------------------------------------------------------

def reply_end(data, pos=0):
    """The offset just past the reply starting at pos."""
    end = data.index(b"\r\n", pos)
    kind, head = data[pos:pos + 1], data[pos + 1:end]
    pos = end + 2
    if kind in b"$=!":
        n = int(head)
        return pos if n < 0 else pos + n + 2
    if kind in b"*~%>":
        n = int(head)
        for _ in range(max(n, 0) * (2 if kind == b"%" else 1)):
            pos = reply_end(data, pos)
    return pos


def children(data):
    """The raw replies inside an aggregate reply."""
    end = data.index(b"\r\n")
    n = int(data[1:end]) * (2 if data[:1] == b"%" else 1)
    out, pos = [], end + 2
    for _ in range(max(n, 0)):
        nxt = reply_end(data, pos)
        out.append(data[pos:nxt])
        pos = nxt
    return out


def is_aggregate(data):
    return data[:1] in b"*~%>" and not data.startswith(b"*-1")


def value(data):
    """bytes for strings, doubles and statuses; int; None; Exception; lists (maps flat)."""
    kind = data[:1]
    head = data[1:data.index(b"\r\n")]
    if kind == b"-":
        return Exception(head.decode(errors="replace"))
    if kind in b":(":
        return int(head)
    if kind == b"_" or head == b"-1" and kind in b"$*":
        return None
    if kind in b"$=":
        return data[len(head) + 3:-2]
    if kind in b"*~%>":
        return [value(c) for c in children(data)]
    return head


def shape(data):
    """The reply with string and double contents blanked: what random replies share."""
    kind = data[:1]
    if is_aggregate(data):
        return (kind, tuple(shape(c) for c in children(data)))
    if kind in b"$," and not data.startswith(b"$-1"):
        return kind
    return data


def pairs(data):
    """[k, v, ...] flat (RESP2) or [[k, v], ...] (RESP3) as a list of (k, v) tuples."""
    items = [value(c) for c in children(data)]
    if items and isinstance(items[0], list):
        return [tuple(p) for p in items]
    return list(zip(items[0::2], items[1::2]))


def unsigned_zeros(data):
    """A sorted-set reply with the score -0 written as 0. Redis answers -0 for a member of
    a sorted set it encodes as a skiplist and 0 in a listpack (which stores the score's
    text), so its answer depends on the set's history; cascade always answers 0."""
    return data.replace(b"$2\r\n-0\r\n", b"$1\r\n0\r\n").replace(b",-0\r\n", b",0\r\n")


# ---- state ------------------------------------------------------------------------------

def content(conn, key):
    """(type, contents) of a key, contents in an order both servers agree on."""
    kind = value(conn.call([b"TYPE", key]))
    if kind == b"string":
        return kind, value(conn.call([b"GET", key]))
    if kind == b"list":
        return kind, value(conn.call([b"LRANGE", key, b"0", b"-1"]))
    if kind == b"set":
        return kind, sorted(value(conn.call([b"SMEMBERS", key])))
    if kind == b"hash":
        return kind, sorted(pairs(conn.call([b"HGETALL", key])))
    if kind == b"zset":
        return kind, unsigned_zeros(conn.call([b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"]))
    return kind, None


def snapshot(conn, db):
    conn.call([b"SELECT", db])
    out = {}
    for key in value(conn.call([b"KEYS", b"*"])):
        out[key] = content(conn, key) + (value(conn.call([b"PTTL", key])),)
    return out


def compare_keyspaces(c, r, db_now, where):
    for db in (b"1", b"0"):
        ours, theirs = snapshot(c, db), snapshot(r, db)
        assert ours.keys() == theirs.keys(), (where, db, sorted(ours), sorted(theirs))
        for key in ours:
            a, b = ours[key], theirs[key]
            assert a[:2] == b[:2], (where, db, key, a, b)
            assert (a[2] < 0) == (b[2] < 0) and (a[2] < 0 and a[2] == b[2] or
                                                 abs(a[2] - b[2]) < 2000), (where, db, key, a, b)
    for conn in (c, r):
        conn.call([b"SELECT", db_now])


# ---- comparing replies ------------------------------------------------------------------

UNORDERED = {b"SMEMBERS", b"SINTER", b"SUNION", b"SDIFF", b"HKEYS", b"HVALS"}
SMALL = {b"set": b"intset", b"hash": b"listpack", b"zset": b"listpack", b"list": b"quicklist"}
BIG = {b"set": b"hashtable", b"hash": b"hashtable", b"zset": b"skiplist", b"list": b"quicklist"}


class Run:
    """One pair of connections (and a second pair for other clients' writes) and what the
    comparison needs to know between commands."""

    def __init__(self, c, r, c2, r2):
        self.c, self.r, self.c2, self.r2 = c, r, c2, r2
        self.db = b"0"
        self.queued = None  # commands queued since MULTI, or None outside one
        self.compared = 0

    # -- one command ------------------------------------------------------------------

    def send(self, cmd, strict_encoding=False):
        name = cmd[0].upper()
        if self.queued is None and is_full_scan(cmd):
            return self.compare_scans(cmd)
        source = lex_source(cmd)
        if source is not None and self.mixed_scores(source):
            return  # Redis leaves a lex range over different scores unspecified
        ours, theirs = self.c.call(cmd), self.r.call(cmd)
        self.compared += 1
        if self.queued is not None and name != b"EXEC":
            assert ours == theirs, (cmd, ours, theirs)  # +QUEUED or an error
        else:
            self.check(cmd, ours, theirs, strict_encoding, self.queued)
        self.track(cmd, name, ours)

    def mixed_scores(self, key):
        if value(self.r.call([b"TYPE", key])) != b"zset":
            return False
        scores = pairs(unsigned_zeros(self.r.call([b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"])))
        return len({s for _, s in scores}) > 1

    def track(self, cmd, name, ours):
        if self.queued is not None and name not in (b"EXEC", b"DISCARD", b"MULTI"):
            if ours == b"+QUEUED\r\n":
                self.queued.append(cmd)
            return
        if name == b"MULTI" and ours == b"+OK\r\n":
            self.queued = []
        elif name in (b"EXEC", b"DISCARD") and self.queued is not None and \
                not ours.startswith(b"-ERR wrong number"):
            self.queued = None
        elif name == b"SELECT" and ours == b"+OK\r\n":
            self.db = cmd[1]

    def check(self, cmd, ours, theirs, strict_encoding=False, exec_queue=None):
        """Asserts two replies to cmd agree as far as Redis promises (exec_queue: what an
        EXEC ran); follows up on the servers when a random reply needs it (so no random
        command is ever queued in a MULTI block)."""
        name = cmd[0].upper()
        if name.startswith(b"Z"):
            ours, theirs = unsigned_zeros(ours), unsigned_zeros(theirs)
        where = (cmd, ours, theirs)
        if ours[:1] == b"-" or theirs[:1] == b"-":
            assert ours == theirs, where
        elif name in UNORDERED:
            assert shape(ours) == shape(theirs) and \
                sorted(value(ours)) == sorted(value(theirs)), where
        elif name == b"HGETALL":
            assert shape(ours) == shape(theirs) and sorted(pairs(ours)) == sorted(pairs(theirs)), where
        elif name in RANDOM:
            assert shape(ours) == shape(theirs), where
            self.check_random(cmd, name, ours, theirs)
        elif name in (b"TTL", b"PTTL", b"EXPIRETIME"):
            a, b = value(ours), value(theirs)
            slack = 1500 if name == b"PTTL" else 1
            assert (a < 0 or b < 0) and a == b or a >= 0 and b >= 0 and abs(a - b) <= slack, where
        elif name == b"DUMP":
            self.check_dump(cmd, ours, theirs)
        elif name == b"OBJECT" and cmd[1:2] and cmd[1].upper() == b"ENCODING":
            self.check_encoding(cmd, ours, theirs, strict_encoding)
        elif name in (b"SCAN", b"SSCAN", b"HSCAN", b"ZSCAN"):
            # A cursor other than 0 (Redis reads "-1" as 2^64-1) means something else on
            # each server: only the reply's form is comparable.
            assert len(children(ours)) == len(children(theirs)) == 2, where
        elif name == b"KEYS":
            assert sorted(value(ours)) == sorted(value(theirs)), where
        elif name == b"RANDOMKEY":
            assert (value(ours) is None) == (value(theirs) is None), where
            if value(ours) is not None:
                assert value(self.r.call([b"EXISTS", value(ours)])) == 1, where
        elif name == b"EXEC" and is_aggregate(ours) and is_aggregate(theirs):
            a, b = children(ours), children(theirs)
            assert len(a) == len(b) == len(exec_queue), where
            for queued, x, y in zip(exec_queue, a, b):
                self.check(queued, x, y)
        else:
            assert ours == theirs, where

    def check_random(self, cmd, name, ours, theirs):
        where = (cmd, ours, theirs)
        got = value(ours)
        key = cmd[1]
        counted = len(cmd) > 2
        with_values = len(cmd) > 3
        if name == b"SPOP":
            popped_r = value(theirs)
            popped_r = [] if popped_r is None else popped_r if counted else [popped_r]
            popped_c = [] if got is None else got if counted else [got]
            universe = set(value(self.r.call([b"SMEMBERS", key]))) | set(popped_r)
            assert len(set(popped_c)) == len(popped_c) and set(popped_c) <= universe, where
            # redis-server now holds what cascade holds
            back = [m for m in popped_r if m not in popped_c]
            gone = [m for m in popped_c if m not in popped_r]
            if back:
                self.r.call([b"SADD", key] + back)
            if gone:
                self.r.call([b"SREM", key] + gone)
            assert content(self.c, key) == content(self.r, key), where
            return
        if name == b"SRANDMEMBER":
            universe = {m: None for m in value(self.r.call([b"SMEMBERS", key]))}
        elif name == b"HRANDFIELD":
            universe = dict(pairs(self.r.call([b"HGETALL", key])))
        else:
            universe = dict(pairs(unsigned_zeros(
                self.r.call([b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"]))))
        if not counted:
            assert got is None and not universe or got in universe, where
            return
        picks = pairs(ours) if with_values else [(m, universe.get(m)) for m in got]
        for m, v in picks:
            assert m in universe and v == universe[m], (where, m, v)
        if int(cmd[2]) >= 0:
            assert len({m for m, _ in picks}) == len(picks) == min(int(cmd[2]), len(universe)), where

    def check_dump(self, cmd, ours, theirs):
        where = (cmd, ours, theirs)
        a, b = value(ours), value(theirs)
        assert (a is None) == (b is None), where
        if a is None:
            return
        # Each payload restores on the other server to the same value.
        scratch = b"{%s}scratch" % cmd[1]
        assert self.c.call([b"RESTORE", scratch, b"0", b, b"REPLACE"]) == b"+OK\r\n", where
        assert self.r.call([b"RESTORE", scratch, b"0", a, b"REPLACE"]) == b"+OK\r\n", where
        assert content(self.c, scratch) == content(self.r, scratch), where
        assert content(self.c, scratch) == content(self.c, cmd[1]), where
        self.c.call([b"DEL", scratch])
        self.r.call([b"DEL", scratch])

    def check_encoding(self, cmd, ours, theirs, strict):
        where = (cmd, ours, theirs)
        if strict:
            assert ours == theirs, where
            return
        a, b = value(ours), value(theirs)
        assert (a is None) == (b is None), where
        if a is None or b in (b"int", b"embstr", b"raw"):
            assert ours == theirs, where
            return
        kind = value(self.c.call([b"TYPE", cmd[2]]))
        assert a in (SMALL[kind], BIG[kind]) and (b != SMALL[kind] or a == b), where

    # -- scans --------------------------------------------------------------------------

    def compare_scans(self, cmd):
        first = [conn.call(cmd) for conn in (self.c, self.r)]
        self.compared += 1
        if first[0][:1] == b"-" or first[1][:1] == b"-":
            assert first[0] == first[1], (cmd, first)
            return
        hashed = cmd[0].upper() in (b"HSCAN", b"ZSCAN")
        seen = [self.walk(conn, cmd, reply, hashed) for conn, reply in zip((self.c, self.r), first)]
        assert seen[0] == seen[1], (cmd, seen)

    @staticmethod
    def walk(conn, cmd, reply, hashed):
        at = 2 if cmd[0].upper() == b"SCAN" else 3  # where the cursor argument sits, plus one
        seen = set()
        for _ in range(SCAN_LIMIT):
            cursor, batch = children(reply)
            if cmd[0].upper() == b"ZSCAN":
                batch = unsigned_zeros(batch)
            seen.update(pairs(batch) if hashed else value(batch))
            if value(cursor) == b"0":
                return seen
            reply = conn.call(cmd[:at - 1] + [value(cursor)] + cmd[at:])
        raise AssertionError(f"{cmd!r} did not finish")

    # -- steps --------------------------------------------------------------------------

    def run_step(self, items):
        strict = len(items) == 3 and items[0][:1] == [b"DEL"] and \
            items[2][:2] == [b"OBJECT", b"ENCODING"]
        for i, item in enumerate(items):
            if isinstance(item, tuple) and item[0] == "other":
                ours, theirs = self.c2.call(item[1]), self.r2.call(item[1])
                self.compared += 1
                self.check(item[1], ours, theirs)
            elif isinstance(item, tuple) and item[0] == "restore":
                _, src, dst, options = item
                payload = value(self.r.call([b"DUMP", src]))
                if payload is not None:
                    self.send([b"RESTORE", dst, b"0", payload] + options)
            else:
                self.send(item, strict_encoding=strict and i == 2)


def is_full_scan(cmd):
    name = cmd[0].upper()
    at = 1 if name == b"SCAN" else 2
    # Redis reads an empty cursor as 0
    return name in (b"SCAN", b"SSCAN", b"HSCAN", b"ZSCAN") and len(cmd) > at and cmd[at] in (b"0", b"")



@pytest.mark.parametrize("protocol", [b"2", b"3"])
def test_collections_answer_random_sequences_as_redis_does(cascade, redis_clean, protocol):
    seed = int(os.environ.get("CASCADE_DIFF_SEED", random.randrange(1 << 30)))
    print(f"collections differential seed: {seed} (CASCADE_DIFF_SEED={seed} replays it)")
    conns = [Raw(port) for port in (cascade.port, redis_clean.port) * 2]
    run = Run(*conns)
    try:
        for conn in conns:
            conn.call([b"HELLO", protocol])
        for sequence in range(SEQUENCES):
            rng = random.Random(seed * 10 + sequence)
            for conn in conns[:2]:
                conn.call([b"SELECT", b"0"])
                conn.call([b"FLUSHALL"])
            run.db = b"0"
            for n in range(COMMANDS):
                items = step(rng)
                try:
                    run.run_step(items)
                except AssertionError as e:
                    raise AssertionError(f"seed {seed}, sequence {sequence}, step {n}: "
                                         f"{items!r}\n{e}") from None
                if n % SNAPSHOT_EVERY == SNAPSHOT_EVERY - 1 and run.queued is None:
                    compare_keyspaces(run.c, run.r, run.db, (seed, sequence, n))
            compare_keyspaces(run.c, run.r, run.db, (seed, sequence, "end"))
    finally:
        for conn in conns:
            conn.close()
    print(f"collections differential: {run.compared} replies compared")
    assert run.compared >= SEQUENCES * COMMANDS
