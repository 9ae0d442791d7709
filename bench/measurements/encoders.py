"""2. JSON encoders on the snapshot path, over BENCH_ENTRIES entries,
BENCH_REPS runs each: the server's direct writer (its own MapCodec and
JSONWriter, bench/encoders), the same digit algorithm through a raw
pointer, Foundation (JSONEncoder, JSONSerialization) and libjansson
(jansson_encode). Every encoder must write the same bytes (fnv)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING

from .common import Bench, BenchError, Results, Session, run, tail

if TYPE_CHECKING:
    from .unix_socket import Values

PACKAGE = ["--package-path", "bench/encoders", "--scratch-path", "bench/encoders/.build-bench"]
NAMES = {
    "direct-writer-bytebuffer": "2i. direct UTF-8 writer (the server's own MapCodec + JSONWriter, NIO ByteBuffer, 16,384-entry batches)",
    "direct-writer-rawpointer": "2i'. same digit algorithm through a raw pointer (floor, not the server's code)",
    "foundation-jsonencoder": "2ii. Foundation JSONEncoder, [Codable struct]",
    "foundation-jsonserialization": "2ii'. Foundation JSONSerialization, [[String: NSNumber]]",
    "jansson": "2iii. libjansson: json_array + json_pack, json_dumps(JSON_COMPACT)",
}


def build(session: Session) -> str:
    """The encoder package, release. It resolves the swift-nio the server
    uses (the same pins: the main Package.resolved, from SwiftPM's cache)."""
    try:
        shutil.copy("Package.resolved", "bench/encoders/Package.resolved")
    except OSError:
        pass
    log = session.path("build-encoders.log")
    with open(log, "w") as f:
        built = subprocess.run(["swift", "build", "-c", "release", *PACKAGE], stdout=f, stderr=subprocess.STDOUT)
    if built.returncode != 0:
        sys.stderr.write(tail(log, 20))
        raise BenchError("the encoder package (bench/encoders) does not build")
    return os.path.join(run(["swift", "build", "-c", "release", *PACKAGE, "--show-bin-path"]), "encoders")


def measure(bench: Bench, binary: str, results: Results) -> None:
    entries, reps = str(bench.knobs.entries), str(bench.knobs.reps)
    results.record_lines(run([binary, entries, reps]))
    results.record_lines(run([bench.tool("jansson_encode"), entries, reps]))


def rows(values: "Values") -> list[tuple[str, str, str, str]]:
    encoders = values.get("encoder")
    if not encoders:
        return []
    hashes = {e["fnv"] for e in encoders}
    served = [e for e in encoders if e["encoder"] != "direct-writer-rawpointer"]
    fastest = min(served, key=lambda e: float(e["median_ms"]))
    found = []
    for e in encoders:
        extra = f"; build {e['build_ms']} ms + dump {e['dump_ms']} ms" if "build_ms" in e else ""
        found.append((NAMES.get(e["encoder"], e["encoder"]),
                      f"median {float(e['median_ms']):,.1f} ms, min {float(e['min_ms']):,.1f} ms, {e['mb_per_s']} MB/s "
                      f"({e['reps']} runs{extra})", "", ""))
    found.append(("2. fastest of (i), (ii), (iii); the server's snapshot path (MapSnapshotWriter) runs (i)",
                  f"{fastest['encoder']}; all texts identical: {'yes' if len(hashes) == 1 else 'NO'} "
                  f"({int(encoders[0]['bytes']) / 1e6:.1f} MB each)", "", ""))
    return found
