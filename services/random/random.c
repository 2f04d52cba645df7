/* random.c — the `random` service: a per-client seeded PRNG.
 *
 * A type-1 server in CuriOS's terms: everything it knows about a client is
 * in that client's SSR (the generator state), so a restart loses nothing and
 * needs no recover hook. The generator is xoshiro256**, seeded with
 * splitmix64 as its authors recommend.
 *
 * Each number is computed twice, from two copies of the state, and the
 * results compared before anything is committed (the seeding at bind too): a corrupted register or
 * load in the arithmetic (a soft error, or rv-inject's R faults) would
 * otherwise yield a plausible wrong number that nothing downstream can tell
 * from a right one — the silent data corruption of the fault-injection
 * campaigns. A mismatch aborts the request, and the runtime's recovery
 * rolls the SSR back and re-runs it. The price is a few nanoseconds. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "random.h"
#include "revive/server.h"

#define RANDOM_SSR_LAYOUT 1

struct random_ssr {
    uint64_t s[4];
    uint64_t drawn;
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t xoshiro_next(uint64_t s[4])
{
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static int parse_seed(const char *args, uint64_t *seed)
{
    if (strncmp(args, "seed=", 5) != 0)
        return -1;
    char *end;
    errno = 0;
    *seed = strtoull(args + 5, &end, 0);
    return errno || end == args + 5 || *end ? -1 : 0;
}

static void seed_state(uint64_t seed, uint64_t s[4])
{
    for (int i = 0; i < 4; i++)
        s[i] = splitmix64(&seed);
}

/* Through a volatile pointer, as the generator below, so that the two
 * seedings stay two computations. */
static void (*volatile seeder)(uint64_t seed, uint64_t s[4]) = seed_state;

static int random_bind(rv_svc_session *s, void *ssr, const char *args)
{
    (void)s;
    struct random_ssr *r = ssr;
    uint64_t seed, twin[4];
    if (parse_seed(args, &seed) < 0)
        return RV_EAPP;
    seeder(seed, r->s);
    seeder(seed, twin);
    if (memcmp(r->s, twin, sizeof twin) != 0)
        abort();
    r->drawn = 0;
    return 0;
}

/* Called through a volatile pointer: the compiler cannot see that both
 * calls compute the same function of equal states, so it cannot fold the
 * second computation into the first (it did, with a direct call). */
static uint64_t (*volatile generator)(uint64_t s[4]) = xoshiro_next;

static uint64_t next_checked(uint64_t s[4])
{
    uint64_t twin[4];
    memcpy(twin, s, sizeof twin);
    uint64_t v = generator(s), w = generator(twin);
    if (v != w || memcmp(s, twin, sizeof twin) != 0)
        abort();
    return v;
}

static int random_handle(rv_request *req)
{
    struct random_ssr *r = req->ssr;
    if (req->op != RANDOM_NEXT)
        return RV_EAPP;
    uint64_t v = next_checked(r->s);
    r->drawn++;
    return rv_reply(req, &v, sizeof v);
}

/* All-zero state is the one state xoshiro can never leave or reach. */
static bool random_validate(rv_svc_session *s, const void *ssr)
{
    (void)s;
    const struct random_ssr *r = ssr;
    return r->s[0] | r->s[1] | r->s[2] | r->s[3];
}

int main(int argc, char **argv)
{
    static const struct rv_service_ops ops = {
        .ssr_layout = RANDOM_SSR_LAYOUT,
        .ssr_size = sizeof(struct random_ssr),
        .bind = random_bind,
        .handle = random_handle,
        .validate = random_validate,
    };
    return rv_service_main(&ops, argc, argv);
}
