"""Hook points and survival (issue 5): load + attach latency per target type,
then start-up with probes to adopt, to restore, and none. Each has its own
bpfleetd; one table (results-attach.txt), with the load averages at the
start and the end of the part: the machine's load shows in every row."""
from __future__ import annotations

import re
import subprocess

from . import attach_latency, startup_adoption
from .common import Bench, Part, loadavg, machine_line


def run_part(bench: Bench) -> None:
    results = bench.session.results("results-attach.txt")
    results.record(f"loadavg_start {loadavg()}")
    attach_latency.measure(bench, results)
    startup_adoption.measure(bench, results)
    libbpf = subprocess.run(["pkg-config", "--modversion", "libbpf"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    results.record(f"{machine_line()} libbpf={libbpf.stdout.strip() if libbpf.returncode == 0 else 'unknown'}")
    results.record(f"loadavg_end {loadavg()}")
    results.record(f"attach_reps {bench.knobs.attach_reps}")
    results.record(f"survival_probes {bench.knobs.survival_probes}")
    results.record(f"survival_reps {bench.knobs.survival_reps}")


def table(bench: Bench) -> str:
    """Per target, p50 and p90 of each side and the overhead against the
    5 ms target (attach lines: attach TARGET SIDE load_ms=.. attach_ms=..
    total_ms=..); the start-up medians (start_none / start_adopt /
    start_restore ms=..; survival_load_ms N)."""
    attach: dict[tuple[str, str], list[dict]] = {}
    starts: dict[str, list[float]] = {"start_none": [], "start_adopt": [], "start_restore": []}
    facts: dict[str, str] = {}
    with open(bench.session.path("results-attach.txt")) as f:
        for line in f:
            words = line.split()
            if not words:
                continue
            if words[0] == "attach":
                fields = dict(w.split("=") for w in words[3:])
                attach.setdefault((words[1], words[2]), []).append({k: float(v) for k, v in fields.items()})
            elif words[0] in starts:
                starts[words[0]].append(float(re.search(r"ms=([0-9.]+)", line).group(1)))
            else:
                facts[words[0]] = " ".join(words[1:])
    head = (f"bpfleetd: {facts.get('config_bpfleetd', '?')} build; {facts.get('machine', '')}\n"
            f"load average at the start / end of the part: {facts.get('loadavg_start', '?')} / {facts.get('loadavg_end', '?')}\n")
    return head + attach_latency.table(attach, facts.get("attach_reps", "?")) + startup_adoption.table(starts, facts)


PART = Part(name="attach", old_name="attach", measurements=("attach_latency", "startup_adoption"),
            tools=("attach_libbpf", "attach_rpc"), programs=True, run=run_part, table=table,
            results=("results-attach.txt",))
