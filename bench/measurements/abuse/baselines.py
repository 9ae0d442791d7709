"""The baseline rows, the figures the fix must keep: node.info with 16
clients (rpc16), a snapshot against the raw kernel walk (snapshot), 50 map
watches (watch50); the C tools they run, built with the driver's flags."""
from __future__ import annotations

import json
import os
import subprocess
import time

from ..common import CFLAGS
from .attacks import load_big
from .server import Server, cpu_seconds
from .settings import (PROBE, RPC16_CALLS, RPC16_CLIENTS, SNAPSHOT_ENTRIES, SNAPSHOT_REPS, TOOL_TIMEOUT, WATCH50_CLIENTS,
                       WATCH50_ENTRIES, WATCH50_SECONDS, WATCH50_SETTLE, note)

TOOLS = {  # name: (source in bench/, flags before -o, libraries)
    "fill_map": ("fill_map.c", [], ["-lbpf"]),
    "rpc_load": ("rpc_load.c", ["-pthread"], []),
    "rpc_call": ("rpc_call.c", [], []),
    "batch_lookup": ("batch_lookup.c", [], ["-lbpf"]),
    "watch_clients": ("watch_clients.c", [], []),
}
NEEDS = {"watch": ["fill_map"], "halfclose": ["fill_map"], "rpc16": ["rpc_load"],
         "snapshot": ["fill_map", "rpc_call", "batch_lookup"], "watch50": ["fill_map", "watch_clients"]}


def build_tools(names, here, out_dir):
    """gcc each tool into out_dir; {name: path}, without the ones that do not build."""
    os.makedirs(out_dir, exist_ok=True)
    built = {}
    for name in names:
        source, flags, libs = TOOLS[name]
        path = os.path.join(out_dir, name)
        done = subprocess.run(["gcc", *CFLAGS, *flags, "-o", path, os.path.join(here, source), *libs],
                              capture_output=True, text=True)
        if done.returncode == 0:
            built[name] = path
        else:
            note(f"{source} does not build: {done.stderr.strip()[-300:]}")
    return built


def tool(tools, name):
    if name not in tools:
        raise RuntimeError(f"bench/{TOOLS[name][0]} did not build")
    return tools[name]


def run_tool(argv):
    """The tool's stdout; RuntimeError with its stderr if it fails."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TOOL_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{os.path.basename(argv[0])} ran over {TOOL_TIMEOUT} s")
    if done.returncode != 0:
        raise RuntimeError(f"{os.path.basename(argv[0])} exit {done.returncode}: {done.stderr.strip()[-200:]}")
    return done.stdout


def key_values(line):
    """'a=1 b=x' -> {"a": 1.0, "b": "x"}."""
    found = {}
    for word in line.split():
        key, _, value = word.partition("=")
        try:
            found[key] = float(value)
        except ValueError:
            found[key] = value
    return found


def median(values):
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return float("nan")
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def baseline_rpc16(server, programs, tools):
    load = tool(tools, "rpc_load")
    time.sleep(2)  # let start-up settle (as the unix_socket part)
    cpu0 = cpu_seconds(server.pid)
    figures = key_values(run_tool([load, server.sock, str(RPC16_CLIENTS), str(RPC16_CALLS)]).strip())
    figures["server_cpu_s"] = cpu_seconds(server.pid) - cpu0
    return {key: figures[key] for key in ("calls_per_s", "seconds", "p50_us", "p99_us", "max_us", "errors", "server_cpu_s")}


def baseline_snapshot(server, programs, tools):
    call_tool, walk = tool(tools, "rpc_call"), tool(tools, "batch_lookup")
    filled = load_big(server, programs, tool(tools, "fill_map"), SNAPSHOT_ENTRIES)
    pin = os.path.join(server.pins, PROBE, "maps", "big")
    run_tool([walk, pin, "1"])  # warm the map's pages once (as the snapshot measurement)
    params = json.dumps({"map": {"probe": PROBE, "name": "big"}})
    reply = os.path.join(server.dir, "snapshot.json")
    rpc_ms, raw_ms, reply_bytes = [], [], 0
    for rep in range(SNAPSHOT_REPS):  # one of each per rep, as the snapshot measurement
        last = [reply] if rep == SNAPSHOT_REPS - 1 else []
        timed = key_values(run_tool([call_tool, server.sock, "1", "map.snapshot", params, *last]).strip())
        rpc_ms.append(timed["ms"])
        reply_bytes = int(timed["bytes"])
        raw = key_values(run_tool([walk, pin, "1"]).strip())
        if int(raw["entries"]) != SNAPSHOT_ENTRIES:
            raise RuntimeError(f"batch_lookup walked {int(raw['entries'])} entries, not {SNAPSHOT_ENTRIES}")
        raw_ms.append(raw["ms"])
    with open(reply, "rb") as f:  # a light check of the last reply (the snapshot measurement checks the sums)
        data = f.read()
    os.unlink(reply)
    head, tail = data[:300], data[-300:]
    if b'"error"' in head or data.count(b'"key"') != SNAPSHOT_ENTRIES or b'"truncated":false' not in head + tail:
        raise RuntimeError(f"map.snapshot's reply is not {SNAPSHOT_ENTRIES} untruncated entries: {head[:160]!r}")
    rpc, walk_ms = median(rpc_ms), median(raw_ms)
    return {"entries": SNAPSHOT_ENTRIES, "rpc_ms": rpc, "raw_ms": walk_ms, "ratio": rpc / walk_ms,
            "rpc_ms_reps": ",".join(f"{v:.1f}" for v in rpc_ms), "raw_ms_reps": ",".join(f"{v:.1f}" for v in raw_ms),
            "reply_bytes": reply_bytes, "fill": (filled or "").replace(" ", ",")}


def baseline_watch50(server, programs, tools):
    clients = tool(tools, "watch_clients")
    load_big(server, programs, tool(tools, "fill_map"), WATCH50_ENTRIES)
    lines = run_tool([clients, server.sock, str(server.pid), PROBE, "big", "100", str(WATCH50_SETTLE), f"{WATCH50_SECONDS:g}",
                      f"full:{WATCH50_CLIENTS}"]).splitlines()
    mode = key_values(next(line for line in lines if line.startswith("mode=")))
    cpu = key_values(next(line for line in lines if line.startswith("server_cpu_ms=")))
    return {"entries": WATCH50_ENTRIES, "subscribers": int(mode["subscribers"]), "cores": cpu["cores"],
            "server_cpu_ms": cpu["server_cpu_ms"], "seconds": cpu["seconds"],
            "notifications_per_sub_s": mode["notifications_per_sub_s"], "bytes_per_sub_s": int(mode["bytes_per_sub_s"]),
            "entries_per_notification": mode["entries_per_notification"], "seq_gaps": int(mode["seq_gaps"]),
            "rss_kb": int(cpu["rss_kb"]), "hwm_kb": int(cpu["hwm_kb"])}


BASELINE_RUN = {"rpc16": baseline_rpc16, "snapshot": baseline_snapshot, "watch50": baseline_watch50}
# The table's lines per row: (title, key, format); medians over the runs that worked.
BASELINE_LINES = {
    "rpc16": [("rpc16 calls/s", "calls_per_s", "{:.0f}")],
    "snapshot": [("snapshot bpfleetd ms", "rpc_ms", "{:.0f}"), ("snapshot raw ms", "raw_ms", "{:.1f}"),
                 ("snapshot bpfleetd/raw", "ratio", "{:.2f}")],
    "watch50": [("watch50 server cores", "cores", "{:.3f}"), ("watch50 notif/sub/s", "notifications_per_sub_s", "{:.2f}")],
}


def run_baseline(label, binary, row, round_, programs, root, tools):
    server = Server(binary, root, label, f"{row}-r{round_}")
    try:
        return BASELINE_RUN[row](server, programs, tools)
    finally:
        server.stop()
