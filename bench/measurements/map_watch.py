"""9. map.watch of a BENCH_WATCH_ENTRIES-entry map (big_hash as probe
`watch`) at 10 Hz (intervalMs 100), watch_clients measuring
BENCH_WATCH_SECONDS after 2 s to settle: bpfleetd's CPU with
BENCH_WATCH_CLIENTS full subscribers, then as many delta subscribers while
1% of the entries change every 100 ms (churn_map); then one full against
one delta subscriber's bytes per second under the same churn."""
from __future__ import annotations

import os
import subprocess
import sys
from typing import Optional

from .common import Bench, BenchError, Node, Results, note, run, upload, yes

SETTLE = 2


class Watched:
    """The watched map: probe `watch` loaded and its map filled."""

    def __init__(self, bench: Bench, node: Node, pins: str) -> None:
        self.bench, self.node = bench, node
        object_id = upload(node.sock, "programs/build/big_hash.bpf.o", "big_hash")
        node.rpc("probe.load", {"name": "watch", "objectId": object_id})
        self.pin = os.path.join(pins, "watch", "maps", "big")
        if not os.path.exists(self.pin):
            subprocess.run(["ls", "-R", pins], stdout=sys.stderr)
            raise BenchError(f"no pin at {self.pin}")
        note(f"watch map: {run([bench.tool('fill_map'), self.pin, str(bench.knobs.watch_entries)])}")
        self.changes = bench.knobs.watch_entries // 100

    def clients(self, settle: int, seconds: int, *modes: str, stdout=subprocess.PIPE) -> str:
        """watch_clients: MODE:N subscribers, the server's CPU over SECONDS after SETTLE."""
        return run([self.bench.tool("watch_clients"), self.node.sock, str(self.node.pid), "watch", "big", "100",
                    str(settle), str(seconds), *modes], stdout=stdout)

    def watch_run(self, results: Results, label: str, churn: bool, *modes: str) -> None:
        knobs, session = self.bench.knobs, self.bench.session
        churner = None
        if churn:
            with open(session.path("churn.out"), "w") as out:
                churner = session.track(subprocess.Popen(
                    [self.bench.tool("churn_map"), self.pin, str(knobs.watch_entries), str(self.changes), "100",
                     str(knobs.watch_seconds + SETTLE + 5)], stdout=out))
        results.record_lines(self.clients(SETTLE, knobs.watch_seconds, *modes), f"{label} ")
        if churner is not None:
            churner.terminate()
            churner.wait()
            session.untrack(churner)
        note(f"map watch run {label} ({' '.join(modes)}) done")


def measure(bench: Bench, node: Node, pins: str, results: Results) -> Watched:
    watched = Watched(bench, node, pins)
    clients = bench.knobs.watch_clients
    results.record(f"watch_entries {bench.knobs.watch_entries}")
    results.record(f"watch_changes {watched.changes}")
    watched.watch_run(results, "watch_full", False, f"full:{clients}")
    watched.watch_run(results, "watch_delta", True, f"delta:{clients}")
    watched.watch_run(results, "watch_bytes", True, "full:1", "delta:1")
    results.record(f"ev_hwm_end_kb {node.status_kb('VmHWM')}")
    return watched


# --- the table's rows -----------------------------------------------------------------------------

def _split(watch: dict[str, list[dict]], label: str) -> tuple[list[dict], Optional[dict]]:
    modes = [d for d in watch.get(label, []) if "mode" in d]
    server = next((d for d in watch.get(label, []) if "server_cpu_ms" in d), None)
    return modes, server


def rows(watch: dict[str, list[dict]], entries: int, changes: int) -> list[tuple[str, str, str, str]]:
    found = []
    modes, server = _split(watch, "watch_full")
    if server:
        m = modes[0]
        cores = float(server["cores"])
        found.append((f"9. map.watch, {int(m['subscribers'])} subscribers, full mode, {entries:,}-entry map, intervalMs 100: "
                      f"bpfleetd CPU over {float(server['seconds']):.0f} s",
                      f"{cores:.2f} of a core ({int(server['server_cpu_ms']):,} ms of CPU)", "< 0.5 core", yes(cores < 0.5)))
        found.append(("   per subscriber: notifications/s (10 asked), intervals skipped (seq gaps, all subscribers), bytes/s",
                      f"{float(m['notifications_per_sub_s']):.2f}/s; {int(m['seq_gaps']):,} skipped; "
                      f"{float(m['bytes_per_sub_s']) / 1e6:.2f} MB/s ({float(m['entries_per_notification']):,.0f} entries per notification)",
                      "", ""))
        found.append(("   bpfleetd VmRSS / VmHWM at the end of the window",
                      f"{int(server['rss_kb']) * 1024 / 1e6:.1f} / {int(server['hwm_kb']) * 1024 / 1e6:.1f} MB", "", ""))
    modes, server = _split(watch, "watch_delta")
    if server:
        m = modes[0]
        found.append((f"9. map.watch, {int(m['subscribers'])} subscribers, delta mode, {changes:,} entries changed every 100 ms: bpfleetd CPU",
                      f"{float(server['cores']):.2f} of a core; per subscriber {float(m['notifications_per_sub_s']):.2f} notifications/s, "
                      f"{int(m['seq_gaps']):,} intervals skipped in all, {float(m['bytes_per_sub_s']) / 1e3:.1f} kB/s", "", ""))
    modes, server = _split(watch, "watch_bytes")
    if server:
        by = {m["mode"]: m for m in modes}
        if "full" in by and "delta" in by:
            full, delta = float(by["full"]["bytes_per_sub_s"]), float(by["delta"]["bytes_per_sub_s"])
            found.append((f"9. bytes per second to one subscriber, {entries:,} entries, {changes:,} ({changes / max(entries, 1):.0%}) "
                          "changed every 100 ms, intervalMs 100: full / delta",
                          f"{full / 1e6:.2f} MB/s / {delta / 1e3:.1f} kB/s: delta is {delta / full:.2%} of full ({full / delta:.0f}x fewer bytes)",
                          "", ""))
            found.append(("   entries per notification, full / delta; notifications/s, full / delta; bpfleetd CPU for the two",
                          f"{float(by['full']['entries_per_notification']):,.0f} / {float(by['delta']['entries_per_notification']):,.1f}; "
                          f"{float(by['full']['notifications_per_sub_s']):.2f} / {float(by['delta']['notifications_per_sub_s']):.2f}; "
                          f"{float(server['cores']):.2f} of a core", "", ""))
    return found
