/* instrument.h — force-included (gcc -include) into every file compiled
 * with rd_instrument_args; code never includes it by hand.
 *
 * With -fno-builtin gcc calls memcpy, memmove and memset as functions
 * (without it, it would inline small ones as plain stores it does not
 * instrument), but it reports no access for them: libtsan catches them by
 * interposing the libc symbols. Revive must not replace libc's memcpy for
 * the whole process, so these declarations give the three functions other
 * assembler names in instrumented code only — the __tsan_mem* entry points
 * (src/rd/tsan_hooks.c), which log the destination, then call libc. Later
 * declarations from <string.h> keep the renaming.
 */
#ifndef RD_INSTRUMENT_H
#define RD_INSTRUMENT_H

#include <stddef.h>

extern void *memcpy(void *__restrict dst, const void *__restrict src, size_t n)
    __asm__("__tsan_memcpy");
extern void *memmove(void *dst, const void *src, size_t n) __asm__("__tsan_memmove");
extern void *memset(void *dst, int c, size_t n) __asm__("__tsan_memset");

#endif
