#!/usr/bin/env python3
"""survival.py: the issue 5 start-up measurements.
  survival.py load SOCKET OBJECT_ID PROGRAM RAW_TRACEPOINT N PREFIX
      loads N probes PREFIX000.. (only PROGRAM), each with one raw_tracepoint
      attach, on one connection.
  survival.py start SOCKET ORIGIN N PIDFILE -- BPFLEETD ARGS...
      starts BPFLEETD (stdout, stderr to PIDFILE.out, PIDFILE.err) and polls
      the socket every 1 ms; prints "ms=T" from just before the exec to the
      first probe.list reply that lists N probes of origin ORIGIN, all
      running (N = 0: the first reply). Writes the server's pid to PIDFILE
      and leaves it running."""
import json
import os
import socket
import subprocess
import sys
import time


def call(sock, reader, ident, method, params=None):
    request = {"jsonrpc": "2.0", "id": ident, "method": method}
    if params is not None:
        request["params"] = params
    sock.sendall(json.dumps(request).encode() + b"\n")
    reply = json.loads(reader.readline())
    if "error" in reply:
        raise SystemExit(f"survival.py: {method}: {json.dumps(reply['error'])}")
    return reply["result"]


def load(path, object_id, program, tracepoint, count, prefix):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(path)
        reader = sock.makefile("rb")
        for i in range(count):
            name = f"{prefix}{i:03d}"
            call(sock, reader, 2 * i + 1, "probe.load", {"name": name, "objectId": object_id, "programs": [program]})
            call(sock, reader, 2 * i + 2, "probe.attach",
                 {"probe": name, "program": program, "target": {"type": "raw_tracepoint", "name": tracepoint}})


def start(path, origin, count, pidfile, command):
    out = open(pidfile + ".out", "w")
    err = open(pidfile + ".err", "w")
    began = time.monotonic()
    server = subprocess.Popen(command, stdout=out, stderr=err)
    with open(pidfile, "w") as f:
        f.write(f"{server.pid}\n")
    try:
        wait_for(path, origin, count, server, began)
    except BaseException:
        server.kill()
        server.wait()
        raise


def wait_for(path, origin, count, server, began):
    deadline = began + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"survival.py: bpfleetd exited with status {server.returncode}")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.connect(path)
                reader = sock.makefile("rb")
                result = call(sock, reader, 1, "probe.list", {})
        except (ConnectionRefusedError, FileNotFoundError):
            time.sleep(0.001)
            continue
        probes = result["probes"] if isinstance(result, dict) else result
        ready = [p for p in probes if p.get("origin") == origin and p.get("state") == "running"]
        if len(ready) == count and (count > 0 or not probes):
            print(f"ms={(time.monotonic() - began) * 1e3:.1f} probes={len(probes)}")
            return
        failed = [p["name"] for p in probes if p.get("state") in ("failed", "degraded")]
        if failed:
            raise SystemExit(f"survival.py: probes not running after the start: {failed[:5]}")
        time.sleep(0.001)
    raise SystemExit(f"survival.py: no {count} {origin} running probes within 120 s")


if __name__ == "__main__":
    if sys.argv[1] == "load":
        load(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]), sys.argv[7])
    elif sys.argv[1] == "start":
        split = sys.argv.index("--")
        start(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[split + 1:])
    else:
        raise SystemExit(__doc__)
