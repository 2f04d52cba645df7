# fs.sh — the third part of the demo, sourced by demo.sh: unmodified
# programs on revive's file system while it is killed, and the same on a
# plain FUSE file system (fuse2fs) that dies once.
#
# revived mounts an ext4 image served by rv-svc-fs (tests/fs/lib.sh, the
# harness the file-system tests use). The programs run first on a local
# directory (the crash-free result), then on the mount while fs is killed
# every ~100 ms with SIGSEGV, SIGKILL, SIGABRT and a hang the watchdog
# catches: tar x of a header tree, a git repository built and checked,
# sqlite3 transactions, a 64 MiB copy. It passes if every program exits 0,
# every result equals the crash-free one, and e2fsck -fn finds the image
# clean after revived stopped. Then the same tar on fuse2fs, which is
# killed once: what the program saw and what e2fsck says are reported,
# not judged.

FS_DEMO_TREE=/usr/include

fs_git() {
    (
        export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
        export GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@example.invalid
        export GIT_COMMITTER_NAME=demo GIT_COMMITTER_EMAIL=demo@example.invalid
        mkdir "$1/repo" && cp -a "$ROOT/src" "$1/repo/" && cd "$1/repo"
        git init -q -b main && git add -A && git commit -qm "revive's sources"
        sed -i '1i /* changed */' src/revived/main.c && git commit -qam "a change" && git fsck --full --strict &&
            git log --format='%H %s'
    )
}

fs_sqlite() {
    {
        echo "create table t(id integer primary key, k integer, v text);"
        for b in $(seq 1 100); do
            echo "begin;"
            for i in $(seq 1 30); do echo "insert into t(k, v) values($((b * 100 + i)), 'row $b.$i');"; done
            echo "delete from t where k % 11 = $((b % 11)) and id < $((b * 20));"
            echo "commit;"
        done
    } | sqlite3 "$1/db" && sqlite3 "$1/db" "pragma integrity_check; select count(*), sum(k) from t;"
}

# Runs the four programs in directory $1; their results go to $2.out, what
# went wrong to $2.err (outside the mount). Returns non-zero if any failed.
fs_programs() {
    local dir=$1 out=$2.out err=$2.err rc=0
    mkdir -p "$dir/tree"
    { tar -C "$dir/tree" -xf "$FS_TAR" && diff -r --no-dereference "$FS_DEMO_TREE" "$dir/tree" >/dev/null &&
        echo "tar x: $(find "$dir/tree" | wc -l) entries, identical to $FS_DEMO_TREE"; } >"$out" 2>"$err" || rc=1
    { fs_git "$dir" | sed 's/^/git: commit /'; } >>"$out" 2>>"$err" || rc=1
    { fs_sqlite "$dir" | sed 's/^/sqlite3: /'; } >>"$out" 2>>"$err" || rc=1
    { cp "$FS_BIG" "$dir/big" && echo "cp: 64 MiB, sha256 $(sha256sum <"$dir/big" | cut -c1-16)..."; } >>"$out" 2>>"$err" || rc=1
    return "$rc"
}

fs_count_signals() {
    grep -c "$1" "$LOG" || true
}

# fuse2fs on an image like revive's, killed under the same tar.
fs_fuse2fs_side() {
    local img=$TMP/fuse2fs.img mnt=$TMP/fuse2fs.mnt errs
    truncate -s 1G "$img" && mke2fs -t ext4 -b 4096 -q -F "$img" && mkdir "$mnt"
    fuse2fs "$img" "$mnt" -f >/dev/null 2>&1 &
    local pid=$! n=0
    disown "$pid"       # its death is the point: no job notice
    until mountpoint -q "$mnt" || ((n++ > 500)); do sleep 0.01; done   # fuse2fs gives no readiness event
    tar -C "$mnt" -xf "$FS_TAR" 2>"$TMP/fuse2fs.tar.err" &
    local tar_pid=$!
    sleep 0.5
    kill -KILL "$pid"
    wait "$tar_pid" && echo "  tar: exit 0 (it had finished before the kill)" ||
        echo "  tar: exit $?, $(grep -c . "$TMP/fuse2fs.tar.err") errors; the first: $(head -n 1 "$TMP/fuse2fs.tar.err" | cut -c1-90)"
    echo "  ls of the mount: $(ls "$mnt" 2>&1 | head -n 1 | sed 's/.*: //')"
    umount -l "$mnt" 2>/dev/null || true
    errs=$(e2fsck -fn "$img" 2>&1 | grep -cE "Fix\?|Clear\?|Fix<y>|WARNING" || true)
    e2fsck -fn "$img" >/dev/null 2>&1 && echo "  e2fsck -fn: clean" ||
        echo "  e2fsck -fn: the image is damaged ($errs problems left uncorrected)"
}

fs_phase() {
    echo "file system: revived mounts an ext4 image served by rv-svc-fs; programs that know nothing of revive use it"
    (
        # shellcheck source=tests/fs/lib.sh disable=SC1091
        . "$ROOT/tests/fs/lib.sh"
        fs_start "$BUILD" 1G
        FS_TAR=$TMP/tree.tar FS_BIG=$TMP/big
        tar -C "$FS_DEMO_TREE" -cf "$FS_TAR" . && head -c 64M /dev/urandom >"$FS_BIG"
        echo "  crash-free run on a local directory: tar x, git, sqlite3, cp"
        fs_programs "$TMP/local" "$TMP/local" || { cat "$TMP/local.err" >&2; die "the programs fail even without crashes"; }
        echo "  the same on $MNT, while fs is killed every ~100 ms (SIGSEGV, SIGKILL, SIGABRT, hangs):"
        killer_start 0.1
        local status=0
        fs_programs "$MNT/run" "$TMP/run" || status=1
        killer_stop
        sed 's/^/    /' "$TMP/run.out"
        fs_stop
        local same=no clean=no
        cmp -s <(sed 's|/tmp[^ ]*||g' "$TMP/local.out") <(sed 's|/tmp[^ ]*||g' "$TMP/run.out") && same=yes
        e2fsck -fn "$IMG" >/dev/null 2>&1 && clean=yes
        echo "  crashes: $KILLS ($(fs_count_signals 'killed by SIGSEGV') SIGSEGV, $(fs_count_signals 'killed by SIGKILL') SIGKILL," \
             "$(fs_count_signals 'killed by SIGABRT') SIGABRT, $(fs_count_signals 'hang: missed a heartbeat; killing it') hangs caught by the watchdog)"
        echo "  errors the programs saw: $(grep -c . "$TMP/run.err" || true)"
        echo "  results identical to the crash-free run: $same; e2fsck -fn on the image: $([[ $clean == yes ]] && echo clean || echo DAMAGED)"
        if [[ -s $TMP/run.err ]]; then { echo "  --- what they said:"; head -n 5 "$TMP/run.err"; } >&2; fi
        echo
        echo "the same tar on fuse2fs (a plain FUSE file system), killed once after 0.5 s:"
        fs_fuse2fs_side
        [[ $status == 0 && $same == yes && $clean == yes && $KILLS -ge 10 ]]
    )
}
