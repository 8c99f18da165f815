"""A crash-test writer: a thread with its own connection and its own keys, sending one
write at a time and recording each in its history (history.Op) with the effect its reply
proves. It runs until the server dies under it (the last write is then "in flight") or
the driver stops it.

Keys: `w<N>:s<i>` strings (SET, SET PX/EX, APPEND, MSET, DEL, expiries) and `w<N>:c<i>`
counters (INCRBY, DEL, expiries). The writer keeps a model of its keys (history.KeyState)
and checks every reply it can against it: a reply the model rules out (APPEND's length,
INCRBY's sum, DEL's count, EXPIRE's 0/1) is an anomaly, a write lost or resurrected while
the server ran. Where a reply depends on whether a key has expired by the time the server
ran the command, the model accepts either answer the deadline allows.

Values are unique (writer id and write number first), from 10 bytes to 64 KiB: mostly
small, some of a few KiB (over min-blob-size, so they go to the value log), a few large.
"""

import math
import random
import threading
import time

from history import ABSENT, KeyState, Op
from resp_client import Client, ConnectionLost, ReplyError

MAX_VALUE = 64 * 1024
# A relative deadline of a write in flight was set no later than the kill, itself no later
# than this after the write was sent.
FLIGHT_MS = 600_000
SHORT_TTL_MS = (50, 1500)
LONG_TTL_S = 3600


def now_ms():
    return time.time() * 1000.0


def string_keys(writer, count):
    return [b"w%d:s%d" % (writer, i) for i in range(count)]


def counter_keys(writer, count):
    return [b"w%d:c%d" % (writer, i) for i in range(count)]


class Anomaly(Exception):
    """A reply the writer's model rules out."""


class Writer(threading.Thread):
    def __init__(self, writer_id, port, seed, state, strings, counters, multi, stop):
        super().__init__(name=f"writer-{writer_id}", daemon=True)
        self.id = writer_id
        self.port = port
        self.rng = random.Random(seed)
        self.state = dict(state)  # this writer's keys -> KeyState, as of its last reply
        self.strings = string_keys(writer_id, strings)
        self.counters = counter_keys(writer_id, counters)
        self.multi = multi
        self.stop = stop
        self.ops = []
        self.anomalies = []
        self.failure = None  # an unexpected exception, as text
        self.seq = 0

    def keys(self):
        return self.strings + self.counters

    def run(self):
        try:
            client = None
            client = Client(self.port)
            while not self.stop.is_set() and self.step(client):
                pass
        except ConnectionLost:
            pass
        except Exception as e:  # reported by the driver as a failure of the test itself
            self.failure = f"{type(e).__name__}: {e}"
        finally:
            if client:
                client.close()

    def step(self, client):
        """Sends one write and records it; False once the connection is gone."""
        command, effect = self.choose()
        op = Op(command, int(now_ms()))
        try:
            client.send(command)
            reply = client.reply()
        except ConnectionLost:
            op.effects = effect(None, op.sent, None)
            self.ops.append(op)
            return False
        acked = math.ceil(now_ms())
        try:
            if isinstance(reply, ReplyError):
                raise Anomaly(f"error reply {reply}")
            op.effects = effect(reply, op.sent, acked)
        except Anomaly as e:
            # The model of these keys is in doubt: keep every effect the write could have
            # had, as for a write in flight, and stop this writer for the cycle.
            self.anomalies.append(f"{op.describe()}: {e}")
            op.effects = effect(None, op.sent, None)
            self.ops.append(op)
            return False
        op.acked = acked
        for key, states in op.effects.items():
            self.state[key] = states[0]
        self.ops.append(op)
        return True

    # ---- the writes -------------------------------------------------------------------

    def choose(self):
        table = [(28, self.set_plain), (6, self.set_with_ttl), (15, self.append),
                 (18, self.incrby), (7, self.delete), (9, self.expire), (4, self.pexpireat)]
        if self.multi:
            table += [(8, self.mset), (5, self.delete_many)]
        pick = self.rng.uniform(0, sum(w for w, _ in table))
        for weight, make in table:
            pick -= weight
            if pick <= 0:
                return make()
        return table[-1][1]()

    def set_plain(self, key=None):
        key = key or self.rng.choice(self.strings)
        value = self.value()

        def effect(reply, sent, acked):
            _expect(reply is None or reply == b"OK", f"SET replied {reply!r}")
            return {key: [KeyState(value)]}
        return [b"SET", key, value], effect

    def set_with_ttl(self):
        key = self.rng.choice(self.strings)
        value = self.value()
        ttl_ms = self.ttl_ms()
        option = [b"PX", ttl_ms] if ttl_ms % 1000 else [b"EX", ttl_ms // 1000]

        def effect(reply, sent, acked):
            _expect(reply is None or reply == b"OK", f"SET replied {reply!r}")
            return {key: [KeyState(value, sent + ttl_ms, _latest(sent, acked) + ttl_ms)]}
        return [b"SET", key, value] + option, effect

    def append(self):
        key = self.rng.choice(self.strings)
        old = self.state[key]
        chunk = self.tag() + self.rng.randbytes(self.rng.randint(1, 300))
        if old.value is not None and len(old.value) + len(chunk) > MAX_VALUE:
            return self.set_plain(key)
        fresh = KeyState(chunk)
        grown = None if old.value is None else \
            KeyState(old.value + chunk, old.expire_lo, old.expire_hi)

        def effect(reply, sent, acked):
            if reply is None:
                return {key: _either(old, sent, grown, fresh)}
            if grown and reply == len(grown.value) and old.may_exist_at(sent):
                return {key: [grown]}
            _expect(reply == len(chunk) and old.may_be_gone_at(acked),
                    f"APPEND replied {reply}, the key held {_size(old)}")
            return {key: [fresh]}
        return [b"APPEND", key, chunk], effect

    def incrby(self):
        key = self.rng.choice(self.counters)
        old = self.state[key]
        amount = self.rng.randint(1, 1000)
        fresh = KeyState(b"%d" % amount)
        grown = None if old.value is None else \
            KeyState(b"%d" % (int(old.value) + amount), old.expire_lo, old.expire_hi)

        def effect(reply, sent, acked):
            if reply is None:
                return {key: _either(old, sent, grown, fresh)}
            if grown and reply == int(grown.value) and old.may_exist_at(sent):
                return {key: [grown]}
            _expect(reply == amount and old.may_be_gone_at(acked),
                    f"INCRBY {amount} replied {reply}, the counter held {old.value!r}")
            return {key: [fresh]}
        return [b"INCRBY", key, amount], effect

    def delete(self):
        key = self.rng.choice(self.strings + self.counters)
        old = self.state[key]

        def effect(reply, sent, acked):
            if reply is not None:
                _expect(reply in _possible_counts([old], sent, acked),
                        f"DEL replied {reply}, the key held {_size(old)}")
            return {key: [ABSENT]}
        return [b"DEL", key], effect

    def expire(self):
        pool = self.strings if self.rng.random() < 0.8 else self.counters
        key = self.rng.choice(pool)
        old = self.state[key]
        ttl_ms = self.ttl_ms()
        command = [b"PEXPIRE", key, ttl_ms] if ttl_ms % 1000 else [b"EXPIRE", key, ttl_ms // 1000]

        def effect(reply, sent, acked):
            timed = None if old.value is None else \
                KeyState(old.value, sent + ttl_ms, _latest(sent, acked) + ttl_ms)
            if reply is None:
                return {key: _either(old, sent, timed, ABSENT)}
            if reply == 1 and timed and old.may_exist_at(sent):
                return {key: [timed]}
            _expect(reply == 0 and old.may_be_gone_at(acked),
                    f"{command[0].decode()} replied {reply}, the key held {_size(old)}")
            return {key: [ABSENT]}
        return command, effect

    def pexpireat(self):
        key = self.rng.choice(self.strings + self.counters)
        old = self.state[key]
        past = self.rng.random() < 0.1
        deadline = int(now_ms()) + (-1000 if past else self.ttl_ms())

        def effect(reply, sent, acked):
            timed = None if old.value is None or past else KeyState(old.value, deadline, deadline)
            if reply is None:
                return {key: _either(old, sent, timed or ABSENT, ABSENT)}
            if reply == 1 and old.may_exist_at(sent):
                return {key: [timed or ABSENT]}  # a deadline in the past deletes the key
            _expect(reply == 0 and old.may_be_gone_at(acked),
                    f"PEXPIREAT replied {reply}, the key held {_size(old)}")
            return {key: [ABSENT]}
        return [b"PEXPIREAT", key, deadline], effect

    def mset(self):
        keys = self.rng.sample(self.strings, self.rng.randint(2, 4))
        values = [self.value() for _ in keys]

        def effect(reply, sent, acked):
            _expect(reply is None or reply == b"OK", f"MSET replied {reply!r}")
            return {k: [KeyState(v)] for k, v in zip(keys, values)}
        return [b"MSET"] + [x for kv in zip(keys, values) for x in kv], effect

    def delete_many(self):
        keys = self.rng.sample(self.strings + self.counters, self.rng.randint(2, 4))
        olds = [self.state[k] for k in keys]

        def effect(reply, sent, acked):
            if reply is not None:
                _expect(reply in _possible_counts(olds, sent, acked),
                        f"DEL of {len(keys)} keys replied {reply}")
            return {k: [ABSENT] for k in keys}
        return [b"DEL"] + keys, effect

    # ---- values -----------------------------------------------------------------------

    def tag(self):
        """A prefix no other value of the run shares: writer id and write number."""
        self.seq += 1
        return b"%d.%x." % (self.id, self.seq)

    def value(self):
        r = self.rng.random()
        if r < 0.6:
            size = self.rng.randint(10, 256)
        elif r < 0.9:
            size = int(math.exp(self.rng.uniform(math.log(256), math.log(4096))))
        else:
            size = int(math.exp(self.rng.uniform(math.log(4096), math.log(MAX_VALUE))))
        tag = self.tag()
        return tag + self.rng.randbytes(max(0, size - len(tag)))

    def ttl_ms(self):
        """A short deadline (it passes during the run, often across a crash) or a long one."""
        if self.rng.random() < 0.6:
            return self.rng.randint(*SHORT_TTL_MS)
        return LONG_TTL_S * 1000


def _expect(condition, message):
    if not condition:
        raise Anomaly(message)


def _latest(sent, acked):
    """The latest time a write sent at `sent` can have run."""
    return acked if acked is not None else sent + FLIGHT_MS


def _either(old, sent, if_alive, if_gone):
    """The states a write in flight may have left: `if_alive` if it found the key alive
    (no earlier than `sent`), `if_gone` if it found none."""
    out = []
    if if_alive is not None and old.may_exist_at(sent):
        out.append(if_alive)
    if old.may_be_gone_at(sent + FLIGHT_MS):
        out.append(if_gone)
    return out


def _possible_counts(olds, sent, acked):
    """The counts DEL may reply for keys in states `olds`, run between sent and acked."""
    sure = sum(1 for s in olds if s.value is not None and not s.may_be_gone_at(acked))
    maybe = sum(1 for s in olds if s.may_exist_at(sent))
    return range(sure, maybe + 1)


def _size(state):
    return "nothing" if state.value is None else f"{len(state.value)} bytes"
