/* bench_ht.c — the in-process workload of the recovery-domain benchmark
 * (bench_rd.c): an open-addressing hash table of 64-bit keys and values
 * under a mix of lookups, inserts/updates and deletes.
 *
 * Compiled twice from this one file: plainly (HT_FN(x) = ht_plain_x) and
 * with the compiler's store instrumentation and revive's hooks
 * (HT_FN(x) = ht_inst_x, rd_instrumented_dep), so the two differ in
 * nothing but the instrumentation. A table-driven workload is where the
 * hooks cost most (nearly every instruction touches memory), which makes
 * it an upper bound for a service. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "bench_ht.h"

#define SLOTS (1u << 16)           /* a power of two */
#define KEYS (SLOTS / 4)           /* distinct keys: the load stays at most a quarter */
#define EMPTY 0

struct ht {
    uint64_t key[SLOTS];
    uint64_t val[SLOTS];
    uint64_t live;
};

struct ht *HT_FN(new)(void) { return calloc(1, sizeof(struct ht)); }
void HT_FN(free)(struct ht *t) { free(t); }

static uint32_t home(uint64_t k)
{
    k *= 0x9e3779b97f4a7c15ull;
    return (uint32_t)(k >> 48) & (SLOTS - 1);
}

/* Linear probing: the slot holding k, or the empty slot that ends its run. */
static uint32_t probe(const struct ht *t, uint64_t k)
{
    uint32_t i = home(k);
    while (t->key[i] != k && t->key[i] != EMPTY)
        i = (i + 1) & (SLOTS - 1);
    return i;
}

/* Deletion without tombstones (Knuth, algorithm R): later entries of the
 * run move back into the hole when their home allows it. */
static void erase(struct ht *t, uint32_t i)
{
    for (uint32_t j = (i + 1) & (SLOTS - 1); t->key[j] != EMPTY; j = (j + 1) & (SLOTS - 1)) {
        uint32_t h = home(t->key[j]);
        if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) {
            t->key[i] = t->key[j];
            t->val[i] = t->val[j];
            i = j;
        }
    }
    t->key[i] = EMPTY;
}

uint64_t HT_FN(op)(struct ht *t, uint64_t r)
{
    uint64_t k = (r >> 8) % KEYS + 1, kind = r & 0xff;
    uint32_t i = probe(t, k);
    int found = t->key[i] == k;
    if (kind < 128)                         /* 50%: look up */
        return found ? t->val[i] : 0;
    if (kind < 230) {                       /* 40%: insert or update */
        if (!found) {
            t->key[i] = k;
            t->live++;
        }
        t->val[i] = r;
        return 1;
    }
    if (found) {                            /* 10%: delete */
        erase(t, i);
        t->live--;
    }
    return found;
}
