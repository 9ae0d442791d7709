#!/usr/bin/env python3
"""report_events.py RESULTS: turns the raw lines of the events part of
scripts/bench.sh (syscall_gen + events_read / bpfleet events tail runs, and
watch_clients runs) into the table that BENCHMARKS.md records under
"Issue 4" (measure | result | target | met?)."""
import statistics
import sys

runs = []    # one dict per event run
watch = {}   # label -> list of dicts (one per mode, and the server's)
values = {}  # name -> list of raw strings
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    name, _, rest = line.partition(" ")
    if name == "ev":
        runs.append(dict(item.split("=", 1) for item in rest.split()))
    elif name.startswith("watch_") and "=" in rest:
        watch.setdefault(name, []).append(dict(item.split("=", 1) for item in rest.split()))
    else:
        values.setdefault(name, []).append(rest)


def one(name, default=None):
    return values.get(name, [default])[-1]


def yes(flag):
    return "yes" if flag else "**NO**"


rows = []


def row(measure, result, target="", met=""):
    rows.append((measure, result, target, met))


CLIENTS = {
    "cli": '`bpfleet events tail ... -o ndjson --count N > file`',
    "c": "bare C reader (`events_read`: counts records, writes nothing)",
}


def derive(r):
    made, got = int(r["made"]), int(r["records"])
    kernel, lost = int(r["kernel_lost"]), int(r["lost"])
    elapsed = float(r["t_last"]) - float(r["start"])
    # The first record is made before the timed burst (the handshake).
    r["e2e"] = (got - 1) / elapsed if got > 1 and elapsed > 0 else 0.0
    r["missing"] = made - got
    r["accounted"] = made == got + lost + kernel and int(r["gaps"]) == lost and int(r["reordered"]) == 0
    r["server_us"] = float(r["server_cpu_ms"]) * 1e3 / max(got, 1)
    r["client_us"] = float(r["cpu_ms"]) * 1e3 / max(got, 1)
    return r


runs = [derive(r) for r in runs]


def losses(rs):
    made = sum(int(r["made"]) for r in rs)
    got = sum(int(r["records"]) for r in rs)
    kernel = sum(int(r["kernel_lost"]) for r in rs)
    lost = sum(int(r["lost"]) for r in rs)
    gaps = sum(int(r["gaps"]) for r in rs)
    ok = all(r["accounted"] for r in rs)
    return made, got, kernel, lost, gaps, ok


# --- 8. event throughput -------------------------------------------------------------
paces = sorted({int(r["pace"]) for r in runs}, key=lambda p: (p != 0, p))
best_cli = None
for pace in paces:
    for client in ("cli", "c"):
        rs = [r for r in runs if int(r["pace"]) == pace and r["client"] == client]
        if not rs:
            continue
        n = int(rs[0]["made"])
        made, got, kernel, lost, gaps, ok = losses(rs)
        rates = [r["e2e"] for r in rs]
        gen = statistics.median(float(r["rate"]) for r in rs)
        what = "as fast as the generator goes" if pace == 0 else f"paced at {pace:,} records/s"
        label = f"8. events, {what}, {n:,} records per run ({len(rs)} run{'s' if len(rs) > 1 else ''}), {CLIENTS[client]}"
        loss_text = (f"received {got:,} of {made:,} made; lost: kernel {kernel:,}, "
                     f"{'server + client' if client == 'cli' else 'server'} {lost:,} (seq gaps {gaps:,}); "
                     f"accounted for: {'yes' if ok else 'NO'}")
        result = (f"median {statistics.median(rates):,.0f} records/s end to end "
                  f"(runs: {', '.join(f'{x:,.0f}' for x in rates)}); generator made {gen:,.0f}/s; {loss_text}")
        target, met = "", ""
        if pace == 0 and client == "cli":
            best_cli = statistics.median(rates)
            target, met = ">= 200,000 records/s", yes(best_cli >= 200000)
        if pace == 100000:
            target, met = "zero loss", yes(made == got)
        row(label, result, target, met)
        row("   CPU per record received: bpfleetd / the subscriber (medians)",
            f"{statistics.median(r['server_us'] for r in rs):.2f} µs / {statistics.median(r['client_us'] for r in rs):.2f} µs"
            + (f"; {statistics.median(int(r['records']) / max(int(r['notifications']), 1) for r in rs):,.0f} records per notification"
               if client == "c" else
               f"; {statistics.median(int(r['bytes']) / max(int(r['records']), 1) for r in rs):.0f} bytes per NDJSON line"))
hwm = one("ev_hwm_kb")
if hwm:
    row("8. bpfleetd VmHWM after the event runs (--max-queued-events 65536)", f"{int(hwm) * 1024 / 1e6:.1f} MB")

# --- 9. map watches ------------------------------------------------------------------
entries = int(one("watch_entries", "0"))
changes = int(one("watch_changes", "0"))


def split(label):
    modes = [d for d in watch.get(label, []) if "mode" in d]
    server = next((d for d in watch.get(label, []) if "server_cpu_ms" in d), None)
    return modes, server


modes, server = split("watch_full")
if server:
    m = modes[0]
    cores = float(server["cores"])
    row(f"9. map.watch, {int(m['subscribers'])} subscribers, full mode, {entries:,}-entry map, intervalMs 100: "
        f"bpfleetd CPU over {float(server['seconds']):.0f} s",
        f"{cores:.2f} of a core ({int(server['server_cpu_ms']):,} ms of CPU)", "< 0.5 core", yes(cores < 0.5))
    row("   per subscriber: notifications/s (10 asked), intervals skipped (seq gaps, all subscribers), bytes/s",
        f"{float(m['notifications_per_sub_s']):.2f}/s; {int(m['seq_gaps']):,} skipped; "
        f"{float(m['bytes_per_sub_s']) / 1e6:.2f} MB/s ({float(m['entries_per_notification']):,.0f} entries per notification)")
    row("   bpfleetd VmRSS / VmHWM at the end of the window", f"{int(server['rss_kb']) * 1024 / 1e6:.1f} / {int(server['hwm_kb']) * 1024 / 1e6:.1f} MB")
modes, server = split("watch_delta")
if server:
    m = modes[0]
    row(f"9. map.watch, {int(m['subscribers'])} subscribers, delta mode, {changes:,} entries changed every 100 ms: bpfleetd CPU",
        f"{float(server['cores']):.2f} of a core; per subscriber {float(m['notifications_per_sub_s']):.2f} notifications/s, "
        f"{int(m['seq_gaps']):,} intervals skipped in all, {float(m['bytes_per_sub_s']) / 1e3:.1f} kB/s")
modes, server = split("watch_bytes")
if server:
    by = {m["mode"]: m for m in modes}
    if "full" in by and "delta" in by:
        full, delta = float(by["full"]["bytes_per_sub_s"]), float(by["delta"]["bytes_per_sub_s"])
        row(f"9. bytes per second to one subscriber, {entries:,} entries, {changes:,} ({changes / max(entries, 1):.0%}) changed every 100 ms, "
            "intervalMs 100: full / delta",
            f"{full / 1e6:.2f} MB/s / {delta / 1e3:.1f} kB/s: delta is {delta / full:.2%} of full ({full / delta:.0f}x fewer bytes)")
        row("   entries per notification, full / delta; notifications/s, full / delta; bpfleetd CPU for the two",
            f"{float(by['full']['entries_per_notification']):,.0f} / {float(by['delta']['entries_per_notification']):,.1f}; "
            f"{float(by['full']['notifications_per_sub_s']):.2f} / {float(by['delta']['notifications_per_sub_s']):.2f}; "
            f"{float(server['cores']):.2f} of a core")

configs = [f"{name[len('config_'):]} {one(name)}" for name in ("config_bpfleetd", "config_bpfleet") if one(name)]
machine = one("machine", "")
print(f"builds: {', '.join(configs) or 'unknown'}; {machine}")
header = ("measure", "result", "target", "met?")
widths = [max(len(r[i]) for r in rows + [header]) for i in range(4)]
print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
print("| " + " | ".join("-" * w for w in widths) + " |")
for r in rows:
    print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
