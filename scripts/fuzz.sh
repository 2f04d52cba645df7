#!/usr/bin/env bash
# Coverage-guided fuzzing of revive's parsers with libFuzzer (make fuzz,
# and the last phase of make test); docs/fuzzing.md.
#
#   scripts/fuzz.sh [--merge] [BUILD_DIR]      (BUILD_DIR: build-fuzz)
#
# Sets up BUILD_DIR with clang, -Dfuzzer=true and ASan+UBSan, builds the
# harnesses (one per directory of tests/fuzz/corpus), and runs each in turn
# for FUZZ_SECONDS (default 60) on its corpus: the repository's, read only,
# and BUILD_DIR/fuzz-corpus/NAME, where what it finds goes. Prints the
# executions of each and the total, and exits 1 if any harness crashed,
# leaked or hung, naming the input that did it (BUILD_DIR/fuzz-crashes/).
#
# FUZZ_HARNESSES="wire fs" runs only those. --merge then minimises each
# harness's corpus into the repository (libFuzzer's -merge=1 over both
# corpora): the hash-named files are replaced by the merge's; the named
# ones (seed-NN from the harness's seeds, crash-* and leak-* regression
# inputs) are kept.
set -euo pipefail
cd "$(dirname "$0")/.."

merge=0
if [ "${1:-}" = "--merge" ]; then
    merge=1
    shift
fi
build=${1:-build-fuzz}
seconds=${FUZZ_SECONDS:-60}
corpora=tests/fuzz/corpus
harnesses=${FUZZ_HARNESSES:-$(ls "$corpora")}

if [ ! -f "$build/build.ninja" ]; then
    CC=clang meson setup "$build" -Dfuzzer=true -Db_sanitize=address,undefined -Db_lundef=false \
        --buildtype=debugoptimized >/dev/null
fi
# fuzz_manifest's seeds name two services: built, their bare names resolve
# in FUZZ_SERVICE_DIR, so mutations of the seeds load (meson's tests do so too).
targets=(services/rv-svc-random services/rv-svc-timer)
for h in $harnesses; do
    targets+=("tests/fuzz/fuzz_$h")
done
# ninja says what failed on its standard output: shown only then.
if ! out=$(ninja -C "$build" "${targets[@]}" 2>&1); then
    printf '%s\n' "$out" | grep -v '^\[' >&2
    echo "fuzz: the harnesses do not build (clang, -Dfuzzer=true, in $build)" >&2
    exit 1
fi

export FUZZ_SERVICE_DIR=$PWD/$build/services
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
mkdir -p "$build/fuzz-crashes" "$build/fuzz-logs"

# Rebuilds the repository's corpus of $1: its named files, and what the
# merge finds in both corpora that adds coverage beyond them.
merge_corpus() {
    local h=$1 repo=$corpora/$1 fresh=$build/fuzz-merge/$1
    rm -rf "$fresh" && mkdir -p "$fresh"
    find "$repo" -type f -regextype posix-extended ! -regex '.*/[0-9a-f]{40}' -exec cp {} "$fresh/" \;
    "$build/tests/fuzz/fuzz_$h" -merge=1 -close_fd_mask=2 "$fresh" "$repo" "$build/fuzz-corpus/$h" \
        >"$build/fuzz-logs/$h-merge.log" 2>&1
    rm -rf "$repo" && cp -r "$fresh" "$repo"
    echo "  $h: $(ls "$repo" | wc -l) files, $(du -sk "$repo" | cut -f1) KiB"
}

total=0
failed=()
printf '%-10s %14s %10s  %s\n' harness executions exec/s result
for h in $harnesses; do
    work=$build/fuzz-corpus/$h
    log=$build/fuzz-logs/$h.log
    mkdir -p "$work"
    rc=0
    "$build/tests/fuzz/fuzz_$h" "$work" "$corpora/$h" -max_total_time="$seconds" -timeout=10 \
        -print_final_stats=1 -close_fd_mask=2 -artifact_prefix="$build/fuzz-crashes/$h-" >"$log" 2>&1 || rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    runs=${runs:-0}
    total=$((total + runs))
    if [ "$rc" -eq 0 ]; then
        printf '%-10s %14s %10s  %s\n' "$h" "$runs" "${rate:-0}" "ok"
    else
        artifact=$(sed -n "s/.*Test unit written to //p" "$log" | tail -1)
        printf '%-10s %14s %10s  %s\n' "$h" "$runs" "${rate:-0}" "FAILED: ${artifact:-see $log}"
        failed+=("$h")
    fi
done
printf '%-10s %14s   in %s s per harness (%s)\n' total "$total" "$seconds" "$(date -u +%Y-%m-%d)"

if [ "$merge" -eq 1 ]; then
    echo "merging into $corpora:"
    for h in $harnesses; do
        merge_corpus "$h"
    done
fi
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: ${failed[*]} failed; the logs are in $build/fuzz-logs, the inputs in $build/fuzz-crashes" >&2
    exit 1
fi
