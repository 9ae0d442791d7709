"""TLS with client certificates made by `bpfleet cert`, plaintext on loopback,
and fan-out over several nodes with one of them down."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from typing import Callable, Iterator, List, Sequence

import pytest
from _bpfleet_nodes import BPFLEET, Server, Workload, free_port, program

from bpfleet import (TLS, Fleet, Node, NodeUnreachable, PermissionDenied, TLSError, Unauthenticated, fan_out,
                     targets)


class PKI:
    """A CA, a node certificate for 127.0.0.1, clients `ops` (operator) and
    `watcher` (viewer), and `ops` of a foreign CA, made with `bpfleet cert`."""

    def __init__(self) -> None:
        if not os.access(BPFLEET, os.X_OK):
            pytest.fail(f"no bpfleet at {BPFLEET} (set BPFLEET)")
        self.directory = tempfile.mkdtemp(prefix="bpfleet-py-pki-")
        d = self.directory
        self.cert(["ca", "--out", f"{d}/ca"])
        self.cert(["ca", "--out", f"{d}/foreign", "--name", "someone else's CA"])
        self.cert(["node", "--ca", f"{d}/ca", "--name", "node", "--san", "127.0.0.1", "--out", d])
        self.cert(["client", "--ca", f"{d}/ca", "--name", "ops", "--out", d])
        self.cert(["client", "--ca", f"{d}/ca", "--name", "watcher", "--out", d])
        self.cert(["client", "--ca", f"{d}/foreign", "--name", "ops", "--out", f"{d}/foreign"])
        self.ca = f"{d}/ca/ca.pem"
        self.roles = f"{d}/roles.yaml"
        with open(self.roles, "w") as f:
            f.write("operators:\n  commonNames: [ops]\nviewers:\n  subjects: [\"CN=watcher\"]\n")

    @staticmethod
    def cert(arguments: Sequence[str]) -> None:
        subprocess.run([BPFLEET, "cert", *arguments], check=True, stdout=subprocess.DEVNULL)

    def client(self, name: str, where: str = "") -> TLS:
        base = os.path.join(self.directory, where, name)
        return TLS(ca=self.ca, cert=f"{base}.pem", key=f"{base}-key.pem")

    def server_args(self) -> List[str]:
        d = self.directory
        return ["--tls-cert", f"{d}/node.pem", "--tls-key", f"{d}/node-key.pem", "--client-ca", self.ca, "--roles", self.roles]


@pytest.fixture(scope="module")
def pki() -> Iterator[PKI]:
    made = PKI()
    yield made
    shutil.rmtree(made.directory, ignore_errors=True)


def start_on_port(start_server: Callable[..., Server], args: Sequence[str], scheme_host: str = "tcp://127.0.0.1") -> str:
    """A server on a free loopback port (another if that one was taken in between); its address."""
    for _ in range(5):
        address = f"{scheme_host}:{free_port()}"
        try:
            start_server(args, listen=address)
            return address
        except RuntimeError:
            continue
    raise RuntimeError("no free port")


def test_tls_with_client_certificates(start_server, pki: PKI, workload: Workload) -> None:  # type: ignore[no-untyped-def]
    address = start_on_port(start_server, pki.server_args())
    with Node(address, tls=pki.client("ops"), name="tls-node") as ops:
        assert ops.info()["kernelRelease"] == os.uname().release
        obj = ops.object_upload_file(program("exec_count"))
        ops.probe_load(name="execs", object_id=obj["objectId"], attach=[{"program": "count_exec", "target": targets.auto()}])
        workload.run(3)
        with ops.watch_map(probe="execs", map="exec_counts", interval_ms=100) as watch:  # a subscription over TLS
            counts: List[int] = []
            while 3 not in counts:
                note = watch.next(timeout=120)
                assert note is not None
                counts = [e["value"] for e in note["entries"] if e["key"] == {"comm": workload.comm}]

        with Node(address, tls=pki.client("watcher"), name="tls-node") as viewer:
            assert viewer.map_lookup(probe="execs", map="exec_counts", key={"comm": workload.comm})["value"] == 3
            with pytest.raises(PermissionDenied) as denied:
                viewer.probe_unload(probe="execs")
            assert denied.value.data == {"method": "probe.unload", "needs": "operator", "role": "viewer"}
        ops.probe_unload(probe="execs")

    with Node(address, tls=TLS(ca=pki.ca), name="tls-node") as stranger:
        with pytest.raises(TLSError, match="requires a client certificate") as refused:
            stranger.info()
        assert isinstance(refused.value, NodeUnreachable) and refused.value.node == "tls-node"
    with Node(address, tls=pki.client("ops", "foreign")) as foreign:
        with pytest.raises(TLSError, match="certificate not trusted by node"):
            foreign.info()
    wrong_ca = TLS(ca=f"{pki.directory}/foreign/ca.pem", cert=f"{pki.directory}/ops.pem", key=f"{pki.directory}/ops-key.pem")
    with Node(address, tls=wrong_ca) as doubting:
        with pytest.raises(TLSError, match="certificate is not trusted"):
            doubting.info()
    named = TLS(ca=pki.ca, cert=f"{pki.directory}/ops.pem", key=f"{pki.directory}/ops-key.pem", server_name="web-9")
    with Node(address, tls=named) as misnamed:
        with pytest.raises(TLSError, match="certificate is not for the name dialled"):
            misnamed.info()


def test_plaintext_on_loopback(start_server) -> None:  # type: ignore[no-untyped-def]
    address = start_on_port(start_server, ["--insecure-plaintext"])
    with Node(address, plaintext=True, name="plain") as node:
        with pytest.raises(Unauthenticated) as stranger:  # no roles file: plaintext peers have none
            node.info()
        assert stranger.value.code == -32001 and "identity" in stranger.value.data


def test_fan_out_with_a_node_down(start_server) -> None:  # type: ignore[no-untyped-def]
    servers = [start_server() for _ in range(2)]
    down = tempfile.mkdtemp(prefix="bpfleet-py-down-")
    try:
        nodes = [Node(servers[0].address, name="a"), Node(f"unix:{down}/nothing.sock", name="down"),
                 Node(servers[1].address, name="b"), Node(f"tcp://127.0.0.1:{free_port()}", plaintext=True, name="closed")]
        with Fleet(nodes) as fleet:
            outcomes = fleet.run(lambda node: node.info()["kernelRelease"])
            assert [o.node.name for o in outcomes] == ["a", "down", "b", "closed"]
            assert [o.ok for o in outcomes] == [True, False, True, False]
            assert outcomes[0].value() == outcomes[2].value() == os.uname().release
            for failed in (outcomes[1], outcomes[3]):
                assert isinstance(failed.error, NodeUnreachable) and failed.error.node == failed.node.name
                with pytest.raises(NodeUnreachable):
                    failed.value()
            calls = fleet.call("probe.list")
            assert [o.result for o in calls if o.ok] == [{"probes": []}, {"probes": []}]
        with nodes[0]:
            assert [o.ok for o in fan_out(nodes[:1], lambda node: node.info())] == [True]
        assert fan_out([], lambda node: node.info()) == []
    finally:
        os.rmdir(down)
