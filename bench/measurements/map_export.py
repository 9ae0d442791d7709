"""19. Map exports (issue 16): a scrape of a probe exporting a
BENCH_EXPORT_ENTRIES (10,000) entry map with two label decoders, against
the raw BPF_MAP_LOOKUP_BATCH walk of the same map, in the same run; then
bpfleetd's CPU while scraped once a second, and its memory per series.
The same again with the decoders syscall and errno (and the key's index
undecoded, so that every entry is its own series).

One bpfleetd with `--metrics-listen` on loopback. The probe is
programs/metrics_export.bpf.o; its `decoded` map (a 48-byte struct key) is
filled by this process through the bpf() system call: each entry's `addr`
a distinct kernel text address from /proc/kallsyms (label `fn`, decoder
ksym) and its `nr` a syscall number (label `syscall`, decoder syscall), its
value a gauge. Rounds alternate `GET /metrics` over HTTP on a new
connection (the whole body read, and checked to hold one sample per entry
with the symbol names) and `batch_lookup` of the map's pin (BPF_MAP_LOOKUP_
BATCH, nothing decoded or written; the time it prints). BENCH_EXPORT_REPS
(15) rounds. Then BENCH_EXPORT_SECONDS (30) of one scrape a second, and
bpfleetd's CPU time over that span (utime + stime from /proc) as a share
of one core. Memory: bpfleetd's resident size (VmRSS) with the entries in
the map but never scraped, against after the scrapes, per exported series.

Targets: scrape / raw within 3x; CPU under 5% of a core at 1 scrape/s."""
from __future__ import annotations

import ctypes
import os
import socket
import statistics
import subprocess
import time
from typing import TextIO

from .common import Bench, BenchError, Node, Part, call, loadavg, upload
from .common import run

SYS_BPF = {"x86_64": 321, "aarch64": 280}
BPF_MAP_UPDATE_ELEM = 2
BPF_OBJ_GET = 7


class ElemAttr(ctypes.Structure):
    _fields_ = [("map_fd", ctypes.c_uint32), ("pad", ctypes.c_uint32), ("key", ctypes.c_uint64),
                ("value", ctypes.c_uint64), ("flags", ctypes.c_uint64)]


class ObjGetAttr(ctypes.Structure):
    _fields_ = [("pathname", ctypes.c_uint64), ("bpf_fd", ctypes.c_uint32), ("file_flags", ctypes.c_uint32)]


class DecodeKey(ctypes.Structure):
    """programs/metrics_export.bpf.c's struct decode_key."""
    _fields_ = [("addr", ctypes.c_uint64), ("err", ctypes.c_int32), ("v4", ctypes.c_uint8 * 4), ("v6", ctypes.c_uint8 * 16),
                ("nr", ctypes.c_uint32), ("level", ctypes.c_uint32), ("cgroup", ctypes.c_uint64)]


class GaugeValue(ctypes.Structure):
    _fields_ = [("level", ctypes.c_int64), ("unused", ctypes.c_uint64)]


def kernel_functions(count: int) -> tuple[list[tuple[int, str]], dict[int, set[str]]]:
    """COUNT distinct global kernel text symbols (address, name), kallsyms
    order; and every text symbol's name by address (several share one)."""
    found: list[tuple[int, str]] = []
    names: dict[int, set[str]] = {}
    with open("/proc/kallsyms") as f:
        for line in f:
            parts = line.split()
            if len(parts) < 3 or parts[1] not in ("T", "t", "W", "w"):
                continue
            address = int(parts[0], 16)
            if address == 0:
                continue
            if parts[1] == "T" and address not in names and len(found) < count:
                found.append((address, parts[2]))
            names.setdefault(address, set()).add(parts[2])
    if len(found) < count:
        raise BenchError(f"export: kallsyms has {len(found)} usable text symbols, not {count} (kptr_restrict?)")
    return found, names


def fill(pin: str, functions: list[tuple[int, str]]) -> None:
    """One entry per function: addr inside it, nr = index % 300, err =
    -(index % 134), level (key and value) = index."""
    libc = ctypes.CDLL(None, use_errno=True)
    number = SYS_BPF.get(os.uname().machine)
    if number is None:
        raise BenchError(f"export: no bpf() system call number for {os.uname().machine}")
    path = ctypes.create_string_buffer(pin.encode())
    get = ObjGetAttr(pathname=ctypes.addressof(path))
    fd = libc.syscall(number, BPF_OBJ_GET, ctypes.byref(get), ctypes.sizeof(get))
    if fd < 0:
        raise BenchError(f"export: BPF_OBJ_GET {pin}: {os.strerror(ctypes.get_errno())}")
    try:
        key = DecodeKey()
        value = GaugeValue()
        for index, (address, _) in enumerate(functions):
            key.addr = address + 1
            key.nr = index % 300
            key.err = -(index % 134)
            key.level = index
            value.level = index
            attr = ElemAttr(map_fd=fd, key=ctypes.addressof(key), value=ctypes.addressof(value), flags=0)
            if libc.syscall(number, BPF_MAP_UPDATE_ELEM, ctypes.byref(attr), ctypes.sizeof(attr)) != 0:
                raise BenchError(f"export: map update: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(fd)


def scrape(port: int) -> bytes:
    """GET /metrics on a new connection; the body."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        chunks: list[bytes] = []
        while True:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    reply = b"".join(chunks)
    head, _, body = reply.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise BenchError(f"export: scrape answered {head[:80]!r}")
    return body


def q(values: list[float], p: float) -> float:
    return sorted(values)[min(len(values) - 1, int(p * len(values)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(bench: Bench, programs: str, count: int, reps: int, seconds: int, table: TextIO) -> None:
    session = bench.session
    sock = session.path("export.sock")
    pins = f"/sys/fs/bpf/bpfleet-bench-export-{os.getpid()}"
    port = free_port()
    node = Node(session, bench.bpfleetd, sock, ["--listen", f"unix:{sock}", "--state-dir", session.path("export-state"),
                                                 "--pin-root", pins, "--log-level", "warning",
                                                 "--metrics-listen", f"tcp://127.0.0.1:{port}"],
                session.path("ready-export"), session.path("bpfleetd-export.log"))
    try:
        node.wait_ready()
        object_id = upload(sock, os.path.join(programs, "build", "metrics_export.bpf.o"), "metrics_export.bpf.o")
        functions, names_at = kernel_functions(count)
        print(f"{count} entries in a hash map with a 48-byte key; {reps} rounds, scrape and raw alternating", file=table)
        for decoders, labels in (("ksym, syscall", [{"name": "fn", "field": "addr", "decoder": "ksym"},
                                                     {"name": "syscall", "field": "nr", "decoder": "syscall"}]),
                                 ("syscall, errno", [{"name": "syscall", "field": "nr", "decoder": "syscall"},
                                                     {"name": "err", "field": "err", "decoder": "errno"},
                                                     {"name": "index", "field": "level"}])):
            export = {"map": "decoded", "name": "bench_level", "kind": "gauge", "value": "level", "labels": labels}
            call(sock, "probe.load", {"name": "bench", "objectId": object_id, "metrics": [export]})
            pin = f"{pins}/bench/maps/decoded"
            fill(pin, functions)
            rss_before = int(node.status_kb("VmRSS"))
            run([bench.tool("batch_lookup"), pin, "1"])  # the map's pages warm once
            body = scrape(port)
            samples = [line for line in body.split(b"\n") if line.startswith(b"bench_level{")]
            if len(samples) != count:
                raise BenchError(f"export: the scrape held {len(samples)} samples, not {count}")
            if decoders.startswith("ksym"):
                for line in samples:
                    # The value is the entry's index: its address is the function's.
                    symbol = line.split(b'fn="')[1].split(b'"')[0].decode()
                    address = functions[int(line.rsplit(b" ", 1)[1])][0]
                    if symbol not in names_at[address]:
                        raise BenchError(f"export: a sample names {symbol!r}, not the function at {address:#x} ({names_at[address]})")
            scrapes: list[float] = []
            raw: list[float] = []
            for _ in range(reps):
                start = time.perf_counter()
                body = scrape(port)
                scrapes.append((time.perf_counter() - start) * 1000)
                out = run([bench.tool("batch_lookup"), pin, "1"])
                raw.append(float(out.split()[0].split("=")[1]))
            rss_after = int(node.status_kb("VmRSS"))
            print(f"two label decoders {decoders}: scrape body {len(body)} bytes", file=table)
            print(f"  {'GET /metrics (HTTP, new connection)':40} median {statistics.median(scrapes):8.2f} ms  p90 {q(scrapes, 0.9):8.2f} ms",
                  file=table)
            print(f"  {'raw BPF_MAP_LOOKUP_BATCH (batch_lookup)':40} median {statistics.median(raw):8.2f} ms  p90 {q(raw, 0.9):8.2f} ms",
                  file=table)
            print(f"  ratio scrape / raw batch read: {statistics.median(scrapes) / statistics.median(raw):.2f}x (target: within 3x)",
                  file=table)
            if decoders.startswith("ksym"):
                # One scrape a second, and bpfleetd's CPU time over the span.
                cpu_start = node.cpu_ms()
                wall_start = time.monotonic()
                for tick in range(seconds):
                    scrape(port)
                    time.sleep(max(0.0, wall_start + tick + 1 - time.monotonic()))
                wall = time.monotonic() - wall_start
                cpu = node.cpu_ms() - cpu_start
                print(f"  bpfleetd CPU at 1 scrape/s over {wall:.1f} s: {cpu} ms = {100.0 * cpu / (wall * 1000):.2f}% of a core "
                      f"(target: under 5%)", file=table)
                print(f"  bpfleetd VmRSS: {rss_before} KiB before any scrape, {rss_after} KiB after; "
                      f"{(rss_after - rss_before) * 1024 / count:.0f} bytes per exported series", file=table)
            table.flush()
            call(sock, "probe.unload", {"probe": "bench"})
    finally:
        node.stop()
        subprocess.run(["rm", "-rf", pins])


def run_part(bench: Bench) -> None:
    session = bench.session
    session.on_exit("export pins", lambda: subprocess.run(["rm", "-rf", f"/sys/fs/bpf/bpfleet-bench-export-{os.getpid()}"]))
    count = int(os.environ.get("BENCH_EXPORT_ENTRIES", "10000"))
    reps = int(os.environ.get("BENCH_EXPORT_REPS", "15"))
    seconds = int(os.environ.get("BENCH_EXPORT_SECONDS", "30"))
    if count < 1 or count > 10240 or reps < 1 or seconds < 1:
        raise BenchError("BENCH_EXPORT_ENTRIES is 1 to 10240 (the map's size); BENCH_EXPORT_REPS and _SECONDS at least 1")
    with open(session.path("export-table.txt"), "w") as table:
        table.write(f"machine nproc={len(os.sched_getaffinity(0))} kernel={os.uname().release} loadavg_start {loadavg()}\n")
        table.flush()
        measure(bench, os.path.join(os.getcwd(), "programs"), count, reps, seconds, table)
        table.write(f"loadavg_end {loadavg()}\n")


def table(bench: Bench) -> str:
    with open(bench.session.path("export-table.txt")) as f:
        return f.read()


PART = Part(name="map_export", old_name="export", measurements=("map_export",), tools=("batch_lookup",), programs=True,
            run=run_part, table=table)
