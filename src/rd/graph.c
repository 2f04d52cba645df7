/* graph.c — the dependence graph between recovery domains and the commit
 * protocol (paper §4.2-4.3).
 *
 * Every logged domain has a node. A node depends on another when its domain
 * read (or overwrote) a granule whose shadow word names the other as its
 * last writer while that one was not committed yet (shadow.c finds these).
 * States: speculative while the domain runs; completed when it ended but
 * still depends on uncommitted nodes (its log then moves into the node, so
 * its thread can go on and another thread can undo it); committed when
 * nothing it depends on, transitively, is speculative — a completed node
 * commits together with everything completed it reaches, which is how a
 * cycle collapses: all of its members commit at once. A committed node
 * leaves the graph: its generation changes, so every shadow word that still
 * names it now reads as committed, and nothing has to walk its writes.
 *
 * A basic domain ending inside a logged parent merges into it: its edges
 * move to the parent and it stays in the pool, named by its old writes,
 * until the parent commits or rolls back. A reversible domain that cannot
 * commit at once makes its parent depend on it (§4.3: if another thread's
 * failure rolls it back, the parent used its result and must go too). A
 * transparent domain drops its dependences and commits at once.
 *
 * Condemning a node (a fault, or a cascade) marks it and everything that
 * depends on it, transitively, for rollback. Speculative ones on other
 * threads get the cascade signal (fault.c) and roll themselves back;
 * completed ones have no landing pad any more, so the condemning thread
 * undoes their logs itself (undo.c).
 *
 * One mutex guards the graph; it is taken at domain ends and when an
 * access finds another domain's uncommitted write, never per access. Nodes
 * live in chunks that are never freed, so the lock-free checks of shadow.c
 * may look at any node an id names.
 */
#include <stdlib.h>

#include "rd_internal.h"

#define CHUNK_BITS 8
#define CHUNK (1u << CHUNK_BITS)
#define MAX_CHUNKS (1u << 16)        /* 16 M nodes */
#define CACHE_BATCH 16

static pthread_mutex_t graph_mu = PTHREAD_MUTEX_INITIALIZER;
static struct rd_node *chunks[MAX_CHUNKS];
static uint32_t nchunks;             /* atomic */
static struct rd_node *free_nodes;
static uint64_t walk;                /* number of the current graph walk */
int rd_multi;

void rd_graph_lock(struct rd_thread *t)
{
    rd_runtime_enter(t);
    pthread_mutex_lock(&graph_mu);
}

/* Does not run a cascade that arrived meanwhile: the caller may still have
 * work to finish (rd_runtime_check, where it is safe). */
void rd_graph_unlock(struct rd_thread *t)
{
    pthread_mutex_unlock(&graph_mu);
    t->in_runtime--;
}

static struct rd_node *node_at(uint32_t idx)
{
    if (idx >= (uint64_t)__atomic_load_n(&nchunks, __ATOMIC_ACQUIRE) * CHUNK)
        return NULL;
    return &chunks[idx >> CHUNK_BITS][idx & (CHUNK - 1)];
}

/* Graph lock held. */
static int grow_pool(void)
{
    if (nchunks == MAX_CHUNKS)
        return -1;
    struct rd_node *c = calloc(CHUNK, sizeof *c);
    if (!c)
        return -1;
    for (uint32_t i = 0; i < CHUNK; i++) {
        c[i].idx = nchunks * CHUNK + i;
        c[i].gen = 1;
        c[i].next = i + 1 < CHUNK ? &c[i + 1] : free_nodes;
    }
    free_nodes = c;
    chunks[nchunks] = c;
    __atomic_store_n(&nchunks, nchunks + 1, __ATOMIC_RELEASE);
    return 0;
}

/* Takes a batch of free nodes for the thread's own cache, so opening a
 * domain takes the lock only once every CACHE_BATCH domains. */
static int refill(struct rd_thread *t)
{
    rd_graph_lock(t);
    for (int i = 0; i < CACHE_BATCH; i++) {
        if (!free_nodes && grow_pool() != 0)
            break;
        struct rd_node *n = free_nodes;
        free_nodes = n->next;
        n->next = t->nodes;
        t->nodes = n;
    }
    rd_graph_unlock(t);
    return t->nodes ? 0 : -1;
}

struct rd_node *rd_node_new(struct rd_thread *t, struct rd_domain *d)
{
    if (!t->nodes && refill(t) != 0)
        return NULL;
    struct rd_node *n = t->nodes;
    t->nodes = n->next;
    n->next = NULL;
    n->kind = d->kind;
    n->owner = t;
    n->domain = d;
    n->merged_into = n->children = n->sibling = NULL;
    n->code = 0;
    n->seg = (struct rd_seg){ 0 };
    n->undo_pos = 0;
    __atomic_store_n(&n->state, RD_NODE_SPECULATIVE, __ATOMIC_RELEASE);
    return n;
}

static struct rd_node *resolve(struct rd_node *n)
{
    while (__atomic_load_n(&n->state, __ATOMIC_ACQUIRE) == RD_NODE_MERGED)
        n = n->merged_into;
    return n;
}

struct rd_node *rd_node_lookup(uint64_t id)
{
    struct rd_node *n = node_at((uint32_t)id - 1);
    if (!n || __atomic_load_n(&n->gen, __ATOMIC_ACQUIRE) != (uint32_t)(id >> 32))
        return NULL;
    n = resolve(n);
    return __atomic_load_n(&n->state, __ATOMIC_ACQUIRE) == RD_NODE_FREE ? NULL : n;
}

/* Lock-free, like a seqlock: the fields read may belong to a node being
 * recycled, so the generation is checked again at the end. A node owned by
 * t changes from speculative or merged only by t's own hand, so "mine and
 * open" is stable while t asks. */
int rd_node_is_mine(const struct rd_thread *t, uint64_t id)
{
    struct rd_node *n = node_at((uint32_t)id - 1);
    uint32_t gen = (uint32_t)(id >> 32);
    if (!n || __atomic_load_n(&n->gen, __ATOMIC_ACQUIRE) != gen)
        return 1;                              /* committed */
    if (__atomic_load_n(&n->owner, __ATOMIC_RELAXED) != t)
        return 0;
    struct rd_node *r = resolve(n);
    int open = __atomic_load_n(&r->state, __ATOMIC_ACQUIRE) == RD_NODE_SPECULATIVE;
    return open && __atomic_load_n(&n->gen, __ATOMIC_ACQUIRE) == gen;
}

/* ------------------------------------------------------------------ edges */

static int edges_has(const struct rd_edges *e, const struct rd_node *n)
{
    for (size_t i = 0; i < e->n; i++)
        if (e->v[i] == n)
            return 1;
    return 0;
}

static int edges_put(struct rd_edges *e, struct rd_node *n)
{
    if (edges_has(e, n))
        return 0;
    if (e->n == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 4;
        struct rd_node **v = realloc(e->v, cap * sizeof *v);
        if (!v)
            return -1;
        e->v = v;
        e->cap = cap;
    }
    e->v[e->n++] = n;
    return 0;
}

static void edges_drop(struct rd_edges *e, const struct rd_node *n)
{
    for (size_t i = 0; i < e->n; i++)
        if (e->v[i] == n) {
            e->v[i] = e->v[--e->n];
            return;
        }
}

/* from depends on to; -1 if out of memory. */
static int add_edge(struct rd_node *from, struct rd_node *to)
{
    if (edges_put(&from->deps, to) != 0)
        return -1;
    if (edges_put(&to->dependents, from) != 0) {
        edges_drop(&from->deps, to);
        return -1;
    }
    return 0;
}

int rd_edge_add(struct rd_thread *t, uint64_t id)
{
    struct rd_node *me = resolve(t->top->node);
    struct rd_node *w = rd_node_lookup(id);
    if (me->state == RD_NODE_ROLLBACK)
        return -1;
    if (!w || w == me)
        return 0;
    if (w->state == RD_NODE_ROLLBACK)
        return -1;
    if (w->owner == t && w->state == RD_NODE_SPECULATIVE)
        return 0;          /* an enclosing domain of ours: nesting orders it */
    return add_edge(me, w) == 0 ? 0 : -2;
}

void rd_node_merge(struct rd_node *child, struct rd_node *parent)
{
    for (size_t i = 0; i < child->deps.n; i++) {
        struct rd_node *x = child->deps.v[i];
        edges_drop(&x->dependents, child);
        if (x != parent && add_edge(parent, x) != 0)
            rd_escalate(SIGABRT, "out of memory recording a dependence");
    }
    for (size_t i = 0; i < child->dependents.n; i++) {
        struct rd_node *y = child->dependents.v[i];
        edges_drop(&y->deps, child);
        if (y != parent && add_edge(y, parent) != 0)
            rd_escalate(SIGABRT, "out of memory recording a dependence");
    }
    child->deps.n = child->dependents.n = 0;
    child->merged_into = parent;
    child->domain = NULL;
    child->sibling = parent->children;
    parent->children = child;
    __atomic_store_n(&child->state, RD_NODE_MERGED, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------ leaving the graph */

static void free_node(struct rd_node *n)
{
    for (struct rd_node *c = n->children, *next; c; c = next) {
        next = c->sibling;
        free_node(c);
    }
    __atomic_store_n(&n->state, RD_NODE_FREE, __ATOMIC_RELEASE);
    n->next = free_nodes;
    free_nodes = n;
}

/* Bumping the generation is what commits a node's writes: every shadow
 * word naming it (or a node merged into it) reads as committed from now. */
static void retire(struct rd_node *n)
{
    for (struct rd_node *c = n->children; c; c = c->sibling)
        retire(c);
    __atomic_store_n(&n->gen, n->gen + 1, __ATOMIC_RELEASE);
}

static void try_commit(struct rd_node *start, struct rd_node **finals);

/* Takes n out of the graph; completed nodes that only waited for n get a
 * chance to commit. */
static void unlink_node(struct rd_node *n, struct rd_node **finals)
{
    retire(n);
    for (size_t i = 0; i < n->deps.n; i++)
        edges_drop(&n->deps.v[i]->dependents, n);
    for (size_t i = 0; i < n->dependents.n; i++)
        edges_drop(&n->dependents.v[i]->deps, n);
    size_t nd = n->dependents.n;
    n->deps.n = n->dependents.n = 0;
    for (size_t i = 0; i < nd; i++) {
        struct rd_node *y = n->dependents.v[i];
        if (y->state == RD_NODE_COMPLETED)
            try_commit(y, finals);
    }
}

void rd_node_release(struct rd_node *n, struct rd_node **finals)
{
    unlink_node(n, finals);
    free_node(n);
}

/* A completed node commits when nothing it reaches through its
 * dependences is speculative (or condemned); everything it reaches is then
 * completed too and commits with it — a cycle of completed nodes commits as
 * one. The committed nodes go on *finals: their deferred releases run once
 * the lock is dropped. */
static void try_commit(struct rd_node *start, struct rd_node **finals)
{
    uint64_t w = ++walk;
    struct rd_node *stack = start, *seen = NULL;
    start->mark = w;
    start->work = NULL;
    int ok = 1;
    while (stack) {
        struct rd_node *x = stack;
        stack = x->work;
        x->work = seen;     /* reuse: the list of visited nodes */
        seen = x;
        if (x->state != RD_NODE_COMPLETED) {
            ok = 0;
            break;
        }
        for (size_t i = 0; i < x->deps.n; i++) {
            struct rd_node *y = x->deps.v[i];
            if (y->mark != w) {
                y->mark = w;
                y->work = stack;
                stack = y;
            }
        }
    }
    if (!ok)
        return;
    /* All of them leave the graph. Unlinking one may start a nested walk
     * for its dependents, which reuses `work`, so the set is first moved to
     * *finals (via next) and walked there. */
    struct rd_node *stop = *finals;
    for (struct rd_node *x = seen; x; x = x->work) {
        __atomic_store_n(&x->state, RD_NODE_FREE, __ATOMIC_RELEASE);
        x->next = *finals;
        *finals = x;
    }
    for (struct rd_node *x = *finals; x != stop; x = x->next)
        unlink_node(x, finals);
}

int rd_node_end(struct rd_thread *t, struct rd_domain *d, struct rd_node **finals)
{
    struct rd_node *n = d->node;
    if (d->kind == RD_TRANSPARENT)
        for (size_t i = 0; i < n->deps.n; i++)
            edges_drop(&n->deps.v[i]->dependents, n);
    if (d->kind == RD_TRANSPARENT)
        n->deps.n = 0;
    if (n->deps.n == 0) {
        rd_node_release(n, finals);
        return 1;
    }
    if (rd_log_detach(t, &d->marks, &n->seg) != 0)
        rd_escalate(SIGABRT, "out of memory keeping a completed domain's log");
    n->domain = NULL;
    __atomic_store_n(&n->state, RD_NODE_COMPLETED, __ATOMIC_RELEASE);
    struct rd_node *parent = d->prev ? d->prev->node : NULL;
    if (d->kind == RD_REVERSIBLE && parent && add_edge(resolve(parent), n) != 0)
        rd_escalate(SIGABRT, "out of memory recording a dependence");
    try_commit(n, finals);
    return 0;
}

void rd_finalize(struct rd_thread *t, struct rd_node *finals)
{
    struct rd_node *done = finals;
    rd_runtime_enter(t);
    for (struct rd_node *n = finals; n; n = n->next) {
        for (size_t i = 0; i < n->seg.ndeferred; i++)
            n->seg.deferred[i].fn(n->seg.deferred[i].arg);
        free(n->seg.recs);
        free(n->seg.bytes);
        free(n->seg.deferred);
        n->seg = (struct rd_seg){ 0 };
    }
    t->in_runtime--;
    if (!done)
        return;
    rd_graph_lock(t);
    for (struct rd_node *n = done, *next; n; n = next) {
        next = n->next;
        free_node(n);
    }
    rd_graph_unlock(t);
}

/* ------------------------------------------------------------ condemning */

void rd_condemn(struct rd_thread *t, struct rd_node *n, int code, struct rd_node **orphans)
{
    uint64_t w = ++walk;
    n = resolve(n);
    n->mark = w;
    n->work = NULL;
    struct rd_node *stack = n;
    while (stack) {
        struct rd_node *x = stack;
        stack = x->work;
        int was = x->state;
        if (was == RD_NODE_SPECULATIVE || was == RD_NODE_COMPLETED) {
            x->code = x == n ? code : RD_ECASCADE;
            __atomic_store_n(&x->state, RD_NODE_ROLLBACK, __ATOMIC_RELEASE);
        }
        if (was == RD_NODE_COMPLETED) {
            x->undo_pos = x->seg.nrecs;
            x->next = *orphans;
            *orphans = x;
        } else if (was == RD_NODE_SPECULATIVE && x->owner != t) {
            rd_signal_thread(x->owner);
        }
        for (size_t i = 0; i < x->dependents.n; i++) {
            struct rd_node *y = x->dependents.v[i];
            if (y->mark != w) {
                y->mark = w;
                y->work = stack;
                stack = y;
            }
        }
    }
}

/* A thread that exits gives its cached nodes back. */
void rd_thread_unregister(struct rd_thread *t)
{
    if (!t->nodes)
        return;
    rd_graph_lock(t);
    while (t->nodes) {
        struct rd_node *n = t->nodes;
        t->nodes = n->next;
        n->next = free_nodes;
        free_nodes = n;
    }
    rd_graph_unlock(t);
}
