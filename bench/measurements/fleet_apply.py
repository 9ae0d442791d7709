#!/usr/bin/env python3
"""12. `bpfleet apply` of a small tracepoint probe to BENCH_FLEET_NODES (200)
local bpfleetd processes (each its own socket, state directory and pin
root), with an inventory naming them and a manifest for exec_count_raw
(one raw tracepoint link on sched_process_exec; a tracepoint takes at most
64 BPF programs in one kernel, BPF_TRACE_MAX_PROGS, and these 200 nodes
share one kernel). BENCH_FLEET_REPS rounds that each time, in an order
rotated by round:

  apply   `bpfleet --inventory INV apply -f M -l role -o ndjson`: the
          rollout (canary 1, then batches of 25%), concurrency 64 (default)
  noop    the same apply again: every node already in sync
  serial  the same rollout with --concurrency 1: the engine, one node at a time
  loop    a shell-style loop: `bpfleet -n NODE apply -f M` once per node,
          one after the other (what an operator's for loop does)

Each is timed from the exec of the first bpfleet to the exit of the last
(wall ms), and its peak resident memory is read from wait4() (the largest
of a loop's processes). After each rollout every node is checked (all
NODES `created`, or `unchanged` for noop, in the ndjson), and `bpfleet
delete -f M` (untimed) clears the fleet before the next. Raw lines go to
results-fleet.txt: `fleet SIDE wall_ms=.. maxrss_kb=..`; the table to
fleet-table.txt."""
from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from typing import TextIO

from .common import Bench, BenchError, Part, loadavg, machine_line, remove_glob


def run(argv: list[str]) -> tuple[float, int, str]:
    """Runs argv to completion; returns (wall_ms, maxrss_kb, stdout)."""
    start = time.monotonic()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # communicate() reaps the child; read the pipes ourselves and wait4 it.
    out = process.stdout.read()
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = (time.monotonic() - start) * 1000
    if process.returncode != 0:
        sys.stderr.write(err.decode(errors="replace"))
        failed = [l for l in out.decode(errors="replace").splitlines() if '"ok":false' in l]
        sys.stderr.write("".join(l + "\n" for l in failed[:10]))
        raise BenchError(f"fleet: {' '.join(argv[:6])} ... exited {process.returncode}")
    return wall, usage.ru_maxrss, out.decode()


def measure(bpfleetd: str, bpfleet: str, obj: str, nodes: int, rounds: int, work: str, pin_prefix: str, results: str,
            table: TextIO) -> None:
    os.makedirs(work, exist_ok=True)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    servers = []
    try:
        for i in range(nodes):
            d = f"{work}/node{i:03d}"
            os.makedirs(d, exist_ok=True)
            log = open(f"{d}/bpfleetd.log", "wb")
            servers.append((subprocess.Popen(
                [bpfleetd, "--listen", f"unix:{d}/s.sock", "--state-dir", f"{d}/state", "--pin-root", f"{pin_prefix}{i:03d}"],
                stdout=subprocess.PIPE, stderr=log), d))
        for process, d in servers:
            line = process.stdout.readline().decode()
            if "bpfleetd ready" not in line:
                raise BenchError(f"fleet: bpfleetd in {d} did not start: {open(d + '/bpfleetd.log').read()[-500:]}")
        inventory = f"{work}/inventory.yaml"
        with open(inventory, "w") as f:
            f.write("nodes:\n")
            for i, (_, d) in enumerate(servers):
                f.write(f"  - {{name: n{i:03d}, address: 'unix:{d}/s.sock', labels: {{role: bench}}}}\n")
        manifest = f"{work}/probe.yaml"
        with open(manifest, "w") as f:
            f.write(f"""probe: fleet-bench
object: {obj}
attach:
  - program: count_exec
    target: {{type: raw_tracepoint, name: sched_process_exec}}
rollout: {{canary: 1, batch: 25%, maxFailures: 0, onFailure: stop}}
""")
        env_base = [bpfleet, "--inventory", inventory]

        def rollout(extra, expect):
            wall, rss, out = run(env_base + ["apply", "-f", manifest, "-l", "role", "-o", "ndjson"] + extra)
            actions = [l for l in out.splitlines() if '"event":"node"' in l]
            done = sum(1 for l in actions if f'"action":"{expect}"' in l)
            if done != nodes:
                raise BenchError(f"fleet: {done} of {nodes} nodes {expect}: {out[-2000:]}")
            return wall, rss

        def loop():
            total_rss, start = 0, time.monotonic()
            for i, (_, d) in enumerate(servers):
                _, rss, _ = run([bpfleet, "-n", f"unix:{d}/s.sock", "apply", "-f", manifest, "-o", "ndjson"])
                total_rss = max(total_rss, rss)
            return (time.monotonic() - start) * 1000, total_rss

        def clear():
            run(env_base + ["delete", "-f", manifest, "-l", "role"])

        rows = {"apply": [], "noop": [], "serial": [], "loop": []}
        orders = [["apply", "serial", "loop"], ["serial", "loop", "apply"], ["loop", "apply", "serial"]]
        with open(results, "a") as out:
            for r in range(rounds):
                for side in orders[r % 3]:
                    if side == "apply":
                        rows["apply"].append(rollout([], "created"))
                        rows["noop"].append(rollout([], "unchanged"))
                        lines = [("apply", rows["apply"][-1]), ("noop", rows["noop"][-1])]
                    elif side == "serial":
                        rows["serial"].append(rollout(["--concurrency", "1"], "created"))
                        lines = [("serial", rows["serial"][-1])]
                    else:
                        rows["loop"].append(loop())
                        lines = [("loop", rows["loop"][-1])]
                    for name, (wall, rss) in lines:
                        out.write(f"fleet {name} wall_ms={wall:.1f} maxrss_kb={rss}\n")
                    out.flush()
                    clear()
                sys.stderr.write(f"bench: fleet: round {r + 1} of {rounds} done\n")

        print(f"\n12. rollout of a small tracepoint probe (exec_count_raw, one raw tracepoint link) to {nodes} local nodes, {rounds} rounds "
              f"(wall ms from exec to exit; peak RSS of the client)", file=table)
        labels = {"apply": "bpfleet apply (canary 1, batches of 25%, concurrency 64)",
                  "noop": "bpfleet apply again (every node in sync)",
                  "serial": "bpfleet apply --concurrency 1",
                  "loop": f"sequential loop: bpfleet -n NODE apply, {nodes} times"}
        loop_median = statistics.median(w for w, _ in rows["loop"])
        for key, label in labels.items():
            walls = [w for w, _ in rows[key]]
            rss = max(r for _, r in rows[key]) / 1024
            median = statistics.median(walls)
            target = ""
            if key == "apply":
                target = f"  target < 10 s: {'yes' if median < 10000 else 'NO'}; peak RSS target < 100 MB: {'yes' if rss < 100 else 'NO'}"
            print(f"  {label}: median {median:,.0f} ms (runs {', '.join(f'{w:,.0f}' for w in walls)}), "
                  f"{loop_median / median:.1f}x faster than the loop, peak RSS {rss:.1f} MB{target}", file=table)
    finally:
        for process, _ in servers:
            process.terminate()
        for process, _ in servers:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for i in range(len(servers)):
            subprocess.run(["rm", "-rf", f"{pin_prefix}{i:03d}"])
        # The driver goes on to other parts: their processes get the limit it had.
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def run_part(bench: Bench) -> None:
    session = bench.session
    bpfleet = bench.builds.product("bpfleet")
    if not bpfleet:
        raise BenchError("bpfleet does not build")
    results = session.results("results-fleet.txt")
    results.record(machine_line())
    results.record(f"loadavg_start {loadavg()}")
    session.on_exit("fleet pins", lambda: remove_glob(f"/sys/fs/bpf/bpfleet-bench-fleet-{session.pid}-*"))
    with open(session.path("fleet-table.txt"), "w") as table:
        measure(bench.bpfleetd, bpfleet, os.path.join(os.getcwd(), "programs/build/exec_count_raw.bpf.o"),
                bench.knobs.fleet_nodes, bench.knobs.fleet_reps, session.path("fleet"),
                f"/sys/fs/bpf/bpfleet-bench-fleet-{session.pid}-", results.path, table)
    results.record(f"loadavg_end {loadavg()}")


def table(bench: Bench) -> str:
    with open(bench.session.path("results-fleet.txt")) as f:
        text = "".join(line for line in f if not line.startswith("fleet "))
    with open(bench.session.path("fleet-table.txt")) as f:
        return text + f.read()


PART = Part(name="fleet_apply", old_name="fleet", measurements=("fleet_apply",), tools=(), programs=True,
            run=run_part, table=table, results=("results-fleet.txt",))
