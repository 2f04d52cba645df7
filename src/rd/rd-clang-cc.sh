#!/bin/sh
# rd-clang-cc.sh — compiles one C file with clang's store instrumentation
# for recovery domains (docs/rd.md, "clang"), the way rd_instrumented_dep
# does it for gcc.
#
#   rd-clang-cc.sh CLANG INSTRUMENT_H OUTPUT INPUT [CFLAGS...]
#
# clang differs from gcc in one way that matters: it lowers struct copies
# and memset/memcpy intrinsics to calls of the libc symbols (libtsan
# intercepts those), which an asm label in instrument.h does not rename.
# revive will not replace libc's memcpy for the whole process (the
# runtime's own copies must stay unlogged), so the object's references are
# renamed instead, to the __tsan_mem* hooks that log the destination:
# in this object only, exactly as instrument.h does for gcc.
set -eu
clang=$1 instrument_h=$2 out=$3 in=$4
shift 4
"$clang" -std=gnu11 -O2 -g -D_GNU_SOURCE -fsanitize=thread -fno-builtin -Wno-atomic-alignment \
    -include "$instrument_h" "$@" -c "$in" -o "$out.tmp"
objcopy --redefine-sym memcpy=__tsan_memcpy --redefine-sym memmove=__tsan_memmove \
    --redefine-sym memset=__tsan_memset "$out.tmp" "$out"
rm -f "$out.tmp"
