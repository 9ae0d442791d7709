#!/usr/bin/env bash
# The bpfleet demo: a local bpfleetd on a temporary socket, the exec counter
# rolled out by the bpfleet client, live counts, then everything cleaned up.
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
node="unix:$work/bpfleetd.sock"
server=""
cleanup() {
    [ -n "$server" ] && "$bin/bpfleet" -n "$node" probe unload execs >/dev/null 2>&1 || true
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
    rm -rf "$pins" "$work"
}
trap cleanup EXIT INT TERM

"$bin/bpfleetd" --listen "$node" --state-dir "$work/state" --pin-root "$pins" \
    >"$work/ready" 2>"$work/bpfleetd.log" &
server=$!
for _ in $(seq 100); do grep -q "bpfleetd ready" "$work/ready" 2>/dev/null && break; sleep 0.1; done
grep -q "bpfleetd ready" "$work/ready" || { cat "$work/bpfleetd.log" >&2; exit 1; }

bpfleet() { echo "\$ bpfleet $*" >&2; "$bin/bpfleet" -n "$node" "$@"; }

bpfleet node info
bpfleet probe load programs/build/exec_count.bpf.o --name execs
bpfleet probe attach execs count_exec --tracepoint sched:sched_process_exec
for second in $(seq "${DEMO_SECONDS:-10}"); do
    # Some work for the probe to see.
    for _ in $(seq "$second"); do /bin/true; done
    ls / >/dev/null
    sleep 1
    echo "--- after ${second}s: execs per command, busiest first (live from the kernel)"
    "$bin/bpfleet" -n "$node" map dump execs exec_counts |
        { read -r header; echo "$header"; sort -k2 -nr | awk 'NR <= 12'; }
done
bpfleet probe get execs
bpfleet probe unload execs
echo "demo: done; bpfleetd stops and its pins and temporary files are removed"
