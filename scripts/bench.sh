#!/usr/bin/env bash
# make bench: issue 2's node-server measurements, side by side in one run,
# printed as one table (bench/README.md says what each row is).
#   1. snapshot of a 1,000,000-entry u32 -> u64 hash map: `bpfleet map dump`
#      end to end, the bare JSON-RPC call, `bpftool map dump`, and the raw
#      BPF_MAP_LOOKUP_BATCH walk; the bpfleet output is checked for correctness
#   2. JSON encoders on the snapshot path: the server's direct writer,
#      Foundation (JSONEncoder, JSONSerialization), libjansson
#   3. bpfleetd's resident memory, idle and at its peak after the snapshots
#   4. node.info round trips: 1 client latency, 16 clients throughput
# Speed targets are read off the table; the run fails only when something
# is wrong (a check, a crash), never because a number is slow.
# Knobs: BENCH_ENTRIES (1000000), BENCH_REPS (5), BENCH_RPC_CALLS (20000),
# BENCH_RPC_CLIENTS (16), BENCH_RPC_LOAD_CALLS (200000), BENCH_RPC_LOAD_REPS (3),
# BENCH_CONFIG (release; debug to skip the release build), BENCH_PERF=DIR
# (also profile, untimed, with perf: the server and the client over one more
# snapshot, the server under one more node.info load; top symbols into DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

entries=${BENCH_ENTRIES:-1000000}
reps=${BENCH_REPS:-7}
rpc_calls=${BENCH_RPC_CALLS:-20000}
rpc_clients=${BENCH_RPC_CLIENTS:-16}
rpc_load_calls=${BENCH_RPC_LOAD_CALLS:-200000}
rpc_load_reps=${BENCH_RPC_LOAD_REPS:-3}
config=${BENCH_CONFIG:-release}

work=$(mktemp -d /tmp/bpfleet-bench.XXXXXX)
pins=/sys/fs/bpf/bpfleet-bench-$$
sock="$work/bpfleetd.sock"
server=""
recorder=""
results="$work/results.txt"
cleanup() {
    [ -n "$recorder" ] && kill -INT "$recorder" 2>/dev/null || true
    if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
        python3 bench/rpc.py "$sock" probe.unload '{"probe":"big"}' >/dev/null 2>&1 || true
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    server=""
    rm -rf "$pins" "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
note() { echo "bench: $*" >&2; }
record() { echo "$*" >>"$results"; }

scripts/setup.sh
make -s -C programs

# --- builds ------------------------------------------------------------------
# The server and the client, release when it builds (fairer), else debug;
# the table says which. The client is being worked on: if neither build of
# it works, the end-to-end row is left out and says so.
build_product() {  # product -> prints the binary's path, or nothing
    local product=$1 c
    for c in $config debug; do
        if swift build -c "$c" --product "$product" >"$work/build-$product-$c.log" 2>&1; then
            echo "$(swift build -c "$c" --show-bin-path)/$product"
            record "config_$product $c"
            return
        fi
        note "swift build -c $c --product $product failed (log: tail below)"
        tail -5 "$work/build-$product-$c.log" >&2
    done
}
bpfleetd=$(build_product bpfleetd)
[ -n "$bpfleetd" ] || { note "bpfleetd does not build"; exit 1; }
bpfleet=$(build_product bpfleet)

bin="$work/bin"
mkdir -p "$bin"
cflags=(-O2 -Wall -Wextra -Wno-unused-parameter)
gcc "${cflags[@]}" -o "$bin/fill_map" bench/fill_map.c -lbpf
gcc "${cflags[@]}" -o "$bin/batch_lookup" bench/batch_lookup.c -lbpf
gcc "${cflags[@]}" -o "$bin/rpc_call" bench/rpc_call.c
gcc "${cflags[@]}" -pthread -o "$bin/rpc_load" bench/rpc_load.c
gcc "${cflags[@]}" -o "$bin/jansson_encode" bench/jansson_encode.c -ljansson
# The encoder package resolves the swift-nio the server uses (same pins).
cp Package.resolved bench/encoders/Package.resolved 2>/dev/null || true
swift build -c release --package-path bench/encoders --scratch-path bench/encoders/.build-bench \
    >"$work/build-encoders.log" 2>&1 || { tail -20 "$work/build-encoders.log" >&2; exit 1; }
encoders=$(swift build -c release --package-path bench/encoders --scratch-path bench/encoders/.build-bench --show-bin-path)/encoders

# --- the server ----------------------------------------------------------------
"$bpfleetd" --listen "unix:$sock" --state-dir "$work/state" --pin-root "$pins" \
    >"$work/ready" 2>"$work/bpfleetd.log" &
server=$!
for _ in $(seq 100); do grep -q "bpfleetd ready" "$work/ready" 2>/dev/null && break; sleep 0.1; done
grep -q "bpfleetd ready" "$work/ready" || { cat "$work/bpfleetd.log" >&2; exit 1; }
status_kb() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$server/status"; }
sleep 2  # let start-up settle
record "rss_idle_kb $(status_kb VmRSS)"

# The client's global options (-n) go before the command or after it,
# depending on how far the CLI work is: take the form that answers.
cli_form=""
if [ -n "$bpfleet" ]; then
    if "$bpfleet" -n "unix:$sock" node info >/dev/null 2>&1; then
        cli_form=before
    elif "$bpfleet" node info -n "unix:$sock" >/dev/null 2>&1; then
        cli_form=after
    else
        note "the bpfleet client cannot talk to the server: the end-to-end row is left out"
        bpfleet=""
    fi
fi
cli() {
    if [ "$cli_form" = before ]; then "$bpfleet" -n "unix:$sock" "$@"; else "$bpfleet" "$@" -n "unix:$sock"; fi
}
record "cli_form ${cli_form:-none}"

python3 bench/rpc.py "$sock" object.upload '{"data":"@programs/build/big_hash.bpf.o","name":"big_hash"}' >"$work/object.json"
object=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["objectId"])' "$work/object.json")
python3 bench/rpc.py "$sock" probe.load "{\"name\":\"big\",\"objectId\":\"$object\"}" >/dev/null
pin="$pins/big/maps/big"
[ -e "$pin" ] || { note "no pin at $pin"; ls -R "$pins" >&2; exit 1; }
filled=$("$bin/fill_map" "$pin" "$entries")
note "filled: $filled"
key_sum=$(sed -E 's/.*key_sum=([0-9]+).*/\1/' <<<"$filled")
value_sum=$(sed -E 's/.*value_sum=([0-9]+).*/\1/' <<<"$filled")
record "rss_loaded_kb $(status_kb VmRSS)"

# --- 1. snapshot ---------------------------------------------------------------
# Interleaved, one of each per round, so drift on a noisy machine hits all alike.
elapsed_ms() { python3 -c "import sys; print(f'{(float(sys.argv[2]) - float(sys.argv[1])) * 1e3:.1f}')" "$1" "$2"; }
params='{"map":{"probe":"big","name":"big"}}'
"$bin/batch_lookup" "$pin" 1 >/dev/null  # warm the map's pages once
for round in $(seq "$reps"); do
    if [ -n "$bpfleet" ]; then
        start=$EPOCHREALTIME
        cli map dump big big -o json >"$work/bpfleet.json"
        end=$EPOCHREALTIME
        record "snap_cli_ms $(elapsed_ms "$start" "$end")"
    fi
    "$bin/rpc_call" "$sock" 1 map.snapshot "$params" "$work/rpc.json" | sed -E 's/ms=([0-9.]+).*/snap_rpc_ms \1/' >>"$results"
    start=$EPOCHREALTIME
    bpftool -j map dump pinned "$pin" >"$work/bpftool.json"
    end=$EPOCHREALTIME
    record "snap_bpftool_ms $(elapsed_ms "$start" "$end")"
    "$bin/batch_lookup" "$pin" 1 | sed -E 's/ms=([0-9.]+).*/snap_raw_ms \1/' >>"$results"
    note "snapshot round $round of $reps done"
done
record "snap_bytes_cli $(stat -c %s "$work/bpfleet.json" 2>/dev/null || echo 0)"
record "snap_bytes_bpftool $(stat -c %s "$work/bpftool.json")"
if [ -n "$bpfleet" ]; then
    check=$(python3 bench/check_dump.py "$work/bpfleet.json" "$entries" "$key_sum" "$value_sum") || { echo "$check" >&2; exit 1; }
    note "bpfleet map dump -o json: $check"
    record "check_cli ok"
fi
check=$(python3 bench/check_dump.py "$work/rpc.json" "$entries" "$key_sum" "$value_sum") || { echo "$check" >&2; exit 1; }
note "map.snapshot over the socket: $check"
bpftool_entries=$(grep -o '"formatted":' "$work/bpftool.json" | wc -l)
[ "$bpftool_entries" = "$entries" ] || { note "bpftool dumped $bpftool_entries entries, expected $entries"; exit 1; }
record "rss_peak_snapshot_kb $(status_kb VmHWM)"
rm -f "$work/bpftool.json" "$work/bpfleet.json" "$work/rpc.json"

# --- 4. node.info round trips --------------------------------------------------
"$bin/rpc_load" "$sock" 1 "$rpc_calls" | sed 's/^/rpc1 /' >>"$results"
for round in $(seq "$rpc_load_reps"); do
    "$bin/rpc_load" "$sock" "$rpc_clients" "$rpc_load_calls" | sed 's/^/rpcN /' >>"$results"
    note "node.info load round $round of $rpc_load_reps done"
done
record "rss_peak_end_kb $(status_kb VmHWM)"
record "rss_end_kb $(status_kb VmRSS)"

# --- profiles (BENCH_PERF=DIR; not part of the timings) -------------------------
top_symbols() {  # perf.data -> text
    perf report -i "$1" --no-children --stdio --sort dso,sym 2>/dev/null | awk '/^ +[0-9]/ && n++ < 40' || true
}
if [ -n "${BENCH_PERF:-}" ] && command -v perf >/dev/null; then
    mkdir -p "$BENCH_PERF"
    perf record -q -g -o "$work/server-snapshot.data" -p "$server" 2>/dev/null &
    recorder=$!
    sleep 0.5
    if [ -n "$bpfleet" ]; then
        if [ "$cli_form" = before ]; then args=(-n "unix:$sock" map dump big big -o json); else args=(map dump big big -o json -n "unix:$sock"); fi
        perf record -q -g -o "$work/client-snapshot.data" -- "$bpfleet" "${args[@]}" >"$work/perf-dump.json"
        rm -f "$work/perf-dump.json"
    else
        "$bin/rpc_call" "$sock" 1 map.snapshot "$params" >/dev/null
    fi
    kill -INT "$recorder"; wait "$recorder" || true
    recorder=""
    perf record -q -g -o "$work/server-nodeinfo.data" -p "$server" 2>/dev/null &
    recorder=$!
    sleep 0.5
    "$bin/rpc_load" "$sock" "$rpc_clients" $((rpc_load_calls / 4)) >/dev/null
    kill -INT "$recorder"; wait "$recorder" || true
    recorder=""
    for profile in server-snapshot client-snapshot server-nodeinfo; do
        [ -e "$work/$profile.data" ] && top_symbols "$work/$profile.data" >"$BENCH_PERF/$profile.txt"
    done
    note "perf profiles (top symbols) in $BENCH_PERF"
fi

# The server is done: unload, stop, unpin before the encoders use the CPUs.
cleanup_server() {
    python3 bench/rpc.py "$sock" probe.unload '{"probe":"big"}' >/dev/null
    kill "$server"
    wait "$server" 2>/dev/null || true
    server=""
    rm -rf "$pins"
}
cleanup_server

# --- 2. encoders ---------------------------------------------------------------
"$encoders" "$entries" "$reps" >>"$results"
"$bin/jansson_encode" "$entries" "$reps" >>"$results"

# --- the table -------------------------------------------------------------------
{
    echo "machine nproc=$(nproc) kernel=$(uname -r) cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo | tr ' ' '_')"
    echo "entries $entries"
    echo "reps $reps"
} >>"$results"
python3 bench/report.py "$results"
