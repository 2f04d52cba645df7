#!/usr/bin/env bash
# demo.sh — revive's crash demo: services die again and again, clients never
# notice.
#
#   usage: demo/demo.sh [BUILD_DIR]     (`make demo` runs it with `build`)
#
# It starts revived with its built-in manifest (the services `random` and
# `timer`) on a private socket, records what rv-random prints for a few
# seeds while nothing crashes, then runs the same rv-random clients and an
# rv-tick client while it kills the services in turn with SIGSEGV, SIGKILL,
# SIGABRT and SIGSTOP (a hang: revived's watchdog must notice the missed
# heartbeat and kill the instance itself). After each kill it waits until
# the service has recovered before the next one, spacing them so that each
# restart is a fresh one rather than a crash loop that backoff would slow.
#
# It passes, and exits 0, only if no client saw an error, every rv-random
# printed exactly the crash-free numbers, rv-tick counted every timer
# expiration once (elapsed / period, within one), and every crash was
# followed by a recovery. Times are reported, never judged.
#
# Then the examples of client reanimation (examples.sh): sessions that
# cannot survive — a stateless service, a dead dataspace provider — are
# repaired by the clients' libraries, and must lose nothing. Last, the file
# system (fs.sh): tar, git, sqlite3 and cp on revive's FUSE mount while its
# server is killed, beside fuse2fs killed once; and the block service
# (blk.sh), killed under its clients and under the kernel's own ext4.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=${HERE%/*}
# shellcheck source=demo/lib.sh disable=SC1091
source "$HERE/lib.sh"
# shellcheck source=demo/examples.sh disable=SC1091
source "$HERE/examples.sh"
# shellcheck source=demo/fs.sh disable=SC1091
source "$HERE/fs.sh"
# shellcheck source=demo/blk.sh disable=SC1091
source "$HERE/blk.sh"

# The workload. Kills alternate between the two services and go through
# the signals two by two, so each service gets each signal equally often.
SEEDS=(1 2 3)
COUNT=20000            # numbers per rv-random run
TICK_PERIOD_MS=20
TICK_COUNT=150         # notifications per rv-tick run (~3 s)
KILLS=24
SERVICES=(random timer)
SIGNALS=(SEGV KILL ABRT STOP)

# BUILD_DIR may be relative to the current directory or to the source tree,
# so the demo runs from anywhere.
find_build() {
    local dir=${1:-build}
    [[ -d $dir ]] || dir=$ROOT/$dir
    [[ -d $dir ]] || die "no build directory '${1:-build}': run 'make demo' from $ROOT"
    BUILD=$(cd "$dir" && pwd)
    REVIVED=$BUILD/src/revived/revived
    REVIVECTL=$BUILD/src/tools/revivectl
    RV_RANDOM=$BUILD/services/rv-random
    RV_TICK=$BUILD/services/rv-tick
    local exe
    for exe in "$REVIVED" "$REVIVECTL" "$RV_RANDOM" "$RV_TICK" "$BUILD/examples/rv-svc-registry"; do
        [[ -x $exe ]] || die "$exe is missing: build first (make build)"
    done
    # revived finds the services' executables in this build, not elsewhere.
    export REVIVE_SERVICE_PATH=$BUILD/services
}

# Runs on every exit, also on errors and Ctrl-C: stops the client loops and
# revived, then removes the temporary directory, unless something failed:
# then it keeps it, with revived's log and the clients' output.
LOOP_PIDS=()
MID_LINE=false   # the progress line of the kills is open
cleanup() {
    local status=$? rs=0
    [[ -d ${WORK:-} ]] || exit "$status"
    ! $MID_LINE || echo
    touch "$WORK/stop"
    stop_revived || rs=$?
    wait "${LOOP_PIDS[@]}" 2>/dev/null || true
    if ((rs != 0)); then
        echo "revive demo: revived exited with status $rs" >&2
        status=1
    fi
    case $status in
    0 | 130 | 143) rm -rf "$WORK" ;;
    *) echo "revive demo: failed; revived's log and the clients' output are in $WORK" >&2 ;;
    esac
    exit "$status"
}

# The reference: each seed's numbers with no crash at all.
golden_run() {
    local seed pid pids=()
    for seed in "${SEEDS[@]}"; do
        "$RV_RANDOM" --socket "$SOCK" --seed "$seed" --count "$COUNT" >"$WORK/golden.$seed" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do
        wait "$pid" || die "the crash-free run failed"
    done
}

# Kills SERVICE with SIGNAL, waits for the recovery, and appends
# "SIGNAL SERVICE RECOVERY_US KILL_TO_READY_US" to $WORK/kills.
kill_and_wait() {
    local svc=$1 sig=$2 prev t0 us
    prev=$(svc_get "$svc" recoveries)
    t0=$(now_us)
    "$REVIVECTL" --socket "$SOCK" kill "$svc" --signal "$sig" >/dev/null ||
        die "revivectl kill $svc --signal $sig failed"
    us=$(wait_recovery "$svc" "$prev")
    echo "$sig $svc $us $(($(now_us) - t0))" >>"$WORK/kills"
}

# The crashes, while the clients run. One letter per kill shows progress.
chaos() {
    local seed i svc sig
    for seed in "${SEEDS[@]}"; do
        random_loop "$seed" "$COUNT" &
        LOOP_PIDS+=($!)
    done
    tick_loop "$TICK_PERIOD_MS" "$TICK_COUNT" &
    LOOP_PIDS+=($!)
    wait_sessions random "${#SEEDS[@]}"
    wait_sessions timer 1
    printf '  kills (S=SEGV K=KILL A=ABRT H=hang): '
    MID_LINE=true
    for ((i = 0; i < KILLS; i++)); do
        svc=${SERVICES[i % 2]}
        sig=${SIGNALS[(i / 2) % 4]}
        kill_and_wait "$svc" "$sig"
        [[ $sig == STOP ]] && printf H || printf '%s' "${sig:0:1}"
        sleep "0.$((250 + RANDOM % 151))"   # pacing, so each restart is a fresh one
    done
    echo
    MID_LINE=false
    touch "$WORK/stop"   # the clients finish the run they are in, then stop
    wait "${LOOP_PIDS[@]}"
    LOOP_PIDS=()
}

# Prints the summary from the files the killer and the client loops wrote;
# returns non-zero if a client saw an error, a number differed, a tick was
# lost or counted twice, or a crash was not followed by a recovery.
summary() {
    local n_segv n_kill n_abrt n_stop recoveries=0 r svc failed=0
    local same differ rerr numbers rruns
    local terr truns notes total ms expected lost twice
    local rec_med rec_max hang_med hang_max
    read -r n_segv n_kill n_abrt n_stop < <(awk '{ n[$1]++ }
        END { print n["SEGV"]+0, n["KILL"]+0, n["ABRT"]+0, n["STOP"]+0 }' "$WORK/kills")
    for svc in "${SERVICES[@]}"; do
        r=$(svc_get "$svc" recoveries)
        recoveries=$((recoveries + r))
    done
    read -r same differ rerr numbers rruns < <(cat "$WORK"/random.*.runs | awk '{ n[$1]++; num += $2 }
        END { print n["same"]+0, n["differ"]+0, n["error"]+0, num+0, NR }')
    # Per rv-tick run, expected = floor(elapsed / period), and the count may
    # be one short: the expiration that came due between its last ack and
    # the end of the run. More than one short is a lost tick; more than
    # expected is a tick counted twice.
    read -r terr truns notes total ms expected lost twice < <(awk -v p="$TICK_PERIOD_MS" '
        $1 == "error" { err++; next }
        { e = int($4 / p); d = e - $3; notes += $2; total += $3; ms += $4; want += e
          if (d > 1) lost += d; if (d < 0) twice -= d }
        END { print err+0, NR, notes+0, total+0, ms+0, want+0, lost+0, twice+0 }' "$WORK/tick.runs")
    read -r rec_med rec_max < <(awk '{ print $3 }' "$WORK/kills" | median_max)
    read -r hang_med hang_max < <(awk '$1 == "STOP" { print $4 }' "$WORK/kills" | median_max)

    echo "revive demo: $KILLS crashes injected ($n_segv SEGV, $n_kill KILL, $n_abrt ABRT, $n_stop hangs)"
    echo "  requests made ........ $((numbers + notes + truns)) ($numbers random numbers, ~$((notes + truns)) timer calls)"
    echo "  recoveries ........... $recoveries / $KILLS"
    echo "  client errors ........ $((rerr + terr))"
    if ((rruns > 0 && same == rruns)); then
        echo "  numbers identical .... yes ($rruns runs of $COUNT by ${#SEEDS[@]} clients, each compared with a crash-free run)"
    else
        echo "  numbers identical .... NO ($differ of $rruns runs differ from the crash-free run, $rerr failed)"
    fi
    echo "  ticks lost ........... $lost ($truns runs: $notes notifications, $total expirations in" \
        "$(fmt_s "$((ms * 1000))") at $TICK_PERIOD_MS ms, expected $expected, each run +-1)"
    ((twice == 0)) || echo "  ticks counted twice .. $twice"
    echo "  recovery time ........ median $(fmt_ms "$rec_med"), worst $(fmt_ms "$rec_max") (crash detected -> the standby serving every session)"
    ((n_stop == 0)) ||
        echo "  hangs caught in ...... median $(fmt_s "$hang_med"), worst $(fmt_s "$hang_max") (SIGSTOP -> recovered, by the watchdog)"

    ((rerr + terr == 0)) || { failed=1; show_client_errors; }
    ((rruns > 0 && same == rruns && truns > 0 && lost == 0 && twice == 0 && recoveries == KILLS)) || failed=1
    return "$failed"
}

# Prints the first lines of what the failing clients said.
show_client_errors() {
    local f
    for f in "$WORK"/*.err; do
        [[ -s $f ]] && { echo "  --- ${f##*/}:"; head -n 5 "$f"; }
    done >&2
    return 0
}

main() {
    find_build "${1:-}"
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/revive-demo.XXXXXX")
    SOCK=$WORK/revived.sock
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    start_revived
    echo "revive demo: revived runs its built-in manifest (services random, timer and kv, each with a hot standby; random and timer are exercised here)"
    echo "  crash-free run: ${#SEEDS[@]} x rv-random --count $COUNT"
    golden_run
    echo "  now the same clients and rv-tick (every $TICK_PERIOD_MS ms), while the services are killed"
    chaos
    echo
    local status=0
    summary || status=1
    stop_revived || die "revived did not shut down cleanly"
    echo
    examples_phase || status=1
    echo
    fs_phase || status=1
    echo
    blk_phase || status=1
    return "$status"
}

main "$@"
