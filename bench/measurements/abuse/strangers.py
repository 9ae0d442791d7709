"""The strangers attack: 20 uids that may connect but have no role open 250
connections each and hold them; what root's node.info gets meanwhile."""
from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time

from .server import fd_count
from .settings import CAP, HOLD_SECONDS, STRANGER_GROUP, STRANGER_UIDS, STRANGERS_SEND, scaled

STRANGER = r"""
import json, socket, sys, time
path, count, hold, send = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
line = ('{"jsonrpc":"2.0","id":1,"method":"node.info","params":{"a":' + "[" * 500 + "]" * 500 + "}}\n").encode()
socks, failed = [], 0
for _ in range(count):
    until = time.monotonic() + 5
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect(path)
            if send == "nested":
                s.sendall(line)
            socks.append(s)
            break
        except BlockingIOError:  # the listen backlog is full: again, for up to 5 s
            s.close()
            if time.monotonic() > until:
                failed += 1
                break
            time.sleep(0.01)
        except OSError:
            failed += 1
            s.close()
            break
print(json.dumps({"opened": len(socks), "failed": failed}), flush=True)
time.sleep(hold)
codes, closed = {}, 0
for s in socks:
    s.setblocking(False)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                closed += 1
                break
            data += chunk
    except BlockingIOError:
        pass
    except OSError:
        closed += 1
    for reply in data.split(b"\n"):
        if reply.strip():
            try:
                code = str(json.loads(reply).get("error", {}).get("code", "ok"))
            except ValueError:
                code = "garbled"
            codes[code] = codes.get(code, 0) + 1
print(json.dumps({"codes": codes, "closed": closed}), flush=True)
"""


def stranger_python():
    """A Python that other uids can run: every directory on its path searchable by all."""
    for candidate in (sys.executable, "/usr/bin/python3", "/usr/local/bin/python3", "/bin/python3"):
        path = os.path.realpath(candidate)
        parts = [path] + [os.path.dirname(path)]
        while parts[-1] != "/":
            parts.append(os.path.dirname(parts[-1]))
        try:
            if all(os.stat(part).st_mode & 0o001 for part in parts):
                return path
        except OSError:
            pass
    raise RuntimeError("no python3 that the stranger uids may run")


def read_child_line(child, until):
    """The child's next stdout line, or b"" at the deadline or its end."""
    fd = child.stdout.fileno()
    buffer = getattr(child, "buffer", b"")
    while b"\n" not in buffer:
        wait = until - time.monotonic()
        if wait <= 0 or not select.select([fd], [], [], wait)[0]:
            child.buffer = buffer
            return b""
        chunk = os.read(fd, 65536)
        if not chunk:
            child.buffer = buffer
            return b""
        buffer += chunk
    line, child.buffer = buffer.split(b"\n", 1)
    return line


def attack_strangers(server, attack, ctx):
    per_uid = scaled(250)
    base_fds = ctx["base_fds"]
    children = []
    try:
        for n in range(scaled(STRANGER_UIDS)):
            children.append(subprocess.Popen([stranger_python(), "-I", "-c", STRANGER, server.sock, str(per_uid), str(HOLD_SECONDS), STRANGERS_SEND],
                                             user=STRANGER_GROUP + n, group=STRANGER_GROUP, extra_groups=[STRANGER_GROUP],
                                             cwd="/", stdout=subprocess.PIPE, stdin=subprocess.DEVNULL))
        opened = failed = 0
        for child in children:  # each says how many it opened once it has them all
            reply = json.loads(read_child_line(child, attack.deadline) or b'{"opened":0,"failed":0}')
            opened += reply["opened"]
            failed += reply["failed"]
        connected = time.monotonic()
        attack.hold(2)
        open_after_2s = fd_count(server.pid) - base_fds
        codes, closed = {}, 0
        for child in children:
            line = read_child_line(child, max(attack.deadline, time.monotonic() + 0.5))
            if not line:
                attack.capped = attack.capped or f"capped at {CAP:g} s"
            else:
                reply = json.loads(line)
                closed += reply["closed"]
                for code, n in reply["codes"].items():
                    codes[code] = codes.get(code, 0) + n
        hold_end = time.monotonic()
        attack.monitor.end()
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
            child.wait()
            child.stdout.close()
    during = [outcome for started, _, outcome in attack.monitor.calls if connected <= started <= hold_end]
    root = {}
    for outcome in during:
        root[str(outcome)] = root.get(str(outcome), 0) + 1
    return {"strangers": len(children) * per_uid, "opened": opened, "connect_failed": failed, "open_after_2s": open_after_2s,
            "stranger_replies": ",".join(f"{code}x{n}" for code, n in sorted(codes.items())) or "none",
            "stranger_closed_by_server": closed,
            "root_calls": ",".join(f"{code}x{n}" for code, n in sorted(root.items())) or "none"}
