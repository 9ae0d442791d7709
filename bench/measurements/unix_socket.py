"""The node server on its Unix socket (issue 2): one bpfleetd with a
1,000,000-entry u32 -> u64 hash map pinned (probe `big`), for the snapshot,
server memory and node.info round-trip measurements; then, with that server
gone and the CPUs free, the JSON encoders. One table (results.txt)."""
from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
from typing import Optional

from . import encoders, rpc_roundtrip, server_memory, snapshot
from .common import (Bench, BenchError, Node, Part, Profile, machine_line, markdown_table, note, remove, run, succeeds,
                     top_symbols, upload)


class Cli:
    """The bpfleet client against the server, its global options (-n) before
    the command or after it, whichever form answers; None if neither does."""

    def __init__(self, binary: str, sock: str, form: str) -> None:
        self.binary, self.sock, self.form = binary, sock, form

    @classmethod
    def find(cls, binary: Optional[str], sock: str, what: str) -> Optional["Cli"]:
        if not binary:
            return None
        if succeeds([binary, "-n", f"unix:{sock}", "node", "info"]):
            return cls(binary, sock, "before")
        if succeeds([binary, "node", "info", "-n", f"unix:{sock}"]):
            return cls(binary, sock, "after")
        note(f"the bpfleet client cannot talk to the server: {what}")
        return None

    def argv(self, *args: str) -> list[str]:
        if self.form == "before":
            return [self.binary, "-n", f"unix:{self.sock}", *args]
        return [self.binary, *args, "-n", f"unix:{self.sock}"]


def run_part(bench: Bench) -> None:
    session, knobs = bench.session, bench.knobs
    results = session.results("results.txt")
    bpfleet = bench.builds.product("bpfleet")
    encoder_binary = encoders.build(session)

    sock = session.path("bpfleetd.sock")
    pins = session.pin_root("")
    node = Node(session, bench.bpfleetd, sock,
                ["--listen", f"unix:{sock}", "--state-dir", session.path("state"), "--pin-root", pins],
                session.path("ready"), session.path("bpfleetd.log"))
    node.wait_ready()
    # At any exit while it runs: the probe unloaded before the server stops.
    session.on_exit("unload big", lambda: _unload_if_running(node))
    server_memory.idle(node, results)

    cli = Cli.find(bpfleet, sock, "the end-to-end row is left out")
    results.record(f"cli_form {cli.form if cli else 'none'}")

    object_id = upload(sock, "programs/build/big_hash.bpf.o", "big_hash")
    node.rpc("probe.load", {"name": "big", "objectId": object_id})
    pin = os.path.join(pins, "big", "maps", "big")
    if not os.path.exists(pin):
        subprocess.run(["ls", "-R", pins], stdout=sys.stderr)
        raise BenchError(f"no pin at {pin}")
    filled = run([bench.tool("fill_map"), pin, str(knobs.entries)])
    note(f"filled: {filled}")
    key_sum = int(re.sub(r".*key_sum=([0-9]+).*", r"\1", filled))
    value_sum = int(re.sub(r".*value_sum=([0-9]+).*", r"\1", filled))
    server_memory.loaded(node, results)

    snapshot.measure(bench, node, cli, pin, key_sum, value_sum, results)
    server_memory.after_snapshots(node, results)
    rpc_roundtrip.measure(bench, sock, results)
    server_memory.at_end(node, results)
    if bench.profiling:
        _profile(bench, node, cli)

    # The server is done: unload, stop, unpin before the encoders use the CPUs.
    node.rpc("probe.unload", {"probe": "big"})
    session.done("unload big")
    node.stop()
    remove(pins)

    encoders.measure(bench, encoder_binary, results)
    results.record(machine_line())
    results.record(f"entries {knobs.entries}")
    results.record(f"reps {knobs.reps}")


def _unload_if_running(node: Node) -> None:
    if node.process.poll() is None:
        try:
            node.rpc("probe.unload", {"probe": "big"})
        except (OSError, BenchError, ValueError):
            pass


def _profile(bench: Bench, node: Node, cli: Optional[Cli]) -> None:
    """perf of the server and the client over one more snapshot, and of the
    server under one more (quarter) node.info load."""
    session, knobs = bench.session, bench.knobs
    os.makedirs(knobs.perf, exist_ok=True)
    with Profile(session, session.path("server-snapshot.data"), node.pid):
        if cli:
            with open(session.path("perf-dump.json"), "w") as out:
                run(["perf", "record", "-q", "-g", "-o", session.path("client-snapshot.data"), "--",
                     *cli.argv("map", "dump", "big", "big", "-o", "json")], stdout=out)
            os.unlink(session.path("perf-dump.json"))
        else:
            run([bench.tool("rpc_call"), node.sock, "1", "map.snapshot", snapshot.PARAMS])
    with Profile(session, session.path("server-nodeinfo.data"), node.pid):
        run([bench.tool("rpc_load"), node.sock, str(knobs.rpc_clients), str(knobs.rpc_load_calls // 4)])
    for profile in ("server-snapshot", "client-snapshot", "server-nodeinfo"):
        if os.path.exists(session.path(f"{profile}.data")):
            top_symbols(session.path(f"{profile}.data"), os.path.join(knobs.perf, f"{profile}.txt"))
    note(f"perf profiles (top symbols) in {knobs.perf}")


# --- the table ------------------------------------------------------------------------------------

class Values:
    """results.txt read back: name -> the raw strings recorded (dicts for the tools' key=value lines)."""

    def __init__(self, path: str) -> None:
        self.values: dict[str, list] = {}
        with open(path) as f:
            for line in f:
                self._add(line.strip())

    def _add(self, line: str) -> None:
        if not line:
            return
        if line.startswith("encoder="):
            self.values.setdefault("encoder", []).append(dict(item.split("=", 1) for item in line.split()))
        elif line.startswith(("rpc1 ", "rpcN ")):
            name, rest = line.split(" ", 1)
            self.values.setdefault(name, []).append(dict(item.split("=", 1) for item in rest.split()))
        else:
            name, _, rest = line.partition(" ")
            self.values.setdefault(name, []).append(rest)

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def get(self, name: str) -> list:
        return self.values.get(name, [])

    def floats(self, name: str) -> list[float]:
        return [float(v) for v in self.get(name)]

    def one(self, name: str, default: Optional[str] = "?") -> Optional[str]:
        return self.values.get(name, [default])[-1]

    def ms(self, name: str) -> Optional[tuple[float, float, int]]:
        """(median, min, runs) of a timing, or None."""
        xs = self.floats(name)
        if not xs:
            return None
        return statistics.median(xs), min(xs), len(xs)


def table(bench: Bench) -> str:
    values = Values(bench.session.path("results.txt"))
    rows = snapshot.rows(values) + encoders.rows(values) + server_memory.rows(values) + rpc_roundtrip.rows(values)
    machine = values.one("machine", "")
    return (f"\nbench: {machine.replace('_', ' ')}\n"
            f"bench: bpfleetd build: {values.one('config_bpfleetd')}, bpfleet build: {values.one('config_bpfleet', 'none')}; "
            f"client options: {values.one('cli_form', 'none')} the command\n\n" + markdown_table(rows))


PART = Part(name="unix_socket", old_name="issue2", measurements=("snapshot", "encoders", "server_memory", "rpc_roundtrip"),
            tools=("fill_map", "batch_lookup", "rpc_call", "rpc_load", "jansson_encode"), programs=True,
            run=run_part, table=table, results=("results.txt",))
