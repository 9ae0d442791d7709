"""15. An iterator's output through `iter.read` against `cat` of the same
iterator pinned by bpftool (issue 13), side by side in one run.

The task iterator of programs/task_iter.bpf.c (`dump_tasks`, a text line
per task) is loaded into bpfleetd, and bpftool pins the same object's
iterator (`bpftool iter pin`). BENCH_ITER_THREADS idle threads in this
process give the iterator that many more tasks to print. Rounds alternate:
`iter.read` over JSON-RPC on the Unix socket (a new connection each call,
as a command line's), `cat` of the pin (a new process each time, as an
operator's), and a read of the pin in this process (no process start).
Each side's bytes are checked to be within 2% of the others' (the task
list moves a little between reads). BENCH_ITER_REPS rounds.

Prints the median and p90 of each in ms, the output's size, and the ratio
iter.read / cat (the target: within 2x)."""
from __future__ import annotations

import os
import statistics
import subprocess
import threading
import time
from typing import TextIO

from .common import Bench, BenchError, Node, Part, call, loadavg, upload


def q(values: list[float], p: float) -> float:
    return sorted(values)[min(len(values) - 1, int(p * len(values)))]


def measure(bench: Bench, programs: str, threads: int, reps: int, table: TextIO) -> None:
    session = bench.session
    obj = os.path.join(programs, "build", "task_iter.bpf.o")
    sock = session.path("iter.sock")
    pins = f"/sys/fs/bpf/bpfleet-bench-iter-{os.getpid()}"
    pin = f"/sys/fs/bpf/bpfleet-bench-iter-pin-{os.getpid()}"
    release = threading.Event()
    idle = [threading.Thread(target=release.wait, daemon=True) for _ in range(threads)]
    for thread in idle:
        thread.start()
    node = Node(session, bench.bpfleetd, sock, ["--listen", f"unix:{sock}", "--state-dir", session.path("iter-state"),
                                                 "--pin-root", pins, "--log-level", "warning"],
                session.path("ready-iter"), session.path("bpfleetd-iter.log"))
    try:
        node.wait_ready()
        call(sock, "probe.load", {"name": "iters", "objectId": upload(sock, obj, "task_iter.bpf.o")})
        subprocess.run(["bpftool", "iter", "pin", obj, pin], check=True, capture_output=True)
        ours: list[float] = []
        cats: list[float] = []
        reads: list[float] = []
        sizes: dict[str, list[int]] = {"iter.read": [], "cat": [], "read": []}
        lines = 0
        for _ in range(reps):
            start = time.perf_counter()
            result = call(sock, "iter.read", {"probe": "iters", "program": "dump_tasks", "limit": 64 << 20})
            ours.append((time.perf_counter() - start) * 1000)
            if result.get("truncated"):
                raise BenchError("iter: iter.read was truncated")
            sizes["iter.read"].append(result["bytes"])
            start = time.perf_counter()
            out = subprocess.run(["cat", pin], check=True, capture_output=True).stdout
            cats.append((time.perf_counter() - start) * 1000)
            sizes["cat"].append(len(out))
            lines = out.count(b"\n")
            start = time.perf_counter()
            with open(pin, "rb") as f:
                data = f.read()
            reads.append((time.perf_counter() - start) * 1000)
            sizes["read"].append(len(data))
        medians = {name: statistics.median(values) for name, values in sizes.items()}
        if max(medians.values()) > 1.02 * min(medians.values()):
            raise BenchError(f"iter: the outputs differ in size: {medians}")
        print(f"task iterator, {threads} extra threads: output {int(medians['iter.read'])} bytes "
              f"({lines} lines), {reps} rounds", file=table)
        for label, values in (("iter.read (JSON-RPC, Unix socket)", ours), ("cat of the bpftool pin", cats),
                              ("read of the pin in-process", reads)):
            print(f"  {label:36} median {statistics.median(values):8.2f} ms  p90 {q(values, 0.9):8.2f} ms", file=table)
        print(f"  ratio iter.read / cat: {statistics.median(ours) / statistics.median(cats):.2f}x (target: within 2x); "
              f"iter.read / in-process read: {statistics.median(ours) / statistics.median(reads):.2f}x", file=table)
    finally:
        release.set()
        node.stop()
        subprocess.run(["rm", "-rf", pins, pin])


def run_part(bench: Bench) -> None:
    session = bench.session
    session.on_exit("iterator pins", lambda: subprocess.run(
        ["rm", "-rf", f"/sys/fs/bpf/bpfleet-bench-iter-{os.getpid()}", f"/sys/fs/bpf/bpfleet-bench-iter-pin-{os.getpid()}"]))
    with open(session.path("iter-table.txt"), "w") as table:
        table.write(f"machine nproc={len(os.sched_getaffinity(0))} kernel={os.uname().release} loadavg_start {loadavg()}\n")
        table.flush()
        measure(bench, os.path.join(os.getcwd(), "programs"), bench.knobs.iter_threads, bench.knobs.iter_reps, table)
        table.write(f"loadavg_end {loadavg()}\n")


def table(bench: Bench) -> str:
    with open(bench.session.path("iter-table.txt")) as f:
        return f.read()


PART = Part(name="iterators", old_name="iter", measurements=("iterator_read",), tools=(), programs=True,
            run=run_part, table=table)
