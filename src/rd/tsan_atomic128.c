/* tsan_atomic128.c — the 16-byte atomic entry points of revive's __tsan_*
 * runtime (tsan.h). A file of its own because 16-byte atomics need
 * libatomic on x86-64: the linker pulls this object, and so libatomic, only
 * into programs whose instrumented code uses them.
 */
#include "tsan.h"

typedef unsigned __int128 rd_u128;

RD_TSAN_ATOMIC_WIDTH(128, rd_u128)
