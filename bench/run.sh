#!/bin/sh
# run.sh — what `make bench` runs: rv-bench from the build tree, with its
# report kept in docs/benchmarks/ (results.md, results.csv) next to the analysis
# in docs/EVALUATION.md. Usage: bench/run.sh BUILD_DIR [rv-bench options]
# (e.g. --quick). Run from the repository root, as make does.
set -eu
build=${1:-build}
[ $# -gt 0 ] && shift
bin="$build/src/tools/bench/rv-bench"
if [ ! -x "$bin" ]; then
    echo "bench/run.sh: $bin not found; build first (make build)" >&2
    exit 1
fi
mkdir -p docs/benchmarks
exec "$bin" --out docs/benchmarks "$@"
