"""What one crash-test writer did, and what a restarted server must show for it.

A writer owns its keys (no other writer touches them) and sends one command at a time, so
its acknowledged writes have one order. Each write is an Op: the command, when it was sent
and acknowledged, and its effect on every key it touches as a KeyState (value and expiry
deadline). A write the server was killed under (sent, never acknowledged) is "in flight":
it may or may not have happened, and where its effect depended on whether a key had
expired by the time it ran, it carries every effect it could have had.

After a restart the checker reads every key of the writer (value and PEXPIRETIME) and asks
which prefixes of the writer's history explain what it read: k is a survivor count when
the state after the writer's first k writes, key by key, matches every key read. For one
key the matching k form a union of intervals (between the writes that touched it); the
writer's survivor counts are their intersection over its keys, found with one difference
array in O(writes + keys).

  - appendfsync always: every acknowledged write must survive (the largest survivor count
    is at least the number acknowledged; one more when the write in flight happened).
  - appendfsync everysec: some prefix must explain everything (no hole: if write i
    survived, every earlier one did), and the writes lost after it must be recent.

Times are milliseconds since the epoch, on the same clock the server's deadlines use.
"""

from dataclasses import dataclass, field

# Deadlines are whole milliseconds on both sides; this absorbs rounding between them.
CLOCK_SLACK_MS = 2


@dataclass(frozen=True)
class KeyState:
    """A key's content: value None means no key. A deadline is known to lie in
    [expire_lo, expire_hi] (equal for PEXPIREAT; a window for relative expiries, set when
    the server ran the command, somewhere between its sending and its reply)."""
    value: bytes = None
    expire_lo: int = None
    expire_hi: int = None

    @property
    def has_deadline(self):
        return self.expire_lo is not None

    def may_exist_at(self, t):
        """Whether the key can still be alive at time t (Redis: alive while now <= when)."""
        return self.value is not None and (
            not self.has_deadline or self.expire_hi + CLOCK_SLACK_MS >= t)

    def may_be_gone_at(self, t):
        return self.value is None or (self.has_deadline and self.expire_lo - CLOCK_SLACK_MS < t)


ABSENT = KeyState()


@dataclass(frozen=True)
class Observation:
    """One key as read after a restart: GET's value and PEXPIRETIME's reply (-1: no
    deadline; -2: no key, which after a non-null GET means it expired in between), read
    by commands sent at `sent` and answered by `received`."""
    value: bytes
    expire: int
    sent: int
    received: int

    def as_state(self):
        """The key's state as read, the base the next cycle's writers start from."""
        if self.value is None or self.expire == -2:
            return ABSENT
        if self.expire == -1:
            return KeyState(self.value)
        return KeyState(self.value, self.expire, self.expire)

    def readable_past_deadline(self):
        """A value was served after its deadline: the read ran no earlier than `sent`."""
        return self.value is not None and self.expire >= 0 and \
            self.expire + CLOCK_SLACK_MS < self.sent


def matches(state, seen):
    """Whether `seen` is what a key in `state` may look like when read."""
    if state.value is None:
        return seen.value is None
    if not state.has_deadline:
        return seen.value == state.value and seen.expire == -1
    lo, hi = state.expire_lo - CLOCK_SLACK_MS, state.expire_hi + CLOCK_SLACK_MS
    if seen.value is None or seen.expire == -2:
        # Gone: it may have expired by the time the read ran (no later than `received`).
        return lo < seen.received and (seen.value is None or seen.value == state.value)
    return (seen.value == state.value and lo <= seen.expire <= hi and
            not seen.readable_past_deadline())


@dataclass
class Op:
    """One write. `effects` maps each key it touches to the states it may have left it in:
    one state for an acknowledged write (its reply settles any doubt), up to two for the
    write in flight. `acked` is None for the write in flight."""
    command: list
    sent: int
    acked: int = None
    effects: dict = field(default_factory=dict)

    def describe(self, limit=80):
        """The command for a message: printable arguments as they are, values by their
        tag (writer.write number) and size."""
        words = []
        for arg in self.command:
            arg = arg if isinstance(arg, bytes) else str(arg).encode()
            if arg.isascii() and arg.decode().isprintable() and len(arg) <= 24:
                words.append(arg.decode())
            else:
                tag = b".".join(arg.split(b".")[:2])
                words.append(f"{tag[:16].decode('ascii', 'replace')}..({len(arg)} B)")
        line = " ".join(words)
        return line if len(line) <= limit else line[:limit] + "..."


def key_intervals(indexes, effects, n, base, seen):
    """The survivor counts k (0..n) for which a key, as written by the first k of n ops
    starting from `base`, matches `seen`: a list of disjoint closed intervals. `indexes`
    lists, in order, the ops that wrote the key and `effects` the states each may have
    left it in."""
    intervals = []
    bounds = [-1] + indexes + [n]
    for j in range(len(bounds) - 1):
        states = [base] if j == 0 else effects[j - 1]
        if any(matches(s, seen) for s in states):
            intervals.append((bounds[j] + 1, bounds[j + 1]))
    return intervals


@dataclass
class Verdict:
    """What the checker concluded for one writer (or one shard's part of its writes)."""
    acked: int              # acknowledged writes
    in_flight: bool         # a write was in flight at the kill
    survived: int = None    # the largest survivor count; None if no prefix explains the keys
    behind: list = field(default_factory=list)  # keys that disagree with the full history
    ops: list = field(default_factory=list)     # the ops judged (those of the keys checked)
    keys: list = field(default_factory=list)    # the keys checked

    def lost_acknowledged(self):
        """Acknowledged writes missing from the largest explaining prefix."""
        if self.survived is None:
            return None
        return max(0, self.acked - self.survived)


def check(ops, base, seen, keys=None):
    """The Verdict for a writer's `ops` (acknowledged ones first, then at most one in
    flight), its keys' states before them (`base`: key -> KeyState) and what was read
    (`seen`: key -> Observation). `keys` restricts the check to some keys, and the ops to
    those that wrote one of them."""
    if keys is None:
        keys = list(base)
    else:
        wanted = set(keys)
        ops = [op for op in ops if wanted.intersection(op.effects)]
    acked = sum(1 for op in ops if op.acked is not None)
    n = len(ops)
    verdict = Verdict(acked=acked, in_flight=n > acked, ops=ops, keys=keys)
    touches = {key: ([], []) for key in keys}
    for i, op in enumerate(ops):
        for key, states in op.effects.items():
            if key in touches:
                touches[key][0].append(i)
                touches[key][1].append(states)
    # How many keys accept each survivor count: a difference array over 0..n.
    votes = [0] * (n + 2)
    for key in keys:
        indexes, effects = touches[key]
        intervals = key_intervals(indexes, effects, n, base[key], seen[key])
        for lo, hi in intervals:
            votes[lo] += 1
            votes[hi + 1] -= 1
        if not any(lo <= n and hi >= acked for lo, hi in intervals):
            verdict.behind.append(key)
    running = 0
    for k in range(n + 1):
        running += votes[k]
        if running == len(keys):
            verdict.survived = k
    return verdict


def hole_witness(ops, base, seen, keys):
    """For a history no prefix explains: (missing, kept), op indexes with missing < kept,
    where op `missing` is absent from a key whose later state was read and op `kept`
    shows in another key; None if no such pair is found. Each key is taken at its most
    recent matching state."""
    touches = {key: [] for key in keys}
    for i, op in enumerate(ops):
        for key in op.effects:
            if key in touches:
                touches[key].append(i)
    missing, kept = [], []
    for key in keys:
        effects = [ops[i].effects[key] for i in touches[key]]
        intervals = key_intervals(touches[key], effects, len(ops), base[key], seen[key])
        if not intervals:
            continue
        lo, hi = max(intervals)
        if lo > 0:
            kept.append((lo - 1, key))
        if hi < len(ops) and ops[hi].acked is not None:
            missing.append((hi, key))
    if not missing or not kept:
        return None
    first_missing, last_kept = min(missing), max(kept)
    return (first_missing, last_kept) if first_missing[0] < last_kept[0] else None


def latest_write(ops, key):
    """The index of the last op that touched `key`, or None."""
    for i in range(len(ops) - 1, -1, -1):
        if key in ops[i].effects:
            return i
    return None
