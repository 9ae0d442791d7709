"""scripts/check_wire.py on made-up wire logs: the document's own examples
pass; a message off the contract, or a method never seen, fails."""
from __future__ import annotations

import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "openrpc.json"


def examples() -> list[dict]:
    document = json.loads(DOCUMENT.read_text())
    records = []
    for number, method in enumerate(document["methods"], 1):
        result = method["examples"][0]["result"]["value"]
        records.append({"method": method["name"], "line": {"jsonrpc": "2.0", "id": number, "result": result}})
    for note in document["x-notifications"]:
        records.append({"line": {"jsonrpc": "2.0", "method": note["name"], "params": note["examples"][0]["params"]}})
    return records


def check(tmp_path: pathlib.Path, records: list[dict]) -> subprocess.CompletedProcess[str]:
    (tmp_path / "wire-1.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records))
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "check_wire.py"), str(DOCUMENT), str(tmp_path)],
                          capture_output=True, text=True, check=False)


def test_every_example_on_the_wire_passes(tmp_path: pathlib.Path) -> None:
    run = check(tmp_path, examples())
    assert run.returncode == 0, run.stderr
    assert "match docs/openrpc.json" in run.stdout


def test_a_member_the_contract_does_not_have_fails(tmp_path: pathlib.Path) -> None:
    records = examples()
    probe_get = next(record for record in records if record.get("method") == "probe.get")
    probe_get["line"]["result"]["colour"] = "blue"
    run = check(tmp_path, records)
    assert run.returncode == 1
    assert "probe.get result: Additional properties are not allowed ('colour' was unexpected)" in run.stderr


def test_a_wrong_type_deep_in_a_result_fails_naming_the_path(tmp_path: pathlib.Path) -> None:
    records = examples()
    probe_get = next(record for record in records if record.get("method") == "probe.get")
    probe_get["line"]["result"]["links"][0]["linkId"] = "one"
    run = check(tmp_path, records)
    assert run.returncode == 1
    assert "probe.get result['links'][0]['linkId']: 'one' is not of type 'integer'" in run.stderr


def test_an_error_code_or_data_off_the_contract_fails(tmp_path: pathlib.Path) -> None:
    records = examples() + [{"method": "probe.get", "line": {"jsonrpc": "2.0", "id": 99, "error": {"code": -32099, "message": "?"}}}]
    run = check(tmp_path, records)
    assert run.returncode == 1
    assert "an error code the contract does not have: -32099" in run.stderr
    records = examples() + [{"method": "probe.get", "line": {"jsonrpc": "2.0", "id": 99,
                                                              "error": {"code": -32003, "message": "x", "data": {"kind": 3}}}}]
    run = check(tmp_path, records)
    assert run.returncode == 1
    assert "error -32003['data']['kind']: 3 is not of type 'string'" in run.stderr


def test_a_method_never_seen_to_succeed_fails(tmp_path: pathlib.Path) -> None:
    records = [record for record in examples() if record.get("method") != "iter.read"]
    run = check(tmp_path, records)
    assert run.returncode == 1
    assert "never saw these succeed: iter.read" in run.stderr


def test_a_notification_off_the_contract_fails(tmp_path: pathlib.Path) -> None:
    records = examples() + [{"line": {"jsonrpc": "2.0", "method": "subscription.end", "params": {"subscription": 1}}}]
    run = check(tmp_path, records)
    assert run.returncode == 1
    assert "subscription.end params: 'reason' is a required property" in run.stderr
