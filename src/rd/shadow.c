/* shadow.c — who last wrote each location, for the dependence graph
 * (paper §4.2: "metadata maintained by the run-time is consulted to check
 * if the location contains a committed value").
 *
 * Memory is split into 8-byte granules; each maps to one 64-bit shadow word
 * holding the id (graph.c: pool index and generation) of the node whose
 * logged write came last. A word never has to be cleared at commit: the
 * committed node's generation changed, so the old id reads as committed.
 *
 * The table is direct-mapped and tagless (32 MiB of address space, mapped
 * lazily): granules that collide share a word. That is sound, because a
 * writer that finds another uncommitted writer's id in the word it
 * overwrites depends on that writer (an overwrite is a dependence too: the
 * earlier writer's rollback would restore its pre-image over this write), so
 * nothing a word used to say is ever lost — a collision can only add a
 * dependence that is not real. Neighbouring granules get neighbouring
 * words, so a sequential write touches consecutive cache lines.
 *
 * Reads are tracked only once a second thread uses the runtime (rd_multi):
 * one thread's domains are ordered by nesting and need no edges. Writes are
 * always published, so a thread that arrives later sees them.
 *
 * The words are read and written with plain atomic loads and stores, not
 * read-modify-write: in a data-race-free program two writes of the same
 * granule are ordered by the program's own synchronisation, and so are a
 * write and a read (docs/rd.md: racy plain accesses may miss a dependence).
 */
#include <sys/mman.h>

#include "rd_internal.h"

#define SHADOW_BITS 22
#define SHADOW_WORDS (1u << SHADOW_BITS)

static uint64_t *shadow;

int rd_shadow_init(void)
{
    void *p = mmap(NULL, SHADOW_WORDS * sizeof(uint64_t), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    shadow = p;
    return 0;
}

/* Folding the bits above the table size in keeps regions 32 MiB apart
 * (heap, globals, stacks) from landing on the same words. */
uint64_t *rd_shadow_word(uintptr_t a)
{
    uintptr_t g = a / RD_GRANULE;
    return &shadow[(g ^ (g >> SHADOW_BITS)) & (SHADOW_WORDS - 1)];
}

void rd_depend(struct rd_thread *t, uint64_t id)
{
    uint64_t me = rd_node_id(t->top->node);
    if (id == t->dep_seen && me == t->dep_seen_by)
        return;
    rd_graph_lock(t);
    int r = rd_edge_add(t, id);
    rd_graph_unlock(t);
    if (r != 0)
        rd_unwind(t, r == -1 ? RD_ECASCADE : RD_ENOMEM);
    t->dep_seen = id;
    t->dep_seen_by = me;
    rd_runtime_check(t);
}

void rd_track_read(struct rd_thread *t, const volatile void *addr, size_t len)
{
    uintptr_t a = (uintptr_t)addr;
    size_t n = rd_granules(a, len);
    for (size_t i = 0; i < n; i++) {
        uint64_t id = __atomic_load_n(rd_shadow_word(a + i * RD_GRANULE), __ATOMIC_ACQUIRE);
        if (id && !rd_node_is_mine(t, id))
            rd_depend(t, id);
    }
}

void rd_note_read(const volatile void *addr, size_t len)
{
    struct rd_thread *t = &rd_self;
    if (__atomic_load_n(&rd_multi, __ATOMIC_RELAXED) && rd_logging(t))
        rd_track_read(t, addr, len);
}
