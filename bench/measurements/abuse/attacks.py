"""The attacks (but strangers, strangers.py) and the setup of the map ones."""
from __future__ import annotations

import base64
import json
import os
import select
import selectors
import socket
import subprocess
import time

from ..common import call
from .monitor import LineConnection, connect, error_code
from .settings import CAP, HALFCLOSE_PAUSE, NOREAD_SETTLE, PROBE, WATCH_SECONDS, scaled
from .strangers import attack_strangers


def nested_line(ident, depth=500):
    return (f'{{"jsonrpc":"2.0","id":{ident},"method":"node.info","params":{{"a":' + "[" * depth + "]" * depth + "}}\n").encode()


# --- setup for the map attacks ---------------------------------------------------------------

def load_big(server, programs, fill_tool, entries):
    with open(os.path.join(programs, "build", "big_hash.bpf.o"), "rb") as f:
        data = base64.b64encode(f.read()).decode()
    object_id = call(server.sock, "object.upload", {"data": data, "name": "big_hash"})["objectId"]
    call(server.sock, "probe.load", {"name": PROBE, "objectId": object_id})
    pin = os.path.join(server.pins, PROBE, "maps", "big")
    if fill_tool:
        return subprocess.run([fill_tool, pin, str(entries)], check=True, stdout=subprocess.PIPE, text=True).stdout.strip()
    # No fill_map: map.update requests in windows of 32 lines per write.
    conn = LineConnection(server.sock)
    for start in range(0, entries, 32):
        count = min(32, entries - start)
        conn.sock.sendall(b"".join(json.dumps({"jsonrpc": "2.0", "id": start + n, "method": "map.update", "params": {
            "map": {"probe": PROBE, "name": "big"}, "key": start + n, "value": start + n}}).encode() + b"\n" for n in range(count)))
        for _ in range(count):
            line = conn.read_line(time.monotonic() + 60)
            if line is None or error_code(line) is not None:
                raise RuntimeError(f"map.update: {line!r}")
    conn.close()


# --- the attacks --------------------------------------------------------------------------------

def attack_nested(server, attack, ctx):
    per_connection = scaled(17)
    conns = [LineConnection(server.sock) for _ in range(4)]
    sent = 0
    for c, conn in enumerate(conns):
        conn.sock.settimeout(CAP)
        conn.sock.sendall(b"".join(nested_line(c * 1000 + n) for n in range(per_connection)))
        sent += per_connection
    codes = {}
    answered = 0
    pending = list(conns)
    while pending and not attack.expired():
        for conn in list(pending):
            try:
                line = conn.read_line(time.monotonic() + 0.05)
            except EOFError:
                pending.remove(conn)
                continue
            if line is not None:
                answered += 1
                code = error_code(line)
                codes[code] = codes.get(code, 0) + 1
                if answered >= sent:
                    pending.clear()
    seconds = time.monotonic() - attack.start
    stats = attack.monitor.end()
    for conn in conns:
        conn.close()
    return {"lines": sent, "answered": answered, "seconds": seconds,
            "cpu_per_line_s": stats["cpu_s"] / answered if answered else float("nan"),
            "codes": ",".join(f"{'ok' if code is None else code}x{n}" for code, n in sorted(codes.items(), key=str)) or "none"}


def attack_noread(server, attack, ctx):
    request = b'{"jsonrpc":"2.0","id":1,"method":"node.info"}\n'
    chunk = request * 512
    target = scaled(300000) * len(request)
    sock = connect(server.sock)
    sock.setblocking(False)
    sent = 0
    last_progress = time.monotonic()
    stalled = False
    try:
        while sent < target and not attack.expired():
            offset = sent % len(chunk)
            view = memoryview(chunk)[offset:offset + min(len(chunk) - offset, target - sent)]
            try:
                sent += sock.send(view)
                last_progress = time.monotonic()
            except BlockingIOError:
                if time.monotonic() - last_progress > 2:
                    stalled = True
                    break
                select.select([], [sock], [], 0.1)
        send_seconds = time.monotonic() - attack.start
        attack.hold(NOREAD_SETTLE)  # still connected, still not reading
        stats = attack.monitor.end()
        term_s, killed, term_cpu = server.stop()  # SIGTERM with the client connected and not reading
    finally:
        sock.close()
    return {"taken": sent // len(request), "stalled": int(stalled), "send_seconds": send_seconds,
            "term_s": term_s, "term_killed": int(killed), "term_cpu_s": term_cpu, "rss_end_mib": stats["rss_peak_mib"]}


def attack_batch(server, attack, ctx):
    count = scaled(100000)
    body = b"[" + b",".join(b'{"jsonrpc":"2.0","id":%d,"method":"node.info"}' % n for n in range(count)) + b"]\n"
    limit = 300 * 1024 * 1024
    sock = connect(server.sock)
    sock.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
    sent = received = 0
    head = b""
    complete = closed = False
    done_at = None
    start = time.monotonic()
    try:
        while not attack.expired() and received < limit:
            for _, events in sel.select(0.1):
                if events & selectors.EVENT_WRITE:
                    try:
                        sent += sock.send(memoryview(body)[sent:sent + (1 << 20)])
                    except BlockingIOError:
                        pass
                    except OSError:
                        sent = len(body)
                    if sent >= len(body):
                        sel.modify(sock, selectors.EVENT_READ)
                if events & selectors.EVENT_READ:
                    try:
                        data = sock.recv(1 << 20)
                    except BlockingIOError:
                        continue
                    except OSError:
                        data = b""
                    if not data:
                        closed = True
                        break
                    received += len(data)
                    if len(head) < (1 << 16):
                        head += data[:(1 << 16) - len(head)]
                    if data.endswith(b"\n"):
                        complete = True
            if complete or closed:
                done_at = time.monotonic()
                break
    finally:
        sel.close()
        sock.close()
    seconds = (done_at or time.monotonic()) - start
    kind = "none"
    if head.startswith(b"["):
        kind = "array"
    elif head:
        code = error_code(head.split(b"\n")[0]) if complete and received == len(head) else None
        kind = f"error {code}" if code is not None else "object"
    return {"request_bytes": len(body), "sent_bytes": sent, "reply_bytes": received, "reply_seconds": seconds,
            "reply_complete": int(complete), "reply_kind": kind, "size_capped": int(received >= limit)}


def attack_watch(server, attack, ctx):
    connections, per_connection = scaled(50), 64
    line = json.dumps({"jsonrpc": "2.0", "id": 0, "method": "map.watch", "params": {
        "map": {"probe": PROBE, "name": "big"}, "intervalMs": 100, "mode": "full"}}).encode()
    socks = []
    try:
        for c in range(connections):
            if attack.expired():
                break
            sock = connect(server.sock)
            socks.append(sock)
            sock.settimeout(5)
            sock.sendall(b"".join(line.replace(b'"id": 0', b'"id": %d' % n) + b"\n" for n in range(1, per_connection + 1)))
        attack.hold(WATCH_SECONDS)
        held = time.monotonic() - attack.start
        attack.monitor.end()
    finally:
        for sock in socks:
            sock.close()
    return {"entries": ctx["entries"], "connections": len(socks), "watches": len(socks) * per_connection, "held_s": held}


def attack_halfclose(server, attack, ctx):
    requests = (json.dumps({"jsonrpc": "2.0", "id": 1, "method": "map.snapshot",
                            "params": {"map": {"probe": PROBE, "name": "big"}, "format": "hex"}}) + "\n"
                + json.dumps({"jsonrpc": "2.0", "id": 2, "method": "probe.list"}) + "\n").encode()
    full = ctx["full_bytes"]
    sock = connect(server.sock)
    received = b""
    try:
        sock.settimeout(5)
        sock.sendall(requests)
        sock.shutdown(socket.SHUT_WR)
        while not attack.expired():
            time.sleep(HALFCLOSE_PAUSE)  # a slow reader (nc writing to a terminal): replies wait in the server
            sock.settimeout(0.2)
            try:
                chunk = sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                break
            if not chunk:
                break
            received += chunk
    finally:
        sock.close()
    seconds = time.monotonic() - attack.start
    whole = 0
    for line in received.split(b"\n")[: received.count(b"\n")]:
        try:
            json.loads(line)
            whole += 1
        except ValueError:
            pass
    return {"entries": ctx["entries"], "full_bytes": full, "received_bytes": len(received), "whole_replies": whole, "seconds": seconds}


def halfclose_setup(server, programs, fill_tool, ctx):
    ctx["entries"] = scaled(50000)
    load_big(server, programs, fill_tool, ctx["entries"])
    conn = LineConnection(server.sock)
    conn.sock.sendall(b'{"jsonrpc":"2.0","id":1,"method":"map.snapshot","params":{"map":{"probe":"%s","name":"big"},"format":"hex"}}\n'
                      b'{"jsonrpc":"2.0","id":2,"method":"probe.list"}\n' % PROBE.encode())
    full = 0
    for _ in range(2):
        line = conn.read_line(time.monotonic() + 120)
        if line is None:
            raise RuntimeError("no whole reply to map.snapshot + probe.list on a normal connection")
        full += len(line) + 1
    conn.close()
    ctx["full_bytes"] = full


def watch_setup(server, programs, fill_tool, ctx):
    ctx["entries"] = scaled(100000)
    load_big(server, programs, fill_tool, ctx["entries"])


RUN = {"nested": attack_nested, "noread": attack_noread, "batch": attack_batch, "watch": attack_watch,
       "strangers": attack_strangers, "halfclose": attack_halfclose}
SETUP = {"watch": watch_setup, "halfclose": halfclose_setup}
