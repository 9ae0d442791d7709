#!/usr/bin/env python3
"""make bench: the node-server measurements, side by side in one run, printed
as tables (bench/README.md says what each row is). One module per
measurement in bench/measurements/; those that share a server and a table
run together as a part (bench/measurements/__init__.py):

  unix_socket (was issue2): the node server on its Unix socket
     1. snapshot: a 1,000,000-entry map dumped by `bpfleet map dump`, the bare
        JSON-RPC call, `bpftool map dump` and the raw BPF_MAP_LOOKUP_BATCH
        walk; the bpfleet output checked for correctness
     2. encoders: the server's direct writer, Foundation, libjansson
     3. server_memory: bpfleetd's resident memory, idle and at its peak
     4. rpc_roundtrip: node.info, 1 client's latency, 16 clients' throughput
  tls: 5-7. node.info over TLS against the Unix socket, connection setup,
     memory with 1,000 TLS connections open
  live_data (was events): 8. event_throughput, ring buffer -> subscriber;
     9. map_watch, 50 subscribers at 10 Hz, full against delta
  attach: 10. attach_latency per target type against plain libbpf;
     11. startup_adoption, with 100 probes to adopt, to restore, and none
  fleet_apply (was fleet): 12. `bpfleet apply` to 200 local nodes
  object_upload (was upload): 13. object.upload through the object helper
     against libbpf in-process
  abuse: 14. what each attack costs bpfleetd, before and after the fix
  iterators (iter): 15. iterator_read, iter.read against cat of the same
     iterator pinned by bpftool
  stacks: 16. stack_symbolize, a 10,000-stack snapshot symbolized against
     the raw one
  python_client (python): 17. the Python client's map.snapshot of the
     1,000,000-entry map against `bpfleet map dump -o json`, and its
     node.info calls per second on one connection
  node_inventory (inventory): 18. node.programs with 1,000 programs loaded
     against `bpftool -j prog show`
  probe_verify (verify): probe.verify against probe.load + probe.unload
  map_export (export): 19. a scrape of a 10,000-entry map exported with two
     label decoders against the raw batch read; CPU at 1 scrape/s; memory
     per series

Speed targets are read off the tables; the run fails only when something is
wrong (a check, a crash), never because a number is slow.

Knobs (environment): BENCH_ONLY (measurements or old part names,
comma-separated; default all), BENCH_ENTRIES (1000000), BENCH_REPS (7),
BENCH_RPC_CALLS (20000), BENCH_RPC_CLIENTS (16), BENCH_RPC_LOAD_CALLS
(200000), BENCH_RPC_LOAD_REPS (3), BENCH_TLS_CONNECTIONS (500),
BENCH_TLS_HOLD (1000), BENCH_EVENTS_COUNT (1000000), BENCH_EVENTS_SECONDS
(5), BENCH_EVENTS_RATES (100000,200000), BENCH_EVENTS_REPS (3),
BENCH_WATCH_CLIENTS (50), BENCH_WATCH_ENTRIES (10000), BENCH_WATCH_SECONDS
(10), BENCH_ATTACH_REPS (40), BENCH_ATTACH_PERF_FREQUENCY (99),
BENCH_SURVIVAL_PROBES (100), BENCH_SURVIVAL_REPS (5), BENCH_FLEET_NODES
(200), BENCH_FLEET_REPS (3), BENCH_UPLOAD_ROUNDS (40), BENCH_ITER_THREADS (2000),
BENCH_ITER_REPS (40), BENCH_STACK_ENTRIES (10000), BENCH_STACK_REPS (9),
BENCH_EXPORT_ENTRIES (10000), BENCH_EXPORT_REPS (15), BENCH_EXPORT_SECONDS (30),
BENCH_ABUSE_BEFORE (a
bpfleetd to measure the abuse part against too; ABUSE_* knobs in
bench/measurements/abuse/), BENCH_CONFIG (release; debug to skip the
release build), BENCH_SCRATCH=DIR (swift build --scratch-path DIR),
BENCH_RESULTS=DIR (keep the raw result lines the tables are made from),
BENCH_PERF=DIR (also profile, untimed, with perf; top symbols into DIR)."""
from __future__ import annotations

import os
import random
import shutil
import signal
import string
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the work tree

from measurements import PARTS, choose, names  # noqa: E402
from measurements.common import REPO, Bench, BenchError, Builds, Knobs, Part, Session, note, run  # noqa: E402

RAW_RESULTS = ("results.txt", "results-tls.txt", "results-events.txt", "results-attach.txt", "results-fleet.txt",
               "abuse-results.txt")


def work_directory() -> str:
    """/tmp/bpfleet-bench.XXXXXX, as `mktemp -d` names it: the name's length
    shows in the object the upload part compiles there (its debug info)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        path = "/tmp/bpfleet-bench." + "".join(random.choice(alphabet) for _ in range(6))
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue


def interrupted(*_: object) -> None:
    raise KeyboardInterrupt  # SIGTERM as Ctrl-C: the clean-up runs


def run_parts(session: Session, knobs: Knobs, parts: list[Part]) -> None:
    run(["scripts/setup.sh"], stdout=None)
    if any(part.programs for part in parts):
        run(["make", "-s", "-C", "programs"], stdout=None)
    builds = Builds(session, knobs)
    bench = Bench(session, knobs, builds)
    bpfleetd = builds.product("bpfleetd")
    if not bpfleetd:
        raise BenchError("bpfleetd does not build")
    bench.bpfleetd = bpfleetd
    builds.tools(dict.fromkeys(tool for part in parts for tool in part.tools))
    for part in parts:
        part.run(bench)
    if knobs.results:
        os.makedirs(knobs.results, exist_ok=True)
        for name in RAW_RESULTS:
            if os.path.exists(session.path(name)):
                shutil.copy(session.path(name), knobs.results)
    for part in parts:
        sys.stdout.write(part.table(bench))
    sys.stdout.flush()


def main() -> int:
    os.chdir(REPO)
    os.environ["PATH"] = "/opt/swift/usr/bin:" + os.environ.get("PATH", "")
    knobs = Knobs.from_environment(",".join(part.old_name for part in PARTS))
    try:
        parts = choose(knobs.only)
    except ValueError as error:
        note(f"BENCH_ONLY: unknown part '{error}' ({', '.join(names())})")
        return 2
    session = Session(work_directory())
    signal.signal(signal.SIGTERM, interrupted)
    try:
        run_parts(session, knobs, parts)
    except KeyboardInterrupt:
        return 130
    except BenchError as error:
        note(str(error))
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C does not cut the clean-up short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        session.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
