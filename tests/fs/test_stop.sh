#!/bin/bash
# test_stop.sh BUILD — revived stopped while a program writes to the mount
# leaves the image clean.
#
# The redo log lives in revived's memory: an instance killed in the middle
# of writing a transaction into the image, as revived stops, would leave it
# torn with nothing to repair it. So revived asks the active instance to
# stop (SIGTERM: it exits between two requests) before it kills anything.
# Five rounds: tar writes into the mount, revived stops at a different
# moment each time; the instance must have stopped between requests (its
# log says so) and e2fsck -fn must find the image clean.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
build=$1
for round in 1 2 3 4 5; do
    fs_start "$build" 512M
    (tar -C /usr/include -cf - . | tar -C "$MNT" -xf - 2>/dev/null || true) &
    writer=$!
    n=0
    until [ "$(find "$MNT" -maxdepth 2 | wc -l)" -gt $((round * 40)) ] || [ $n -gt 2000 ]; do
        sleep 0.005; n=$((n + 1))       # tar's progress is seen only by looking
    done
    fs_stop
    wait "$writer" || true
    grep -q "stopping at a request boundary" "$LOG" || fs_fail "round $round: the instance did not stop between requests"
    fs_fsck
    fs_cleanup
    trap - EXIT
    TMP= MNT= REVIVED_PID=
done
echo "stop: revived stopped 5 times under a writer; each time the instance stopped between requests and e2fsck -fn was clean"
