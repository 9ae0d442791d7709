#!/usr/bin/env python3
"""report_attach.py RESULTS: the issue 5 table from scripts/bench.sh's raw
result lines (attach TARGET SIDE load_ms=.. attach_ms=.. total_ms=..;
start_none / start_adopt / start_restore ms=..; survival_load_ms N)."""
import re
import statistics
import sys

TARGET_OVERHEAD_MS = 5.0
TARGETS = ["tracepoint", "raw_tracepoint", "tp_btf", "uprobe", "xdp", "tc", "cgroup", "perf_event"]


def pct(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def main(path):
    attach = {}
    starts = {"start_none": [], "start_adopt": [], "start_restore": []}
    facts = {}
    for line in open(path):
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
    print(f"bpfleetd: {facts.get('config_bpfleetd', '?')} build; {facts.get('machine', '')}")
    print(f"load average at the start / end of the part: {facts.get('loadavg_start', '?')} / {facts.get('loadavg_end', '?')}")
    reps = facts.get("attach_reps", "?")
    print(f"\n10. load + attach, {reps} interleaved rounds per target (ms; bpfleetd: attach_rpc over the Unix socket, "
          "probe.load sent to probe.attach reply; one request: probe.load with attach; libbpf: attach_libbpf --warm, open_mem to the last pin; "
          "libbpf cold: without the warm-up; node.info: a no-op round trip on the same connection just before)")
    header = ("target", "bpfleetd p50", "p90", "libbpf p50", "p90", "overhead p50", "bpfleetd load/attach p50",
              "libbpf load/attach p50", "one request p50", "p90", "overhead p50", "met (< 5 ms)", "libbpf cold p50",
              "node.info p50")
    rows = [header]
    for target in TARGETS:
        ours, theirs = attach.get((target, "bpfleetd")), attach.get((target, "libbpf"))
        if not ours or not theirs:
            rows.append((target, "missing") + ("",) * (len(header) - 2))
            continue
        o = [r["total_ms"] for r in ours]
        t = [r["total_ms"] for r in theirs]
        overhead = statistics.median(o) - statistics.median(t)
        one = [r["total_ms"] for r in attach.get((target, "bpfleetd-one"), [])]
        one_overhead = statistics.median(one) - statistics.median(t) if one else float("nan")
        rows.append((target, f"{statistics.median(o):.1f}", f"{pct(o, 90):.1f}", f"{statistics.median(t):.1f}",
                     f"{pct(t, 90):.1f}", f"{overhead:+.1f}",
                     f"{statistics.median(r['load_ms'] for r in ours):.1f} / {statistics.median(r['attach_ms'] for r in ours):.1f}",
                     f"{statistics.median(r['load_ms'] for r in theirs):.1f} / {statistics.median(r['attach_ms'] for r in theirs):.1f}",
                     f"{statistics.median(one):.1f}" if one else "missing", f"{pct(one, 90):.1f}" if one else "",
                     f"{one_overhead:+.1f}",
                     ("two requests: yes" if overhead < TARGET_OVERHEAD_MS else "two requests: NO") + "; "
                     + ("one: yes" if one_overhead < TARGET_OVERHEAD_MS else "one: NO"),
                     f"{statistics.median(r['total_ms'] for r in attach.get((target, 'libbpf-cold'), [{'total_ms': float('nan')}])):.1f}",
                     f"{statistics.median(r.get('noop_ms', float('nan')) for r in ours):.2f}"))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(header))]
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))

    n = facts.get("survival_probes", "?")
    print(f"\n11. start-up, from exec to the first probe.list reply with every probe back ({facts.get('survival_reps', '?')} runs each; "
          f"loading the {n} probes took {facts.get('survival_load_ms', '?')} ms)")
    labels = {"start_none": "no probes (empty state directory)",
              "start_adopt": f"{n} probes adopted (after kill -9)",
              "start_restore": f"{n} probes restored (kill -9, pins removed)"}
    none = statistics.median(starts["start_none"]) if starts["start_none"] else None
    for key, label in labels.items():
        values = starts[key]
        if not values:
            print(f"  {label}: missing")
            continue
        median = statistics.median(values)
        extra = f", +{median - none:.0f} ms over none ({(median - none) / int(n):.1f} ms a probe)" if none is not None and key != "start_none" else ""
        print(f"  {label}: median {median:.0f} ms (runs: {', '.join(f'{v:.0f}' for v in values)}){extra}")


if __name__ == "__main__":
    main(sys.argv[1])
