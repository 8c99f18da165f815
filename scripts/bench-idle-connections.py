#!/usr/bin/python3
"""Resident memory per idle client connection: cascade-server (one or more binaries) against
redis-server, in one run.

  bench-idle-connections.py [--connections N] [--cascade BIN ...] [--redis BIN] [--settle S]
                            [--pipeline P]

For each server: start it on a free 127.0.0.1 port (--maxclients 11000; redis-server without
persistence),
read VmRSS from /proc/PID/status, open N connections (default 5000) that each send PING and
read +PONG (with --pipeline P: P pipelined PINGs in one send, then P replies, so the
connection was busy before it went idle), wait --settle seconds (default 0: the connections are measured as they are right
after their PONG), read VmRSS again, and report (after - before) / N. Each VmRSS is the
median of three readings 0.5 s apart. Prints one line per server, then the ratio of each
cascade binary to redis-server.

Every wait is bounded: socket timeouts, a startup deadline, and the servers are killed at
the end whatever happened.
"""

import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TIMEOUT_S = 30
READINGS = 3
READING_GAP_S = 0.5


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def vm_rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS for pid %d" % pid)


def median_rss(pid):
    readings = []
    for i in range(READINGS):
        if i:
            time.sleep(READING_GAP_S)
        readings.append(vm_rss(pid))
    return statistics.median(readings)


def wait_ready(port, proc):
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited with %d" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("server did not answer PING within %ds" % TIMEOUT_S)


def open_idle(port, count, pipeline):
    conns = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S)
        s.sendall(b"*1\r\n$4\r\nPING\r\n" * pipeline)
        conns.append(s)
    want = 7 * pipeline
    for s in conns:  # read every PONG after all are sent: the server holds them all at once
        got = b""
        while len(got) < want:
            data = s.recv(want - len(got))
            if not data:
                raise RuntimeError("server closed a connection")
            got += data
        if got != b"+PONG\r\n" * pipeline:
            raise RuntimeError("unexpected reply %r" % got)
    return conns


def measure(name, argv, port, count, settle, pipeline):
    workdir = tempfile.mkdtemp(prefix="idle-conns-")
    proc = subprocess.Popen(argv + ["--dir", workdir], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=workdir)
    conns = []
    try:
        wait_ready(port, proc)
        time.sleep(0.5)
        before = median_rss(proc.pid)
        conns = open_idle(port, count, pipeline)
        if settle > 0:
            time.sleep(settle)
        after = median_rss(proc.pid)
        per_conn = (after - before) / count
        print("%-28s rss_before=%d rss_after=%d connections=%d bytes_per_connection=%.0f"
              % (name, before, after, count, per_conn), flush=True)
        return per_conn
    finally:
        for s in conns:
            s.close()
        proc.kill()
        proc.wait(timeout=TIMEOUT_S)
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=5000)
    parser.add_argument("--cascade", action="append",
                        help="cascade-server binary (repeat to compare several)")
    parser.add_argument("--redis", default=shutil.which("redis-server") or "")
    parser.add_argument("--settle", type=float, default=0.0)
    parser.add_argument("--pipeline", type=int, default=1)
    args = parser.parse_args()
    cascades = args.cascade or [os.path.join(os.path.dirname(__file__), "..", "build",
                                             "cascade-server")]

    want = args.connections + 200
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(want, soft), hard), hard))

    results = []
    for binary in cascades:
        port = free_port()
        binary = os.path.abspath(binary)
        argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--maxclients", "11000"]
        results.append((binary, measure("cascade " + os.path.basename(binary), argv, port,
                                        args.connections, args.settle, args.pipeline)))
    redis = None
    if args.redis:
        port = free_port()
        argv = [args.redis, "--port", str(port), "--bind", "127.0.0.1", "--maxclients", "11000",
                "--save", "", "--appendonly", "no", "--daemonize", "no"]
        redis = measure("redis-server", argv, port, args.connections, args.settle, args.pipeline)
    if redis:
        for binary, per_conn in results:
            print("ratio %s / redis-server = %.2fx" % (binary, per_conn / redis))
    return 0


if __name__ == "__main__":
    sys.exit(main())
