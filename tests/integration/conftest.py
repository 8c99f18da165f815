"""Fixtures for driving the real cascade-server (and, for comparison, a real redis-server).

Every server is started on a free 127.0.0.1 port chosen here (bind port 0, close, hand the
port to the server; a collision makes the server exit and we retry with another port), in
its own temporary directory, and is always stopped: SIGTERM, a bounded wait, then SIGKILL.
Every wait in this file has a deadline, so a hung server fails a test instead of hanging it.
"""

import os
import pathlib
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def pytest_configure(config):
    # A private base directory per run: pytest's shared /tmp/pytest-of-<user> rotation
    # deletes the directories of other sessions running at the same time.
    if not config.option.basetemp:
        config.option.basetemp = tempfile.mkdtemp(prefix="cascade-it-")
        config._cascade_private_basetemp = config.option.basetemp


def pytest_unconfigure(config):
    private = getattr(config, "_cascade_private_basetemp", None)
    if private:
        shutil.rmtree(private, ignore_errors=True)
START_TIMEOUT = 10.0
STOP_TIMEOUT = 15.0


def cascade_bin():
    path = os.environ.get("CASCADE_BIN", str(ROOT / "build" / "cascade-server"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"cascade-server not found at {path} (set CASCADE_BIN)")
    return path


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, timeout=START_TIMEOUT):
    """True once something accepts on the port; False if proc exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class Server:
    """A server process with its port, directory and captured output."""

    def __init__(self, proc, port, workdir, log_path):
        self.proc = proc
        self.port = port
        self.workdir = workdir
        self.log_path = log_path

    def log(self):
        return pathlib.Path(self.log_path).read_text(errors="replace")

    def stop(self, sig=signal.SIGTERM):
        """Signals the process and waits for it; kills it if it does not stop in time."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT)
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT)


def start_process(argv_for_port, workdir, attempts=5):
    """Starts argv_for_port(port) on a free port, retrying when the port was taken."""
    last_log = ""
    for attempt in range(attempts):
        port = free_port()
        log_path = os.path.join(workdir, f"server-{port}.log")
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(argv_for_port(port), stdout=log, stderr=subprocess.STDOUT,
                                    cwd=workdir)
        server = Server(proc, port, workdir, log_path)
        if wait_for_port(port, proc):
            return server
        server.kill()
        last_log = server.log()
        if "in use" not in last_log:
            break
    raise RuntimeError(f"server did not start:\n{last_log}")


@pytest.fixture
def workdir(tmp_path):
    return str(tmp_path)


@pytest.fixture
def start_cascade(workdir):
    """start_cascade(*flags, config_file=None) -> Server; every server is stopped at the end."""
    started = []

    def start(*flags, config_file=None):
        data = os.path.join(workdir, "data")

        def argv(port):
            args = [cascade_bin()]
            if config_file:
                args.append(config_file)
            # A small WAL: every engine preallocates its segments, and pytest keeps each
            # test's directory until the session ends.
            args += ["--port", str(port), "--dir", data, "--shards", "2",
                     "--wal-segment-size", "2mb", "--wal-segments", "2"]
            return args + [str(f) for f in flags]

        server = start_process(argv, workdir)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def cascade(start_cascade):
    return start_cascade()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A real redis-server to compare replies with (skipped if it is not installed)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    workdir = str(tmp_path_factory.mktemp("redis"))
    server = start_process(
        lambda port: [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                      "--appendonly", "no", "--dir", workdir], workdir)
    yield server
    server.stop()


@pytest.fixture
def redis_clean(redis_server):
    """The session's redis-server, emptied afterwards: later suites compare INFO keyspace."""
    yield redis_server
    client = Raw(redis_server.port)
    client.call("FLUSHALL")
    client.close()


# ---- a raw RESP client ------------------------------------------------------------------

class Raw:
    """A plain socket that sends bytes and reads whole RESP replies (RESP2 and RESP3)."""

    def __init__(self, port, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    def _line(self, pos):
        while True:
            end = self.buf.find(b"\r\n", pos)
            if end >= 0:
                return end
            self._fill()

    def _need(self, n):
        while len(self.buf) < n:
            self._fill()

    def _skip_reply(self, pos):
        """Returns the end offset of the reply starting at pos (reading more as needed)."""
        end = self._line(pos)
        kind, head = self.buf[pos:pos + 1], self.buf[pos + 1:end]
        pos = end + 2
        if kind in b"+-:_,#(":
            return pos
        if kind in b"$=!":
            n = int(head)
            if n < 0:
                return pos
            self._need(pos + n + 2)
            return pos + n + 2
        if kind in b"*~>%|":
            n = int(head)
            count = n * 2 if kind in b"%|" else n
            for _ in range(max(count, 0)):
                pos = self._skip_reply(pos)
            if kind == b"|":  # an attribute precedes the real reply
                pos = self._skip_reply(pos)
            return pos
        raise ValueError(f"not a RESP reply: {kind + head!r}")

    def reply(self):
        """The raw bytes of the next complete reply."""
        end = self._skip_reply(0)
        out, self.buf = self.buf[:end], self.buf[end:]
        return out

    def call(self, line):
        """Sends one command (a str as an inline line, or a list as multibulk), returns its reply."""
        self.send(encode(line))
        return self.reply()

    def read_until_closed(self, timeout=5.0):
        """Everything the server still sends, up to the close; raises if it stays open."""
        self.sock.settimeout(timeout)
        data = self.buf
        self.buf = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return data
            if not chunk:
                return data
            data += chunk


def encode(command):
    if isinstance(command, (bytes, str)):
        line = command.encode() if isinstance(command, str) else command
        return line + b"\r\n"
    out = b"*%d\r\n" % len(command)
    for arg in command:
        arg = arg.encode() if isinstance(arg, str) else arg
        out += b"$%d\r\n%s\r\n" % (len(arg), arg)
    return out


@pytest.fixture
def raw():
    """raw(port) -> Raw; every socket is closed at the end."""
    opened = []

    def connect(port):
        client = Raw(port)
        opened.append(client)
        return client

    yield connect
    for client in opened:
        client.close()


def compare_sequences(cascade_port, redis_port, seed, count, protocol, make_command, reset,
                      same=lambda command, a, b: a == b, batch=50):
    """Sends the same seeded commands (make_command(rng) each) to cascade and redis-server,
    pipelined `batch` at a time, after HELLO `protocol` and `reset` (a command, sent to the
    redis-server only, emptying what earlier tests left there), and asserts every reply pair
    is `same`; the failure names the seed and the command's index."""
    rng = random.Random(seed)
    clients = [Raw(cascade_port), Raw(redis_port)]
    try:
        for client in clients:
            client.call(f"HELLO {protocol}")
        clients[1].call(reset)
        for start in range(0, count, batch):
            commands = [make_command(rng) for _ in range(min(batch, count - start))]
            replies = []
            for client in clients:
                client.send(b"".join(encode(c) for c in commands))
                replies.append([client.reply() for _ in commands])
            for i, command in enumerate(commands):
                assert same(command, replies[0][i], replies[1][i]), (
                    f"seed {seed}, command #{start + i}: {command!r}\n"
                    f"cascade: {replies[0][i]!r}\nredis:   {replies[1][i]!r}")
    finally:
        for client in clients:
            client.close()


def parse(data):
    """Parses one RESP reply (bytes) into Python values: aggregates become lists (maps flat
    [k, v, ...]), strings bytes, integers int, nulls None, errors an Exception instance."""
    value, end = _parse_at(data, 0)
    assert end == len(data), "trailing bytes after the reply"
    return value


def _parse_at(data, pos):
    end = data.index(b"\r\n", pos)
    kind, head = data[pos:pos + 1], data[pos + 1:end]
    pos = end + 2
    if kind in b"+":
        return head, pos
    if kind == b"-":
        return Exception(head.decode()), pos
    if kind in b":(":
        return int(head), pos
    if kind == b"_":
        return None, pos
    if kind in b"$=":
        n = int(head)
        if n < 0:
            return None, pos
        return data[pos:pos + n], pos + n + 2
    if kind in b"*~%":
        n = int(head)
        if n < 0:
            return None, pos
        items = []
        for _ in range(n * 2 if kind == b"%" else n):
            item, pos = _parse_at(data, pos)
            items.append(item)
        return items, pos
    raise ValueError(f"unexpected RESP type {kind!r}")
