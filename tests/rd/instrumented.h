/* instrumented.h — the "service code" of test_instrument.c: functions
 * compiled with revive's automatic instrumentation (rd_instrumented_dep)
 * that write memory the ways real code does. They never call rd_*: every
 * store they make is logged by the __tsan_* hooks alone.
 */
#ifndef TEST_RD_INSTRUMENTED_H
#define TEST_RD_INSTRUMENTED_H

#include <stddef.h>
#include <stdint.h>

/* One field per access width the compiler reports (1, 2, 4, 8, 16). */
struct widths {
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    unsigned __int128 u128;
};

#define SVC_ELEMS 4
#define SVC_LARGE 8192

struct svc_state {
    struct widths fields;
    struct widths copy;                 /* a struct assignment */
    uint8_t a8[SVC_ELEMS];
    uint16_t a16[SVC_ELEMS];
    uint32_t a32[SVC_ELEMS];
    uint64_t a64[SVC_ELEMS];
    unsigned __int128 a128[SVC_ELEMS];
    char small[16];
    char large[SVC_LARGE];
};

/* Overwrites every byte of *s that it covers with values derived from
 * `seed`: fields through the pointer, array elements, a struct copy,
 * memcpy/memset/memmove of small and large sizes. */
void svc_scribble(struct svc_state *s, unsigned seed);

/* A single int store through p (the bad-pointer tests). */
void svc_store(int *p, int v);

/* Returns *p: a plain load, which the read hook reports. */
int svc_load(const int *p);

/* Writes n bytes at p, one by one. */
void svc_fill(char *p, size_t n);

/* svc_fill on a local array of its own frame; returns its last byte. */
int svc_fill_local(void);

struct svc_counters {
    uint8_t c8;
    uint16_t c16;
    uint32_t c32;
    uint64_t c64;
};

/* Atomically adds 1 to every counter. */
void svc_bump(struct svc_counters *c);

#endif
