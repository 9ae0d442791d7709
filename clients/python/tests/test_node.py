"""The client against real bpfleetd processes on Unix sockets: load, attach,
snapshot, lookup, update, errors with their data, MethodNotFound's message."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from _bpfleet_nodes import BPFLEET, Server, Workload, program

from bpfleet import (Conflict, InvalidObject, InvalidParams, MethodNotFound, Node, NotFound, PermissionDenied, targets)


def test_info(node: Node) -> None:
    info = node.info()
    assert info["kernelRelease"] == os.uname().release
    assert info["hostname"] == os.uname().nodename
    assert isinstance(info["serverVersion"], str) and info["serverVersion"]
    assert "tracepoint" in info["attachTargets"]
    if "methods" in info:  # newer servers: what it serves, sorted
        assert info["methods"] == sorted(info["methods"])
        assert "node.info" in info["methods"] and "map.snapshot" in info["methods"]
        assert isinstance(info["protocolVersion"], str)


def test_load_attach_count_snapshot_unload(node: Node, workload: Workload) -> None:
    obj = node.object_upload_file(program("exec_count"))
    assert obj["name"] == "exec_count.bpf.o"
    assert [p["name"] for p in obj["programs"]] == ["count_exec"]
    assert node.object_get(object_id=obj["objectId"])["objectId"] == obj["objectId"]

    probe = node.probe_load(name="execs", object_id=obj["objectId"], labels={"by": "pytest"})
    assert probe["name"] == "execs" and probe["labels"] == {"by": "pytest"} and probe["links"] == []
    link = node.probe_attach(probe="execs", program="count_exec", target=targets.auto())
    assert link["linkId"] == 1 and link["program"] == "count_exec"
    assert link["target"] == {"type": "auto"}

    workload.run(7)
    key = {"comm": workload.comm}
    assert node.map_lookup(probe="execs", map="exec_counts", key=key) == {"key": key, "value": 7}
    snapshot = node.map_snapshot(probe="execs", map="exec_counts")
    assert snapshot["truncated"] is False and snapshot["count"] == len(snapshot["entries"])
    assert [e["value"] for e in snapshot["entries"] if e["key"] == key] == [7]
    map_id = next(m["id"] for m in node.map_list(probe="execs") if m["name"] == "exec_counts")
    by_id = node.map_snapshot(map=map_id)
    assert [e["value"] for e in by_id["entries"] if e["key"] == key] == [7]

    node.map_update(probe="execs", map="exec_counts", key=key, value=100, flags="exist")
    workload.run(2)
    assert node.map_lookup(probe="execs", map="exec_counts", key=key)["value"] == 102
    node.map_delete(probe="execs", map="exec_counts", key=key)
    with pytest.raises(NotFound):
        node.map_lookup(probe="execs", map="exec_counts", key=key)

    assert [p["name"] for p in node.probe_list()] == ["execs"]
    program_id = probe["programs"][0]["id"]
    own = [p for p in node.node_programs()["programs"] if p["id"] == program_id]
    assert len(own) == 1 and own[0]["owner"] == {"probe": "execs", "name": "count_exec"}
    owned_maps = {m["id"]: m["owner"] for m in node.node_maps(holders=False)["maps"] if m["id"] == map_id}
    assert owned_maps == {map_id: {"probe": "execs", "name": "exec_counts"}}
    links = [lk for lk in node.node_links()["links"] if lk["programId"] == program_id]
    assert len(links) == 1 and links[0]["owner"] == {"probe": "execs", "linkId": 1}
    node.probe_detach(probe="execs", link_id=1)
    workload.run(3)
    with pytest.raises(NotFound):  # detached: nothing counted
        node.map_lookup(probe="execs", map="exec_counts", key=key)
    node.probe_unload(probe="execs")
    assert node.probe_list() == []
    node.object_delete(object_id=obj["objectId"])
    assert node.object_list() == []


def test_load_with_attach_in_one_call(node: Node, workload: Workload) -> None:
    obj = node.object_upload_file(program("exec_count"))
    probe = node.probe_load(name="execs", object_id=obj["objectId"],
                            attach=[{"program": "count_exec", "target": targets.tracepoint("sched", "sched_process_exec")}])
    assert [link["linkId"] for link in probe["links"]] == [1]
    workload.run(4)
    assert node.map_lookup(probe="execs", map="exec_counts", key={"comm": workload.comm})["value"] == 4


def test_errors_carry_their_data(node: Node) -> None:
    with pytest.raises(NotFound) as missing:
        node.probe_get(probe="nothing-here")
    assert missing.value.code == -32003
    assert missing.value.data["kind"] == "probe" and missing.value.data["name"] == "nothing-here"
    assert missing.value.node == "test-node"
    assert str(missing.value) == f"test-node: {missing.value.message}"

    with pytest.raises(InvalidObject) as bad:
        node.object_upload(data=b"not an ELF object", name="junk")
    assert bad.value.code == -32005

    obj = node.object_upload_file(program("exec_count"))
    node.probe_load(name="execs", object_id=obj["objectId"])
    with pytest.raises(Conflict) as taken:
        node.probe_load(name="execs", object_id=obj["objectId"])
    assert taken.value.code == -32004
    with pytest.raises(InvalidParams) as interval:
        node.watch_map(probe="execs", map="exec_counts", interval_ms=10)
    assert interval.value.data["field"] == "intervalMs"
    with pytest.raises(InvalidParams) as name:
        node.probe_load(name=".hidden", object_id=obj["objectId"])
    assert name.value.data["field"] == "name"
    with pytest.raises(InvalidParams) as wrong_type:
        node.call("probe.get", {"probe": 5})
    assert wrong_type.value.data["field"] == "params.probe"


def test_method_not_found_names_the_node_and_its_version(server: Server) -> None:
    for node_name, node in (("lab-1", server.node(name="lab-1")), (server.address, server.node())):
        with node:
            version = node.info()["serverVersion"]
            with pytest.raises(MethodNotFound) as missing:
                node.call("probe.teleport", {"probe": "x"})
            assert missing.value.message == f"node {node_name} runs bpfleetd {version}, which has no method probe.teleport"
            assert missing.value.code == -32601 and missing.value.data == {"method": "probe.teleport"}
            assert str(missing.value) == missing.value.message
    with server.node(name="fresh") as fresh:  # node.info fetched on the error
        with pytest.raises(MethodNotFound, match=r"^node fresh runs bpfleetd \S+, which has no method x\.y$"):
            fresh.call("x.y")


def test_discover_when_served(node: Node) -> None:
    info = node.info()
    if "rpc.discover" not in info.get("methods", []):
        with pytest.raises(MethodNotFound):  # an older server
            node.discover()
        return
    document = node.discover()
    assert document["openrpc"].startswith("1.3")
    assert document["info"]["version"] == info["protocolVersion"]
    assert sorted(m["name"] for m in document["methods"]) == info["methods"]


def test_node_btf_chunks(node: Node) -> None:
    if "node.btf" not in node.info().get("methods", []):
        pytest.skip("the node has no node.btf")
    import base64
    import hashlib

    with open("/sys/kernel/btf/vmlinux", "rb") as file:
        raw = file.read()
    first = node.node_btf(max_bytes=0)
    assert (first["sha256"], first["totalBytes"], first["data"], first["done"]) == (hashlib.sha256(raw).hexdigest(), len(raw), "", False)
    tail = node.node_btf(offset=len(raw) - 100)
    assert base64.b64decode(tail["data"]) == raw[-100:] and tail["done"] is True


# Where each method of the protocol is served in the client.
CLIENT_METHODS = {
    "node.info": "info", "rpc.discover": "discover", "node.programs": "node_programs", "node.maps": "node_maps",
    "node.links": "node_links", "node.btf": "node_btf", "node.metrics": "node_metrics", "object.upload": "object_upload", "object.list": "object_list",
    "object.get": "object_get", "object.delete": "object_delete", "probe.load": "probe_load",
    "probe.attach": "probe_attach", "probe.detach": "probe_detach", "probe.unload": "probe_unload",
    "probe.list": "probe_list", "probe.get": "probe_get", "probe.verify": "probe_verify", "map.list": "map_list", "map.snapshot": "map_snapshot",
    "map.lookup": "map_lookup", "map.update": "map_update", "map.delete": "map_delete", "iter.read": "iter_read",
    "map.watch": "watch_map", "events.subscribe": "subscribe_events", "subscription.cancel": "Subscription.cancel",
}


def test_every_method_the_node_serves_has_a_client_method(node: Node) -> None:
    import bpfleet

    served = node.info()["methods"]
    assert sorted(set(served) - set(CLIENT_METHODS)) == []
    for method, attribute in CLIENT_METHODS.items():
        owner, _, name = attribute.rpartition(".")
        assert callable(getattr(getattr(bpfleet, owner) if owner else Node, name)), method


def test_one_node_shared_by_threads(node: Node) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=8) as pool:
        infos = list(pool.map(lambda _: node.info()["serverVersion"], range(200)))
    assert len(set(infos)) == 1


def test_signed_upload_to_a_node_with_an_object_policy(start_server, tmp_path) -> None:
    """object_upload_file sends PATH.sig (written by the real `bpfleet sign`); a node whose
    object policy trusts the key takes it and names the signer, and refuses the bytes unsigned."""
    made = subprocess.run([BPFLEET, "keygen", "--out", str(tmp_path / "keys"), "--name", "alice"],
                          capture_output=True, text=True, check=True)
    key_id = made.stdout.splitlines()[0].split()[-1]
    (tmp_path / "policy.yaml").write_text("trustedKeys:\n  - name: alice\n    publicKeyFile: keys/alice.pub\n")
    unsigned = tmp_path / "unsigned.bpf.o"
    shutil.copy(program("exec_count"), unsigned)
    signed = tmp_path / "exec_count.bpf.o"
    shutil.copy(program("exec_count"), signed)
    subprocess.run([BPFLEET, "sign", str(signed), "--key", str(tmp_path / "keys" / "alice.key")],
                   capture_output=True, check=True)

    server = start_server(["--object-policy", str(tmp_path / "policy.yaml")])
    with server.node() as node:
        with pytest.raises(PermissionDenied) as refused:
            node.object_upload_file(unsigned)
        assert refused.value.data["policy"]["missing"] == 1
        assert node.object_list() == []
        obj = node.object_upload_file(signed)
        assert obj["signers"] == [{"keyId": key_id, "name": "alice"}]
        assert obj["policy"] == "satisfied"
        assert [s["keyId"] for s in obj["signatures"]] == [key_id]
