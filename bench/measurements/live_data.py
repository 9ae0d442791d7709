"""Live data (issue 4): one bpfleetd with its defaults
(--max-queued-events 65536) for the event throughput and the map watch
measurements. One table (results-events.txt)."""
from __future__ import annotations

import os
import time

from . import event_throughput, map_watch
from .common import Bench, Node, Part, Profile, machine_line, markdown_table, note, remove, top_symbols
from .unix_socket import Cli


def run_part(bench: Bench) -> None:
    session = bench.session
    results = session.results("results-events.txt")
    bpfleet = bench.builds.product("bpfleet")
    sock, pins = session.path("bpfleetd-events.sock"), session.pin_root("events")
    node = Node(session, bench.bpfleetd, sock,
                ["--listen", f"unix:{sock}", "--state-dir", session.path("state-events"), "--pin-root", pins],
                session.path("ready-events"), session.path("bpfleetd-events.log"))
    node.wait_ready()
    time.sleep(1)
    results.record(f"ev_rss_idle_kb {node.status_kb('VmRSS')}")
    cli = Cli.find(bpfleet, sock, "the events tail rows are left out")

    stream = event_throughput.prepare(bench, node, cli, results)
    event_throughput.measure(stream)
    watched = map_watch.measure(bench, node, pins, results)
    if bench.profiling:
        _profile(bench, stream, watched)
    else:
        node.rpc("probe.unload", {"probe": "watch"})

    node.stop()
    remove(pins)
    results.record(machine_line())
    results.record("max_queued_events 65536")


def _profile(bench: Bench, stream: event_throughput.Stream, watched: map_watch.Watched) -> None:
    """perf of the server under the full map watches (5 s), then of the
    server (and the CLI) over one more unpaced event run of each kind, and
    of the server over one more run paced at 100,000 records/s."""
    session, knobs, node = bench.session, bench.knobs, stream.node
    os.makedirs(knobs.perf, exist_ok=True)
    out = lambda name: os.path.join(knobs.perf, name)  # noqa: E731
    with Profile(session, session.path("server-watch.data"), node.pid):
        with open(os.devnull, "w") as devnull:
            watched.clients(1, 5, f"full:{knobs.watch_clients}", stdout=devnull)
    top_symbols(session.path("server-watch.data"), out("server-watch.txt"))
    node.rpc("probe.unload", {"probe": "watch"})
    event_throughput.one_run(stream, "c", 0, knobs.events_count, "events-c")
    top_symbols(session.path("events-c-server.data"), out("server-events-c.txt"))
    event_throughput.one_run(stream, "c", 100000, 100000 * knobs.events_seconds, "events-paced")
    top_symbols(session.path("events-paced-server.data"), out("server-events-paced.txt"))
    if stream.cli:
        event_throughput.one_run(stream, "cli", 0, knobs.events_count, "events-cli")
        top_symbols(session.path("events-cli-server.data"), out("server-events-cli.txt"))
        top_symbols(session.path("events-cli-client.data"), out("client-events-cli.txt"))
    note(f"perf profiles (top symbols) of the events server and client in {knobs.perf}")


def table(bench: Bench) -> str:
    runs: list[dict] = []  # one dict per event run
    watch: dict[str, list[dict]] = {}  # label -> list of dicts (one per mode, and the server's)
    values: dict[str, list[str]] = {}  # name -> list of raw strings
    with open(bench.session.path("results-events.txt")) as f:
        for line in f:
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

    def one(name: str, default=None):
        return values.get(name, [default])[-1]

    rows = (event_throughput.rows(runs, one("ev_hwm_kb"))
            + map_watch.rows(watch, int(one("watch_entries", "0")), int(one("watch_changes", "0"))))
    configs = [f"{name[len('config_'):]} {one(name)}" for name in ("config_bpfleetd", "config_bpfleet") if one(name)]
    return f"builds: {', '.join(configs) or 'unknown'}; {one('machine', '')}\n" + markdown_table(rows)


PART = Part(name="live_data", old_name="events", measurements=("event_throughput", "map_watch"),
            tools=("syscall_gen", "events_read", "watch_clients", "churn_map", "fill_map"), programs=True,
            run=run_part, table=table, results=("results-events.txt",))
