"""Tools and bpfleetd processes the run starts, what /proc says of them, JSON-RPC calls."""
from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Optional, Sequence

from .session import BenchError, Session


def run(argv: Sequence[str], stdout=subprocess.PIPE, **kwargs) -> str:
    """Runs a tool to its end; its stdout (without the trailing newline, as $(...)), stderr passes through."""
    done = subprocess.run(list(argv), stdout=stdout, text=True, **kwargs)
    if done.returncode != 0:
        raise BenchError(f"{os.path.basename(argv[0])} exited with status {done.returncode}: {' '.join(argv[1:])[:200]}")
    return (done.stdout or "").rstrip("\n")


def succeeds(argv: Sequence[str]) -> bool:
    return subprocess.run(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def status_kb(pid: int, field: str) -> str:
    """A /proc/PID/status figure in kB (VmRSS, VmHWM), as the text it has there."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            words = line.split()
            if words and words[0] == f"{field}:":
                return words[1]
    return ""


def cpu_ms(pid: int) -> int:
    """The process's utime + stime in ms (/proc/PID/stat fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int((int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK"))


def wait_for_text(path: str, text: str, tries: int, interval: float = 0.1,
                  alive: Optional[subprocess.Popen] = None) -> bool:
    """Whether PATH holds TEXT within TRIES x INTERVAL (sooner false if ALIVE died)."""
    for _ in range(tries):
        if contains(path, text):
            return True
        if alive is not None and alive.poll() is not None:
            break
        time.sleep(interval)
    return contains(path, text)


def contains(path: str, text: str) -> bool:
    try:
        with open(path, errors="replace") as f:
            return text in f.read()
    except OSError:
        return False


def tail(path: str, lines: int) -> str:
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def machine_line() -> str:
    """machine nproc=N kernel=RELEASE cpu=MODEL_NAME"""
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(": ", 1)[1].rstrip("\n").replace(" ", "_")
                break
    return f"machine nproc={len(os.sched_getaffinity(0))} kernel={os.uname().release} cpu={cpu}"


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# --- bpfleetd and JSON-RPC ----------------------------------------------------------------------

def call(path: str, method: str, params: Optional[dict] = None) -> dict:
    """One JSON-RPC call on a Unix socket; the result. BenchError with the error."""
    request: dict = {"jsonrpc": "2.0", "id": 1, "method": method}
    if params is not None:
        request["params"] = params
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(path)
        sock.sendall(json.dumps(request).encode() + b"\n")
        chunks: list[bytes] = []
        while not chunks or not chunks[-1].endswith(b"\n"):
            chunk = sock.recv(1 << 20)
            if not chunk:
                raise BenchError(f"rpc: {method}: connection closed before the reply")
            chunks.append(chunk)
    reply = json.loads(b"".join(chunks))
    if "error" in reply:
        raise BenchError(f"rpc: {method}: {json.dumps(reply['error'])}")
    return reply["result"]


def upload(sock: str, path: str, name: str) -> str:
    """object.upload of a file; its objectId."""
    with open(path, "rb") as f:
        data = base64.b64encode(f.read()).decode()
    return call(sock, "object.upload", {"data": data, "name": name})["objectId"]


class Node:
    """A bpfleetd the run started: stdout to READY (it says "bpfleetd ready"),
    stderr to LOG; stopped (SIGTERM, then waited for) by stop() or at the end."""

    def __init__(self, session: Session, binary: str, sock: str, args: Sequence[str], ready: str, log: str,
                 log_mode: str = "w") -> None:
        self.session, self.sock, self.ready, self.log = session, sock, ready, log
        with open(ready, "w") as out, open(log, log_mode) as err:
            self.process = session.track(subprocess.Popen([binary, *args], stdout=out, stderr=err))
        self.pid = self.process.pid

    def wait_ready(self, tries: int = 100, check: bool = True, stop_if_dead: bool = False) -> bool:
        ready = wait_for_text(self.ready, "bpfleetd ready", tries, alive=self.process if stop_if_dead else None)
        if check and not ready:
            sys.stderr.write(tail(self.log, 1000))
            raise BenchError(f"bpfleetd did not start ({self.sock})")
        return ready

    def rpc(self, method: str, params: Optional[dict] = None) -> dict:
        return call(self.sock, method, params)

    def status_kb(self, field: str) -> str:
        return status_kb(self.pid, field)

    def cpu_ms(self) -> int:
        return cpu_ms(self.pid)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        self.process.wait()
        self.session.untrack(self.process)
