"""Exceptions: one class per JSON-RPC error code, and NodeUnreachable.

Every error a node answers is a BpfleetError carrying the reply's ``code``,
``message`` and ``data``, and the name of the ``node`` that answered it.
docs/protocol.md lists the codes and what ``data`` holds for each.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Type

__all__ = [
    "BpfleetError", "ParseError", "InvalidRequest", "MethodNotFound", "InvalidParams", "InternalError",
    "Unauthenticated", "PermissionDenied", "NotFound", "Conflict", "InvalidObject", "VerifierRejected",
    "AttachFailed", "Unsupported", "LimitExceeded", "KernelError", "NodeUnreachable", "NodeTimeout",
    "TLSError", "ProtocolError", "error_for",
]


class BpfleetError(Exception):
    """An error a node answered, or (subclasses) one on the way to it.

    ``code`` is the JSON-RPC error code (None for errors of the client),
    ``message`` the error's message, ``data`` its ``data`` member (None
    when absent), ``node`` the name of the node.
    """

    code: Optional[int] = None

    def __init__(self, message: str, *, code: Optional[int] = None, data: Any = None, node: Optional[str] = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.data = data
        self.node = node

    def __str__(self) -> str:
        """The message, after the node's name unless the message names the node."""
        if self.node and self.node not in self.message:
            return f"{self.node}: {self.message}"
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, data={self.data!r}, node={self.node!r})"


class ParseError(BpfleetError):
    """-32700: the node could not read the request as JSON."""
    code = -32700


class InvalidRequest(BpfleetError):
    """-32600: not a JSON-RPC request, or over a reading limit (``data.limit``)."""
    code = -32600


class MethodNotFound(BpfleetError):
    """-32601: the node has no such method (an older bpfleetd).

    The message names the node, its bpfleetd version and the method.
    """
    code = -32601


class InvalidParams(BpfleetError):
    """-32602: a parameter is missing, mistyped or out of range (``data.field``)."""
    code = -32602


class InternalError(BpfleetError):
    """-32603: a fault in bpfleetd."""
    code = -32603


class Unauthenticated(BpfleetError):
    """-32001: the peer has no role on the node (``data.identity``)."""
    code = -32001


class PermissionDenied(BpfleetError):
    """-32002: the peer's role does not allow the method (``data.method``, ``needs``, ``role``)."""
    code = -32002


class NotFound(BpfleetError):
    """-32003: no such probe, object, program, map, link or subscription (``data.kind``)."""
    code = -32003


class Conflict(BpfleetError):
    """-32004: a name taken, an object in use, a pin in the way."""
    code = -32004


class InvalidObject(BpfleetError):
    """-32005: not a BPF object libbpf can open (``data.libbpf``)."""
    code = -32005


class VerifierRejected(BpfleetError):
    """-32006: the verifier refused a program (``data.program``, ``data.log``)."""
    code = -32006


class AttachFailed(BpfleetError):
    """-32007: the kernel refused an attachment (``data.errno``, ``data.target``)."""
    code = -32007


class Unsupported(BpfleetError):
    """-32008: a feature this kernel lacks (``data.feature``)."""
    code = -32008


class LimitExceeded(BpfleetError):
    """-32009: a configured limit was reached (``data.limit``, ``data.value``)."""
    code = -32009


class KernelError(BpfleetError):
    """-32010: a system call failed (``data.errno``, ``data.errnoName``, ``data.operation``)."""
    code = -32010


class NodeUnreachable(BpfleetError, ConnectionError):
    """The node could not be reached, or the connection to it was lost.

    Also an OSError (a ConnectionError). A call cut off by a lost connection
    may or may not have run on the node.
    """

    def __init__(self, message: str, *, node: Optional[str] = None) -> None:
        BpfleetError.__init__(self, message, node=node)


class NodeTimeout(NodeUnreachable, TimeoutError):
    """The node did not answer within the Node's timeout (the connection is closed)."""


class TLSError(NodeUnreachable):
    """The TLS handshake failed, or the node refused our certificate."""


class ProtocolError(BpfleetError):
    """The node sent something that is not a JSON-RPC reply, or a line over the
    Node's ``max_line_bytes``. The connection is closed."""


_BY_CODE: Dict[int, Type[BpfleetError]] = {
    cls.code: cls for cls in (
        ParseError, InvalidRequest, MethodNotFound, InvalidParams, InternalError, Unauthenticated,
        PermissionDenied, NotFound, Conflict, InvalidObject, VerifierRejected, AttachFailed, Unsupported,
        LimitExceeded, KernelError,
    ) if cls.code is not None
}


def error_for(code: int, message: str, data: Any = None, node: Optional[str] = None) -> BpfleetError:
    """The exception for a JSON-RPC error: its class by code, BpfleetError for a code not listed."""
    return _BY_CODE.get(code, BpfleetError)(message, code=code, data=data, node=node)
