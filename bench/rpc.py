#!/usr/bin/env python3
"""rpc.py SOCKET METHOD [PARAMS_JSON]: one JSON-RPC call on a Unix socket;
prints the result as JSON, or the error on stderr with exit status 1.
`object.upload` takes `@FILE` as its data: the file is read and base64'd."""
import base64
import json
import socket
import sys


def call(path, method, params=None):
    request = {"jsonrpc": "2.0", "id": 1, "method": method}
    if params is not None:
        request["params"] = params
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(path)
        sock.sendall(json.dumps(request).encode() + b"\n")
        chunks = []
        while not chunks or not chunks[-1].endswith(b"\n"):
            chunk = sock.recv(1 << 20)
            if not chunk:
                raise SystemExit(f"rpc.py: {method}: connection closed before the reply")
            chunks.append(chunk)
    reply = json.loads(b"".join(chunks))
    if "error" in reply:
        print(f"rpc.py: {method}: {json.dumps(reply['error'])}", file=sys.stderr)
        raise SystemExit(1)
    return reply["result"]


if __name__ == "__main__":
    params = json.loads(sys.argv[3]) if len(sys.argv) > 3 else None
    if params and isinstance(params.get("data"), str) and params["data"].startswith("@"):
        with open(params["data"][1:], "rb") as f:
            params["data"] = base64.b64encode(f.read()).decode()
    print(json.dumps(call(sys.argv[1], sys.argv[2], params)))
