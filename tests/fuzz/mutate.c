/* mutate.c — see mutate.h. The generator is xorshift64*: tiny, fast and
 * good enough to pick mutations; nothing here needs statistical quality. */
#include "mutate.h"

#include <string.h>
#include "wire.h"

void rng_seed(struct rng *r, uint64_t seed)
{
    r->s = seed ? seed : 0x9e3779b97f4a7c15ull;
}

uint64_t rng_next(struct rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545f4914f6cdd1dull;
}

size_t rng_below(struct rng *r, size_t n)
{
    return (size_t)(rng_next(r) % n);
}

/* Values at the edges of what the parsers compare against. */
static uint32_t interesting(struct rng *r, size_t len)
{
    const uint32_t v[] = {
        0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000u, 0xffffffffu,
        sizeof(struct rv_hdr), RV_MAX_PAYLOAD, RV_MAX_PAYLOAD + 1, RV_WIRE_MAX_BODY,
        RV_WIRE_MAX_BODY + 1, RV_NAME_MAX, RV_ARGS_MAX, (uint32_t)len,
        (uint32_t)(len - sizeof(struct rv_hdr)),
    };
    return v[rng_below(r, sizeof v / sizeof *v)];
}

static void put32(uint8_t *buf, size_t len, size_t off, uint32_t v)
{
    if (off + sizeof v <= len)
        memcpy(buf + off, &v, sizeof v);
}

/* One edit; returns the new length. */
static size_t edit(struct rng *r, uint8_t *buf, size_t len, size_t cap)
{
    size_t pos = len ? rng_below(r, len) : 0;
    switch (rng_below(r, 10)) {
    case 0: if (len) buf[pos] ^= (uint8_t)(1u << rng_below(r, 8)); return len;
    case 1: if (len) buf[pos] = (uint8_t)rng_next(r); return len;
    case 2: /* the header's type */
        if (len > 3)
            buf[3] = (uint8_t)rng_next(r);
        return len;
    case 3: /* the header's length: an edge value, or the true one */
        put32(buf, len, 4, interesting(r, len));
        return len;
    case 4: put32(buf, len, len >= 4 ? rng_below(r, len - 3) : 0, interesting(r, len)); return len;
    case 5: return len ? rng_below(r, len + 1) : 0;   /* truncate */
    case 6: { /* insert random bytes */
        size_t n = 1 + rng_below(r, 32);
        if (len + n > cap)
            return len;
        memmove(buf + pos + n, buf + pos, len - pos);
        for (size_t i = 0; i < n; i++)
            buf[pos + i] = (uint8_t)rng_next(r);
        return len + n;
    }
    case 7: { /* delete a run */
        size_t n = len - pos ? 1 + rng_below(r, len - pos) : 0;
        memmove(buf + pos, buf + pos + n, len - pos - n);
        return len - n;
    }
    case 8: { /* grow a lot, to pass size limits */
        size_t n = rng_below(r, cap - len + 1);
        memset(buf + len, (int)rng_below(r, 256), n);
        return len + n;
    }
    default: { /* duplicate a chunk elsewhere */
        if (!len)
            return len;
        size_t src = rng_below(r, len), n = 1 + rng_below(r, len - src);
        size_t dst = rng_below(r, len - n + 1);
        memmove(buf + dst, buf + src, n);
        return len;
    }
    }
}

size_t mutate(struct rng *r, uint8_t *buf, size_t len, size_t cap)
{
    for (size_t k = 1 + rng_below(r, 8); k; k--)
        len = edit(r, buf, len, cap);
    return len;
}
