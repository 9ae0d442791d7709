"""The tables the parts print."""
from __future__ import annotations

from typing import Sequence

HEADER = ("measure", "result", "target", "met?")


def yes(flag: bool) -> str:
    return "yes" if flag else "**NO**"


def markdown_table(rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER) -> str:
    widths = [max(len(r[i]) for r in [*rows, header]) for i in range(len(header))]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |",
             "| " + " | ".join("-" * w for w in widths) + " |"]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
    return "\n".join(lines) + "\n"

