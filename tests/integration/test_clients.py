"""Real clients against the real binary: redis-cli and redis-py, authentication, client
management across shards, maxclients, INFO and CONFIG."""

import os
import subprocess
import time

import pytest
import redis

from conftest import Raw


def cli(port, *args, stdin=None):
    result = subprocess.run(["redis-cli", "-p", str(port)] + list(args), input=stdin,
                            capture_output=True, text=True, timeout=15)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_redis_cli_ping_and_info(cascade):
    assert cli(cascade.port, "PING") == "PONG\n"
    info = cli(cascade.port, "INFO", "server")
    assert "# Server" in info
    assert "redis_version:7.0.15" in info
    assert f"tcp_port:{cascade.port}" in info


def test_redis_cli_command_docs(cascade):
    assert cli(cascade.port, "COMMAND", "DOCS", "NOSUCHCOMMAND") == "\n"
    docs = cli(cascade.port, "COMMAND", "DOCS", "GET")
    assert "summary" in docs and "string" in docs and "1.0.0" in docs
    docs = cli(cascade.port, "COMMAND", "DOCS", "PING")
    assert "summary" in docs and "connection" in docs and "1.0.0" in docs


def test_redis_cli_session(cascade):
    out = cli(cascade.port, stdin="PING\nECHO hello\nCLIENT SETNAME cli\nCLIENT GETNAME\n"
                                  "SELECT 3\nCONFIG GET timeout\n")
    assert out == "PONG\nhello\nOK\ncli\nOK\ntimeout\n0\n"


def test_redis_cli_resp3(cascade):
    out = cli(cascade.port, "-3", "HELLO", "3")
    assert "server" in out and "7.0.15" in out


def test_redis_cli_reads_the_whole_command_docs(cascade):
    # Interactive redis-cli parses COMMAND DOCS for its help; check the reply it would get.
    out = cli(cascade.port, "COMMAND", "DOCS")
    for name in ("ping", "client", "client|list", "config|set", "command|docs", "info"):
        assert f"\n{name}\n" in "\n" + out


@pytest.fixture
def r(cascade):
    client = redis.Redis(port=cascade.port, socket_timeout=10)
    yield client
    client.close()


def test_redis_py_connection_commands(r):
    assert r.ping() is True
    assert r.echo("hi") == b"hi"
    assert r.client_setname("py") is True
    assert r.client_getname() == "py" or r.client_getname() == b"py"
    assert isinstance(r.client_id(), int)
    hello = r.execute_command("HELLO", "2")
    assert hello[:4] == [b"server", b"redis", b"version", b"7.0.15"]
    seconds, micros = r.time()
    assert seconds > 1_600_000_000 and 0 <= micros < 1_000_000


def test_redis_py_client_list_and_info(r):
    r.client_setname("lister")
    clients = r.client_list()
    mine = [c for c in clients if c["name"] == "lister"]
    assert len(mine) == 1
    assert mine[0]["cmd"] == "client|list"
    assert mine[0]["db"] == "0"
    info = r.client_info()
    assert info["name"] == "lister" and info["cmd"] == "client|info"


def test_redis_py_config(r):
    assert r.config_get("maxclients") == {"maxclients": "10000"}
    assert r.config_set("timeout", 30) is True
    assert r.config_get("timeout") == {"timeout": "30"}
    with pytest.raises(redis.ResponseError, match="Unknown option"):
        r.config_set("no-such-directive", 1)
    assert "appendfsync" in r.config_get("*")


def test_redis_py_select_keeps_the_db(cascade):
    client = redis.Redis(port=cascade.port, db=5, socket_timeout=10)
    try:
        assert client.ping()
        assert str(client.client_info()["db"]) == "5"
        with pytest.raises(redis.ResponseError, match="DB index is out of range"):
            client.execute_command("SELECT", 16)
    finally:
        client.close()


def test_redis_py_info(r):
    info = r.info()
    assert info["redis_version"] == "7.0.15"
    assert info["connected_clients"] >= 1
    assert info["loading"] == 0
    assert info["role"] == "master"
    assert "total_commands_processed" in r.info("stats")
    assert r.config_resetstat() is True


def test_redis_py_protocol_3_when_supported(cascade):
    try:
        client = redis.Redis(port=cascade.port, protocol=3, socket_timeout=10)
    except TypeError:
        pytest.skip(f"redis-py {redis.__version__} has no RESP3 support")
    try:
        assert client.ping()
        assert client.echo("x") == b"x"
    finally:
        client.close()


def test_requirepass_auth_and_noauth(start_cascade):
    server = start_cascade("--requirepass", "s3cret")
    raw = Raw(server.port)
    try:
        assert raw.call("PING") == b"-NOAUTH Authentication required.\r\n"
        assert raw.call("HELLO 3").startswith(b"-NOAUTH HELLO must be called with the client")
        assert raw.call("AUTH nope") == b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        assert raw.call("AUTH s3cret") == b"+OK\r\n"
        assert raw.call("PING") == b"+PONG\r\n"
    finally:
        raw.close()
    with pytest.raises(redis.RedisError, match="WRONGPASS"):
        redis.Redis(port=server.port, password="wrong", socket_timeout=10).ping()
    with pytest.raises(redis.RedisError, match="Authentication required"):
        redis.Redis(port=server.port, socket_timeout=10).ping()
    good = redis.Redis(port=server.port, password="s3cret", socket_timeout=10)
    assert good.ping()
    good.close()


def test_requirepass_texts_match_redis(start_cascade, tmp_path):
    server = start_cascade("--requirepass", "pw")
    from conftest import start_process
    import shutil
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    reference = start_process(
        lambda port: ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
                      "--requirepass", "pw", "--dir", str(tmp_path)], str(tmp_path))
    try:
        for line in ["PING", "foo", "client setname x", "hello 3", "hello 2 auth default no",
                     "auth", "auth no", "command count", "echo", "reset", "quit"]:
            replies = []
            for port in (server.port, reference.port):
                client = Raw(port)
                try:
                    replies.append(client.call(line))
                finally:
                    client.close()
            assert replies[0] == replies[1], line
    finally:
        reference.stop()


def test_client_list_and_kill_span_every_shard(cascade):
    clients = [Raw(cascade.port) for _ in range(8)]
    try:
        ids = []
        for i, c in enumerate(clients):
            assert c.call(f"CLIENT SETNAME c{i}") == b"+OK\r\n"
            ids.append(int(c.call("CLIENT ID")[1:-2]))
        listing = clients[0].call("CLIENT LIST").decode()
        for i, client_id in enumerate(ids):
            assert f"id={client_id} " in listing and f"name=c{i} " in listing
        victim = clients[5]
        assert clients[0].call(f"CLIENT KILL ID {ids[5]}") == b":1\r\n"
        assert victim.read_until_closed() == b""
        assert f"id={ids[5]} " not in clients[0].call("CLIENT LIST").decode()
        assert clients[1].call("CLIENT KILL SKIPME no ID " + str(ids[1])) == b":1\r\n"
        assert clients[1].read_until_closed() == b""
    finally:
        for c in clients:
            c.close()


def test_maxclients_rejects_with_redis_error(start_cascade):
    server = start_cascade("--maxclients", "2")
    first = Raw(server.port)
    second = None
    try:
        assert first.call("PING") == b"+PONG\r\n"
        # The start-up probe's connection may still be counted for a moment.
        deadline = time.monotonic() + 10
        while b"connected_clients:1\r\n" not in first.call("INFO clients"):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        second = Raw(server.port)
        assert second.call("PING") == b"+PONG\r\n"
        third = Raw(server.port)
        try:
            assert third.read_until_closed() == b"-ERR max number of clients reached\r\n"
        finally:
            third.close()
        assert first.call("INFO stats").find(b"rejected_connections:1\r\n") > 0
    finally:
        first.close()
        if second is not None:
            second.close()


def test_config_rewrite_updates_the_file(start_cascade, workdir):
    path = os.path.join(workdir, "cascade.conf")
    with open(path, "w") as f:
        f.write("# test config\ntimeout 0\nloglevel notice\n")
    server = start_cascade(config_file=path)
    client = redis.Redis(port=server.port, socket_timeout=10)
    try:
        assert client.config_set("timeout", 42)
        assert client.config_rewrite()
    finally:
        client.close()
    text = open(path).read()
    assert "timeout 42" in text and "# test config" in text
    assert f"config_file:{path}" in cli(server.port, "INFO", "server")


def test_interactive_redis_cli_builds_its_help_from_command_docs(cascade):
    """redis-cli reads COMMAND DOCS when it starts interactively (on a terminal)."""
    import pty
    import select
    pid, fd = pty.fork()
    if pid == 0:  # the child: redis-cli on the pseudo-terminal
        os.environ["TERM"] = "dumb"
        os.execvp("redis-cli", ["redis-cli", "-p", str(cascade.port)])
    output = b""

    def read_until(marker, seconds=10.0):
        nonlocal output
        deadline = time.monotonic() + seconds
        while marker not in output and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    output += os.read(fd, 65536)
                except OSError:
                    return
        assert marker in output, output.decode(errors="replace")

    try:
        read_until(f"127.0.0.1:{cascade.port}>".encode())
        os.write(fd, b"help ping\r")
        read_until(b"Answers PONG")          # the summary from our table
        os.write(fd, b"help @connection\r")
        read_until(b"CLIENT SETNAME")        # subcommands listed under @connection
        os.write(fd, b"ping\r")
        read_until(b"PONG\r\n")
    finally:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        os.close(fd)
