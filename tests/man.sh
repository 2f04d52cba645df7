#!/bin/sh
# man.sh BUILD_DIR — the installed man pages render: each generated page is
# read by man(1) itself (man -l), exits 0, and shows its name and a piece of
# the doc it was made from.
set -u
dir=$1/docs
fail=0
check() {   # PAGE WORD...
    page=$dir/$1
    shift
    if ! out=$(MANWIDTH=100 MANPAGER=cat man -l "$page" 2>/dev/null); then
        echo "man -l $page failed"
        fail=1
        return
    fi
    for word in NAME "$@"; do
        case $out in
        *"$word"*) ;;
        *) echo "$page: the rendered page lacks '$word'"; fail=1 ;;
        esac
    done
}
check revived.8 'revived(8)' SYNOPSIS --foreground REVIVE_SERVICE_PATH
check revivectl.1 'revivectl(1)' SYNOPSIS restart
check revive-manifest.5 'revive-manifest(5)' arena_file start_timeout
check librevive.3 'librevive(3)' rv_call rv_svc_session_update
exit $fail
