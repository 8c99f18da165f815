"""Replies from the keys' shard (src/commands/key_batch.h): when a client's input ends with
commands on keys of one other shard, that shard runs them and sends their replies to the
socket itself. INFO's batches_replied_from_key_shard counts such batches. The replies must arrive
whole and in order whatever the socket takes at once, the next commands must wait for
them, and a client leaving meanwhile must not disturb anyone else."""

import random
import socket
import threading
import time

import redis

from conftest import Raw, encode
from key_shards import keys_on_each_shard

SHARDS = 2


def from_key_shard(port):
    return redis.Redis(port=port).info("stats")["batches_replied_from_key_shard"]


def test_unpipelined_commands_on_the_other_shard_are_answered_from_there(cascade):
    zero, one = keys_on_each_shard(b"ks:", SHARDS)
    client = Raw(cascade.port)
    before = from_key_shard(cascade.port)
    rounds = 100
    # Alternating shards: the connection never gets a run on one other shard, so it stays
    # where it is, and half of its commands name a key of the other shard.
    for i in range(1, rounds + 1):
        assert client.call([b"SET", zero, b"v%d" % i]) == b"+OK\r\n"
        assert client.call([b"INCR", one]) == b":%d\r\n" % i
        assert client.call([b"GET", zero]) == b"$%d\r\nv%d\r\n" % (len(b"v%d" % i), i)
        assert client.call([b"GET", one]) == b"$%d\r\n%d\r\n" % (len(b"%d" % i), i)
    assert from_key_shard(cascade.port) - before == 2 * rounds
    # Errors come back the same way.
    assert client.call([b"INCR", zero]) == b"-ERR value is not an integer or out of range\r\n"
    assert client.call([b"INCR", one]) == b":%d\r\n" % (rounds + 1)
    assert from_key_shard(cascade.port) - before == 2 * rounds + 1
    # RESP3 replies are encoded in the client's protocol on the other shard too.
    assert client.call([b"HELLO", b"3"]).startswith(b"%")
    assert client.call([b"GET", b"ks:missing-a"]) == b"_\r\n"
    assert client.call([b"GET", b"ks:missing-b"]) == b"_\r\n"
    client.close()


def read_exactly(sock, n):
    out = bytearray(n)
    view, got = memoryview(out), 0
    while got < n:
        k = sock.recv_into(view[got:])
        if k == 0:
            raise EOFError("connection closed")
        got += k
    return bytes(out)


def test_replies_larger_than_the_socket_takes_at_once_arrive_whole(start_cascade):
    # Larger than a loopback socket's send buffer grows to (tcp_wmem's maximum) plus the
    # client's receive buffer, so the other shard's send must stop short.
    with open("/proc/sys/net/ipv4/tcp_wmem") as f:
        send_max = int(f.read().split()[2])
    size = send_max + (2 << 20)
    assert size <= 30 << 20, "tcp_wmem's maximum is larger than this test expects"
    server = start_cascade("--wal-segment-size", "32mb")
    zero, one = keys_on_each_shard(b"big:", SHARDS)
    admin = redis.Redis(port=server.port, socket_timeout=30)
    values = {zero: bytes([65 + i % 26 for i in range(size)]),
              one: bytes([97 + i % 26 for i in range(size)])}
    for key, value in values.items():
        assert admin.set(key, value)
    # A client that reads only after a pause, with a small receive buffer.
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.settimeout(30)
    s.connect(("127.0.0.1", server.port))

    def get(key, then=b""):
        s.sendall(encode([b"GET", key]) + then)
        time.sleep(0.2)
        header = b"$%d\r\n" % len(values[key])
        assert read_exactly(s, len(header) + len(values[key]) + 2) == \
            header + values[key] + b"\r\n"

    before = from_key_shard(server.port)
    # A PING behind the GET in the same input: the batch ends before the input does, so it
    # runs the usual way.
    for key in values:
        get(key, encode([b"PING"]))
        assert read_exactly(s, 7) == b"+PONG\r\n"
    assert from_key_shard(server.port) - before == 0
    # A GET alone: the other shard's key is answered from there, cut short by the full
    # socket, and the connection sends the rest, before the next reply.
    for _ in range(2):
        for key in values:
            get(key)
        s.sendall(encode([b"PING"]))
        assert read_exactly(s, 7) == b"+PONG\r\n"
    assert from_key_shard(server.port) - before == 2
    s.close()
    # A client that half-closes right after its command still gets the whole reply. A new
    # connection lands on either shard (often alternating, so the keys are drawn at random
    # rather than alternated): try until two were answered from the other one.
    answered_remotely = 0
    rng = random.Random(7)
    for _ in range(40):
        key = rng.choice((zero, one))
        value = values[key]
        counted = from_key_shard(server.port)
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        c.settimeout(30)
        c.connect(("127.0.0.1", server.port))
        c.sendall(encode([b"GET", key]))
        c.shutdown(socket.SHUT_WR)
        time.sleep(0.2)
        header = b"$%d\r\n" % len(value)
        assert read_exactly(c, len(header) + len(value) + 2) == header + value + b"\r\n"
        assert c.recv(16) == b""
        c.close()
        answered_remotely += from_key_shard(server.port) - counted
        if answered_remotely >= 2:
            break
    assert answered_remotely >= 2


def test_the_next_commands_wait_for_the_replies_from_the_other_shard(cascade):
    zero, one = keys_on_each_shard(b"split:", SHARDS)
    client = Raw(cascade.port)
    expected = {zero: 0, one: 0}
    for i in range(50):
        first, second = (zero, one) if i % 2 == 0 else (one, zero)
        # A command on one shard, then half of the next: the batch ends with the input;
        # the rest arrives before the first reply is read.
        whole = encode([b"INCR", first]) + encode([b"INCR", second]) + encode([b"GET", first])
        cut = len(encode([b"INCR", first])) + 7
        client.send(whole[:cut])
        time.sleep(0.002)
        client.send(whole[cut:])
        expected[first] += 1
        assert client.reply() == b":%d\r\n" % expected[first]
        expected[second] += 1
        assert client.reply() == b":%d\r\n" % expected[second]
        value = b"%d" % expected[first]
        assert client.reply() == b"$%d\r\n%s\r\n" % (len(value), value)
    client.close()


def test_clients_leaving_while_the_other_shard_replies_disturb_no_one(cascade):
    """Clients send a GET of a large value on each shard's key and close at once, while
    another client checks every reply it gets: the server must not close a leaving
    client's socket while the other shard still writes to it (its number could be given
    to a new connection and receive that reply)."""
    zero, one = keys_on_each_shard(b"leave:", SHARDS)
    admin = redis.Redis(port=cascade.port)
    big = b"x" * (1 << 20)
    admin.set(zero, big)
    admin.set(one, big)
    errors = []
    stop = threading.Event()

    def checker():
        try:
            c = Raw(cascade.port)
            keys = keys_on_each_shard(b"chk:", SHARDS)
            n = 0
            while not stop.is_set() and n < 5000:
                n += 1
                for key in keys:
                    assert c.call([b"SET", key, b"%d" % n]) == b"+OK\r\n"
                    assert c.call([b"GET", key]) == b"$%d\r\n%d\r\n" % (len(b"%d" % n), n)
            c.close()
        except Exception as e:  # reported below
            errors.append(e)

    t = threading.Thread(target=checker)
    t.start()
    try:
        for i in range(200):
            s = socket.create_connection(("127.0.0.1", cascade.port), timeout=5)
            s.sendall(encode([b"GET", zero if i % 2 else one]))
            if i % 3 == 0:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
    finally:
        stop.set()
        t.join(timeout=60)
    assert not errors, errors
    deadline = time.monotonic() + 10
    while admin.info("clients")["connected_clients"] != 1:
        assert time.monotonic() < deadline, admin.info("clients")
        time.sleep(0.02)
    assert admin.get(zero) == big and admin.get(one) == big
