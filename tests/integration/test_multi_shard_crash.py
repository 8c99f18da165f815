"""Crash atomicity of writes spanning shards (src/types/multi_shard_log.h): the server is
made to SIGKILL itself at a chosen point of a multi-shard write (CASCADE_CRASH_POINT, read
by src/commands/shard_commit.cc), restarted, and every such write must be whole or absent
— whole whenever one of its decision records survived, which is the case for every
acknowledged one. Under appendfsync always the coordinator's record is synced before the
other parts go; under everysec every writer's batch carries a copy, and none is synced."""

import signal
import time

import pytest

from conftest import Raw, encode, parse
from key_shards import key_shard, keys_on_each_shard

SHARDS = 3
KEYS = keys_on_each_shard(b"c", SHARDS, 2)


def start(start_cascade, monkeypatch, crash_point=None, appendfsync="always"):
    if crash_point:
        monkeypatch.setenv("CASCADE_CRASH_POINT", crash_point)
    else:
        monkeypatch.delenv("CASCADE_CRASH_POINT", raising=False)
    return start_cascade("--shards", str(SHARDS), "--appendfsync", appendfsync)


def write_old_values(client):
    """One SET per key: single-shard writes, which no crash point stops."""
    for key in KEYS:
        assert client.call([b"SET", key, b"old"]) == b"+OK\r\n"


def crash_with(server, client, command):
    """Sends a multi-shard write the armed server dies in; returns once it is dead."""
    client.send(encode(command))
    with pytest.raises((EOFError, ConnectionError)):
        client.reply()
    server.proc.wait(timeout=10)
    assert server.proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("appendfsync", ["always", "everysec"])
@pytest.mark.parametrize("point,expect_new", [("multi-shard-before-decision", False),
                                              ("multi-shard-after-decision", True),
                                              ("multi-shard-after-part", True)])
def test_an_interrupted_mset_is_whole_or_absent(start_cascade, monkeypatch, point, expect_new,
                                                appendfsync):
    server = start(start_cascade, monkeypatch, point, appendfsync)
    client = Raw(server.port)
    write_old_values(client)
    crash_with(server, client, [b"MSET"] + [x for k in KEYS for x in (k, b"new")])

    restarted = start(start_cascade, monkeypatch, appendfsync=appendfsync)
    values = parse(Raw(restarted.port).call([b"MGET"] + KEYS))
    assert values == [b"new" if expect_new else b"old"] * len(KEYS)
    if point == "multi-shard-after-decision":
        assert "Finished 1 interrupted multi-shard writes (2 parts applied)" in restarted.log()
    if point == "multi-shard-after-part":
        # Markers are left (under always the part that crashed wrote one; under everysec
        # that part was still in its WAL's tail and died with the process; either way
        # recovery writes the missing parts with theirs), and recovery deletes them.
        assert "applied markers of multi-shard writes" in restarted.log()


@pytest.mark.parametrize("command,expect", [
    ([b"MSET"] + [x for k in KEYS for x in (k, b"new")], [b"new"] * len(KEYS)),
    ([b"DEL"] + KEYS, [None] * len(KEYS)),
])
def test_under_everysec_any_shard_s_copy_completes_the_write(start_cascade, monkeypatch,
                                                              command, expect):
    # What a power loss may leave: the other shards' batches reached their WALs, the
    # coordinator's did not. Without a copy of the decision on those shards, the write
    # would come back on two shards of three.
    server = start(start_cascade, monkeypatch, "multi-shard-part-without-decision", "everysec")
    client = Raw(server.port)
    write_old_values(client)
    crash_with(server, client, command)
    restarted = start(start_cascade, monkeypatch, appendfsync="everysec")
    assert parse(Raw(restarted.port).call([b"MGET"] + KEYS)) == expect
    # One write, three records: the coordinator's part came from a copy on another shard.
    assert "Finished 1 interrupted multi-shard writes (1 parts applied)" in restarted.log()
    assert "applied markers of multi-shard writes" in restarted.log()


def test_an_interrupted_rename_and_del_are_whole(start_cascade, monkeypatch):
    src, dst = KEYS[0], KEYS[-1]
    assert key_shard(src, SHARDS) != key_shard(dst, SHARDS)
    server = start(start_cascade, monkeypatch, "multi-shard-after-decision")
    client = Raw(server.port)
    assert client.call([b"SET", src, b"moved", b"PXAT", b"4102444800000"]) == b"+OK\r\n"
    crash_with(server, client, [b"RENAME", src, dst])
    restarted = start(start_cascade, monkeypatch)
    client = Raw(restarted.port)
    assert parse(client.call([b"EXISTS", src])) == 0
    assert parse(client.call([b"GET", dst])) == b"moved"
    assert parse(client.call([b"PEXPIRETIME", dst])) == 4102444800000

    restarted.stop()
    server = start(start_cascade, monkeypatch, "multi-shard-after-part")
    client = Raw(server.port)
    write_old_values(client)
    crash_with(server, client, [b"DEL"] + KEYS)
    restarted = start(start_cascade, monkeypatch)
    assert parse(Raw(restarted.port).call([b"EXISTS"] + KEYS)) == 0


def test_under_everysec_a_write_recovery_finishes_keeps_the_earlier_writes_of_its_shards(
        start_cascade, monkeypatch):
    # An unsynced SET on a shard, then a multi-shard write with a part on that shard, killed
    # once its decision is durable: recovery writes the part, so the SET acknowledged
    # before it must be there too, or that shard would show a later write without an
    # earlier one (found by scripts/crash-test.sh --appendfsync everysec).
    server = start(start_cascade, monkeypatch, "multi-shard-after-decision", "everysec")
    client = Raw(server.port)
    coordinator_key, participant_key, earlier_key = KEYS[0], KEYS[2], KEYS[3]
    assert key_shard(participant_key, SHARDS) == key_shard(earlier_key, SHARDS) == 1
    assert client.call([b"SET", earlier_key, b"earlier"]) == b"+OK\r\n"
    crash_with(server, client, [b"MSET", coordinator_key, b"new", participant_key, b"new"])
    restarted = start(start_cascade, monkeypatch)
    values = parse(Raw(restarted.port).call([b"MGET", coordinator_key, participant_key,
                                             earlier_key]))
    assert values == [b"new", b"new", b"earlier"]


def test_recovery_survives_a_crash_of_its_own(start_cascade, monkeypatch):
    server = start(start_cascade, monkeypatch, "multi-shard-after-decision")
    client = Raw(server.port)
    write_old_values(client)
    crash_with(server, client, [b"MSET"] + [x for k in KEYS for x in (k, b"new")])
    # Killed as soon as it accepts: recovery ran, maybe not every cleanup step is on disk.
    again = start(start_cascade, monkeypatch)
    again.proc.send_signal(signal.SIGKILL)
    again.proc.wait(timeout=10)
    last = start(start_cascade, monkeypatch)
    client = Raw(last.port)
    assert parse(client.call([b"MGET"] + KEYS)) == [b"new"] * len(KEYS)
    # Later multi-shard writes are not shadowed by markers or decisions left behind.
    assert client.call([b"MSET"] + [x for k in KEYS for x in (k, b"newer")]) == b"+OK\r\n"
    assert parse(client.call([b"MGET"] + KEYS)) == [b"newer"] * len(KEYS)


@pytest.mark.parametrize("appendfsync", ["always", "everysec"])
def test_acknowledged_multi_shard_writes_survive_sigkill(start_cascade, monkeypatch, appendfsync):
    server = start(start_cascade, monkeypatch, appendfsync=appendfsync)
    client = Raw(server.port)
    rounds = 200
    client.send(b"".join(encode([b"MSET"] + [x for k in KEYS for x in (k, b"v%d" % r)])
                         for r in range(rounds)))
    for _ in range(rounds):
        assert client.reply() == b"+OK\r\n"
    assert client.call([b"RENAME", KEYS[0], b"renamed"]) == b"+OK\r\n"
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(timeout=10)
    restarted = start(start_cascade, monkeypatch, appendfsync=appendfsync)
    client = Raw(restarted.port)
    expected = [None] + [b"v%d" % (rounds - 1)] * (len(KEYS) - 1)
    assert parse(client.call([b"MGET"] + KEYS)) == expected
    assert parse(client.call([b"GET", b"renamed"])) == b"v%d" % (rounds - 1)


@pytest.mark.parametrize("appendfsync", ["always", "everysec"])
def test_finished_writes_leave_no_records_behind(start_cascade, monkeypatch, appendfsync):
    # The clean-up would gather for a minute: the stop must cut that short and drain it.
    monkeypatch.setenv("CASCADE_DEBUG_CLEANUP_PAUSE_MS", "60000")
    server = start(start_cascade, monkeypatch, appendfsync=appendfsync)
    client = Raw(server.port)
    for r in range(50):
        assert client.call([b"MSET"] + [x for k in KEYS for x in (k, b"v%d" % r)]) == b"+OK\r\n"
    # Pipelined, the records of many writes are deleted in shared batches.
    client.send(b"".join(encode([b"MSET"] + [x for k in KEYS for x in (k, b"p%d" % r)])
                         for r in range(300)))
    for _ in range(300):
        assert client.reply() == b"+OK\r\n"
    for r in range(50):
        assert client.call([b"MSET"] + [x for k in KEYS for x in (k, b"v%d" % r)]) == b"+OK\r\n"
    assert server.stop() == 0
    monkeypatch.delenv("CASCADE_DEBUG_CLEANUP_PAUSE_MS")
    restarted = start(start_cascade, monkeypatch, appendfsync=appendfsync)
    log = restarted.log()
    assert "interrupted multi-shard writes" not in log
    assert "applied markers" not in log
    assert parse(Raw(restarted.port).call([b"MGET"] + KEYS)) == [b"v49"] * len(KEYS)


@pytest.mark.parametrize("point,expect_new", [("multi-shard-before-decision", False),
                                              ("multi-shard-after-decision", True),
                                              ("multi-shard-after-part", True)])
def test_an_interrupted_smove_is_whole_or_absent(start_cascade, monkeypatch, point, expect_new):
    # Its parts carry set members as well as metadata records.
    src, dst = KEYS[0], KEYS[2]
    assert key_shard(src, SHARDS) != key_shard(dst, SHARDS)
    members = [b"m%d" % i for i in range(50)]
    server = start(start_cascade, monkeypatch, point)
    client = Raw(server.port)
    assert parse(client.call([b"SADD", src] + members)) == 50
    assert parse(client.call([b"SADD", dst, b"other"])) == 1
    crash_with(server, client, [b"SMOVE", src, dst, b"m7"])
    restarted = start(start_cascade, monkeypatch)
    client = Raw(restarted.port)
    assert parse(client.call([b"SISMEMBER", src, b"m7"])) == (0 if expect_new else 1)
    assert parse(client.call([b"SISMEMBER", dst, b"m7"])) == (1 if expect_new else 0)
    assert parse(client.call([b"SCARD", src])) == (49 if expect_new else 50)
    assert parse(client.call([b"SCARD", dst])) == (2 if expect_new else 1)
    # A *STORE writes only its destination's shard (its sources are read), so it commits
    # as one batch there: no multi-shard crash point applies to it.


def wal_syncs(info):
    for line in info.decode().splitlines():
        if line.startswith("storage_wal_syncs:"):
            return int(line.split(":")[1])
    raise AssertionError("no storage_wal_syncs in INFO")


def pipeline_syncs(client, commands):
    """Sends `commands` in one pipeline, each followed by INFO storage, and returns the WAL
    syncs each command added: INFO runs right behind it, before the everysec timer's (a
    second) and the clean-up's (which the callers hold back a minute; a clean stop still
    drains it at once)."""
    client.send(b"".join(encode(c) + encode([b"INFO", b"storage"]) for c in commands))
    counts = []
    for _ in commands:
        reply = client.reply()
        assert not reply.startswith(b"-"), reply
        counts.append(wal_syncs(parse(client.reply())))
    return [b - a for a, b in zip(counts, counts[1:])]


def test_under_everysec_a_write_syncs_what_each_of_its_shards_acknowledged_before_it(
        start_cascade, monkeypatch):
    # Step 0 of multi_shard_log.h on every writer, the coordinator too: any shard's copy
    # may complete the coordinator's part after a power loss, and that shard must not then
    # lack the SET acknowledged before the write.
    monkeypatch.setenv("CASCADE_DEBUG_CLEANUP_PAUSE_MS", "60000")
    server = start(start_cascade, monkeypatch, appendfsync="everysec")
    client = Raw(server.port)
    on_two = [x for k in KEYS[:4] for x in (k, b"two")]  # shards 0 and 1 of 3
    assert {key_shard(k, SHARDS) for k in KEYS[:4]} == {0, 1}
    on_all = [x for k in KEYS for x in (k, b"all")]
    added = pipeline_syncs(client, [[b"PING"]] + [[b"SET", k, b"old"] for k in KEYS] + [
        [b"MSET"] + on_all,  # unsynced SETs on every shard: one sync each
        [b"MSET"] + on_all,  # the parts of a write over every shard need none
        [b"MSET"] + on_two,
        [b"MSET"] + on_two,  # a write over fewer shards counts as acknowledged: two
        [b"MSET"] + on_all,  # and the next write on those shards syncs them
    ])
    assert added[len(KEYS):] == [SHARDS, 0, 0, 2, 2]


def test_a_write_over_more_than_four_shards_syncs_one_decision_record(start_cascade, monkeypatch):
    # Copies would have each of its five shards log the whole write; the synced decision
    # record logs it about twice.
    monkeypatch.setenv("CASCADE_DEBUG_CLEANUP_PAUSE_MS", "60000")
    server = start_cascade("--shards", "6", "--appendfsync", "everysec")
    keys = keys_on_each_shard(b"w", 6, 1)
    client = Raw(server.port)
    five = [x for k in keys[:5] for x in (k, b"v")]
    three = [x for k in keys[:3] for x in (k, b"v")]
    # Each synced record also holds its write's parts against the next write's step 0.
    added = pipeline_syncs(client, [[b"PING"], [b"MSET"] + five, [b"MSET"] + five,
                                    [b"MSET"] + three])
    assert added == [1, 1, 0]
    assert parse(client.call([b"MGET"] + keys[:5])) == [b"v"] * 5
