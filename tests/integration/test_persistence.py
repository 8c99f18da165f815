"""SAVE, BGSAVE and LASTSAVE against the real binary: a checkpoint under
dir/checkpoints/<name> that a server started on it (--dir) opens to the data as of the
save, one save at a time with Redis's error text, and INFO's Persistence fields."""

import os
import select
import threading
import time

import redis

from conftest import Raw

SAVE_TIMEOUT = 20.0


def client(server):
    return redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=10)


def checkpoints(workdir):
    root = os.path.join(workdir, "data", "checkpoints")
    return sorted(os.listdir(root)) if os.path.isdir(root) else []


def wait_for_bgsave(r):
    deadline = time.monotonic() + SAVE_TIMEOUT
    while time.monotonic() < deadline:
        info = r.info("persistence")
        if info["rdb_bgsave_in_progress"] == 0:
            return info
        time.sleep(0.05)
    raise AssertionError("BGSAVE did not finish in time")


def test_save_makes_a_checkpoint_a_server_restores_as_of_the_save(start_cascade, workdir):
    server = start_cascade()
    r = client(server)
    before = r.lastsave()
    for i in range(200):
        r.set(f"key:{i}", f"v{i}")
    r.set("expiring", "x", ex=1000)
    time.sleep(1.1)  # LASTSAVE has a one-second resolution
    assert r.save() is True
    assert r.lastsave() > before
    saved_dir = r.info("persistence")["last_checkpoint_dir"]
    for i in range(100):
        r.set(f"key:{i}", "changed")
    r.delete("key:150")
    r.set("new-after-save", "1")
    server.stop()

    names = checkpoints(workdir)
    assert len(names) == 1 and not names[0].endswith(".tmp")
    cp = os.path.join(workdir, "data", "checkpoints", names[0])
    assert os.path.samefile(cp, saved_dir)
    assert sorted(os.listdir(cp)) == ["shard-000", "shard-001", "shards"]

    restored = start_cascade("--dir", cp)
    rr = client(restored)
    for i in range(200):
        assert rr.get(f"key:{i}") == f"v{i}".encode()
    assert rr.get("new-after-save") is None
    assert 900 < rr.ttl("expiring") <= 1000
    restored.stop()

    # The source kept its later writes.
    source = client(start_cascade())
    assert source.get("key:0") == b"changed"
    assert source.get("key:150") is None
    assert source.get("new-after-save") == b"1"


def test_bgsave_runs_in_the_background_and_info_reports_it(start_cascade, workdir):
    server = start_cascade()
    r = client(server)
    info = r.info("persistence")
    assert info["rdb_bgsave_in_progress"] == 0
    assert info["rdb_last_bgsave_status"] == "ok"
    assert info["rdb_saves"] == 0
    assert info["aof_enabled"] == 1
    for i in range(50):
        r.set(f"k{i}", i)
    assert r.info("persistence")["rdb_changes_since_last_save"] == 50
    raw = Raw(server.port)
    assert raw.call("BGSAVE") == b"+Background saving started\r\n"
    raw.close()
    info = wait_for_bgsave(r)
    assert info["rdb_last_bgsave_status"] == "ok"
    assert info["rdb_saves"] == 1
    assert info["rdb_changes_since_last_save"] == 0
    assert info["rdb_last_bgsave_time_sec"] >= 0
    r.set("one-more", 1)
    assert r.info("persistence")["rdb_changes_since_last_save"] == 1
    assert len(checkpoints(workdir)) == 1


def test_one_save_at_a_time_with_redis_error_text(start_cascade, raw):
    server = start_cascade()
    c = raw(server.port)
    # Pipelined: the second command runs before the first one's background fiber does.
    c.send(b"BGSAVE\r\nBGSAVE\r\nBGSAVE SCHEDULE\r\nSAVE\r\n")
    assert c.reply() == b"+Background saving started\r\n"
    assert c.reply() == b"-ERR Background save already in progress\r\n"
    assert c.reply() == b"-ERR Background save already in progress\r\n"
    assert c.reply() == b"-ERR Background save already in progress\r\n"
    wait_for_bgsave(client(server))
    assert c.call("BGSAVE foo") == b"-ERR syntax error\r\n"
    assert c.call("BGSAVE SCHEDULE") == b"+Background saving started\r\n"
    wait_for_bgsave(client(server))
    assert c.call("SAVE") == b"+OK\r\n"
    assert c.call("LASTSAVE").startswith(b":")


def test_save_removes_a_partial_checkpoint_left_by_a_crash(start_cascade, workdir):
    server = start_cascade()
    partial = os.path.join(workdir, "data", "checkpoints", "20000101-000000-000.tmp")
    os.makedirs(os.path.join(partial, "shard-000"))
    with open(os.path.join(partial, "shard-000", "000001.sst"), "wb") as f:
        f.write(b"partial")
    r = client(server)
    r.set("a", "1")
    assert r.save() is True
    names = checkpoints(workdir)
    assert len(names) == 1 and not names[0].endswith(".tmp")


def test_shutdown_save_makes_a_checkpoint_before_stopping(start_cascade, workdir, raw):
    server = start_cascade()
    r = client(server)
    r.set("before-shutdown", "1")
    c = raw(server.port)
    c.send(b"SHUTDOWN SAVE\r\n")
    assert c.read_until_closed() == b""
    assert server.proc.wait(timeout=15) == 0
    names = checkpoints(workdir)
    assert len(names) == 1
    restored = client(start_cascade("--dir", os.path.join(workdir, "data", "checkpoints",
                                                          names[0])))
    assert restored.get("before-shutdown") == b"1"


def test_shutdown_save_fails_while_a_save_runs_unless_forced(start_cascade, workdir, raw):
    server = start_cascade()
    c = raw(server.port)
    # Pipelined: the BGSAVE is still running when SHUTDOWN SAVE is handled.
    c.send(b"BGSAVE\r\nSHUTDOWN SAVE\r\n")
    assert c.reply() == b"+Background saving started\r\n"
    assert c.reply() == b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
    assert server.proc.poll() is None
    assert "another save is in progress" in server.log()
    c.send(b"BGSAVE\r\nSHUTDOWN SAVE FORCE\r\n")
    assert c.reply() in (b"+Background saving started\r\n",
                         b"-ERR Background save already in progress\r\n")
    assert c.read_until_closed() == b""
    assert server.proc.wait(timeout=15) == 0


def test_bgsave_schedule_runs_after_a_save_in_progress(start_cascade, workdir):
    # Values stay inline (values logged at write time would leave the SAVE's flush little
    # to do), and a SAVE that ends before INFO catches it running is retried over new data.
    server = start_cascade("--min-blob-size", "1gb")
    r = client(server)
    saver = Raw(server.port, timeout=SAVE_TIMEOUT)
    saves_before = 0
    for attempt in range(5):
        pipe = r.pipeline(transaction=False)
        for i in range(3000):
            pipe.set(f"big:{attempt}:{i}", os.urandom(8000))  # incompressible
        pipe.execute()
        saver.send(b"SAVE\r\n")
        seen_running = False
        while True:
            if r.info("persistence")["rdb_bgsave_in_progress"] == 1:
                seen_running = True
                break
            if select.select([saver.sock], [], [], 0.005)[0]:
                break  # the SAVE already replied
        if seen_running:
            break
        assert saver.reply() == b"+OK\r\n"
        saves_before += 1
    assert seen_running, "no SAVE was ever seen in progress"
    scheduler = Raw(server.port)
    reply = scheduler.call("BGSAVE SCHEDULE")
    scheduler.close()
    assert saver.reply() == b"+OK\r\n"
    saver.close()
    # Scheduled behind the SAVE, or started at once if the SAVE had just finished.
    assert reply in (b"+Background saving scheduled\r\n", b"+Background saving started\r\n")
    deadline = time.monotonic() + SAVE_TIMEOUT
    while r.info("persistence")["rdb_saves"] < saves_before + 2:
        assert time.monotonic() < deadline, "the scheduled BGSAVE never ran"
        time.sleep(0.05)
    assert wait_for_bgsave(r)["rdb_last_bgsave_status"] == "ok"
    assert len(checkpoints(workdir)) == saves_before + 2


def test_a_checkpoint_taken_under_writes_holds_a_prefix_of_them(start_cascade, workdir):
    server = start_cascade()
    r = client(server)
    stop = threading.Event()
    written = []

    def writer():
        w = client(server)
        i = 0
        while not stop.is_set() and i < 100_000:
            w.set(f"{{seq}}{i}", i)  # one hashtag: one shard, one writer, in order
            written.append(i)
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        deadline = time.monotonic() + SAVE_TIMEOUT
        while len(written) < 200:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert r.bgsave() is True
        wait_for_bgsave(r)
        time.sleep(0.2)  # writes after the checkpoint
    finally:
        stop.set()
        thread.join(timeout=SAVE_TIMEOUT)
    server.stop()
    total = len(written)
    (name,) = checkpoints(workdir)
    restored = client(start_cascade("--dir", os.path.join(workdir, "data", "checkpoints", name)))
    present = [restored.get(f"{{seq}}{i}") is not None for i in range(total)]
    held = present.index(False) if False in present else total
    assert 200 <= held < total  # the writes after the checkpoint are not in it
    assert not any(present[held:]), "the checkpoint holds a write but not an earlier one"
    assert all(restored.get(f"{{seq}}{i}") == str(i).encode() for i in range(0, held, 97))
