#!/usr/bin/env bash
# Makes a fresh Debian machine ready for bpfleet: the C libraries bpfleetd
# links against, bpftool (vmlinux.h generation, and the tests' witness),
# the tools the tests and demo use, and the bpf and tracing filesystems.
# Idempotent; run as root.
set -euo pipefail

packages=(libbpf-dev libelf-dev zlib1g-dev bpftool make socat iproute2 util-linux procps gcc binutils systemtap-sdt-dev libjansson-dev libssl-dev openssl python3
          python3-yaml python3-kubernetes
          systemd  # systemd-analyze: verifies the unit and rates its sandbox (check_deploy.py, scripts/tests/test_systemd_unit.py)
          prometheus  # prometheus: promtool, which checks every scrape in MetricsTests
          tmux)       # tmux: a terminal for the tests of colour and live views (TerminalTests)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The suite's Python parts: jsonschema (with referencing) checks every
# message a node sends against docs/openrpc.json; pytest runs the Python
# client's tests. From PyPI when the python3 on PATH lacks them.
if ! python3 -c 'import jsonschema, referencing, pytest' 2>/dev/null; then
    echo "setup: installing jsonschema and pytest for $(command -v python3)"
    python3 -m pip install -q jsonschema pytest
fi

# bpffs holds the pins; tracefs is what tracepoint attach reads ids from.
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing

if ! command -v swift >/dev/null; then
    if [ -x /opt/swift/usr/bin/swift ]; then
        echo "setup: swift is at /opt/swift/usr/bin; add it to PATH" >&2
    else
        echo "setup: no Swift toolchain found (Swift 6 is needed)" >&2
        exit 1
    fi
fi
