"""A bpfleetd node: one method per JSON-RPC method of docs/protocol.md."""
from __future__ import annotations

import base64
import json
import os
import threading
import weakref
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Union, cast

from .errors import BpfleetError, MethodNotFound, ProtocolError, Unauthenticated, error_for
from .subscription import Subscription
from .transport import DEFAULT_MAX_LINE_BYTES, TLS, Address, Connection
from .types import (Attachment, EventsNotification, IterResult, LinkDescription, LoadedMap, MapEntry, MapNotification,
                    MapSnapshot, NodeInfo, ObjectDescription, ProbeDescription, Target)

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["Node", "MapRef"]

MapRef = Union[str, int, Mapping[str, Any]]
"""A map: its name (with ``probe=``), its kernel id, or the wire form (``{"probe", "name"}`` or ``{"id"}``)."""


def _params(**fields: Any) -> Dict[str, Any]:
    """The fields that are not None (the keys are already the wire's camelCase)."""
    return {name: value for name, value in fields.items() if value is not None}


def _map_ref(probe: Optional[str], map: MapRef) -> Dict[str, Any]:
    if isinstance(map, bool):
        raise TypeError("map: a name, an id or a mapping, not a bool")
    if isinstance(map, int):
        return {"id": map}
    if isinstance(map, str):
        if probe is None:
            raise TypeError(f"map '{map}' by name needs probe=")
        return {"probe": probe, "name": map}
    return dict(map)


class Node:
    """A connection to one bpfleetd.

    ``address``: ``unix:/PATH`` or ``tcp://HOST[:PORT]`` (port 7447 when not
    given). A tcp:// node needs ``tls`` (docs/security.md), unless its
    bpfleetd listens with ``--insecure-plaintext`` on loopback and
    ``plaintext=True`` is given here. ``name`` names the node in errors
    (default: the address). ``timeout``: seconds a call waits for its
    answer, ``connect_timeout``: seconds to connect and finish the TLS
    handshake (None: no limit). ``max_line_bytes``: the longest reply taken. ValueError for an address or options that do not
    go together, or TLS files that cannot be used.

    Calls go over one connection, opened at the first call and again after
    it is lost. A Node may be shared between threads: their calls take
    turns on the connection (a lock). Each subscription has a connection of
    its own.
    """

    def __init__(self, address: str, *, tls: Optional[TLS] = None, name: Optional[str] = None, plaintext: bool = False,
                 timeout: Optional[float] = 60.0, connect_timeout: Optional[float] = 10.0,
                 max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        self.address = Address.parse(address)
        if self.address.scheme == "unix" and (tls is not None or plaintext):
            raise ValueError(f"{address}: tls and plaintext are for tcp:// addresses")
        if self.address.scheme == "tcp":
            if tls is None and not plaintext:
                raise ValueError(f"{address}: a tcp:// node needs tls=TLS(...) (or plaintext=True on loopback)")
            if tls is not None and plaintext:
                raise ValueError(f"{address}: tls or plaintext, not both")
            if plaintext and not self.address.is_loopback:
                raise ValueError(f"{address}: plaintext only to a loopback address")
        self.name = name or str(self.address)
        self.tls = tls
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.max_line_bytes = max_line_bytes
        self._context = tls.context() if tls is not None else None
        self._lock = threading.Lock()
        self._connection: Optional[Connection] = None
        self._next_id = 0
        self._info: Optional[NodeInfo] = None
        self._subscriptions: "weakref.WeakSet[Subscription[Any]]" = weakref.WeakSet()

    def __repr__(self) -> str:
        return f"Node({str(self.address)!r}, name={self.name!r})"

    # --- the connection ---------------------------------------------------------------------------

    def _connect(self) -> Connection:
        return Connection(self.address, node=self.name, tls=self.tls, context=self._context,
                          timeout=self.connect_timeout, max_line_bytes=self.max_line_bytes)

    def close(self) -> None:
        """Closes the connection and every subscription of this Node."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
        for subscription in list(self._subscriptions):
            subscription.close()

    def __enter__(self) -> "Node":
        return self

    def __exit__(self, kind: Optional[type], value: Optional[BaseException], traceback: Optional["TracebackType"]) -> None:
        self.close()

    def call(self, method: str, params: Optional[Mapping[str, Any]] = None) -> Any:
        """Calls METHOD with PARAMS (the wire's form) and returns its result.

        The error a node answers is raised as its class (bpfleet.errors);
        NodeUnreachable if the node cannot be reached or the connection is
        lost on the way.
        """
        with self._lock:
            if self._connection is None or self._connection.closed:
                self._connection = self._connect()
            connection = self._connection
            self._next_id += 1
            try:
                reply = connection.request(self._next_id, method, dict(params) if params is not None else None,
                                           self.timeout)
            finally:
                if connection.closed:
                    self._connection = None
            if "error" in reply:
                error = reply["error"]
                if reply.get("id") is None and isinstance(error, dict) and error.get("code") == Unauthenticated.code:
                    connection.close()  # the node lets a peer with no role go
                    self._connection = None
        if "error" in reply:
            raise self._error(method, reply["error"])
        if "result" not in reply:
            raise ProtocolError(f"the reply to {method} has neither result nor error", node=self.name)
        return reply["result"]

    def _error(self, method: str, error: Any) -> BpfleetError:
        if not isinstance(error, dict) or not isinstance(error.get("code"), int):
            return ProtocolError(f"the reply to {method} has a malformed error: {str(error)[:200]}", node=self.name)
        code, message, data = error["code"], str(error.get("message", "")), error.get("data")
        if code == MethodNotFound.code:
            version = self._server_version() if method != "node.info" else None
            message = f"node {self.name} runs bpfleetd {version or '(version unknown)'}, which has no method {method}"
        return error_for(code, message, data, self.name)

    def _server_version(self) -> Optional[str]:
        try:
            info = self._info if self._info is not None else self.info()
        except BpfleetError:
            return None
        version = info.get("serverVersion")
        return version if isinstance(version, str) else None

    def subscribe(self, method: str, params: Mapping[str, Any]) -> Subscription[Any]:
        """Calls a subscribing METHOD on a new connection; its notifications as a Subscription."""
        subscription: Subscription[Any] = Subscription(self._connect(), method, dict(params), self.timeout, self._error)
        self._subscriptions.add(subscription)
        return subscription

    # --- node ----------------------------------------------------------------------------------

    def info(self) -> NodeInfo:
        """``node.info``: the host, kernel, bpfleetd version and what the kernel can do."""
        info = cast(NodeInfo, self.call("node.info"))
        self._info = info
        return info

    def discover(self) -> Dict[str, Any]:
        """``rpc.discover``: the node's OpenRPC document (newer servers only: MethodNotFound otherwise)."""
        return cast(Dict[str, Any], self.call("rpc.discover"))

    def node_programs(self, *, holders: Optional[bool] = None) -> Dict[str, Any]:
        """``node.programs``: every BPF program in the kernel, bpfleet's or not (``programs``,
        ``truncated``); ``holders=False`` skips finding the processes holding each."""
        return cast(Dict[str, Any], self.call("node.programs", _params(holders=holders)))

    def node_maps(self, *, holders: Optional[bool] = None) -> Dict[str, Any]:
        """``node.maps``: every BPF map in the kernel, bpfleet's or not (``maps``, ``truncated``)."""
        return cast(Dict[str, Any], self.call("node.maps", _params(holders=holders)))

    def node_links(self, *, holders: Optional[bool] = None) -> Dict[str, Any]:
        """``node.links``: every BPF link in the kernel, bpfleet's or not (``links``, ``truncated``)."""
        return cast(Dict[str, Any], self.call("node.links", _params(holders=holders)))

    def node_metrics(self, probe: Optional[str] = None) -> str:
        """``node.metrics``: the node's Prometheus metrics, the text ``GET /metrics`` serves (docs/metrics.md);
        with PROBE, only that probe's series (its programs' and its map exports)."""
        return cast(str, cast(Dict[str, Any], self.call("node.metrics", _params(probe=probe)))["text"])

    def node_btf(self, *, module: Optional[str] = None, format: Optional[str] = None, offset: Optional[int] = None,
                 max_bytes: Optional[int] = None) -> Dict[str, Any]:
        """``node.btf``: one chunk of the node's kernel types (vmlinux's BTF, or MODULE's), ``raw`` or
        as the ``c`` header; ``data`` is base64 (docs/btf.md)."""
        return cast(Dict[str, Any], self.call("node.btf", _params(
            module=module, format=format, offset=offset, maxBytes=max_bytes)))

    # --- objects -------------------------------------------------------------------------------

    def object_upload(self, *, data: bytes, name: Optional[str] = None,
                      signatures: Optional[List[Dict[str, str]]] = None) -> ObjectDescription:
        """``object.upload``: stores a compiled BPF ELF object (DATA, its bytes), with SIGNATURES
        (each the JSON object ``bpfleet sign`` writes) for a node's object policy."""
        encoded = base64.b64encode(data).decode("ascii")
        return cast(ObjectDescription, self.call("object.upload", _params(data=encoded, name=name, signatures=signatures)))

    def object_upload_file(self, path: Union[str, "os.PathLike[str]"], *, name: Optional[str] = None,
                           signature_files: Optional[List[Union[str, "os.PathLike[str]"]]] = None) -> ObjectDescription:
        """``object.upload`` of the file at PATH, named by its file name unless NAME is given, with the
        signatures in SIGNATURE_FILES (default: PATH.sig when it exists)."""
        with open(path, "rb") as f:
            data = f.read()
        if signature_files is None:
            beside = os.fspath(path) + ".sig"
            signature_files = [beside] if os.path.exists(beside) else []
        signatures = []
        for signature_file in signature_files:
            with open(signature_file, "r", encoding="utf-8") as f:
                signatures.append(json.load(f))
        return self.object_upload(data=data, name=name or os.path.basename(os.fspath(path)),
                                  signatures=signatures or None)

    def object_list(self) -> List[ObjectDescription]:
        return cast(List[ObjectDescription], self.call("object.list")["objects"])

    def object_get(self, *, object_id: str) -> ObjectDescription:
        return cast(ObjectDescription, self.call("object.get", {"objectId": object_id}))

    def object_delete(self, *, object_id: str) -> None:
        self.call("object.delete", {"objectId": object_id})

    # --- probes --------------------------------------------------------------------------------

    def probe_load(self, *, name: str, object_id: str, programs: Optional[Sequence[str]] = None,
                   globals: Optional[Mapping[str, Any]] = None, labels: Optional[Mapping[str, str]] = None,
                   replace: Optional[bool] = None, keep_maps: Optional[Sequence[str]] = None,
                   attach: Optional[Sequence[Attachment]] = None,
                   maps: Optional[Mapping[str, Mapping[str, Any]]] = None,
                   metrics: Optional[Sequence[Mapping[str, Any]]] = None) -> ProbeDescription:
        """``probe.load``: the object's programs and maps into the kernel under NAME.

        ``attach``: links made as part of the load, ``[{"program", "target"}]``
        (bpfleet.targets makes targets). ``maps``: settings by map name, in
        the wire's form (``{"start": {"maxEntries": 10240}}``). ``metrics``:
        maps exported to Prometheus, in the wire's form
        (``[{"map": "counts", "name": "execs_total", "kind": "counter"}]``, docs/metrics.md).
        """
        return cast(ProbeDescription, self.call("probe.load", _params(
            name=name, objectId=object_id, programs=_list(programs), globals=_dict(globals), labels=_dict(labels),
            replace=replace, keepMaps=_list(keep_maps), attach=_list(attach), maps=_dict(maps), metrics=_list(metrics))))

    def probe_verify(self, *, object_id: str, programs: Optional[Sequence[str]] = None,
                     globals: Optional[Mapping[str, Any]] = None,
                     maps: Optional[Mapping[str, Mapping[str, Any]]] = None) -> Dict[str, Any]:
        """``probe.verify``: the object's programs through the node's verifier, everything freed.

        ``{"kernelRelease", "programs": [{"name", "verdict", ...}], "missingFeatures"}``;
        ``programs``, ``globals`` and ``maps`` as ``probe_load`` takes them.
        """
        return cast(Dict[str, Any], self.call("probe.verify", _params(
            objectId=object_id, programs=_list(programs), globals=_dict(globals), maps=_dict(maps))))

    def probe_attach(self, *, probe: str, program: str, target: Target) -> LinkDescription:
        """``probe.attach``: one program of a probe to a target."""
        return cast(LinkDescription, self.call("probe.attach", {"probe": probe, "program": program, "target": target}))

    def probe_detach(self, *, probe: str, link_id: int) -> None:
        self.call("probe.detach", {"probe": probe, "linkId": link_id})

    def probe_unload(self, *, probe: str) -> None:
        """``probe.unload``: detaches every link, frees every kernel object, unpins."""
        self.call("probe.unload", {"probe": probe})

    def probe_list(self) -> List[ProbeDescription]:
        return cast(List[ProbeDescription], self.call("probe.list")["probes"])

    def probe_get(self, *, probe: str) -> ProbeDescription:
        return cast(ProbeDescription, self.call("probe.get", {"probe": probe}))

    # --- maps ----------------------------------------------------------------------------------

    def map_list(self, *, probe: Optional[str] = None) -> List[LoadedMap]:
        return cast(List[LoadedMap], self.call("map.list", _params(probe=probe))["maps"])

    def map_snapshot(self, *, map: MapRef, probe: Optional[str] = None, format: Optional[str] = None,
                     limit: Optional[int] = None, symbolize: Optional[bool] = None,
                     stack_map: Optional[str] = None) -> MapSnapshot:
        """``map.snapshot``: every entry at one moment (``format`` "typed" or "hex")."""
        return cast(MapSnapshot, self.call("map.snapshot", _params(
            map=_map_ref(probe, map), format=format, limit=limit, symbolize=symbolize, stackMap=stack_map)))

    def map_lookup(self, *, map: MapRef, key: Any, probe: Optional[str] = None, format: Optional[str] = None,
                   symbolize: Optional[bool] = None, stack_map: Optional[str] = None) -> MapEntry:
        """``map.lookup``: one entry; NotFound for a missing key."""
        return cast(MapEntry, self.call("map.lookup", _params(
            map=_map_ref(probe, map), key=key, format=format, symbolize=symbolize, stackMap=stack_map)))

    def map_update(self, *, map: MapRef, key: Any, value: Any, probe: Optional[str] = None,
                   format: Optional[str] = None, flags: Optional[str] = None) -> None:
        """``map.update``; ``flags`` "any" (default), "noexist" or "exist"."""
        self.call("map.update", _params(map=_map_ref(probe, map), key=key, value=value, format=format, flags=flags))

    def map_delete(self, *, map: MapRef, key: Any, probe: Optional[str] = None, format: Optional[str] = None) -> None:
        self.call("map.delete", _params(map=_map_ref(probe, map), key=key, format=format))

    def iter_read(self, *, probe: str, program: str, map: Optional[MapRef] = None, record_type: Optional[str] = None,
                  limit: Optional[int] = None) -> IterResult:
        """``iter.read``: runs an iterator program once. ``map`` (a map name of
        the same probe, an id, or a mapping) for an iterator over a map's elements."""
        return cast(IterResult, self.call("iter.read", _params(
            probe=probe, program=program, map=_map_ref(probe, map) if map is not None else None,
            recordType=record_type, limit=limit)))

    # --- subscriptions -------------------------------------------------------------------------

    def watch_map(self, *, map: MapRef, interval_ms: int, probe: Optional[str] = None, mode: Optional[str] = None,
                  format: Optional[str] = None, symbolize: Optional[bool] = None,
                  stack_map: Optional[str] = None) -> Subscription[MapNotification]:
        """``map.watch``: a ``subscription.map`` notification every interval
        (``mode`` "full", the default, or "delta")."""
        return self.subscribe("map.watch", _params(
            map=_map_ref(probe, map), intervalMs=interval_ms, mode=mode, format=format, symbolize=symbolize,
            stackMap=stack_map))

    def subscribe_events(self, *, map: MapRef, probe: Optional[str] = None,
                         record_type: Optional[str] = None) -> Subscription[EventsNotification]:
        """``events.subscribe``: records of a ring buffer or perf event array."""
        return self.subscribe("events.subscribe", _params(map=_map_ref(probe, map), recordType=record_type))


def _list(values: Optional[Sequence[Any]]) -> Optional[List[Any]]:
    return list(values) if values is not None else None


def _dict(values: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    return dict(values) if values is not None else None
