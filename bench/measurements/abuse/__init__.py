"""14. What each attack of issue 11 costs bpfleetd, before and after the fix,
side by side in one run (`BENCH_ONLY=abuse make bench`): AFTER is the
bpfleetd the driver built, BEFORE the one BENCH_ABUSE_BEFORE names. With
BEFORE absent or "-", only AFTER is measured.

For each binary and each attack a fresh server is started (temporary socket,
state directory, and pin root /sys/fs/bpf/bpfleet-bench-abuse-PID-...), the
attack is run from here (root, an operator), and the server is stopped
(SIGTERM, SIGKILL after ABUSE_TERM_GRACE seconds) and its pins removed.
Measured during each attack: the server's CPU seconds (utime + stime of
/proc/PID/stat), its peak VmRSS growth over the idle baseline (sampled every
50 ms), and the longest `node.info` round trip of an operator calling every
0.5 s on a connection of its own; plus what each attack is about:

  nested     4 connections x 17 lines of ~1 KB nested 500 deep, sent without
             waiting, then the replies read: CPU per line, the error code
  noread     one connection sends node.info and never reads, until 300,000
             are taken or the socket took nothing for 2 s; then ABUSE_NOREAD_SETTLE
             seconds more with the client connected; then SIGTERM with the
             client still connected: seconds until the server exits
  batch      one line, a JSON array of 100,000 node.info calls (~5 MB); the
             reply's size (read up to 300 MB) and time
  watch      big_hash filled with 100,000 entries, then 50 connections x 64
             full map.watch at 100 ms that never read, held 20 s
  strangers  --roles (root: operator only), --socket-group 54400,
             --max-connections 1000; 20 uids 54400..54419 open 250 connections
             each and hold them 10 s: stranger connections still open on the
             server 2 s after they connected (its fds over its baseline, +-1
             for the operator's own connection), and
             what root's node.info (a new connection every 0.5 s) got meanwhile
  halfclose  big_hash filled with 50,000 entries; map.snapshot (hex) and
             probe.list sent, the write side shut, read to EOF slowly (4 KB,
             then a 1 ms pause, like nc writing to a terminal): bytes received
             against the whole replies' size, and how many replies are whole

Every attack is stopped after ABUSE_CAP seconds (or when the server grew by
ABUSE_RSS_CAP_MIB), and then says "capped".

Then the baseline rows, the figures the fix must keep (not scaled by
ABUSE_SCALE), BEFORE and AFTER alternately for ABUSE_BASELINE_ROUNDS rounds
(round 1: before rpc16, after rpc16, before snapshot, after snapshot, ...),
each run on a fresh server as above; the tools are bench/*.c built into
WORK_DIR/abuse-bin with the driver's flags:

  rpc16      rpc_load, 16 clients share 200,000 node.info calls: calls/s
  snapshot   big_hash filled with 1,000,000 entries; ABUSE_SNAPSHOT_REPS
             times, rpc_call's map.snapshot of the whole map, then
             batch_lookup's raw BPF_MAP_LOOKUP_BATCH walk of the same pin
             (warmed once, untimed): ms of each (median of the reps), and
             their ratio bpfleetd / raw; the last reply's count is checked
  watch50    big_hash filled with 10,000 entries; watch_clients: 50
             connections, one full map.watch each at intervalMs 100, drained;
             2 s to settle, then 10 s measured: the server's CPU in cores
             (and the notifications each subscriber got per second)

Prints the machine line, the attack table, then the baseline table (the
median of the runs and the runs, per side, and after / before); the raw
figures go to WORK_DIR/abuse-results.txt as key=value lines.

Knobs (environment):
  ABUSE_ATTACKS        attacks and baseline rows to run, comma-separated (default: the six
                       attacks in the order above, then rpc16,snapshot,watch50)
  ABUSE_BASELINE_ROUNDS  rounds of the baseline rows (default 3)
  ABUSE_RPC16_CALLS    rpc16's calls in all (default 200000)
  ABUSE_SNAPSHOT_ENTRIES  the snapshot map's entries (default 1000000)
  ABUSE_SNAPSHOT_REPS  snapshot + raw walk pairs per run (default 3)
  ABUSE_WATCH50_ENTRIES   the watched map's entries (default 10000)
  ABUSE_WATCH50_SECONDS   watch50's measured window (default 10)
  ABUSE_SCALE          multiplies every attack's count (lines, requests, entries,
                       connections; default 1; 0.1 for a quick trial; not the baselines')
  ABUSE_CAP            seconds one attack may run (default 60)
  ABUSE_TERM_GRACE     seconds from SIGTERM to SIGKILL (default 10)
  ABUSE_RSS_CAP_MIB    stop an attack when the server's RSS grew by this much (default 12288)
  ABUSE_NOREAD_SETTLE  seconds the noread client stays connected after sending (default 5)
  ABUSE_WATCH_SECONDS  how long the watchers hold (default 20)
  ABUSE_HOLD_SECONDS   how long the strangers hold (default 10)
  ABUSE_HALFCLOSE_PAUSE_MS  the half-closed client reads 4 KB, then pauses this long (default 1)
  ABUSE_STRANGERS_SEND "nothing" (default) or "nested": what each stranger connection sends
  ABUSE_PIN_PREFIX     pin roots are PREFIX-LABEL-ATTACK (default /sys/fs/bpf/bpfleet-bench-abuse-PID)
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from typing import TextIO

from ..common import BENCH, Bench, BenchError, Part, remove_glob
from .attacks import RUN, SETUP
from .baselines import BASELINE_RUN, NEEDS, build_tools, run_baseline
from .monitor import Attack, Monitor
from .report import baseline_figure, figure, print_baselines, print_table, write_results
from .server import Server, fd_count
from .settings import (ATTACKS, BASELINE_ROUNDS, BASELINES, CAP, PIN_PREFIX, RPC16_CALLS, RPC16_CLIENTS, SCALE,
                       SNAPSHOT_ENTRIES, SNAPSHOT_REPS, STRANGER_GROUP, WATCH50_CLIENTS, WATCH50_ENTRIES, WATCH50_SECONDS,
                       note)


def run_one(label, binary, attack, programs, root, fill_tool):
    extra = []
    if attack == "strangers":
        roles = os.path.join(root, "roles.yaml")
        with open(roles, "w") as f:
            f.write("root: operator\n")
        os.chmod(roles, 0o644)
        extra = ["--roles", roles, "--socket-group", str(STRANGER_GROUP), "--max-connections", "1000"]
    server = Server(binary, root, label, attack, extra)
    try:
        ctx = {}
        if attack in SETUP:
            SETUP[attack](server, programs, fill_tool, ctx)
        ctx["base_fds"] = fd_count(server.pid)
        monitor = Monitor(server, fresh=attack == "strangers")
        run = Attack(monitor)
        try:
            figures = RUN[attack](server, run, ctx)
        finally:
            stats = monitor.end()
        figures.update(stats)
        figures["capped"] = run.capped or ""
    finally:
        term_s, killed, term_cpu = server.stop()
    figures.update({"term_s": term_s, "term_killed": int(killed), "term_cpu_s": term_cpu})
    return figures


def wait_for(binary):
    """The debug build being rebuilt: wait a little for it to be back."""
    for _ in range(120):
        if os.access(binary, os.X_OK):
            return
        time.sleep(1)


def measure(after: str, before: str, programs: str, work: str, out: TextIO) -> None:
    """Both tables into OUT; the raw figures into WORK/abuse-results.txt."""
    binaries = [("after", after)] + ([("before", before)] if before not in ("", "-") else [])
    chosen = [a for a in os.environ.get("ABUSE_ATTACKS", ",".join(ATTACKS + BASELINES)).split(",") if a]
    for attack in chosen:
        if attack not in RUN and attack not in BASELINE_RUN:
            raise BenchError(f"abuse: unknown attack or baseline row '{attack}' ({', '.join(ATTACKS + BASELINES)})")
    attacks = [a for a in chosen if a in RUN]
    baselines = [a for a in chosen if a in BASELINE_RUN]
    print(f"machine nproc={os.cpu_count()} kernel={os.uname().release} loadavg_start {' '.join(open('/proc/loadavg').read().split()[:3])}",
          file=out, flush=True)
    root = tempfile.mkdtemp(prefix="bpfleet-bench-abuse-", dir="/tmp")  # under /tmp, so other uids can reach sockets in it
    os.chmod(root, 0o711)
    results = {}
    runs = {}  # (label, baseline row): the runs' figures, in round order
    try:
        tools = build_tools(sorted({name for a in chosen for name in NEEDS.get(a, [])}), BENCH, os.path.join(work, "abuse-bin"))
        fill_tool = tools.get("fill_map")
        if fill_tool is None and any(a in ("watch", "halfclose") for a in attacks):
            note("fill_map does not build; the attacks fill maps with map.update instead")
        for label, binary in binaries:
            for attack in attacks:
                if label == "after":
                    wait_for(binary)
                note(f"{label}: {attack} ...")
                try:
                    r = run_one(label, binary, attack, programs, root, fill_tool)
                except (OSError, RuntimeError, EOFError, ValueError, subprocess.CalledProcessError, SystemExit) as error:
                    r = {"error": str(error) or type(error).__name__}
                results[(label, attack)] = r
                note(f"{label}: {attack}: {figure(attack, r)}")
        # Before and after alternately, round by round, so drift on a busy machine hits both alike.
        for round_ in range(1, BASELINE_ROUNDS + 1):
            for row in baselines:
                for label, binary in reversed(binaries):  # before, then after
                    wait_for(binary)
                    note(f"{label}: {row} round {round_} of {BASELINE_ROUNDS} ...")
                    try:
                        r = run_baseline(label, binary, row, round_, programs, root, tools)
                    except (OSError, RuntimeError, EOFError, ValueError, KeyError, StopIteration,
                            subprocess.CalledProcessError, SystemExit) as error:
                        r = {"error": str(error) or type(error).__name__}
                    runs.setdefault((label, row), []).append(r)
                    note(f"{label}: {row} round {round_}: {baseline_figure(row, r)}")
    finally:
        for server in list(Server.live):
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
    write_results(os.path.join(work, "abuse-results.txt"), binaries, results, runs, baselines)
    if attacks:
        print_table(attacks, results, len(binaries) > 1, out)
    if baselines:
        what = {"rpc16": f"rpc16 {RPC16_CLIENTS} clients share {RPC16_CALLS} node.info",
                "snapshot": f"snapshot {SNAPSHOT_ENTRIES} entries, median of {SNAPSHOT_REPS} per run",
                "watch50": f"watch50 {WATCH50_CLIENTS} full watches of {WATCH50_ENTRIES} entries at 100 ms, {WATCH50_SECONDS:g} s"}
        sides = "before and after alternately" if len(binaries) > 1 else "after only"
        print(f"baselines: median (runs) of {BASELINE_ROUNDS} round{'s' if BASELINE_ROUNDS != 1 else ''}, {sides}; "
              + "; ".join(what[row] for row in baselines), file=out)
        print_baselines(baselines, runs, len(binaries) > 1, out)
    print(f"loadavg_end {' '.join(open('/proc/loadavg').read().split()[:3])}; scale {SCALE:g}, cap {CAP:g} s per attack", file=out)


def run_part(bench: Bench) -> None:
    session = bench.session
    session.on_exit("abuse pins", lambda: remove_glob(f"{PIN_PREFIX}-*"))
    with open(session.path("abuse-table.txt"), "w") as out:  # it prints its own machine line
        measure(bench.bpfleetd, bench.knobs.abuse_before, os.path.join(os.getcwd(), "programs"), session.work, out)


def table(bench: Bench) -> str:
    with open(bench.session.path("abuse-table.txt")) as f:
        return f.read()


PART = Part(name="abuse", old_name="abuse", measurements=("abuse",), tools=(), programs=True, run=run_part, table=table,
            results=("abuse-results.txt",))
