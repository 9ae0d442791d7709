"""16. Symbolizing a 10,000-stack snapshot against the raw snapshot of the
same map, in the same run (issue 13).

programs/stack_samples.bpf.c is loaded with its stack trace map sized at
load; its two programs take one kernel stack (an exec of a fresh binary)
and one user stack (a uprobe in a small binary of nested calls, built here
with frame pointers, which then waits). `sampled_stacks` is then filled
with BENCH_STACK_ENTRIES entries (default 10,000) naming those two stacks
and the waiting process, as a profiler's map of counts by process and
stacks holds them. Rounds alternate `map.snapshot` of that map raw and
with `symbolize` (each timed from the request's first byte out to the
reply's last byte in, on one connection); the first symbolized call, which
reads kallsyms and the binary's and libc's symbol tables, is reported
apart, with bpfleetd's resident memory before and after it.

Prints the medians, the ratio symbolized / raw (the target: within 3x),
the reply sizes, and the memory the symbol tables took."""
from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import time
from typing import TextIO

from .common import Bench, BenchError, Node, Part, call, loadavg, upload

CC = "/usr/bin/cc" if os.path.exists("/usr/bin/cc") else "gcc"
NESTED = r"""
#include <stdlib.h>
#include <unistd.h>
__attribute__((noinline)) void bpfleet_probe_here(void) { __asm__ volatile(""); }
__attribute__((noinline)) void bpfleet_leaf(void) { bpfleet_probe_here(); __asm__ volatile(""); }
__attribute__((noinline)) void bpfleet_middle(void) { bpfleet_leaf(); __asm__ volatile(""); }
__attribute__((noinline)) void bpfleet_outer(void) { bpfleet_middle(); __asm__ volatile(""); }
int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 0;
    for (int i = 0; i < n; i++) bpfleet_outer();
    char c;
    return read(0, &c, 1) < 0;
}
"""


def file_offset(path: str, symbol: str) -> int:
    symbols = subprocess.run(["readelf", "-sW", path], check=True, capture_output=True, text=True).stdout
    value = next(int(line.split()[1], 16) for line in symbols.splitlines() if line.endswith(" " + symbol))
    sections = subprocess.run(["readelf", "-SW", path], check=True, capture_output=True, text=True).stdout
    text = next(line for line in sections.splitlines() if " .text " in line).split("]")[-1].split()
    return value - int(text[2], 16) + int(text[3], 16)


class Connection:
    """One Unix socket connection; a call timed to the reply's last byte."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.next_id = 1

    def timed(self, method: str, params: dict) -> tuple[float, bytes]:
        self.next_id += 1
        line = json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params}).encode() + b"\n"
        chunks: list[bytes] = []
        start = time.perf_counter()
        self.sock.sendall(line)
        while not chunks or not chunks[-1].endswith(b"\n"):
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise BenchError(f"stacks: {method}: connection closed")
            chunks.append(chunk)
        elapsed = (time.perf_counter() - start) * 1000
        reply = b"".join(chunks)
        if b'"error"' in reply[:200]:
            raise BenchError(f"stacks: {method}: {reply[:300]!r}")
        return elapsed, reply

    def close(self) -> None:
        self.sock.close()


def measure(bench: Bench, programs: str, entries: int, reps: int, table: TextIO) -> None:
    session = bench.session
    work = session.work
    sock = session.path("stacks.sock")
    pins = f"/sys/fs/bpf/bpfleet-bench-stacks-{os.getpid()}"
    nested_c = os.path.join(work, "nested_calls.c")
    nested = os.path.join(work, "nested_calls")
    with open(nested_c, "w") as f:
        f.write(NESTED)
    subprocess.run([CC, "-O0", "-fno-omit-frame-pointer", "-fcf-protection=none", "-o", nested, nested_c], check=True)
    comm = f"bfs{os.getpid() % 100000}"
    execed = os.path.join(work, comm)
    subprocess.run(["cp", "/bin/true", execed], check=True)
    node = Node(session, bench.bpfleetd, sock, ["--listen", f"unix:{sock}", "--state-dir", session.path("stacks-state"),
                                                 "--pin-root", pins, "--log-level", "warning"],
                session.path("ready-stacks"), session.path("bpfleetd-stacks.log"))
    waiting = None
    try:
        node.wait_ready()
        object_id = upload(sock, os.path.join(programs, "build", "stack_samples.bpf.o"), "stack_samples.bpf.o")
        call(sock, "probe.load", {
            "name": "stacks", "objectId": object_id,
            "maps": {"stacks": {"maxEntries": 1024, "valueSize": 1016}}, "globals": {"target_comm": comm},
            "attach": [{"program": "sample_exec_stack", "target": {"type": "auto"}},
                       {"program": "sample_user_stack",
                        "target": {"type": "uprobe", "binary": nested, "offset": file_offset(nested, "bpfleet_probe_here") + 4}}]})
        subprocess.run([execed], check=True)
        waiting = subprocess.Popen([nested, "1"], stdin=subprocess.PIPE)
        deadline = time.time() + 30
        user_id = kern_id = None
        while time.time() < deadline and (user_id is None or kern_id is None):
            for entry in call(sock, "map.snapshot", {"map": {"probe": "stacks", "name": "user_stack_counts"}})["entries"]:
                if entry["key"]["tgid"] == waiting.pid and entry["key"]["user_stack_id"] >= 0:
                    user_id = entry["key"]["user_stack_id"]
            for entry in call(sock, "map.snapshot", {"map": {"probe": "stacks", "name": "stack_counts"}})["entries"]:
                if entry["key"]["kern_stack_id"] >= 0:
                    kern_id = entry["key"]["kern_stack_id"]
            time.sleep(0.05)
        if user_id is None or kern_id is None:
            raise BenchError(f"stacks: no stacks taken (user {user_id}, kernel {kern_id})")
        sampled = {"probe": "stacks", "name": "sampled_stacks"}
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as filler:
            filler.connect(sock)
            reader = filler.makefile("rb")
            for start in range(0, entries, 32):
                batch = [{"jsonrpc": "2.0", "id": n, "method": "map.update",
                          "params": {"map": sampled, "key": {"n": n, "tgid": waiting.pid, "kern_stack_id": kern_id,
                                                             "user_stack_id": user_id}, "value": n}}
                         for n in range(start, min(start + 32, entries))]
                filler.sendall(json.dumps(batch).encode() + b"\n")
                if b'"error"' in reader.readline():
                    raise BenchError("stacks: filling the map failed")
        connection = Connection(sock)
        try:
            raw_params = {"map": sampled}
            symbolized_params = {"map": sampled, "symbolize": True}
            _, raw_reply = connection.timed("map.snapshot", raw_params)
            before = int(node.status_kb("VmRSS"))
            cold, reply = connection.timed("map.snapshot", symbolized_params)
            after = int(node.status_kb("VmRSS"))
            first = json.loads(reply)["result"]["entries"][0]["stacks"]
            names = [frame.get("symbol", "?") for frame in first["user_stack_id"]][:5]
            if names != ["bpfleet_probe_here", "bpfleet_leaf", "bpfleet_middle", "bpfleet_outer", "main"]:
                raise BenchError(f"stacks: the user stack reads {names}")
            kernel_frames = len(first["kern_stack_id"])
            user_frames = len(first["user_stack_id"])
            raws: list[float] = []
            symbolized: list[float] = []
            for _ in range(reps):
                raws.append(connection.timed("map.snapshot", raw_params)[0])
                symbolized.append(connection.timed("map.snapshot", symbolized_params)[0])
        finally:
            connection.close()
        ratio = statistics.median(symbolized) / statistics.median(raws)
        print(f"{entries:,} entries, each a kernel stack ({kernel_frames} frames) and a user stack ({user_frames} frames) "
              f"of a live process; {reps} interleaved rounds", file=table)
        print(f"  raw map.snapshot          median {statistics.median(raws):8.1f} ms  (reply {len(raw_reply) / 1e6:.1f} MB)", file=table)
        print(f"  symbolized map.snapshot   median {statistics.median(symbolized):8.1f} ms  (reply {len(reply) / 1e6:.1f} MB)",
              file=table)
        print(f"  first symbolized call (reads kallsyms and the symbol tables) {cold:.1f} ms", file=table)
        print(f"  ratio symbolized / raw: {ratio:.2f}x (target: within 3x)", file=table)
        print(f"  bpfleetd RSS before the first symbolized call {before / 1024:.1f} MiB, after {after / 1024:.1f} MiB "
              f"(+{(after - before) / 1024:.1f} MiB: the kernel's symbol table and the ELF files' tables, kept)", file=table)
    finally:
        if waiting is not None:
            waiting.kill()
            waiting.wait()
        node.stop()
        subprocess.run(["rm", "-rf", pins])


def run_part(bench: Bench) -> None:
    session = bench.session
    session.on_exit("stack pins", lambda: subprocess.run(["rm", "-rf", f"/sys/fs/bpf/bpfleet-bench-stacks-{os.getpid()}"]))
    with open(session.path("stacks-table.txt"), "w") as table:
        table.write(f"machine nproc={len(os.sched_getaffinity(0))} kernel={os.uname().release} loadavg_start {loadavg()}\n")
        table.flush()
        measure(bench, os.path.join(os.getcwd(), "programs"), bench.knobs.stack_entries, bench.knobs.stack_reps, table)
        table.write(f"loadavg_end {loadavg()}\n")


def table(bench: Bench) -> str:
    with open(bench.session.path("stacks-table.txt")) as f:
        return f.read()


PART = Part(name="stacks", old_name="stacks", measurements=("stack_symbolize",), tools=(), programs=True,
            run=run_part, table=table)
