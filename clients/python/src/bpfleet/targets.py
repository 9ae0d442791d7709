"""Attach targets as ``probe_attach`` and ``probe_load(attach=...)`` take them
(docs/attach-targets.md): each function returns the target's JSON object."""
from __future__ import annotations

from typing import Any, Dict, Optional

from .types import Target

__all__ = ["auto", "tracepoint", "raw_tracepoint", "tp_btf", "kprobe", "uprobe", "usdt", "fentry", "fexit", "xdp",
           "tc", "cgroup", "perf_event"]


def _target(type_: str, **fields: Any) -> Target:
    target: Dict[str, Any] = {"type": type_}
    target.update((name, value) for name, value in fields.items() if value is not None)
    return target


def auto() -> Target:
    """The target the program's section names (``tracepoint/sched/sched_process_exec``)."""
    return _target("auto")


def tracepoint(category: str, name: str) -> Target:
    return _target("tracepoint", category=category, name=name)


def raw_tracepoint(name: str) -> Target:
    return _target("raw_tracepoint", name=name)


def tp_btf(name: Optional[str] = None) -> Target:
    return _target("tp_btf", name=name)


def kprobe(function: str, retprobe: bool = False) -> Target:
    return _target("kprobe", function=function, retprobe=retprobe)


def uprobe(binary: str, symbol: Optional[str] = None, offset: Optional[int] = None, pid: Optional[int] = None,
           retprobe: bool = False) -> Target:
    return _target("uprobe", binary=binary, symbol=symbol, offset=offset, pid=pid, retprobe=retprobe)


def usdt(binary: str, provider: str, name: str, pid: Optional[int] = None) -> Target:
    return _target("usdt", binary=binary, provider=provider, name=name, pid=pid)


def fentry(function: Optional[str] = None) -> Target:
    return _target("fentry", function=function)


def fexit(function: Optional[str] = None) -> Target:
    return _target("fexit", function=function)


def xdp(interface: str, mode: Optional[str] = None) -> Target:
    return _target("xdp", interface=interface, mode=mode)


def tc(interface: str, direction: str, priority: Optional[int] = None) -> Target:
    return _target("tc", interface=interface, direction=direction, priority=priority)


def cgroup(path: str, attach_type: str) -> Target:
    return _target("cgroup", path=path, attachType=attach_type)


def perf_event(event: str, frequency: int) -> Target:
    return _target("perf_event", event=event, frequency=frequency)
