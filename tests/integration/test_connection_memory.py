"""An idle connection gives its buffers back: CLIENT LIST's qbuf/qbuf-free/rbs/tot-mem show
a connection's buffers as they are, grown while it is busy and freed once it has waited for
input 2 s (the shard's idle trimmer runs once a second)."""

import re
import time

from conftest import encode

TRIM_WAIT_S = 6  # 2 s idle + a 1 s trimmer period, with slack for a loaded machine


def fields(line):
    return dict(re.findall(r"(\S+?)=(\S*)", line.decode()))


def client_entry(observer, client_id):
    reply = observer.call(["CLIENT", "LIST", "ID", str(client_id)])
    body = reply.split(b"\r\n", 1)[1]
    return fields(body)


def client_id(client):
    return int(client.call("CLIENT ID")[1:-2])


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    return predicate()


def test_idle_connection_buffers_are_freed_and_come_back(cascade, raw):
    client = raw(cascade.port)
    observer = raw(cascade.port)
    cid = client_id(client)
    # A 200 KB argument grows the input buffer past the read size; 3000 pipelined PINGs
    # grow the reply array to hold their 21000 bytes of replies.
    value = b"v" * 200_000
    assert client.call(["SET", "big", value]) == b"+OK\r\n"
    client.send(b"PING\r\n" * 3000)
    for _ in range(3000):
        assert client.reply() == b"+PONG\r\n"

    busy = client_entry(observer, cid)
    assert int(busy["rbs"]) >= 21000
    assert int(busy["qbuf"]) == 0
    assert int(busy["tot-mem"]) > int(busy["rbs"])

    def trimmed():
        entry = client_entry(observer, cid)
        return entry if entry["qbuf-free"] == "0" and entry["rbs"] == "0" else None

    idle = wait_for(trimmed, TRIM_WAIT_S)
    assert idle, client_entry(observer, cid)
    assert idle["qbuf"] == "0" and idle["obl"] == "0"
    assert int(idle["tot-mem"]) < int(busy["tot-mem"]) - 21000

    # The trimmed connection still serves everything: a big command, then a pipeline.
    assert client.call(["GET", "big"]) == b"$200000\r\n" + value + b"\r\n"
    client.send(b"PING\r\n" * 500)
    for _ in range(500):
        assert client.reply() == b"+PONG\r\n"
    back = client_entry(observer, cid)
    assert int(back["rbs"]) > 0 and int(back["qbuf-free"]) > 0


def test_fresh_connection_buffers_are_small(cascade, raw):
    client = raw(cascade.port)
    observer = raw(cascade.port)
    cid = client_id(client)
    entry = client_entry(observer, cid)
    # One short command read into a 512-byte buffer, its reply in a 512-byte array.
    assert int(entry["qbuf-free"]) <= 512
    assert int(entry["rbs"]) <= 512


def test_pending_partial_command_survives_the_trimmer(cascade, raw):
    client = raw(cascade.port)
    observer = raw(cascade.port)
    cid = client_id(client)
    command = encode(["ECHO", "x" * 3000])
    client.send(command[:1500])
    time.sleep(3.5)  # idle past the trimmer's threshold with half a command buffered
    entry = client_entry(observer, cid)
    assert int(entry["qbuf"]) == 1500
    client.send(command[1500:])
    assert client.reply() == b"$3000\r\n" + b"x" * 3000 + b"\r\n"


def test_idle_timeout_still_counts_from_the_last_command_after_a_trim(start_cascade, raw):
    server = start_cascade("--timeout", "4")
    idle = raw(server.port)
    assert idle.call("PING") == b"+PONG\r\n"
    started = time.monotonic()
    # Trimmed at ~2-3 s (its recv interrupted and re-armed); closed at 4 s all the same.
    assert idle.read_until_closed(timeout=15) == b""
    assert 3.0 < time.monotonic() - started < 7
