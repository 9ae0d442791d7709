"""8. Event throughput, ring buffer -> subscriber: a generator's getppid()
calls become records (programs/event_rate.bpf.c, probe `rate`, loaded
afresh for each run with the generator's pid). The subscriber is `bpfleet
events tail -o ndjson > file` or the bare C reader (events_read); the
generator goes as fast as it can (BENCH_EVENTS_COUNT records) or is paced
at each of BENCH_EVENTS_RATES records/s for BENCH_EVENTS_SECONDS,
BENCH_EVENTS_REPS rounds: records/s end to end, and what was lost (kernel,
server, client) against what was made."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from .common import Bench, BenchError, Node, Profile, Results, note, run, upload, wait_for_text, yes

if TYPE_CHECKING:
    from .unix_socket import Cli


@dataclass
class Stream:
    """What every event run shares: the server, the client, the object."""
    bench: Bench
    node: Node
    cli: Optional["Cli"]
    results: Results
    rate_object: str = ""
    nr: str = ""


class Subscriber:
    """A subscriber process, reaped with wait4() for its own CPU time."""

    def __init__(self, stream: Stream, argv: list[str], out: str, err: str) -> None:
        self.session = stream.bench.session
        with open(out, "w") as stdout, open(err, "w") as stderr:
            self.process = self.session.track(subprocess.Popen(argv, stdout=stdout, stderr=stderr))
        self.cpu_ms = 0

    def alive(self) -> bool:
        if self.process.returncode is not None:
            return False
        return self._reap(os.WNOHANG)

    def interrupt(self) -> None:
        if self.alive():
            self.process.send_signal(signal.SIGINT)

    def wait(self) -> None:
        if self.process.returncode is None:
            self._reap(0)
        self.session.untrack(self.process)

    def _reap(self, flags: int) -> bool:
        pid, status, usage = os.wait4(self.process.pid, flags)
        if pid == 0:
            return True
        self.process.returncode = os.waitstatus_to_exitcode(status)
        # As bash's `time` (TIMEFORMAT %U %S: seconds with 3 decimals) summed and truncated to ms.
        user, system = (int(round(t * 1e6)) // 1000 / 1000 for t in (usage.ru_utime, usage.ru_stime))
        self.cpu_ms = int((user + system) * 1000)
        return False


def prepare(bench: Bench, node: Node, cli: Optional["Cli"], results: Results) -> Stream:
    stream = Stream(bench, node, cli, results)
    stream.rate_object = upload(node.sock, "programs/build/event_rate.bpf.o", "event_rate")
    stream.nr = run([bench.tool("syscall_gen"), "--nr"])
    return stream


def measure(stream: Stream) -> None:
    knobs = stream.bench.knobs
    clients = ["cli", "c"] if stream.cli else ["c"]
    for round_ in range(1, knobs.events_reps + 1):
        for client in clients:
            one_run(stream, client, 0, knobs.events_count)
        for rate in knobs.events_rates:
            for client in clients:
                one_run(stream, client, rate, rate * knobs.events_seconds)
        note(f"event stream round {round_} of {knobs.events_reps} done")
    stream.results.record(f"ev_hwm_kb {stream.node.status_kb('VmHWM')}")


def one_run(stream: Stream, client: str, rate: int, count: int, stem: str = "") -> None:
    """A generator (waiting), the probe loaded for its pid and attached, a
    subscriber, then COUNT records at RATE (0: as fast as the generator
    goes). STEM: profiled with perf (STEM-server.data, STEM-client.data),
    and then not part of the table."""
    bench, node = stream.bench, stream.node
    at = bench.session.path
    for name in ("gen.out", "events.ndjson", "ready-ev", "reader.out"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(at(name))
    ready = at("events.ndjson") if client == "cli" else at("ready-ev")
    with open(at("gen.out"), "w") as out, open(at("gen.err"), "w") as err:
        generator = bench.session.track(subprocess.Popen([bench.tool("syscall_gen"), str(count), str(rate), ready], stdout=out, stderr=err))
    if not wait_for_text(at("gen.out"), "waiting", 100):
        raise BenchError(f"syscall_gen did not start: {_read(at('gen.err'))}")
    node.rpc("probe.load", {"name": "rate", "objectId": stream.rate_object, "programs": ["rate_ringbuf"],
                            "globals": {"target_tgid": generator.pid, "target_nr": int(stream.nr)}})
    node.rpc("probe.attach", {"probe": "rate", "program": "rate_ringbuf", "target": {"type": "auto"}})
    # A bound on the subscriber: the burst's time at the pace asked, or 1 µs a record, plus 20 s.
    limit = int((count / rate if rate else count / 1e6) + 20)
    profile = Profile(bench.session, at(f"{stem}-server.data"), node.pid) if stem else contextlib.nullcontext()
    with profile:
        cpu0 = node.cpu_ms()
        subscriber = _subscribe(stream, client, count, limit, ready, stem)
        generator.send_signal(signal.SIGUSR1)
        if generator.wait() != 0:
            raise BenchError(f"syscall_gen failed: {_read(at('gen.err'))}")
        bench.session.untrack(generator)
        made_line = "\n".join(line for line in _read(at("gen.out")).splitlines() if line.startswith("made="))
        _wait_for_end(subscriber, client, limit, at("events.ndjson"))
        cpu1 = node.cpu_ms()
    kernel_lost = node.rpc("map.lookup", {"map": {"probe": "rate", "name": "lost"}, "key": 0})["value"]
    attempts = node.rpc("map.lookup", {"map": {"probe": "rate", "name": "attempts"}, "key": 0})["value"]
    node.rpc("probe.unload", {"probe": "rate"})
    if client == "cli":
        got_line = _cli_output(at("events.ndjson"))
        got_line = f"{got_line} cpu_ms={subscriber.cpu_ms} bytes={os.path.getsize(at('events.ndjson'))}"
        said = _read(at("cli.err"))
        if said:
            note(f"bpfleet events tail said: {chr(10).join(said.splitlines()[:3])}")
    else:
        got_line = _read(at("reader.out")).rstrip("\n")
        if not got_line:
            raise BenchError(f"events_read failed: {_read(at('reader.err'))}")
    if not stem:
        stream.results.record(f"ev client={client} pace={rate} {made_line} {got_line} kernel_lost={kernel_lost} "
                              f"attempts={attempts} server_cpu_ms={cpu1 - cpu0}")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(at("events.ndjson"))


def _subscribe(stream: Stream, client: str, count: int, limit: int, ready: str, stem: str) -> Subscriber:
    """The CLI writing NDJSON to a file (under perf record with a STEM), or the bare C reader."""
    at = stream.bench.session.path
    if client == "cli":
        assert stream.cli is not None
        prefix = ["perf", "record", "-q", "-g", "-o", at(f"{stem}-client.data"), "--"] if stem else []
        argv = stream.cli.argv("events", "tail", "rate", "rate_events", "--record-type", "struct flood_record",
                               "-o", "ndjson", "--count", str(count), "--duration", f"{limit}s")
        return Subscriber(stream, prefix + argv, at("events.ndjson"), at("cli.err"))
    return Subscriber(stream, [stream.bench.tool("events_read"), stream.node.sock, "rate", "rate_events", str(count), ready],
                      at("reader.out"), at("reader.err"))


def _wait_for_end(subscriber: Subscriber, client: str, limit: int, ndjson: str) -> None:
    """The subscriber ends by itself (count reached; the C reader also after
    3 s idle). A CLI that lost records waits for its count: it is stopped
    (SIGINT) once its file has not grown for 3 s. Bounded."""
    last_size, still = -1, 0
    for _ in range(limit * 10):
        if not subscriber.alive():
            break
        if client == "cli":
            size = os.path.getsize(ndjson)
            still = still + 1 if size == last_size else 0
            last_size = size
            if still >= 30:
                subscriber.interrupt()
                still = -1000
        time.sleep(0.1)
    subscriber.interrupt()
    subscriber.wait()


def _read(path: str) -> str:
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def _cli_output(path: str) -> str:
    try:
        return check_events(path)
    except (ValueError, KeyError, TypeError, BenchError) as error:
        note("bad CLI output")
        with open(path, errors="replace") as f:
            for line in f.readlines()[:3]:
                sys.stderr.write(line)
        raise BenchError(f"check_events: {error}") from error


def check_events(path: str) -> str:
    """What `bpfleet events tail ... --record-type "struct flood_record" -o
    ndjson` wrote, in events_read's words: "records=R lost=L gaps=G
    reordered=O first_seq=F last_seq=S other=N t_last=T": the records, the
    sum of the `lost` lines (the server's losses and the client's own), the
    records missing between the `seq`s seen, `seq`s that went backwards,
    lines that are neither (an end or a failure), and the file's
    modification time (the last record's write, CLOCK_REALTIME). Every line
    must be JSON; a record must have an integer seq and nr."""
    records = lost = gaps = reordered = other = 0
    first = last = expected = None
    with open(path, "rb") as f:
        for raw in f:
            line = json.loads(raw)
            if "record" in line:
                record = line["record"]
                seq = record["seq"]
                if not isinstance(seq, int) or not isinstance(record["nr"], int):
                    raise BenchError(f"a record without integer fields: {raw!r}")
                records += 1
                if first is None:
                    first = seq
                elif seq > expected:
                    gaps += seq - expected
                elif seq < expected:
                    reordered += 1
                if expected is None or seq + 1 > expected:
                    expected = seq + 1
                last = seq
            elif "lost" in line:
                lost += line["lost"]
            else:
                other += 1
                print(f"check_events: {raw.decode().strip()}", file=sys.stderr)
    mtime = os.stat(path).st_mtime_ns / 1e9
    return (f"records={records} lost={lost} gaps={gaps} reordered={reordered} first_seq={first if first is not None else -1} "
            f"last_seq={last if last is not None else -1} other={other} t_last={mtime:.6f}")


# --- the table's rows -----------------------------------------------------------------------------

CLIENTS = {
    "cli": '`bpfleet events tail ... -o ndjson --count N > file`',
    "c": "bare C reader (`events_read`: counts records, writes nothing)",
}


def derive(r: dict) -> dict:
    """A run's figures: records/s end to end, what is missing, whether every record is accounted for."""
    made, got = int(r["made"]), int(r["records"])
    kernel, lost = int(r["kernel_lost"]), int(r["lost"])
    elapsed = float(r["t_last"]) - float(r["start"])
    # The first record is made before the timed burst (the handshake).
    r["e2e"] = (got - 1) / elapsed if got > 1 and elapsed > 0 else 0.0
    r["missing"] = made - got
    r["accounted"] = made == got + lost + kernel and int(r["gaps"]) == lost and int(r["reordered"]) == 0
    r["server_us"] = float(r["server_cpu_ms"]) * 1e3 / max(got, 1)
    r["client_us"] = float(r["cpu_ms"]) * 1e3 / max(got, 1)
    return r


def _losses(rs: list[dict]) -> tuple[int, int, int, int, int, bool]:
    made = sum(int(r["made"]) for r in rs)
    got = sum(int(r["records"]) for r in rs)
    kernel = sum(int(r["kernel_lost"]) for r in rs)
    lost = sum(int(r["lost"]) for r in rs)
    gaps = sum(int(r["gaps"]) for r in rs)
    return made, got, kernel, lost, gaps, all(r["accounted"] for r in rs)


def rows(runs: list[dict], hwm: Optional[str]) -> list[tuple[str, str, str, str]]:
    runs = [derive(r) for r in runs]
    found = []
    for pace in sorted({int(r["pace"]) for r in runs}, key=lambda p: (p != 0, p)):
        for client in ("cli", "c"):
            rs = [r for r in runs if int(r["pace"]) == pace and r["client"] == client]
            if not rs:
                continue
            n = int(rs[0]["made"])
            made, got, kernel, lost, gaps, ok = _losses(rs)
            rates = [r["e2e"] for r in rs]
            gen = statistics.median(float(r["rate"]) for r in rs)
            what = "as fast as the generator goes" if pace == 0 else f"paced at {pace:,} records/s"
            label = f"8. events, {what}, {n:,} records per run ({len(rs)} run{'s' if len(rs) > 1 else ''}), {CLIENTS[client]}"
            loss_text = (f"received {got:,} of {made:,} made; lost: kernel {kernel:,}, "
                         f"{'server + client' if client == 'cli' else 'server'} {lost:,} (seq gaps {gaps:,}); "
                         f"accounted for: {'yes' if ok else 'NO'}")
            result = (f"median {statistics.median(rates):,.0f} records/s end to end "
                      f"(runs: {', '.join(f'{x:,.0f}' for x in rates)}); generator made {gen:,.0f}/s; {loss_text}")
            target, met = "", ""
            if pace == 0 and client == "cli":
                best_cli = statistics.median(rates)
                target, met = ">= 200,000 records/s", yes(best_cli >= 200000)
            if pace == 100000:
                target, met = "zero loss", yes(made == got)
            found.append((label, result, target, met))
            found.append(("   CPU per record received: bpfleetd / the subscriber (medians)",
                          f"{statistics.median(r['server_us'] for r in rs):.2f} µs / {statistics.median(r['client_us'] for r in rs):.2f} µs"
                          + (f"; {statistics.median(int(r['records']) / max(int(r['notifications']), 1) for r in rs):,.0f} records per notification"
                             if client == "c" else
                             f"; {statistics.median(int(r['bytes']) / max(int(r['records']), 1) for r in rs):.0f} bytes per NDJSON line"),
                          "", ""))
    if hwm:
        found.append(("8. bpfleetd VmHWM after the event runs (--max-queued-events 65536)", f"{int(hwm) * 1024 / 1e6:.1f} MB", "", ""))
    return found
