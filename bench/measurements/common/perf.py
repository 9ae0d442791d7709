"""perf profiles (BENCH_PERF=DIR): never part of the timings."""
from __future__ import annotations

import re
import signal
import subprocess
import time

from .session import Session


class Profile:
    """perf record -g of a running process while the block runs (0.5 s head start)."""

    def __init__(self, session: Session, data: str, pid: int) -> None:
        self.session, self.data, self.pid = session, data, pid

    def __enter__(self) -> "Profile":
        self.recorder = self.session.track(subprocess.Popen(
            ["perf", "record", "-q", "-g", "-o", self.data, "-p", str(self.pid)], stderr=subprocess.DEVNULL), signal.SIGINT)
        time.sleep(0.5)
        return self

    def __exit__(self, *_: object) -> None:
        self.recorder.send_signal(signal.SIGINT)
        self.recorder.wait()
        self.session.untrack(self.recorder)


def top_symbols(data: str, out: str) -> None:
    """The 40 top symbols (dso, symbol) of a perf.data, into OUT."""
    done = subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio", "--sort", "dso,sym"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, errors="replace")
    lines = [line for line in done.stdout.splitlines() if re.match(r"^ +[0-9]", line)][:40]
    with open(out, "w") as f:
        f.write("".join(line + "\n" for line in lines))
