#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer targets (docs/fuzzing.md) with the
# fuzzer and address sanitizers, runs each for FUZZ_SECONDS (default 60),
# keeps every input that crashed as a regression seed under Tests/FuzzSeeds/
# (replayed by `make test`), and prints executions per target.
#
#   FUZZ_SECONDS=600 make fuzz            # ten minutes per target
#   FUZZ_TARGETS="jsonrpc values" make fuzz
#   FUZZ_BUILD=0 make fuzz                # run what is built, build nothing
#
# The working corpus (what libFuzzer found interesting) grows under
# .build-fuzz/corpus/<target>/ and is kept between runs, out of git.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-"jsonrpc manifest roles policy values btf object usdt symbols"}
# A crash stops libFuzzer; the script starts it again for the time left,
# keeping the first input per crash site. After this many distinct sites
# (or 30 restarts) a target stops for this run.
max_crashes=${FUZZ_MAX_CRASHES:-3}
scratch=.build-fuzz
seeds=Tests/FuzzSeeds

# The longest input per target: a request line, a manifest or roles file,
# a type and its value, a .BTF section, an object.
max_len() {
    case $1 in
        jsonrpc | manifest | policy) echo 4096 ;;
        roles) echo 2048 ;;
        values) echo 1024 ;;
        btf) echo 8192 ;;
        object | usdt | symbols) echo 32768 ;;
    esac
}

# The fuzz executables exist only with BPFLEET_FUZZ=1 (Package.swift), in
# their own scratch path: every module, dependencies included, is built
# with coverage for libFuzzer and the address sanitizer.
build() {
    for target in $targets; do
        echo "fuzz: building fuzz-$target"
        BPFLEET_FUZZ=1 swift build -c release --scratch-path "$scratch" \
            -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address \
            --product "fuzz-$target" 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\]|Cannot export local symbol' || true
        [ -x "$scratch/release/fuzz-$target" ] || { echo "fuzz: fuzz-$target did not build" >&2; exit 1; }
    done
}

# Where a crash happened: the first frame of its stack in bpfleet's own
# sources or in libbpf, else the first that is neither the sanitizers',
# libFuzzer's, the C library's nor the Swift runtime's; demangled.
crash_frame() {
    local frames
    frames=$(sed -n '/==ERROR\|Fatal error\|deadly signal/,$p' "$1" | grep -E '^ *#[0-9]+ 0x[0-9a-f]+ ' \
        | grep -Ev 'Sources/Fuzz/|Fuzzing/|fuzzer::' | sed -E 's/^ *#[0-9]+ 0x[0-9a-f]+ +(in )?//; s/ \(BuildId: [0-9a-f]+\)//' \
        | swift-demangle --simplified)
    { grep -E '/Sources/|libbpf' <<<"$frames" || grep -Ev '__sanitizer|__asan|__interceptor|libclang_rt|libc\.so|__libc|abort|raise|gsignal|libswiftCore|swift_|compiler-generated' <<<"$frames" || true; } \
        | head -1 | sed -E 's|^(.*) /.*/([^/]+:[0-9]+)(:[0-9]+)?$|\1 (\2)|'
}

run() {
    local target=$1 binary=$scratch/release/fuzz-$1
    local corpus=$scratch/corpus/$target artifacts=$scratch/artifacts/$target logs=$scratch/logs/$target
    mkdir -p "$corpus" "$artifacts" "$logs"
    cp -n "$seeds/$target"/* "$corpus"/ 2>/dev/null || true
    local executions=0 crashes=0 round=0 left=$seconds features="" started sites=""
    started=$(date +%s)
    while [ "$left" -gt 0 ] && [ "$crashes" -lt "$max_crashes" ] && [ "$round" -lt 30 ]; do
        round=$((round + 1))
        local log=$logs/run-$round.log status=0
        "$binary" -max_total_time="$left" -max_len="$(max_len "$target")" -rss_limit_mb=2048 -timeout=10 \
            -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1 || status=$?
        executions=$((executions + $(grep -oE 'number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)))
        features=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -1 || true)
        left=$((seconds - ($(date +%s) - started)))
        [ "$status" -eq 0 ] && break
        local unit
        unit=$(grep -oE 'Test unit written to [^ ]+' "$log" | tail -1 | sed 's/Test unit written to //' || true)
        [ -n "$unit" ] && [ -f "$unit" ] || { echo "fuzz: $target stopped (status $status) with no input saved; see $log" >&2; break; }
        local frame kept
        frame=$(crash_frame "$log")
        # The same site again (libbpf's crashes in the object target come
        # back every few seconds): already kept this run.
        if grep -qxF -- "${frame:-?}" <<<"$sites"; then
            echo "fuzz: $target: again in ${frame:-?} ($(basename "$unit"), not kept)"
            continue
        fi
        sites+="${frame:-?}"$'\n'
        crashes=$((crashes + 1))
        # A crash inside libbpf is libbpf's: kept apart, not replayed in
        # process (docs/fuzzing.md).
        if [[ "$frame" == *libbpf* ]]; then
            kept=$seeds/$target-libbpf-crashes
        else
            kept=$seeds/$target
        fi
        mkdir -p "$kept"
        cp "$unit" "$kept/"
        echo "fuzz: $target: $(basename "$unit") in ${frame:-?} -> $kept/ (log $log)"
    done
    local elapsed=$(($(date +%s) - started))
    printf 'fuzz: %-9s %6ss %12s executions  %s  crash sites %s, restarts %s\n' "$target" "$elapsed" "$executions" "${features:-}" "$crashes" "$((round - 1))" \
        | tee -a "$scratch/summary.txt"
}

[ "${FUZZ_BUILD:-1}" = 0 ] || { scripts/setup.sh; build; }
echo "fuzz: $(date -u +%FT%TZ) ${seconds}s per target" >>"$scratch/summary.txt"
for target in $targets; do
    run "$target"
done
