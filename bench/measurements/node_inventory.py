"""18. The node-wide inventory (issue 15): `node.programs` with
BENCH_INVENTORY_PROGRAMS (1000) programs in the kernel against
`bpftool -j prog show`, side by side in one run.

This process loads the programs itself (BPF_PROG_LOAD through the bpf()
system call: a two-instruction socket filter each, named bench_inv_N) and
holds their descriptors. Rounds alternate: `node.programs {holders:
false}` over JSON-RPC on the Unix socket (a new connection each call, the
reply read whole, not parsed), the same with the holders found (the walk
of /proc), `bpfleet -o json node programs --no-holders` (a new process, as
an operator's), and `bpftool -j prog show` (a new process). bpftool lists
holders (`pids`) only when built with its BPF skeletons; the table says
whether this one did, and the like-for-like ratio is the one without.
Each answer is checked to list every loaded program (and, with holders,
this process as the holder of each). BENCH_INVENTORY_REPS (15) rounds.

Prints the median and p90 of each in ms and the ratios against bpftool
(the target: node.programs faster)."""
from __future__ import annotations

import ctypes
import json
import os
import socket
import statistics
import subprocess
import time
from typing import TextIO

from .common import Bench, BenchError, Node, Part, loadavg

BPF_PROG_LOAD = 5
BPF_PROG_TYPE_SOCKET_FILTER = 1
SYS_BPF = {"x86_64": 321, "aarch64": 280}


class ProgLoadAttr(ctypes.Structure):
    """The head of union bpf_attr for BPF_PROG_LOAD, through prog_name."""
    _fields_ = [("prog_type", ctypes.c_uint32), ("insn_cnt", ctypes.c_uint32), ("insns", ctypes.c_uint64),
                ("license", ctypes.c_uint64), ("log_level", ctypes.c_uint32), ("log_size", ctypes.c_uint32),
                ("log_buf", ctypes.c_uint64), ("kern_version", ctypes.c_uint32), ("prog_flags", ctypes.c_uint32),
                ("prog_name", ctypes.c_char * 16)]


def load_programs(count: int) -> list[int]:
    """COUNT socket filters (r0 = 0; exit), their descriptors."""
    libc = ctypes.CDLL(None, use_errno=True)
    number = SYS_BPF.get(os.uname().machine)
    if number is None:
        raise BenchError(f"inventory: no bpf() system call number for {os.uname().machine}")
    insns = (ctypes.c_uint64 * 2)(0x00000000000000b7, 0x0000000000000095)  # mov r0, 0; exit
    license_text = ctypes.create_string_buffer(b"GPL")
    fds: list[int] = []
    try:
        for n in range(count):
            attr = ProgLoadAttr(prog_type=BPF_PROG_TYPE_SOCKET_FILTER, insn_cnt=2,
                                insns=ctypes.addressof(insns), license=ctypes.addressof(license_text),
                                prog_name=f"bench_inv_{n}".encode())
            fd = libc.syscall(number, BPF_PROG_LOAD, ctypes.byref(attr), ctypes.sizeof(attr))
            if fd < 0:
                raise BenchError(f"inventory: BPF_PROG_LOAD failed: {os.strerror(ctypes.get_errno())}")
            fds.append(fd)
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    return fds


def q(values: list[float], p: float) -> float:
    return sorted(values)[min(len(values) - 1, int(p * len(values)))]


def raw_call(path: str, method: str, params: dict) -> bytes:
    """One call on a new connection, the reply line read whole."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(path)
        sock.sendall(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode() + b"\n")
        chunks: list[bytes] = []
        while not chunks or not chunks[-1].endswith(b"\n"):
            chunk = sock.recv(1 << 20)
            if not chunk:
                raise BenchError(f"inventory: {method}: connection closed before the reply")
            chunks.append(chunk)
    return b"".join(chunks)


def measure(bench: Bench, count: int, reps: int, table: TextIO) -> None:
    session = bench.session
    sock = session.path("inventory.sock")
    pins = f"/sys/fs/bpf/bpfleet-bench-inventory-{os.getpid()}"
    bpfleet = bench.builds.product("bpfleet")
    if not bpfleet:
        raise BenchError("inventory: bpfleet does not build")
    fds = load_programs(count)
    node = Node(session, bench.bpfleetd, sock, ["--listen", f"unix:{sock}", "--state-dir", session.path("inventory-state"),
                                                 "--pin-root", pins, "--log-level", "warning"],
                session.path("ready-inventory"), session.path("bpfleetd-inventory.log"))
    try:
        node.wait_ready()
        bare: list[float] = []
        held: list[float] = []
        cli: list[float] = []
        theirs: list[float] = []
        sizes: dict[str, int] = {}
        for _ in range(reps):
            start = time.perf_counter()
            reply = raw_call(sock, "node.programs", {"holders": False})
            bare.append((time.perf_counter() - start) * 1000)
            sizes["bare"] = len(reply)
            start = time.perf_counter()
            with_holders = raw_call(sock, "node.programs", {})
            held.append((time.perf_counter() - start) * 1000)
            sizes["held"] = len(with_holders)
            start = time.perf_counter()
            out = subprocess.run([bpfleet, "-n", f"unix:{sock}", "-o", "json", "node", "programs", "--no-holders"],
                                 check=True, capture_output=True).stdout
            cli.append((time.perf_counter() - start) * 1000)
            sizes["cli"] = len(out)
            start = time.perf_counter()
            shown = subprocess.run(["bpftool", "-j", "prog", "show"], check=True, capture_output=True).stdout
            theirs.append((time.perf_counter() - start) * 1000)
            sizes["bpftool"] = len(shown)
        # Every program this process loaded, in each answer; with holders, held by it.
        listed = json.loads(reply)["result"]["programs"]
        if len([p for p in listed if p["name"].startswith("bench_inv_")]) != count:
            raise BenchError(f"inventory: node.programs did not list the {count} programs")
        mine = [p for p in json.loads(with_holders)["result"]["programs"] if p["name"].startswith("bench_inv_")]
        if len(mine) != count or not all(any(h["pid"] == os.getpid() for h in p.get("holders", [])) for p in mine):
            raise BenchError(f"inventory: node.programs listed {len(mine)} of the {count} programs, or without this process")
        theirs_listed = [p for p in json.loads(shown) if str(p.get("name", "")).startswith("bench_inv_")]
        if len(theirs_listed) != count:
            raise BenchError(f"inventory: bpftool listed {len(theirs_listed)} of the {count} programs")
        pids = any("pids" in p for p in theirs_listed)
        print(f"{count} programs loaded and held by the bench ({len(listed)} in the kernel), {reps} rounds; "
              f"this bpftool {'lists' if pids else 'does not list'} holders", file=table)
        for label, values, size in (("node.programs, no holders (JSON-RPC)", bare, sizes["bare"]),
                                    ("node.programs, holders (JSON-RPC)", held, sizes["held"]),
                                    ("bpfleet -o json node programs --no-holders", cli, sizes["cli"]),
                                    ("bpftool -j prog show", theirs, sizes["bpftool"])):
            print(f"  {label:44} median {statistics.median(values):8.2f} ms  p90 {q(values, 0.9):8.2f} ms  "
                  f"{size:>9} bytes", file=table)
        like = held if pids else bare
        print(f"  ratio node.programs / bpftool, like for like ({'with' if pids else 'without'} holders): "
              f"{statistics.median(like) / statistics.median(theirs):.2f}x (target: below 1); with holders: "
              f"{statistics.median(held) / statistics.median(theirs):.2f}x; "
              f"bpfleet CLI / bpftool: {statistics.median(cli) / statistics.median(theirs):.2f}x", file=table)
    finally:
        node.stop()
        for fd in fds:
            os.close(fd)
        subprocess.run(["rm", "-rf", pins])


def run_part(bench: Bench) -> None:
    count = int(os.environ.get("BENCH_INVENTORY_PROGRAMS", "1000"))
    reps = int(os.environ.get("BENCH_INVENTORY_REPS", "15"))
    with open(bench.session.path("inventory-table.txt"), "w") as table:
        table.write(f"machine nproc={len(os.sched_getaffinity(0))} kernel={os.uname().release} loadavg_start {loadavg()}\n")
        table.flush()
        measure(bench, count, reps, table)
        table.write(f"loadavg_end {loadavg()}\n")


def table(bench: Bench) -> str:
    with open(bench.session.path("inventory-table.txt")) as f:
        return f.read()


PART = Part(name="node_inventory", old_name="inventory", measurements=("node_inventory",), tools=(), programs=False,
            run=run_part, table=table)
