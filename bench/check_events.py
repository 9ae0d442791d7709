#!/usr/bin/env python3
"""check_events.py FILE: reads what `bpfleet events tail ... --record-type
"struct flood_record" -o ndjson` wrote and prints, in events_read's words,
"records=R lost=L gaps=G reordered=O first_seq=F last_seq=S other=N
t_last=T": the records, the sum of the `lost` lines (the server's losses
and the client's own), the records missing between the `seq`s seen, `seq`s
that went backwards, lines that are neither (an end or a failure), and the
file's modification time (the last record's write, CLOCK_REALTIME). Every
line must be JSON; a record must have an integer seq and nr."""
import json
import os
import sys

path = sys.argv[1]
records = lost = gaps = reordered = other = 0
first = last = None
expected = None
with open(path, "rb") as f:
    for raw in f:
        line = json.loads(raw)
        if "record" in line:
            record = line["record"]
            seq = record["seq"]
            if not isinstance(seq, int) or not isinstance(record["nr"], int):
                raise SystemExit(f"check_events: a record without integer fields: {raw!r}")
            records += 1
            if first is None:
                first = seq
            elif seq > expected:
                gaps += seq - expected
            elif seq < expected:
                reordered += 1
            if expected is None or seq + 1 > expected:
                expected = seq + 1
            last = seq
        elif "lost" in line:
            lost += line["lost"]
        else:
            other += 1
            print(f"check_events: {raw.decode().strip()}", file=sys.stderr)
mtime = os.stat(path).st_mtime_ns / 1e9
print(f"records={records} lost={lost} gaps={gaps} reordered={reordered} first_seq={first if first is not None else -1} "
      f"last_seq={last if last is not None else -1} other={other} t_last={mtime:.6f}")
