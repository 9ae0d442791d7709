"""A fresh bpfleetd for each attack and baseline run, and what /proc says of it."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time

from .settings import CLK, PIN_PREFIX, TERM_GRACE


def proc_stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def cpu_seconds(pid):
    fields = proc_stat(pid)  # fields[0] is field 3 (state): utime is field 14, stime 15
    return (int(fields[11]) + int(fields[12])) / CLK


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def children_of(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(proc_stat(entry)[1]) == pid:
                    found.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return found


class Server:
    """One bpfleetd on a temporary socket, state directory and pin root."""
    live = []

    def __init__(self, binary, root, label, attack, extra=()):
        self.dir = tempfile.mkdtemp(prefix=f"{label}-{attack}-", dir=root)
        os.chmod(self.dir, 0o711)  # strangers (other uids) must reach the socket
        self.sock = os.path.join(self.dir, "bpfleetd.sock")
        self.pins = f"{PIN_PREFIX}-{label}-{attack}"
        self.stopped = None
        self.log = open(os.path.join(self.dir, "stderr.log"), "wb")
        out_path = os.path.join(self.dir, "stdout.log")
        with open(out_path, "wb") as out:
            self.proc = subprocess.Popen([binary, "--listen", f"unix:{self.sock}", "--state-dir", os.path.join(self.dir, "state"),
                                          "--pin-root", self.pins, "--log-level", "warning", *extra],
                                         stdout=out, stderr=self.log, stdin=subprocess.DEVNULL)
        Server.live.append(self)
        self.pid = self.proc.pid
        limit = time.monotonic() + 60
        while True:
            with open(out_path, "rb") as f:
                if b"bpfleetd ready" in f.read():
                    break
            if self.proc.poll() is not None or time.monotonic() > limit:
                self.stop()
                raise RuntimeError(f"{binary} did not start: {self.stderr_tail()}")
            time.sleep(0.05)

    def stderr_tail(self):
        try:
            with open(os.path.join(self.dir, "stderr.log"), "rb") as f:
                return f.read()[-400:].decode(errors="replace").strip()
        except OSError:
            return ""

    def stop(self, cpu_watch=False):
        """SIGTERM, SIGKILL after TERM_GRACE; then its helpers, pins and files go.
        Returns (seconds SIGTERM took, killed, CPU seconds spent meanwhile)."""
        if self.stopped is not None:
            return self.stopped
        helpers = children_of(self.pid) if self.proc.poll() is None else []
        spent = 0.0
        start = time.monotonic()
        killed = False
        if self.proc.poll() is None:
            try:
                before = cpu_seconds(self.pid)
            except OSError:
                before = None
            self.proc.send_signal(signal.SIGTERM)
            while self.proc.poll() is None and time.monotonic() - start < TERM_GRACE:
                if before is not None:
                    try:
                        spent = cpu_seconds(self.pid) - before
                    except (OSError, IndexError):
                        pass
                time.sleep(0.02)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
                killed = True
        elapsed = time.monotonic() - start
        for helper in helpers:
            try:
                with open(f"/proc/{helper}/cmdline", "rb") as f:
                    if b"--object-helper" in f.read():  # bpfleetd's helper (/proc/self/exe --object-helper ...)
                        os.kill(helper, signal.SIGKILL)
            except OSError:
                pass
        self.log.close()
        subprocess.run(["rm", "-rf", self.pins])
        shutil.rmtree(self.dir, ignore_errors=True)
        if self in Server.live:
            Server.live.remove(self)
        self.stopped = (elapsed, killed, spent)
        return self.stopped
