#!/usr/bin/python3
"""The clients scripts/bench.sh needs beyond redis-benchmark, on plain sockets (no library,
so it runs with any python3 against either server).

  bench_clients.py load PORT COUNT SIZE [--connections N] [--random]
      SETs key:000000000000 .. key:<COUNT-1> (redis-benchmark's key names, so its -r COUNT
      finds every key) to SIZE-byte values, pipelined, over N connections (default 4), each
      loading a contiguous range. --random: every value is a different slice of a random
      pool, so nothing compresses (the engine compresses values with zstd). Prints
      "keys,seconds,bytes" once every SET has been acknowledged.
  bench_clients.py memory PID PORT KEYS CONNECTIONS [--settle S]
      The memory rows: resident memory of PID (VmRSS) before and after loading KEYS keys of
      64 bytes, the server's DBSIZE and INFO used_memory after the load, then VmRSS before
      and after CONNECTIONS idle clients have connected (each has had its PING answered, so
      the server holds every one). Each VmRSS is the median of three readings S seconds
      apart (default 0.5). Prints one CSV line, see MEMORY_FIELDS.

Every wait is bounded (socket timeouts); any error reply or short read fails the run.
"""

import os
import socket
import sys
import threading
import time

TIMEOUT_S = 120  # per socket operation: a stalled server fails the run instead of hanging it
PIPELINE = 256  # SETs in flight per connection
MEMORY_FIELDS = ("rss_before", "rss_loaded", "dbsize", "used_memory", "rss_conns_before",
                 "rss_conns_after", "connections")


def key_name(i):
    return b"key:%012d" % i


def command(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_exactly(sock, n):
    chunks, got = [], 0
    while got < n:
        data = sock.recv(min(n - got, 1 << 20))
        if not data:
            raise RuntimeError("server closed the connection")
        chunks.append(data)
        got += len(data)
    return b"".join(chunks)


def read_line(sock):
    """One reply line (without CRLF); replies here are short, so byte-at-a-time reads past
    the first recv are rare."""
    data = b""
    while not data.endswith(b"\r\n"):
        byte = sock.recv(1)
        if not byte:
            raise RuntimeError("server closed the connection")
        data += byte
    return data[:-2]


def query(sock, *args):
    sock.sendall(command(*args))
    line = read_line(sock)
    if line.startswith(b"$"):
        size = int(line[1:])
        return read_exactly(sock, size + 2)[:-2] if size >= 0 else None
    if line.startswith(b"-"):
        raise RuntimeError(line.decode())
    return line[1:]


class Values:
    """SIZE-byte values: one fixed value, or (random) slices of a 16 MiB random pool at an
    offset derived from the key index, so no two neighbouring values share bytes."""

    def __init__(self, size, random):
        self.size = size
        self.pool = os.urandom((16 << 20) + size) if random else None
        self.fixed = b"x" * size

    def of(self, i):
        if self.pool is None:
            return self.fixed
        offset = (i * 7919 * 4099) % (len(self.pool) - self.size)
        return self.pool[offset:offset + self.size]


def load_range(port, first, end, values, errors):
    try:
        sock = connect(port)
        expected = b"+OK\r\n"
        for start in range(first, end, PIPELINE):
            stop = min(start + PIPELINE, end)
            sock.sendall(b"".join(command(b"SET", key_name(i), values.of(i))
                                  for i in range(start, stop)))
            replies = read_exactly(sock, len(expected) * (stop - start))
            if replies != expected * (stop - start):
                raise RuntimeError(f"unexpected SET replies: {replies[:200]!r}")
        sock.close()
    except Exception as e:  # reported by the caller, which fails the run
        errors.append(e)


def load(port, count, size, connections=4, random=False):
    values = Values(size, random)
    errors = []
    bounds = [count * k // connections for k in range(connections + 1)]
    threads = [threading.Thread(target=load_range,
                                args=(port, bounds[k], bounds[k + 1], values, errors))
               for k in range(connections)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return time.monotonic() - began


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def settled_rss(pid, settle):
    """RSS once the server has finished the work just handed to it (a flush, freeing
    buffers): the median of three readings `settle` seconds apart."""
    readings = []
    for _ in range(3):
        time.sleep(settle)
        readings.append(rss_bytes(pid))
    return sorted(readings)[1]


def open_idle(port, count):
    """COUNT connections, each having had a PING answered; opened in batches so the
    listen backlog never overflows (an overflowing SYN is retried only after a second)."""
    socks = []
    batch = 500
    while len(socks) < count:
        fresh = [connect(port) for _ in range(min(batch, count - len(socks)))]
        for s in fresh:
            s.sendall(b"PING\r\n")
        for s in fresh:
            if read_line(s) != b"+PONG":
                raise RuntimeError("an idle client's PING was not answered with PONG")
        socks.extend(fresh)
    return socks


def memory(pid, port, keys, connections, settle):
    control = connect(port)
    rss_before = settled_rss(pid, settle)
    load(port, keys, 64)
    rss_loaded = settled_rss(pid, settle)
    dbsize = int(query(control, b"DBSIZE"))
    info = query(control, b"INFO", b"memory").decode()
    used = next(int(line.split(":")[1]) for line in info.splitlines()
                if line.startswith("used_memory:"))
    rss_conns_before = settled_rss(pid, settle)
    socks = open_idle(port, connections)
    rss_conns_after = settled_rss(pid, settle)
    for s in socks:
        s.close()
    control.close()
    return (rss_before, rss_loaded, dbsize, used, rss_conns_before, rss_conns_after,
            connections)


def main(argv):
    if len(argv) >= 4 and argv[0] == "load":
        port, count, size = int(argv[1]), int(argv[2]), int(argv[3])
        rest = argv[4:]
        connections = int(rest[rest.index("--connections") + 1]) if "--connections" in rest else 4
        seconds = load(port, count, size, connections, "--random" in rest)
        print(f"{count},{seconds:.3f},{count * size}")
        return 0
    if len(argv) in (5, 7) and argv[0] == "memory":
        settle = float(argv[6]) if len(argv) == 7 and argv[5] == "--settle" else 0.5
        row = memory(int(argv[1]), int(argv[2]), int(argv[3]), int(argv[4]), settle)
        print(",".join(str(v) for v in row))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
