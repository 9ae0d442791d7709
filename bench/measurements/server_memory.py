"""3. bpfleetd's resident memory on its Unix socket: VmRSS idle after start
(2 s to settle), with the probe loaded and the map filled, VmHWM (the peak)
after serving the snapshots and at the end (after the node.info load too)."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .common import Node, Results, yes

if TYPE_CHECKING:
    from .unix_socket import Values


def idle(node: Node, results: Results) -> None:
    time.sleep(2)  # let start-up settle
    results.record(f"rss_idle_kb {node.status_kb('VmRSS')}")


def loaded(node: Node, results: Results) -> None:
    results.record(f"rss_loaded_kb {node.status_kb('VmRSS')}")


def after_snapshots(node: Node, results: Results) -> None:
    results.record(f"rss_peak_snapshot_kb {node.status_kb('VmHWM')}")


def at_end(node: Node, results: Results) -> None:
    results.record(f"rss_peak_end_kb {node.status_kb('VmHWM')}")
    results.record(f"rss_end_kb {node.status_kb('VmRSS')}")


def mb(kb: str) -> float:
    return int(kb) * 1024 / 1e6


def rows(values: "Values") -> list[tuple[str, str, str, str]]:
    entries = int(values.one("entries", "0") or 0)
    idle_kb, peak = values.one("rss_idle_kb", None), values.one("rss_peak_snapshot_kb", None)
    found = []
    if idle_kb:
        found.append(("3. bpfleetd VmRSS idle after start", f"{mb(idle_kb):.1f} MB ({int(idle_kb) / 1024:.1f} MiB)",
                      "< 30 MB", yes(mb(idle_kb) < 30)))
    loaded_kb = values.one("rss_loaded_kb", None)
    if loaded_kb:
        found.append(("3. bpfleetd VmRSS with the probe loaded and the map filled", f"{mb(loaded_kb):.1f} MB", "", ""))
    if peak:
        found.append((f"3. bpfleetd VmHWM (peak) after serving the {entries:,}-entry snapshots",
                      f"{mb(peak):.1f} MB ({int(peak) / 1024:.1f} MiB)", "< 200 MB", yes(mb(peak) < 200)))
    end_kb = values.one("rss_peak_end_kb", None)
    if end_kb:
        found.append(("3. bpfleetd VmHWM at the end (after the node.info load too)", f"{mb(end_kb):.1f} MB", "", ""))
    return found
