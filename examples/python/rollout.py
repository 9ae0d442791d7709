#!/usr/bin/env python3
"""Rolls a counting probe out to several nodes at once and prints its counts live.

    examples/python/rollout.py unix:/run/bpfleet/bpfleetd.sock tcp://web-1 tcp://web-2 \\
        --ca pki/ca.pem --cert pki/alice.pem --key pki/alice-key.pem

On every node, in parallel: upload the object (programs/build/exec_count.bpf.o
by default), load it as a probe with its program attached, then watch its
map. Each notification prints the node's top counts (or, with --comm, the
count of one command). A node that cannot be reached or refuses the probe
is reported and the others go on. At the end (--seconds, --until, or Ctrl-C)
it prints the final counts and unloads the probe everywhere, unless --keep.

Exit status: 0 when every node took the probe, 1 when some did not, 2 for
bad arguments.
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
try:
    import bpfleet
except ImportError:  # not installed: use the repository's copy
    sys.path.insert(0, os.path.join(REPO, "clients", "python", "src"))
    import bpfleet

from bpfleet import TLS, BpfleetError, Fleet, Node, Outcome, fan_out, targets  # noqa: E402


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Roll a probe out to several nodes and print its counts live.")
    parser.add_argument("nodes", nargs="+", metavar="NODE",
                        help="unix:/PATH or tcp://HOST[:PORT], optionally named: NAME=ADDRESS")
    parser.add_argument("--object", default=os.path.join(REPO, "programs", "build", "exec_count.bpf.o"),
                        help="the BPF object (default: programs/build/exec_count.bpf.o)")
    parser.add_argument("--probe", default="execs", help="the probe's name (default: execs)")
    parser.add_argument("--program", default="count_exec", help="the program to attach, where its section says")
    parser.add_argument("--map", default="exec_counts", help="the map to watch")
    parser.add_argument("--interval-ms", type=int, default=500, help="how often each node reports (default: 500)")
    parser.add_argument("--top", type=int, default=3, help="entries printed per report (default: 3)")
    parser.add_argument("--comm", help="print only this command's count (exec_count's key)")
    parser.add_argument("--until", type=int, metavar="N", help="stop once every node counts at least N (for --comm)")
    parser.add_argument("--seconds", type=float, default=0, help="stop after this long (default: Ctrl-C)")
    parser.add_argument("--keep", action="store_true", help="leave the probe loaded at the end")
    parser.add_argument("--ca", help="CA file for tcp:// nodes")
    parser.add_argument("--cert", help="client certificate for tcp:// nodes")
    parser.add_argument("--key", help="client key for tcp:// nodes")
    parser.add_argument("--insecure-plaintext", action="store_true", help="plain TCP to loopback nodes")
    arguments = parser.parse_args()
    if arguments.until is not None and arguments.comm is None:
        parser.error("--until needs --comm")
    return arguments


def label(key: Any) -> str:
    """A map key for people: the one field of a struct key, else its JSON."""
    if isinstance(key, dict) and len(key) == 1:
        return str(next(iter(key.values())))
    return json.dumps(key, separators=(",", ":"))


def make_node(text: str, tls: Optional[TLS], plaintext: bool) -> Node:
    """A Node for NAME=ADDRESS or ADDRESS."""
    name, _, address = text.partition("=") if "=" in text.split(":", 1)[0] else ("", "", text)
    tcp = address.startswith("tcp://")
    return Node(address, name=name or None, tls=tls if tcp else None, plaintext=plaintext and tcp)


def roll_out(node: Node, data: bytes, arguments: argparse.Namespace) -> Dict[str, Any]:
    """Upload and load with the program attached, in one call each."""
    uploaded = node.object_upload(data=data, name=os.path.basename(arguments.object))
    return dict(node.probe_load(name=arguments.probe, object_id=uploaded["objectId"],
                                attach=[{"program": arguments.program, "target": targets.auto()}]))


def watch(node: Node, arguments: argparse.Namespace, reports: "queue.Queue[Tuple[str, Any]]",
          subscriptions: List[bpfleet.Subscription[Any]], ready: threading.Barrier) -> None:
    """Puts each notification of NODE's watch on REPORTS, as (node name, notification)."""
    try:
        subscription = node.watch_map(probe=arguments.probe, map=arguments.map, interval_ms=arguments.interval_ms)
    except BpfleetError as error:
        reports.put((node.name, error))
        ready.wait()
        return
    subscriptions.append(subscription)
    ready.wait()
    try:
        for note in subscription:
            reports.put((node.name, note))
        reports.put((node.name, f"watch ended: {subscription.end_reason}"))
    except BpfleetError as error:
        reports.put((node.name, error))


def report(name: str, note: Dict[str, Any], arguments: argparse.Namespace, width: int) -> Dict[str, int]:
    counts = {label(entry["key"]): entry["value"] for entry in note["entries"] if isinstance(entry["value"], int)}
    if arguments.comm is not None:
        shown = f"{arguments.comm}: {counts.get(arguments.comm, 0)}"
    else:
        top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:arguments.top]
        shown = ", ".join(f"{key}: {value}" for key, value in top) or "(empty)"
    print(f"{name:<{width}}  seq {note['seq']:<5} total {sum(counts.values()):<7} {shown}", flush=True)
    return counts


def main() -> int:
    arguments = parse_arguments()
    tls = TLS(ca=arguments.ca, cert=arguments.cert, key=arguments.key) if arguments.ca else None
    try:
        nodes = [make_node(text, tls, arguments.insecure_plaintext) for text in arguments.nodes]
        with open(arguments.object, "rb") as f:
            data = f.read()
    except (ValueError, OSError) as error:
        print(f"rollout: {error}", file=sys.stderr)
        return 2
    width = max(len(node.name) for node in nodes)

    with Fleet(nodes) as fleet:
        outcomes: List[Outcome[Dict[str, Any]]] = fleet.run(lambda node: roll_out(node, data, arguments))
        print(f"rolled {os.path.basename(arguments.object)} out as probe '{arguments.probe}' "
              f"to {sum(o.ok for o in outcomes)} of {len(outcomes)} nodes", flush=True)
        for outcome in outcomes:
            if outcome.ok and outcome.result is not None:
                ids = ", ".join(str(p["id"]) for p in outcome.result["programs"])
                print(f"  {outcome.node.name:<{width}}  ok: program id {ids}, {len(outcome.result['links'])} link(s)")
            else:
                print(f"  {outcome.node.name:<{width}}  FAILED: {getattr(outcome.error, 'message', outcome.error)}")
        live = [o.node for o in outcomes if o.ok]
        if not live:
            return 1

        reports: "queue.Queue[Tuple[str, Any]]" = queue.Queue()
        subscriptions: List[bpfleet.Subscription[Any]] = []
        ready = threading.Barrier(len(live) + 1)
        threads = [threading.Thread(target=watch, args=(node, arguments, reports, subscriptions, ready), daemon=True)
                   for node in live]
        for thread in threads:
            thread.start()
        ready.wait()
        print(f"watching {arguments.probe}/{arguments.map} on {len(subscriptions)} node(s) every "
              f"{arguments.interval_ms} ms (Ctrl-C to stop)", flush=True)

        latest: Dict[str, Dict[str, int]] = {}
        deadline: Optional[float] = time.monotonic() + arguments.seconds if arguments.seconds > 0 else None
        active = len(subscriptions)
        try:
            while active > 0:
                wait = None if deadline is None else deadline - time.monotonic()
                if wait is not None and wait <= 0:
                    break
                try:
                    name, note = reports.get(timeout=wait)
                except queue.Empty:
                    break
                if isinstance(note, dict):
                    latest[name] = report(name, note, arguments, width)
                else:  # the watch ended or failed
                    print(f"{name:<{width}}  {getattr(note, 'message', note)}", flush=True)
                    active -= 1
                if arguments.until is not None and len(latest) == len(subscriptions) and \
                        all(counts.get(arguments.comm, 0) >= arguments.until for counts in latest.values()):
                    break
        except KeyboardInterrupt:
            pass
        for subscription in subscriptions:
            subscription.close()

        print("final counts:")
        for node in live:
            counts = latest.get(node.name, {})
            shown = counts.get(arguments.comm, 0) if arguments.comm is not None else sum(counts.values())
            print(f"  {node.name:<{width}}  {arguments.comm or 'total'} {shown}")
        if not arguments.keep:
            for unload in fan_out(live, lambda node: node.probe_unload(probe=arguments.probe)):
                failed = getattr(unload.error, "message", unload.error)
                print(f"  {unload.node.name:<{width}}  {'unloaded' if unload.ok else f'unload FAILED: {failed}'}")
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
