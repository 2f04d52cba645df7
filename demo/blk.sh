# blk.sh — the last part of the demo, sourced by demo.sh: the block service
# killed under its clients and under the kernel's own ext4.
#
# revived runs `blk` over a 512 MiB image, exporting its device as one file
# in a FUSE mount. Three rv-blk clients (classes RT, BE and IDLE, each in its
# own region) fill and verify patterns with 16 requests in flight, while
# blk is killed every ~100 ms; then a loop device over the exported file
# gets mkfs.ext4 and a kernel ext4 mount, and tar x of a tree runs on it
# while blk is killed again. It passes if every fill and verify succeeded,
# the tree is identical, the kernel logged no error and e2fsck -fn finds the
# kernel's file system clean.

blk_phase() {
    echo "block service: revived runs blk over a 512 MiB image; rv-blk clients, then the kernel's ext4, on it"
    (
        set -euo pipefail
        local tmp loop= revived_pid status=0
        tmp=$(mktemp -d /tmp/revive-demo-blk.XXXXXX)
        trap 'mountpoint -q "$tmp/k" && umount "$tmp/k"; [ -n "$loop" ] && losetup -d "$loop"; kill "$revived_pid" 2>/dev/null; wait "$revived_pid" 2>/dev/null; mountpoint -q "$tmp/export" && umount -l "$tmp/export"; rm -rf "$tmp"' EXIT
        truncate -s 512M "$tmp/device"
        printf '[service blk]\nexec = rv-svc-blk\nstate = arena\narena_size = 1M\nssr_size = 8K\nimage = %s\nmount = %s\nstandby = yes\nmax_restarts = 100000 in 10s\n' \
            "$tmp/device" "$tmp/export" >"$tmp/blk.ini"
        mkfifo "$tmp/ready"
        REVIVE_SERVICE_PATH=$BUILD/services REVIVE_READY_FD=3 "$REVIVED" --foreground --manifest "$tmp/blk.ini" \
            --socket "$tmp/sock" 2>"$tmp/log" 3>"$tmp/ready" &
        revived_pid=$!
        head -c 6 "$tmp/ready" >/dev/null
        local rvblk="$BUILD/services/rv-blk --socket $tmp/sock --depth 16" ctl="$BUILD/src/tools/revivectl --socket $tmp/sock"
        blk_killer() {
            local n=0 sig
            trap 'echo $n >"$tmp/kills"; exit 0' TERM
            while :; do
                for sig in KILL SEGV; do
                    $ctl kill blk --signal "$sig" >/dev/null 2>&1 && n=$((n + 1))
                    sleep 0.1
                done
            done
        }
        blk_killer &
        local killer=$! pids=() cls i=0
        for cls in rt be idle; do
            ( for seed in 1 2 3 4; do
                  $rvblk --class $cls fill $((i * 32768)) 32768 $((seed * 10 + i)) &&
                      $rvblk --class $cls verify $((i * 32768)) 32768 $((seed * 10 + i)) || exit 1
              done ) 2>>"$tmp/errors" &
            pids+=($!)
            i=$((i + 1))
        done
        local ok=0
        for p in "${pids[@]}"; do wait "$p" && ok=$((ok + 1)); done
        kill "$killer"; wait "$killer" 2>/dev/null || true
        echo "  3 clients (RT, BE, IDLE) x 4 rounds of fill + verify of 128 MiB each: $ok of 3 verified every block;" \
             "$(cat "$tmp/kills") kills of blk meanwhile"
        [ "$ok" = 3 ] || status=1
        loop=$(losetup -f --show "$tmp/export/device")
        mkfs.ext4 -q -F "$loop" && mkdir "$tmp/k" && mount "$loop" "$tmp/k"
        local before
        before=$(dmesg | wc -l)
        blk_killer &
        killer=$!
        mkdir "$tmp/k/tree"
        tar -C /usr/include -cf - . | tar -C "$tmp/k/tree" -xf - && sync || status=1
        kill "$killer"; wait "$killer" 2>/dev/null || true
        local same=no errors
        diff -r --no-dereference /usr/include "$tmp/k/tree" >/dev/null && same=yes
        errors=$(dmesg | tail -n +"$((before + 1))" | grep -ciE "I/O error|EXT4-fs error|Buffer I/O" || true)
        umount "$tmp/k"
        local clean=no
        e2fsck -fn "$loop" >/dev/null 2>&1 && clean=yes
        echo "  the kernel's ext4 on $loop over blk's export: tar x of $(find /usr/include | wc -l) entries through" \
             "$(cat "$tmp/kills") kills of blk: identical: $same; kernel errors: $errors; e2fsck -fn: $([[ $clean == yes ]] && echo clean || echo DAMAGED)"
        [[ $status == 0 && $same == yes && $errors == 0 && $clean == yes ]]
    )
}
