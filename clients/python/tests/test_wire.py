"""The client's side of the wire, against a scripted peer (no bpfleetd):
addresses, replies matched by id, long lines, the line limit, errors."""
from __future__ import annotations

import json
import os
import socket
import tempfile
import threading
from typing import Any, Callable, Iterator, List

import pytest

from bpfleet import (TLS, Address, BpfleetError, Conflict, InvalidParams, LimitExceeded, MethodNotFound, Node,
                     NodeUnreachable, NotFound, ProtocolError, Unauthenticated, error_for)



class Peer:
    """A Unix socket served by HANDLER(conn, reader), one connection at a time."""

    def __init__(self, handler: Callable[[socket.socket, Any], None]) -> None:
        self.directory = tempfile.mkdtemp(prefix="bpfleet-py-peer-")
        self.path = os.path.join(self.directory, "peer.sock")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(4)
        self.handler = handler
        self.requests: List[Any] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                try:
                    self.handler(conn, conn.makefile("rb"))
                except (OSError, EOFError):
                    pass

    def read(self, reader: Any) -> Any:
        line = reader.readline()
        if not line:
            raise EOFError
        request = json.loads(line)
        self.requests.append(request)
        return request

    def close(self) -> None:
        self.listener.close()
        os.unlink(self.path)
        os.rmdir(self.directory)


@pytest.fixture
def peer() -> Iterator[Callable[[Callable[[socket.socket, Any], None]], Peer]]:
    made: List[Peer] = []

    def make(handler: Callable[[socket.socket, Any], None]) -> Peer:
        made.append(Peer(handler))
        return made[-1]

    yield make
    for p in made:
        p.close()


def send(conn: socket.socket, message: Any) -> None:
    conn.sendall(json.dumps(message).encode() + b"\n")


def test_addresses() -> None:
    assert str(Address.parse("unix:/run/x.sock")) == "unix:/run/x.sock"
    assert str(Address.parse("unix:///run/x.sock")) == "unix:/run/x.sock"
    assert str(Address.parse("/run/x.sock")) == "unix:/run/x.sock"
    assert Address.parse("tcp://web-1") == Address("tcp", host="web-1", port=7447)
    assert Address.parse("tcp://10.0.0.5:8000") == Address("tcp", host="10.0.0.5", port=8000)
    assert Address.parse("tcp://[::1]:9") == Address("tcp", host="::1", port=9)
    assert str(Address.parse("tcp://[::1]")) == "tcp://[::1]:7447"
    for bad in ("web-1", "tcp://", "tcp://::1", "tcp://h:0", "tcp://h:x", "tcp://[::1", "unix:"):
        with pytest.raises(ValueError):
            Address.parse(bad)


def test_node_options_are_checked() -> None:
    with pytest.raises(ValueError, match="needs tls"):
        Node("tcp://127.0.0.1:7447")
    with pytest.raises(ValueError, match="loopback"):
        Node("tcp://10.0.0.5:7447", plaintext=True)
    with pytest.raises(ValueError, match="tcp://"):
        Node("unix:/x", plaintext=True)
    with pytest.raises(ValueError, match="together"):
        TLS(ca="/nonexistent", cert="c.pem").context()
    Node("tcp://[::1]:7447", plaintext=True)  # loopback: allowed


def test_error_classes_by_code() -> None:
    error = error_for(-32003, "not found: probe x", {"kind": "probe", "name": "x"}, "n1")
    assert isinstance(error, NotFound) and (error.code, error.data, error.node) == (-32003, {"kind": "probe", "name": "x"}, "n1")
    assert str(error) == "n1: not found: probe x"
    assert type(error_for(-32099, "new")) is BpfleetError
    assert error_for(-32099, "new").code == -32099
    assert isinstance(NodeUnreachable("x"), ConnectionError) and isinstance(NodeUnreachable("x"), BpfleetError)


def test_replies_are_matched_by_id_and_notifications_skipped(peer) -> None:  # type: ignore[no-untyped-def]
    def handler(conn: socket.socket, reader: Any) -> None:
        while True:
            request = p.read(reader)
            send(conn, {"jsonrpc": "2.0", "method": "subscription.map", "params": {"subscription": 9}})
            send(conn, {"jsonrpc": "2.0", "id": request["id"] + 1000, "result": "stale"})
            send(conn, {"jsonrpc": "2.0", "id": request["id"], "result": {"echo": request.get("params")}})

    p = peer(handler)
    with Node(f"unix:{p.path}") as node:
        assert node.call("x.y", {"a": 1}) == {"echo": {"a": 1}}
        assert node.probe_get(probe="p") == {"echo": {"probe": "p"}}
        assert node.map_snapshot(probe="p", map="m", format="hex") == {"echo": {"map": {"probe": "p", "name": "m"}, "format": "hex"}}
        assert node.map_lookup(map=12, key=1) == {"echo": {"map": {"id": 12}, "key": 1}}
        node.probe_detach(probe="p", link_id=2)
    ids = [r["id"] for r in p.requests]
    assert ids == sorted(set(ids)) and all(isinstance(i, int) for i in ids)
    assert p.requests[-1] == {"jsonrpc": "2.0", "id": ids[-1], "method": "probe.detach", "params": {"probe": "p", "linkId": 2}}


def test_a_long_reply_line_and_the_line_limit(peer) -> None:  # type: ignore[no-untyped-def]
    entries = [{"key": i, "value": i * 3} for i in range(200_000)]

    def handler(conn: socket.socket, reader: Any) -> None:
        while True:
            request = p.read(reader)
            send(conn, {"jsonrpc": "2.0", "id": request["id"], "result": {"entries": entries}})

    p = peer(handler)
    with Node(f"unix:{p.path}") as node:
        assert node.call("map.snapshot")["entries"] == entries
    with Node(f"unix:{p.path}", max_line_bytes=1 << 20) as node:
        with pytest.raises(ProtocolError, match="longer than max_line_bytes"):
            node.call("map.snapshot")
        with pytest.raises(ProtocolError):  # a new connection after the bad one, and the same limit
            node.call("map.snapshot")


@pytest.mark.parametrize("shape", ["plain", "nested keys", "strings", "not a snapshot"])
def test_long_snapshots_decode_the_same_while_arriving(peer, shape: str) -> None:  # type: ignore[no-untyped-def]
    """A reply over 4 MiB has its entries decoded as it arrives: the result is
    the same as a whole decode, whatever the entries hold."""
    if shape == "plain":
        entries: Any = [{"key": i, "value": i * 7} for i in range(400_000)]
    elif shape == "nested keys":  # '},{"key":' inside values too: cut there, the brackets do not balance
        entries = [{"key": i, "value": [{"key": i}, {"key": -i}]} for i in range(200_000)]
    elif shape == "strings":
        entries = [{"key": {"comm": f'x"}},{{"key":{i}\\'}, "value": "é" * (i % 5)} for i in range(200_000)]
    else:  # entries not first in the result's plain values
        entries = [{"key": i, "value": i} for i in range(400_000)]
    result = {"count": len(entries), "entries": entries, "takenAt": "2026-01-01T00:00:00Z", "truncated": False}
    if shape == "not a snapshot":
        result = {"nested": {"entries": entries}, "truncated": False}

    def handler(conn: socket.socket, reader: Any) -> None:
        while True:
            request = p.read(reader)
            data = json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": result}, separators=(",", ":")).encode()
            for offset in range(0, len(data), 1 << 18):  # in pieces, as a node streams it
                conn.sendall(data[offset:offset + (1 << 18)])
            conn.sendall(b"\n")

    p = peer(handler)
    with Node(f"unix:{p.path}") as node:
        for _ in range(2):
            assert node.call("map.snapshot") == result


def test_errors_carry_code_message_data_and_node(peer) -> None:  # type: ignore[no-untyped-def]
    def handler(conn: socket.socket, reader: Any) -> None:
        while True:
            request = p.read(reader)
            method = request["method"]
            if method == "node.info":
                send(conn, {"jsonrpc": "2.0", "id": request["id"], "result": {"serverVersion": "9.8.7"}})
            elif method == "limit":
                send(conn, {"jsonrpc": "2.0", "id": None,
                            "error": {"code": -32009, "message": "limit exceeded", "data": {"limit": "maxMessageBytes", "value": 5}}})
            elif method == "conflict":
                send(conn, {"jsonrpc": "2.0", "id": request["id"], "error": {"code": -32004, "message": "taken"}})
            elif method == "params":
                send(conn, {"jsonrpc": "2.0", "id": request["id"],
                            "error": {"code": -32602, "message": "invalid params", "data": {"field": "params.x"}}})
            elif method == "stranger":
                send(conn, {"jsonrpc": "2.0", "id": None, "error": {"code": -32001, "message": "unauthenticated",
                                                                    "data": {"identity": "uid 1"}}})
                return
            else:
                send(conn, {"jsonrpc": "2.0", "id": request["id"],
                            "error": {"code": -32601, "message": "method not found", "data": {"method": method}}})

    p = peer(handler)
    with Node(f"unix:{p.path}", name="lab") as node:
        with pytest.raises(MethodNotFound) as missing:
            node.call("rpc.discover")
        assert missing.value.message == "node lab runs bpfleetd 9.8.7, which has no method rpc.discover"
        assert (missing.value.code, missing.value.data, missing.value.node) == (-32601, {"method": "rpc.discover"}, "lab")
        with pytest.raises(LimitExceeded) as limit:
            node.call("limit")
        assert limit.value.data == {"limit": "maxMessageBytes", "value": 5}
        with pytest.raises(Conflict):
            node.call("conflict")
        with pytest.raises(InvalidParams) as params:
            node.call("params")
        assert params.value.data["field"] == "params.x"
        with pytest.raises(Unauthenticated) as stranger:
            node.call("stranger")
        assert stranger.value.data == {"identity": "uid 1"}
        assert node.info()["serverVersion"] == "9.8.7"  # a new connection


def test_a_node_that_goes_away_mid_call_is_unreachable(peer) -> None:  # type: ignore[no-untyped-def]
    def handler(conn: socket.socket, reader: Any) -> None:
        p.read(reader)
        conn.sendall(b'{"jsonrpc":"2.0","id":1,"resu')

    p = peer(handler)
    with Node(f"unix:{p.path}", name="gone") as node:
        with pytest.raises(NodeUnreachable, match="closed the connection") as lost:
            node.call("node.info")
        assert lost.value.node == "gone" and isinstance(lost.value, OSError)


def test_nothing_listening_is_unreachable() -> None:
    directory = tempfile.mkdtemp(prefix="bpfleet-py-none-")
    try:
        with Node(f"unix:{directory}/none.sock") as node:
            with pytest.raises(NodeUnreachable, match="is bpfleetd running"):
                node.info()
    finally:
        os.rmdir(directory)
