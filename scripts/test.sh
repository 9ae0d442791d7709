#!/usr/bin/env bash
# Runs every test: unit tests and end-to-end tests against real bpfleetd
# processes and the real kernel. Fails if any test fails or if the suite
# leaves a BPF program, map, link or pin behind.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

scripts/setup.sh
make -s -C programs
swift build --build-tests
# The manual pages of this build, which CLIFurnitureTests installs and
# checks against the commands (docs/cli.md, "Man pages and completions").
scripts/man.sh debug

# Our programs' names, to tell what the suite left from what the system runs.
# (bpftool prints at most 15 characters of a name: count_tc_ingres.)
ours='count_exec|count_syscall|record_exec|out_of_bounds|touch|execsnoop|execsnoop_perf|flood_ringbuf|flood_perf|count_xdp|count_tc_ingres|count_tc_egress|count_call|count_egress|count_sock_crea|count_sample|count_exec_btf|count_kprobe|count_fentry|count_file_open|count_usdt|touch_shapes|count_kill|touch_huge'
leftovers() {
    bpftool prog show 2>/dev/null | grep -E "name ($ours) " || true
    find /sys/fs/bpf -maxdepth 1 -name 'bpfleet-test-*' 2>/dev/null || true
    # The attach target tests' network namespaces, veths and cgroups.
    ip netns list 2>/dev/null | grep -E '^bpfleet-' || true
    find /sys/fs/cgroup /sys/fs/cgroup/unified -maxdepth 1 -name 'bpfleet-test-*' 2>/dev/null || true
}
before=$(leftovers)

status=0
log=$(mktemp /tmp/bpfleet-test-log.XXXXXX)
pylog=$(mktemp /tmp/bpfleet-test-pylog.XXXXXX)
if [ $# -gt 0 ]; then
    swift test --skip-build "$@" 2>&1 | tee -a "$log" || status=$?
else
    # Two runs, one process each: the end-to-end tests drive real servers
    # with blocking reads and hold the few threads of Swift's cooperative
    # pool (two on a two-core machine) for seconds at a time; the unit tests'
    # timers must not wait behind them.
    # The deployment files (deploy/): YAML that parses, real bpfleetd flags,
    # a unit systemd accepts (scripts/check_deploy.py).
    scripts/check_deploy.py || status=$?
    swift test --skip-build --skip EndToEndTests 2>&1 | tee -a "$log" || status=$?
    # Every line a node sends the suite's clients is written down, then
    # checked against the contract (docs/protocol.md, "Methods").
    wire=$(mktemp -d /tmp/bpfleet-wire.XXXXXX)
    BPFLEET_WIRE_LOG=$wire swift test --skip-build --filter EndToEndTests 2>&1 | tee -a "$log" || status=$?
    scripts/check_wire.py docs/openrpc.json "$wire" || status=1
    rm -rf "$wire"
    # The Python client against real nodes (docs/python.md), the wire
    # check on made-up logs, and the systemd unit's rating; -rs prints why
    # a test was skipped.
    BPFLEETD="$(swift build --show-bin-path)/bpfleetd" BPFLEET="$(swift build --show-bin-path)/bpfleet" \
        python3 -m pytest -q -rs -p no:cacheprovider clients/python/tests scripts/tests 2>&1 | tee "$pylog" || status=$?
fi

# One closing line in the plain form any CI reads: N passed, N failed
# (Swift Testing's "Test run with N tests" lines and pytest's summary).
total=$(grep -oE 'Test run with [0-9]+ tests?' "$log" | grep -oE '[0-9]+' | awk '{ n += $1 } END { print n }')
summary=$(tail -n 1 "$pylog")
py_passed=$({ echo "$summary" | grep -oE '[0-9]+ passed' || true; } | awk '{ n += $1 } END { print n + 0 }')
py_failed=$({ echo "$summary" | grep -oE '[0-9]+ (failed|errors?)' || true; } | awk '{ n += $1 } END { print n + 0 }')
# A failed test is named on a "failed after" line, or only on its "recorded
# an issue" lines when its end line is lost: count each name once.
failed=$({ grep -E '^✘ Test .* (failed after|recorded an issue)' "$log" || true; } | { grep -v '^✘ Test run with' || true; } \
    | sed -E 's/^✘ Test (.*) (failed after|recorded an issue).*/\1/' | sort -u | wc -l)
rm -f "$log" "$pylog"

# The kernel frees a program after its last descriptor closes and an RCU
# grace period passes, so a server that exited as the run ended may show
# for a moment (the tests' Bpftool.isGone waits the same way). Anything
# still there after 10 s was left behind.
# What is there now and was not before (what was there before and is gone
# now is not the suite's doing).
left() { comm -13 <(echo "$before" | sort) <(leftovers | sort) | grep -v '^$' || true; }
after=$(left)
for _ in $(seq 20); do
    [ -z "$after" ] && break
    sleep 0.5
    after=$(left)
done
if [ -n "$after" ]; then
    echo "test: the suite left kernel objects or pins behind:" >&2
    echo "$after" >&2
    find /sys/fs/bpf -maxdepth 1 -name 'bpfleet-test-*' -exec rm -rf {} + 2>/dev/null || true
    status=1
fi
if [ -n "$total" ]; then
    echo "tests: $((total - failed + py_passed)) passed, $((failed + py_failed)) failed"
fi
exit $status
