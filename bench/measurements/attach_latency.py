"""10. Load + attach latency per target type (tracepoint, raw_tracepoint,
tp_btf, uprobe, xdp, tc, cgroup, perf_event): bpfleetd's probe.load +
probe.attach in two requests and in one (attach_rpc), against the same in
plain libbpf (attach_libbpf, pinning what bpfleetd pins), warmed up in its
process and cold; BENCH_ATTACH_REPS interleaved rounds. The network targets
get a veth pair (the peer in a netns of its own), the cgroup target a
cgroup, the uprobe a small binary with one function: all made here and
removed at the end."""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass

from .common import Bench, BenchError, Node, Profile, Results, note, run, top_symbols, upload

ORDERS = [("bpfleetd", "bpfleetd-one", "libbpf", "libbpf-cold"), ("bpfleetd-one", "libbpf", "libbpf-cold", "bpfleetd"),
          ("libbpf", "libbpf-cold", "bpfleetd", "bpfleetd-one"), ("libbpf-cold", "bpfleetd", "bpfleetd-one", "libbpf")]
TARGETS = ["tracepoint", "raw_tracepoint", "tp_btf", "uprobe", "xdp", "tc", "cgroup", "perf_event"]
TARGET_OVERHEAD_MS = 5.0
UPROBE_TARGET = """#include <stdio.h>
__attribute__((noinline)) int bpfleet_bench_target(int x) { return x * 3 + 1; }
int main(int argc, char **argv) { printf("%d\\n", bpfleet_bench_target(argc)); return 0; }
"""


def compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


@dataclass
class Target:
    """One target type: its object and program, bpfleetd's requests, attach_libbpf's arguments."""
    name: str
    object: str
    program: str
    target: dict
    libbpf_args: list[str]
    object_id: str = ""

    @property
    def probe(self) -> str:
        return f"attach-{self.name}"

    def load(self) -> str:
        return compact({"name": self.probe, "objectId": self.object_id, "programs": [self.program]})

    def attach(self) -> str:
        return compact({"probe": self.probe, "program": self.program, "target": self.target})

    def load_with_attach(self) -> str:
        return compact({"name": self.probe, "objectId": self.object_id, "programs": [self.program],
                        "attach": [{"program": self.program, "target": self.target}]})

    def unload(self) -> str:
        return compact({"probe": self.probe})


def _hook_points(bench: Bench) -> tuple[str, str, str]:
    """The veth pair (host end in bpfleetd's netns), the cgroup, the uprobe's binary."""
    session = bench.session
    netns, interface = f"bpfleet-bench-{session.pid}", f"bfb{session.pid}"
    run(["ip", "netns", "add", netns])
    session.on_exit("netns", lambda: subprocess.run(["ip", "netns", "del", netns], stderr=subprocess.DEVNULL))
    run(["ip", "link", "add", interface, "type", "veth", "peer", "name", f"{interface}p", "netns", netns])
    run(["ip", "link", "set", interface, "up"])
    run(["ip", "-n", netns, "link", "set", f"{interface}p", "up"])
    with open("/proc/mounts") as f:
        roots = [line.split()[1] for line in f if len(line.split()) > 2 and line.split()[2] == "cgroup2"]
    if not roots:
        raise BenchError("no cgroup2 filesystem is mounted")
    cgroup = os.path.join(roots[0], f"bpfleet-bench-{session.pid}")
    os.mkdir(cgroup)
    session.on_exit("cgroup", lambda: os.rmdir(cgroup) if os.path.isdir(cgroup) else None)
    with open(session.path("uprobe_target.c"), "w") as f:
        f.write(UPROBE_TARGET)
    run(["gcc", "-O1", "-o", bench.tool("uprobe_target"), session.path("uprobe_target.c")])
    return interface, cgroup, bench.tool("uprobe_target")


def _targets(interface: str, cgroup: str, binary: str, frequency: int) -> list[Target]:
    return [
        Target("tracepoint", "exec_count", "count_exec", {"type": "tracepoint", "category": "sched", "name": "sched_process_exec"},
               ["tracepoint", "sched", "sched_process_exec"]),
        Target("raw_tracepoint", "syscall_count", "count_syscall", {"type": "raw_tracepoint", "name": "sys_enter"},
               ["raw_tracepoint", "sys_enter"]),
        Target("tp_btf", "tp_btf_count", "count_exec_btf", {"type": "tp_btf"}, ["tp_btf"]),
        Target("uprobe", "uprobe_count", "count_call", {"type": "uprobe", "binary": binary, "symbol": "bpfleet_bench_target"},
               ["uprobe", binary, "bpfleet_bench_target"]),
        Target("xdp", "xdp_count", "count_xdp", {"type": "xdp", "interface": interface}, ["xdp", interface]),
        Target("tc", "tc_count", "count_tc_ingress", {"type": "tc", "interface": interface, "direction": "ingress"},
               ["tc", interface, "ingress"]),
        Target("cgroup", "cgroup_count", "count_egress", {"type": "cgroup", "path": cgroup, "attachType": "egress"},
               ["cgroup", cgroup, "egress"]),
        Target("perf_event", "perf_count", "count_sample", {"type": "perf_event", "event": "cpu-clock", "frequency": frequency},
               ["perf_event", str(frequency)]),
    ]


def measure(bench: Bench, results: Results) -> None:
    session = bench.session
    interface, cgroup, binary = _hook_points(bench)
    sock, pins = session.path("bpfleetd-attach.sock"), session.pin_root("attach")
    c_pins = session.pin_root("attach-c")
    node = Node(session, bench.bpfleetd, sock,
                ["--listen", f"unix:{sock}", "--state-dir", session.path("state-attach"), "--pin-root", pins],
                session.path("ready-attach"), session.path("bpfleetd-attach.log"))
    node.wait_ready()
    os.makedirs(c_pins, exist_ok=True)
    targets = _targets(interface, cgroup, binary, bench.knobs.attach_perf_frequency)
    for target in targets:  # every object uploaded first (untimed)
        target.object_id = upload(sock, f"programs/build/{target.object}.bpf.o", target.object)
    _rounds(bench, node, targets, c_pins, results)
    if bench.profiling:
        _profile(bench, node, targets)
    # Nothing of either side may be left in the kernel.
    if (os.path.isdir(pins) and os.listdir(pins)) or os.listdir(c_pins):
        subprocess.run(["ls", "-R", pins, c_pins], stdout=sys.stderr)
        raise BenchError("pins left after the attach runs")
    node.stop()


def _rounds(bench: Bench, node: Node, targets: list[Target], c_pins: str, results: Results) -> None:
    """A round visits every target, so a burst of noise from the rest of the
    machine (seconds long on this VM) spreads over the targets instead of
    landing on one row. Within a target, one run of each side, the order
    rotated every round: bpfleetd in two requests (probe.load, then
    probe.attach), bpfleetd in one (probe.load with `attach`), libbpf
    warmed up in its process (as a daemon is), libbpf cold."""
    reps = bench.knobs.attach_reps
    attach_rpc, attach_libbpf = bench.tool("attach_rpc"), bench.tool("attach_libbpf")
    for rep in range(1, reps + 1):
        for i, target in enumerate(targets):
            obj = f"programs/build/{target.object}.bpf.o"
            pin_dir = os.path.join(c_pins, target.probe)
            for side in ORDERS[(rep + i) % 4]:
                if side == "bpfleetd":
                    argv = [attach_rpc, node.sock, target.load(), target.attach(), target.unload()]
                elif side == "bpfleetd-one":
                    argv = [attach_rpc, "--one", node.sock, target.load_with_attach(), target.unload()]
                elif side == "libbpf":
                    argv = [attach_libbpf, "--warm", obj, target.program, pin_dir, *target.libbpf_args]
                else:
                    argv = [attach_libbpf, obj, target.program, pin_dir, *target.libbpf_args]
                results.record(f"attach {target.name} {side} {run(argv)}")
        if rep % 10 == 0:
            note(f"attach: {rep} of {reps} rounds done")


def _profile(bench: Bench, node: Node, targets: list[Target]) -> None:
    """perf of the server over 5 more bpfleetd runs of each target, untimed."""
    session, knobs = bench.session, bench.knobs
    os.makedirs(knobs.perf, exist_ok=True)
    with Profile(session, session.path("server-attach.data"), node.pid):
        for target in targets:
            for _ in range(5):
                run([bench.tool("attach_rpc"), node.sock, target.load(), target.attach(), target.unload()])
    top_symbols(session.path("server-attach.data"), os.path.join(knobs.perf, "server-attach.txt"))
    note(f"perf profile (top symbols) of the attach server in {knobs.perf}")


# --- the table --------------------------------------------------------------------------------------

def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def table(attach: dict[tuple[str, str], list[dict]], reps: str) -> str:
    lines = [f"\n10. load + attach, {reps} interleaved rounds per target (ms; bpfleetd: attach_rpc over the Unix socket, "
             "probe.load sent to probe.attach reply; one request: probe.load with attach; libbpf: attach_libbpf --warm, open_mem to the last pin; "
             "libbpf cold: without the warm-up; node.info: a no-op round trip on the same connection just before)"]
    header = ("target", "bpfleetd p50", "p90", "libbpf p50", "p90", "overhead p50", "bpfleetd load/attach p50",
              "libbpf load/attach p50", "one request p50", "p90", "overhead p50", "met (< 5 ms)", "libbpf cold p50",
              "node.info p50")
    rows: list[tuple] = [header]
    median = statistics.median
    for target in TARGETS:
        ours, theirs = attach.get((target, "bpfleetd")), attach.get((target, "libbpf"))
        if not ours or not theirs:
            rows.append((target, "missing") + ("",) * (len(header) - 2))
            continue
        o = [r["total_ms"] for r in ours]
        t = [r["total_ms"] for r in theirs]
        overhead = median(o) - median(t)
        one = [r["total_ms"] for r in attach.get((target, "bpfleetd-one"), [])]
        one_overhead = median(one) - median(t) if one else float("nan")
        rows.append((target, f"{median(o):.1f}", f"{pct(o, 90):.1f}", f"{median(t):.1f}", f"{pct(t, 90):.1f}", f"{overhead:+.1f}",
                     f"{median(r['load_ms'] for r in ours):.1f} / {median(r['attach_ms'] for r in ours):.1f}",
                     f"{median(r['load_ms'] for r in theirs):.1f} / {median(r['attach_ms'] for r in theirs):.1f}",
                     f"{median(one):.1f}" if one else "missing", f"{pct(one, 90):.1f}" if one else "",
                     f"{one_overhead:+.1f}",
                     ("two requests: yes" if overhead < TARGET_OVERHEAD_MS else "two requests: NO") + "; "
                     + ("one: yes" if one_overhead < TARGET_OVERHEAD_MS else "one: NO"),
                     f"{median(r['total_ms'] for r in attach.get((target, 'libbpf-cold'), [{'total_ms': float('nan')}])):.1f}",
                     f"{median(r.get('noop_ms', float('nan')) for r in ours):.2f}"))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(header))]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(lines) + "\n"
