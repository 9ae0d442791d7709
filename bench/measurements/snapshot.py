"""1. Snapshot of the whole 1,000,000-entry map (BENCH_ENTRIES): `bpfleet map
dump big big -o json > file` end to end, the bare `map.snapshot` call over
the socket (rpc_call), `bpftool -j map dump pinned PIN > file` and the raw
BPF_MAP_LOOKUP_BATCH walk (batch_lookup), one of each per round (BENCH_REPS)
so that drift on a noisy machine hits all alike. bpfleet's output and the
bare reply are checked: they parse, hold every entry, and their keys and
values add up to what fill_map put in; bpftool's entry count too."""
from __future__ import annotations

import json
import os
import re
import time
from typing import TYPE_CHECKING, Optional

from .common import Bench, BenchError, Node, Results, note, run, yes

if TYPE_CHECKING:
    from .unix_socket import Cli, Values

PARAMS = '{"map":{"probe":"big","name":"big"}}'


def measure(bench: Bench, node: Node, cli: Optional["Cli"], pin: str, key_sum: int, value_sum: int,
            results: Results) -> None:
    session, entries = bench.session, bench.knobs.entries
    dump, reply, tool_dump = session.path("bpfleet.json"), session.path("rpc.json"), session.path("bpftool.json")
    run([bench.tool("batch_lookup"), pin, "1"])  # warm the map's pages once
    for round_ in range(1, bench.knobs.reps + 1):
        if cli:
            results.record(f"snap_cli_ms {_timed(cli.argv('map', 'dump', 'big', 'big', '-o', 'json'), dump)}")
        results.record_lines(_ms_as(run([bench.tool("rpc_call"), node.sock, "1", "map.snapshot", PARAMS, reply]), "snap_rpc_ms"))
        results.record(f"snap_bpftool_ms {_timed(['bpftool', '-j', 'map', 'dump', 'pinned', pin], tool_dump)}")
        results.record_lines(_ms_as(run([bench.tool("batch_lookup"), pin, "1"]), "snap_raw_ms"))
        note(f"snapshot round {round_} of {bench.knobs.reps} done")
    results.record(f"snap_bytes_cli {os.path.getsize(dump) if os.path.exists(dump) else 0}")
    results.record(f"snap_bytes_bpftool {os.path.getsize(tool_dump)}")
    if cli:
        note(f"bpfleet map dump -o json: {check_dump(dump, entries, key_sum, value_sum)}")
        results.record("check_cli ok")
    note(f"map.snapshot over the socket: {check_dump(reply, entries, key_sum, value_sum)}")
    with open(tool_dump, "rb") as f:
        dumped = f.read().count(b'"formatted":')
    if dumped != entries:
        raise BenchError(f"bpftool dumped {dumped} entries, expected {entries}")
    for path in (tool_dump, dump, reply):
        if os.path.exists(path):
            os.unlink(path)


def _timed(argv: list[str], out: str) -> str:
    """ms (1 decimal) from the exec to the exit of ARGV, its stdout into OUT."""
    with open(out, "w") as f:
        start = time.time()
        run(argv, stdout=f)
        end = time.time()
    return f"{(end - start) * 1e3:.1f}"


def _ms_as(text: str, name: str) -> str:
    """A tool's "ms=T ..." lines as "NAME T"."""
    return "\n".join(re.sub(r"ms=([0-9.]+).*", rf"{name} \1", line, count=1) for line in text.splitlines())


def check_dump(path: str, count: int, key_sum: int, value_sum: int) -> str:
    """A snapshot's JSON, as `bpfleet map dump -o json` writes it
    ([{"node":..,"ok":true,"result":R}]) or as a bare JSON-RPC response
    ({"jsonrpc":..,"result":R}): it must parse, hold COUNT entries, say count
    COUNT and not truncated, and its keys and values must add up to what
    fill_map put in. The line saying so; BenchError if not."""
    with open(path, "rb") as f:
        document = json.load(f)
    if isinstance(document, list):
        if not (len(document) == 1 and document[0]["ok"]):
            raise BenchError(f"check_dump: not one successful node: {str(document)[:200]}")
        result = document[0]["result"]
    else:
        result = document["result"]
    entries = result["entries"]
    problems = []
    if len(entries) != count:
        problems.append(f"{len(entries)} entries, expected {count}")
    if result.get("count") != count:
        problems.append(f"count says {result.get('count')}")
    if result.get("truncated") is not False:
        problems.append("truncated is not false")
    keys = sum(e["key"] for e in entries)
    values = sum(e["value"] for e in entries)
    if keys != key_sum:
        problems.append(f"key sum {keys} != {key_sum}")
    if values != value_sum:
        problems.append(f"value sum {values} != {value_sum}")
    if len({e["key"] for e in entries}) != len(entries):
        problems.append("duplicate keys")
    if problems:
        raise BenchError(f"check_dump: {path}: FAILED: " + "; ".join(problems))
    return f"check_dump: ok: parses, {len(entries)} entries, key sum {keys}, value sum {values}"


def _fmt_ms(values: "Values", name: str) -> str:
    stats = values.ms(name)
    if stats is None:
        return "not measured"
    median, low, _ = stats
    runs = ", ".join(f"{x:,.0f}" for x in values.floats(name))
    return f"median {median:,.0f} ms, min {low:,.0f} ms (runs: {runs})"


def rows(values: "Values") -> list[tuple[str, str, str, str]]:
    entries = int(values.one("entries", "0") or 0)
    cli, rpc, tool, raw = values.ms("snap_cli_ms"), values.ms("snap_rpc_ms"), values.ms("snap_bpftool_ms"), values.ms("snap_raw_ms")
    found = [
        (f"1a. snapshot, `bpfleet map dump big big -o json > file` ({entries:,} entries, end to end)", _fmt_ms(values, "snap_cli_ms"), "", ""),
        ("1a'. snapshot, bare `map.snapshot` call over the socket (C client, reply read and dropped)", _fmt_ms(values, "snap_rpc_ms"), "", ""),
        ("1b. snapshot, `bpftool -j map dump pinned PIN > file`", _fmt_ms(values, "snap_bpftool_ms"), "", ""),
        ("1c. raw `BPF_MAP_LOOKUP_BATCH` walk of the whole map (16,384 per call)", _fmt_ms(values, "snap_raw_ms"), "", ""),
    ]
    if cli and tool:
        speedup = tool[0] / cli[0]
        found.append(("1. bpfleet speed-up over bpftool (median / median; min / min)",
                      f"{speedup:.1f}x ({tool[1] / cli[1]:.1f}x)", ">= 5x", yes(speedup >= 5)))
    if cli and raw:
        ratio = cli[0] / raw[0]
        found.append(("1. bpfleet time / raw batch time (median / median; min / min)",
                      f"{ratio:.2f}x ({cli[1] / raw[1]:.2f}x)", "<= 2x", yes(ratio <= 2)))
    if rpc and raw:
        found.append(("1. bare map.snapshot call / raw batch time (medians)", f"{rpc[0] / raw[0]:.2f}x",
                      "(no target: the server's share)", ""))
    check = "ok" if "check_cli" in values else "not run (no client)"
    found.append(("1. correctness of the bpfleet output (parses; count; key and value sums)", check, "ok",
                  yes(check == "ok") if check == "ok" else "n/a"))
    cli_bytes, tool_bytes = (int(values.one(name, "0") or 0) for name in ("snap_bytes_cli", "snap_bytes_bpftool"))
    found.append(("   output size: bpfleet -o json / bpftool -j", f"{cli_bytes / 1e6:.1f} MB / {tool_bytes / 1e6:.1f} MB", "", ""))
    return found
