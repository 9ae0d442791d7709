#!/usr/bin/env python3
"""report.py RESULTS: turns the raw lines scripts/bench.sh collected into the
table that BENCHMARKS.md records (measure | result | target | met?)."""
import re
import statistics
import sys

values = {}  # name -> list of raw strings
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    if line.startswith("encoder="):
        fields = dict(item.split("=", 1) for item in line.split())
        values.setdefault("encoder", []).append(fields)
        continue
    if line.startswith(("rpc1 ", "rpcN ")):
        name, rest = line.split(" ", 1)
        values.setdefault(name, []).append(dict(item.split("=", 1) for item in rest.split()))
        continue
    name, _, rest = line.partition(" ")
    values.setdefault(name, []).append(rest)


def floats(name):
    return [float(v) for v in values.get(name, [])]


def one(name, default="?"):
    return values.get(name, [default])[-1]


def ms(name):
    xs = floats(name)
    if not xs:
        return None
    return statistics.median(xs), min(xs), len(xs)


def fmt_ms(stats, name):
    if stats is None:
        return "not measured"
    median, low, n = stats
    runs = ", ".join(f"{x:,.0f}" for x in floats(name))
    return f"median {median:,.0f} ms, min {low:,.0f} ms (runs: {runs})"


def mb(kb):
    return int(kb) * 1024 / 1e6


rows = []


def row(measure, result, target="", met=""):
    rows.append((measure, result, target, met))


def yes(flag):
    return "yes" if flag else "**NO**"


entries = int(one("entries", "0"))
cli, rpc, tool, raw = ms("snap_cli_ms"), ms("snap_rpc_ms"), ms("snap_bpftool_ms"), ms("snap_raw_ms")
row(f"1a. snapshot, `bpfleet map dump big big -o json > file` ({entries:,} entries, end to end)", fmt_ms(cli, "snap_cli_ms"))
row("1a'. snapshot, bare `map.snapshot` call over the socket (C client, reply read and dropped)", fmt_ms(rpc, "snap_rpc_ms"))
row("1b. snapshot, `bpftool -j map dump pinned PIN > file`", fmt_ms(tool, "snap_bpftool_ms"))
row("1c. raw `BPF_MAP_LOOKUP_BATCH` walk of the whole map (16,384 per call)", fmt_ms(raw, "snap_raw_ms"))
if cli and tool:
    speedup = tool[0] / cli[0]
    row("1. bpfleet speed-up over bpftool (median / median; min / min)",
        f"{speedup:.1f}x ({tool[1] / cli[1]:.1f}x)", ">= 5x", yes(speedup >= 5))
if cli and raw:
    ratio = cli[0] / raw[0]
    row("1. bpfleet time / raw batch time (median / median; min / min)",
        f"{ratio:.2f}x ({cli[1] / raw[1]:.2f}x)", "<= 2x", yes(ratio <= 2))
if rpc and raw:
    row("1. bare map.snapshot call / raw batch time (medians)", f"{rpc[0] / raw[0]:.2f}x", "(no target: the server's share)")
check = "ok" if "check_cli" in values else "not run (no client)"
row("1. correctness of the bpfleet output (parses; count; key and value sums)", check, "ok",
    yes(check == "ok") if check == "ok" else "n/a")
row("   output size: bpfleet -o json / bpftool -j",
    f"{int(one('snap_bytes_cli', '0')) / 1e6:.1f} MB / {int(one('snap_bytes_bpftool', '0')) / 1e6:.1f} MB")

encoders = values.get("encoder", [])
if encoders:
    names = {
        "direct-writer-bytebuffer": "2i. direct UTF-8 writer (the server's own MapCodec + JSONWriter, NIO ByteBuffer, 16,384-entry batches)",
        "direct-writer-rawpointer": "2i'. same digit algorithm through a raw pointer (floor, not the server's code)",
        "foundation-jsonencoder": "2ii. Foundation JSONEncoder, [Codable struct]",
        "foundation-jsonserialization": "2ii'. Foundation JSONSerialization, [[String: NSNumber]]",
        "jansson": "2iii. libjansson: json_array + json_pack, json_dumps(JSON_COMPACT)",
    }
    hashes = {e["fnv"] for e in encoders}
    served = [e for e in encoders if e["encoder"] != "direct-writer-rawpointer"]
    fastest = min(served, key=lambda e: float(e["median_ms"]))
    for e in encoders:
        extra = f"; build {e['build_ms']} ms + dump {e['dump_ms']} ms" if "build_ms" in e else ""
        row(names.get(e["encoder"], e["encoder"]),
            f"median {float(e['median_ms']):,.1f} ms, min {float(e['min_ms']):,.1f} ms, {e['mb_per_s']} MB/s ({e['reps']} runs{extra})")
    row("2. fastest of (i), (ii), (iii); the server's snapshot path (MapSnapshotWriter) runs (i)",
        f"{fastest['encoder']}; all texts identical: {'yes' if len(hashes) == 1 else 'NO'} ({int(encoders[0]['bytes']) / 1e6:.1f} MB each)")

idle = one("rss_idle_kb", None)
peak = one("rss_peak_snapshot_kb", None)
if idle:
    row("3. bpfleetd VmRSS idle after start", f"{mb(idle):.1f} MB ({int(idle) / 1024:.1f} MiB)", "< 30 MB", yes(mb(idle) < 30))
if one("rss_loaded_kb", None):
    row("3. bpfleetd VmRSS with the probe loaded and the map filled", f"{mb(one('rss_loaded_kb')):.1f} MB")
if peak:
    row(f"3. bpfleetd VmHWM (peak) after serving the {entries:,}-entry snapshots", f"{mb(peak):.1f} MB ({int(peak) / 1024:.1f} MiB)",
        "< 200 MB", yes(mb(peak) < 200))
if one("rss_peak_end_kb", None):
    row("3. bpfleetd VmHWM at the end (after the node.info load too)", f"{mb(one('rss_peak_end_kb')):.1f} MB")

if "rpc1" in values:
    r = values["rpc1"][-1]
    row(f"4. node.info, 1 client, {int(r['calls']):,} calls: latency",
        f"p50 {float(r['p50_us']):.0f} µs, p99 {float(r['p99_us']):.0f} µs ({float(r['calls_per_s']):,.0f} calls/s)")
if "rpcN" in values:
    runs = values["rpcN"]
    rates = sorted(float(r["calls_per_s"]) for r in runs)
    median = statistics.median(rates)
    r = runs[0]
    p50 = statistics.median(float(x["p50_us"]) for x in runs)
    p99 = statistics.median(float(x["p99_us"]) for x in runs)
    row(f"4. node.info, {r['clients']} clients, {int(r['calls']):,} calls: throughput",
        f"median {median:,.0f} calls/s (runs: {', '.join(f'{x:,.0f}' for x in rates)}); p50 {p50:.0f} µs, p99 {p99:.0f} µs",
        ">= 20,000 calls/s", yes(median >= 20000))

machine = one("machine", "")
print()
print(f"bench: {machine.replace('_', ' ')}")
print(f"bench: bpfleetd build: {one('config_bpfleetd')}, bpfleet build: {one('config_bpfleet', 'none')}; "
      f"client options: {one('cli_form', 'none')} the command")
print()
widths = [max(len(r[i]) for r in rows + [("measure", "result", "target", "met?")]) for i in range(4)]
header = ("measure", "result", "target", "met?")
print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
print("| " + " | ".join("-" * w for w in widths) + " |")
for r in rows:
    print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
