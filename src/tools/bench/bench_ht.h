/* bench_ht.h — the hash-table workload of bench_rd.c, in two builds of the
 * same source (bench_ht.c): ht_plain_* and ht_inst_* (instrumented). */
#ifndef RV_BENCH_HT_H
#define RV_BENCH_HT_H

#include <stdint.h>

#ifndef HT_FN
#define HT_FN(x) ht_plain_##x
#endif

struct ht;
struct ht *ht_plain_new(void);
void ht_plain_free(struct ht *t);
uint64_t ht_plain_op(struct ht *t, uint64_t r);   /* one operation chosen by r */
struct ht *ht_inst_new(void);
void ht_inst_free(struct ht *t);
uint64_t ht_inst_op(struct ht *t, uint64_t r);

#endif
