"""Every `bpfleet` command a newcomer would paste from README.md and
docs/*.md, run as written against three real local nodes.

The commands are taken from the fenced code blocks: each line that starts
with `bpfleet ` or `$ bpfleet ` (a trailing `# comment` dropped). Every one
must be listed in COMMANDS below, either with the exit status it must end
with or with the reason it is not run here, so that a command added to the
docs without being tried fails this test, and so does a listed one that the
docs no longer have.

Each document gets its own three bpfleetd processes, named as
examples/fleet.yaml names them (web-1, web-2, web-3, with its labels), in a
working directory that holds `programs/` (the repository's) and a copy of
`examples/` whose fleet.yaml points at those nodes' sockets: paths in the
commands are the ones the README's two commands produce, and nothing is
rewritten. `$BPFLEET_NODE` is web-1 and `$BPFLEET_INVENTORY` the fleet, as
the README's "Running it yourself" sets them. Streaming commands (`map
watch`, `events tail`) run until they have printed a line, then get SIGINT.
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "clients", "python", "tests"))

from _bpfleet_nodes import BPFLEET, Server  # noqa: E402

DOCUMENTS = ["README.md"] + sorted(os.path.relpath(p, REPO) for p in glob.glob(os.path.join(REPO, "docs", "*.md")))

RUN = "run"
STREAM = "stream"
SKIP = "skip"

# (document, command) -> (kind, exit status or reason)
COMMANDS: Dict[Tuple[str, str], Tuple[str, object]] = {
    ("README.md", "bpfleet probe load programs/build/exec_count.bpf.o --name execs"): (RUN, 0),
    ("README.md", "bpfleet probe attach execs count_exec --tracepoint sched:sched_process_exec"): (RUN, 0),
    ("README.md", "bpfleet map dump execs exec_counts"): (RUN, 0),
    ("README.md", "bpfleet map watch execs exec_counts --interval 1s --delta"): (STREAM, 0),
    ("README.md", "bpfleet probe load programs/build/execsnoop.bpf.o --name snoop --program execsnoop"): (RUN, 0),
    ("README.md", "bpfleet probe attach snoop execsnoop --auto"): (RUN, 0),
    ("README.md", 'bpfleet events tail snoop events --record-type "struct exec_event"'): (STREAM, 0),
    ("README.md", "bpfleet probe load runqlat.bpf.o --name runqlat --map-size start=10240"):
        (SKIP, "runqlat.bpf.o is libbpf-tools' build, not this repository's"),
    ("README.md", "bpfleet probe load programs/build/task_iter.bpf.o --name tasks"): (RUN, 0),
    ("README.md", "bpfleet iter read tasks dump_tasks"): (RUN, 0),
    ("README.md", "bpfleet node links"): (RUN, 0),
    ("README.md", "bpfleet --inventory examples/fleet.yaml -l 'role=web,zone!=b' apply -f examples/exec-count.yaml"): (RUN, 0),
    ("README.md", "bpfleet --inventory examples/fleet.yaml -l 'role=web,zone!=b' status -f examples/exec-count.yaml"): (RUN, 0),
    ("README.md", "bpfleet --inventory examples/fleet.yaml -l role=web verify programs/build/exec_count.bpf.o"): (RUN, 0),
    ("README.md", "bpfleet -l role=web node info"): (RUN, 0),
    ("README.md", "bpfleet -o json probe list"): (RUN, 0),
    ("docs/btf.md", "bpfleet node btf -n NODE -o vmlinux.h"): (SKIP, "synopsis: NODE is a placeholder"),
    ("docs/btf.md", "bpfleet node btf -n NODE --raw -o vmlinux.btf"): (SKIP, "synopsis: NODE is a placeholder"),
    ("docs/btf.md", "bpfleet node btf -n NODE --module xfs -o xfs.h"): (SKIP, "synopsis: NODE is a placeholder"),
    ("docs/btf.md", "bpfleet node btf -n web-1 -o vmlinux.h"): (RUN, 0),
    ("docs/btf.md", "bpfleet -n web-1 probe load count.bpf.o --name count"):
        (SKIP, "count.bpf.c is the reader's own program, compiled against the header above"),
    ("docs/cli.md", "bpfleet [-n NODE]... | [-l SELECTOR] [--inventory FILE]"): (SKIP, "synopsis"),
    ("docs/cli.md", "bpfleet -l 'role in web' node info"): (RUN, 64),
    ("docs/cli.md", "bpfleet node links"): (RUN, 0),
    ("docs/cli.md", "bpfleet -l role=web verify programs/build/exec_count.bpf.o"): (RUN, 0),
    ("docs/cli.md", "bpfleet probe get perf"): (RUN, 0),
    ("docs/cli.md", "bpfleet -l zone=a probe list -L team=ops"): (RUN, 0),
    ("docs/cli.md", "bpfleet probe list -L 'bpfleet.io/spec'"): (RUN, 0),
    ("docs/cli.md", "bpfleet -l role=web version"): (RUN, 0),
    ("docs/cli.md", "bpfleet probe lod"): (RUN, 64),
    ("docs/cli.md", "bpfleet map update execs exec_counts 62617368000000000000000000000000 '03 00 00 00 00 00 00 00' --format hex"): (RUN, 0),
    ("docs/cli.md", "bpfleet map lookup execs exec_counts '62 61 73 68 00 00 00 00 00 00 00 00 00 00 00 00' --format hex"): (RUN, 0),
    ("docs/cli.md", "bpfleet probe attach execs count_exec --auto"): (RUN, 0),
    ("docs/cli.md", "bpfleet events tail snoop events"): (STREAM, 0),
    ("docs/deploy.md", "bpfleet cert ca --out pki"): (RUN, 0),
    ("docs/deploy.md", "bpfleet cert node --ca pki --name web-1 --san 10.0.0.5 --out pki"): (RUN, 0),
    ("docs/deploy.md", "bpfleet cert client --ca pki --name deployer --out pki"): (RUN, 0),
    ("docs/deploy.md", "bpfleet node info"): (RUN, 0),
    ("docs/deploy.md", "bpfleet -n tcp://10.0.0.5:7447 --ca pki/ca.pem --cert pki/deployer.pem --key pki/deployer-key.pem node info"):
        (SKIP, "a node at 10.0.0.5 serving TLS with the certificate made above (TLSTests start such nodes)"),
    ("docs/deploy.md", "bpfleet cert node --ca pki --name bpfleetd --out pki"): (RUN, 0),
    ("docs/deploy.md", "bpfleet --inventory fleet.yaml -l cluster=prod node info"):
        (SKIP, "fleet.yaml is made from a Kubernetes cluster's pods by the kubectl line above it"),
    ("docs/fleet.md", "bpfleet apply  -f MANIFEST [--dry-run]"): (SKIP, "synopsis: MANIFEST is a placeholder"),
    ("docs/fleet.md", "bpfleet diff   -f MANIFEST"): (SKIP, "synopsis: MANIFEST is a placeholder"),
    ("docs/fleet.md", "bpfleet status -f MANIFEST"): (SKIP, "synopsis: MANIFEST is a placeholder"),
    ("docs/fleet.md", "bpfleet delete -f MANIFEST [--dry-run]"): (SKIP, "synopsis: MANIFEST is a placeholder"),
    ("docs/fleet.md", "bpfleet -l role=web apply -f examples/exec-count.yaml --preflight"): (RUN, 1),
    ("docs/fleet.md", "bpfleet -l role=web diff -f examples/exec-count.yaml"): (RUN, 1),
    ("docs/security.md", "bpfleet keygen --out keys --name alice"): (RUN, 0),
    ("docs/security.md", "bpfleet sign programs/build/exec_count.bpf.o --key keys/alice.key --out exec_count.bpf.o.sig"): (RUN, 0),
    ("docs/security.md", "bpfleet cert ca --out pki"): (RUN, 0),
    ("docs/security.md", "bpfleet cert node --ca pki --name web-1 --san web-1.example --san 10.0.0.5 --out pki"): (RUN, 0),
    ("docs/security.md", "bpfleet cert client --ca pki --name alice --out pki"): (RUN, 0),
}

# What a document's commands assume is already there, run before them.
SETUP: Dict[str, List[str]] = {
    "docs/cli.md": ["bpfleet probe load programs/build/perf_count.bpf.o --name perf",
                    "bpfleet probe load programs/build/exec_count.bpf.o --name execs",
                    "bpfleet probe load programs/build/execsnoop.bpf.o --name snoop --program execsnoop",
                    "bpfleet probe attach snoop execsnoop --auto"],
}

# bpfleetd options per node name, where a document shows a node's policy.
SERVER_OPTIONS: Dict[str, Dict[str, List[str]]] = {
    "docs/fleet.md": {"web-3": ["--refuse-program-types", "tracepoint"]},
}

# Lines a command's output must hold, as the document shows them.
OUTPUT: Dict[Tuple[str, str], List[str]] = {
    ("docs/fleet.md", "bpfleet -l role=web apply -f examples/exec-count.yaml --preflight"): [
        "bpfleet: preflight refused the rollout of probe exec-count: 1 of 3 nodes would fail; no node was changed",
        "bpfleet: web-3: count_exec unsupported: program type tracepoint (refused by this node's policy)",
    ],
    ("docs/cli.md", "bpfleet probe lod"): ["bpfleet: unknown command 'lod' for 'bpfleet probe'; did you mean 'load'?"],
    ("docs/cli.md", "bpfleet map lookup execs exec_counts '62 61 73 68 00 00 00 00 00 00 00 00 00 00 00 00' --format hex"): [
        "62 61 73 68 00 00 00 00 00 00 00 00 00 00 00 00 03 00 00 00 00 00 00 00",
    ],
    ("docs/cli.md", "bpfleet events tail snoop events"): [
        "bpfleet: records of ring buffer 'events' are shown as hex bytes; "
        "--record-type decodes them as one of the object's struct types: struct exec_event",
    ],
    ("docs/cli.md", "bpfleet -l 'role in web' node info"): ["bpfleet: --selector: column 9: expected '(' after in, found 'web'"],
    ("README.md", "bpfleet --inventory examples/fleet.yaml -l 'role=web,zone!=b' apply -f examples/exec-count.yaml"): [
        "web-1 canary missing created no probe of that name",
        "web-3 2 missing created no probe of that name",
        "complete: 2 created, 0 replaced, 0 unchanged, 0 failed, 0 unreachable (of 2)",
    ],
}

FENCE = re.compile(r"^\s*```")


def doc_commands(document: str) -> List[str]:
    """The bpfleet commands in a document's code blocks, in order."""
    found: List[str] = []
    inside = False
    pending = ""
    with open(os.path.join(REPO, document), encoding="utf-8") as f:
        for line in f:
            if FENCE.match(line):
                inside = not inside
                continue
            if not inside:
                continue
            # A line ending in a backslash goes on on the next one.
            text = re.sub(r"\s+#.*$", "", line.strip()).rstrip()
            if text.endswith("\\"):
                pending += text[:-1].rstrip() + " "
                continue
            text, pending = (pending + text).strip(), ""
            if text.startswith("$ "):
                text = text[2:]
            if not text.startswith("bpfleet "):
                continue
            found.append(re.sub(r"\s+#.*$", "", text).rstrip())
    return found


def test_every_command_in_the_docs_is_listed_and_every_listed_one_is_there() -> None:
    in_docs = {(document, command) for document in DOCUMENTS for command in doc_commands(document)}
    unlisted = sorted(in_docs - set(COMMANDS))
    stale = sorted(set(COMMANDS) - in_docs)
    assert unlisted == [], "commands in the docs this test neither runs nor says why not"
    assert stale == [], "commands listed here that the docs no longer have"


class Fleet:
    """Three bpfleetd processes named as examples/fleet.yaml names them, and
    a working directory where the docs' paths hold."""

    def __init__(self, options: Dict[str, List[str]]) -> None:
        self.servers: Dict[str, Server] = {}
        self.work = tempfile.mkdtemp(prefix="bpfleet-doc-commands-")
        try:
            for name in ("web-1", "web-2", "web-3"):
                self.servers[name] = Server(options.get(name, []))
            os.symlink(os.path.join(REPO, "programs"), os.path.join(self.work, "programs"))
            shutil.copytree(os.path.join(REPO, "examples"), os.path.join(self.work, "examples"))
            inventory = os.path.join(self.work, "examples", "fleet.yaml")
            with open(inventory, encoding="utf-8") as f:
                text = f.read()
            for name, server in self.servers.items():
                written = f"unix:/run/bpfleet/{name}.sock"
                assert written in text, f"examples/fleet.yaml has no {written}"
                text = text.replace(written, server.address)
            with open(inventory, "w", encoding="utf-8") as f:
                f.write(text)
        except BaseException:
            self.stop()
            raise
        self.environment = dict(os.environ)
        self.environment.update({
            "PATH": os.path.dirname(os.path.abspath(BPFLEET)) + os.pathsep + os.environ.get("PATH", ""),
            "HOME": self.work,
            "BPFLEET_NODE": "web-1",
            "BPFLEET_INVENTORY": inventory,
        })
        self.environment.pop("BPFLEET_CONFIG", None)

    def run(self, command: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-c", command], cwd=self.work, env=self.environment,
                              capture_output=True, text=True, timeout=300)

    def stream(self, command: str) -> Tuple[int, str, str]:
        """Runs a live command until it has printed a line (a workload
        runs meanwhile so there is something to print), then SIGINT."""
        process = subprocess.Popen(["bash", "-c", "exec " + command], cwd=self.work, env=self.environment,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert process.stdout is not None
        line = ""
        deadline = time.monotonic() + 120  # a hang fails; not a timing
        while not line and time.monotonic() < deadline:
            subprocess.run(["/bin/true"], check=True)
            line = process.stdout.readline() if _readable(process.stdout.fileno()) else ""
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        return process.returncode, line + out, err

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()
        shutil.rmtree(self.work, ignore_errors=True)


def _readable(fd: int) -> bool:
    import select
    ready, _, _ = select.select([fd], [], [], 0.2)
    return bool(ready)


def squeeze(text: str) -> List[str]:
    return [" ".join(line.split()) for line in text.splitlines()]


@pytest.fixture
def fleet_for() -> Iterator:
    started: List[Fleet] = []

    def start(document: str) -> Fleet:
        fleet = Fleet(SERVER_OPTIONS.get(document, {}))
        started.append(fleet)
        return fleet

    yield start
    for fleet in started:
        fleet.stop()


@pytest.mark.parametrize("document", [d for d in DOCUMENTS if doc_commands(d)])
def test_the_commands_of_a_document_run_as_written(document: str, fleet_for) -> None:
    commands = doc_commands(document)
    if all(COMMANDS.get((document, c), (SKIP, ""))[0] == SKIP for c in commands):
        pytest.skip(f"{document}: every command is a synopsis or needs what this machine has not: "
                    + "; ".join(str(COMMANDS[(document, c)][1]) for c in commands))
    fleet = fleet_for(document)
    for command in SETUP.get(document, []):
        done = fleet.run(command)
        assert done.returncode == 0, f"setup {command}: {done.stderr}"
    for command in commands:
        kind, expected = COMMANDS[(document, command)]
        if kind == SKIP:
            print(f"{document}: not run: {command}: {expected}")
            continue
        if kind == STREAM:
            status, out, err = fleet.stream(command)
            assert out.strip(), f"{document}: {command} printed nothing: {err}"
        else:
            done = fleet.run(command)
            status, out, err = done.returncode, done.stdout, done.stderr
        assert status == expected, f"{document}: {command}: exit {status}, not {expected}\n{out}\n{err}"
        for line in OUTPUT.get((document, command), []):
            assert " ".join(line.split()) in squeeze(out + err), f"{document}: {command}: no line '{line}' in\n{out}{err}"
