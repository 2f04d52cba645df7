# lib.sh — the building blocks of demo.sh, sourced by it.
#
# Four groups: running revived (start it on a private socket, stop it),
# reading `revivectl status --json` (one field of one service, waiting for a
# recovery), the client loops that run during the crashes and write one line
# per finished run to a results file, and small arithmetic for the summary.
# Every function uses the globals demo.sh sets: REVIVED, REVIVECTL,
# RV_RANDOM, RV_TICK, WORK (the temporary directory) and SOCK.

# shellcheck shell=bash
die() {
    echo "revive demo: $*" >&2
    exit 1
}

# Microseconds since the epoch, from bash's own clock (no fork).
now_us() {
    local t=$EPOCHREALTIME
    echo "${t/./}"
}

# ---------------------------------------------------------------- revived

# Starts revived (with MANIFEST, else its built-in one) in the foreground of
# a background job, with its log in $REVIVED_LOG ($WORK/revived.log, or
# revived.MANIFEST.log), and returns once it listens: revived writes READY to
# the fd named by REVIVE_READY_FD, here a fifo. The fifo is opened
# read-write so that opening it never blocks; the wait is bounded and gives
# up early if revived dies. Sets REVIVED_PID.
start_revived() {
    local manifest=${1:-} fifo=$WORK/ready fd line="" tries
    REVIVED_LOG=$WORK/revived${manifest:+.${manifest##*/}}.log
    rm -f "$fifo"
    mkfifo "$fifo"
    exec {fd}<>"$fifo"
    # In $WORK, so the tasks a manifest starts write their reports there;
    # their chatter goes to tasks.out.
    (cd "$WORK" && REVIVE_READY_FD=3 exec "$REVIVED" ${manifest:+--manifest "$manifest"} --socket "$SOCK" \
        --foreground </dev/null >>"$WORK/tasks.out" 2>"$REVIVED_LOG" 3>&"$fd" {fd}>&-) &
    REVIVED_PID=$!
    for ((tries = 0; tries < 50; tries++)); do
        read -r -t 0.2 -u "$fd" line && break
        kill -0 "$REVIVED_PID" 2>/dev/null || break
    done
    exec {fd}>&-
    [[ $line == READY ]] || die "revived did not start listening on $SOCK (log: $REVIVED_LOG)"
}

# SIGTERM is revived's clean shutdown: it kills its service instances and
# unlinks the socket. Gives it 5 s, then SIGKILL. Returns revived's status.
stop_revived() {
    [[ -n ${REVIVED_PID:-} ]] || return 0
    local pid=$REVIVED_PID tries=0 status=0
    REVIVED_PID=
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && ((tries++ < 250)); do
        sleep 0.02
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" || status=$?
    return "$status"
}

# ---------------------------------------------------------------- status

# Prints the named numeric fields of one service, space-separated, from a
# single `revivectl status --json`. The JSON is flat and revivectl's own
# output, so cutting out the service's object and matching "key":number is
# enough; no JSON tool is needed.
svc_get() {
    local name=$1 json obj key vals=()
    shift
    json=$("$REVIVECTL" --socket "$SOCK" status --json) || die "revivectl status failed"
    obj=${json#*\{\"name\":\""$name"\"}
    [[ $obj != "$json" ]] || die "no service '$name' in: $json"
    obj=${obj%%\}*}
    for key; do
        [[ $obj =~ \"$key\":([0-9]+) ]] || die "no field '$key' for '$name' in: $json"
        vals+=("${BASH_REMATCH[1]}")
    done
    echo "${vals[*]}"
}

# Waits until SERVICE has more than PREV completed recoveries (a new
# instance said READY after the crash), then prints its last_recovery_us:
# the time from crash detected to the next instance ready. No event tells a
# script that a service recovered, so this is a bounded poll of the status.
wait_recovery() {
    local name=$1 prev=$2 deadline rec us
    deadline=$(($(now_us) + 10000000))
    while :; do
        read -r rec us <<<"$(svc_get "$name" recoveries last_recovery_us)"
        if ((rec > prev)); then
            echo "$us"
            return 0
        fi
        (($(now_us) < deadline)) || die "$name did not recover within 10 s (log: $REVIVED_LOG)"
        sleep 0.01
    done
}

# Waits (bounded) until every client has its session open, so that the
# first crash already hits live sessions.
wait_sessions() {
    local name=$1 want=$2 deadline
    deadline=$(($(now_us) + 10000000))
    until (($(svc_get "$name" sessions) >= want)); do
        (($(now_us) < deadline)) || die "the $name clients did not open their sessions within 10 s"
        sleep 0.01
    done
}

# ---------------------------------------------------------------- clients

# The client loops run whole client programs again and again until the
# file $WORK/stop exists, so that every crash lands on live traffic however
# fast the machine is. Each finished run appends one line to a results file.

# Appends "VERDICT NUMBERS" to $WORK/random.SEED.runs: VERDICT is `same`
# (identical to the crash-free run in $WORK/golden.SEED), `differ`, or
# `error` (the client failed; its stderr is in $WORK/random.SEED.err).
# The clients run niced: they are there to keep the service busy, and on a
# small machine they must not starve rv-tick, revived or the services.
random_loop() {
    local seed=$1 count=$2 out=$WORK/random.$1.out verdict
    until [[ -e $WORK/stop ]]; do
        if nice -n 5 "$RV_RANDOM" --socket "$SOCK" --seed "$seed" --count "$count" \
            >"$out" 2>>"$WORK/random.$seed.err"; then
            cmp -s "$out" "$WORK/golden.$seed" && verdict=same || verdict=differ
        else
            verdict=error
        fi
        echo "$verdict $(wc -l <"$out")" >>"$WORK/random.$seed.runs"
    done
}

# Appends "VERDICT NOTIFICATIONS EXPIRATIONS ELAPSED_MS" to $WORK/tick.runs,
# from rv-tick's output: one line per notification, then
# "total T expirations in E s (...)". VERDICT is `ok` or `error`.
tick_loop() {
    local period=$1 count=$2 out=$WORK/tick.out notes total ms
    until [[ -e $WORK/stop ]]; do
        if "$RV_TICK" --socket "$SOCK" --period-ms "$period" --count "$count" \
            >"$out" 2>>"$WORK/tick.err" &&
            [[ $(tail -n 1 "$out") =~ ^total\ ([0-9]+)\ expirations\ in\ ([0-9]+)\.([0-9]{3})\ s ]]; then
            total=${BASH_REMATCH[1]}
            ms=$((10#${BASH_REMATCH[2]}${BASH_REMATCH[3]}))
            notes=$(grep -c '^notification' "$out")
            echo "ok $notes $total $ms" >>"$WORK/tick.runs"
        else
            echo "error 0 0 0" >>"$WORK/tick.runs"
        fi
    done
}

# ---------------------------------------------------------------- numbers

# Median and maximum of integers given one per line on stdin: "MEDIAN MAX".
median_max() {
    sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[NR] }'
}

# Formats microseconds as milliseconds with one decimal: 1934 -> 1.9 ms.
fmt_ms() {
    awk -v us="$1" 'BEGIN { printf "%.1f ms", us / 1000 }'
}

# Formats microseconds as seconds with two decimals: 1250000 -> 1.25 s.
fmt_s() {
    awk -v us="$1" 'BEGIN { printf "%.2f s", us / 1000000 }'
}
