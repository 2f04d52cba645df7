/* tsan.h — what the __tsan_* entry points (tsan_hooks.c, tsan_atomic128.c)
 * do with each access the compiler reports, and the generator of the
 * atomic entry points, shared by the two files.
 *
 * Code compiled with -fsanitize=thread calls a hook before every memory
 * access; revive links its own hooks instead of libtsan (as the Linux
 * kernel's KCSAN does). A write is undo-logged before it happens; a read or
 * an atomic access is a point where the cross-thread dependence graph will
 * record who saw whose data. These files are never compiled with the
 * instrumentation themselves (the hooks would call themselves).
 */
#ifndef RD_TSAN_H
#define RD_TSAN_H

#include "rd_internal.h"

/* Every instrumented store goes through here, so the test outside logged
 * domains must cost no more than a thread-local load: it is rd_logging()
 * inlined. rd_log_range reads the old bytes before it changes any runtime
 * state, so a bad pointer faults inside it as the domain's own fault. */
static inline void rd_tsan_write(const volatile void *addr, size_t len)
{
    const struct rd_domain *d = rd_self.top;
    if (__builtin_expect(d != NULL && d->kind != RD_UNLOGGED, 0))
        rd_log_range(addr, len);
}

/* Reads and atomic accesses: a read of another domain's uncommitted write
 * makes the reading domain depend on the writer (paper §4.2, shadow.c).
 * Until a second thread uses the runtime there is nobody else's write to
 * see, so a one-threaded process pays a global load and a thread-local
 * load per read. */
static inline void rd_tsan_access(const volatile void *addr, size_t len)
{
    if (__builtin_expect(__atomic_load_n(&rd_multi, __ATOMIC_RELAXED), 0)) {
        struct rd_thread *t = &rd_self;
        if (t->top && t->top->node)
            rd_track_read(t, addr, len);
    }
}

/* The atomic entry points for one width. An atomic operation is performed
 * for real and never undo-logged: other threads may already have acted on
 * its result, so it is tracked for dependences instead (paper §4.2).
 * The ABI passes the memory order as a runtime value, and the __atomic
 * builtins want a constant to use anything weaker than sequential
 * consistency; seq_cst is at least as strong as any order asked for, so it
 * is always correct. A weak compare-exchange may fail spuriously, so doing
 * it strongly is correct too. */
#define RD_TSAN_RMW(bits, T, op)                                              \
    T __tsan_atomic##bits##_fetch_##op(volatile T *a, T v, int mo)           \
    {                                                                         \
        (void)mo;                                                             \
        rd_tsan_access(a, sizeof(T));                                         \
        return __atomic_fetch_##op(a, v, __ATOMIC_SEQ_CST);                   \
    }

#define RD_TSAN_CAS(bits, T, strength)                                        \
    int __tsan_atomic##bits##_compare_exchange_##strength(volatile T *a, T *c, \
                                                         T v, int mo, int fmo) \
    {                                                                         \
        (void)mo;                                                             \
        (void)fmo;                                                            \
        rd_tsan_access(a, sizeof(T));                                         \
        return __atomic_compare_exchange_n(a, c, v, 0, __ATOMIC_SEQ_CST,      \
                                           __ATOMIC_SEQ_CST);                 \
    }

#define RD_TSAN_ATOMICS(bits, T)                                              \
    T __tsan_atomic##bits##_load(const volatile T *a, int mo)                \
    {                                                                         \
        (void)mo;                                                             \
        rd_tsan_access(a, sizeof(T));                                         \
        return __atomic_load_n(a, __ATOMIC_SEQ_CST);                          \
    }                                                                         \
    void __tsan_atomic##bits##_store(volatile T *a, T v, int mo)             \
    {                                                                         \
        (void)mo;                                                             \
        rd_tsan_access(a, sizeof(T));                                         \
        __atomic_store_n(a, v, __ATOMIC_SEQ_CST);                             \
    }                                                                         \
    T __tsan_atomic##bits##_exchange(volatile T *a, T v, int mo)             \
    {                                                                         \
        (void)mo;                                                             \
        rd_tsan_access(a, sizeof(T));                                         \
        return __atomic_exchange_n(a, v, __ATOMIC_SEQ_CST);                   \
    }                                                                         \
    T __tsan_atomic##bits##_compare_exchange_val(volatile T *a, T c, T v,    \
                                                 int mo, int fmo)            \
    {                                                                         \
        __tsan_atomic##bits##_compare_exchange_strong(a, &c, v, mo, fmo);    \
        return c;                                                             \
    }                                                                         \
    RD_TSAN_RMW(bits, T, add)                                                 \
    RD_TSAN_RMW(bits, T, sub)                                                 \
    RD_TSAN_RMW(bits, T, and)                                                 \
    RD_TSAN_RMW(bits, T, or)                                                  \
    RD_TSAN_RMW(bits, T, xor)                                                 \
    RD_TSAN_RMW(bits, T, nand)

/* The compare-exchanges come first: compare_exchange_val calls one. */
#define RD_TSAN_ATOMIC_WIDTH(bits, T)                                         \
    RD_TSAN_CAS(bits, T, strong)                                              \
    RD_TSAN_CAS(bits, T, weak)                                                \
    RD_TSAN_ATOMICS(bits, T)

#endif
