"""A full disk, at the server: writes fail with Redis's MISCONF text while reads go on, a
write over several shards is never half visible (nor completed later over newer data),
writing resumes once space returns, and nothing acknowledged is lost across a SIGKILL.

The disk is a small tmpfs mounted in a private mount namespace (unshare), which a holder
process keeps alive; the servers run inside it (nsenter), and the test reaches its files
through /proc/<holder>/root. Needs root, or unprivileged user namespaces; skipped when
neither lets it mount.
"""

import os
import random
import select
import shutil
import signal
import subprocess
import time

import pytest
import redis

from conftest import STOP_TIMEOUT, cascade_bin, start_process
from key_shards import key_shard, keys_on_each_shard

DISK_MB = 40
BALLAST_BYTES = 8 << 20  # freed to let writes resume
FILL_VALUE = 400  # bytes: under min-blob-size, over what compresses
MISCONF = "MISCONF Errors writing to the AOF file: No space left on device"


class SmallDisk:
    def __init__(self, holder, mountpoint, user_ns):
        self.holder = holder
        self.mountpoint = mountpoint
        self.user_ns = user_ns

    def host_path(self, *parts):
        """Where the test itself sees a path of the small disk."""
        return os.path.join(f"/proc/{self.holder.pid}/root", self.mountpoint.lstrip("/"), *parts)

    def enter(self):
        """The argv prefix that runs a program inside the disk's namespace."""
        argv = ["nsenter", "--target", str(self.holder.pid), "--mount"]
        if self.user_ns:
            argv += ["--user", "--preserve-credentials"]
        return argv + ["--"]


@pytest.fixture
def small_disk(workdir):
    if shutil.which("unshare") is None or shutil.which("nsenter") is None:
        pytest.skip("unshare/nsenter (util-linux) are not installed")
    mountpoint = os.path.join(workdir, "disk")
    os.mkdir(mountpoint)
    user_ns = os.geteuid() != 0
    argv = ["unshare", "--mount", "--propagation", "private"]
    if user_ns:
        argv = ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private"]
    script = 'mount -t tmpfs -o size=%dm tmpfs "$1" && echo ready && exec sleep 900' % DISK_MB
    holder = subprocess.Popen(argv + ["sh", "-c", script, "sh", mountpoint],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ready, _, _ = select.select([holder.stdout], [], [], 10)
    line = holder.stdout.readline() if ready else b""
    if line != b"ready\n":
        holder.kill()
        err = holder.stderr.read().decode(errors="replace").strip()
        holder.wait(timeout=STOP_TIMEOUT)
        pytest.skip(f"cannot mount a tmpfs in a private mount namespace: {err}")
    yield SmallDisk(holder, mountpoint, user_ns)
    holder.kill()
    holder.wait(timeout=STOP_TIMEOUT)


def start_on(disk, workdir, shards=2):
    data = os.path.join(disk.mountpoint, "data")

    def argv(port):
        # Small memtables and WAL: the disk fills with tables and value-log files within
        # seconds, and flushes keep running into it.
        return disk.enter() + [cascade_bin(), "--port", str(port), "--dir", data,
                               "--shards", str(shards), "--appendfsync", "everysec",
                               "--memtable-size", "2mb", "--wal-segment-size", "1mb",
                               "--wal-segments", "4"]

    return start_process(argv, workdir)


def value_of(name, size):
    """`size` incompressible bytes named by `name` (reproducible: the test keeps names)."""
    return random.Random(name).randbytes(size)


def test_full_disk_refuses_writes_keeps_reads_and_multi_shard_writes_whole(small_disk, workdir):
    with open(small_disk.host_path("ballast"), "wb") as f:
        f.write(os.urandom(BALLAST_BYTES))
    server = start_on(small_disk, workdir)
    try:
        r = redis.Redis(port=server.port, socket_timeout=20)

        # Fill the disk through shard 1's keys until its writes keep failing. The values
        # stay in its memtable and tables (below min-blob-size), so its flushes fill the disk
        # and then fail, and its full memtable refuses writes. Shard 0's memtable keeps
        # room: a write over both shards that shard 0 decides would land there and not on
        # shard 1, unless shard 1 refuses the whole write first.
        fill = (f"fill:{i}" for i in range(10**7) if key_shard(b"fill:%d" % i, 2) == 1)
        acked = []
        errors = set()
        consecutive = 0
        deadline = time.monotonic() + 120
        while consecutive < 50 and time.monotonic() < deadline:
            pipe = r.pipeline(transaction=False)
            batch = [next(fill) for _ in range(200)]
            for name in batch:
                pipe.set(name, value_of(name, FILL_VALUE))
            for name, result in zip(batch, pipe.execute(raise_on_error=False)):
                if isinstance(result, redis.ResponseError):
                    errors.add(str(result))
                    consecutive += 1
                else:
                    assert result is True
                    acked.append(name)
                    consecutive = 0
        assert consecutive >= 50, f"the disk never filled ({len(acked)} writes acknowledged)"
        assert errors == {MISCONF}
        assert len(acked) > 1000

        def shard_1_refuses():
            """Writes to shard 1 until one is refused (compaction may have freed space):
            batches of 50 until a batch's last write is refused."""
            for _ in range(400):
                pipe = r.pipeline(transaction=False)
                batch = [next(fill) for _ in range(50)]
                for name in batch:
                    pipe.set(name, value_of(name, FILL_VALUE))
                results = pipe.execute(raise_on_error=False)
                for name, result in zip(batch, results):
                    if isinstance(result, redis.ResponseError):
                        assert str(result) == MISCONF
                    else:
                        acked.append(name)
                if isinstance(results[-1], redis.ResponseError):
                    return True
            return False

        # Writes over both shards, each right after shard 1 refused a write: each is whole
        # or absent, at once and afterwards. Each from a new connection, so either shard
        # may decide it (the connection's own shard does).
        other = redis.Redis(port=server.port, socket_timeout=20)
        outcomes = {}
        mset_errors = set()
        for n in range(100):
            assert shard_1_refuses()
            client = redis.Redis(port=server.port, socket_timeout=20)
            keys = keys_on_each_shard(b"m%d:" % n, 2, per_shard=4)
            assert {key_shard(k, 2) for k in keys} == {0, 1}
            value = value_of(f"m{n}", 16)
            try:
                if n % 2 == 0:
                    client.mset({k: value for k in keys})
                else:
                    pipe = client.pipeline(transaction=True)
                    for k in keys:
                        pipe.set(k, value)
                    pipe.execute()
                outcomes[n] = True
            except redis.ResponseError as e:
                mset_errors.add(str(e).split("\n")[0])
                outcomes[n] = False
            client.close()
            got = other.mget(keys)
            assert got in ([value] * len(keys), [None] * len(keys)), f"write {n} is half visible"
            if outcomes[n]:
                assert got == [value] * len(keys)
        assert mset_errors <= {MISCONF}, mset_errors

        # Reads go on, for every acknowledged write, from another client too.
        assert other.ping()
        for start in range(0, len(acked), 500):
            names = acked[start:start + 500]
            assert other.mget(names) == [value_of(n, FILL_VALUE) for n in names]

        # Space returns: writes resume on shard 1 (its flushes are retried every 100 ms),
        # and so do writes over both shards.
        os.remove(small_disk.host_path("ballast"))
        after = keys_on_each_shard(b"after", 2)
        deadline = time.monotonic() + 30
        while True:
            try:
                r.set(after[1], b"space returned")
                r.mset({after[0]: b"both", after[1]: b"both"})
                break
            except redis.ResponseError as e:
                assert str(e) == MISCONF
                assert time.monotonic() < deadline, "writes did not resume after space returned"
                time.sleep(0.1)

        # Newer values over some of the multi-shard writes' keys on both shards: a part
        # completed late at the next start must not overwrite them.
        newer = {}
        for n in range(0, len(outcomes), 10):
            keys = keys_on_each_shard(b"m%d:" % n, 2, per_shard=4)
            for k in (keys[0], keys[4], keys[5]):
                r.set(k, b"newer")
                newer[k] = b"newer"
        assert {key_shard(k, 2) for k in newer} == {0, 1}

        # SIGKILL, then a start on the same disk: everything acknowledged is there.
        server.stop(signal.SIGKILL)
        server = start_on(small_disk, workdir)
        r = redis.Redis(port=server.port, socket_timeout=20)
        for start in range(0, len(acked), 500):
            names = acked[start:start + 500]
            assert r.mget(names) == [value_of(n, FILL_VALUE) for n in names]
        assert r.mget(after) == [b"both", b"both"]
        for n, ok in outcomes.items():
            keys = keys_on_each_shard(b"m%d:" % n, 2, per_shard=4)
            value = value_of(f"m{n}", 16)
            got = r.mget(keys)
            for k, g in zip(keys, got):
                if k in newer:
                    assert g == newer[k], f"write {n}: {k!r} lost its newer value"
            rest = [g for k, g in zip(keys, got) if k not in newer]
            if ok:
                assert rest == [value] * len(rest), f"acknowledged write {n} is not whole"
            else:
                assert rest in ([value] * len(rest), [None] * len(rest)), f"write {n} is half there"
    finally:
        server.stop()
