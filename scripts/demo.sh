#!/usr/bin/env bash
# The bpfleet demo: three local bpfleetd nodes on temporary sockets, the exec
# counter rolled out to them by `bpfleet apply` (examples/exec-count.yaml:
# canary first, then batches), live counts, then everything cleaned up.
# DEMO_SECONDS sets how long the counts are shown (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

scripts/setup.sh
make -s -C programs
swift build --product bpfleetd
swift build --product bpfleet
bin=$(swift build --show-bin-path)

work=$(mktemp -d /tmp/bpfleet-demo.XXXXXX)
pins=/sys/fs/bpf/bpfleet-demo-$$
nodes=3
servers=()
cleanup() {
    if [ ${#servers[@]} -gt 0 ]; then
        "$bin/bpfleet" --inventory "$work/inventory.yaml" -l demo delete -f examples/exec-count.yaml >/dev/null 2>&1 || true
        kill "${servers[@]}" 2>/dev/null || true
        wait "${servers[@]}" 2>/dev/null || true
    fi
    rm -rf "$pins"-* "$work"
}
trap cleanup EXIT INT TERM
# Three nodes on this machine, each its own socket, state directory and pin
# root, named in an inventory with labels.
echo "nodes:" >"$work/inventory.yaml"
for i in $(seq "$nodes"); do
    "$bin/bpfleetd" --listen "unix:$work/node$i.sock" --state-dir "$work/state$i" --pin-root "$pins-$i" \
        >"$work/ready$i" 2>"$work/bpfleetd$i.log" &
    servers+=($!)
    echo "  - {name: node-$i, address: 'unix:$work/node$i.sock', labels: {demo: yes, role: $([ "$i" = 1 ] && echo canary || echo web)}}" \
        >>"$work/inventory.yaml"
done
for i in $(seq "$nodes"); do
    for _ in $(seq 100); do grep -q "bpfleetd ready" "$work/ready$i" 2>/dev/null && break; sleep 0.1; done
    grep -q "bpfleetd ready" "$work/ready$i" || { cat "$work/bpfleetd$i.log" >&2; exit 1; }
done
bpfleet() { echo "\$ bpfleet $*" >&2; "$bin/bpfleet" --inventory "$work/inventory.yaml" "$@"; }
bpfleet -l demo node info
# The manifest: the exec counter with its tracepoint link, canary first.
bpfleet -l demo apply -f examples/exec-count.yaml
bpfleet -l demo status -f examples/exec-count.yaml
for second in $(seq "${DEMO_SECONDS:-10}"); do
    # Some work for the probe to see.
    for _ in $(seq "$second"); do /bin/true; done
    ls / >/dev/null
    sleep 1
    echo "--- after ${second}s: execs per command on node-1, busiest first (live from the kernel)"
    "$bin/bpfleet" --inventory "$work/inventory.yaml" -n node-1 map dump exec-count exec_counts |
        { read -r header; echo "$header"; sort -k2 -nr | awk 'NR <= 12'; }
done
# The same counts as Prometheus scrapes them (the manifest's metrics:).
bpfleet -n node-1 metrics exec-count | grep '^execs_total' | sort -t' ' -k2 -nr | awk 'NR <= 5'
bpfleet -l demo probe get exec-count
bpfleet -l demo delete -f examples/exec-count.yaml
echo "demo: done; the bpfleetd nodes stop and their pins and temporary files are removed"
