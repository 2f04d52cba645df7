/* domain.c — opening, ending and rolling back recovery domains on one
 * thread (paper §4.1 and §4.4); graph.c decides, across threads, when an
 * ended domain commits and which domains a failure condemns.
 *
 * A thread's open domains form a stack (rd_domain.prev). What a domain does
 * when it ends depends on its kind and on who is below it:
 *   - a basic domain whose parent is logged merges: its records and deferred
 *     releases stay in the log, now the parent's to commit or undo;
 *   - a basic domain without a logged parent (a root), a reversible and a
 *     transparent domain commit: deferred releases run, records are dropped,
 *     so no later rollback can undo them;
 *   - an unlogged domain logged no writes; the semantic undos registered in
 *     it go to the nearest logged ancestor, as a basic merge does.
 * A root that still depends on uncommitted domains of other threads does
 * not commit when it ends: it becomes completed, its log moves into its
 * node, and it commits later, possibly from another thread (graph.c).
 *
 * A rollback starts from a failure of the innermost domain (a fault,
 * rd_abort) or from a cascade: another thread's failure condemned domains
 * of this thread that depend on it. Either way the thread rolls back to the
 * lowest condemned domain on its stack — everything above it is nested in
 * it — condemning, on the way, whatever depends on the domains it pops.
 * Then it undoes its log down to that domain (together with the logs of
 * completed domains it condemned, whose threads have moved on), and jumps
 * to that domain's landing pad. In a transparent domain that landing pad
 * simply skips the domain.
 */
#include <stdio.h>
#include <stdlib.h>

#include "rd_internal.h"

#ifdef RD_ASAN
#include <sanitizer/asan_interface.h>
#endif

/* Who inherits d's log when it ends successfully (see rd_domain.parent). */
static struct rd_domain *heir(enum rd_kind kind, struct rd_domain *prev)
{
    if (!prev || kind == RD_REVERSIBLE || kind == RD_TRANSPARENT)
        return NULL;
    if (prev->kind != RD_UNLOGGED)
        return prev;
    return kind == RD_UNLOGGED ? prev->parent : NULL;
}

static struct rd_domain *domain_alloc(struct rd_thread *t)
{
    struct rd_domain *d = t->spare;
    if (d) {
        t->spare = d->prev;
        return d;
    }
    rd_runtime_enter(t);
    d = malloc(sizeof *d);
    t->in_runtime--;
    return d;
}

void rd_domain_pop(struct rd_thread *t, struct rd_domain *d)
{
    t->top = d->prev;
    t->depth--;
    d->prev = t->spare;
    t->spare = d;
}

/* noinline: the boundary between the caller's frame and frames the domain
 * creates is this function's own frame, which sits just below the caller's
 * stack pointer and is gone once it returns. Every frame the domain body
 * creates lies below it; the caller's locals lie above it. */
__attribute__((noinline)) sigjmp_buf *rd_begin(enum rd_kind kind)
{
    struct rd_thread *t = &rd_self;
    if (!t->ready && rd_setup(t) != 0)
        rd_escalate(SIGABRT, "cannot set up recovery domains on this thread");
    rd_runtime_check(t);
    struct rd_domain *d = domain_alloc(t);
    if (!d)
        rd_escalate(SIGABRT, "out of memory opening a recovery domain");
    d->node = NULL;
    if (kind != RD_UNLOGGED && !(d->node = rd_node_new(t, d)))
        rd_escalate(SIGABRT, "out of memory opening a recovery domain");
    d->kind = kind;
    d->prev = t->top;
    d->parent = heir(kind, t->top);
    d->marks = rd_log_marks(t);
    d->entry_sp = (uintptr_t)__builtin_frame_address(0);
    t->top = d;
    t->depth++;
    return &d->pad;
}

/* An unlogged domain has no node: its semantic undos stay in the log for
 * the logged ancestor that inherits them, or, without one, it commits. */
static void end_unlogged(struct rd_thread *t, struct rd_domain *d)
{
    struct rd_marks m = d->marks;
    int merge = d->parent != NULL;
    rd_domain_pop(t, d);
    if (merge)
        return;
    rd_runtime_enter(t);
    rd_log_commit(t, &m);
    rd_runtime_leave(t);
}

void rd_commit(void)
{
    struct rd_thread *t = &rd_self;
    struct rd_domain *d = t->top;
    if (!d)
        rd_escalate(SIGABRT, "rd_commit outside any recovery domain");
    if (!d->node) {
        end_unlogged(t, d);
        return;
    }
    struct rd_marks m = d->marks;
    struct rd_node *finals = NULL;
    int committed = 0;
    rd_graph_lock(t);
    if (d->node->state == RD_NODE_ROLLBACK) {
        /* Condemned by another thread's failure: it must not commit. */
        rd_graph_unlock(t);
        rd_cascade_self(t);
    }
    if (d->parent)
        rd_node_merge(d->node, d->parent->node);
    else
        committed = rd_node_end(t, d, &finals);
    rd_domain_pop(t, d);
    rd_graph_unlock(t);
    rd_runtime_enter(t);
    if (committed)
        rd_log_commit(t, &m);
    rd_runtime_leave(t);
    rd_finalize(t, finals);
    rd_runtime_check(t);
}

/* Landing pads are armed with sigsetjmp(pad, 0): saving the signal mask
 * would cost a system call at every domain's start, half the cost of a
 * small domain. The fault handler runs with SA_NODEFER, so it blocks
 * nothing; the cascade handler blocks its own signal, which a jump out of
 * it would leave blocked: unblock it here, on the rollback path only. */
static void unblock_cascade(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, rd_cascade_signal());
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

/* The frames below the landing pad are abandoned. A siglongjmp from the
 * alternate signal stack leaves ASan's shadow for them poisoned (it cannot
 * tell which stack it is leaving), which would later be reported as
 * overflows in innocent frames, so clear it here. */
static void forget_frames(const struct rd_thread *t, const struct rd_domain *d)
{
#ifdef RD_ASAN
    __asan_unpoison_memory_region((void *)t->stack_lo, d->entry_sp - t->stack_lo);
#else
    (void)t;
    (void)d;
#endif
}

/* The lowest domain on t's stack that is condemned, or NULL. */
static struct rd_domain *lowest_condemned(const struct rd_thread *t)
{
    struct rd_domain *low = NULL;
    for (struct rd_domain *d = t->top; d; d = d->prev)
        if (d->node && d->node->state == RD_NODE_ROLLBACK)
            low = d;
    return low;
}

/* Graph lock held: the domains above `low` are nested in it and go with
 * it, and so does whatever depends on them. */
static void condemn_above(struct rd_thread *t, struct rd_domain *low, struct rd_node **orphans)
{
    for (struct rd_domain *d = t->top; d != low; d = d->prev)
        if (d->node && d->node->state == RD_NODE_SPECULATIVE)
            rd_condemn(t, d->node, RD_ECASCADE, orphans);
}

/* Graph lock held: the undone domains leave the graph and t's stack. */
static void forget_undone(struct rd_thread *t, struct rd_domain *low, struct rd_node *orphans)
{
    struct rd_node *finals = NULL;
    for (struct rd_node *n = orphans, *next; n; n = next) {
        next = n->next;
        free(n->seg.recs);
        free(n->seg.bytes);
        free(n->seg.deferred);
        n->seg = (struct rd_seg){ 0 };
        rd_node_release(n, &finals);
    }
    for (;;) {
        struct rd_domain *d = t->top;
        if (d->node)
            rd_node_release(d->node, &finals);
        rd_domain_pop(t, d);   /* d stays intact on the spare list */
        if (d == low)
            break;
    }
}

/* Rolls t back to the lowest condemned domain on its stack (condemning the
 * innermost one first with `code`, if `failed`) and jumps to its landing
 * pad; returns only if nothing on the stack is condemned. A cascade that
 * condemns a lower domain while this one undoes extends the rollback down
 * to it before the jump. Runs inside the runtime throughout: a cascade
 * signal meanwhile only marks the request pending. */
static void rollback(struct rd_thread *t, int failed, int code)
{
    struct rd_domain *target = NULL;
    struct rd_node *orphans = NULL;
    int target_code = 0;
    rd_graph_lock(t);
    t->in_runtime++;
    /* Marks are made under the lock, so what this scan sees is all there
     * is; a later one comes with a new signal. */
    t->cascade_pending = 0;
    if (failed)
        rd_condemn(t, t->top->node, code, &orphans);
    for (struct rd_domain *low; (low = lowest_condemned(t)); orphans = NULL) {
        condemn_above(t, low, &orphans);
        target_code = low->node->code;
        rd_graph_unlock(t);
        rd_undo(t, low, orphans);
        rd_graph_lock(t);
        forget_undone(t, low, orphans);
        target = low;
    }
    rd_graph_unlock(t);
    if (!target) {
        rd_runtime_leave(t);
        return;
    }
    forget_frames(t, target);
    t->last_error = target_code;
    t->in_runtime--;
    unblock_cascade();
    siglongjmp(target->pad, 1);
}

void rd_unwind(struct rd_thread *t, int code)
{
    rollback(t, 1, code);
    rd_escalate(SIGABRT, "a failing domain was not rolled back");
}

void rd_cascade_self(struct rd_thread *t)
{
    rollback(t, 0, 0);
}

/* Why the innermost domain cannot take the blame for a failure, or NULL. */
static const char *unrecoverable(const struct rd_thread *t)
{
    if (t->in_runtime)
        return "inside the recovery-domain runtime";
    if (!t->top)
        return "outside any recovery domain";
    if (t->top->kind == RD_UNLOGGED)
        return "in an unlogged domain";
    return NULL;
}

void rd_fail(int sig, int code)
{
    struct rd_thread *t = &rd_self;
    const char *why = unrecoverable(t);
    if (why)
        rd_escalate(sig, why);
    rd_unwind(t, code);
}

void rd_runtime_check(struct rd_thread *t)
{
    if (t->cascade_pending && !t->in_runtime)
        rd_cascade_self(t);
}

void rd_abort(int code)
{
    rd_fail(SIGABRT, code ? code : RD_EABORT);
}

void rd_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "rd_assert failed: %s (%s:%d)\n", expr, file, line);
    rd_fail(SIGABRT, RD_EASSERT);
}

int rd_errno(void)
{
    return rd_self.last_error;
}

int rd_depth(void)
{
    return rd_self.depth;
}
