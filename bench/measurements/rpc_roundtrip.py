"""4. node.info round trips on the Unix socket (rpc_load): one client's
latency over BENCH_RPC_CALLS calls, then BENCH_RPC_CLIENTS clients'
throughput sharing BENCH_RPC_LOAD_CALLS calls, BENCH_RPC_LOAD_REPS runs."""
from __future__ import annotations

import statistics
from typing import TYPE_CHECKING

from .common import Bench, Results, note, run, yes

if TYPE_CHECKING:
    from .unix_socket import Values


def measure(bench: Bench, sock: str, results: Results) -> None:
    knobs = bench.knobs
    results.record_lines(run([bench.tool("rpc_load"), sock, "1", str(knobs.rpc_calls)]), "rpc1 ")
    for round_ in range(1, knobs.rpc_load_reps + 1):
        results.record_lines(run([bench.tool("rpc_load"), sock, str(knobs.rpc_clients), str(knobs.rpc_load_calls)]), "rpcN ")
        note(f"node.info load round {round_} of {knobs.rpc_load_reps} done")


def rows(values: "Values") -> list[tuple[str, str, str, str]]:
    found = []
    if "rpc1" in values:
        r = values.get("rpc1")[-1]
        found.append((f"4. node.info, 1 client, {int(r['calls']):,} calls: latency",
                      f"p50 {float(r['p50_us']):.0f} µs, p99 {float(r['p99_us']):.0f} µs ({float(r['calls_per_s']):,.0f} calls/s)",
                      "", ""))
    if "rpcN" in values:
        runs = values.get("rpcN")
        rates = sorted(float(r["calls_per_s"]) for r in runs)
        median = statistics.median(rates)
        r = runs[0]
        p50 = statistics.median(float(x["p50_us"]) for x in runs)
        p99 = statistics.median(float(x["p99_us"]) for x in runs)
        found.append((f"4. node.info, {r['clients']} clients, {int(r['calls']):,} calls: throughput",
                      f"median {median:,.0f} calls/s (runs: {', '.join(f'{x:,.0f}' for x in rates)}); p50 {p50:.0f} µs, p99 {p99:.0f} µs",
                      ">= 20,000 calls/s", yes(median >= 20000)))
    return found
