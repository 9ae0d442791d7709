"""The BENCH_* knobs (environment variables) and their defaults."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass


def _knob(name: str, default: str) -> str:
    return os.environ.get(name) or default  # as ${NAME:-default}: unset or empty


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[,\s]+", text) if w]


@dataclass
class Knobs:
    """The BENCH_* environment variables, with their defaults."""
    only: list[str]
    entries: int
    reps: int
    rpc_calls: int
    rpc_clients: int
    rpc_load_calls: int
    rpc_load_reps: int
    tls_connections: int
    tls_hold: int
    config: str
    events_count: int
    events_seconds: int
    events_rates: list[int]
    events_reps: int
    watch_clients: int
    watch_entries: int
    watch_seconds: int
    attach_reps: int
    attach_perf_frequency: int
    survival_probes: int
    survival_reps: int
    fleet_nodes: int
    fleet_reps: int
    upload_rounds: int
    abuse_before: str
    iter_threads: int
    iter_reps: int
    stack_entries: int
    stack_reps: int
    scratch: str
    results: str
    perf: str

    @classmethod
    def from_environment(cls, default_parts: str) -> "Knobs":
        n = lambda name, default: int(_knob(name, str(default)))  # noqa: E731
        return cls(
            only=_words(_knob("BENCH_ONLY", default_parts)), entries=n("BENCH_ENTRIES", 1000000),
            reps=n("BENCH_REPS", 7), rpc_calls=n("BENCH_RPC_CALLS", 20000), rpc_clients=n("BENCH_RPC_CLIENTS", 16),
            rpc_load_calls=n("BENCH_RPC_LOAD_CALLS", 200000), rpc_load_reps=n("BENCH_RPC_LOAD_REPS", 3),
            tls_connections=n("BENCH_TLS_CONNECTIONS", 500), tls_hold=n("BENCH_TLS_HOLD", 1000),
            config=_knob("BENCH_CONFIG", "release"), events_count=n("BENCH_EVENTS_COUNT", 1000000),
            events_seconds=n("BENCH_EVENTS_SECONDS", 5),
            events_rates=[int(r) for r in _words(_knob("BENCH_EVENTS_RATES", "100000,200000"))],
            events_reps=n("BENCH_EVENTS_REPS", 3), watch_clients=n("BENCH_WATCH_CLIENTS", 50),
            watch_entries=n("BENCH_WATCH_ENTRIES", 10000), watch_seconds=n("BENCH_WATCH_SECONDS", 10),
            attach_reps=n("BENCH_ATTACH_REPS", 40), attach_perf_frequency=n("BENCH_ATTACH_PERF_FREQUENCY", 99),
            survival_probes=n("BENCH_SURVIVAL_PROBES", 100), survival_reps=n("BENCH_SURVIVAL_REPS", 5),
            fleet_nodes=n("BENCH_FLEET_NODES", 200), fleet_reps=n("BENCH_FLEET_REPS", 3),
            upload_rounds=n("BENCH_UPLOAD_ROUNDS", 40), abuse_before=_knob("BENCH_ABUSE_BEFORE", "-"),
            iter_threads=n("BENCH_ITER_THREADS", 2000), iter_reps=n("BENCH_ITER_REPS", 40),
            stack_entries=n("BENCH_STACK_ENTRIES", 10000), stack_reps=n("BENCH_STACK_REPS", 9),
            scratch=os.environ.get("BENCH_SCRATCH", ""), results=os.environ.get("BENCH_RESULTS", ""),
            perf=os.environ.get("BENCH_PERF", ""))
