"""Real bpfleetd processes and workloads for the client's tests (conftest.py
makes fixtures of them).

BPFLEETD and BPFLEET name the server and the command line (default: the
repository's .build/debug/). The package is imported from ../src. Each
server gets a temporary socket, state directory and pin root
(/sys/fs/bpf/bpfleet-test-py-*); teardown unloads every probe, stops the
server and removes the pin root, so nothing stays in the kernel whatever
a test did.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import List, Optional, Sequence

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, "clients", "python", "src"))

from bpfleet import BpfleetError, Node  # noqa: E402

BPFLEETD = os.environ.get("BPFLEETD") or os.path.join(REPO, ".build", "debug", "bpfleetd")
BPFLEET = os.environ.get("BPFLEET") or os.path.join(REPO, ".build", "debug", "bpfleet")
PROGRAMS = os.path.join(REPO, "programs", "build")
READY_TIMEOUT = 60.0  # catches a server that never comes up; not a timing


def program(name: str) -> str:
    """The path of programs/build/NAME.bpf.o (make -C programs builds them)."""
    path = os.path.join(PROGRAMS, f"{name}.bpf.o")
    if not os.path.exists(path):
        pytest.fail(f"{path} is missing: run make -C programs")
    return path


class Server:
    """A bpfleetd on its own socket, state directory and pin root."""

    def __init__(self, extra: Sequence[str] = (), listen: Optional[str] = None) -> None:
        if not os.access(BPFLEETD, os.X_OK):
            pytest.fail(f"no bpfleetd at {BPFLEETD} (set BPFLEETD)")
        tag = secrets.token_hex(4)
        self.directory = tempfile.mkdtemp(prefix=f"bpfleet-test-py-{tag}-")
        self.socket = os.path.join(self.directory, "bpfleetd.sock")
        self.state = os.path.join(self.directory, "state")
        self.pin_root = f"/sys/fs/bpf/bpfleet-test-py-{tag}"
        self.address = f"unix:{self.socket}"
        self.log = os.path.join(self.directory, "bpfleetd.log")
        args = [BPFLEETD, "--listen", listen or self.address, "--state-dir", self.state, "--pin-root", self.pin_root,
                "--log-level", "debug", *extra]
        self.ready = os.path.join(self.directory, "ready")
        with open(self.log, "w") as log, open(self.ready, "w") as ready:
            self.process = subprocess.Popen(args, stdout=ready, stderr=log)
        if not self._ready():
            self.stop()
            raise RuntimeError(f"bpfleetd did not start ({' '.join(args)}):\n{self.log_text()[-4000:]}")

    def _ready(self) -> bool:
        """Whether bpfleetd said "bpfleetd ready" (it does once it serves)."""
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            with open(self.ready, errors="replace") as f:
                if "bpfleetd ready" in f.read():
                    return True
            if self.process.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def log_text(self) -> str:
        with open(self.log, errors="replace") as f:
            return f.read()

    def node(self, **options: object) -> Node:
        return Node(self.address, **options)  # type: ignore[arg-type]

    def unload_all(self) -> None:
        """Unloads every probe (best effort: the pin root goes anyway)."""
        if self.process.poll() is not None or not os.path.exists(self.socket):
            return
        try:
            with Node(f"unix:{self.socket}", timeout=120) as node:
                for probe in node.probe_list():
                    node.probe_unload(probe=probe["name"])
        except BpfleetError:
            pass

    def stop(self) -> None:
        if self.process.poll() is None:
            self.unload_all()
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        subprocess.run(["rm", "-rf", self.pin_root], check=False)
        shutil.rmtree(self.directory, ignore_errors=True)


class Workload:
    """A copy of /bin/true under a fresh name: the comm a probe sees."""

    def __init__(self) -> None:
        self.comm = "bfp" + secrets.token_hex(6)  # 15 characters: the whole comm
        self.directory = tempfile.mkdtemp(prefix=f"bpfleet-bin-{self.comm}-")
        os.chmod(self.directory, 0o755)
        self.path = os.path.join(self.directory, self.comm)
        shutil.copy("/bin/true", self.path)
        os.chmod(self.path, 0o755)

    def run(self, times: int) -> List[int]:
        """Runs it TIMES times, one after another; their pids."""
        pids = []
        for _ in range(times):
            process = subprocess.Popen([self.path])
            assert process.wait() == 0
            pids.append(process.pid)
        return pids

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
