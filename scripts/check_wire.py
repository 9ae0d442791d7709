#!/usr/bin/env python3
"""Checks every message a node sent during the end-to-end suite against the
protocol's contract (docs/openrpc.json): each reply's result against its
method's result schema, each error against its code's error schema, each
notification against its params schema. Fails on the first message that
does not match, and on a method or notification the suite never saw
succeed.

The messages are the files the suite's clients wrote under BPFLEET_WIRE_LOG
(Sources/Shared/Contract/WireLog.swift): one JSON line per message,
{"method": M, "line": REPLY}, {"line": NOTIFICATION}, or
{"method": M, "skipped": BYTES} for a line too long to copy.

Usage: check_wire.py docs/openrpc.json WIRE_LOG_DIRECTORY
"""
from __future__ import annotations

import collections
import json
import pathlib
import sys
from typing import Any

import jsonschema
import referencing
import referencing.jsonschema

BASE = "urn:bpfleet:openrpc"


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 64
    document = json.loads(pathlib.Path(sys.argv[1]).read_text())
    resource = referencing.Resource.from_contents(document, default_specification=referencing.jsonschema.DRAFT202012)
    registry = referencing.Registry().with_resource(BASE, resource)

    def validator(pointer: str) -> jsonschema.protocols.Validator:
        return jsonschema.Draft202012Validator({"$ref": f"{BASE}#{pointer}"}, registry=registry)

    results = {method["name"]: validator(f"/methods/{index}/result/schema")
               for index, method in enumerate(document["methods"])}
    notifications = {note["name"]: validator(note["x-schema"]["$ref"][1:]) for note in document["x-notifications"]}
    errors = {error["code"]: validator(error["x-schema"]["$ref"][1:]) for error in document["components"]["errors"].values()}

    # The document's own examples first: each must be what it documents.
    for method in document["methods"]:
        for example in method["examples"]:
            problem = first_error(results[method["name"]], example["result"]["value"], f"{method['name']} example result")
            if problem:
                print(f"check_wire: docs/openrpc.json: {problem}", file=sys.stderr)
                return 1
    for note in document["x-notifications"]:
        for example in note["examples"]:
            problem = first_error(notifications[note["name"]], example["params"], f"{note['name']} example")
            if problem:
                print(f"check_wire: docs/openrpc.json: {problem}", file=sys.stderr)
                return 1

    succeeded: collections.Counter[str] = collections.Counter()
    failed: collections.Counter[int] = collections.Counter()
    skipped: collections.Counter[str] = collections.Counter()
    unattributed = 0
    files = sorted(pathlib.Path(sys.argv[2]).glob("*.jsonl"))
    for path in files:
        for number, text in enumerate(path.read_text().splitlines(), 1):
            where = f"{path.name}:{number}"
            record = json.loads(text)
            method = record.get("method")
            if "skipped" in record:
                skipped[method or "?"] += 1
                continue
            message = record.get("line")
            problem = check(message, method, results, notifications, errors)
            if problem:
                print(f"check_wire: {where}: {problem}\n  {json.dumps(message)[:2000]}", file=sys.stderr)
                return 1
            if "method" not in record:
                succeeded[message["method"]] += 1
            elif "error" in message:
                failed[message["error"]["code"]] += 1
            elif method is None:
                unattributed += 1
            else:
                succeeded[method] += 1

    never = [name for name in list(results) + list(notifications) if succeeded[name] == 0]
    total = sum(succeeded.values()) + sum(failed.values())
    print(f"check_wire: {total} messages from {len(files)} clients match docs/openrpc.json: "
          f"{sum(succeeded.values())} results and notifications, {sum(failed.values())} errors"
          + (f"; {sum(skipped.values())} longer than the copy limit not checked ({dict(skipped)})" if skipped else "")
          + (f"; {unattributed} results of requests sent as raw text not attributed" if unattributed else "")
          + "; every example matches too")
    if never:
        print(f"check_wire: the suite never saw these succeed: {', '.join(never)}", file=sys.stderr)
        return 1
    return 0


def check(message: Any, method: str | None, results: dict, notifications: dict, errors: dict) -> str | None:
    if not isinstance(message, dict):
        return "not a JSON object"
    if message.get("jsonrpc") != "2.0":
        return 'no "jsonrpc": "2.0"'
    if "id" not in message:
        name = message.get("method")
        if name not in notifications:
            return f"a notification the contract does not have: {name!r}"
        if set(message) != {"jsonrpc", "method", "params"}:
            return f"a notification's members are {sorted(message)}"
        return first_error(notifications[name], message["params"], f"{name} params")
    if ("result" in message) == ("error" in message):
        return "a reply must hold exactly one of result and error"
    if set(message) - {"jsonrpc", "id", "result", "error"}:
        return f"a reply's members are {sorted(message)}"
    if "error" in message:
        error = message["error"]
        code = error.get("code") if isinstance(error, dict) else None
        if code not in errors:
            return f"an error code the contract does not have: {code!r}"
        return first_error(errors[code], error, f"error {code}")
    if method is None:
        return None
    if method not in results:
        return f"a result of {method!r}, a method the contract does not have"
    return first_error(results[method], message["result"], f"{method} result")


def first_error(validator: jsonschema.protocols.Validator, value: Any, what: str) -> str | None:
    error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    if error is None:
        return None
    path = "".join(f"[{part!r}]" for part in error.absolute_path)
    return f"{what}{path}: {error.message}"


if __name__ == "__main__":
    sys.exit(main())
