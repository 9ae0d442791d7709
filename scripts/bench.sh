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
# Speed targets are read off the tables; the run fails only when something
# is wrong (a check, a crash), never because a number is slow.
# Knobs: BENCH_ONLY (issue2,tls: the parts to run; default both),
# BENCH_ENTRIES (1000000), BENCH_REPS (7), BENCH_RPC_CALLS (20000),
# BENCH_RPC_CLIENTS (16), BENCH_RPC_LOAD_CALLS (200000), BENCH_RPC_LOAD_REPS (3),
# BENCH_TLS_CONNECTIONS (500), BENCH_TLS_HOLD (1000),
# BENCH_CONFIG (release; debug to skip the release build), BENCH_PERF=DIR
# (also profile, untimed, with perf: the server and the client over one more
# snapshot, the server under one more node.info load, and the TLS server
# under TLS load, handshakes and 1,000 held connections; top symbols into DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

parts=${BENCH_ONLY:-issue2,tls}
entries=${BENCH_ENTRIES:-1000000}
reps=${BENCH_REPS:-7}
rpc_calls=${BENCH_RPC_CALLS:-20000}
rpc_clients=${BENCH_RPC_CLIENTS:-16}
rpc_load_calls=${BENCH_RPC_LOAD_CALLS:-200000}
rpc_load_reps=${BENCH_RPC_LOAD_REPS:-3}
tls_connections=${BENCH_TLS_CONNECTIONS:-500}
tls_hold=${BENCH_TLS_HOLD:-1000}
config=${BENCH_CONFIG:-release}

for part in ${parts//,/ }; do
    case $part in
        issue2|tls) ;;
        *) echo "bench: BENCH_ONLY: unknown part '$part' (issue2, tls)" >&2; exit 2 ;;
    esac
done
want() { [[ ",$parts," == *",$1,"* ]]; }

work=$(mktemp -d /tmp/bpfleet-bench.XXXXXX)
pins=/sys/fs/bpf/bpfleet-bench-$$
tls_pins=/sys/fs/bpf/bpfleet-bench-tls-$$
sock="$work/bpfleetd.sock"
server=""
tls_server=""
recorder=""
results="$work/results.txt"
results_tls="$work/results-tls.txt"
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
    rm -rf "$pins" "$tls_pins" "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
note() { echo "bench: $*" >&2; }
record() { echo "$*" >>"$results"; }
record_tls() { echo "$*" >>"$results_tls"; }
top_symbols() {  # perf.data -> text
    perf report -i "$1" --no-children --stdio --sort dso,sym 2>/dev/null | awk '/^ +[0-9]/ && n++ < 40' || true
}

scripts/setup.sh
if want issue2; then make -s -C programs; fi

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
            record_tls "config_$product $c"
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

if want issue2; then issue2_bench; fi
if want tls; then tls_bench; fi

# --- the tables -------------------------------------------------------------------
if want issue2; then python3 bench/report.py "$results"; fi
if want tls; then python3 bench/report_tls.py "$results_tls"; fi
