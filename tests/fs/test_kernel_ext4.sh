#!/bin/bash
# test_kernel_ext4.sh BUILD — the kernel's own ext4 on revive's block
# service, while blk is killed under it.
#
# blk exports its device as /device in a FUSE mount; a loop device over
# that file gets mkfs.ext4 and a kernel ext4 mount. tar x of a tree (then
# diff -r) and fio with crc32c verification run on it while blk is SIGKILLed
# and SEGVed every ~100 ms. Both must succeed, the kernel must log no error
# (I/O or ext4) meanwhile, and e2fsck -fn must find the file system clean
# after it is unmounted.
set -euo pipefail
build=$1
tmp=$(mktemp -d /tmp/rv-kext4-XXXXXX)
sock=$tmp/revived.sock log=$tmp/revived.log loop= revived_pid= killer_pid=
ctl="$build/src/tools/revivectl"

cleanup() {
    if [ -n "$killer_pid" ]; then kill "$killer_pid" 2>/dev/null || true; fi
    if mountpoint -q "$tmp/k"; then umount "$tmp/k" || umount -l "$tmp/k" || true; fi
    if [ -n "$loop" ]; then losetup -d "$loop" 2>/dev/null || true; fi
    if [ -n "$revived_pid" ]; then kill "$revived_pid" 2>/dev/null && wait "$revived_pid" 2>/dev/null || true; fi
    if mountpoint -q "$tmp/export"; then umount -l "$tmp/export" || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    tail -n 20 "$log" >&2
    exit 1
}

truncate -s 512M "$tmp/device"
printf '[service blk]\nexec = rv-svc-blk\nstate = arena\narena_size = 1M\nssr_size = 8K\nimage = %s\nmount = %s\nstandby = yes\nmax_restarts = 100000 in 10s\n' \
    "$tmp/device" "$tmp/export" >"$tmp/manifest.ini"
mkfifo "$tmp/ready"
REVIVE_SERVICE_PATH=$build/services REVIVE_READY_FD=3 "$build/src/revived/revived" --foreground \
    --manifest "$tmp/manifest.ini" --socket "$sock" 2>"$log" 3>"$tmp/ready" &
revived_pid=$!
head -c 6 "$tmp/ready" >/dev/null
loop=$(losetup -f --show "$tmp/export/device") || fail "no loop device over blk's export"
mkfs.ext4 -q -F "$loop" || fail "mkfs.ext4 on $loop"
mkdir "$tmp/k"
mount "$loop" "$tmp/k" || fail "the kernel cannot mount the ext4 on blk"
before=$(dmesg | wc -l)

kills=0
(
    n=0
    trap 'echo $n >"$tmp/kills"; exit 0' TERM
    while :; do
        for sig in KILL SEGV; do
            "$ctl" --socket "$sock" kill blk --signal "$sig" >/dev/null 2>&1 && n=$((n + 1))
            sleep 0.1
        done
    done
) &
killer_pid=$!
mkdir "$tmp/k/tree"
tar -C /usr/include -cf - . | tar -C "$tmp/k/tree" -xf - || fail "tar x on the kernel's ext4 failed"
fio --name=verify --filename="$tmp/k/fio" --size=64M --rw=randwrite --bs=16k --ioengine=psync --direct=1 \
    --verify=crc32c --do_verify=1 --verify_fatal=1 --output="$tmp/fio.out" >/dev/null || fail "fio verify failed"
sync
kill "$killer_pid"
wait "$killer_pid" 2>/dev/null || true
killer_pid=
kills=$(cat "$tmp/kills")
diff -r --no-dereference /usr/include "$tmp/k/tree" >/dev/null || fail "the tree differs after tar x"
errors=$(dmesg | tail -n +"$((before + 1))" | grep -ciE "I/O error|EXT4-fs error|blk_update_request|Buffer I/O" || true)
[ "$errors" = 0 ] || { dmesg | tail -n 20 >&2; fail "the kernel logged $errors errors"; }
umount "$tmp/k"
e2fsck -fn "$loop" >"$tmp/fsck.out" 2>&1 || { cat "$tmp/fsck.out" >&2; fail "e2fsck -fn found the kernel's ext4 damaged"; }
[ "$kills" -ge 5 ] || fail "only $kills kills happened: the run proves nothing"
echo "kernel ext4 on blk: tar x and fio verify through $kills kills of blk; no kernel error; e2fsck -fn clean"
