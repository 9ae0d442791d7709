"""What an attack costs while it runs: the server's RSS sampled every 50 ms,
its CPU, and an operator's node.info round trips meanwhile; the attack's
time and RSS caps."""
from __future__ import annotations

import json
import socket
import threading
import time

from .server import cpu_seconds, rss_kib
from .settings import CAP, RSS_CAP_MIB


class LineConnection:
    def __init__(self, path, timeout=5.0):
        self.sock = connect(path, timeout)
        self.buffer = b""

    def read_line(self, until, stop=None):
        """A line (without its newline), or None at the deadline/stop; raises EOFError when closed."""
        while b"\n" not in self.buffer:
            if time.monotonic() > until or (stop is not None and stop.is_set()):
                return None
            self.sock.settimeout(max(0.01, min(0.2, until - time.monotonic())))
            try:
                chunk = self.sock.recv(1 << 16)
            except socket.timeout:
                continue
            if not chunk:
                raise EOFError
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line

    def close(self):
        self.sock.close()


def connect(path, timeout=5.0):
    """A connected socket; retries while the listen backlog is full."""
    until = time.monotonic() + timeout
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(max(0.05, until - time.monotonic()))
        try:
            sock.connect(path)
            return sock
        except (BlockingIOError, socket.timeout, ConnectionRefusedError):
            sock.close()
            if time.monotonic() > until:
                raise TimeoutError(f"connect {path}")
            time.sleep(0.02)
        except OSError:
            sock.close()
            raise


def error_code(line):
    try:
        reply = json.loads(line)
    except ValueError:
        return "garbled"
    if isinstance(reply, dict) and "error" in reply:
        return reply["error"].get("code")
    return None


class Monitor:
    """Samples the server's RSS every 50 ms; an operator calls node.info every 0.5 s."""

    def __init__(self, server, fresh=False):
        self.server = server
        self.pid = server.pid
        self.fresh = fresh  # a new connection per call (strangers: a place at connect is the question)
        self.cpu0 = cpu_seconds(self.pid)
        self.rss0 = rss_kib(self.pid)
        self.peak = self.rss0
        self.calls = []  # (started, seconds, outcome): "ok", an error code, "closed", "pending"
        self.stop = threading.Event()
        self.result = None
        self.threads = [threading.Thread(target=self.sample, daemon=True), threading.Thread(target=self.operator, daemon=True)]
        for thread in self.threads:
            thread.start()

    def over_rss(self):
        return (self.peak - self.rss0) / 1024 > RSS_CAP_MIB

    def sample(self):
        while not self.stop.wait(0.05):
            try:
                self.peak = max(self.peak, rss_kib(self.pid))
            except OSError:
                return

    def operator(self):
        conn = None
        ident = 0
        while not self.stop.is_set():
            started = time.monotonic()
            outcome = None
            try:
                if conn is None:
                    conn = LineConnection(self.server.sock, timeout=CAP)
                ident += 1
                conn.sock.settimeout(5)
                conn.sock.sendall(b'{"jsonrpc":"2.0","id":%d,"method":"node.info"}\n' % ident)
                while outcome is None:
                    line = conn.read_line(started + 3600, self.stop)
                    if line is None:
                        outcome = "pending"
                        break
                    reply = json.loads(line)
                    if reply.get("id") is None and "error" in reply:  # refused at connect; closed next
                        outcome = reply["error"].get("code")
                        conn.close()
                        conn = None
                    elif reply.get("id") == ident:
                        outcome = reply["error"].get("code") if "error" in reply else "ok"
            except (OSError, EOFError, ValueError, TimeoutError):
                outcome = outcome or ("pending" if self.stop.is_set() else "closed")
                if conn is not None:
                    conn.close()
                conn = None
            self.calls.append((started, time.monotonic() - started, outcome))
            if self.fresh and conn is not None:
                conn.close()
                conn = None
            self.stop.wait(max(0.0, started + 0.5 - time.monotonic()))
        if conn is not None:
            conn.close()

    def end(self):
        """Stops the sampling; the server's CPU and RSS growth since the start. Idempotent."""
        if self.result is None:
            try:
                cpu = cpu_seconds(self.pid) - self.cpu0
                self.peak = max(self.peak, rss_kib(self.pid))
            except OSError:
                cpu = float("nan")
            self.stop.set()
            for thread in self.threads:
                thread.join(10)
            latencies = [seconds for _, seconds, _ in self.calls]
            self.result = {
                "cpu_s": cpu,
                "rss_growth_mib": (self.peak - self.rss0) / 1024,
                "rss_base_mib": self.rss0 / 1024,
                "rss_peak_mib": self.peak / 1024,
                "op_max_s": max(latencies) if latencies else float("nan"),
                "op_calls": len(self.calls),
                "op_ok": sum(1 for call_ in self.calls if call_[2] == "ok"),
                "op_pending": any(call_[2] == "pending" for call_ in self.calls),
            }
        return self.result


class Attack:
    def __init__(self, monitor):
        self.monitor = monitor
        self.start = time.monotonic()
        self.deadline = self.start + CAP
        self.capped = None

    def expired(self):
        if self.capped is None:
            if time.monotonic() > self.deadline:
                self.capped = f"capped at {CAP:g} s"
            elif self.monitor.over_rss():
                self.capped = f"capped at +{RSS_CAP_MIB:g} MiB"
        return self.capped is not None

    def hold(self, seconds):
        until = min(time.monotonic() + seconds, self.deadline + 0.001)
        while time.monotonic() < until and not self.expired():
            time.sleep(0.05)
