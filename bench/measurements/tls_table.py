"""The TLS part's table (measure | result | target | met?) from its raw
result lines (results-tls.txt: tls_load, tls_connect and tls_hold lines)."""
from __future__ import annotations

import statistics
from typing import Optional

from .common import markdown_table, yes

Row = tuple[str, str, str, str]


def _read(path: str) -> dict[str, list]:
    values: dict[str, list] = {}  # name -> list of raw strings, or of dicts for tool lines
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            name, _, rest = line.partition(" ")
            if name in ("load", "setup", "hold"):
                values.setdefault(name, []).append(dict(item.split("=", 1) for item in rest.split()))
            else:
                values.setdefault(name, []).append(rest)
    return values


def mb(kb) -> float:
    return int(kb) * 1024 / 1e6


def _loads(loads: list[dict]) -> list[Row]:
    """5. node.info over TLS against the Unix socket."""
    rows: list[Row] = []
    for clients in sorted({int(r["clients"]) for r in loads}):
        rates = {}
        plural = "s" if clients > 1 else ""
        for transport in ("unix", "tls"):
            runs = [r for r in loads if r["transport"] == transport and int(r["clients"]) == clients]
            if not runs:
                continue
            xs = [float(r["calls_per_s"]) for r in runs]
            rates[transport] = statistics.median(xs)
            p50 = statistics.median(float(r["p50_us"]) for r in runs)
            p99 = statistics.median(float(r["p99_us"]) for r in runs)
            label = "TLS 1.3, mutual" if transport == "tls" else "Unix socket"
            cpu = ""
            if all("server_cpu_ms" in r for r in runs):
                per_call = statistics.median(float(r["server_cpu_ms"]) * 1e3 / int(r["calls"]) for r in runs)
                cpu = f"; server CPU {per_call:.0f} µs per call"
            rows.append((f"5. node.info, {clients} client{plural}, {int(runs[0]['calls']):,} calls, {label}",
                         f"median {rates[transport]:,.0f} calls/s (runs: {', '.join(f'{x:,.0f}' for x in xs)}); "
                         f"p50 {p50:.0f} µs, p99 {p99:.0f} µs{cpu}", "", ""))
        if len(rates) == 2:
            ratio = rates["tls"] / rates["unix"]
            rows.append((f"5. node.info, {clients} client{plural}: TLS rate / Unix-socket rate (medians)",
                         f"{ratio:.2f}", ">= 0.5", yes(ratio >= 0.5)))
    return rows


def _setups(setups: list[dict]) -> list[Row]:
    """6. connection setup."""
    rows: list[Row] = []
    for s in setups:
        n = int(s["connections"])
        total = (f"p50 {float(s['total_p50_ms']):.2f} ms, p99 {float(s['total_p99_ms']):.2f} ms "
                 f"(max {float(s['total_max_ms']):.2f} ms)")
        if s["transport"] == "unix":
            rows.append((f"6. connection setup, Unix socket: connect + first node.info reply ({n:,} sequential)", total, "", ""))
        else:
            rows.append((f"6. connection setup, TLS: TCP connect + TLS 1.3 handshake + first node.info reply "
                         f"({n:,} sequential, full handshakes)", total, "", ""))
            rows.append(("   of which: TCP connect / client's handshake (SSL_connect) / first reply",
                         f"p50 {float(s['connect_p50_ms']):.2f} / {float(s['handshake_p50_ms']):.2f} / "
                         f"{float(s['first_reply_p50_ms']):.2f} ms; "
                         f"p99 handshake {float(s['handshake_p99_ms']):.2f}, first reply {float(s['first_reply_p99_ms']):.2f} ms; "
                         f"session tickets sent: {s['tickets']}", "", ""))
    return rows


def _holds(holds: list[dict], idle: Optional[str], hwm_end: Optional[str]) -> list[Row]:
    """7. memory."""
    rows: list[Row] = []
    if idle:
        rows.append(("7. bpfleetd VmRSS idle after start (Unix + TLS listeners, no connection yet)",
                     f"{mb(idle):.1f} MB ({int(idle) / 1024:.1f} MiB)", "", ""))
    per_connection = {}
    for h in holds:
        n, t = int(h["held"]), h["transport"]
        none, held, hwm = int(h["rss_none_kb"]), int(h["rss_held_kb"]), int(h["hwm_held_kb"])
        per_connection[t] = (held - none) * 1024 / n / 1e3
        if t == "tls":
            rows.append((f"7. bpfleetd with {n:,} TLS connections open and idle (each handshaken, one call made): VmRSS / VmHWM",
                         f"{mb(held):.1f} MB / {mb(hwm):.1f} MB ({int(hwm) / 1024:.1f} MiB); none open: {mb(none):.1f} MB; "
                         f"{per_connection[t]:.0f} kB per connection; all {int(h['alive']):,} still answer",
                         "< 100 MB", yes(mb(hwm) < 100)))
            rows.append((f"   server CPU with {n:,} idle TLS connections / with none; time to open them",
                         f"{float(h['cpu_held_ms_per_s']):.0f} ms / {float(h['cpu_none_ms_per_s']):.0f} ms of CPU per second; "
                         f"{float(h['open_s']):.2f} s", "", ""))
            rows.append((f"   VmRSS after the {n:,} TLS connections closed", f"{mb(h['rss_closed_kb']):.1f} MB", "", ""))
        else:
            rows.append((f"7'. the same with {n:,} Unix-socket connections, on a fresh server: VmRSS none / held / after close",
                         f"{mb(none):.1f} / {mb(held):.1f} / {mb(h['rss_closed_kb']):.1f} MB; {per_connection[t]:.0f} kB per connection; "
                         f"{float(h['cpu_held_ms_per_s']):.0f} ms of CPU per second idle", "", ""))
    if len(per_connection) == 2:
        rows.append(("7. TLS's own share per connection (TLS kB per connection - Unix kB per connection)",
                     f"{per_connection['tls'] - per_connection['unix']:.0f} kB", "", ""))
    if hwm_end:
        rows.append(("7. bpfleetd VmHWM at the end of the TLS part (after the loads)", f"{mb(hwm_end):.1f} MB", "", ""))
    return rows


def table(path: str) -> str:
    values = _read(path)

    def one(name: str, default: Optional[str] = None) -> Optional[str]:
        return values.get(name, [default])[-1]

    rows = (_loads(values.get("load", [])) + _setups(values.get("setup", []))
            + _holds(values.get("hold", []), one("tls_rss_idle_kb"), one("tls_hwm_end_kb")))
    machine = one("machine", "") or ""
    return (f"\nbench (TLS): {machine.replace('_', ' ')}; {(one('openssl', '') or '').replace('_', ' ')} (client side)\n"
            f"bench (TLS): bpfleetd build: {one('config_bpfleetd')}\n\n" + markdown_table(rows))
