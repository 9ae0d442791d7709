"""Remote nodes (issue 3): TLS 1.3 with client certificates on loopback TCP,
against the Unix socket of the same server, with the same tools
(bench/transport.h):
  5. node.info over TLS and over the Unix socket, interleaved rounds
     (BENCH_RPC_LOAD_REPS): 1 client (BENCH_RPC_CALLS calls) and
     BENCH_RPC_CLIENTS clients (BENCH_RPC_LOAD_CALLS calls): calls/s, p50/p99
     and the server's CPU per call (tls_load);
  6. connection setup: connect + TLS handshake + first node.info reply,
     against connect + first reply on the Unix socket, BENCH_TLS_CONNECTIONS
     sequential connections each (tls_connect);
  7. bpfleetd's memory with BENCH_TLS_HOLD TLS connections open and idle
     against none (first, on the fresh server), and the same number of
     Unix-socket connections on another fresh server (tls_hold).
One table (results-tls.txt)."""
from __future__ import annotations

import os
import socket
import subprocess
import time

from . import certificates, tls_table
from .common import Bench, BenchError, Node, Part, Profile, Results, machine_line, note, remove, run, tail, top_symbols


class TLSServer:
    """bpfleetd on a Unix socket and tcp://127.0.0.1:PORT with TLS: a free
    loopback port the kernel names; if another process takes it before
    bpfleetd binds, again with the next (bounded)."""

    def __init__(self, bench: Bench, certs: str) -> None:
        self.bench, self.certs = bench, certs
        self.sock = bench.session.path("bpfleetd-tls.sock")
        self.pins = bench.session.pin_root("tls")
        self.node: Node

    def start(self) -> None:
        session, hold = self.bench.session, self.bench.knobs.tls_hold
        for attempt in range(1, 6):
            self.port = _free_port()
            remove(session.path("state-tls"))
            remove(self.pins)
            self.node = Node(session, self.bench.bpfleetd, self.sock, [
                "--listen", f"unix:{self.sock}", "--listen", f"tcp://127.0.0.1:{self.port}",
                "--tls-cert", f"{self.certs}/server.pem", "--tls-key", f"{self.certs}/server-key.pem",
                "--client-ca", f"{self.certs}/ca.pem", "--roles", session.path("roles.yaml"),
                "--state-dir", session.path("state-tls"), "--pin-root", self.pins,
                "--max-connections-per-identity", str(hold * 2)],
                session.path("ready-tls"), session.path("bpfleetd-tls.log"))
            if self.node.wait_ready(check=False, stop_if_dead=True):
                return
            self.node.stop()
            note(f"bpfleetd with TLS on port {self.port} did not start (attempt {attempt}): "
                 f"{tail(session.path('bpfleetd-tls.log'), 1).rstrip()}")
        raise BenchError("bpfleetd with TLS did not start")

    def stop(self) -> None:
        self.node.stop()
        remove(self.pins)

    @property
    def tls_address(self) -> str:
        return f"tls://127.0.0.1:{self.port}"

    @property
    def unix_address(self) -> str:
        return f"unix:{self.sock}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_part(bench: Bench) -> None:
    session, knobs = bench.session, bench.knobs
    results = session.results("results-tls.txt")
    certs = session.path("certs")
    certificates.make(certs)
    # node.info needs viewer: the bench's certificate gets no more than that.
    with open(session.path("roles.yaml"), "w") as f:
        f.write("viewers:\n  commonNames: [bench]\n")
    creds = ["--ca", f"{certs}/ca.pem", "--cert", f"{certs}/client.pem", "--key", f"{certs}/client-key.pem"]

    server = TLSServer(bench, certs)
    server.start()
    time.sleep(2)  # let start-up settle
    results.record(f"tls_rss_idle_kb {server.node.status_kb('VmRSS')}")

    # 7. first, on the fresh server, so that "none" is the server as it starts
    results.record_lines(run([bench.tool("tls_hold"), *creds, server.tls_address, str(knobs.tls_hold), str(server.node.pid)]), "hold ")
    note(f"{knobs.tls_hold} TLS connections held and closed")
    # 6. TLS and the Unix socket taken in turn
    results.record_lines(run([bench.tool("tls_connect"), *creds, str(knobs.tls_connections),
                              server.tls_address, server.unix_address]), "setup ")
    note(f"{knobs.tls_connections} connections set up on each transport")
    _node_info_loads(bench, server, creds, results)
    results.record(f"tls_rss_end_kb {server.node.status_kb('VmRSS')}")
    results.record(f"tls_hwm_end_kb {server.node.status_kb('VmHWM')}")
    if bench.profiling:
        _profile(bench, server, creds)
    server.stop()

    # 7'. the same hold over the Unix socket, on a fresh server: the part of
    # a connection's memory that is not TLS
    server.start()
    time.sleep(2)
    results.record_lines(run([bench.tool("tls_hold"), server.unix_address, str(knobs.tls_hold), str(server.node.pid)]), "hold ")
    note(f"{knobs.tls_hold} Unix-socket connections held and closed")
    server.stop()

    results.record(machine_line())
    version = run(["openssl", "version"]).split(" ")[:2]
    results.record(f"openssl {'_'.join(version)}")


def _node_info_loads(bench: Bench, server: TLSServer, creds: list[str], results: Results) -> None:
    """5. interleaved rounds, with the server's CPU time (user + system) over each run."""
    knobs = bench.knobs

    def load_run(address: str, clients: int, calls: int) -> None:
        before = server.node.cpu_ms()
        line = run([bench.tool("tls_load"), *creds, address, str(clients), str(calls)])
        results.record(f"load {line} server_cpu_ms={server.node.cpu_ms() - before}")

    for round_ in range(1, knobs.rpc_load_reps + 1):
        for address in (server.unix_address, server.tls_address):
            load_run(address, 1, knobs.rpc_calls)
        for address in (server.tls_address, server.unix_address):
            load_run(address, knobs.rpc_clients, knobs.rpc_load_calls)
        note(f"TLS / Unix-socket node.info round {round_} of {knobs.rpc_load_reps} done")


def _profile(bench: Bench, server: TLSServer, creds: list[str]) -> None:
    """perf of the TLS server under node.info load over TLS and over the Unix
    socket, during the handshakes, and over a whole tls_hold run."""
    session, knobs = bench.session, bench.knobs
    os.makedirs(knobs.perf, exist_ok=True)
    quarter = str(knobs.rpc_load_calls // 4)
    runs = [
        ("server-tls-nodeinfo", [bench.tool("tls_load"), *creds, server.tls_address, str(knobs.rpc_clients), quarter]),
        ("server-unix-nodeinfo", [bench.tool("tls_load"), server.unix_address, str(knobs.rpc_clients), quarter]),
        ("server-tls-setup", [bench.tool("tls_connect"), *creds, str(knobs.tls_connections), server.tls_address]),
        # 5 s with none open, the connections opened, 1 s settling, 5 s idle, closed
        ("server-tls-hold", [bench.tool("tls_hold"), *creds, server.tls_address, str(knobs.tls_hold), str(server.node.pid), "1"]),
    ]
    for name, argv in runs:
        with Profile(session, session.path(f"{name}.data"), server.node.pid):
            run(argv, stdout=subprocess.DEVNULL)
        top_symbols(session.path(f"{name}.data"), os.path.join(knobs.perf, f"{name}.txt"))
    note(f"perf profiles (top symbols) of the TLS server in {knobs.perf}")


PART = Part(name="tls", old_name="tls", measurements=("tls",), tools=("tls_load", "tls_connect", "tls_hold"),
            programs=False, run=run_part, table=lambda bench: tls_table.table(bench.session.path("results-tls.txt")),
            results=("results-tls.txt",))
