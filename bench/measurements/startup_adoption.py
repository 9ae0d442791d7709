"""11. Start-up of a bpfleetd with BENCH_SURVIVAL_PROBES probes (syscall_count,
each attached to raw tracepoint sys_enter) to adopt after kill -9, to
restore (their pins removed too), and with none (an empty state
directory): from just before the exec to the first probe.list reply that
lists every probe of that origin, all running; the server is then killed
with SIGKILL (as a crash). BENCH_SURVIVAL_REPS rounds of the three."""
from __future__ import annotations

import glob
import json
import os
import socket
import statistics
import subprocess
import time

from .common import Bench, BenchError, Node, Results, note, remove, upload


def _call(sock: socket.socket, reader, ident: int, method: str, params: object = None) -> dict:
    request: dict = {"jsonrpc": "2.0", "id": ident, "method": method}
    if params is not None:
        request["params"] = params
    sock.sendall(json.dumps(request).encode() + b"\n")
    reply = json.loads(reader.readline())
    if "error" in reply:
        raise BenchError(f"start-up: {method}: {json.dumps(reply['error'])}")
    return reply["result"]


def load(path: str, object_id: str, program: str, tracepoint: str, count: int, prefix: str) -> None:
    """COUNT probes PREFIX000.. (only PROGRAM), each with one raw_tracepoint attach, on one connection."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(path)
        reader = sock.makefile("rb")
        for i in range(count):
            name = f"{prefix}{i:03d}"
            _call(sock, reader, 2 * i + 1, "probe.load", {"name": name, "objectId": object_id, "programs": [program]})
            _call(sock, reader, 2 * i + 2, "probe.attach",
                  {"probe": name, "program": program, "target": {"type": "raw_tracepoint", "name": tracepoint}})


def timed_start(bench: Bench, path: str, origin: str, count: int, command: list[str]) -> str:
    """Starts bpfleetd (stdout, stderr to survival.pid.out, .err) and polls
    the socket every 1 ms: "ms=T probes=N" from just before the exec to the
    first probe.list reply that lists COUNT probes of origin ORIGIN, all
    running (COUNT = 0: the first reply). Then kills it with SIGKILL."""
    session = bench.session
    stem = session.path("survival.pid")
    with open(stem + ".out", "w") as out, open(stem + ".err", "w") as err:
        began = time.monotonic()
        server = session.track(subprocess.Popen(command, stdout=out, stderr=err))
    try:
        return _wait_for(path, origin, count, server, began)
    finally:
        server.kill()
        server.wait()
        session.untrack(server)


def _wait_for(path: str, origin: str, count: int, server: subprocess.Popen, began: float) -> str:
    deadline = began + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"start-up: bpfleetd exited with status {server.returncode}")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.connect(path)
                result = _call(sock, sock.makefile("rb"), 1, "probe.list", {})
        except (ConnectionRefusedError, FileNotFoundError):
            time.sleep(0.001)
            continue
        probes = result["probes"] if isinstance(result, dict) else result
        ready = [p for p in probes if p.get("origin") == origin and p.get("state") == "running"]
        if len(ready) == count and (count > 0 or not probes):
            return f"ms={(time.monotonic() - began) * 1e3:.1f} probes={len(probes)}"
        failed = [p["name"] for p in probes if p.get("state") in ("failed", "degraded")]
        if failed:
            raise BenchError(f"start-up: probes not running after the start: {failed[:5]}")
        time.sleep(0.001)
    raise BenchError(f"start-up: no {count} {origin} running probes within 120 s")


def measure(bench: Bench, results: Results) -> None:
    session, knobs = bench.session, bench.knobs
    sock, probes = session.path("bpfleetd-survival.sock"), knobs.survival_probes
    pins, empty_pins = session.pin_root("survival"), session.pin_root("survival-empty")
    args = ["--listen", f"unix:{sock}", "--state-dir", session.path("state-survival"), "--pin-root", pins]
    empty_args = ["--listen", f"unix:{sock}", "--state-dir", session.path("state-empty"), "--pin-root", empty_pins]
    start = lambda origin, count, extra: timed_start(bench, sock, origin, count, [bench.bpfleetd, *extra])  # noqa: E731

    start("none", 0, args)  # the state directory, empty
    node = _server(bench, sock, args, 100, "w")
    object_id = upload(sock, "programs/build/syscall_count.bpf.o", "syscall_count")
    began = time.time()
    load(sock, object_id, "count_syscall", "sys_enter", probes, "sv-")
    results.record(f"survival_load_ms {(time.time() - began) * 1e3:.0f}")
    node.stop(9)
    for rep in range(1, knobs.survival_reps + 1):
        results.record(f"start_none {start('none', 0, empty_args)}")
        results.record(f"start_adopt {start('adopted', probes, args)}")
        for pin in glob.glob(os.path.join(pins, "*")):
            remove(pin)
        results.record(f"start_restore {start('restored', probes, args)}")
        note(f"start-up round {rep} of {knobs.survival_reps} done")
    # The last start restored them all: unload every probe.
    node = _server(bench, sock, args, 300, "a")
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(sock)
        reader = s.makefile("rb")
        for i in range(probes):
            s.sendall(json.dumps({"jsonrpc": "2.0", "id": i, "method": "probe.unload", "params": {"probe": f"sv-{i:03d}"}}).encode() + b"\n")
            reply = json.loads(reader.readline())
            if "error" in reply:
                raise BenchError(f"probe.unload sv-{i:03d}: {reply['error']}")
    node.stop()
    if os.path.isdir(pins) and os.listdir(pins):
        note(f"{' '.join(os.listdir(pins))}")
        raise BenchError("pins left after the survival runs")


def _server(bench: Bench, sock: str, args: list[str], tries: int, log_mode: str) -> Node:
    """bpfleetd as a plain start (untimed), waited for up to TRIES x 0.1 s."""
    session = bench.session
    node = Node(session, bench.bpfleetd, sock, args, session.path("ready-survival"), session.path("bpfleetd-survival.log"),
                log_mode=log_mode)
    node.wait_ready(tries, check=False)
    return node


# --- the table --------------------------------------------------------------------------------------

def table(starts: dict[str, list[float]], facts: dict[str, str]) -> str:
    n = facts.get("survival_probes", "?")
    lines = [f"\n11. start-up, from exec to the first probe.list reply with every probe back ({facts.get('survival_reps', '?')} runs each; "
             f"loading the {n} probes took {facts.get('survival_load_ms', '?')} ms)"]
    labels = {"start_none": "no probes (empty state directory)",
              "start_adopt": f"{n} probes adopted (after kill -9)",
              "start_restore": f"{n} probes restored (kill -9, pins removed)"}
    none = statistics.median(starts["start_none"]) if starts["start_none"] else None
    for key, label in labels.items():
        values = starts[key]
        if not values:
            lines.append(f"  {label}: missing")
            continue
        median = statistics.median(values)
        extra = (f", +{median - none:.0f} ms over none ({(median - none) / int(n):.1f} ms a probe)"
                 if none is not None and key != "start_none" else "")
        lines.append(f"  {label}: median {median:.0f} ms (runs: {', '.join(f'{v:.0f}' for v in values)}){extra}")
    return "\n".join(lines) + "\n"
