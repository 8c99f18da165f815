"""A connection whose single-key commands all go to another shard moves there
(src/server/connection.h, "Moving to the keys' shard"): INFO's moved_connections counts the
moves, and the client keeps its session (id, name, database, protocol, authentication),
its place in CLIENT LIST and among connected_clients, and every reply in order, across a
move made between two pipelines. A client in MULTI or holding a WATCH stays until it is
done."""

import random
import socket
import threading
import time

import redis

from conftest import Raw, parse
from key_shards import keys_on_each_shard

SHARDS = 2
RUN = 64  # Connection::kMoveAfter


def moved(port, client=None):
    """INFO's moved_connections; with `client`, once its last move is counted (a move is
    counted after the reply before it is sent, and done before its next command runs)."""
    if client is not None:
        assert client.call([b"PING"]) in (b"+PONG\r\n",)
    return redis.Redis(port=port).info("stats")["moved_connections"]


def wait_connected(admin, count):
    """connected_clients reaches `count` (a closed client leaves once its fiber ends)."""
    deadline = time.monotonic() + 5
    while admin.info("clients")["connected_clients"] != count:
        assert time.monotonic() < deadline, admin.info("clients")
        time.sleep(0.02)


def keys_of(shard, count, prefix=b"mv:"):
    keys = keys_on_each_shard(prefix, SHARDS, per_shard=count)
    return keys[shard * count:(shard + 1) * count]


def incr_all(client, keys, rounds):
    """INCRs every key `rounds` times, one command at a time; checks each reply."""
    for r in range(1, rounds + 1):
        for key in keys:
            assert client.call([b"INCR", key]) == b":%d\r\n" % r


def test_a_client_moves_to_the_shard_of_its_keys_and_keeps_its_session(start_cascade):
    server = start_cascade("--requirepass", "pw")
    port = server.port
    client = Raw(port)
    assert client.call([b"AUTH", b"pw"]) == b"+OK\r\n"
    assert client.call([b"CLIENT", b"SETNAME", b"mover"]) == b"+OK\r\n"
    assert client.call([b"SELECT", b"5"]) == b"+OK\r\n"
    assert client.call([b"HELLO", b"3"]).startswith(b"%")
    my_id = client.call([b"CLIENT", b"ID"])
    admin = redis.Redis(port=port, password="pw")

    # Shard 0 first: afterwards the client is there, whichever shard accepted it.
    zero, one = keys_of(0, 8), keys_of(1, 8)
    incr_all(client, zero, RUN // 8 + 2)
    assert client.call([b"PING"]) == b"+PONG\r\n"
    before = admin.info("stats")["moved_connections"]
    assert before in (0, 1)
    incr_all(client, one, RUN // 8 + 2)
    assert client.call([b"PING"]) == b"+PONG\r\n"
    assert admin.info("stats")["moved_connections"] == before + 1
    # One command short of a run back does not move it; the run's last command does.
    for i in range(RUN - 1):
        assert client.call([b"GET", zero[i % 8]]) == b"$2\r\n%d\r\n" % (RUN // 8 + 2)
    assert client.call([b"PING"]) == b"+PONG\r\n"
    assert admin.info("stats")["moved_connections"] == before + 1
    assert client.call([b"INCR", zero[0]]) == b":%d\r\n" % (RUN // 8 + 3)
    assert client.call([b"PING"]) == b"+PONG\r\n"
    assert admin.info("stats")["moved_connections"] == before + 2

    # The session came along.
    assert client.call([b"CLIENT", b"ID"]) == my_id
    assert client.call([b"CLIENT", b"GETNAME"]) == b"$5\r\nmover\r\n"
    info = client.call([b"CLIENT", b"INFO"])
    assert b" db=5 " in info and b" resp=3 " in info and b" name=mover " in info
    assert client.call([b"GET", one[0]]) == b"$2\r\n%d\r\n" % (RUN // 8 + 2)
    assert admin.get(one[0]) is None  # database 0: the writes went to database 5
    admin.execute_command("SELECT", 5)
    assert admin.get(one[0]) == b"%d" % (RUN // 8 + 2)

    # Listed once, counted once, and killable where it now lives.
    listed = [c for c in admin.client_list() if c["name"] == "mover"]
    assert len(listed) == 1 and str(listed[0]["id"]) == my_id[1:-2].decode()
    assert admin.info("clients")["connected_clients"] == 2
    assert admin.execute_command("CLIENT", "KILL", "ID", my_id[1:-2].decode()) == 1
    assert client.read_until_closed() == b""
    wait_connected(admin, 1)


def test_pipelines_answer_in_order_across_moves(cascade):
    client = Raw(cascade.port)
    keys = {0: keys_of(0, 1, b"pl:")[0], 1: keys_of(1, 1, b"pl:")[0]}
    expected = {0: 0, 1: 0}
    start = moved(cascade.port)
    for round_ in range(8):
        shard = round_ % 2
        batch = b"".join(b"*2\r\n$4\r\nINCR\r\n$%d\r\n%s\r\n" % (len(keys[shard]), keys[shard])
                         for _ in range(RUN + 10))
        client.send(batch)
        for _ in range(RUN + 10):
            expected[shard] += 1
            assert client.reply() == b":%d\r\n" % expected[shard]
    # Every round after the first found the client on the other shard.
    assert moved(cascade.port, client) - start >= 7
    # A move with the next commands already sent: the first RUN of a round, then the rest
    # of it before any reply is read; the bytes wait in the socket while it moves.
    before = moved(cascade.port, client)
    shard = 1 - (7 % 2)  # round 7 ended on shard 1
    one = b"*2\r\n$4\r\nINCR\r\n$%d\r\n%s\r\n" % (len(keys[0]), keys[0])
    client.send(one * RUN)
    client.send(one * 50)
    for _ in range(RUN + 50):
        expected[0] += 1
        assert client.reply() == b":%d\r\n" % expected[0]
    assert moved(cascade.port, client) == before + 1
    assert shard == 0
    admin = redis.Redis(port=cascade.port)
    wait_connected(admin, 2)
    client.close()
    wait_connected(admin, 1)


def test_a_client_in_multi_or_watching_stays_until_it_is_done(cascade):
    port = cascade.port
    client = Raw(port)
    zero, one = keys_of(0, 4, b"tx:"), keys_of(1, 4, b"tx:")
    incr_all(client, zero, RUN // 4 + 1)  # on shard 0 now
    start = moved(port, client)

    assert client.call([b"WATCH", zero[0]]) == b"+OK\r\n"
    incr_all(client, one, RUN // 4 + 1)
    assert moved(port, client) == start  # the watch is registered from shard 0's side
    assert client.call([b"UNWATCH"]) == b"+OK\r\n"
    assert moved(port, client) == start + 1  # the run went on: it moved after UNWATCH's reply

    for key in zero:  # not yet a run: still on shard 1
        assert client.call([b"GET", key]) == b"$2\r\n%d\r\n" % (RUN // 4 + 1)
    assert client.call([b"MULTI"]) == b"+OK\r\n"
    for _ in range(RUN + 1):
        assert client.call([b"INCR", zero[0]]) == b"+QUEUED\r\n"
    time.sleep(0.1)  # (a PING would be queued) a move would be counted by now
    assert moved(port) == start + 1
    replies = parse(client.call([b"EXEC"]))
    first = RUN // 4 + 1
    assert replies == list(range(first + 1, first + RUN + 2))
    assert moved(port, client) == start + 2  # after EXEC's reply: the queued INCRs made the run
    assert client.call([b"GET", zero[0]]) == b"$%d\r\n%d\r\n" % (
        len(str(first + RUN + 1)), first + RUN + 1)


def test_client_kill_finds_a_client_that_keeps_moving(cascade):
    """A client moving back and forth between the shards is killed by CLIENT KILL ID at a
    random moment: the kill counts it once and its connection closes, every time."""
    port = cascade.port
    admin = redis.Redis(port=port)
    k0, k1 = keys_on_each_shard(b"kill:", SHARDS, 1)
    batch = {0: b"*2\r\n$4\r\nINCR\r\n$%d\r\n%s\r\n" % (len(k0), k0) * RUN,
             1: b"*2\r\n$4\r\nINCR\r\n$%d\r\n%s\r\n" % (len(k1), k1) * RUN}
    rng = random.Random(7)
    deadline = time.monotonic() + 15
    trials = 0
    while trials < 300 and time.monotonic() < deadline:
        trials += 1
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"*2\r\n$6\r\nCLIENT\r\n$2\r\nID\r\n")
        client_id = int(sock.recv(100)[1:-2])
        stop = threading.Event()
        answered = threading.Event()  # two batches came back: the client has moved

        def mover():
            rounds = 0
            try:
                while not stop.is_set():
                    sock.sendall(batch[rounds % 2])
                    rounds += 1
                    got = b""
                    while got.count(b"\r\n") < RUN:
                        chunk = sock.recv(65536)
                        if not chunk:
                            return
                        got += chunk
                    if rounds >= 2:  # one batch on each shard's key: one move at least
                        answered.set()
            except OSError:
                return

        thread = threading.Thread(target=mover)
        thread.start()
        # The kill lands at a random moment after the second batch (not before it, where a
        # slow machine would have it meet no move at all).
        answered.wait(timeout=10)
        time.sleep(rng.uniform(0.0, 0.03))
        assert admin.execute_command("CLIENT", "KILL", "ID", client_id) == 1
        thread.join(timeout=10)  # the kill closes the socket, which ends the mover
        assert not thread.is_alive(), "the killed client is still served"
        stop.set()
        sock.close()
    assert admin.info("stats")["moved_connections"] > trials / 2  # the kills met moves
    wait_connected(admin, 1)
