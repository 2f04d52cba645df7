# examples.sh — the second half of the demo, sourced by demo.sh: client
# reanimation (tier 3) with the examples of examples/manifest.ini.
#
# revived starts, as their loader, two applications of the stateless
# `registry` service (rv-registry-demo alice and bob, who look up their own
# names again and again) and the ring buffer's producer and consumer. The
# demo kills the registry service and the producer in turn. Every kill of
# the registry wipes its table and revokes its sessions; the clients'
# library re-opens and re-registers. Every kill of the producer withdraws
# the ring; the consumer's watcher (event mode) sees it at once, replaces
# the stale mapping with zero pages and attaches the restarted producer's
# buffer. It passes if no lookup came back wrong, no call failed, no
# record of a dead producer was read, and every kill was reanimated.

EX_KILLS=5

# The newest process of PROGRAM among revived's children.
task_pid() {
    pgrep -n -P "$REVIVED_PID" -f "$1" || true
}

# Bounded waits: no event tells a script these things.
wait_for() {
    local what=$1 deadline
    shift
    deadline=$(($(now_us) + 10000000))
    until "$@"; do
        (($(now_us) < deadline)) || die "$what did not happen within 10 s (log: $REVIVED_LOG)"
        sleep 0.01
    done
}

ring_mapped() {
    local pid
    pid=$(task_pid rv-ring-consumer)
    [[ -n $pid ]] && grep -q 'memfd:ring' "/proc/$pid/maps" 2>/dev/null
}

new_producer() {
    local pid
    pid=$(task_pid rv-ring-producer)
    [[ -n $pid && $pid != "$1" ]]
}

reports_written() {
    [[ -s $WORK/alice.report && -s $WORK/bob.report && -s $WORK/consumer.report ]]
}

# "key=value ..." of a report, as the value of KEY.
report_get() {
    local line
    line=$(<"$WORK/$1.report")
    [[ $line =~ (^|[[:space:]])$2=([0-9]+) ]] || die "no $2 in $1's report: $line"
    echo "${BASH_REMATCH[2]}"
}

examples_chaos() {
    local i prev old
    printf '  kills (R=registry P=producer): '
    MID_LINE=true
    for ((i = 0; i < EX_KILLS; i++)); do
        prev=$(svc_get registry recoveries)
        "$REVIVECTL" --socket "$SOCK" kill registry --signal KILL >/dev/null || die "revivectl kill registry failed"
        wait_recovery registry "$prev" >/dev/null
        printf R
        old=$(task_pid rv-ring-producer)
        kill -KILL "$old"
        wait_for "a new producer" new_producer "$old"
        printf P
        sleep "0.$((250 + RANDOM % 151))"   # pacing: let the clients call, the consumer read
    done
    echo
    MID_LINE=false
}

examples_summary() {
    local who lookups wrong errors reanim records stale cerrors creanim failed=0
    echo "revive examples: the registry service (state = stateless) and the ring's producer killed $EX_KILLS times each"
    for who in alice bob; do
        lookups=$(report_get "$who" lookups)
        wrong=$(report_get "$who" wrong)
        errors=$(report_get "$who" errors)
        reanim=$(report_get "$who" reanimations)
        echo "  $who: $lookups lookups of its own names, $wrong wrong, $errors errors," \
            "its entries restored $reanim times by its client library's fault handler"
        ((wrong == 0 && errors == 0 && reanim == EX_KILLS)) || failed=1
    done
    records=$(report_get consumer records)
    stale=$(report_get consumer stale)
    cerrors=$(report_get consumer errors)
    creanim=$(report_get consumer reanimations)
    echo "  consumer: $records records read, $creanim reanimations (event-mode watcher), $stale records" \
        "of a dead producer seen, $cerrors bad records"
    ((stale == 0 && cerrors == 0 && creanim == EX_KILLS && records > 0)) || failed=1
    return "$failed"
}

examples_phase() {
    SOCK=$WORK/examples.sock
    REVIVE_SERVICE_PATH=$BUILD/examples:$BUILD/services start_revived "$ROOT/examples/manifest.ini"
    echo "revive examples: revived starts examples/manifest.ini (registry, alice, bob, producer, consumer)"
    wait_sessions registry 2
    wait_for "the consumer's attach" ring_mapped
    examples_chaos
    pkill -TERM -P "$REVIVED_PID" -f 'rv-registry-demo|rv-ring-consumer' || true
    wait_for "the applications' reports" reports_written
    echo
    examples_summary
}
