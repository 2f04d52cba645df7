/* tsan_hooks.c — revive's own runtime for the compiler's ThreadSanitizer
 * instrumentation: the automatic undo logging of recovery domains.
 *
 * A service compiled with -fsanitize=thread (rd_instrument_args in
 * src/rd/meson.build) calls __tsan_writeN before each store, __tsan_readN
 * before each load, __tsan_atomicN_* in place of each atomic operation, and
 * so on. Linked against these definitions instead of libtsan — the approach
 * of the Linux kernel's KCSAN — every store inside a logged domain is
 * undo-logged (rd_log_range) with no hand annotation. Writes to frames
 * created inside the domain are filtered out by rd_log_range itself.
 *
 * gcc calls memcpy/memset/memmove by their plain names (libtsan catches them
 * by interposing the libc symbols); instrument.h, force-included into
 * instrumented code, renames them to the __tsan_mem* entry points below,
 * which are also the names clang emits.
 *
 * What each kind of access does is in tsan.h. 16-byte atomics are in
 * tsan_atomic128.c.
 */
#include <stdint.h>
#include <string.h>

#include "tsan.h"

/* Called from a constructor in each instrumented file; revive sets a thread
 * up on its first rd_begin instead. Function entry and exit matter to
 * libtsan's race reports only. */
void __tsan_init(void)
{
}

void __tsan_func_entry(void *pc)
{
    (void)pc;
}

void __tsan_func_exit(void)
{
}

/* Plain, volatile (gcc --param tsan-distinguish-volatile=1) and, from two
 * bytes up, unaligned accesses of n bytes. */
#define RD_TSAN_SIZED(prefix, n)                                              \
    void __tsan_##prefix##read##n(void *a) { rd_tsan_access(a, n); }          \
    void __tsan_##prefix##write##n(void *a) { rd_tsan_write(a, n); }

#define RD_TSAN_SIZE(n)                                                       \
    RD_TSAN_SIZED(, n)                                                        \
    RD_TSAN_SIZED(volatile_, n)

#define RD_TSAN_UNALIGNED_SIZE(n)                                             \
    RD_TSAN_SIZE(n)                                                           \
    RD_TSAN_SIZED(unaligned_, n)                                              \
    RD_TSAN_SIZED(unaligned_volatile_, n)

RD_TSAN_SIZE(1)
RD_TSAN_UNALIGNED_SIZE(2)
RD_TSAN_UNALIGNED_SIZE(4)
RD_TSAN_UNALIGNED_SIZE(8)
RD_TSAN_UNALIGNED_SIZE(16)

/* Large copies, e.g. a struct assignment. */
void __tsan_read_range(void *a, size_t n)
{
    rd_tsan_access(a, n);
}

void __tsan_write_range(void *a, size_t n)
{
    rd_tsan_write(a, n);
}

/* C++ virtual-table pointer stores and loads. */
void __tsan_vptr_update(void **vptr, void *value)
{
    (void)value;
    rd_tsan_write(vptr, sizeof *vptr);
}

void __tsan_vptr_read(void **vptr)
{
    rd_tsan_access(vptr, sizeof *vptr);
}

/* The destination is logged before the copy, as for any store. */
void *__tsan_memcpy(void *dst, const void *src, size_t n)
{
    rd_tsan_write(dst, n);
    rd_tsan_access(src, n);
    return memcpy(dst, src, n);
}

void *__tsan_memmove(void *dst, const void *src, size_t n)
{
    rd_tsan_write(dst, n);
    rd_tsan_access(src, n);
    return memmove(dst, src, n);
}

void *__tsan_memset(void *dst, int c, size_t n)
{
    rd_tsan_write(dst, n);
    return memset(dst, c, n);
}

RD_TSAN_ATOMIC_WIDTH(8, uint8_t)
RD_TSAN_ATOMIC_WIDTH(16, uint16_t)
RD_TSAN_ATOMIC_WIDTH(32, uint32_t)
RD_TSAN_ATOMIC_WIDTH(64, uint64_t)

/* Fences are performed for real; like the operations, at full strength. */
void __tsan_atomic_thread_fence(int mo)
{
    (void)mo;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void __tsan_atomic_signal_fence(int mo)
{
    (void)mo;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}
