#!/bin/bash
# test_programs.sh WORKLOAD BUILD SOURCE [blk] — an unmodified program on
# the fs mount while the file system is killed every ~100 ms (SIGKILL,
# SIGSEGV, SIGABRT, and a hang revived's heartbeat catches). With "blk",
# fs keeps the image on the blk service, and the killer takes fs, blk and
# both at once in turn: three services stacked under the program.
#
# Each workload runs twice: on a local directory (the crash-free result)
# and on the mount under the killer. It must exit 0 on the mount, leave the
# same result, see at least a few crashes, and leave an image e2fsck -fn
# finds clean.
#
#   tar     tar x of a tree of thousands of files, symlinks and hard links;
#           diff -r and the tree's shape (types, sizes, link counts, targets)
#   git     init, add and commit a source tree; git fsck --full; the commit id
#   sqlite  a transaction workload; integrity_check and the rows
#   fio     sequential and random writes verified with crc32c, then reads
#   cp      a 256 MiB file copied in and out; sha256sum
#   churn   rename/unlink/link/mkdir/rmdir from 4 processes, each call
#           checked against a model (fs-churn); the trees
#   build   a C project built with meson and ninja, and run
#   posix   the semantics programs rely on (fs-posix), eight times over
set -euo pipefail
workload=$1 build=$2 src=$3 on=${4:-}
. "$(dirname "$0")/lib.sh"

size=640M
[ "$workload" = cp ] && size=1G
fs_start "$build" "$size" "$on"
REF=$TMP/ref
mkdir -p "$REF"

# Records what a tree is, beyond its bytes: path, type, size, link count
# and symlink target of every entry (a directory's size is the file
# system's own business).
shape() {
    (cd "$1" && find . \( -type d -printf '%p d %n\n' \) -o -printf '%p %y %s %n %l\n' | LC_ALL=C sort)
}

make_tree() {
    mkdir -p "$TMP/tree"
    cp -a /usr/include "$TMP/tree/include"
    cp -a "$src/src" "$TMP/tree/revive-src"
    mkdir "$TMP/tree/links"
    n=0
    for f in "$TMP"/tree/include/*.h; do
        ln "$f" "$TMP/tree/links/$(basename "$f")"
        n=$((n + 1))
        [ $n -lt 200 ] || break
    done
    tar -C "$TMP/tree" -cf "$TMP/tree.tar" .
}

run_tar() {
    mkdir "$1/x"
    tar -C "$1/x" -xf "$TMP/tree.tar"
    diff -r --no-dereference "$TMP/tree" "$1/x"
    shape "$1/x" >"$1.result"
}

run_git() {
    mkdir "$1/repo"
    cp -a "$src/src" "$src/services" "$src/tests" "$1/repo/"
    export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
    export GIT_AUTHOR_NAME=revive GIT_AUTHOR_EMAIL=revive@example.invalid
    export GIT_COMMITTER_NAME=revive GIT_COMMITTER_EMAIL=revive@example.invalid
    (
        cd "$1/repo"
        git init -q -b main && git add -A && git commit -qm "the tree"
        for round in 1 2 3; do
            # sed -n, not head: head leaves sort writing into a closed pipe
            # once the list outgrows one write (SIGPIPE, fatal under pipefail)
            find . -name '*.c' -not -path './.git/*' | LC_ALL=C sort | sed -n 1,40p | xargs sed -i "1i /* round $round */"
            git mv tests "tests$round" && git commit -qam "round $round"
            git mv "tests$round" tests && git commit -qam "round $round back"
        done
        git gc -q && git fsck --full --strict 2>&1 && git log --format='%H %s' && git count-objects -v | grep -v size
    ) >"$1.result"
}

run_sqlite() {
    echo "create table t(id integer primary key, k integer, v text);" | sqlite3 "$1/db"
    for round in $(seq 1 8); do
        for b in $(seq $((round * 100)) $((round * 100 + 60))); do
            echo "begin;"
            for i in $(seq 1 40); do echo "insert into t(k, v) values($((b * 100 + i)), 'batch $b row $i');"; done
            echo "update t set v = v || ' updated' where k % 7 = $((b % 7)) and k > $((b * 90));"
            echo "delete from t where k % 13 = $((b % 13)) and id < $((b * 30));"
            echo "commit;"
        done | sqlite3 "$1/db"
    done
    sqlite3 "$1/db" "pragma integrity_check; select count(*), sum(k), sum(length(v)) from t;" >"$1.result"
}

run_fio() {
    for rw in write randwrite; do
        fio --name="$rw" --filename="$1/fio-$rw" --size=96M --rw="$rw" --bs=16k --ioengine=psync \
            --verify=crc32c --do_verify=1 --verify_fatal=1 --output="$TMP/fio-$rw.out" >/dev/null
        fio --name=read --filename="$1/fio-$rw" --size=96M --rw="$rw" --bs=16k --ioengine=psync \
            --verify=crc32c --verify_only --verify_fatal=1 --output="$TMP/fio-read.out" >/dev/null
    done
    echo "verified" >"$1.result"
}

run_cp() {
    [ -f "$TMP/big" ] || head -c 256M /dev/urandom >"$TMP/big"
    cp "$TMP/big" "$1/big"
    cp "$1/big" "$TMP/big.back"
    sha256sum <"$1/big" >"$1.result"
    sha256sum <"$TMP/big.back" >>"$1.result"
    rm "$TMP/big.back"
}

run_churn() {
    pids=""
    for p in 1 2 3 4; do
        "$build/tests/fs/fs-churn" "$1/churn$p" "$p" 12000 & pids="$pids $!"
    done
    for p in $pids; do wait "$p"; done
    shape "$1" | grep churn >"$1.result"
}

run_posix() {
    for round in 1 2 3 4 5 6 7 8; do
        "$build/tests/fs/fs-posix" "$1/posix$round"
    done >"$1.result"
}

run_build() {
    cp -a "$src/tests/fs/project" "$1/project"
    (cd "$1/project" && meson setup b >/dev/null && ninja -C b >/dev/null && ./b/sample) >"$1.result"
}

[ "$workload" = tar ] && make_tree
"run_$workload" "$REF"

killer_start 0.1
"run_$workload" "$MNT" || { killer_stop; fs_fail "$workload failed on the mount after $KILLS crashes"; }
killer_stop
cmp -s "$REF.result" "$MNT.result" || { diff "$REF.result" "$MNT.result" | head -20 >&2 || true; fs_fail "$workload left another result on the mount"; }
fs_stop
fs_fsck
[ "$KILLS" -ge 3 ] || fs_fail "only $KILLS crashes happened: the run proves nothing"
victims=fs
[ -n "$on" ] && victims="fs, blk, and both at once"
echo "$workload: same result as on a local disk, through $KILLS crashes (of $victims); e2fsck -fn clean"
