# lib.sh — sourced by the file-system tests and the demo: a revived of this
# build serving a fresh ext4 image at a FUSE mount, a killer that crashes
# the service over and over, and the checks every run ends with.
#
#   fs_start BUILD SIZE [blk] a fresh image of SIZE (mke2fs -t ext4), revived
#                             serving it at $MNT; sets TMP IMG MNT SOCK LOG.
#                             With "blk", the image is the blk service's
#                             device and fs its client (args = --blk blk)
#   killer_start [PERIOD]     crashes `fs` every PERIOD seconds (0.1), turn
#                             by turn with SIGKILL, SIGSEGV, SIGABRT and a
#                             hang (SIGSTOP, which revived's heartbeat catches);
#                             on blk, turn by turn fs, blk, and both at once
#   killer_stop               stops it; sets KILLS (how many crashes it made)
#   fs_stop                   stops revived, which unmounts
#   fs_fsck                   e2fsck -fn on the image: must be clean
#   fs_fail MSG               prints MSG and the revived log, exits 1

FS_SIGNALS="KILL SEGV ABRT STOP"

fs_fail() {
    echo "FAIL: $*" >&2
    [ -n "${LOG:-}" ] && [ -f "$LOG" ] && tail -n 30 "$LOG" >&2
    exit 1
}

fs_cleanup() {
    if [ -n "${KILLER_PID:-}" ]; then kill "$KILLER_PID" 2>/dev/null || true; fi
    if [ -n "${REVIVED_PID:-}" ]; then kill "$REVIVED_PID" 2>/dev/null && wait "$REVIVED_PID" 2>/dev/null || true; fi
    if [ -n "${MNT:-}" ] && mountpoint -q "$MNT"; then umount -l "$MNT" || true; fi
    if [ -n "${TMP:-}" ]; then rm -rf "$TMP"; fi
}

fs_start() {
    BUILD=$1
    FS_TARGETS=fs
    TMP=$(mktemp -d /tmp/rv-fs-XXXXXX)
    chmod 755 "$TMP"        # fs-posix checks what `nobody` may do under it
    trap fs_cleanup EXIT
    IMG=$TMP/image MNT=$TMP/mnt SOCK=$TMP/revived.sock LOG=$TMP/revived.log
    REVIVECTL=$BUILD/src/tools/revivectl
    truncate -s "$2" "$IMG"
    mke2fs -t ext4 -b 4096 -q -F "$IMG" || fs_fail "mke2fs"
    local source="image = $IMG"
    if [ "${3:-}" = blk ]; then
        FS_TARGETS="fs blk both"
        source="args = --blk blk"
        printf '[service blk]\nexec = rv-svc-blk\nssr_size = 8K\nimage = %s\nstandby = yes\nheartbeat = 200ms\nmax_restarts = 100000 in 10s\n\n' \
            "$IMG" >"$TMP/manifest.ini"
    fi
    printf '[service fs]\nexec = rv-svc-fs\n%s\nstate = arena\narena_size = 16M\nssr_size = 1K\nmount = %s\nstandby = yes\nheartbeat = 200ms\nmax_restarts = 100000 in 10s\n' \
        "$source" "$MNT" >>"$TMP/manifest.ini"
    mkfifo "$TMP/ready"
    REVIVE_SERVICE_PATH=$BUILD/services REVIVE_READY_FD=3 "$BUILD/src/revived/revived" --foreground \
        --manifest "$TMP/manifest.ini" --socket "$SOCK" 2>"$LOG" 3>"$TMP/ready" &
    REVIVED_PID=$!
    head -c 6 "$TMP/ready" >/dev/null
    mountpoint -q "$MNT" || fs_fail "revived is ready but $MNT is not mounted"
}

# The serving instance of service $1.
fs_active_pid() {
    "$REVIVECTL" --socket "$SOCK" status --json | tr '}' '\n' | grep "\"name\":\"$1\"" |
        sed -n 's/.*"pid":\([0-9]*\).*/\1/p'
}

# Crashes service $1 with signal $2. A hang is caught by revived's
# heartbeat, not by the killer: after a STOP it waits for another instance
# to take over.
fs_crash() {
    local before n=0
    before=$(fs_active_pid "$1")
    [ -n "$before" ] && [ "$before" != 0 ] || return 1
    "$REVIVECTL" --socket "$SOCK" kill "$1" --signal "$2" >/dev/null 2>&1 || return 1
    if [ "$2" = STOP ]; then
        while [ "$(fs_active_pid "$1")" = "$before" ] && [ $n -lt 250 ]; do sleep 0.02; n=$((n + 1)); done
    fi
}

fs_killer_loop() {
    period=$1
    kills=0
    trap 'echo $kills >"$TMP/kills"; exit 0' TERM
    while :; do
        for sig in $FS_SIGNALS; do
            for target in $FS_TARGETS; do
                case $target in
                both) fs_crash fs "$sig" && fs_crash blk "$sig" && kills=$((kills + 2)) ;;
                *) fs_crash "$target" "$sig" && kills=$((kills + 1)) ;;
                esac
                sleep "$period"
            done
        done
    done
}

killer_start() {
    fs_killer_loop "${1:-0.1}" &
    KILLER_PID=$!
}

killer_stop() {
    kill "$KILLER_PID"
    wait "$KILLER_PID" 2>/dev/null
    KILLER_PID=
    KILLS=$(cat "$TMP/kills")
}

fs_stop() {
    kill "$REVIVED_PID"
    wait "$REVIVED_PID" 2>/dev/null
    REVIVED_PID=
    ! mountpoint -q "$MNT" || fs_fail "$MNT is still mounted after revived stopped"
}

fs_fsck() {
    e2fsck -fn "$IMG" >"$TMP/fsck.out" 2>&1 || { cat "$TMP/fsck.out" >&2; fs_fail "e2fsck -fn found the image damaged"; }
}
