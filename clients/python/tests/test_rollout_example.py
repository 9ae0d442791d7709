"""examples/python/rollout.py against three real nodes (and one that is down):
its counts of a known number of execs are exact, and it leaves nothing loaded."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile

from _bpfleet_nodes import REPO, Workload

from bpfleet import Node

SCRIPT = os.path.join(REPO, "examples", "python", "rollout.py")
WAIT = 120.0  # catches a hang; not a timing


def test_rollout_prints_exact_live_counts(start_server, workload: Workload) -> None:  # type: ignore[no-untyped-def]
    servers = [start_server() for _ in range(3)]
    down = tempfile.mkdtemp(prefix="bpfleet-py-down-")
    names = ["web-1", "web-2", "down", "web-3"]
    addresses = [servers[0].address, servers[1].address, f"unix:{down}/nothing.sock", servers[2].address]
    command = [sys.executable, SCRIPT, *(f"{n}={a}" for n, a in zip(names, addresses)),
               "--comm", workload.comm, "--until", "5", "--interval-ms", "100", "--seconds", str(WAIT)]
    script = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert script.stdout is not None
        head = []
        for line in script.stdout:
            head.append(line)
            if line.startswith("watching "):
                break
        assert head[0] == "rolled exec_count.bpf.o out as probe 'execs' to 3 of 4 nodes\n", "".join(head)
        assert re.match(r"  down +FAILED: cannot connect to unix:.*nothing\.sock", head[3]), head[3]
        assert head[-1] == "watching execs/exec_counts on 3 node(s) every 100 ms (Ctrl-C to stop)\n"
        workload.run(5)
        rest, errors = script.communicate(timeout=WAIT)
        assert script.returncode == 1, errors  # one node did not take the probe
    finally:
        if script.poll() is None:
            script.kill()
            script.wait()
        os.rmdir(down)
    lines = rest.splitlines()
    final = lines[lines.index("final counts:") + 1:]
    assert final == [f"  web-{i}  {workload.comm} 5" for i in (1, 2, 3)] + [f"  web-{i}  unloaded" for i in (1, 2, 3)]
    live = [line for line in lines[:lines.index("final counts:")] if line.startswith("web-")]
    assert any(line.endswith(f"{workload.comm}: 5") for line in live)
    for server in servers:
        with Node(server.address) as node:
            assert node.probe_list() == []
