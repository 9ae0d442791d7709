"""17. The Python client (clients/python) against the bpfleet command line,
side by side in one run, on one bpfleetd with the 1,000,000-entry map of
the snapshot measurement (programs/big_hash.bpf.o, BENCH_ENTRIES entries
put in by fill_map):

- the whole map: `bpfleet map dump big big -o json > file` (a process, end
  to end) against `Node.map_snapshot(probe="big", map="big")` in this
  process (connect, call, read the reply, json.loads it into dicts), one of
  each per round (BENCH_REPS rounds). Both outputs are checked: every entry,
  and keys and values adding up to what fill_map put in. The target: the
  Python call within 2x of the command line.
- node.info calls per second on one connection of the Python client,
  BENCH_RPC_CALLS calls one after another, with their p50 and p99.

The table (python-table.txt) says the build of bpfleet and bpfleetd."""
from __future__ import annotations

import os
import re
import statistics
import sys
import time
from typing import Any, Dict, List, Optional, TextIO

from .common import REPO, Bench, BenchError, Node, Part, call, loadavg, machine_line, run, upload
from .snapshot import check_dump

sys.path.insert(0, os.path.join(REPO, "clients", "python", "src"))
import bpfleet  # noqa: E402  -- the client measured, from the work tree

TABLE = "python-table.txt"


def _check_snapshot(result: Dict[str, Any], count: int, key_sum: int, value_sum: int) -> str:
    entries = result["entries"]
    problems = []
    if len(entries) != count or result.get("count") != count or result.get("truncated") is not False:
        problems.append(f"{len(entries)} entries, count {result.get('count')}, truncated {result.get('truncated')}")
    keys, values = sum(e["key"] for e in entries), sum(e["value"] for e in entries)
    if (keys, values) != (key_sum, value_sum):
        problems.append(f"key sum {keys} (expected {key_sum}), value sum {values} (expected {value_sum})")
    if problems:
        raise BenchError("python client snapshot: " + "; ".join(problems))
    return f"check: ok: {len(entries)} entries, key sum {keys}, value sum {values}"


def _ms(values: List[float]) -> str:
    runs = ", ".join(f"{v:,.0f}" for v in values)
    return f"median {statistics.median(values):8,.0f} ms  min {min(values):8,.0f} ms  (runs: {runs})"


def _quantile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(bench: Bench, cli: Optional[str], table: TextIO) -> None:
    session, knobs = bench.session, bench.knobs
    sock = session.path("python.sock")
    pins = session.pin_root("python")
    server = Node(session, bench.bpfleetd, sock, ["--listen", f"unix:{sock}", "--state-dir", session.path("python-state"),
                                                   "--pin-root", pins, "--log-level", "warning"],
                  session.path("ready-python"), session.path("bpfleetd-python.log"))
    server.wait_ready()
    session.on_exit("python: unload big", lambda: _unload(server))
    call(sock, "probe.load", {"name": "big", "objectId": upload(sock, os.path.join(REPO, "programs", "build", "big_hash.bpf.o"),
                                                                  "big_hash")})
    pin = os.path.join(pins, "big", "maps", "big")
    filled = run([bench.tool("fill_map"), pin, str(knobs.entries)])
    key_sum = int(re.sub(r".*key_sum=([0-9]+).*", r"\1", filled))
    value_sum = int(re.sub(r".*value_sum=([0-9]+).*", r"\1", filled))
    address = f"unix:{sock}"

    with bpfleet.Node(address, timeout=600) as node:  # warm the map's pages and this process
        note = _check_snapshot(dict(node.map_snapshot(probe="big", map="big")), knobs.entries, key_sum, value_sum)
    dump = session.path("python-cli.json")
    cli_ms: List[float] = []
    python_ms: List[float] = []
    for _ in range(knobs.reps):
        if cli:
            with open(dump, "w") as out:
                start = time.perf_counter()
                run([cli, "-n", address, "--timeout", "600", "map", "dump", "big", "big", "-o", "json"], stdout=out)
                cli_ms.append((time.perf_counter() - start) * 1e3)
        start = time.perf_counter()
        with bpfleet.Node(address, timeout=600) as node:
            snapshot = node.map_snapshot(probe="big", map="big")
        python_ms.append((time.perf_counter() - start) * 1e3)
        if len(snapshot["entries"]) != knobs.entries:
            raise BenchError(f"python client snapshot: {len(snapshot['entries'])} entries")
        del snapshot
    cli_note = check_dump(dump, knobs.entries, key_sum, value_sum) if cli else "bpfleet not built: not measured"
    if os.path.exists(dump):
        os.unlink(dump)

    latencies: List[float] = []
    with bpfleet.Node(address) as node:
        for _ in range(100):
            node.info()
        start = time.perf_counter()
        for _ in range(knobs.rpc_calls):
            before = time.perf_counter()
            node.info()
            latencies.append(time.perf_counter() - before)
        elapsed = time.perf_counter() - start

    _unload(server)
    session.done("python: unload big")
    server.stop()

    print(f"snapshot of {knobs.entries:,} entries, {knobs.reps} rounds "
          f"(bpfleetd and bpfleet: the {os.path.basename(os.path.dirname(bench.bpfleetd))} build)", file=table)
    if cli_ms:
        print(f"  bpfleet map dump big big -o json > file     {_ms(cli_ms)}", file=table)
    print(f"  Python Node.map_snapshot (into dicts)       {_ms(python_ms)}", file=table)
    if cli_ms:
        ratio = statistics.median(python_ms) / statistics.median(cli_ms)
        print(f"  ratio Python / bpfleet (medians): {ratio:.2f}x (min / min {min(python_ms) / min(cli_ms):.2f}x); "
              f"target: within 2x: {'yes' if ratio <= 2 else 'NO'}", file=table)
    print(f"  Python: {note}; bpfleet: {cli_note}", file=table)
    print(f"node.info on one connection of the Python client, {knobs.rpc_calls:,} calls: "
          f"{knobs.rpc_calls / elapsed:,.0f} calls/s, p50 {_quantile(latencies, 0.5) * 1e6:.0f} µs, "
          f"p99 {_quantile(latencies, 0.99) * 1e6:.0f} µs", file=table)


def _unload(server: Node) -> None:
    if server.process.poll() is None:
        try:
            call(server.sock, "probe.unload", {"probe": "big"})
        except (OSError, BenchError, ValueError):
            pass


def run_part(bench: Bench) -> None:
    cli = bench.builds.product("bpfleet")
    with open(bench.session.path(TABLE), "w") as table:
        table.write(f"{machine_line()} loadavg_start {loadavg()}\n")
        table.flush()
        measure(bench, cli, table)
        table.write(f"loadavg_end {loadavg()}\n")


def table(bench: Bench) -> str:
    with open(bench.session.path(TABLE)) as f:
        return "\n17. Python client (clients/python)\n" + f.read()


PART = Part(name="python_client", old_name="python", measurements=("python_client",), tools=("fill_map",), programs=True,
            run=run_part, table=table)
