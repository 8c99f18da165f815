"""The cascade-server the crash test kills: started on a free 127.0.0.1 port in the test's
data directory, ready once it answers PING, killed with SIGKILL. Every start appends to one
log file; each start remembers where its part of the log begins, so the test reads what
that start printed. Every wait here has a deadline.
"""

import os
import re
import signal
import socket
import subprocess
import time

from resp_client import Client, ConnectionLost

# Lines a clean start never prints, but for the note of a torn WAL tail, which a kill
# leaves whenever it interrupts a WAL write (the records it drops were never acknowledged:
# under always and everysec alike a write is acknowledged only after its WAL write).
TROUBLE = re.compile(r"orrupt|fail|can't|could not|error|poison|damage", re.IGNORECASE)
TORN_TAIL = re.compile(r"wal recovery dropped (\d+) unsynced record\(s\) after a torn tail, "
                       r"skipped 0 damaged range\(s\)$")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StartFailure(Exception):
    pass


class ServerProcess:
    def __init__(self, binary, workdir, flags):
        self.binary = binary
        self.data = os.path.join(workdir, "data")
        self.log_path = os.path.join(workdir, "server.log")
        self.flags = flags
        self.proc = None
        self.port = None
        self.log_start = 0

    def spawn(self):
        """Starts the process without waiting for it."""
        self.port = free_port()
        self.log_start = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", self.data] + self.flags
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)

    def start(self, timeout, attempts=4):
        """Starts and waits until PING answers; raises StartFailure with the log."""
        for _ in range(attempts):
            self.spawn()
            if self.wait_ready(timeout):
                return
            self.kill()
            if "in use" not in self.log():
                break
        raise StartFailure(f"the server did not start within {timeout:.0f} s "
                           f"(exit status {self.proc.returncode}):\n{self.log()[-3000:]}")

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                client = Client(self.port, timeout=max(0.5, deadline - time.monotonic()))
                try:
                    if client.call(b"PING") == b"PONG":
                        return True
                finally:
                    client.close()
            except (ConnectionLost, OSError):
                time.sleep(0.02)
        return False

    def kill(self):
        """SIGKILL and reap; returns the exit status it had if it died by itself first."""
        if self.proc is None:
            return None
        died_before = self.proc.poll()
        if died_before is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        return died_before

    def stop(self):
        """A clean shutdown (SIGTERM, bounded), for the end of the run."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self):
        """What the current start printed."""
        with open(self.log_path, "rb") as f:
            f.seek(self.log_start)
            return f.read().decode(errors="replace")

    def trouble(self):
        return [line for line in self.log().splitlines()
                if TROUBLE.search(line) and not TORN_TAIL.search(line)]

    def torn_tails(self):
        """(shards that found a torn WAL tail, unsynced records they dropped) at this start."""
        found = [int(m.group(1)) for m in map(TORN_TAIL.search, self.log().splitlines()) if m]
        return len(found), sum(found)

    def bgsave(self, timeout=2.0):
        """Sends BGSAVE; 1 if the server started a checkpoint, else 0."""
        try:
            client = Client(self.port, timeout=timeout)
            try:
                reply = client.send([b"BGSAVE"]) or client.reply()
            finally:
                client.close()
        except (ConnectionLost, OSError):
            return 0
        return int(reply == b"Background saving started")

    def info(self, section, timeout=2.0):
        """INFO `section` as a dict of numbers; empty if the server does not answer."""
        try:
            client = Client(self.port, timeout=timeout)
            try:
                text = client.call(b"INFO", section).decode()
            finally:
                client.close()
        except (ConnectionLost, OSError):
            return {}
        out = {}
        for line in text.splitlines():
            name, _, value = line.partition(":")
            try:
                out[name] = float(value)
            except ValueError:
                pass
        return out
