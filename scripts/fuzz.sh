#!/usr/bin/env bash
# fuzz.sh — runs every fuzz target of a DE_FUZZ build (libFuzzer, ASan + UBSan) for a
# bounded time each, one after the other, and prints one row per target: executions,
# coverage, corpus, and what it found. tests/fuzz/README.md explains the targets.
#
#   scripts/fuzz.sh BUILD SECONDS [TARGET...]      (make fuzz FUZZ_SECONDS=60)
#
# Each target starts from its seeds in tests/fuzz/NAME/ and from what earlier runs found
# (BUILD/fuzz-corpus/NAME/, kept between runs, never in git). A crash, a leak, a timeout
# (DE_FUZZ_TIMEOUT s, default 10) or an input that needs more than DE_FUZZ_RSS_MB (default
# 2048) is written to BUILD/fuzz-found/NAME/ and makes the script exit 1; the message says
# how to replay it. Once fixed, copy the input into tests/fuzz/NAME/: the corpus replay
# of every build (ctest fuzz_NAME) keeps it from coming back.
set -u
if [ $# -lt 2 ]; then
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
BUILD=$1
SECONDS_EACH=$2
shift 2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TIMEOUT=${DE_FUZZ_TIMEOUT:-10}
RSS=${DE_FUZZ_RSS_MB:-2048}
if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for d in "$ROOT"/tests/fuzz/*/; do targets+=("$(basename "$d")"); done
fi

found=0
printf '%-12s %10s %8s %6s %7s %8s  %s\n' target executions exec/s cov corpus rss_mb result
for t in "${targets[@]}"; do
    bin="$BUILD/fuzz_$t"
    if [ ! -x "$bin" ]; then
        echo "fuzz.sh: $bin is missing (build $BUILD with -DDE_FUZZ=ON)" >&2
        exit 2
    fi
    corpus="$BUILD/fuzz-corpus/$t"
    out="$BUILD/fuzz-found/$t"
    log="$BUILD/fuzz-logs/$t.log"
    mkdir -p "$corpus" "$out" "$(dirname "$log")"
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    LSAN_OPTIONS=suppressions="$ROOT/tests/lsan.supp" \
    OMP_NUM_THREADS=1 "$bin" -max_total_time="$SECONDS_EACH" -timeout="$TIMEOUT" -rss_limit_mb="$RSS" \
        -print_final_stats=1 -artifact_prefix="$out/" "$corpus" "$ROOT/tests/fuzz/$t" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    ncorp=$(find "$corpus" -type f | wc -l)
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    if [ $rc -eq 0 ]; then
        result=ok
    else
        found=1
        result="FOUND (exit $rc): ${artifact:-see $log}"
    fi
    printf '%-12s %10s %8s %6s %7s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$ncorp" "${rss:-?}" "$result"
done
if [ $found -ne 0 ]; then
    cat >&2 <<MSG

fuzz.sh: a target found an input that fails (above; its log in $BUILD/fuzz-logs/).
Replay it:        $BUILD/fuzz_NAME INPUT        (DE_FUZZ_VERBOSE=1 prints the reader's verdict)
Once it is fixed: copy INPUT into tests/fuzz/NAME/ so that every build's ctest replays it.
MSG
    exit 1
fi
