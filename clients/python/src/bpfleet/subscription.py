"""A subscription (``map.watch``, ``events.subscribe``) on a connection of its own."""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Deque, Dict, Generic, Iterator, Optional, TypeVar, cast

from .errors import BpfleetError, NodeUnreachable, ProtocolError
from .transport import Connection

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["Subscription"]

N = TypeVar("N")


class Subscription(Generic[N]):
    """Notifications of one subscription, as an iterator.

    Each item is the notification's ``params`` with its ``method`` added
    (``subscription.map`` or ``subscription.events``). Iteration ends after
    the node's ``subscription.end`` (``end_reason`` then says why: ``cancelled``,
    ``probe unloaded``, ...) or after ``close()``. The subscription holds a
    connection of its own; ``close()`` (or leaving a ``with`` block) closes it,
    which ends the subscription on the node.

    One thread consumes a subscription; ``close()`` may be called from any
    thread and wakes a blocked read.
    """

    def __init__(self, connection: Connection, method: str, params: Dict[str, Any], timeout: Optional[float],
                 raise_error: Callable[[str, Any], BpfleetError]) -> None:
        self._connection = connection
        self._timeout = timeout
        self._raise_error = raise_error
        self._queued: Deque[Any] = deque()
        self._next_id = 0
        self._closing = threading.Event()
        self.node = connection.node
        self.end_reason: Optional[str] = None
        try:
            result = self._request(method, params).get("result")
            if not isinstance(result, dict) or not isinstance(result.get("subscription"), int):
                raise ProtocolError(f"{method} answered no subscription id: {str(result)[:200]}", node=self.node)
        except BaseException:
            connection.close()
            raise
        self.id: int = result["subscription"]

    def _request(self, method: str, params: Dict[str, Any]) -> Dict[str, Any]:
        self._next_id += 1
        try:
            reply = self._connection.request(self._next_id, method, params, self._timeout, self._queued)
        except BpfleetError:
            self._connection.close()
            raise
        if "error" in reply:
            raise self._raise_error(method, reply["error"])
        return reply

    @property
    def ended(self) -> bool:
        """True once ``subscription.end`` came or the subscription was closed."""
        return self.end_reason is not None

    def __iter__(self) -> Iterator[N]:
        return self

    def __next__(self) -> N:
        note = self.next()
        if note is None:
            raise StopIteration
        return note

    def next(self, timeout: Optional[float] = None) -> Optional[N]:
        """The next notification; None when TIMEOUT seconds pass first or the subscription has ended.

        NodeUnreachable if the connection is lost (the subscription is then over).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.ended:
            if self._queued:
                message = self._queued.popleft()
            else:
                try:
                    message = self._connection.receive(deadline)
                except NodeUnreachable:
                    if self._closing.is_set():
                        self.end_reason = "closed"
                        return None
                    self.end_reason = "connection lost"
                    raise
                if message is None:
                    return None
            if not isinstance(message, dict) or "id" in message:
                continue  # a late reply: nothing waits for it
            params = message.get("params")
            if not isinstance(params, dict) or params.get("subscription") != self.id:
                continue
            if message.get("method") == "subscription.end":
                self.end_reason = str(params.get("reason", ""))
                self._connection.close()
                return None
            note = dict(params)
            note["method"] = message.get("method")
            return cast(N, note)
        return None

    def cancel(self) -> None:
        """Asks the node to stop (``subscription.cancel``). Notifications already
        sent are still yielded; iteration ends at the node's ``subscription.end``."""
        if not self.ended:
            self._request("subscription.cancel", {"subscription": self.id})

    def close(self) -> None:
        """Closes the subscription's connection, which ends it on the node."""
        if self.end_reason is None:
            self._closing.set()
            self.end_reason = "closed"
        self._connection.shutdown()  # wakes a read blocked in another thread
        self._connection.close()

    def __enter__(self) -> "Subscription[N]":
        return self

    def __exit__(self, kind: Optional[type], value: Optional[BaseException], traceback: Optional["TracebackType"]) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Subscription {self.id} on {self.node}{' ended: ' + self.end_reason if self.end_reason else ''}>"
