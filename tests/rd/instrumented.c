/* instrumented.c — the instrumented "service code" of test_instrument.c
 * (see instrumented.h). Built with rd_instrumented_dep, so every store
 * below reaches a __tsan_* hook; none of it knows about recovery domains.
 * Functions are noinline where the test depends on a store really going
 * through a pointer the compiler cannot see through.
 */
#include <string.h>

#include "instrumented.h"

static void scribble_fields(struct widths *w, unsigned seed)
{
    w->u8 = (uint8_t)(seed + 1);
    w->u16 = (uint16_t)(seed + 2);
    w->u32 = seed + 3;
    w->u64 = seed + 4ull;
    w->u128 = ((unsigned __int128)seed << 64) | 5;
}

static void scribble_elements(struct svc_state *s, unsigned seed)
{
    for (unsigned i = 0; i < SVC_ELEMS; i++) {
        s->a8[i] = (uint8_t)(seed + i);
        s->a16[i] = (uint16_t)(seed + i);
        s->a32[i] = seed + i;
        s->a64[i] = seed + (uint64_t)i;
        s->a128[i] = ((unsigned __int128)seed << 64) | i;
    }
}

static void scribble_bulk(struct svc_state *s, unsigned seed)
{
    static const char text[] = "abc";
    memcpy(s->small, text, 3);
    memset(s->small + 4, (int)seed, 8);
    memset(s->large, (int)seed, SVC_LARGE / 2);
    memcpy(s->large + SVC_LARGE / 2, s->large, SVC_LARGE / 2);
    memmove(s->large + 1, s->large + 7, 100);
}

__attribute__((noinline)) void svc_scribble(struct svc_state *s, unsigned seed)
{
    scribble_fields(&s->fields, seed);
    scribble_elements(s, seed);
    scribble_bulk(s, seed);
    s->copy = s->fields;
}

__attribute__((noinline)) void svc_store(int *p, int v)
{
    *p = v;
}

__attribute__((noinline)) int svc_load(const int *p)
{
    return *p;
}

__attribute__((noinline)) void svc_fill(char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (char)(i + 1);
}

__attribute__((noinline)) int svc_fill_local(void)
{
    char buf[64];
    svc_fill(buf, sizeof buf);
    return buf[sizeof buf - 1];
}

__attribute__((noinline)) void svc_bump(struct svc_counters *c)
{
    __atomic_fetch_add(&c->c8, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&c->c16, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&c->c32, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&c->c64, 1, __ATOMIC_RELAXED);
}
