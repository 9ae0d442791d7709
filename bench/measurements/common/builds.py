"""swift build of the products, gcc of the C tools (bench/NAME.c), and what
a part is given: the run, the knobs, the builds, bpfleetd."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

from .knobs import Knobs
from .processes import run
from .session import RESULT_FILES, Session, note

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BENCH = os.path.join(REPO, "bench")
CFLAGS = ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
# name: (flags before -o, libraries); the source is bench/NAME.c
TOOLS = {
    "fill_map": ([], ["-lbpf"]), "batch_lookup": ([], ["-lbpf"]), "rpc_call": ([], []),
    "rpc_load": (["-pthread"], []), "jansson_encode": ([], ["-ljansson"]),
    "tls_load": (["-pthread"], ["-lssl", "-lcrypto"]), "tls_connect": ([], ["-lssl", "-lcrypto"]),
    "tls_hold": ([], ["-lssl", "-lcrypto"]), "syscall_gen": ([], []), "events_read": ([], []),
    "watch_clients": ([], []), "churn_map": ([], ["-lbpf"]), "attach_libbpf": ([], ["-lbpf"]),
    "attach_rpc": ([], []),
}


class Builds:
    """swift build of the products (release when it builds, else debug; each
    result file says which), and gcc of the C tools into the run's bin/."""

    def __init__(self, session: Session, knobs: Knobs) -> None:
        self.session, self.knobs = session, knobs
        self.scratch = ["--scratch-path", knobs.scratch] if knobs.scratch else []

    def product(self, product: str) -> Optional[str]:
        """The built binary's path, or None (the errors shown)."""
        for config in (self.knobs.config, "debug"):
            log = self.session.path(f"build-{product}-{config}.log")
            with open(log, "w") as f:
                built = subprocess.run(["swift", "build", "-c", config, *self.scratch, "--product", product],
                                       stdout=f, stderr=subprocess.STDOUT).returncode == 0
            if built:
                where = run(["swift", "build", "-c", config, *self.scratch, "--show-bin-path"])
                for name in RESULT_FILES:
                    self.session.results(name).record(f"config_{product} {config}")
                return os.path.join(where, product)
            note(f"swift build -c {config} --product {product} failed (errors below)")
            with open(log, errors="replace") as f:
                text = f.readlines()
            errors = [line for line in text if "error:" in line][:5]
            sys.stderr.write("".join(errors or text[-5:]))
        return None

    def tools(self, names: Iterable[str]) -> None:
        os.makedirs(self.session.bin, exist_ok=True)
        for name in names:
            flags, libraries = TOOLS[name]
            run(["gcc", *CFLAGS, *flags, "-o", self.tool(name), os.path.join("bench", f"{name}.c"), *libraries])

    def tool(self, name: str) -> str:
        return os.path.join(self.session.bin, name)


@dataclass
class Bench:
    """What a part is given: the run, the knobs, the builds, bpfleetd."""
    session: Session
    knobs: Knobs
    builds: Builds
    bpfleetd: str = ""

    def tool(self, name: str) -> str:
        return self.builds.tool(name)

    @property
    def profiling(self) -> bool:
        """BENCH_PERF=DIR, and perf is there."""
        return bool(self.knobs.perf) and shutil.which("perf") is not None


@dataclass
class Part:
    """Measurements that run together: on one server, into one table.
    BENCH_ONLY names a part by any of its measurements, or by its old name."""
    name: str
    old_name: str
    measurements: tuple[str, ...]
    tools: tuple[str, ...]  # the C tools it needs (bench/NAME.c)
    programs: bool  # whether it needs programs/build (make -C programs)
    run: Callable[[Bench], None]
    table: Callable[[Bench], str]
    results: tuple[str, ...] = ()  # raw result files BENCH_RESULTS keeps
