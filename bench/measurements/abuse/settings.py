"""The abuse part's knobs (ABUSE_* in the environment) and constants."""
from __future__ import annotations

import os
import sys

ATTACKS = ["nested", "noread", "batch", "watch", "strangers", "halfclose"]
BASELINES = ["rpc16", "snapshot", "watch50"]
BASELINE_ROUNDS = int(os.environ.get("ABUSE_BASELINE_ROUNDS", "3"))
RPC16_CLIENTS = 16
RPC16_CALLS = int(os.environ.get("ABUSE_RPC16_CALLS", "200000"))
SNAPSHOT_ENTRIES = int(os.environ.get("ABUSE_SNAPSHOT_ENTRIES", "1000000"))
SNAPSHOT_REPS = int(os.environ.get("ABUSE_SNAPSHOT_REPS", "3"))
WATCH50_CLIENTS = 50
WATCH50_ENTRIES = int(os.environ.get("ABUSE_WATCH50_ENTRIES", "10000"))
WATCH50_SECONDS = float(os.environ.get("ABUSE_WATCH50_SECONDS", "10"))
WATCH50_SETTLE = 2  # seconds after every subscription is answered, before the window (as the map_watch measurement)
TOOL_TIMEOUT = 900  # seconds a baseline tool may run before the run fails
SCALE = float(os.environ.get("ABUSE_SCALE", "1"))
CAP = float(os.environ.get("ABUSE_CAP", "60"))
TERM_GRACE = float(os.environ.get("ABUSE_TERM_GRACE", "10"))
RSS_CAP_MIB = float(os.environ.get("ABUSE_RSS_CAP_MIB", "12288"))
NOREAD_SETTLE = float(os.environ.get("ABUSE_NOREAD_SETTLE", "5"))
WATCH_SECONDS = float(os.environ.get("ABUSE_WATCH_SECONDS", "20"))
HOLD_SECONDS = float(os.environ.get("ABUSE_HOLD_SECONDS", "10"))
HALFCLOSE_PAUSE = float(os.environ.get("ABUSE_HALFCLOSE_PAUSE_MS", "1")) / 1000
STRANGERS_SEND = os.environ.get("ABUSE_STRANGERS_SEND", "nothing")
PIN_PREFIX = os.environ.get("ABUSE_PIN_PREFIX", f"/sys/fs/bpf/bpfleet-bench-abuse-{os.getpid()}")
CLK = os.sysconf("SC_CLK_TCK")
STRANGER_GROUP = 54400
STRANGER_UIDS = 20
PROBE = "abuse"


def scaled(n: float, least: int = 1) -> int:
    return max(least, int(round(n * SCALE)))


def note(text: str) -> None:
    print(f"abuse: {text}", file=sys.stderr, flush=True)
