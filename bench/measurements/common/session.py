"""The run's temporary directory and its clean-up on every exit; its raw result files; what a run says."""
from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
from typing import Callable


class BenchError(RuntimeError):
    """Something is wrong (a check, a crash, a tool that failed): the run fails."""


def note(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


class Session:
    """The run's temporary directory and everything the run started or made:
    processes, pins, a network namespace, a cgroup. All of it goes on every
    exit (an error, Ctrl-C, SIGTERM), in the reverse order of its making."""

    def __init__(self, work: str) -> None:
        self.pid = os.getpid()
        self.work = work
        self.bin = os.path.join(work, "bin")
        self._undo: list[tuple[str, Callable[[], None]]] = []

    def path(self, *names: str) -> str:
        return os.path.join(self.work, *names)

    def pin_root(self, label: str) -> str:
        """/sys/fs/bpf/bpfleet-bench[-LABEL]-PID, removed at the end."""
        path = f"/sys/fs/bpf/bpfleet-bench{'-' + label if label else ''}-{self.pid}"
        self.on_exit(path, lambda: remove(path))
        return path

    def on_exit(self, key: str, undo: Callable[[], None]) -> None:
        self._undo.append((key, undo))

    def done(self, key: str) -> None:
        """What KEY names was undone already (a server stopped, a helper reaped)."""
        self._undo = [(k, u) for k, u in self._undo if k != key]

    def track(self, process: subprocess.Popen, sig: int = signal.SIGTERM, wait: bool = True) -> subprocess.Popen:
        """A process to stop with SIG at the end if it is still running."""
        def stop() -> None:
            if process.poll() is None:
                try:
                    process.send_signal(sig)
                    if wait:
                        process.wait(timeout=60)
                except (OSError, subprocess.TimeoutExpired):
                    process.kill()
            if wait:
                process.wait()
        self.on_exit(f"pid {process.pid}", stop)
        return process

    def untrack(self, process: subprocess.Popen) -> None:
        self.done(f"pid {process.pid}")

    def results(self, name: str) -> "Results":
        return Results(self.path(name))

    def cleanup(self) -> None:
        while self._undo:
            _, undo = self._undo.pop()
            try:
                undo()
            except Exception as error:  # noqa: BLE001 -- clean-up goes on whatever one step says
                note(f"clean-up: {error}")
        shutil.rmtree(self.work, ignore_errors=True)


class Results:
    """A file of raw result lines ("name value" or "name key=value ...")."""

    def __init__(self, path: str) -> None:
        self.path = path

    def record(self, line: str) -> None:
        with open(self.path, "a") as f:
            f.write(line + "\n")

    def record_lines(self, text: str, prefix: str = "") -> None:
        for line in text.splitlines():
            self.record(prefix + line)


RESULT_FILES = ("results.txt", "results-tls.txt", "results-events.txt", "results-attach.txt")


def remove(path: str) -> None:
    """rm -rf PATH (pins too: a pinned directory is removed with its pins)."""
    subprocess.run(["rm", "-rf", path], check=False)


def remove_glob(pattern: str) -> None:
    for path in glob.glob(pattern):
        remove(path)
