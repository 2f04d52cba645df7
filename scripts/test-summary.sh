#!/usr/bin/env bash
# Prints one closing line for all the test runs named on the command line,
# from meson's own logs: "tests: N passed, N failed".
set -euo pipefail
pass=0 fail=0
for b in "$@"; do
    log="$b/meson-logs/testlog.json"
    [ -f "$log" ] || continue
    pass=$((pass + $(grep -c '"result": "OK"' "$log" || true)))
    fail=$((fail + $(grep -Ec '"result": "(FAIL|ERROR|TIMEOUT|UNEXPECTEDPASS)"' "$log" || true)))
done
echo "tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
