#!/usr/bin/env python3
"""report_tls.py RESULTS: turns the raw lines of the TLS part of
scripts/bench.sh (tls_load, tls_connect, tls_hold) into the table that
BENCHMARKS.md records under "Issue 3" (measure | result | target | met?)."""
import statistics
import sys

values = {}  # name -> list of raw strings, or of dicts for tool lines
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    name, _, rest = line.partition(" ")
    if name in ("load", "setup", "hold"):
        values.setdefault(name, []).append(dict(item.split("=", 1) for item in rest.split()))
    else:
        values.setdefault(name, []).append(rest)


def one(name, default=None):
    return values.get(name, [default])[-1]


def mb(kb):
    return int(kb) * 1024 / 1e6


def yes(flag):
    return "yes" if flag else "**NO**"


rows = []


def row(measure, result, target="", met=""):
    rows.append((measure, result, target, met))


# --- 5. node.info over TLS against the Unix socket ------------------------------------
loads = values.get("load", [])
for clients in sorted({int(r["clients"]) for r in loads}):
    rates = {}
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
        row(f"5. node.info, {clients} client{'s' if clients > 1 else ''}, {int(runs[0]['calls']):,} calls, {label}",
            f"median {rates[transport]:,.0f} calls/s (runs: {', '.join(f'{x:,.0f}' for x in xs)}); p50 {p50:.0f} µs, p99 {p99:.0f} µs{cpu}")
    if len(rates) == 2:
        ratio = rates["tls"] / rates["unix"]
        row(f"5. node.info, {clients} client{'s' if clients > 1 else ''}: TLS rate / Unix-socket rate (medians)",
            f"{ratio:.2f}", ">= 0.5", yes(ratio >= 0.5))

# --- 6. connection setup -------------------------------------------------------------
for s in values.get("setup", []):
    n = int(s["connections"])
    if s["transport"] == "unix":
        row(f"6. connection setup, Unix socket: connect + first node.info reply ({n:,} sequential)",
            f"p50 {float(s['total_p50_ms']):.2f} ms, p99 {float(s['total_p99_ms']):.2f} ms (max {float(s['total_max_ms']):.2f} ms)")
    else:
        row(f"6. connection setup, TLS: TCP connect + TLS 1.3 handshake + first node.info reply ({n:,} sequential, full handshakes)",
            f"p50 {float(s['total_p50_ms']):.2f} ms, p99 {float(s['total_p99_ms']):.2f} ms (max {float(s['total_max_ms']):.2f} ms)")
        row("   of which: TCP connect / client's handshake (SSL_connect) / first reply",
            f"p50 {float(s['connect_p50_ms']):.2f} / {float(s['handshake_p50_ms']):.2f} / {float(s['first_reply_p50_ms']):.2f} ms; "
            f"p99 handshake {float(s['handshake_p99_ms']):.2f}, first reply {float(s['first_reply_p99_ms']):.2f} ms; "
            f"session tickets sent: {s['tickets']}")

# --- 7. memory -----------------------------------------------------------------------
idle = one("tls_rss_idle_kb")
if idle:
    row("7. bpfleetd VmRSS idle after start (Unix + TLS listeners, no connection yet)", f"{mb(idle):.1f} MB ({int(idle) / 1024:.1f} MiB)")
per_connection = {}
for h in values.get("hold", []):
    n = int(h["held"])
    t = h["transport"]
    none, held, hwm = int(h["rss_none_kb"]), int(h["rss_held_kb"]), int(h["hwm_held_kb"])
    per_connection[t] = (held - none) * 1024 / n / 1e3
    if t == "tls":
        row(f"7. bpfleetd with {n:,} TLS connections open and idle (each handshaken, one call made): VmRSS / VmHWM",
            f"{mb(held):.1f} MB / {mb(hwm):.1f} MB ({int(hwm) / 1024:.1f} MiB); none open: {mb(none):.1f} MB; "
            f"{per_connection[t]:.0f} kB per connection; all {int(h['alive']):,} still answer",
            "< 100 MB", yes(mb(hwm) < 100))
        row(f"   server CPU with {n:,} idle TLS connections / with none; time to open them",
            f"{float(h['cpu_held_ms_per_s']):.0f} ms / {float(h['cpu_none_ms_per_s']):.0f} ms of CPU per second; {float(h['open_s']):.2f} s")
        row(f"   VmRSS after the {n:,} TLS connections closed", f"{mb(h['rss_closed_kb']):.1f} MB")
    else:
        row(f"7'. the same with {n:,} Unix-socket connections, on a fresh server: VmRSS none / held / after close",
            f"{mb(none):.1f} / {mb(held):.1f} / {mb(h['rss_closed_kb']):.1f} MB; {per_connection[t]:.0f} kB per connection; "
            f"{float(h['cpu_held_ms_per_s']):.0f} ms of CPU per second idle")
if len(per_connection) == 2:
    row("7. TLS's own share per connection (TLS kB per connection - Unix kB per connection)",
        f"{per_connection['tls'] - per_connection['unix']:.0f} kB")
if one("tls_hwm_end_kb"):
    row("7. bpfleetd VmHWM at the end of the TLS part (after the loads)", f"{mb(one('tls_hwm_end_kb')):.1f} MB")

machine = one("machine", "")
print()
print(f"bench (TLS): {machine.replace('_', ' ')}; {one('openssl', '').replace('_', ' ')} (client side)")
print(f"bench (TLS): bpfleetd build: {one('config_bpfleetd')}")
print()
header = ("measure", "result", "target", "met?")
widths = [max(len(r[i]) for r in rows + [header]) for i in range(4)]
print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
print("| " + " | ".join("-" * w for w in widths) + " |")
for r in rows:
    print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
