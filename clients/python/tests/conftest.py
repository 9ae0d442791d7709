"""Fixtures: real bpfleetd processes (_bpfleet_nodes.Server), a Node on one,
and a workload binary. Everything they start is stopped and removed at the end."""
from __future__ import annotations

import signal
from typing import Any, Callable, Iterator, List, Optional, Sequence

import pytest
from _bpfleet_nodes import Server, Workload

from bpfleet import Node


def _interrupted(*_: Any) -> None:
    raise KeyboardInterrupt  # SIGTERM as Ctrl-C: the fixtures' teardown still runs


def pytest_configure(config: pytest.Config) -> None:
    signal.signal(signal.SIGTERM, _interrupted)


@pytest.fixture
def start_server() -> Iterator[Callable[..., Server]]:
    """Starts servers (``start_server(extra, listen=...)``); all stopped at the end."""
    started: List[Server] = []

    def start(extra: Sequence[str] = (), listen: Optional[str] = None) -> Server:
        server = Server(extra, listen)
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        server.stop()


@pytest.fixture
def server(start_server: Callable[..., Server]) -> Server:
    return start_server()


@pytest.fixture
def node(server: Server) -> Iterator[Node]:
    with server.node(name="test-node") as node:
        yield node


@pytest.fixture
def workload() -> Iterator[Workload]:
    w = Workload()
    yield w
    w.remove()
