/* domain.c — opening, committing and rolling back recovery domains on one
 * thread (paper §4.1 and §4.4, single-threaded part).
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
 * Rolling back always concerns the innermost domain: its records are
 * replayed, it is popped, and control jumps to its landing pad. In a
 * transparent domain that landing pad simply skips the domain.
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
    t->in_runtime++;
    d = malloc(sizeof *d);
    t->in_runtime--;
    return d;
}

static void domain_pop(struct rd_thread *t, struct rd_domain *d)
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
    struct rd_domain *d = domain_alloc(t);
    if (!d)
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

void rd_commit(void)
{
    struct rd_thread *t = &rd_self;
    struct rd_domain *d = t->top;
    if (!d)
        rd_escalate(SIGABRT, "rd_commit outside any recovery domain");
    struct rd_marks m = d->marks;
    int merge = d->parent != NULL;
    domain_pop(t, d);
    if (merge)
        return;
    t->in_runtime++;
    rd_log_commit(t, &m);
    t->in_runtime--;
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

void rd_unwind(struct rd_thread *t, int code)
{
    struct rd_domain *d = t->top;
    t->in_runtime++;
    rd_log_rollback(t, d);
    domain_pop(t, d);          /* d stays intact on the spare list */
    forget_frames(t, d);
    t->last_error = code;
    t->in_runtime--;
    siglongjmp(d->pad, 1);
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
