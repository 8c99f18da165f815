#!/usr/bin/python3
"""Side-by-side benchmark of the sorted-set rank index built on demand (src/types/zset.h)
against another cascade-server binary (say, main's build, whose index every large set
keeps from 128 members on).

  scripts/bench-zset-lazy-rank.py --baseline BIN [--bin BIN] [--size 300000]
      [--rounds 5] [--ops 2000] [--rank-sizes 10000,100000,1000000] [--rank-ops 500]

Part 1, writes: both servers load a --size member set (pipelined ZADDs of 1,000 members;
server CPU for the load), then in --rounds interleaved rounds each takes --ops single ZADDs
of new members, one at a time, once both have settled after their loads (their
background flushes and compactions would count as the ZADDs' CPU); per round: server CPU per ZADD (utime + stime from
/proc/PID/stat, clock ticks) and the p50 round trip. Medians of the rounds are printed,
and the ratio of this binary to the baseline.

Part 2, ranks (this binary only, and the baseline for comparison): for each rank size a
fresh set is loaded, the first far ZRANK is timed (for this binary: the index's build),
then --rank-ops ZRANKs of random members and ZRANGEs at random ranks, p50 / p90.

A noisy machine: read medians and ratios, not absolute figures."""

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICK = os.sysconf("SC_CLK_TCK")


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, *commands):
        out = bytearray()
        for args in commands:
            out += b"*%d\r\n" % len(args)
            for a in args:
                a = a if isinstance(a, bytes) else str(a).encode()
                out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(1 << 16)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b":"):
            return rest
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.s.recv(1 << 16)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RuntimeError("unexpected reply " + repr(line))

    def call(self, *args):
        self.send(args)
        return self.read()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, name, workdir):
        self.name = name
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir)
        self.port = free_port()
        self.log = open(os.path.join(self.dir, "server.log"), "wb")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--appendonly", "yes", "--appendfsync", "everysec"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while True:
            try:
                self.conn = Conn(self.port)
                self.conn.call("PING")
                break
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(name + " did not start")
                time.sleep(0.1)

    def cpu(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime, seconds

    def stop(self):
        self.conn.s.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def load(server, key, size, rng):
    """Pipelined ZADDs of 1,000 members, 8 in flight; returns (wall s, server CPU s)."""
    cpu, start = server.cpu(), time.time()
    pending = 0
    for first in range(0, size, 1000):
        args = [b"ZADD", key]
        for i in range(first, min(size, first + 1000)):
            args += [b"%d" % rng.randrange(1 << 30), b"member:%09d" % i]
        server.conn.send(args)
        pending += 1
        if pending == 8:
            server.conn.read()
            pending -= 1
    for _ in range(pending):
        server.conn.read()
    return time.time() - start, server.cpu() - cpu


def settle(server, limit=90):
    """Waits (at most `limit` s) until the server's background work after a load (flushes,
    compactions) is done: under 20 ms of CPU in a second. Else that work would be counted
    in the CPU of the ZADDs measured next."""
    deadline = time.time() + limit
    while time.time() < deadline:
        cpu = server.cpu()
        time.sleep(1)
        if server.cpu() - cpu < 0.02:
            return
    print(f"{server.name}: still busy after {limit} s")


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def writes(servers, args):
    rng = random.Random(1)
    for s in servers:
        wall, cpu = load(s, b"big", args.size, random.Random(7))
        print(f"{s.name}: load {args.size} members: {wall:.1f} s wall, {cpu:.2f} s server CPU")
    for s in servers:
        settle(s)
    per_op = {s.name: [] for s in servers}
    p50 = {s.name: [] for s in servers}
    for r in range(args.rounds):
        for s in (servers if r % 2 == 0 else servers[::-1]):
            times = []
            cpu = s.cpu()
            for i in range(args.ops):
                member = b"new:%d:%d" % (r, i)
                score = b"%d" % rng.randrange(1 << 30)
                t = time.perf_counter()
                s.conn.call(b"ZADD", b"big", score, member)
                times.append(time.perf_counter() - t)
            per_op[s.name].append((s.cpu() - cpu) / args.ops * 1e6)
            p50[s.name].append(statistics.median(times) * 1e6)
    print(f"\nsingle ZADDs on a {args.size}-member set, {args.rounds} rounds x {args.ops}:")
    print("| server | CPU us/ZADD (median of rounds) | rounds | p50 us (median) |")
    print("|---|---:|---|---:|")
    for s in servers:
        rounds = ", ".join(f"{v:.1f}" for v in per_op[s.name])
        print(f"| {s.name} | {statistics.median(per_op[s.name]):.1f} | {rounds} "
              f"| {statistics.median(p50[s.name]):.0f} |")
    a, b = servers[0].name, servers[1].name
    print(f"ratio {a}/{b}: CPU {statistics.median(per_op[a]) / statistics.median(per_op[b]):.2f}x, "
          f"p50 {statistics.median(p50[a]) / statistics.median(p50[b]):.2f}x")


def ranks(servers, args):
    print("\nranks after the first far query (p50 / p90 us):")
    print("| server | size | load CPU s | first far ZRANK ms | ZRANK | ZRANGE rank r r+9 |")
    print("|---|---:|---:|---:|---:|---:|")
    for size in [int(x) for x in args.rank_sizes.split(",")]:
        for s in servers:
            key = b"r%d" % size
            _, cpu = load(s, key, size, random.Random(size))
            mid = b"member:%09d" % (size // 2)
            t = time.perf_counter()
            s.conn.call(b"ZRANK", key, mid)
            first = (time.perf_counter() - t) * 1e3
            rng = random.Random(3)
            zrank, zrange = [], []
            for _ in range(args.rank_ops):
                m = b"member:%09d" % rng.randrange(size)
                t = time.perf_counter()
                s.conn.call(b"ZRANK", key, m)
                zrank.append((time.perf_counter() - t) * 1e6)
                r = rng.randrange(size - 10)
                t = time.perf_counter()
                s.conn.call(b"ZRANGE", key, r, r + 9)
                zrange.append((time.perf_counter() - t) * 1e6)
            print(f"| {s.name} | {size} | {cpu:.2f} | {first:.1f} | {pct(zrank, .5):.0f} / "
                  f"{pct(zrank, .9):.0f} | {pct(zrange, .5):.0f} / {pct(zrange, .9):.0f} |")
            s.conn.call(b"DEL", key)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=os.path.join(ROOT, "build", "cascade-server"))
    parser.add_argument("--baseline", required=True)
    parser.add_argument("--size", type=int, default=300000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ops", type=int, default=2000)
    parser.add_argument("--rank-sizes", default="10000,100000,1000000")
    parser.add_argument("--rank-ops", type=int, default=500)
    parser.add_argument("--skip-writes", action="store_true")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="bench-zset-lazy-")
    servers = []
    try:
        servers = [Server(args.bin, "on-demand", workdir), Server(args.baseline, "baseline", workdir)]
        if not args.skip_writes:
            writes(servers, args)
        if args.rank_sizes:
            ranks(servers, args)
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
