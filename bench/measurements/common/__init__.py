"""What every measurement shares: the knobs, the run's temporary directory
and its clean-up on every exit, the bpfleetd processes the run starts,
JSON-RPC calls, the builds (Swift products, the C tools), perf profiles and
the tables."""
from .builds import BENCH, CFLAGS, REPO, TOOLS, Bench, Builds, Part
from .knobs import Knobs
from .perf import Profile, top_symbols
from .processes import (Node, call, contains, cpu_ms, loadavg, machine_line, run, status_kb, succeeds, tail, upload,
                        wait_for_text)
from .session import RESULT_FILES, BenchError, Results, Session, note, remove, remove_glob
from .tables import HEADER, markdown_table, yes

__all__ = ["BENCH", "CFLAGS", "REPO", "TOOLS", "Bench", "Builds", "Part", "Knobs", "Profile", "top_symbols", "Node", "call",
           "contains", "cpu_ms", "loadavg", "machine_line", "run", "status_kb", "succeeds", "tail", "upload", "wait_for_text",
           "RESULT_FILES", "BenchError", "Results", "Session", "note", "remove", "remove_glob", "HEADER", "markdown_table",
           "yes"]
