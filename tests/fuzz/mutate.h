/* mutate.h — a deterministic random generator and a byte mutator for revive's
 * fuzzers (the stand-alone driver of fuzz_wire and the live fuzz of revived).
 *
 * Runs are reproducible: the same seed gives the same inputs. The mutator
 * knows the 24-byte wire header (wire.h), so besides blind byte edits it
 * also rewrites the type and length fields, which is where parsers go wrong.
 */
#ifndef RV_FUZZ_MUTATE_H
#define RV_FUZZ_MUTATE_H

#include <stddef.h>
#include <stdint.h>

struct rng {
    uint64_t s;
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* A number in [0, n); n > 0. */
size_t rng_below(struct rng *r, size_t n);

/* Applies 1 to 8 random edits to buf[0..len) (capacity cap) and returns the
 * new length, at most cap. */
size_t mutate(struct rng *r, uint8_t *buf, size_t len, size_t cap);

#endif
