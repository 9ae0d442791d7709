"""map.watch and events.subscribe as iterators, against real bpfleetd.
Waits are upper bounds that catch a stream that never comes; none times anything."""
from __future__ import annotations

import threading
from typing import Any, Dict, List

from _bpfleet_nodes import Workload, program

from bpfleet import Conflict, Node, Subscription, targets

WAIT = 120.0


def drain(subscription: Subscription[Any]) -> List[Any]:
    """What comes until the subscription ends; fails if it goes quiet for WAIT seconds first."""
    notes: List[Any] = []
    while True:
        note = subscription.next(timeout=WAIT)
        if note is None:
            assert subscription.ended, f"no subscription.end within {WAIT} s"
            return notes
        notes.append(note)


def load_exec_count(node: Node) -> None:
    obj = node.object_upload_file(program("exec_count"))
    node.probe_load(name="execs", object_id=obj["objectId"], attach=[{"program": "count_exec", "target": targets.auto()}])


def test_watch_full_sees_exact_counts_then_cancel_ends_it(node: Node, workload: Workload) -> None:
    load_exec_count(node)
    key = {"comm": workload.comm}
    with node.watch_map(probe="execs", map="exec_counts", interval_ms=100) as watch:
        assert isinstance(watch.id, int)
        first = watch.next(timeout=WAIT)
        assert first is not None and first["method"] == "subscription.map" and first["subscription"] == watch.id
        workload.run(5)
        seen: List[int] = []
        while 5 not in seen:
            note = watch.next(timeout=WAIT)
            assert note is not None, "no notification"
            seen += [e["value"] for e in note["entries"] if e["key"] == key]
        assert set(seen) <= {5}  # the execs all ran before this reading began, or it saw them all
        watch.cancel()
        rest = drain(watch)  # what was sent before the end, then the end
        assert all(n["method"] == "subscription.map" for n in rest)
        assert watch.ended and watch.end_reason == "cancelled"
    assert watch.end_reason == "cancelled"


def test_watch_delta_rebuilds_the_map(node: Node, workload: Workload) -> None:
    load_exec_count(node)
    key = {"comm": workload.comm}
    rebuilt: Dict[str, Any] = {}
    last_seq = 0
    with node.watch_map(probe="execs", map="exec_counts", interval_ms=100, mode="delta") as watch:
        workload.run(3)
        while rebuilt.get(workload.comm) != 3:
            note = watch.next(timeout=WAIT)
            assert note is not None
            assert note["seq"] > last_seq
            last_seq = note["seq"]
            for entry in note["set"]:
                rebuilt[entry["key"]["comm"]] = entry["value"]
            for gone in note["removed"]:
                rebuilt.pop(gone["comm"], None)
        snapshot = node.map_snapshot(probe="execs", map="exec_counts")
        assert [e["value"] for e in snapshot["entries"] if e["key"] == key] == [3]


def test_unload_ends_the_watch(node: Node) -> None:
    load_exec_count(node)
    watch = node.watch_map(probe="execs", map="exec_counts", interval_ms=100)
    node.probe_unload(probe="execs")
    drain(watch)  # notifications sent before the unload, then the end
    assert watch.end_reason == "probe unloaded"
    watch.close()


def test_close_from_another_thread_wakes_the_reader(node: Node) -> None:
    load_exec_count(node)
    watch = node.watch_map(probe="execs", map="exec_counts", interval_ms=60_000)
    done = threading.Event()

    def consume() -> None:
        for _ in watch:
            pass
        done.set()

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()  # it blocks: the interval is a minute
    watch.close()
    assert done.wait(WAIT)
    assert watch.end_reason == "closed"


def test_events_arrive_decoded_in_order(node: Node, workload: Workload) -> None:
    obj = node.object_upload_file(program("execsnoop"))
    node.probe_load(name="snoop", object_id=obj["objectId"], programs=["execsnoop"],
                    attach=[{"program": "execsnoop", "target": targets.auto()}])
    with node.subscribe_events(probe="snoop", map="events", record_type="struct exec_event") as events:
        with Node(str(node.address)) as other:  # a ring buffer has one reader at a time
            try:
                other.subscribe_events(probe="snoop", map="events")
                raise AssertionError("a second subscription was let in")
            except Conflict:
                pass
        pids = workload.run(6)
        mine: List[Dict[str, Any]] = []
        lost = 0
        while len(mine) < 6:
            note = events.next(timeout=WAIT)
            assert note is not None, f"only {len(mine)} records came"
            assert note["method"] == "subscription.events"
            lost += note["lost"]
            mine += [r for r in note["records"] if r["comm"] == workload.comm]
        assert lost == 0
        assert [r["pid"] for r in mine] == pids
        assert all(r["filename"] == workload.path and r["uid"] == 0 for r in mine)
    assert events.end_reason == "closed"
