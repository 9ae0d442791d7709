"""A Python client for bpfleetd (docs/python.md).

    from bpfleet import Node
    with Node("unix:/run/bpfleet/bpfleetd.sock") as node:
        print(node.info()["serverVersion"])
"""
from . import targets
from .errors import (AttachFailed, BpfleetError, Conflict, InternalError, InvalidObject, InvalidParams, InvalidRequest,
                     KernelError, LimitExceeded, MethodNotFound, NodeTimeout, NodeUnreachable, NotFound, ParseError,
                     PermissionDenied, ProtocolError, TLSError, Unauthenticated, Unsupported, VerifierRejected,
                     error_for)
from .fleet import Fleet, Outcome, fan_out
from .node import MapRef, Node
from .subscription import Subscription
from .transport import DEFAULT_MAX_LINE_BYTES, DEFAULT_PORT, TLS, Address

__version__ = "0.1.0"

__all__ = [
    "Node", "TLS", "Address", "MapRef", "Subscription", "Fleet", "Outcome", "fan_out", "targets",
    "DEFAULT_PORT", "DEFAULT_MAX_LINE_BYTES",
    "BpfleetError", "ParseError", "InvalidRequest", "MethodNotFound", "InvalidParams", "InternalError",
    "Unauthenticated", "PermissionDenied", "NotFound", "Conflict", "InvalidObject", "VerifierRejected",
    "AttachFailed", "Unsupported", "LimitExceeded", "KernelError", "NodeUnreachable", "NodeTimeout", "TLSError",
    "ProtocolError", "error_for",
]
