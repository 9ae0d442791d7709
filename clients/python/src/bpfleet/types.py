"""The shapes of the results the client returns: plain dicts parsed from
JSON, typed for checkers. Fields that older servers leave out, or that a
node sends only in some cases, are in the ``total=False`` parts.

Keys are as on the wire (camelCase). Sources/Shared in the repository holds
the full definitions.
"""
from __future__ import annotations

from typing import Any, Dict, List, TypedDict

__all__ = [
    "NodeInfo", "ObjectDescription", "ProbeDescription", "LoadedProgram", "LoadedMap", "LinkDescription",
    "MapEntry", "MapSnapshot", "SubscriptionResult", "Notification", "MapNotification", "EventsNotification",
    "IterResult", "Target", "Attachment",
]

Target = Dict[str, Any]
"""An attach target, tagged by ``type`` (bpfleet.targets makes them)."""


class Attachment(TypedDict):
    """One entry of ``probe_load(attach=[...])``."""
    program: str
    target: Target


class _NodeInfo(TypedDict):
    hostname: str
    kernelRelease: str
    arch: str
    serverVersion: str
    libbpfVersion: str
    btf: bool
    programTypes: List[str]
    mapTypes: List[str]
    attachTargets: List[str]
    unsupportedTargets: Dict[str, str]
    runStats: bool
    startedAt: str
    uptimeSeconds: float


class NodeInfo(_NodeInfo, total=False):
    """``node.info``. ``protocolVersion`` and ``methods`` are absent from older servers."""
    missingFeatures: Dict[str, str]
    tcx: bool
    protocolVersion: str
    methods: List[str]


class _ObjectDescription(TypedDict):
    objectId: str
    size: int
    uploadedAt: str
    programs: List[Dict[str, Any]]
    maps: List[Dict[str, Any]]
    globals: List[Dict[str, Any]]
    usedBy: List[str]


class ObjectDescription(_ObjectDescription, total=False):
    """``object.upload`` and ``object.get``; ``signers`` and ``policy`` on a node with an object policy."""
    name: str
    signatures: List[Dict[str, str]]
    signers: List[Dict[str, str]]
    policy: str


class _LoadedProgram(TypedDict):
    name: str
    section: str
    type: str
    id: int
    tag: str
    instructions: int


class LoadedProgram(_LoadedProgram, total=False):
    """A program of a probe; run counters when the kernel keeps them."""
    verifiedInstructions: int
    runCount: int
    runTimeNs: int


class _LoadedMap(TypedDict):
    name: str
    type: str
    id: int
    keySize: int
    valueSize: int
    maxEntries: int


class LoadedMap(_LoadedMap, total=False):
    """A map held by a probe."""
    probe: str
    keyType: str
    valueType: str
    pinPath: str


class _LinkDescription(TypedDict):
    linkId: int
    id: int
    program: str
    target: Target
    attachedAt: str


class LinkDescription(_LinkDescription, total=False):
    """``probe.attach``, and each of a probe's ``links``."""
    ids: List[int]
    resolvedTarget: Target
    pinPath: str
    state: str
    stateReason: str


class _ProbeDescription(TypedDict):
    name: str
    objectId: str
    labels: Dict[str, str]
    globals: Dict[str, Any]
    loadedAt: str
    programs: List[LoadedProgram]
    maps: List[LoadedMap]
    links: List[LinkDescription]


class ProbeDescription(_ProbeDescription, total=False):
    """``probe.load`` and ``probe.get``."""
    origin: str
    state: str
    adoptedAt: str
    restoredAt: str
    restoreError: str
    replacedProgramIds: List[int]
    mapSettings: Dict[str, Dict[str, Any]]
    recordTypes: List[str]
    signers: List[Dict[str, str]]
    policy: str


class _MapEntry(TypedDict):
    key: Any
    value: Any


class MapEntry(_MapEntry, total=False):
    """One entry, typed or hex; ``stacks`` with ``symbolize``."""
    stacks: Dict[str, Any]


class MapSnapshot(TypedDict):
    """``map.snapshot``."""
    entries: List[MapEntry]
    count: int
    truncated: bool
    takenAt: str


class SubscriptionResult(TypedDict):
    """``map.watch`` and ``events.subscribe``."""
    subscription: int


class Notification(TypedDict):
    """What a subscription yields: the notification's params, plus its ``method``."""
    method: str
    subscription: int
    seq: int


class MapNotification(Notification, total=False):
    """``subscription.map``: ``entries`` (full mode) or ``set`` and ``removed`` (delta mode)."""
    takenAt: str
    entries: List[MapEntry]
    set: List[MapEntry]
    removed: List[Any]


class EventsNotification(Notification, total=False):
    """``subscription.events``: records in order, and how many were lost before them."""
    records: List[Any]
    lost: int


class _IterResult(TypedDict):
    bytes: int
    truncated: bool


class IterResult(_IterResult, total=False):
    """``iter.read``: ``output`` (text or base64 by ``encoding``), or ``records`` with a record type."""
    output: str
    encoding: str
    records: List[Any]
    lossy: bool
