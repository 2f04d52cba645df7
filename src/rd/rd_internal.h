/* rd_internal.h — the recovery-domain runtime's state, shared by the files
 * of src/rd (see include/revive/rd.h for the model, docs/rd.md for the
 * design).
 *
 * Two halves. Per thread (struct rd_thread, thread-local): the stack of open
 * domains, the undo log, the deferred releases; only the owner touches them,
 * so the common path takes no lock. Process-wide (graph.c, shadow.c): one
 * struct rd_node per logged domain in a pool that is never freed, the
 * dependence edges between nodes, and the shadow table that says which node
 * last wrote each 8-byte granule. The graph is guarded by one mutex; the
 * shadow table is lock-free (one atomic word per granule).
 *
 * The undo log is a stack shared by the thread's nested domains: each domain
 * remembers where the log stood when it began (its marks). Rolling a domain
 * back replays the records above its marks in reverse and truncates them;
 * merging a basic domain into its parent is free (the records stay, now
 * below nobody's mark but the parent's); committing truncates them.
 */
#ifndef RD_INTERNAL_H
#define RD_INTERNAL_H

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "revive/rd.h"

/* A growable array of fixed-size elements; memory never shrinks. */
struct rd_vec {
    void *data;
    size_t len, cap;    /* in elements */
};

/* One log record: restore `len` old bytes (kept in the byte pool at `off`)
 * to `addr`, call an undo function, or release a mutex taken inside the
 * domain. A published BYTES record also keeps, after the old bytes, the
 * shadow word each granule it covers held before the write (`prev`, one
 * uint64_t per granule), which the rollback puts back; `owner` is the id
 * of the node that wrote. `copied` is clear while the old bytes are being
 * copied: a fault in that copy leaves a record whose bytes were never
 * written, so the rollback restores only its shadow words. */
struct rd_rec {
    enum { RD_REC_BYTES, RD_REC_UNDO, RD_REC_LOCK } type;
    union {
        struct {
            void *addr;
            size_t len, off, prev;     /* prev: pool offset of the shadow words */
            uint64_t owner;            /* 0: not published (own stack) */
            int copied;
        } bytes;
        struct { rd_fn fn; void *arg; } undo;
        pthread_mutex_t *lock;
    } u;
};

struct rd_deferred {
    rd_fn fn;
    void *arg;
};

/* Where the log stood when a domain began. */
struct rd_marks {
    size_t recs, bytes, deferred;
};

struct rd_node;

struct rd_domain {
    sigjmp_buf pad;             /* the landing pad, armed by the caller */
    enum rd_kind kind;
    struct rd_node *node;       /* its node in the graph; NULL if unlogged */
    struct rd_domain *prev;     /* the domain active before this one */
    /* The logged domain that inherits this one's log on success: for a
     * basic domain its logged parent, for an unlogged one the nearest
     * logged ancestor (which receives its semantic undos); NULL for a root
     * and for reversible and transparent domains, which start a new tree. */
    struct rd_domain *parent;
    struct rd_marks marks;
    /* Stack addresses below this belong to frames created inside the
     * domain: never logged, never restored. */
    uintptr_t entry_sp;
};

/* A mutex taken inside a domain and not yet released: the rollback that
 * replays the RD_REC_LOCK record at `rec` unlocks it. */
struct rd_held {
    pthread_mutex_t *lock;
    size_t rec;
};

struct rd_thread {
    int ready;                  /* rd_thread_setup ran */
    pthread_t self;             /* for the cascade signal */
    struct rd_domain *top;      /* innermost open domain, or NULL */
    struct rd_domain *spare;    /* recycled domain structs (via prev) */
    struct rd_node *nodes;      /* free nodes kept by this thread (via next) */
    int depth;
    struct rd_vec recs;         /* struct rd_rec */
    struct rd_vec bytes;        /* char: old contents */
    struct rd_vec deferred;     /* struct rd_deferred */
    struct rd_vec held;         /* struct rd_held */
    uintptr_t stack_lo, stack_hi;   /* this thread's stack */
    void *altstack;             /* ours, or NULL if one was already set */
    size_t altstack_size;
    /* Nonzero while the runtime changes its own state: a fault then cannot
     * be blamed on a domain, so it escalates. */
    volatile sig_atomic_t in_runtime;
    /* A cascade signal arrived while in_runtime was set: the rollback it
     * asks for runs when the runtime is left (rd_runtime_leave). */
    volatile sig_atomic_t cascade_pending;
    /* The futex word a blocking wait of the runtime sleeps on, or NULL; the
     * cascade signal bumps it so the wait cannot miss the request. */
    int *volatile wait_word;
    /* The last writer this thread's innermost node was found to depend on:
     * a loop reading the same data takes the lock once. */
    uint64_t dep_seen;
    uint64_t dep_seen_by;
    int last_error;
};

extern __thread struct rd_thread rd_self;

/* ASan keeps shadow state for stack frames that a siglongjmp off the
 * alternate stack leaves behind; the runtime clears it (domain.c). */
#if defined(__SANITIZE_ADDRESS__)
#define RD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RD_ASAN 1
#endif
#endif

/* ------------------------------------------------------- graph (graph.c) */

enum rd_state {
    RD_NODE_FREE,
    RD_NODE_SPECULATIVE,    /* its domain is open on its owner's stack */
    RD_NODE_COMPLETED,      /* ended, waits for the nodes it depends on */
    RD_NODE_MERGED,         /* a basic domain merged into merged_into */
    RD_NODE_ROLLBACK,       /* condemned: its writes are being undone */
};

/* A completed domain's log, moved off its thread so the thread can go on
 * (and so another thread can undo it). Byte offsets are into `bytes`. */
struct rd_seg {
    struct rd_rec *recs;
    size_t nrecs;
    char *bytes;
    struct rd_deferred *deferred;
    size_t ndeferred;
};

struct rd_edges {
    struct rd_node **v;
    size_t n, cap;
};

/* A logged domain as the graph sees it. Nodes live in a pool that is never
 * freed, so another thread may look at a node it only knows by id without a
 * lock: the id carries the generation, which changes whenever the node is
 * released, and a stale id means "committed". */
struct rd_node {
    uint32_t idx;               /* place in the pool */
    uint32_t gen;               /* atomic; bumped when released */
    int state;                  /* atomic; enum rd_state */
    int code;                   /* RD_NODE_ROLLBACK: what its pad sees */
    enum rd_kind kind;
    struct rd_thread *owner;    /* the thread it ran on */
    struct rd_domain *domain;   /* while speculative */
    struct rd_node *merged_into;
    struct rd_node *children;   /* nodes merged into this one (via sibling) */
    struct rd_node *sibling;
    struct rd_edges deps;       /* nodes this one read (or overwrote) */
    struct rd_edges dependents; /* nodes that read this one's writes */
    struct rd_seg seg;          /* completed: its log */
    size_t undo_pos;            /* records of seg not yet undone */
    struct rd_node *work;       /* graph walks: the stack of nodes to visit */
    uint64_t mark;              /* graph walks: visited in walk number mark */
    struct rd_node *next;       /* the one list it is on: free, finals, orphans */
};

static inline uint64_t rd_node_id(const struct rd_node *n)
{
    return ((uint64_t)__atomic_load_n(&n->gen, __ATOMIC_ACQUIRE) << 32) | (n->idx + 1u);
}

/* Nonzero once a second thread has set up the runtime: until then no read
 * can see another thread's write, so the read hooks do nothing. */
extern int rd_multi;

void rd_graph_lock(struct rd_thread *t);
void rd_graph_unlock(struct rd_thread *t);
struct rd_node *rd_node_new(struct rd_thread *t, struct rd_domain *d);
/* The live node an id names (following merges), or NULL if committed. */
struct rd_node *rd_node_lookup(uint64_t id);
/* Is the writer `id` one of this thread's open domains (or merged into
 * one)? Then no edge is needed: nesting already orders them. Lock-free. */
int rd_node_is_mine(const struct rd_thread *t, uint64_t id);
/* Records that the innermost domain of t depends on the writer `id`
 * (graph lock held). Returns -1 if that writer (or t's domain) is
 * condemned, so t's domain must roll back too, -2 if out of memory (the
 * dependence cannot be honoured: roll back too); the caller rolls back
 * after unlocking. */
int rd_edge_add(struct rd_thread *t, uint64_t id);
/* Domain end, graph lock held: merge d into its logged parent. */
void rd_node_merge(struct rd_node *child, struct rd_node *parent);
/* Domain end, graph lock held: try to commit d's node; returns 1 if it
 * committed (the caller runs its deferred releases from the thread log),
 * 0 if it became completed (its log moved to the node). Nodes that could
 * commit because of this are put on *finals. */
int rd_node_end(struct rd_thread *t, struct rd_domain *d, struct rd_node **finals);
/* Runs the deferred releases of completed nodes that committed and frees
 * them (graph lock not held). */
void rd_finalize(struct rd_thread *t, struct rd_node *finals);
/* Condemns n and, transitively, every node that depends on it (graph lock
 * held). Completed nodes go on *orphans: the caller undoes their logs.
 * Speculative ones on other threads are sent the cascade signal. */
void rd_condemn(struct rd_thread *t, struct rd_node *n, int code, struct rd_node **orphans);
/* After the undo, graph lock held: forget n (and what merged into it). */
void rd_node_release(struct rd_node *n, struct rd_node **finals);
void rd_thread_unregister(struct rd_thread *t);

/* ----------------------------------------------------- shadow (shadow.c) */

#define RD_GRANULE 8u

/* The shadow word of the granule holding address a. */
uint64_t *rd_shadow_word(uintptr_t a);
int rd_shadow_init(void);
/* Tracks a read of [addr, addr+len) by t's innermost logged domain. */
void rd_track_read(struct rd_thread *t, const volatile void *addr, size_t len);
/* t's innermost domain read or overwrote the uncommitted write of `id`:
 * records the edge, or rolls the domain back if that writer is condemned. */
void rd_depend(struct rd_thread *t, uint64_t id);
/* Number of granules [a, a+len) touches. */
static inline size_t rd_granules(uintptr_t a, size_t len)
{
    return len ? ((a + len - 1) / RD_GRANULE) - (a / RD_GRANULE) + 1 : 0;
}

/* -------------------------------------------------- runtime sections */

static inline void rd_runtime_enter(struct rd_thread *t)
{
    t->in_runtime++;
}

/* Outside the runtime, a cascade that arrived meanwhile runs now. */
void rd_runtime_check(struct rd_thread *t);

static inline void rd_runtime_leave(struct rd_thread *t)
{
    t->in_runtime--;
    rd_runtime_check(t);
}

/* thread.c */
int rd_thread_setup(struct rd_thread *t);
int rd_on_own_stack(const struct rd_thread *t, uintptr_t a);

/* log.c */
int rd_logging(const struct rd_thread *t);
/* Room for `extra` more elements in v (growth runs inside the runtime). */
int rd_reserve(struct rd_thread *t, struct rd_vec *v, size_t extra, size_t elem);
struct rd_marks rd_log_marks(const struct rd_thread *t);
void rd_log_commit(struct rd_thread *t, const struct rd_marks *m);
void rd_log_truncate(struct rd_thread *t, const struct rd_marks *m);
/* Moves the log above m into a segment of its own (a completed domain):
 * records on this thread's stack and mutex records stay behind. */
int rd_log_detach(struct rd_thread *t, const struct rd_marks *m, struct rd_seg *seg);
void rd_log_release(struct rd_thread *t);
void rd_held_forget(struct rd_thread *t, size_t from_rec);
void rd_held_drop(struct rd_thread *t, size_t i);

/* undo.c */
/* Undoes t's log above `d`'s marks and the logs of the completed nodes on
 * `orphans`, newest first per log, interleaved across logs as the shadow
 * words allow (see undo.c), then truncates t's log. */
void rd_undo(struct rd_thread *t, const struct rd_domain *d, struct rd_node *orphans);
void rd_undo_wake(void);

/* domain.c */
__attribute__((noreturn)) void rd_unwind(struct rd_thread *t, int code);
/* Rolls the innermost domain back with `code`, or escalates with `sig` if
 * it cannot be blamed (no domain, unlogged, inside the runtime). */
__attribute__((noreturn)) void rd_fail(int sig, int code);
/* Rolls back to the lowest condemned domain on t's stack, if there is one
 * (the cascade signal's work); returns if there is none. */
void rd_cascade_self(struct rd_thread *t);
void rd_domain_pop(struct rd_thread *t, struct rd_domain *d);

/* fault.c */
int rd_setup(struct rd_thread *t);   /* handlers once per process, then t */
__attribute__((noreturn)) void rd_escalate(int sig, const char *why);
void rd_signal_thread(struct rd_thread *t);

/* lock.c */
/* Unlocks m and wakes the domains waiting for it in rd_mutex_lock. */
void rd_lock_released(pthread_mutex_t *m);

/* futex.c */
void rd_futex_wait(int *word, int val);
void rd_futex_wake(int *word);

#endif
