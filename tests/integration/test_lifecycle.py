"""Start-up and shutdown of the real binary: banner, configuration errors, signals, SHUTDOWN."""

import os
import re
import signal
import socket
import subprocess

import redis

from conftest import cascade_bin, free_port


def test_startup_banner_names_version_port_shards_dir_and_pid(start_cascade, workdir):
    server = start_cascade()
    log = server.log()
    assert "cascade version=0.1.0" in log
    assert re.search(rf"port={server.port}, shards=2, dir=\S*data, pid={server.proc.pid}", log)
    assert "Ready to accept connections" in log
    # Redis's line format: pid:role dd Mon yyyy hh:mm:ss.mmm level message
    assert re.search(rf"^{server.proc.pid}:M \d\d \w{{3}} \d{{4}} \d\d:\d\d:\d\d\.\d{{3}} \* Ready",
                     log, re.M)
    assert os.path.isdir(os.path.join(workdir, "data"))


def test_sigterm_stops_cleanly_with_the_bye_line(start_cascade):
    server = start_cascade()
    assert server.stop(signal.SIGTERM) == 0
    log = server.log()
    assert "Received SIGTERM scheduling shutdown..." in log
    assert "ready to exit, bye bye" in log


def test_a_clean_stop_flushes_so_the_next_start_replays_no_wal(start_cascade):
    """A stop by SIGTERM flushes every shard's memtables, so the next start reads its keys
    from tables and replays nothing; a killed server's writes come back by WAL replay."""
    server = start_cascade()
    r = redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=10)
    for i in range(300):
        r.set(f"key:{i}", f"value-{i}")
    assert r.info("storage")["storage_sst_files"] == 0
    assert server.stop(signal.SIGTERM) == 0

    server = start_cascade()
    r = redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=10)
    storage = r.info("storage")
    assert storage["storage_wal_recovered_batches"] == 0
    assert storage["storage_sst_files"] >= 2  # one flushed table per shard
    assert r.get("key:0") == b"value-0" and r.get("key:299") == b"value-299"
    assert r.dbsize() == 300
    r.set("after-restart", "1")
    server.kill()

    server = start_cascade()
    r = redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=10)
    assert r.info("storage")["storage_wal_recovered_batches"] >= 1
    assert r.get("after-restart") == b"1" and r.dbsize() == 301


def test_sigint_stops_cleanly(start_cascade, raw):
    server = start_cascade()
    idle = raw(server.port)
    assert idle.call("PING") == b"+PONG\r\n"
    assert server.stop(signal.SIGINT) == 0
    assert idle.read_until_closed() == b""  # an idle client is closed, not left hanging
    assert "Received SIGINT scheduling shutdown..." in server.log()


def test_shutdown_command_stops_the_server_without_a_reply(start_cascade, raw):
    server = start_cascade()
    client = raw(server.port)
    assert client.call("SHUTDOWN foo") == b"-ERR syntax error\r\n"
    assert client.call("SHUTDOWN ABORT") == b"-ERR No shutdown in progress.\r\n"
    client.send(b"SHUTDOWN NOSAVE\r\n")
    assert client.read_until_closed() == b""
    assert server.proc.wait(timeout=15) == 0
    assert "User requested shutdown..." in server.log()
    assert "ready to exit, bye bye" in server.log()


def test_replies_queued_before_shutdown_are_delivered(start_cascade, raw):
    server = start_cascade()
    client = raw(server.port)
    client.send(b"PING\r\n" * 5000 + b"SHUTDOWN\r\n")
    assert client.read_until_closed(timeout=15) == b"+PONG\r\n" * 5000
    assert server.proc.wait(timeout=15) == 0


def run_binary(args, timeout=15):
    return subprocess.run([cascade_bin()] + args, capture_output=True, text=True, timeout=timeout)


def test_a_bad_config_file_fails_start_up_naming_the_line(workdir):
    path = os.path.join(workdir, "bad.conf")
    with open(path, "w") as f:
        f.write("port 7000\n# comment\nmaxclients lots\n")
    result = run_binary([path, "--dir", os.path.join(workdir, "data")])
    assert result.returncode == 1
    assert "FATAL CONFIG FILE ERROR" in result.stderr
    assert "at line 3" in result.stderr
    assert ">>> 'maxclients lots'" in result.stderr


def test_an_unknown_directive_or_flag_fails_start_up(workdir):
    path = os.path.join(workdir, "bad.conf")
    with open(path, "w") as f:
        f.write("no-such-directive yes\n")
    result = run_binary([path])
    assert result.returncode == 1
    assert "at line 1" in result.stderr
    assert run_binary(["--port", "not-a-number"]).returncode == 1
    assert run_binary(["--no-such-flag", "1"]).returncode == 1


def test_a_missing_config_file_fails_start_up(workdir):
    result = run_binary([os.path.join(workdir, "missing.conf")])
    assert result.returncode == 1
    assert "missing.conf" in result.stderr


def test_a_port_in_use_fails_start_up(workdir):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run_binary(["--port", str(port), "--dir", os.path.join(workdir, "data")])
    assert result.returncode == 1
    assert "Address already in use" in result.stderr


def test_the_logfile_directive_sends_the_log_there(workdir):
    log = os.path.join(workdir, "cascade.log")
    port = free_port()
    proc = subprocess.Popen([cascade_bin(), "--port", str(port), "--logfile", log,
                             "--dir", os.path.join(workdir, "data")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        from conftest import wait_for_port
        assert wait_for_port(port, proc)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=15)
    assert proc.returncode == 0
    assert out == b""
    text = open(log).read()
    assert "Ready to accept connections" in text and "bye bye" in text


def test_version_flag():
    result = run_binary(["--version"])
    assert result.returncode == 0
    assert "v=0.1.0" in result.stdout


def test_a_second_server_cannot_share_the_port_of_a_running_one(cascade, workdir):
    # The shards share one listening socket rather than SO_REUSEPORT, which would let a
    # second server of the same user bind the port and take some of the connections.
    result = run_binary(["--port", str(cascade.port), "--dir", os.path.join(workdir, "other"),
                         "--shards", "2", "--wal-segment-size", "2mb", "--wal-segments", "2"])
    assert result.returncode == 1
    assert "Address already in use" in result.stderr



def test_a_second_server_cannot_open_the_data_directory_of_a_running_one(cascade, workdir):
    port = free_port()
    result = run_binary(["--port", str(port), "--dir", os.path.join(workdir, "data"),
                         "--shards", "2", "--wal-segment-size", "2mb", "--wal-segments", "2"])
    assert result.returncode == 1
    assert "in use by another cascade-server" in result.stderr
    import redis
    assert redis.Redis(port=cascade.port).ping()


def test_values_larger_than_a_wal_segment_are_stored_and_survive_a_kill(start_cascade):
    """The fixture's WAL segments hold 2 MiB; a value goes to the value log as it is written
    and the WAL keeps only its pointer, so values of several segments are stored (Redis
    takes up to proto-max-bulk-len), read back, and replayed after a SIGKILL."""
    server = start_cascade("--appendfsync", "always")
    r = redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=30)
    values = {f"big:{n}": bytes([97 + (i * n) % 26 for i in range(5 << 20)]) for n in (1, 3)}
    for key, value in values.items():
        assert r.set(key, value)
    assert r.mset({"small": b"x", "big:m": values["big:1"]})
    for key, value in values.items():
        assert r.get(key) == value
    server.kill()

    server = start_cascade()
    r = redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=30)
    assert r.info("storage")["storage_wal_recovered_batches"] >= 1
    for key, value in values.items():
        assert r.get(key) == value
    assert r.get("big:m") == values["big:1"] and r.get("small") == b"x"
