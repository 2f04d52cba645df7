/* rd_internal.h — the recovery-domain runtime's per-thread state, shared by
 * the files of src/rd (see include/revive/rd.h for the model).
 *
 * Everything a thread needs lives in one struct rd_thread (thread-local), so
 * a second thread never touches the first one's log, and the multithreaded
 * parts still to come (the dependence graph of paper §4.2-4.3) have one place
 * to hang per-thread data from.
 *
 * The undo log is a stack shared by the thread's nested domains: each domain
 * remembers where the log stood when it began (its marks). Rolling a domain
 * back replays the records above its marks in reverse and truncates them;
 * merging a basic domain into its parent is free (the records stay, now
 * below nobody's mark but the parent's); committing truncates them.
 */
#ifndef RD_INTERNAL_H
#define RD_INTERNAL_H

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
 * to `addr`, or call an undo function. */
struct rd_rec {
    enum { RD_REC_BYTES, RD_REC_UNDO } type;
    union {
        struct { void *addr; size_t len, off; } bytes;
        struct { rd_fn fn; void *arg; } undo;
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

struct rd_domain {
    sigjmp_buf pad;             /* the landing pad, armed by the caller */
    enum rd_kind kind;
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

struct rd_thread {
    int ready;                  /* rd_thread_setup ran */
    struct rd_domain *top;      /* innermost open domain, or NULL */
    struct rd_domain *spare;    /* recycled domain structs (via prev) */
    int depth;
    struct rd_vec recs;         /* struct rd_rec */
    struct rd_vec bytes;        /* char: old contents */
    struct rd_vec deferred;     /* struct rd_deferred */
    uintptr_t stack_lo;         /* lowest address of this thread's stack */
    void *altstack;             /* ours, or NULL if one was already set */
    size_t altstack_size;
    /* Nonzero while the runtime changes its own state: a fault then cannot
     * be blamed on a domain, so it escalates. */
    volatile sig_atomic_t in_runtime;
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

/* thread.c */
int rd_thread_setup(struct rd_thread *t);

/* log.c */
int rd_logging(const struct rd_thread *t);
struct rd_marks rd_log_marks(const struct rd_thread *t);
void rd_log_rollback(struct rd_thread *t, const struct rd_domain *d);
void rd_log_commit(struct rd_thread *t, const struct rd_marks *m);
void rd_log_release(struct rd_thread *t);

/* domain.c */
__attribute__((noreturn)) void rd_unwind(struct rd_thread *t, int code);
/* Rolls the innermost domain back with `code`, or escalates with `sig` if
 * it cannot be blamed (no domain, unlogged, inside the runtime). */
__attribute__((noreturn)) void rd_fail(int sig, int code);

/* fault.c */
int rd_setup(struct rd_thread *t);   /* handlers once per process, then t */
__attribute__((noreturn)) void rd_escalate(int sig, const char *why);

#endif
