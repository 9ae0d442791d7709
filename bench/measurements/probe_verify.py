"""16. `probe.verify` against `probe.load` + `probe.unload` of the same
object, in the same run (issue 15): what a rollout's preflight costs a node
next to the load it checks.

One bpfleetd on its Unix socket; each object is uploaded once. Rounds
alternate a `probe.verify` of the object (its programs through the verifier
in the object helper, everything freed) with a `probe.load` of it under a
fresh name followed by its `probe.unload` (the load's verifier work plus
pinning, the desired state and the intent, and freeing it all), each call
on a new connection, as a command line's. Objects: the exec counter (one
tracepoint program) and verify_mixed (one program accepted, one rejected:
two loads in the helper for verify; the load of the accepted one alone for
probe.load). BENCH_VERIFY_REPS rounds (default 30).

Prints the median and p90 of each in ms and the ratio verify / (load +
unload)."""
from __future__ import annotations

import os
import statistics
import subprocess
import time
from typing import TextIO

from .common import Bench, BenchError, Node, Part, call, loadavg, upload


def q(values: list[float], p: float) -> float:
    return sorted(values)[min(len(values) - 1, int(p * len(values)))]


def measure(bench: Bench, programs: str, reps: int, table: TextIO) -> None:
    session = bench.session
    sock = session.path("verify.sock")
    pins = f"/sys/fs/bpf/bpfleet-bench-verify-{os.getpid()}"
    node = Node(session, bench.bpfleetd, sock, ["--listen", f"unix:{sock}", "--state-dir", session.path("verify-state"),
                                                 "--pin-root", pins, "--log-level", "warning"],
                session.path("ready-verify"), session.path("bpfleetd-verify.log"))
    try:
        node.wait_ready()
        for name, load_programs in (("exec_count", None), ("verify_mixed", ["count_ok"])):
            object_id = upload(sock, os.path.join(programs, "build", f"{name}.bpf.o"), f"{name}.bpf.o")
            verifies: list[float] = []
            loads: list[float] = []
            verdicts: list[str] = []
            for round_ in range(reps):
                start = time.perf_counter()
                result = call(sock, "probe.verify", {"objectId": object_id})
                verifies.append((time.perf_counter() - start) * 1000)
                verdicts = [p["verdict"] for p in result["programs"]]
                params: dict = {"name": f"bench-verify-{round_}", "objectId": object_id}
                if load_programs:
                    params["programs"] = load_programs
                start = time.perf_counter()
                call(sock, "probe.load", params)
                call(sock, "probe.unload", {"probe": params["name"]})
                loads.append((time.perf_counter() - start) * 1000)
            if call(sock, "probe.list")["probes"]:
                raise BenchError("verify: probes were left loaded")
            print(f"{name}: verdicts {', '.join(verdicts)}; {reps} rounds", file=table)
            for label, values in (("probe.verify", verifies), ("probe.load + probe.unload", loads)):
                print(f"  {label:28} median {statistics.median(values):8.2f} ms  p90 {q(values, 0.9):8.2f} ms", file=table)
            print(f"  ratio verify / (load + unload): {statistics.median(verifies) / statistics.median(loads):.2f}x", file=table)
            table.flush()
    finally:
        node.stop()
        subprocess.run(["rm", "-rf", pins])


def run_part(bench: Bench) -> None:
    session = bench.session
    session.on_exit("verify pins", lambda: subprocess.run(["rm", "-rf", f"/sys/fs/bpf/bpfleet-bench-verify-{os.getpid()}"]))
    reps = int(os.environ.get("BENCH_VERIFY_REPS", "30"))
    if reps < 1:
        raise BenchError("BENCH_VERIFY_REPS must be at least 1")
    with open(session.path("verify-table.txt"), "w") as table:
        table.write(f"machine nproc={len(os.sched_getaffinity(0))} kernel={os.uname().release} loadavg_start {loadavg()}\n")
        table.flush()
        measure(bench, os.path.join(os.getcwd(), "programs"), reps, table)
        table.write(f"loadavg_end {loadavg()}\n")


def table(bench: Bench) -> str:
    with open(bench.session.path("verify-table.txt")) as f:
        return f.read()


PART = Part(name="probe_verify", old_name="verify", measurements=("probe_verify",), tools=(), programs=True,
            run=run_part, table=table)
