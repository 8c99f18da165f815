"""A minimal RESP2 client for the crash test: one socket, commands sent whole, replies read
one at a time. It never retries and never reconnects behind the caller's back (a silent
retry would run a write twice), so a server killed mid-command shows as ConnectionLost.
"""

import socket


class ConnectionLost(Exception):
    """The connection broke: the server died or closed it."""


class ReplyError(Exception):
    """The server answered with an error reply."""


def encode(args):
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        if not isinstance(arg, bytes):
            arg = str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


class Client:
    def __init__(self, port, timeout=30.0):
        try:
            self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        except OSError as e:
            raise ConnectionLost(str(e)) from e
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = self.sock.makefile("rb")

    def close(self):
        try:
            self.reader.close()
            self.sock.close()
        except OSError:
            pass

    def send(self, *commands):
        try:
            self.sock.sendall(b"".join(encode(c) for c in commands))
        except OSError as e:
            raise ConnectionLost(str(e)) from e

    def reply(self):
        """The next reply: bytes, int, None, a list, or a ReplyError instance (returned,
        not raised, so a pipeline's other replies are still read)."""
        try:
            line = self.reader.readline()
        except OSError as e:
            raise ConnectionLost(str(e)) from e
        if not line.endswith(b"\r\n"):
            raise ConnectionLost("connection closed")
        kind, body = line[:1], line[1:-2]
        if kind == b"+":
            return body
        if kind == b"-":
            return ReplyError(body.decode(errors="replace"))
        if kind == b":":
            return int(body)
        if kind == b"$":
            n = int(body)
            if n < 0:
                return None
            data = self._exactly(n + 2)
            return data[:-2]
        if kind == b"*":
            n = int(body)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise ConnectionLost(f"not a RESP2 reply: {line[:40]!r}")

    def _exactly(self, n):
        try:
            data = self.reader.read(n)
        except OSError as e:
            raise ConnectionLost(str(e)) from e
        if len(data) != n:
            raise ConnectionLost("connection closed")
        return data

    def call(self, *args):
        """Sends one command and returns its reply; an error reply raises ReplyError."""
        self.send(args)
        out = self.reply()
        if isinstance(out, ReplyError):
            raise out
        return out
