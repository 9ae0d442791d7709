"""13. What `object.upload` costs now that a helper process opens the
object, side by side with libbpf opening the same bytes in-process
(bench/open_libbpf.c), in one run.

Two objects: a 900 KB one (a program and a 896,000-byte .rodata table,
built here) and the 7 KB exec counter. Every round uploads a copy with one
byte changed, so that each upload is new to the node (the object store
would answer a known object without opening it), then deletes it. Rounds
alternate between bpfleetd and libbpf; BENCH_UPLOAD_ROUNDS rounds.

Prints one line per object: median and p90 of each side in ms, and the
helper's and bpfleetd's resident memory after the run."""
from __future__ import annotations

import base64
import os
import statistics
import subprocess
import time
from typing import Optional, TextIO

from .common import BENCH, Bench, Part, call, loadavg

CLANG = "/opt/swift/usr/bin/clang" if os.path.exists("/opt/swift/usr/bin/clang") else "clang"


def build_big(programs: str, work: str) -> str:
    source = os.path.join(work, "big_upload.bpf.c")
    with open(source, "w") as f:
        f.write('#include "common.h"\n'
                "const volatile __u8 pad[896000] = {1};\n"
                'SEC("raw_tracepoint/sys_enter")\n'
                "int big_upload(void *ctx) { return pad[0]; }\n")
    target = os.path.join(work, "big_upload.bpf.o")
    arch = os.uname().machine
    subprocess.run([CLANG, "-g", "-O2", "-target", "bpf", f"-D__TARGET_ARCH_{'x86' if arch == 'x86_64' else 'arm64'}",
                    f"-I{programs}/build", f"-I{programs}", f"-I/usr/include/{arch}-linux-gnu", "-c", source, "-o", target],
                   check=True)
    return target


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def helper_of(pid: int) -> Optional[int]:
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if int(fields[1]) == pid and b"--object-helper" in cmdline:
            return int(entry)
    return None


def measure(bpfleetd: str, programs: str, work: str, rounds: int, table: TextIO) -> None:
    opener = os.path.join(work, "open_libbpf")
    subprocess.run(["gcc", "-O2", "-Wall", "-Werror", "-o", opener, os.path.join(BENCH, "open_libbpf.c"), "-lbpf", "-lelf", "-lz"],
                   check=True)
    objects = {"900 KB": build_big(programs, work), "7 KB (exec_count)": os.path.join(programs, "build", "exec_count.bpf.o")}
    sock = os.path.join(work, "upload.sock")
    pins = f"/sys/fs/bpf/bpfleet-bench-upload-{os.getpid()}"
    server = subprocess.Popen([bpfleetd, "--listen", f"unix:{sock}", "--state-dir", os.path.join(work, "upload-state"),
                               "--pin-root", pins, "--log-level", "warning"], stdout=subprocess.PIPE)
    try:
        server.stdout.readline()  # "bpfleetd ready ..."
        for label, path in objects.items():
            data = bytearray(open(path, "rb").read())
            ours, theirs = [], []
            for n in range(rounds):
                # One byte past the ELF header's padding (e_ident[15], unused) makes every copy new.
                data[15] = n % 256
                copy = os.path.join(work, "copy.o")
                with open(copy, "wb") as f:
                    f.write(data)
                encoded = base64.b64encode(bytes(data)).decode()
                start = time.perf_counter()
                result = call(sock, "object.upload", {"data": encoded})
                ours.append((time.perf_counter() - start) * 1000)
                call(sock, "object.delete", {"objectId": result["objectId"]})
                out = subprocess.run([opener, copy, "1"], check=True, capture_output=True, text=True).stdout
                theirs.append(float(out.split()[0]))
            def q(values: list[float], p: float) -> float:
                return sorted(values)[min(len(values) - 1, int(p * len(values)))]
            print(f"{label}: {len(data)} bytes; object.upload median {statistics.median(ours):.2f} ms (p90 {q(ours, 0.9):.2f}); "
                  f"libbpf open+describe in-process median {statistics.median(theirs):.2f} ms (p90 {q(theirs, 0.9):.2f}); "
                  f"difference {statistics.median(ours) - statistics.median(theirs):+.2f} ms", file=table)
        helper = helper_of(server.pid)
        print(f"memory after the run: bpfleetd RSS {rss_kib(server.pid) / 1024:.1f} MiB; "
              f"helper RSS {rss_kib(helper) / 1024:.1f} MiB (peak {rss_kib(helper, 'VmHWM') / 1024:.1f} MiB, "
              f"data {rss_kib(helper, 'VmData') / 1024:.1f} MiB)" if helper else "no helper found", file=table)
    finally:
        server.terminate()
        server.wait()
        subprocess.run(["rm", "-rf", pins])


def run_part(bench: Bench) -> None:
    session = bench.session
    session.on_exit("upload pins", lambda: subprocess.run(["rm", "-rf", f"/sys/fs/bpf/bpfleet-bench-upload-{os.getpid()}"]))
    with open(session.path("upload-table.txt"), "w") as table:
        table.write(f"machine nproc={len(os.sched_getaffinity(0))} kernel={os.uname().release} loadavg_start {loadavg()}\n")
        table.flush()
        measure(bench.bpfleetd, os.path.join(os.getcwd(), "programs"), session.work, bench.knobs.upload_rounds, table)


def table(bench: Bench) -> str:
    with open(bench.session.path("upload-table.txt")) as f:
        return f.read()


PART = Part(name="object_upload", old_name="upload", measurements=("object_upload",), tools=(), programs=False,
            run=run_part, table=table)
