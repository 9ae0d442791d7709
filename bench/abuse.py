#!/usr/bin/env python3
"""abuse.py BPFLEETD_AFTER [BPFLEETD_BEFORE|-] PROGRAMS_DIR WORK_DIR: what each
attack of issue 11 costs bpfleetd, before and after the fix, side by side in
one run (`BENCH_ONLY=abuse make bench`; BEFORE comes from BENCH_ABUSE_BEFORE).
With BEFORE absent or "-", only AFTER is measured.

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
WORK_DIR/abuse-bin with bench.sh's flags:

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
import base64
import json
import os
import select
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no bench/__pycache__ from importing rpc
from rpc import call  # noqa: E402

ATTACKS = ["nested", "noread", "batch", "watch", "strangers", "halfclose"]
BASELINES = ["rpc16", "snapshot", "watch50"]
BASELINE_ROUNDS = int(os.environ.get("ABUSE_BASELINE_ROUNDS", "3"))
RPC16_CLIENTS = 16
RPC16_CALLS = int(os.environ.get("ABUSE_RPC16_CALLS", "200000"))
SNAPSHOT_ENTRIES = int(os.environ.get("ABUSE_SNAPSHOT_ENTRIES", "1000000"))
SNAPSHOT_REPS = int(os.environ.get("ABUSE_SNAPSHOT_REPS", "3"))
WATCH50_CLIENTS = 50
WATCH50_ENTRIES = int(os.environ.get("ABUSE_WATCH50_ENTRIES", "10000"))
WATCH50_SECONDS = float(os.environ.get("ABUSE_WATCH50_SECONDS", "10"))
WATCH50_SETTLE = 2  # seconds after every subscription is answered, before the window (as bench.sh)
TOOL_TIMEOUT = 900  # seconds a baseline tool may run before the run fails
SCALE = float(os.environ.get("ABUSE_SCALE", "1"))
CAP = float(os.environ.get("ABUSE_CAP", "60"))
TERM_GRACE = float(os.environ.get("ABUSE_TERM_GRACE", "10"))
RSS_CAP_MIB = float(os.environ.get("ABUSE_RSS_CAP_MIB", "12288"))
NOREAD_SETTLE = float(os.environ.get("ABUSE_NOREAD_SETTLE", "5"))
WATCH_SECONDS = float(os.environ.get("ABUSE_WATCH_SECONDS", "20"))
HOLD_SECONDS = float(os.environ.get("ABUSE_HOLD_SECONDS", "10"))
HALFCLOSE_PAUSE = float(os.environ.get("ABUSE_HALFCLOSE_PAUSE_MS", "1")) / 1000
STRANGERS_SEND = os.environ.get("ABUSE_STRANGERS_SEND", "nothing")
PIN_PREFIX = os.environ.get("ABUSE_PIN_PREFIX", f"/sys/fs/bpf/bpfleet-bench-abuse-{os.getpid()}")
CLK = os.sysconf("SC_CLK_TCK")
STRANGER_GROUP = 54400
STRANGER_UIDS = 20
PROBE = "abuse"


def scaled(n, least=1):
    return max(least, int(round(n * SCALE)))


def note(text):
    print(f"abuse: {text}", file=sys.stderr, flush=True)


def nested_line(ident, depth=500):
    return (f'{{"jsonrpc":"2.0","id":{ident},"method":"node.info","params":{{"a":' + "[" * depth + "]" * depth + "}}\n").encode()


# --- the server's process ------------------------------------------------------------------

def proc_stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def cpu_seconds(pid):
    fields = proc_stat(pid)  # fields[0] is field 3 (state): utime is field 14, stime 15
    return (int(fields[11]) + int(fields[12])) / CLK


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def children_of(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(proc_stat(entry)[1]) == pid:
                    found.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return found


class Server:
    """One bpfleetd on a temporary socket, state directory and pin root."""
    live = []

    def __init__(self, binary, root, label, attack, extra=()):
        self.dir = tempfile.mkdtemp(prefix=f"{label}-{attack}-", dir=root)
        os.chmod(self.dir, 0o711)  # strangers (other uids) must reach the socket
        self.sock = os.path.join(self.dir, "bpfleetd.sock")
        self.pins = f"{PIN_PREFIX}-{label}-{attack}"
        self.stopped = None
        self.log = open(os.path.join(self.dir, "stderr.log"), "wb")
        out_path = os.path.join(self.dir, "stdout.log")
        with open(out_path, "wb") as out:
            self.proc = subprocess.Popen([binary, "--listen", f"unix:{self.sock}", "--state-dir", os.path.join(self.dir, "state"),
                                          "--pin-root", self.pins, "--log-level", "warning", *extra],
                                         stdout=out, stderr=self.log, stdin=subprocess.DEVNULL)
        Server.live.append(self)
        self.pid = self.proc.pid
        limit = time.monotonic() + 60
        while True:
            with open(out_path, "rb") as f:
                if b"bpfleetd ready" in f.read():
                    break
            if self.proc.poll() is not None or time.monotonic() > limit:
                self.stop()
                raise RuntimeError(f"{binary} did not start: {self.stderr_tail()}")
            time.sleep(0.05)

    def stderr_tail(self):
        try:
            with open(os.path.join(self.dir, "stderr.log"), "rb") as f:
                return f.read()[-400:].decode(errors="replace").strip()
        except OSError:
            return ""

    def stop(self, cpu_watch=False):
        """SIGTERM, SIGKILL after TERM_GRACE; then its helpers, pins and files go.
        Returns (seconds SIGTERM took, killed, CPU seconds spent meanwhile)."""
        if self.stopped is not None:
            return self.stopped
        helpers = children_of(self.pid) if self.proc.poll() is None else []
        spent = 0.0
        start = time.monotonic()
        killed = False
        if self.proc.poll() is None:
            try:
                before = cpu_seconds(self.pid)
            except OSError:
                before = None
            self.proc.send_signal(signal.SIGTERM)
            while self.proc.poll() is None and time.monotonic() - start < TERM_GRACE:
                if before is not None:
                    try:
                        spent = cpu_seconds(self.pid) - before
                    except (OSError, IndexError):
                        pass
                time.sleep(0.02)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
                killed = True
        elapsed = time.monotonic() - start
        for helper in helpers:
            try:
                with open(f"/proc/{helper}/cmdline", "rb") as f:
                    if b"--object-helper" in f.read():  # bpfleetd's helper (/proc/self/exe --object-helper ...)
                        os.kill(helper, signal.SIGKILL)
            except OSError:
                pass
        self.log.close()
        subprocess.run(["rm", "-rf", self.pins])
        shutil.rmtree(self.dir, ignore_errors=True)
        if self in Server.live:
            Server.live.remove(self)
        self.stopped = (elapsed, killed, spent)
        return self.stopped


# --- what the attack costs, and what an operator meanwhile gets -----------------------------

class LineConnection:
    def __init__(self, path, timeout=5.0):
        self.sock = connect(path, timeout)
        self.buffer = b""

    def read_line(self, until, stop=None):
        """A line (without its newline), or None at the deadline/stop; raises EOFError when closed."""
        while b"\n" not in self.buffer:
            if time.monotonic() > until or (stop is not None and stop.is_set()):
                return None
            self.sock.settimeout(max(0.01, min(0.2, until - time.monotonic())))
            try:
                chunk = self.sock.recv(1 << 16)
            except socket.timeout:
                continue
            if not chunk:
                raise EOFError
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line

    def close(self):
        self.sock.close()


def connect(path, timeout=5.0):
    """A connected socket; retries while the listen backlog is full."""
    until = time.monotonic() + timeout
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(max(0.05, until - time.monotonic()))
        try:
            sock.connect(path)
            return sock
        except (BlockingIOError, socket.timeout, ConnectionRefusedError):
            sock.close()
            if time.monotonic() > until:
                raise TimeoutError(f"connect {path}")
            time.sleep(0.02)
        except OSError:
            sock.close()
            raise


def error_code(line):
    try:
        reply = json.loads(line)
    except ValueError:
        return "garbled"
    if isinstance(reply, dict) and "error" in reply:
        return reply["error"].get("code")
    return None


class Monitor:
    """Samples the server's RSS every 50 ms; an operator calls node.info every 0.5 s."""

    def __init__(self, server, fresh=False):
        self.server = server
        self.pid = server.pid
        self.fresh = fresh  # a new connection per call (strangers: a place at connect is the question)
        self.cpu0 = cpu_seconds(self.pid)
        self.rss0 = rss_kib(self.pid)
        self.peak = self.rss0
        self.calls = []  # (started, seconds, outcome): "ok", an error code, "closed", "pending"
        self.stop = threading.Event()
        self.result = None
        self.threads = [threading.Thread(target=self.sample, daemon=True), threading.Thread(target=self.operator, daemon=True)]
        for thread in self.threads:
            thread.start()

    def over_rss(self):
        return (self.peak - self.rss0) / 1024 > RSS_CAP_MIB

    def sample(self):
        while not self.stop.wait(0.05):
            try:
                self.peak = max(self.peak, rss_kib(self.pid))
            except OSError:
                return

    def operator(self):
        conn = None
        ident = 0
        while not self.stop.is_set():
            started = time.monotonic()
            outcome = None
            try:
                if conn is None:
                    conn = LineConnection(self.server.sock, timeout=CAP)
                ident += 1
                conn.sock.settimeout(5)
                conn.sock.sendall(b'{"jsonrpc":"2.0","id":%d,"method":"node.info"}\n' % ident)
                while outcome is None:
                    line = conn.read_line(started + 3600, self.stop)
                    if line is None:
                        outcome = "pending"
                        break
                    reply = json.loads(line)
                    if reply.get("id") is None and "error" in reply:  # refused at connect; closed next
                        outcome = reply["error"].get("code")
                        conn.close()
                        conn = None
                    elif reply.get("id") == ident:
                        outcome = reply["error"].get("code") if "error" in reply else "ok"
            except (OSError, EOFError, ValueError, TimeoutError):
                outcome = outcome or ("pending" if self.stop.is_set() else "closed")
                if conn is not None:
                    conn.close()
                conn = None
            self.calls.append((started, time.monotonic() - started, outcome))
            if self.fresh and conn is not None:
                conn.close()
                conn = None
            self.stop.wait(max(0.0, started + 0.5 - time.monotonic()))
        if conn is not None:
            conn.close()

    def end(self):
        """Stops the sampling; the server's CPU and RSS growth since the start. Idempotent."""
        if self.result is None:
            try:
                cpu = cpu_seconds(self.pid) - self.cpu0
                self.peak = max(self.peak, rss_kib(self.pid))
            except OSError:
                cpu = float("nan")
            self.stop.set()
            for thread in self.threads:
                thread.join(10)
            latencies = [seconds for _, seconds, _ in self.calls]
            self.result = {
                "cpu_s": cpu,
                "rss_growth_mib": (self.peak - self.rss0) / 1024,
                "rss_base_mib": self.rss0 / 1024,
                "rss_peak_mib": self.peak / 1024,
                "op_max_s": max(latencies) if latencies else float("nan"),
                "op_calls": len(self.calls),
                "op_ok": sum(1 for call_ in self.calls if call_[2] == "ok"),
                "op_pending": any(call_[2] == "pending" for call_ in self.calls),
            }
        return self.result


class Attack:
    def __init__(self, monitor):
        self.monitor = monitor
        self.start = time.monotonic()
        self.deadline = self.start + CAP
        self.capped = None

    def expired(self):
        if self.capped is None:
            if time.monotonic() > self.deadline:
                self.capped = f"capped at {CAP:g} s"
            elif self.monitor.over_rss():
                self.capped = f"capped at +{RSS_CAP_MIB:g} MiB"
        return self.capped is not None

    def hold(self, seconds):
        until = min(time.monotonic() + seconds, self.deadline + 0.001)
        while time.monotonic() < until and not self.expired():
            time.sleep(0.05)


# --- setup for the map attacks ---------------------------------------------------------------

def load_big(server, programs, fill_tool, entries):
    with open(os.path.join(programs, "build", "big_hash.bpf.o"), "rb") as f:
        data = base64.b64encode(f.read()).decode()
    object_id = call(server.sock, "object.upload", {"data": data, "name": "big_hash"})["objectId"]
    call(server.sock, "probe.load", {"name": PROBE, "objectId": object_id})
    pin = os.path.join(server.pins, PROBE, "maps", "big")
    if fill_tool:
        return subprocess.run([fill_tool, pin, str(entries)], check=True, stdout=subprocess.PIPE, text=True).stdout.strip()
    # No fill_map: map.update requests in windows of 32 lines per write.
    conn = LineConnection(server.sock)
    for start in range(0, entries, 32):
        count = min(32, entries - start)
        conn.sock.sendall(b"".join(json.dumps({"jsonrpc": "2.0", "id": start + n, "method": "map.update", "params": {
            "map": {"probe": PROBE, "name": "big"}, "key": start + n, "value": start + n}}).encode() + b"\n" for n in range(count)))
        for _ in range(count):
            line = conn.read_line(time.monotonic() + 60)
            if line is None or error_code(line) is not None:
                raise RuntimeError(f"map.update: {line!r}")
    conn.close()


# --- the attacks --------------------------------------------------------------------------------

def attack_nested(server, attack, ctx):
    per_connection = scaled(17)
    conns = [LineConnection(server.sock) for _ in range(4)]
    sent = 0
    for c, conn in enumerate(conns):
        conn.sock.settimeout(CAP)
        conn.sock.sendall(b"".join(nested_line(c * 1000 + n) for n in range(per_connection)))
        sent += per_connection
    codes = {}
    answered = 0
    pending = list(conns)
    while pending and not attack.expired():
        for conn in list(pending):
            try:
                line = conn.read_line(time.monotonic() + 0.05)
            except EOFError:
                pending.remove(conn)
                continue
            if line is not None:
                answered += 1
                code = error_code(line)
                codes[code] = codes.get(code, 0) + 1
                if answered >= sent:
                    pending.clear()
    seconds = time.monotonic() - attack.start
    stats = attack.monitor.end()
    for conn in conns:
        conn.close()
    return {"lines": sent, "answered": answered, "seconds": seconds,
            "cpu_per_line_s": stats["cpu_s"] / answered if answered else float("nan"),
            "codes": ",".join(f"{'ok' if code is None else code}x{n}" for code, n in sorted(codes.items(), key=str)) or "none"}


def attack_noread(server, attack, ctx):
    request = b'{"jsonrpc":"2.0","id":1,"method":"node.info"}\n'
    chunk = request * 512
    target = scaled(300000) * len(request)
    sock = connect(server.sock)
    sock.setblocking(False)
    sent = 0
    last_progress = time.monotonic()
    stalled = False
    try:
        while sent < target and not attack.expired():
            offset = sent % len(chunk)
            view = memoryview(chunk)[offset:offset + min(len(chunk) - offset, target - sent)]
            try:
                sent += sock.send(view)
                last_progress = time.monotonic()
            except BlockingIOError:
                if time.monotonic() - last_progress > 2:
                    stalled = True
                    break
                select.select([], [sock], [], 0.1)
        send_seconds = time.monotonic() - attack.start
        attack.hold(NOREAD_SETTLE)  # still connected, still not reading
        stats = attack.monitor.end()
        term_s, killed, term_cpu = server.stop()  # SIGTERM with the client connected and not reading
    finally:
        sock.close()
    return {"taken": sent // len(request), "stalled": int(stalled), "send_seconds": send_seconds,
            "term_s": term_s, "term_killed": int(killed), "term_cpu_s": term_cpu, "rss_end_mib": stats["rss_peak_mib"]}


def attack_batch(server, attack, ctx):
    count = scaled(100000)
    body = b"[" + b",".join(b'{"jsonrpc":"2.0","id":%d,"method":"node.info"}' % n for n in range(count)) + b"]\n"
    limit = 300 * 1024 * 1024
    sock = connect(server.sock)
    sock.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
    sent = received = 0
    head = b""
    complete = closed = False
    done_at = None
    start = time.monotonic()
    try:
        while not attack.expired() and received < limit:
            for _, events in sel.select(0.1):
                if events & selectors.EVENT_WRITE:
                    try:
                        sent += sock.send(memoryview(body)[sent:sent + (1 << 20)])
                    except BlockingIOError:
                        pass
                    except OSError:
                        sent = len(body)
                    if sent >= len(body):
                        sel.modify(sock, selectors.EVENT_READ)
                if events & selectors.EVENT_READ:
                    try:
                        data = sock.recv(1 << 20)
                    except BlockingIOError:
                        continue
                    except OSError:
                        data = b""
                    if not data:
                        closed = True
                        break
                    received += len(data)
                    if len(head) < (1 << 16):
                        head += data[:(1 << 16) - len(head)]
                    if data.endswith(b"\n"):
                        complete = True
            if complete or closed:
                done_at = time.monotonic()
                break
    finally:
        sel.close()
        sock.close()
    seconds = (done_at or time.monotonic()) - start
    kind = "none"
    if head.startswith(b"["):
        kind = "array"
    elif head:
        code = error_code(head.split(b"\n")[0]) if complete and received == len(head) else None
        kind = f"error {code}" if code is not None else "object"
    return {"request_bytes": len(body), "sent_bytes": sent, "reply_bytes": received, "reply_seconds": seconds,
            "reply_complete": int(complete), "reply_kind": kind, "size_capped": int(received >= limit)}


def attack_watch(server, attack, ctx):
    connections, per_connection = scaled(50), 64
    line = json.dumps({"jsonrpc": "2.0", "id": 0, "method": "map.watch", "params": {
        "map": {"probe": PROBE, "name": "big"}, "intervalMs": 100, "mode": "full"}}).encode()
    socks = []
    try:
        for c in range(connections):
            if attack.expired():
                break
            sock = connect(server.sock)
            socks.append(sock)
            sock.settimeout(5)
            sock.sendall(b"".join(line.replace(b'"id": 0', b'"id": %d' % n) + b"\n" for n in range(1, per_connection + 1)))
        attack.hold(WATCH_SECONDS)
        held = time.monotonic() - attack.start
        attack.monitor.end()
    finally:
        for sock in socks:
            sock.close()
    return {"entries": ctx["entries"], "connections": len(socks), "watches": len(socks) * per_connection, "held_s": held}


STRANGER = r"""
import json, socket, sys, time
path, count, hold, send = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
line = ('{"jsonrpc":"2.0","id":1,"method":"node.info","params":{"a":' + "[" * 500 + "]" * 500 + "}}\n").encode()
socks, failed = [], 0
for _ in range(count):
    until = time.monotonic() + 5
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect(path)
            if send == "nested":
                s.sendall(line)
            socks.append(s)
            break
        except BlockingIOError:  # the listen backlog is full: again, for up to 5 s
            s.close()
            if time.monotonic() > until:
                failed += 1
                break
            time.sleep(0.01)
        except OSError:
            failed += 1
            s.close()
            break
print(json.dumps({"opened": len(socks), "failed": failed}), flush=True)
time.sleep(hold)
codes, closed = {}, 0
for s in socks:
    s.setblocking(False)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                closed += 1
                break
            data += chunk
    except BlockingIOError:
        pass
    except OSError:
        closed += 1
    for reply in data.split(b"\n"):
        if reply.strip():
            try:
                code = str(json.loads(reply).get("error", {}).get("code", "ok"))
            except ValueError:
                code = "garbled"
            codes[code] = codes.get(code, 0) + 1
print(json.dumps({"codes": codes, "closed": closed}), flush=True)
"""


def stranger_python():
    """A Python that other uids can run: every directory on its path searchable by all."""
    for candidate in (sys.executable, "/usr/bin/python3", "/usr/local/bin/python3", "/bin/python3"):
        path = os.path.realpath(candidate)
        parts = [path] + [os.path.dirname(path)]
        while parts[-1] != "/":
            parts.append(os.path.dirname(parts[-1]))
        try:
            if all(os.stat(part).st_mode & 0o001 for part in parts):
                return path
        except OSError:
            pass
    raise RuntimeError("no python3 that the stranger uids may run")


def read_child_line(child, until):
    """The child's next stdout line, or b"" at the deadline or its end."""
    fd = child.stdout.fileno()
    buffer = getattr(child, "buffer", b"")
    while b"\n" not in buffer:
        wait = until - time.monotonic()
        if wait <= 0 or not select.select([fd], [], [], wait)[0]:
            child.buffer = buffer
            return b""
        chunk = os.read(fd, 65536)
        if not chunk:
            child.buffer = buffer
            return b""
        buffer += chunk
    line, child.buffer = buffer.split(b"\n", 1)
    return line


def attack_strangers(server, attack, ctx):
    per_uid = scaled(250)
    base_fds = ctx["base_fds"]
    children = []
    try:
        for n in range(scaled(STRANGER_UIDS)):
            children.append(subprocess.Popen([stranger_python(), "-I", "-c", STRANGER, server.sock, str(per_uid), str(HOLD_SECONDS), STRANGERS_SEND],
                                             user=STRANGER_GROUP + n, group=STRANGER_GROUP, extra_groups=[STRANGER_GROUP],
                                             cwd="/", stdout=subprocess.PIPE, stdin=subprocess.DEVNULL))
        opened = failed = 0
        for child in children:  # each says how many it opened once it has them all
            reply = json.loads(read_child_line(child, attack.deadline) or b'{"opened":0,"failed":0}')
            opened += reply["opened"]
            failed += reply["failed"]
        connected = time.monotonic()
        attack.hold(2)
        open_after_2s = fd_count(server.pid) - base_fds
        codes, closed = {}, 0
        for child in children:
            line = read_child_line(child, max(attack.deadline, time.monotonic() + 0.5))
            if not line:
                attack.capped = attack.capped or f"capped at {CAP:g} s"
            else:
                reply = json.loads(line)
                closed += reply["closed"]
                for code, n in reply["codes"].items():
                    codes[code] = codes.get(code, 0) + n
        hold_end = time.monotonic()
        attack.monitor.end()
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
            child.wait()
            child.stdout.close()
    during = [outcome for started, _, outcome in attack.monitor.calls if connected <= started <= hold_end]
    root = {}
    for outcome in during:
        root[str(outcome)] = root.get(str(outcome), 0) + 1
    return {"strangers": len(children) * per_uid, "opened": opened, "connect_failed": failed, "open_after_2s": open_after_2s,
            "stranger_replies": ",".join(f"{code}x{n}" for code, n in sorted(codes.items())) or "none",
            "stranger_closed_by_server": closed,
            "root_calls": ",".join(f"{code}x{n}" for code, n in sorted(root.items())) or "none"}


def attack_halfclose(server, attack, ctx):
    requests = (json.dumps({"jsonrpc": "2.0", "id": 1, "method": "map.snapshot",
                            "params": {"map": {"probe": PROBE, "name": "big"}, "format": "hex"}}) + "\n"
                + json.dumps({"jsonrpc": "2.0", "id": 2, "method": "probe.list"}) + "\n").encode()
    full = ctx["full_bytes"]
    sock = connect(server.sock)
    received = b""
    try:
        sock.settimeout(5)
        sock.sendall(requests)
        sock.shutdown(socket.SHUT_WR)
        while not attack.expired():
            time.sleep(HALFCLOSE_PAUSE)  # a slow reader (nc writing to a terminal): replies wait in the server
            sock.settimeout(0.2)
            try:
                chunk = sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                break
            if not chunk:
                break
            received += chunk
    finally:
        sock.close()
    seconds = time.monotonic() - attack.start
    whole = 0
    for line in received.split(b"\n")[: received.count(b"\n")]:
        try:
            json.loads(line)
            whole += 1
        except ValueError:
            pass
    return {"entries": ctx["entries"], "full_bytes": full, "received_bytes": len(received), "whole_replies": whole, "seconds": seconds}


def halfclose_setup(server, programs, fill_tool, ctx):
    ctx["entries"] = scaled(50000)
    load_big(server, programs, fill_tool, ctx["entries"])
    conn = LineConnection(server.sock)
    conn.sock.sendall(b'{"jsonrpc":"2.0","id":1,"method":"map.snapshot","params":{"map":{"probe":"%s","name":"big"},"format":"hex"}}\n'
                      b'{"jsonrpc":"2.0","id":2,"method":"probe.list"}\n' % PROBE.encode())
    full = 0
    for _ in range(2):
        line = conn.read_line(time.monotonic() + 120)
        if line is None:
            raise RuntimeError("no whole reply to map.snapshot + probe.list on a normal connection")
        full += len(line) + 1
    conn.close()
    ctx["full_bytes"] = full


def watch_setup(server, programs, fill_tool, ctx):
    ctx["entries"] = scaled(100000)
    load_big(server, programs, fill_tool, ctx["entries"])


RUN = {"nested": attack_nested, "noread": attack_noread, "batch": attack_batch, "watch": attack_watch,
       "strangers": attack_strangers, "halfclose": attack_halfclose}
SETUP = {"watch": watch_setup, "halfclose": halfclose_setup}


# --- the baseline rows: what the fix must keep ------------------------------------------------

CFLAGS = ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]  # as scripts/bench.sh
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
    time.sleep(2)  # let start-up settle (as bench.sh)
    cpu0 = cpu_seconds(server.pid)
    figures = key_values(run_tool([load, server.sock, str(RPC16_CLIENTS), str(RPC16_CALLS)]).strip())
    figures["server_cpu_s"] = cpu_seconds(server.pid) - cpu0
    return {key: figures[key] for key in ("calls_per_s", "seconds", "p50_us", "p99_us", "max_us", "errors", "server_cpu_s")}


def baseline_snapshot(server, programs, tools):
    call_tool, walk = tool(tools, "rpc_call"), tool(tools, "batch_lookup")
    filled = load_big(server, programs, tool(tools, "fill_map"), SNAPSHOT_ENTRIES)
    pin = os.path.join(server.pins, PROBE, "maps", "big")
    run_tool([walk, pin, "1"])  # warm the map's pages once (as bench.sh)
    params = json.dumps({"map": {"probe": PROBE, "name": "big"}})
    reply = os.path.join(server.dir, "snapshot.json")
    rpc_ms, raw_ms, reply_bytes = [], [], 0
    for rep in range(SNAPSHOT_REPS):  # one of each per rep, as bench.sh
        last = [reply] if rep == SNAPSHOT_REPS - 1 else []
        timed = key_values(run_tool([call_tool, server.sock, "1", "map.snapshot", params, *last]).strip())
        rpc_ms.append(timed["ms"])
        reply_bytes = int(timed["bytes"])
        raw = key_values(run_tool([walk, pin, "1"]).strip())
        if int(raw["entries"]) != SNAPSHOT_ENTRIES:
            raise RuntimeError(f"batch_lookup walked {int(raw['entries'])} entries, not {SNAPSHOT_ENTRIES}")
        raw_ms.append(raw["ms"])
    with open(reply, "rb") as f:  # a light check of the last reply (bench.sh's issue 2 part checks the sums)
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


def baseline_figure(row, r):
    if "error" in r:
        return "failed: " + r["error"][:80]
    if row == "rpc16":
        return f"{r['calls_per_s']:.0f} calls/s, p99 {r['p99_us']:.0f} us, server CPU {r['server_cpu_s']:.1f} s"
    if row == "snapshot":
        return f"bpfleetd {r['rpc_ms']:.0f} ms, raw {r['raw_ms']:.1f} ms, x{r['ratio']:.1f} ({r['reply_bytes'] / 1e6:.1f} MB)"
    return f"{r['cores']:.3f} cores, {r['notifications_per_sub_s']:.2f} notifications/sub/s, {r['seq_gaps']} seq gaps"


def print_baselines(rows, runs, with_before):
    """runs[(label, row)]: the runs' figures, in round order."""
    sides = ["before", "after"] if with_before else ["after"]
    header = ["row"] + [f"{side} median (runs)" for side in sides] + (["after / before"] if with_before else [])
    table = [header]
    for row in rows:
        for title, key, form in BASELINE_LINES[row]:
            line = [title]
            medians = {}
            for side in sides:
                got = runs.get((side, row), [])
                values = [r[key] for r in got if "error" not in r]
                if not values:
                    line.append("failed" if got else "-")
                    continue
                medians[side] = median(values)
                cells = [form.format(r[key]) if "error" not in r else "failed" for r in got]
                line.append(f"{form.format(medians[side])} ({', '.join(cells)})")
            if with_before:
                b, a = medians.get("before"), medians.get("after")
                line.append(f"{a / b:.2f}" if a is not None and b else "-")
            table.append(line)
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print("  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(line)).rstrip())


# --- the run ------------------------------------------------------------------------------------

def figure(attack, r):
    """The attack's own figure, short, for the table."""
    if "error" in r:
        return "failed: " + r["error"][:60]
    if attack == "nested":
        text = f"{r['cpu_per_line_s'] * 1000:.1f} ms CPU/line, {r['answered']}/{r['lines']} answered, {r['codes']}"
    elif attack == "noread":
        text = (f"{r['taken']} taken; SIGTERM to exit {r['term_s']:.1f} s" + (" (SIGKILL)" if r["term_killed"] else "")
                + f", {r['term_cpu_s']:.1f} s CPU")
    elif attack == "batch":
        text = f"{mb(r['reply_bytes'])} reply ({r['reply_kind']}{'' if r['reply_complete'] else ', incomplete'}) in {r['reply_seconds']:.2f} s"
    elif attack == "watch":
        text = f"{r['watches']} watches held {r['held_s']:.0f} s"
    elif attack == "strangers":
        text = f"{r['open_after_2s']} open after 2 s; root {r['root_calls']}; strangers got {r['stranger_replies']}"
    else:
        text = f"{r['received_bytes'] / 1e3:.1f} of {r['full_bytes'] / 1e3:.1f} KB, {r['whole_replies']}/2 replies whole"
    if r.get("capped"):
        text += "; " + r["capped"]
    return text


def mb(n):
    return f"{n / 1e6:.2f} MB" if n >= 10000 else f"{n} B"


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


def main():
    args = sys.argv[1:]
    if len(args) == 3:
        args.insert(1, "-")
    if len(args) != 4:
        raise SystemExit(__doc__.split("\n\n")[0])
    after, before, programs, work = args
    binaries = [("after", after)] + ([("before", before)] if before not in ("", "-") else [])
    chosen = [a for a in os.environ.get("ABUSE_ATTACKS", ",".join(ATTACKS + BASELINES)).split(",") if a]
    for attack in chosen:
        if attack not in RUN and attack not in BASELINE_RUN:
            raise SystemExit(f"abuse.py: unknown attack or baseline row '{attack}' ({', '.join(ATTACKS + BASELINES)})")
    attacks = [a for a in chosen if a in RUN]
    baselines = [a for a in chosen if a in BASELINE_RUN]
    def terminated(*_):
        raise KeyboardInterrupt  # not SystemExit, which a failed setup call raises (rpc.py)
    signal.signal(signal.SIGTERM, terminated)
    print(f"machine nproc={os.cpu_count()} kernel={os.uname().release} loadavg_start {' '.join(open('/proc/loadavg').read().split()[:3])}",
          flush=True)
    root = tempfile.mkdtemp(prefix="bpfleet-bench-abuse-", dir="/tmp")  # under /tmp, so other uids can reach sockets in it
    os.chmod(root, 0o711)
    results = {}
    runs = {}  # (label, baseline row): the runs' figures, in round order
    try:
        here = os.path.dirname(os.path.abspath(__file__))
        tools = build_tools(sorted({name for a in chosen for name in NEEDS.get(a, [])}), here, os.path.join(work, "abuse-bin"))
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
    def value_text(value):
        return f"{value:.6g}" if isinstance(value, float) else str(value)
    with open(os.path.join(work, "abuse-results.txt"), "w") as f:
        for label, binary in binaries:
            f.write(f"{label}.binary={binary}\n")
        for (label, attack), r in results.items():
            for key, value in r.items():
                f.write(f"{label}.{attack}.{key}={value_text(value)}\n")
        if baselines:
            f.write(f"baseline.rounds={BASELINE_ROUNDS}\n")
        for row in baselines:
            medians = {}
            for label, _ in binaries:
                got = runs.get((label, row), [])
                for n, r in enumerate(got, 1):
                    for key, value in r.items():
                        f.write(f"{label}.{row}.r{n}.{key}={value_text(value)}\n")
                for _, key, _ in BASELINE_LINES[row]:  # LABEL.ROW.KEY: the median of the runs that worked
                    values = [r[key] for r in got if "error" not in r]
                    f.write(f"{label}.{row}.{key}.runs={','.join(value_text(v) for v in values)}\n")
                    if values:
                        medians[(label, key)] = median(values)
                        f.write(f"{label}.{row}.{key}={value_text(medians[(label, key)])}\n")
            for _, key, _ in BASELINE_LINES[row]:
                if medians.get(("before", key)) and ("after", key) in medians:
                    f.write(f"baseline.{row}.{key}.after_over_before={medians[('after', key)] / medians[('before', key)]:.6g}\n")
    if attacks:
        print_table(attacks, results, len(binaries) > 1)
    if baselines:
        what = {"rpc16": f"rpc16 {RPC16_CLIENTS} clients share {RPC16_CALLS} node.info",
                "snapshot": f"snapshot {SNAPSHOT_ENTRIES} entries, median of {SNAPSHOT_REPS} per run",
                "watch50": f"watch50 {WATCH50_CLIENTS} full watches of {WATCH50_ENTRIES} entries at 100 ms, {WATCH50_SECONDS:g} s"}
        sides = "before and after alternately" if len(binaries) > 1 else "after only"
        print(f"baselines: median (runs) of {BASELINE_ROUNDS} round{'s' if BASELINE_ROUNDS != 1 else ''}, {sides}; "
              + "; ".join(what[row] for row in baselines))
        print_baselines(baselines, runs, len(binaries) > 1)
    print(f"loadavg_end {' '.join(open('/proc/loadavg').read().split()[:3])}; scale {SCALE:g}, cap {CAP:g} s per attack")


def wait_for(binary):
    """The debug build being rebuilt: wait a little for it to be back."""
    for _ in range(120):
        if os.access(binary, os.X_OK):
            return
        time.sleep(1)


def print_table(attacks, results, with_before):
    def number(r, key, digits=2):
        if "error" in r or key not in r or r[key] != r[key]:
            return "-"
        text = f"{r[key]:.{digits}f}"
        if key == "op_max_s" and r.get("op_pending"):
            text = ">=" + text  # a call still unanswered when the attack ended
        return text
    sides = ["before", "after"] if with_before else ["after"]
    header = ["attack"]
    for title in ("CPU s", "RSS +MiB", "op max s"):
        header += [f"{title} {side}" for side in sides]
    header += [f"{side}" for side in sides]
    rows = [header]
    for attack in attacks:
        row = [attack]
        for key, digits in (("cpu_s", 2), ("rss_growth_mib", 1), ("op_max_s", 3)):
            row += [number(results.get((side, attack), {"error": "not run"}), key, digits) for side in sides]
        row += [figure(attack, results.get((side, attack), {"error": "not run"})) for side in sides]
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    numeric = len(header) - len(sides)
    for row in rows:
        cells = [cell.ljust(widths[i]) if i == 0 or i >= numeric else cell.rjust(widths[i]) for i, cell in enumerate(row)]
        print("  ".join(cells).rstrip())


if __name__ == "__main__":
    main()
