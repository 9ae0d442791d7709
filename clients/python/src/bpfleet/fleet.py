"""The same work on several nodes at once, on a thread pool."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Generic, Iterable, Iterator, List, Mapping, Optional, Sequence, TypeVar

from .node import Node

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["Outcome", "fan_out", "Fleet"]

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What one node gave: ``result``, or the exception it raised as ``error``."""

    node: Node
    result: Optional[T] = None
    error: Optional[Exception] = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def value(self) -> T:
        """The result; raises the node's exception if it failed."""
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]


def fan_out(nodes: Sequence[Node], work: Callable[[Node], T], *, max_workers: Optional[int] = None) -> List[Outcome[T]]:
    """Runs WORK(node) for every node, at most MAX_WORKERS at once (default:
    every node, up to 64). One Outcome per node, in the nodes' order: a node
    that fails (NodeUnreachable, an error it answered, or any other
    exception WORK raised) does not stop the others."""
    if not nodes:
        return []

    def one(node: Node) -> Outcome[T]:
        try:
            return Outcome(node, result=work(node))
        except Exception as error:  # noqa: BLE001 -- each node's failure is its own outcome
            return Outcome(node, error=error)

    workers = max_workers or min(len(nodes), 64)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bpfleet") as pool:
        return list(pool.map(one, nodes))


class Fleet:
    """Several nodes, worked on together (``fan_out``); closes them all at the end."""

    def __init__(self, nodes: Iterable[Node], *, max_workers: Optional[int] = None) -> None:
        self.nodes: List[Node] = list(nodes)
        self.max_workers = max_workers

    @classmethod
    def connect(cls, addresses: Iterable[str], *, max_workers: Optional[int] = None, **options: Any) -> "Fleet":
        """A Fleet of Node(address, **options) for each address."""
        return cls([Node(address, **options) for address in addresses], max_workers=max_workers)

    def run(self, work: Callable[[Node], T]) -> List[Outcome[T]]:
        """WORK(node) on every node at once; an Outcome per node, in order."""
        return fan_out(self.nodes, work, max_workers=self.max_workers)

    def call(self, method: str, params: Optional[Mapping[str, Any]] = None) -> List[Outcome[Any]]:
        """The same JSON-RPC call on every node."""
        return self.run(lambda node: node.call(method, params))

    def close(self) -> None:
        for node in self.nodes:
            node.close()

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def __enter__(self) -> "Fleet":
        return self

    def __exit__(self, kind: Optional[type], value: Optional[BaseException], traceback: Optional["TracebackType"]) -> None:
        self.close()
