#!/usr/bin/env python3
"""check_dump.py FILE COUNT KEY_SUM VALUE_SUM: checks a snapshot's JSON, as
`bpfleet map dump ... -o json` writes it ([{"node":..,"ok":true,"result":R}])
or as a bare JSON-RPC response ({"jsonrpc":..,"result":R}): it must parse,
hold COUNT entries, say count COUNT and not truncated, and its keys and
values must add up to what fill_map put in. Prints one line; exit 1 if not."""
import json
import sys

path, count, key_sum, value_sum = sys.argv[1], *map(int, sys.argv[2:5])
with open(path, "rb") as f:
    document = json.load(f)
if isinstance(document, list):
    assert len(document) == 1 and document[0]["ok"], f"not one successful node: {str(document)[:200]}"
    result = document[0]["result"]
else:
    result = document["result"]
entries = result["entries"]
problems = []
if len(entries) != count:
    problems.append(f"{len(entries)} entries, expected {count}")
if result.get("count") != count:
    problems.append(f"count says {result.get('count')}")
if result.get("truncated") is not False:
    problems.append("truncated is not false")
keys = sum(e["key"] for e in entries)
values = sum(e["value"] for e in entries)
if keys != key_sum:
    problems.append(f"key sum {keys} != {key_sum}")
if values != value_sum:
    problems.append(f"value sum {values} != {value_sum}")
if len({e["key"] for e in entries}) != len(entries):
    problems.append("duplicate keys")
if problems:
    print(f"check_dump: {path}: FAILED: " + "; ".join(problems))
    sys.exit(1)
print(f"check_dump: ok: parses, {len(entries)} entries, key sum {keys}, value sum {values}")
