"""The shipped systemd unit's sandbox, as systemd itself rates it:
`systemd-analyze security --offline=true` gives an overall exposure of 3.0
or lower (docs/security.md, "Least privilege"), and the capabilities the
unit bounds bpfleetd to are the set bpfleetd documents and keeps."""
from __future__ import annotations

import pathlib
import re
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "systemd" / "bpfleetd.service"
# What bpfleetd keeps after start (Sources/Server/Privileges/LeastPrivilege.swift).
DOCUMENTED = {"CAP_BPF", "CAP_PERFMON", "CAP_NET_ADMIN", "CAP_SYS_ADMIN", "CAP_SYS_PTRACE"}
ANALYZE = shutil.which("systemd-analyze")


def directive(name: str) -> list[str]:
    return [line.split("=", 1)[1] for line in UNIT.read_text().splitlines() if line.startswith(name + "=")]


@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed (Debian package systemd; scripts/setup.sh installs it)")
def test_the_unit_is_rated_an_exposure_of_at_most_3() -> None:
    run = subprocess.run([str(ANALYZE), "security", "--offline=true", "--no-pager", str(UNIT)],
                         capture_output=True, text=True, check=False)
    match = re.search(r"Overall exposure level for bpfleetd\.service: (\d+\.\d+)", run.stdout)
    assert match, f"no overall exposure in systemd-analyze's output:\n{run.stdout}\n{run.stderr}"
    exposure = float(match.group(1))
    print(f"systemd-analyze security --offline=true: exposure {exposure}")
    assert exposure <= 3.0, run.stdout


def test_the_unit_bounds_bpfleetd_to_the_documented_set() -> None:
    bounding = directive("CapabilityBoundingSet")
    assert len(bounding) == 1
    assert set(bounding[0].split()) == DOCUMENTED
    assert directive("AmbientCapabilities") == []
    assert directive("NoNewPrivileges") == ["yes"]
    # The socket's group without CAP_CHOWN: bpfleetd is a member of it.
    assert directive("SupplementaryGroups") == ["bpfleet"]
    assert any("--socket-group bpfleet" in line for line in UNIT.read_text().splitlines())


def test_the_pins_stay_writable_and_the_mounts_are_the_hosts() -> None:
    assert directive("ProtectSystem") == ["strict"]
    assert "/sys/fs/bpf" in " ".join(directive("ReadWritePaths")).split()
    # No mount(2) inside the sandbox: bpffs and tracefs come from outside it.
    pre = " ".join(directive("ExecStartPre"))
    assert "+/bin/sh -c 'mountpoint -q /sys/fs/bpf || mount -t bpf" in pre
    assert "+/bin/sh -c 'mountpoint -q /sys/kernel/tracing || mount -t tracefs" in pre
    assert "~@clock @cpu-emulation @module @obsolete @raw-io @reboot @swap @mount" in directive("SystemCallFilter")
