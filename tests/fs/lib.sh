# lib.sh — sourced by the file-system tests and the demo: a revived of this
# build serving a fresh ext4 image at a FUSE mount, a killer that crashes
# the service over and over, and the checks every run ends with.
#
#   fs_start BUILD SIZE       a fresh image of SIZE (mke2fs -t ext4), revived
#                             serving it at $MNT; sets TMP IMG MNT SOCK LOG
#   killer_start [PERIOD]     crashes `fs` every PERIOD seconds (0.1), turn
#                             by turn with SIGKILL, SIGSEGV, SIGABRT and a
#                             hang (SIGSTOP, which revived's heartbeat catches)
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
    TMP=$(mktemp -d /tmp/rv-fs-XXXXXX)
    chmod 755 "$TMP"        # fs-posix checks what `nobody` may do under it
    trap fs_cleanup EXIT
    IMG=$TMP/image MNT=$TMP/mnt SOCK=$TMP/revived.sock LOG=$TMP/revived.log
    REVIVECTL=$BUILD/src/tools/revivectl
    truncate -s "$2" "$IMG"
    mke2fs -t ext4 -b 4096 -q -F "$IMG" || fs_fail "mke2fs"
    cat >"$TMP/manifest.ini" <<EOF
[service fs]
exec = rv-svc-fs
state = arena
arena_size = 16M
ssr_size = 1K
image = $IMG
mount = $MNT
standby = yes
heartbeat = 200ms
max_restarts = 100000 in 10s
EOF
    mkfifo "$TMP/ready"
    REVIVE_SERVICE_PATH=$BUILD/services REVIVE_READY_FD=3 "$BUILD/src/revived/revived" --foreground \
        --manifest "$TMP/manifest.ini" --socket "$SOCK" 2>"$LOG" 3>"$TMP/ready" &
    REVIVED_PID=$!
    head -c 6 "$TMP/ready" >/dev/null
    mountpoint -q "$MNT" || fs_fail "revived is ready but $MNT is not mounted"
}

fs_active_pid() {
    "$REVIVECTL" --socket "$SOCK" status --json | sed -n 's/.*"pid":\([0-9]*\).*/\1/p'
}

# A hang is caught by revived's heartbeat, not by the killer: after a STOP
# it waits for another instance to take over before going on.
fs_killer_loop() {
    period=$1
    kills=0
    trap 'echo $kills >"$TMP/kills"; exit 0' TERM
    while :; do
        for sig in $FS_SIGNALS; do
            before=$(fs_active_pid)
            [ -n "$before" ] && [ "$before" != 0 ] || { sleep "$period"; continue; }
            "$REVIVECTL" --socket "$SOCK" kill fs --signal "$sig" >/dev/null 2>&1 || continue
            kills=$((kills + 1))
            if [ "$sig" = STOP ]; then
                n=0
                while [ "$(fs_active_pid)" = "$before" ] && [ $n -lt 250 ]; do sleep 0.02; n=$((n + 1)); done
            fi
            sleep "$period"
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
