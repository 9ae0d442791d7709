"""Addresses, TLS settings and one connection to a node: JSON texts, one per line."""
from __future__ import annotations

import ipaddress
import json
import re
import socket
import ssl
import time
from dataclasses import dataclass
from collections import deque
from typing import Any, Dict, List, Optional, Tuple

from .errors import NodeTimeout, NodeUnreachable, ProtocolError, TLSError

__all__ = ["Address", "TLS", "DEFAULT_PORT", "DEFAULT_MAX_LINE_BYTES"]

DEFAULT_PORT = 7447
DEFAULT_MAX_LINE_BYTES = 1 << 30  # 1 GiB: a 1,000,000-entry snapshot is tens of MB
_CHUNK = 1 << 20
# A reply line this long, still arriving, has its entries decoded as they come,
# a step of this many bytes at a time (Connection._decode_early).
_EARLY_FROM = 4 << 20
_EARLY_STEP = 1 << 20
_ENTRIES = re.compile(rb'\{"jsonrpc":"2\.0","id":-?\d+,"result":\{(?:"\w+":(?:-?\d+|true|false|null|"[^"\\]*"),)*"entries":\[')
_BETWEEN_ENTRIES = b'},{"key":'


class _Early:
    """How far the entries of a long reply are decoded: its array starts at
    START (-1: not decoded early), NEXT is the first entry not decoded yet."""

    __slots__ = ("start", "next", "entries")

    def __init__(self, start: int) -> None:
        self.start = start
        self.next = start
        self.entries: List[Any] = []


@dataclass(frozen=True)
class Address:
    """Where a node listens: ``unix:/PATH`` or ``tcp://HOST[:PORT]`` (IPv6 in brackets)."""

    scheme: str  # "unix" or "tcp"
    path: str = ""
    host: str = ""
    port: int = DEFAULT_PORT

    @classmethod
    def parse(cls, text: str) -> "Address":
        """The address TEXT names; ValueError if it names none."""
        if text.startswith("unix:"):
            path = text[len("unix:"):]
            if path.startswith("//"):
                path = path[2:]
            if not path:
                raise ValueError(f"invalid address '{text}': empty socket path")
            return cls("unix", path=path)
        if text.startswith("/"):
            return cls("unix", path=text)
        if not text.startswith("tcp://"):
            raise ValueError(f"invalid address '{text}': expected unix:/PATH or tcp://HOST[:PORT]")
        rest = text[len("tcp://"):]
        port_text: Optional[str]
        if rest.startswith("["):
            close = rest.find("]")
            if close < 0:
                raise ValueError(f"invalid address '{text}': unterminated IPv6 address")
            host, after = rest[1:close], rest[close + 1:]
            port_text = after[1:] if after.startswith(":") else (after or None)
        elif ":" in rest:
            host, _, port_text = rest.rpartition(":")
            if ":" in host:
                raise ValueError(f"invalid address '{text}': an IPv6 address goes in brackets: tcp://[::1]:{DEFAULT_PORT}")
        else:
            host, port_text = rest, None
        if not host:
            raise ValueError(f"invalid address '{text}': empty host")
        port = DEFAULT_PORT
        if port_text is not None:
            if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
                raise ValueError(f"invalid address '{text}': port must be 1-65535")
            port = int(port_text)
        return cls("tcp", host=host, port=port)

    @property
    def is_loopback(self) -> bool:
        """A tcp address on 127.x, ::1 or localhost."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def __str__(self) -> str:
        if self.scheme == "unix":
            return f"unix:{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp://{host}:{self.port}"


@dataclass(frozen=True)
class TLS:
    """Mutual TLS to a ``tcp://`` node (docs/security.md).

    ``ca``: the CA file node certificates must chain to (only it is trusted).
    ``cert`` and ``key``: this client's certificate chain and key, both or
    neither. ``server_name``: the name the node's certificate must carry
    instead of the address's host (also sent as SNI).
    """

    ca: str
    cert: Optional[str] = None
    key: Optional[str] = None
    server_name: Optional[str] = None

    def context(self) -> ssl.SSLContext:
        """A TLS 1.3 client context with these files loaded; ValueError naming a file that cannot be."""
        if (self.cert is None) != (self.key is None):
            raise ValueError("TLS: cert and key go together")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        try:
            context.load_verify_locations(cafile=self.ca)
        except (OSError, ssl.SSLError) as error:
            raise ValueError(f"TLS: cannot use the CA file {self.ca}: {getattr(error, 'strerror', None) or error}") from error
        if self.cert is not None:
            try:
                context.load_cert_chain(self.cert, self.key)
            except (OSError, ssl.SSLError) as error:
                raise ValueError(f"TLS: cannot use the certificate {self.cert} with the key {self.key}: "
                                 f"{getattr(error, 'strerror', None) or error}") from error
        return context


def _tls_message(error: ssl.SSLError, node: str, tls: TLS) -> str:
    """What a failed handshake or a refused certificate means, in the CLI's words."""
    reason = (error.reason or "").upper()
    if "CERTIFICATE_REQUIRED" in reason:
        return f"node {node} requires a client certificate (TLS cert and key)"
    if "UNKNOWN_CA" in reason:
        return f"certificate not trusted by node {node}: it does not trust the CA that signed our certificate (TLS alert unknown_ca)"
    if "CERTIFICATE_EXPIRED" in reason:
        return f"certificate not trusted by node {node}: our certificate {tls.cert} has expired (TLS alert certificate_expired)"
    if isinstance(error, ssl.SSLCertVerificationError) and error.verify_code in (62, 64):  # host name, IP mismatch
        return f"node {node}'s certificate is not for the name dialled ({error.verify_message})"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"node {node}'s certificate is not trusted (CA file {tls.ca}): {error.verify_message}"
    if "WRONG_VERSION_NUMBER" in reason or "RECORD_LAYER_FAILURE" in reason:
        return f"node {node} did not answer in TLS ({error.reason})"
    if "ALERT" in reason:
        return f"certificate not trusted by node {node} ({error.reason})"
    return f"TLS with node {node} failed: {error}"


class Connection:
    """One socket to a node: JSON texts written and read one per line.

    Not thread-safe: its owner (a Node or a Subscription) serializes use.
    Reads keep what they have buffered across timeouts, so a read that
    times out can be tried again.
    """

    def __init__(self, address: Address, *, node: str, tls: Optional[TLS], context: Optional[ssl.SSLContext],
                 timeout: Optional[float], max_line_bytes: int) -> None:
        self.node = node
        self.max_line_bytes = max_line_bytes
        self._buffer = bytearray()
        self._scanned = 0  # bytes of _buffer known to hold no newline
        self._closed = False
        self._early: Optional[_Early] = None
        self._tls = tls
        self._sock = self._open(address, tls, context, timeout)

    def _open(self, address: Address, tls: Optional[TLS], context: Optional[ssl.SSLContext],
              timeout: Optional[float]) -> socket.socket:
        where = str(address)
        try:
            if address.scheme == "unix":
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    sock.settimeout(timeout)
                    sock.connect(address.path)
                except BaseException:
                    sock.close()
                    raise
            else:
                sock = socket.create_connection((address.host, address.port), timeout=timeout)
        except socket.timeout:
            raise NodeTimeout(f"cannot connect to {where}: no answer within {timeout} s", node=self.node) from None
        except OSError as error:
            hint = " (is bpfleetd running?)" if isinstance(error, (ConnectionRefusedError, FileNotFoundError)) else ""
            raise NodeUnreachable(f"cannot connect to {where}: {error.strerror or error}{hint}", node=self.node) from error
        if tls is None or context is None:
            return sock
        try:
            return context.wrap_socket(sock, server_hostname=tls.server_name or address.host)
        except ssl.SSLError as error:
            sock.close()
            raise TLSError(_tls_message(error, self.node, tls), node=self.node) from error
        except socket.timeout:
            sock.close()
            raise NodeTimeout(f"TLS with node {self.node}: no answer within {timeout} s", node=self.node) from None
        except OSError as error:
            sock.close()
            raise NodeUnreachable(f"TLS with node {self.node} failed: {error}", node=self.node) from error

    @property
    def closed(self) -> bool:
        return self._closed

    def send(self, message: Any, timeout: Optional[float]) -> None:
        """Writes MESSAGE as one line."""
        line = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
        try:
            self._sock.settimeout(timeout)
            self._sock.sendall(line)
        except socket.timeout:
            self.close()
            raise NodeTimeout(f"node {self.node} did not take the request within {timeout} s", node=self.node) from None
        except OSError as error:
            self.close()
            raise self._lost(error) from error

    def receive(self, deadline: Optional[float]) -> Any:
        """The next JSON text; None if DEADLINE (a time.monotonic() value) passes first.

        NodeUnreachable when the node closes the connection, ProtocolError
        for a line that is not JSON or is longer than max_line_bytes.
        """
        while True:
            found = self._line(deadline)
            if found is None:
                return None
            line, head = found
            if not line.strip():
                continue  # blank lines are skipped
            try:
                message = json.loads(line)
                if head is not None:  # entries decoded while the line arrived come first
                    result = message["result"]
                    head.extend(result["entries"])
                    result["entries"] = head
                return message
            except (ValueError, KeyError, TypeError) as error:
                self.close()
                raise ProtocolError(f"node {self.node} sent a line that is not JSON-RPC: {error}", node=self.node) from None

    def _line(self, deadline: Optional[float]) -> Optional[Tuple[bytes, Optional[List[Any]]]]:
        """The next line, and the entries decoded from it while it arrived (or None)."""
        buffer = self._buffer
        while True:
            end = buffer.find(b"\n", self._scanned)
            if end >= 0:
                early, self._early = self._early, None
                head = early.entries if early is not None and early.entries else None
                if early is not None and head is not None:
                    line = bytes(buffer[:early.start] + buffer[early.next:end])
                else:
                    line = bytes(buffer[:end])
                del buffer[:end + 1]
                self._scanned = 0
                return line, head
            self._scanned = len(buffer)
            if self._scanned > self.max_line_bytes:
                self.close()
                raise ProtocolError(f"node {self.node} sent a line longer than max_line_bytes ({self.max_line_bytes})",
                                    node=self.node)
            if self._scanned >= _EARLY_FROM:
                self._decode_early()
            if self._closed:
                raise NodeUnreachable(f"the connection to node {self.node} is closed", node=self.node)
            timeout = None
            if deadline is not None:
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    return None
            try:
                self._sock.settimeout(timeout)
                chunk = self._sock.recv(_CHUNK)
            except socket.timeout:
                return None
            except ssl.SSLError as error:
                self.close()
                raise TLSError(_tls_message(error, self.node, self._tls or TLS(ca="")), node=self.node) from error
            except OSError as error:
                self.close()
                raise self._lost(error) from error
            if not chunk:
                self.close()
                raise NodeUnreachable(f"node {self.node} closed the connection", node=self.node)
            buffer += chunk

    def _decode_early(self) -> None:
        """Decodes the entries of a long reply (a snapshot) while the rest of it
        arrives, so that decoding overlaps the node's sending.

        Only for a reply whose result holds plain values before its
        ``entries`` array (as map.snapshot's does). The array is cut after an
        entry's closing brace followed by the next entry's opening
        ``{"key":``; a cut anywhere else leaves unbalanced brackets, which do
        not decode, and the line is then decoded whole at its end.
        """
        buffer = self._buffer
        early = self._early
        if early is None:
            match = _ENTRIES.match(buffer, 0, 4096)
            early = self._early = _Early(match.end() if match else -1)
        if early.start < 0 or len(buffer) - early.next < _EARLY_STEP:
            return
        cut = buffer.rfind(_BETWEEN_ENTRIES, early.next)
        if cut <= early.next:
            return
        try:
            entries = json.loads(b"[" + buffer[early.next:cut + 1] + b"]")
        except ValueError:
            entries = None
        if not isinstance(entries, list):
            early.start = -1  # decoded whole at its end
            early.entries = []
            return
        early.entries.extend(entries)
        early.next = cut + 2

    def request(self, request_id: int, method: str, params: Optional[Any], timeout: Optional[float],
                notifications: Optional["deque[Any]"] = None) -> Dict[str, Any]:
        """Sends one request and reads up to its reply (the reply object, error or not).

        Notifications read on the way go to NOTIFICATIONS (dropped if None).
        An error reply with a null id (the node could not tell which request
        it answers) is taken as this request's. NodeTimeout (the connection
        closed) when TIMEOUT seconds pass first.
        """
        request: Dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            request["params"] = params
        deadline = None if timeout is None else time.monotonic() + timeout
        self.send(request, timeout)
        while True:
            message = self.receive(deadline)
            if message is None:
                self.close()
                raise NodeTimeout(f"node {self.node} did not answer {method} within {timeout} s", node=self.node)
            if isinstance(message, dict):
                if "id" in message:
                    if message["id"] == request_id or (message["id"] is None and "error" in message):
                        return message
                    continue  # a late reply to a request given up on
                if isinstance(message.get("method"), str):
                    if notifications is not None:
                        notifications.append(message)
                    continue
            self.close()
            raise ProtocolError(f"node {self.node} sent something that is not JSON-RPC: {str(message)[:200]}",
                                node=self.node)

    def _lost(self, error: OSError) -> NodeUnreachable:
        return NodeUnreachable(f"lost the connection to node {self.node}: {error.strerror or error}", node=self.node)

    def shutdown(self) -> None:
        """Ends the connection in both directions; a read blocked in another thread returns."""
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._sock.close()
