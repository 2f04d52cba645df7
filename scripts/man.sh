#!/bin/sh
# man.sh OUT TITLE SECTION SUMMARY MARKDOWN... — a man page from revive's
# markdown docs, with lowdown: a NAME section made of TITLE and SUMMARY,
# then the markdown files as they are. Run by meson (docs/meson.build).
set -eu
out=$1 title=$2 section=$3 summary=$4
shift 4
{
    printf '# NAME\n\n%s - %s\n\n' "$title" "$summary"
    cat "$@"
} | lowdown -s -Tman --out-no-smarty --parse-no-intraemph -M "title=$title" -M "section=$section" -M "source=revive" -o "$out"
