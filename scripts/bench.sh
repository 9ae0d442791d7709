#!/usr/bin/env bash
# make bench: the node-server measurements, side by side in one run, printed
# as tables (bench/README.md says what each row is). Two parts:
#  issue2 (issue 2, the node server on its Unix socket):
#   1. snapshot of a 1,000,000-entry u32 -> u64 hash map: `bpfleet map dump`
#      end to end, the bare JSON-RPC call, `bpftool map dump`, and the raw
#      BPF_MAP_LOOKUP_BATCH walk; the bpfleet output is checked for correctness
#   2. JSON encoders on the snapshot path: the server's direct writer,
#      Foundation (JSONEncoder, JSONSerialization), libjansson
#   3. bpfleetd's resident memory, idle and at its peak after the snapshots
#   4. node.info round trips: 1 client latency, 16 clients throughput
#  tls (issue 3, remote nodes: TLS 1.3 with client certificates on loopback TCP):
#   5. node.info over TLS against the Unix socket, same tool, same server,
#      interleaved: 1 client and 16 clients, calls/s and p50/p99
#   6. connection setup: connect + TLS handshake + first node.info reply,
#      against connect + first reply on the Unix socket
#   7. bpfleetd's memory with 1,000 TLS connections open and idle, against
#      none (and 1,000 Unix-socket connections on a fresh server, to compare)
#  events (issue 4, live data):
#   8. event throughput, ring buffer -> subscriber: a generator's getppid()
#      calls become records (programs/event_rate.bpf.c); `bpfleet events
#      tail -o ndjson > file` and a bare C reader, as fast as the generator
#      goes and paced at 100,000 and 200,000 records/s: records/s end to end,
#      and what was lost (kernel, server, client) against what was made
#   9. map.watch of a 10,000-entry map at 10 Hz: bpfleetd's CPU with 50 full
#      (and 50 delta) subscribers; one full against one delta subscriber's
#      bytes per second while 1% of the entries change every 100 ms
#  attach (issue 5, hook points and survival):
#  10. load + attach latency per target type (tracepoint, raw_tracepoint,
#      tp_btf, uprobe, xdp, tc, cgroup, perf_event): bpfleetd's probe.load +
#      probe.attach (attach_rpc) against the same in plain libbpf
#      (attach_libbpf, pinning what bpfleetd pins), interleaved rounds; the
#      veth pair (peer in a netns) and the cgroup are made here and removed
#  11. start-up of a bpfleetd with 100 probes to adopt (after kill -9), to
#      restore (pins removed too), and with none: exec to probe.list
#  fleet (issue 6, fleets):
#  12. `bpfleet apply` of a small tracepoint probe to 200 local bpfleetd
#      processes (an inventory, canary and batches), against the same with
#      --concurrency 1 and a sequential loop of `bpfleet -n NODE apply`, in
#      rotated order per round; wall time and the client's peak memory
#      (bench/fleet.py)
#  upload (issue 10, hostile objects):
#  13. object.upload of a 900 KB and a 7 KB object, opened by bpfleetd's
#      object helper process, against libbpf opening the same bytes
#      in-process; the helper's memory (bench/upload.py, bench/open_libbpf.c)
#  abuse (issue 11, fair under abuse):
#  14. what each attack costs bpfleetd (CPU, RSS growth, an operator's
#      node.info latency meanwhile): deeply nested lines, a client that never
#      reads, a 100,000-call batch, 3,200 stalled map watches, 5,000 stranger
#      connections, a half-closed slow reader; the built bpfleetd, and side
#      by side the one BENCH_ABUSE_BEFORE names; then the baseline rows
#      (node.info with 16 clients, a 1,000,000-entry snapshot against the
#      raw walk, 50 map watches), before and after alternately over 3
#      rounds (bench/abuse.py)
# Speed targets are read off the tables; the run fails only when something
# is wrong (a check, a crash), never because a number is slow.
# Knobs: BENCH_ONLY (issue2,tls,events,attach,fleet,upload,abuse: the parts to run; default all),
# BENCH_ENTRIES (1000000), BENCH_REPS (7), BENCH_RPC_CALLS (20000),
# BENCH_RPC_CLIENTS (16), BENCH_RPC_LOAD_CALLS (200000), BENCH_RPC_LOAD_REPS (3),
# BENCH_TLS_CONNECTIONS (500), BENCH_TLS_HOLD (1000), BENCH_EVENTS_COUNT
# (1000000), BENCH_EVENTS_SECONDS (5), BENCH_EVENTS_RATES (100000,200000),
# BENCH_EVENTS_REPS (3), BENCH_WATCH_CLIENTS (50), BENCH_WATCH_ENTRIES
# (10000), BENCH_WATCH_SECONDS (10), BENCH_ATTACH_REPS (40),
# BENCH_ATTACH_PERF_FREQUENCY (99), BENCH_SURVIVAL_PROBES (100),
# BENCH_SURVIVAL_REPS (5), BENCH_FLEET_NODES (200), BENCH_FLEET_REPS (3), BENCH_ABUSE_BEFORE (a bpfleetd
# to measure the abuse part against too; ABUSE_* knobs at the top of bench/abuse.py), BENCH_CONFIG (release; debug to skip the
# release build), BENCH_RESULTS=DIR (keep the raw result lines the tables are
# made from), BENCH_PERF=DIR (also profile, untimed, with perf: the server
# and the client over one more snapshot, the server under one more node.info
# load, the TLS server under TLS load, handshakes and 1,000 held
# connections, the events server and client under the fastest stream and at
# 100,000 records/s, the server under 50 map watches, and the attach server
# over 5 more runs of each target; top symbols into DIR), BENCH_SCRATCH=DIR (swift build --scratch-path DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

parts=${BENCH_ONLY:-issue2,tls,events,attach,fleet,upload,abuse}
entries=${BENCH_ENTRIES:-1000000}
reps=${BENCH_REPS:-7}
rpc_calls=${BENCH_RPC_CALLS:-20000}
rpc_clients=${BENCH_RPC_CLIENTS:-16}
rpc_load_calls=${BENCH_RPC_LOAD_CALLS:-200000}
rpc_load_reps=${BENCH_RPC_LOAD_REPS:-3}
tls_connections=${BENCH_TLS_CONNECTIONS:-500}
tls_hold=${BENCH_TLS_HOLD:-1000}
config=${BENCH_CONFIG:-release}
events_count=${BENCH_EVENTS_COUNT:-1000000}
events_seconds=${BENCH_EVENTS_SECONDS:-5}
events_rates=${BENCH_EVENTS_RATES:-100000,200000}
events_reps=${BENCH_EVENTS_REPS:-3}
watch_clients=${BENCH_WATCH_CLIENTS:-50}
watch_entries=${BENCH_WATCH_ENTRIES:-10000}
watch_seconds=${BENCH_WATCH_SECONDS:-10}
attach_reps=${BENCH_ATTACH_REPS:-40}
at_perf_frequency=${BENCH_ATTACH_PERF_FREQUENCY:-99}
survival_probes=${BENCH_SURVIVAL_PROBES:-100}
survival_reps=${BENCH_SURVIVAL_REPS:-5}
fleet_nodes=${BENCH_FLEET_NODES:-200}
fleet_reps=${BENCH_FLEET_REPS:-3}

for part in ${parts//,/ }; do
    case $part in
        issue2|tls|events|attach|fleet|upload|abuse) ;;
        *) echo "bench: BENCH_ONLY: unknown part '$part' (issue2, tls, events, attach, fleet, upload, abuse)" >&2; exit 2 ;;
    esac
done
want() { [[ ",$parts," == *",$1,"* ]]; }

work=$(mktemp -d /tmp/bpfleet-bench.XXXXXX)
pins=/sys/fs/bpf/bpfleet-bench-$$
tls_pins=/sys/fs/bpf/bpfleet-bench-tls-$$
ev_pins=/sys/fs/bpf/bpfleet-bench-events-$$
sock="$work/bpfleetd.sock"
ev_sock="$work/bpfleetd-events.sock"
server=""
tls_server=""
ev_server=""
ev_helpers=()  # the events part's generator, clients and churn, while they run
recorder=""
results="$work/results.txt"
results_tls="$work/results-tls.txt"
results_events="$work/results-events.txt"
results_attach="$work/results-attach.txt"
at_sock="$work/bpfleetd-attach.sock"
at_pins=/sys/fs/bpf/bpfleet-bench-attach-$$
at_c_pins=/sys/fs/bpf/bpfleet-bench-attach-c-$$
sv_pins=/sys/fs/bpf/bpfleet-bench-survival-$$
sv_empty_pins=/sys/fs/bpf/bpfleet-bench-survival-empty-$$
abuse_pins=/sys/fs/bpf/bpfleet-bench-abuse-$$  # bench/abuse.py's pin roots are $abuse_pins-LABEL-ATTACK
at_netns=bpfleet-bench-$$
at_if=bfb$$
at_cgroup=""
at_server=""
sv_server=""
cleanup() {
    [ -n "$recorder" ] && kill -INT "$recorder" 2>/dev/null || true
    if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
        python3 bench/rpc.py "$sock" probe.unload '{"probe":"big"}' >/dev/null 2>&1 || true
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    server=""
    if [ -n "$tls_server" ]; then
        kill "$tls_server" 2>/dev/null || true
        wait "$tls_server" 2>/dev/null || true
    fi
    tls_server=""
    local helper
    for helper in "${ev_helpers[@]}"; do
        kill "$helper" 2>/dev/null || true
    done
    ev_helpers=()
    if [ -n "$ev_server" ]; then
        kill "$ev_server" 2>/dev/null || true
        wait "$ev_server" 2>/dev/null || true
    fi
    ev_server=""
    # The attach part: its servers, then whatever the C side or a killed
    # server left pinned, the netns (the veth pair goes with it), the cgroup.
    local pid
    for pid in "$at_server" "$sv_server"; do
        if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    done
    at_server=""
    sv_server=""
    if [ -e "$work/survival.pid" ]; then kill -9 "$(cat "$work/survival.pid")" 2>/dev/null || true; fi
    rm -rf "$at_pins" "$at_c_pins" "$sv_pins" "$sv_empty_pins"
    ip netns del "$at_netns" 2>/dev/null || true
    if [ -n "$at_cgroup" ]; then rmdir "$at_cgroup" 2>/dev/null || true; fi
    rm -rf "$pins" "$tls_pins" "$ev_pins" /sys/fs/bpf/bpfleet-bench-fleet-$$-* "$abuse_pins"-* "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
note() { echo "bench: $*" >&2; }
record() { echo "$*" >>"$results"; }
record_tls() { echo "$*" >>"$results_tls"; }
record_events() { echo "$*" >>"$results_events"; }
record_attach() { echo "$*" >>"$results_attach"; }
top_symbols() {  # perf.data -> text
    perf report -i "$1" --no-children --stdio --sort dso,sym 2>/dev/null | awk '/^ +[0-9]/ && n++ < 40' || true
}

scripts/setup.sh
if want issue2 || want events || want attach || want fleet || want abuse; then make -s -C programs; fi

# --- builds ------------------------------------------------------------------
# The server and the client, release when it builds (fairer), else debug;
# the table says which. The client is being worked on: if neither build of
# it works, the end-to-end row is left out and says so.
# BENCH_SCRATCH=DIR builds in DIR (swift build --scratch-path): a clean
# export of a commit can reuse an earlier build's dependencies.
scratch=()
if [ -n "${BENCH_SCRATCH:-}" ]; then scratch=(--scratch-path "$BENCH_SCRATCH"); fi
build_product() {  # product -> prints the binary's path, or nothing
    local product=$1 c
    for c in $config debug; do
        if swift build -c "$c" "${scratch[@]}" --product "$product" >"$work/build-$product-$c.log" 2>&1; then
            echo "$(swift build -c "$c" "${scratch[@]}" --show-bin-path)/$product"
            record "config_$product $c"
            record_tls "config_$product $c"
            record_events "config_$product $c"
            record_attach "config_$product $c"
            return
        fi
        note "swift build -c $c --product $product failed (errors below)"
        { grep -m 5 "error:" "$work/build-$product-$c.log" || tail -5 "$work/build-$product-$c.log"; } >&2
    done
}
bpfleetd=$(build_product bpfleetd)
[ -n "$bpfleetd" ] || { note "bpfleetd does not build"; exit 1; }

bin="$work/bin"
mkdir -p "$bin"
cflags=(-O2 -Wall -Wextra -Wno-unused-parameter)
if want issue2; then
    gcc "${cflags[@]}" -o "$bin/fill_map" bench/fill_map.c -lbpf
    gcc "${cflags[@]}" -o "$bin/batch_lookup" bench/batch_lookup.c -lbpf
    gcc "${cflags[@]}" -o "$bin/rpc_call" bench/rpc_call.c
    gcc "${cflags[@]}" -pthread -o "$bin/rpc_load" bench/rpc_load.c
    gcc "${cflags[@]}" -o "$bin/jansson_encode" bench/jansson_encode.c -ljansson
fi
if want tls; then
    gcc "${cflags[@]}" -pthread -o "$bin/tls_load" bench/tls_load.c -lssl -lcrypto
    gcc "${cflags[@]}" -o "$bin/tls_connect" bench/tls_connect.c -lssl -lcrypto
    gcc "${cflags[@]}" -o "$bin/tls_hold" bench/tls_hold.c -lssl -lcrypto
fi
if want events; then
    gcc "${cflags[@]}" -o "$bin/syscall_gen" bench/syscall_gen.c
    gcc "${cflags[@]}" -o "$bin/events_read" bench/events_read.c
    gcc "${cflags[@]}" -o "$bin/watch_clients" bench/watch_clients.c
    gcc "${cflags[@]}" -o "$bin/churn_map" bench/churn_map.c -lbpf
    gcc "${cflags[@]}" -o "$bin/fill_map" bench/fill_map.c -lbpf
fi
if want attach; then
    gcc "${cflags[@]}" -o "$bin/attach_libbpf" bench/attach_libbpf.c -lbpf
    gcc "${cflags[@]}" -o "$bin/attach_rpc" bench/attach_rpc.c
fi

# === issue 2: the node server on its Unix socket =================================
issue2_bench() {
    bpfleet=$(build_product bpfleet)

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
}

# === issue 3: remote nodes, TLS on loopback TCP ====================================
# Certificates made with the openssl CLI, the route people are told to take:
# a CA, a server certificate for 127.0.0.1 (IP SAN, serverAuth) and a client
# certificate CN=bench (clientAuth), all P-256, valid for 30 days.
make_certificates() {  # dir
    local dir=$1 name
    mkdir -p "$dir"
    new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
    new_key "$dir/ca-key.pem"
    openssl req -x509 -new -key "$dir/ca-key.pem" -sha256 -days 30 -subj "/CN=bpfleet bench CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$dir/ca.pem"
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
        "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1" >"$dir/server.ext"
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
        "extendedKeyUsage=clientAuth" >"$dir/client.ext"
    for name in server:127.0.0.1 client:bench; do
        new_key "$dir/${name%%:*}-key.pem"
        openssl req -new -key "$dir/${name%%:*}-key.pem" -subj "/CN=${name#*:}" -out "$dir/${name%%:*}.csr"
        openssl x509 -req -in "$dir/${name%%:*}.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" -CAcreateserial \
            -sha256 -days 30 -extfile "$dir/${name%%:*}.ext" -out "$dir/${name%%:*}.pem" 2>/dev/null
    done
    openssl verify -CAfile "$dir/ca.pem" -purpose sslserver "$dir/server.pem" >/dev/null
    openssl verify -CAfile "$dir/ca.pem" -purpose sslclient "$dir/client.pem" >/dev/null
}

tls_bench() {
    local certs="$work/certs" tls_sock="$work/bpfleetd-tls.sock" port="" attempt round
    make_certificates "$certs"
    # node.info needs viewer: the bench's certificate gets no more than that.
    printf 'viewers:\n  commonNames: [bench]\n' >"$work/roles.yaml"
    local creds=(--ca "$certs/ca.pem" --cert "$certs/client.pem" --key "$certs/client-key.pem")

    # A loopback port the kernel says is free; if another process takes it
    # before bpfleetd binds, try again with the next (bounded).
    start_tls_server() {
        for attempt in 1 2 3 4 5; do
            port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
            rm -rf "$work/state-tls" "$tls_pins"
            "$bpfleetd" --listen "unix:$tls_sock" --listen "tcp://127.0.0.1:$port" \
                --tls-cert "$certs/server.pem" --tls-key "$certs/server-key.pem" --client-ca "$certs/ca.pem" \
                --roles "$work/roles.yaml" --state-dir "$work/state-tls" --pin-root "$tls_pins" \
                --max-connections-per-identity $((tls_hold * 2)) \
                >"$work/ready-tls" 2>"$work/bpfleetd-tls.log" &
            tls_server=$!
            for _ in $(seq 100); do
                grep -q "bpfleetd ready" "$work/ready-tls" 2>/dev/null && break
                kill -0 "$tls_server" 2>/dev/null || break
                sleep 0.1
            done
            grep -q "bpfleetd ready" "$work/ready-tls" && return
            wait "$tls_server" 2>/dev/null || true
            tls_server=""
            note "bpfleetd with TLS on port $port did not start (attempt $attempt): $(tail -1 "$work/bpfleetd-tls.log")"
        done
        exit 1
    }
    stop_tls_server() {
        kill "$tls_server"
        wait "$tls_server" 2>/dev/null || true
        tls_server=""
        rm -rf "$tls_pins"
    }
    tls_status_kb() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$tls_server/status"; }

    start_tls_server
    local tls_addr="tls://127.0.0.1:$port" unix_addr="unix:$tls_sock"
    sleep 2  # let start-up settle
    record_tls "tls_rss_idle_kb $(tls_status_kb VmRSS)"

    # --- 7. memory with 1,000 TLS connections open and idle (first, on the
    # fresh server, so that "none" is the server as it starts)
    "$bin/tls_hold" "${creds[@]}" "$tls_addr" "$tls_hold" "$tls_server" | sed 's/^/hold /' >>"$results_tls"
    note "$tls_hold TLS connections held and closed"

    # --- 6. connection setup, TLS and the Unix socket taken in turn
    "$bin/tls_connect" "${creds[@]}" "$tls_connections" "$tls_addr" "$unix_addr" | sed 's/^/setup /' >>"$results_tls"
    note "$tls_connections connections set up on each transport"

    # --- 5. node.info over TLS and the Unix socket, interleaved rounds; with
    # the server's CPU time (user + system) over each run
    local tick
    tick=$(getconf CLK_TCK)
    server_cpu_ms() { awk -v tick="$tick" '{ print int(($14 + $15) * 1000 / tick) }' "/proc/$tls_server/stat"; }
    load_run() {  # address clients calls
        local before line
        before=$(server_cpu_ms)
        line=$("$bin/tls_load" "${creds[@]}" "$@")
        record_tls "load $line server_cpu_ms=$(($(server_cpu_ms) - before))"
    }
    for round in $(seq "$rpc_load_reps"); do
        for addr in "$unix_addr" "$tls_addr"; do
            load_run "$addr" 1 "$rpc_calls"
        done
        for addr in "$tls_addr" "$unix_addr"; do
            load_run "$addr" "$rpc_clients" "$rpc_load_calls"
        done
        note "TLS / Unix-socket node.info round $round of $rpc_load_reps done"
    done
    record_tls "tls_rss_end_kb $(tls_status_kb VmRSS)"
    record_tls "tls_hwm_end_kb $(tls_status_kb VmHWM)"

    # --- profiles (BENCH_PERF=DIR; not part of the timings)
    if [ -n "${BENCH_PERF:-}" ] && command -v perf >/dev/null; then
        mkdir -p "$BENCH_PERF"
        profile_server() {  # name command... : perf on the TLS server while the command runs
            local name=$1
            shift
            perf record -q -g -o "$work/$name.data" -p "$tls_server" 2>/dev/null &
            recorder=$!
            sleep 0.5
            "$@" >/dev/null
            kill -INT "$recorder"; wait "$recorder" || true
            recorder=""
            top_symbols "$work/$name.data" >"$BENCH_PERF/$name.txt"
        }
        profile_server server-tls-nodeinfo "$bin/tls_load" "${creds[@]}" "$tls_addr" "$rpc_clients" $((rpc_load_calls / 4))
        profile_server server-unix-nodeinfo "$bin/tls_load" "$unix_addr" "$rpc_clients" $((rpc_load_calls / 4))
        profile_server server-tls-setup "$bin/tls_connect" "${creds[@]}" "$tls_connections" "$tls_addr"
        # 5 s with none open, the connections opened, 1 s settling, 5 s idle, closed
        profile_server server-tls-hold "$bin/tls_hold" "${creds[@]}" "$tls_addr" "$tls_hold" "$tls_server" 1
        note "perf profiles (top symbols) of the TLS server in $BENCH_PERF"
    fi
    stop_tls_server

    # --- 7'. the same hold over the Unix socket, on a fresh server: the part
    # of a connection's memory that is not TLS
    start_tls_server
    sleep 2
    "$bin/tls_hold" "$unix_addr" "$tls_hold" "$tls_server" | sed 's/^/hold /' >>"$results_tls"
    note "$tls_hold Unix-socket connections held and closed"
    stop_tls_server

    {
        echo "machine nproc=$(nproc) kernel=$(uname -r) cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo | tr ' ' '_')"
        echo "openssl $(openssl version | cut -d" " -f1-2 | tr ' ' '_')"
    } >>"$results_tls"
}

# === issue 4: live data (event streams, map watches) ================================
events_bench() {
    local ev_bpfleet ev_cli_form="" nr rate_object watch_object tick round rate
    ev_bpfleet=$(build_product bpfleet)
    tick=$(getconf CLK_TCK)

    "$bpfleetd" --listen "unix:$ev_sock" --state-dir "$work/state-events" --pin-root "$ev_pins" \
        >"$work/ready-events" 2>"$work/bpfleetd-events.log" &
    ev_server=$!
    for _ in $(seq 100); do grep -q "bpfleetd ready" "$work/ready-events" 2>/dev/null && break; sleep 0.1; done
    grep -q "bpfleetd ready" "$work/ready-events" || { cat "$work/bpfleetd-events.log" >&2; exit 1; }
    ev_cpu_ms() { awk -v tick="$tick" '{ print int(($14 + $15) * 1000 / tick) }' "/proc/$ev_server/stat"; }
    ev_status_kb() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$ev_server/status"; }
    ev_rpc() { python3 bench/rpc.py "$ev_sock" "$@"; }
    sleep 1
    record_events "ev_rss_idle_kb $(ev_status_kb VmRSS)"

    if [ -n "$ev_bpfleet" ]; then
        if "$ev_bpfleet" -n "unix:$ev_sock" node info >/dev/null 2>&1; then
            ev_cli_form=before
        elif "$ev_bpfleet" node info -n "unix:$ev_sock" >/dev/null 2>&1; then
            ev_cli_form=after
        else
            note "the bpfleet client cannot talk to the server: the events tail rows are left out"
            ev_bpfleet=""
        fi
    fi
    # --- 8. event throughput --------------------------------------------------------
    ev_rpc object.upload '{"data":"@programs/build/event_rate.bpf.o","name":"event_rate"}' >"$work/rate-object.json"
    rate_object=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["objectId"])' "$work/rate-object.json")
    nr=$("$bin/syscall_gen" --nr)

    # One run: a generator (waiting), the probe loaded for its pid and
    # attached, a subscriber, then COUNT records at RATE (0: as fast as the
    # generator goes). The subscriber is the CLI writing NDJSON to a file
    # or the bare C reader; PREFIX (perf record ...) runs before the CLI.
    event_run() {  # client(cli|c) rate count [perf-file-stem]
        local client=$1 rate=$2 count=$3 stem=${4:-} gen client_pid sub ready limit made_line got_line cpu0 cpu1
        local kernel_lost attempts client_cpu_ms size last_size still
        rm -f "$work"/gen.out "$work"/events.ndjson "$work"/ready-ev "$work"/reader.out "$work"/cli.pid "$work"/cli.time
        ready="$work/ready-ev"
        [ "$client" = cli ] && ready="$work/events.ndjson"
        "$bin/syscall_gen" "$count" "$rate" "$ready" >"$work/gen.out" 2>"$work/gen.err" &
        gen=$!
        ev_helpers+=("$gen")
        for _ in $(seq 100); do grep -q waiting "$work/gen.out" 2>/dev/null && break; sleep 0.1; done
        grep -q waiting "$work/gen.out" || { cat "$work/gen.err" >&2; exit 1; }
        ev_rpc probe.load "{\"name\":\"rate\",\"objectId\":\"$rate_object\",\"programs\":[\"rate_ringbuf\"],\"globals\":{\"target_tgid\":$gen,\"target_nr\":$nr}}" >/dev/null
        ev_rpc probe.attach '{"probe":"rate","program":"rate_ringbuf","target":{"type":"auto"}}' >/dev/null
        # A bound on the subscriber: the burst's time at the pace asked, or
        # 1 µs a record, plus 20 s.
        limit=$(python3 -c "import sys; c, r = int(sys.argv[1]), float(sys.argv[2]); print(int((c / r if r else c / 1e6) + 20))" "$count" "$rate")
        if [ -n "$stem" ]; then
            perf record -q -g -o "$work/$stem-server.data" -p "$ev_server" 2>/dev/null &
            recorder=$!
            sleep 0.5
        fi
        cpu0=$(ev_cpu_ms)
        if [ "$client" = cli ]; then
            local prefix=()
            [ -n "$stem" ] && prefix=(perf record -q -g -o "$work/$stem-client.data" --)
            local command=("$ev_bpfleet" events tail rate rate_events --record-type "struct flood_record"
                           -o ndjson --count "$count" --duration "${limit}s")
            if [ "$ev_cli_form" = before ]; then command=("$ev_bpfleet" -n "unix:$ev_sock" "${command[@]:1}"); else command+=(-n "unix:$ev_sock"); fi
            # `time wait` in the subshell: the CLI's own user and system time.
            (
                TIMEFORMAT='cli_time %R %U %S'
                "${prefix[@]}" "${command[@]}" >"$work/events.ndjson" 2>"$work/cli.err" &
                echo $! >"$work/cli.pid"
                time wait $!
            ) 2>"$work/cli.time" &
            sub=$!
            for _ in $(seq 100); do [ -s "$work/cli.pid" ] && break; sleep 0.05; done
            client_pid=$(cat "$work/cli.pid")
        else
            "$bin/events_read" "$ev_sock" rate rate_events "$count" "$ready" >"$work/reader.out" 2>"$work/reader.err" &
            sub=$!
            client_pid=$sub
        fi
        ev_helpers+=("$client_pid")
        kill -USR1 "$gen"
        wait "$gen" || { note "syscall_gen failed: $(cat "$work/gen.err")"; exit 1; }
        made_line=$(grep '^made=' "$work/gen.out")
        # The subscriber ends by itself (count reached; the C reader also
        # after 3 s idle). A CLI that lost records waits for its count: it
        # is stopped (SIGINT) once its file has not grown for 3 s. Bounded.
        last_size=-1
        still=0
        for _ in $(seq $((limit * 10))); do
            kill -0 "$client_pid" 2>/dev/null || break
            if [ "$client" = cli ]; then
                size=$(stat -c %s "$work/events.ndjson")
                if [ "$size" = "$last_size" ]; then still=$((still + 1)); else still=0; fi
                last_size=$size
                if [ "$still" -ge 30 ]; then kill -INT "$client_pid" 2>/dev/null || true; still=-1000; fi
            fi
            sleep 0.1
        done
        kill -INT "$client_pid" 2>/dev/null || true
        wait "$sub" 2>/dev/null || true
        ev_helpers=()
        cpu1=$(ev_cpu_ms)
        if [ -n "$stem" ]; then
            kill -INT "$recorder"; wait "$recorder" || true
            recorder=""
        fi
        kernel_lost=$(ev_rpc map.lookup '{"map":{"probe":"rate","name":"lost"},"key":0}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["value"])')
        attempts=$(ev_rpc map.lookup '{"map":{"probe":"rate","name":"attempts"},"key":0}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["value"])')
        ev_rpc probe.unload '{"probe":"rate"}' >/dev/null
        if [ "$client" = cli ]; then
            got_line=$(python3 bench/check_events.py "$work/events.ndjson") || { note "bad CLI output"; head -3 "$work/events.ndjson" >&2; exit 1; }
            client_cpu_ms=$(awk '/^cli_time/ { printf "%d", ($3 + $4) * 1000 }' "$work/cli.time")
            got_line="$got_line cpu_ms=${client_cpu_ms:-0} bytes=$(stat -c %s "$work/events.ndjson")"
            [ -s "$work/cli.err" ] && note "bpfleet events tail said: $(head -3 "$work/cli.err")"
        else
            got_line=$(cat "$work/reader.out")
            [ -n "$got_line" ] || { note "events_read failed: $(cat "$work/reader.err")"; exit 1; }
        fi
        # Profiled runs (a perf file stem) are not part of the table.
        [ -n "$stem" ] || record_events "ev client=$client pace=$rate $made_line $got_line kernel_lost=$kernel_lost attempts=$attempts server_cpu_ms=$((cpu1 - cpu0))"
        rm -f "$work/events.ndjson"
    }

    local clients=(c)
    [ -n "$ev_bpfleet" ] && clients=(cli c)
    for round in $(seq "$events_reps"); do
        for client in "${clients[@]}"; do
            event_run "$client" 0 "$events_count"
        done
        for rate in ${events_rates//,/ }; do
            for client in "${clients[@]}"; do
                event_run "$client" "$rate" $((rate * events_seconds))
            done
        done
        note "event stream round $round of $events_reps done"
    done
    record_events "ev_hwm_kb $(ev_status_kb VmHWM)"

    # --- 9. map watches -------------------------------------------------------------
    ev_rpc object.upload '{"data":"@programs/build/big_hash.bpf.o","name":"big_hash"}' >"$work/watch-object.json"
    watch_object=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["objectId"])' "$work/watch-object.json")
    ev_rpc probe.load "{\"name\":\"watch\",\"objectId\":\"$watch_object\"}" >/dev/null
    local watch_pin="$ev_pins/watch/maps/big" settle=2 churn
    [ -e "$watch_pin" ] || { note "no pin at $watch_pin"; ls -R "$ev_pins" >&2; exit 1; }
    note "watch map: $("$bin/fill_map" "$watch_pin" "$watch_entries")"
    local changes=$((watch_entries / 100))
    watch_run() {  # label churn(0|1) MODE:N...
        local label=$1 with_churn=$2
        shift 2
        if [ "$with_churn" = 1 ]; then
            "$bin/churn_map" "$watch_pin" "$watch_entries" "$changes" 100 $((watch_seconds + settle + 5)) >"$work/churn.out" &
            churn=$!
            ev_helpers+=("$churn")
        fi
        "$bin/watch_clients" "$ev_sock" "$ev_server" watch big 100 "$settle" "$watch_seconds" "$@" | sed "s/^/$label /" >>"$results_events"
        if [ "$with_churn" = 1 ]; then
            kill "$churn" 2>/dev/null || true
            wait "$churn" 2>/dev/null || true
            ev_helpers=()
        fi
        note "map watch run $label ($*) done"
    }
    record_events "watch_entries $watch_entries"
    record_events "watch_changes $changes"
    watch_run watch_full 0 "full:$watch_clients"
    watch_run watch_delta 1 "delta:$watch_clients"
    watch_run watch_bytes 1 full:1 delta:1
    record_events "ev_hwm_end_kb $(ev_status_kb VmHWM)"

    # --- profiles (BENCH_PERF=DIR; not part of the timings) -------------------------
    if [ -n "${BENCH_PERF:-}" ] && command -v perf >/dev/null; then
        mkdir -p "$BENCH_PERF"
        perf record -q -g -o "$work/server-watch.data" -p "$ev_server" 2>/dev/null &
        recorder=$!
        sleep 0.5
        "$bin/watch_clients" "$ev_sock" "$ev_server" watch big 100 1 5 "full:$watch_clients" >/dev/null
        kill -INT "$recorder"; wait "$recorder" || true
        recorder=""
        top_symbols "$work/server-watch.data" >"$BENCH_PERF/server-watch.txt"
        ev_rpc probe.unload '{"probe":"watch"}' >/dev/null
        event_run c 0 "$events_count" events-c
        top_symbols "$work/events-c-server.data" >"$BENCH_PERF/server-events-c.txt"
        event_run c 100000 $((100000 * events_seconds)) events-paced
        top_symbols "$work/events-paced-server.data" >"$BENCH_PERF/server-events-paced.txt"
        if [ -n "$ev_bpfleet" ]; then
            event_run cli 0 "$events_count" events-cli
            top_symbols "$work/events-cli-server.data" >"$BENCH_PERF/server-events-cli.txt"
            top_symbols "$work/events-cli-client.data" >"$BENCH_PERF/client-events-cli.txt"
        fi
        note "perf profiles (top symbols) of the events server and client in $BENCH_PERF"
    else
        ev_rpc probe.unload '{"probe":"watch"}' >/dev/null
    fi

    kill "$ev_server"
    wait "$ev_server" 2>/dev/null || true
    ev_server=""
    rm -rf "$ev_pins"
    {
        echo "machine nproc=$(nproc) kernel=$(uname -r) cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo | tr ' ' '_')"
        echo "max_queued_events 65536"
    } >>"$results_events"
}

# === issue 5: hook points and survival =============================================
# 10. load + attach through bpfleetd against plain libbpf, per target type,
#     interleaved; 11. start-up with 100 probes to adopt, to restore, and none.
attach_bench() {
    local target rep side name
    record_attach "loadavg_start $(cut -d' ' -f1-3 /proc/loadavg)"
    # The network targets need an interface: a veth pair whose host end is
    # in bpfleetd's namespace and whose peer is in a namespace of its own,
    # both removed (with the netns) by the trap. The cgroup target a cgroup
    # directory of its own; the uprobe a small binary with one function.
    ip netns add "$at_netns"
    ip link add "$at_if" type veth peer name "${at_if}p" netns "$at_netns"
    ip link set "$at_if" up
    ip -n "$at_netns" link set "${at_if}p" up
    local cgroup_root
    cgroup_root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
    [ -n "$cgroup_root" ] || { note "no cgroup2 filesystem is mounted"; exit 1; }
    at_cgroup="$cgroup_root/bpfleet-bench-$$"
    mkdir "$at_cgroup"
    printf '%s\n' '#include <stdio.h>' '__attribute__((noinline)) int bpfleet_bench_target(int x) { return x * 3 + 1; }' \
        'int main(int argc, char **argv) { printf("%d\n", bpfleet_bench_target(argc)); return 0; }' >"$work/uprobe_target.c"
    gcc -O1 -o "$bin/uprobe_target" "$work/uprobe_target.c"

    "$bpfleetd" --listen "unix:$at_sock" --state-dir "$work/state-attach" --pin-root "$at_pins" \
        >"$work/ready-attach" 2>"$work/bpfleetd-attach.log" &
    at_server=$!
    for _ in $(seq 100); do grep -q "bpfleetd ready" "$work/ready-attach" 2>/dev/null && break; sleep 0.1; done
    grep -q "bpfleetd ready" "$work/ready-attach" || { cat "$work/bpfleetd-attach.log" >&2; exit 1; }
    mkdir -p "$at_c_pins"

    # target name | object | program | bpfleetd target JSON | attach_libbpf target arguments
    local targets=(
        "tracepoint|exec_count|count_exec|{\"type\":\"tracepoint\",\"category\":\"sched\",\"name\":\"sched_process_exec\"}|tracepoint sched sched_process_exec"
        "raw_tracepoint|syscall_count|count_syscall|{\"type\":\"raw_tracepoint\",\"name\":\"sys_enter\"}|raw_tracepoint sys_enter"
        "tp_btf|tp_btf_count|count_exec_btf|{\"type\":\"tp_btf\"}|tp_btf"
        "uprobe|uprobe_count|count_call|{\"type\":\"uprobe\",\"binary\":\"$bin/uprobe_target\",\"symbol\":\"bpfleet_bench_target\"}|uprobe $bin/uprobe_target bpfleet_bench_target"
        "xdp|xdp_count|count_xdp|{\"type\":\"xdp\",\"interface\":\"$at_if\"}|xdp $at_if"
        "tc|tc_count|count_tc_ingress|{\"type\":\"tc\",\"interface\":\"$at_if\",\"direction\":\"ingress\"}|tc $at_if ingress"
        "cgroup|cgroup_count|count_egress|{\"type\":\"cgroup\",\"path\":\"$at_cgroup\",\"attachType\":\"egress\"}|cgroup $at_cgroup egress"
        "perf_event|perf_count|count_sample|{\"type\":\"perf_event\",\"event\":\"cpu-clock\",\"frequency\":$at_perf_frequency}|perf_event $at_perf_frequency"
    )
    local entry object program json args object_id profiled=() i
    # Every object uploaded first (untimed).
    local -a at_target=() at_object=() at_program=() at_args=() at_load=() at_attach=() at_one=()
    for entry in "${targets[@]}"; do
        IFS='|' read -r target object program json args <<<"$entry"
        object_id=$(python3 bench/rpc.py "$at_sock" object.upload "{\"data\":\"@programs/build/$object.bpf.o\",\"name\":\"$object\"}" |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["objectId"])')
        name="attach-$target"
        at_target+=("$target"); at_object+=("$object"); at_program+=("$program"); at_args+=("$args")
        at_load+=("{\"name\":\"$name\",\"objectId\":\"$object_id\",\"programs\":[\"$program\"]}")
        at_attach+=("{\"probe\":\"$name\",\"program\":\"$program\",\"target\":$json}")
        at_one+=("{\"name\":\"$name\",\"objectId\":\"$object_id\",\"programs\":[\"$program\"],\"attach\":[{\"program\":\"$program\",\"target\":$json}]}")
        profiled+=("$name"$'\t'"${at_load[-1]}"$'\t'"${at_attach[-1]}")
    done
    # A round visits every target, so a burst of noise from the rest of the
    # machine (seconds long on this VM) spreads over the targets instead of
    # landing on one row. Within a target, one run of each side, the order
    # rotated every round: bpfleetd in two requests (probe.load, then
    # probe.attach), bpfleetd in one (probe.load with `attach`), libbpf
    # warmed up in its process (as a daemon is), libbpf cold.
    local orders=("bpfleetd bpfleetd-one libbpf libbpf-cold" "bpfleetd-one libbpf libbpf-cold bpfleetd"
                  "libbpf libbpf-cold bpfleetd bpfleetd-one" "libbpf-cold bpfleetd bpfleetd-one libbpf")
    for rep in $(seq "$attach_reps"); do
        for i in "${!at_target[@]}"; do
            target=${at_target[$i]} object=${at_object[$i]} program=${at_program[$i]} args=${at_args[$i]}
            name="attach-$target"
            for side in ${orders[$(((rep + i) % 4))]}; do
                case $side in
                    bpfleetd) record_attach "attach $target bpfleetd $("$bin/attach_rpc" "$at_sock" "${at_load[$i]}" "${at_attach[$i]}" "{\"probe\":\"$name\"}")" ;;
                    bpfleetd-one) record_attach "attach $target bpfleetd-one $("$bin/attach_rpc" --one "$at_sock" "${at_one[$i]}" "{\"probe\":\"$name\"}")" ;;
                    # shellcheck disable=SC2086
                    libbpf) record_attach "attach $target libbpf $("$bin/attach_libbpf" --warm "programs/build/$object.bpf.o" "$program" "$at_c_pins/$name" $args)" ;;
                    # shellcheck disable=SC2086
                    libbpf-cold) record_attach "attach $target libbpf-cold $("$bin/attach_libbpf" "programs/build/$object.bpf.o" "$program" "$at_c_pins/$name" $args)" ;;
                esac
            done
        done
        if [ $((rep % 10)) -eq 0 ]; then note "attach: $rep of $attach_reps rounds done"; fi
    done
    # BENCH_PERF=DIR: the server over 5 more bpfleetd runs of each target, untimed.
    if [ -n "${BENCH_PERF:-}" ] && command -v perf >/dev/null; then
        mkdir -p "$BENCH_PERF"
        perf record -q -g -o "$work/server-attach.data" -p "$at_server" 2>/dev/null &
        recorder=$!
        sleep 0.5
        for entry in "${profiled[@]}"; do
            IFS=$'\t' read -r name load attach <<<"$entry"
            for rep in 1 2 3 4 5; do "$bin/attach_rpc" "$at_sock" "$load" "$attach" "{\"probe\":\"$name\"}" >/dev/null; done
        done
        kill -INT "$recorder"; wait "$recorder" || true
        recorder=""
        top_symbols "$work/server-attach.data" >"$BENCH_PERF/server-attach.txt"
        note "perf profile (top symbols) of the attach server in $BENCH_PERF"
    fi
    # Nothing of either side may be left in the kernel.
    if [ -n "$(ls -A "$at_pins" 2>/dev/null)" ] || [ -n "$(ls -A "$at_c_pins")" ]; then
        note "pins left after the attach runs:"; ls -R "$at_pins" "$at_c_pins" >&2; exit 1
    fi
    kill "$at_server"
    wait "$at_server" 2>/dev/null || true
    at_server=""

    # --- 11. start-up: none, adoption of N probes, restore of N probes ------------
    # Each start is timed by survival.py from just before the exec to the
    # first probe.list reply listing every probe as adopted (or restored)
    # and running; the server is then killed with SIGKILL (as a crash).
    local sv_sock="$work/bpfleetd-survival.sock" sv_state="$work/state-survival" empty_state="$work/state-empty"
    local sv_args=(--listen "unix:$sv_sock" --state-dir "$sv_state" --pin-root "$sv_pins")
    local empty_args=(--listen "unix:$sv_sock" --state-dir "$empty_state" --pin-root "$sv_empty_pins")
    sv_start() {  # origin count args... : one timed start, then kill -9
        local origin=$1 count=$2 line
        shift 2
        line=$(python3 bench/survival.py start "$sv_sock" "$origin" "$count" "$work/survival.pid" -- "$bpfleetd" "$@")
        sv_server=$(cat "$work/survival.pid")
        kill -9 "$sv_server"
        while kill -0 "$sv_server" 2>/dev/null; do sleep 0.01; done
        sv_server=""
        echo "$line"
    }
    sv_start none 0 "${sv_args[@]}" >/dev/null  # the state directory, empty
    "$bpfleetd" "${sv_args[@]}" >"$work/ready-survival" 2>"$work/bpfleetd-survival.log" &
    sv_server=$!
    for _ in $(seq 100); do grep -q "bpfleetd ready" "$work/ready-survival" 2>/dev/null && break; sleep 0.1; done
    object_id=$(python3 bench/rpc.py "$sv_sock" object.upload '{"data":"@programs/build/syscall_count.bpf.o","name":"syscall_count"}' |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["objectId"])')
    local began=$EPOCHREALTIME
    python3 bench/survival.py load "$sv_sock" "$object_id" count_syscall sys_enter "$survival_probes" sv-
    record_attach "survival_load_ms $(python3 -c "import sys; print(f'{(float(sys.argv[2]) - float(sys.argv[1])) * 1e3:.0f}')" "$began" "$EPOCHREALTIME")"
    kill -9 "$sv_server"
    wait "$sv_server" 2>/dev/null || true
    sv_server=""
    for rep in $(seq "$survival_reps"); do
        record_attach "start_none $(sv_start none 0 "${empty_args[@]}")"
        record_attach "start_adopt $(sv_start adopted "$survival_probes" "${sv_args[@]}")"
        rm -rf "${sv_pins:?}"/*
        record_attach "start_restore $(sv_start restored "$survival_probes" "${sv_args[@]}")"
        note "start-up round $rep of $survival_reps done"
    done
    # The last start restored them all: unload every probe.
    "$bpfleetd" "${sv_args[@]}" >"$work/ready-survival" 2>>"$work/bpfleetd-survival.log" &
    sv_server=$!
    for _ in $(seq 300); do grep -q "bpfleetd ready" "$work/ready-survival" 2>/dev/null && break; sleep 0.1; done
    python3 - "$sv_sock" "$survival_probes" <<'PY'
import socket, sys, json
with socket.socket(socket.AF_UNIX) as s:
    s.connect(sys.argv[1]); r = s.makefile("rb")
    for i in range(int(sys.argv[2])):
        s.sendall(json.dumps({"jsonrpc": "2.0", "id": i, "method": "probe.unload", "params": {"probe": f"sv-{i:03d}"}}).encode() + b"\n")
        reply = json.loads(r.readline())
        if "error" in reply: raise SystemExit(f"probe.unload sv-{i:03d}: {reply['error']}")
PY
    kill "$sv_server"
    wait "$sv_server" 2>/dev/null || true
    sv_server=""
    [ -z "$(ls -A "$sv_pins" 2>/dev/null)" ] || { note "pins left after the survival runs"; ls "$sv_pins" >&2; exit 1; }
    {
        echo "machine nproc=$(nproc) kernel=$(uname -r) cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo | tr ' ' '_') libbpf=$(pkg-config --modversion libbpf 2>/dev/null || echo unknown)"
        echo "loadavg_end $(cut -d' ' -f1-3 /proc/loadavg)"
        echo "attach_reps $attach_reps"
        echo "survival_probes $survival_probes"
        echo "survival_reps $survival_reps"
    } >>"$results_attach"
}

if want issue2; then issue2_bench; fi
if want tls; then tls_bench; fi
if want events; then events_bench; fi
if want attach; then attach_bench; fi
if want fleet; then
    fl_bpfleet=$(build_product bpfleet)
    [ -n "$fl_bpfleet" ] || { note "bpfleet does not build"; exit 1; }
    {
        echo "machine nproc=$(nproc) kernel=$(uname -r) cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo | tr ' ' '_')"
        echo "loadavg_start $(cut -d' ' -f1-3 /proc/loadavg)"
    } >>"$work/results-fleet.txt"
    python3 bench/fleet.py "$bpfleetd" "$fl_bpfleet" "$PWD/programs/build/exec_count_raw.bpf.o" "$fleet_nodes" "$fleet_reps" \
        "$work/fleet" "/sys/fs/bpf/bpfleet-bench-fleet-$$-" "$work/results-fleet.txt" >"$work/fleet-table.txt"
    echo "loadavg_end $(cut -d' ' -f1-3 /proc/loadavg)" >>"$work/results-fleet.txt"
fi
if want upload; then
    echo "machine nproc=$(nproc) kernel=$(uname -r) loadavg_start $(cut -d' ' -f1-3 /proc/loadavg)" >"$work/upload-table.txt"
    python3 bench/upload.py "$bpfleetd" "$PWD/programs" "$work" "${BENCH_UPLOAD_ROUNDS:-40}" >>"$work/upload-table.txt"
fi
if want abuse; then
    # Prints its own machine line; the raw figures go to $work/abuse-results.txt.
    ABUSE_PIN_PREFIX="$abuse_pins" python3 bench/abuse.py "$bpfleetd" "${BENCH_ABUSE_BEFORE:--}" "$PWD/programs" "$work" >"$work/abuse-table.txt"
fi

# --- the tables -------------------------------------------------------------------
# BENCH_RESULTS=DIR keeps the raw result lines the tables are made from.
if [ -n "${BENCH_RESULTS:-}" ]; then
    mkdir -p "$BENCH_RESULTS"
    for file in "$results" "$results_tls" "$results_events" "$results_attach" "$work/results-fleet.txt" "$work/abuse-results.txt"; do
        if [ -e "$file" ]; then cp "$file" "$BENCH_RESULTS/"; fi
    done
fi
if want issue2; then python3 bench/report.py "$results"; fi
if want tls; then python3 bench/report_tls.py "$results_tls"; fi
if want events; then python3 bench/report_events.py "$results_events"; fi
if want attach; then python3 bench/report_attach.py "$results_attach"; fi
if want fleet; then grep -v '^fleet ' "$work/results-fleet.txt"; cat "$work/fleet-table.txt"; fi
if want upload; then cat "$work/upload-table.txt"; fi
if want abuse; then cat "$work/abuse-table.txt"; fi
