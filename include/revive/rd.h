/* revive/rd.h — recovery domains: undo one faulty piece of work in a live
 * process (tier 1 of revive's escalation; Akeso is the spec).
 *
 * A recovery domain is an interval of execution on one thread. Writes made
 * inside it are undo-logged (rd_log_range by hand, or the compiler's write
 * hooks in code built with rd_instrumented_dep, docs/rd.md); if the domain faults — SIGSEGV, SIGBUS, SIGFPE, SIGILL, a stack
 * overflow, a failed rd_assert, an explicit rd_abort — the runtime replays
 * its log backwards so memory looks as if the domain never ran, and control
 * resumes at the domain's landing pad with an error code. In the shape of a
 * PMDK transaction:
 *
 *     RD_BEGIN(RD_BASIC) {
 *         rd_log_range(&t->count, sizeof t->count);
 *         t->count++;
 *         work(t);                       // may fault
 *     } RD_ONABORT {
 *         return rd_errno();             // t->count is back to its old value
 *     } RD_END
 *
 * Kinds (paper §4.1, Table 1):
 *   RD_BASIC        logged. On success, nested in a logged domain: merges into
 *                   it (the parent can still undo it); otherwise commits.
 *   RD_REVERSIBLE   logged. On success commits at once, ignoring its parent:
 *                   a later rollback of the parent does not restore its
 *                   writes. Log its inverse with the parent right after it,
 *                   with rd_log_undo (e.g. an allocator logs free(p)).
 *   RD_TRANSPARENT  logged. On success commits at once (its effects do not
 *                   matter to correctness, e.g. statistics, caches). On error
 *                   it is rolled back and skipped: the parent is unaffected.
 *   RD_UNLOGGED     not recoverable: writes commit as they happen and a fault
 *                   inside escalates (below). rd_log_undo inside it hands a
 *                   semantic undo to the enclosing logged domain.
 *
 * Release operations (free, reference drops) must not happen before the work
 * that released them is final: rd_defer and rd_free delay them to the commit
 * of the domain — for a basic domain that merges into its parent, to the
 * commit of the outermost domain it merged into — and drop them if it rolls
 * back. Undo functions and deferred releases run inside the runtime: they
 * must not call rd_*, and a fault in them escalates.
 * rd_malloc'd memory is freed again if the domain rolls back.
 *
 * A fault in an unsafe place — outside any domain, in an unlogged domain,
 * inside the runtime itself (its allocator calls, a deferred operation, an
 * undo function) — or a fault signal sent by another process escalates to
 * tier 2: the escalation hook runs; the default one restores the signal's
 * default action and re-raises it so the process dies, and revived's
 * microreboot takes over.
 *
 * Rules for the code inside RD_BEGIN/RD_END (as for setjmp and PMDK):
 *  - leave the body only by reaching its end, `break` or `continue` — never
 *    by return or goto, which would leave the domain open;
 *  - a local of the enclosing function that the body changes and the abort
 *    branch reads must be volatile (siglongjmp restores registers);
 *  - writes to frames created inside the domain are never logged: they are
 *    gone once the domain unwinds.
 * Across threads (paper §3.5 rule 3, §4.2-4.4; design in docs/rd.md): a
 * domain runs on one thread, but a domain that reads another domain's
 * uncommitted write (rd_note_read, or the read hooks of instrumented code)
 * depends on it. A root domain that ends while depending on uncommitted
 * domains is "completed": it commits — runs its deferred releases — only
 * once everything it depends on has committed (a cycle commits together),
 * possibly on another thread. When a domain fails, every domain depending
 * on it, transitively, is rolled back too: one still running on another
 * thread is interrupted by a real-time signal (rd_cascade_signal() is
 * SIGRTMIN+6; do not use it) and resumes at its own landing pad with
 * RD_ECASCADE; a completed one has no landing pad left, so its writes are
 * undone and its deferred releases dropped — send replies from rd_defer so
 * a completed request's answer goes out only when it commits. Mutexes taken
 * inside domains go through rd_mutex_lock/rd_mutex_unlock, so a rollback
 * releases them. In a service, rv_domain_runner (revive/server.h) runs each
 * request in a root domain.
 */
#ifndef REVIVE_RD_H
#define REVIVE_RD_H

#include <pthread.h>
#include <setjmp.h>
#include <stddef.h>

enum rd_kind { RD_BASIC, RD_REVERSIBLE, RD_TRANSPARENT, RD_UNLOGGED };

/* Error codes the runtime itself reports through rd_errno(), in the range
 * revive/base.h keeps for them (-200..-399). Codes passed to rd_abort are
 * the caller's own and should be positive. */
#define RD_EABORT      (-200)  /* rd_abort(0): an abort without a code */
#define RD_EASSERT     (-201)  /* an rd_assert failed */
#define RD_ENOMEM      (-202)  /* the undo log could not grow */
#define RD_ECASCADE    (-203)  /* rolled back because a domain it depended
                                   on (read uncommitted data of) failed */
#define RD_EFAULT(sig) (-300 - (sig))   /* a hardware fault, e.g. RD_EFAULT(SIGSEGV) */

typedef void (*rd_fn)(void *arg);

/* Installs the fault handlers process-wide and sets up the calling thread
 * (its alternate signal stack). rd_begin does this on first use; call it
 * again after other code replaced the SIGSEGV/SIGBUS/SIGFPE/SIGILL handlers
 * (the server runtime, a test framework). Returns 0, or -1 with errno. */
int rd_init(void);

/* Opens a domain of `kind` and returns its landing pad, which the caller
 * must arm at once with sigsetjmp(*pad, 0) in its own frame (RD_BEGIN does;
 * the runtime restores what a rollback needs of the signal mask itself).
 * sigsetjmp returns nonzero when the domain rolled back. */
sigjmp_buf *rd_begin(enum rd_kind kind);

/* Ends the innermost domain successfully (merge or commit, per its kind). */
void rd_commit(void);

/* Rolls the innermost domain back and resumes at its landing pad; `code`
 * becomes rd_errno(). Escalates in an unlogged domain or outside domains. */
__attribute__((noreturn)) void rd_abort(int code);

/* The error code of the last domain that rolled back on this thread. */
int rd_errno(void);

/* Number of domains open on this thread. */
int rd_depth(void);

/* Undo-logs [addr, addr+len) before the caller overwrites it. A bad address
 * faults here, and that is a fault of the domain. This is also the entry
 * point the compiler's write hooks will call. No-op outside logged domains
 * and for frames created inside the domain. */
void rd_log_range(const volatile void *addr, size_t len);

/* Registers fn(arg) to run if the current domain (or a logged domain it
 * merges into) rolls back: the inverse of a committed reversible or
 * unlogged operation. Undo functions run in reverse order, interleaved with
 * the memory restores in log order. No-op outside domains. */
void rd_log_undo(rd_fn fn, void *arg);

/* Number of records (restores and undo functions) in this thread's log. */
size_t rd_log_count(void);

/* Tells the runtime the current domain is about to read [addr, addr+len):
 * if another domain wrote it and has not committed, the current domain now
 * depends on it (it cannot commit before, and rolls back if that one
 * fails). The read hooks of instrumented code call it for every read; code
 * that is not instrumented calls it by hand for data other threads write.
 * No-op outside logged domains and while only one thread uses the runtime. */
void rd_note_read(const volatile void *addr, size_t len);

/* pthread_mutex_lock/unlock for mutexes taken inside domains (paper §5.2).
 * Inside a logged domain the acquire is logged: if the domain rolls back
 * while holding the mutex, the rollback unlocks it (after restoring what
 * was written under it). The wait for a busy mutex stays interruptible, so
 * a cascade can roll the waiting domain back. Outside logged domains they
 * are the plain calls. Unlock with rd_mutex_unlock (also outside domains)
 * when domains may be waiting for the mutex: it wakes them. */
int rd_mutex_lock(pthread_mutex_t *m);
int rd_mutex_unlock(pthread_mutex_t *m);

/* The real-time signal (SIGRTMIN + 6) that interrupts a thread whose domain
 * a cascade condemned; rd_begin/rd_init install its handler. The process
 * must leave it to the runtime (and not block it in threads that run
 * domains, or their cascades wait until they next enter the runtime). */
int rd_cascade_signal(void);

/* Runs fn(arg) when the current work is final: when the current domain
 * commits (a basic domain merging into its parent passes it on); never if
 * it rolls back. Outside domains and in unlogged domains it runs at once. */
void rd_defer(rd_fn fn, void *arg);

void *rd_malloc(size_t size);   /* freed again if the domain rolls back */
void rd_free(void *p);          /* deferred like rd_defer(free, p) */

/* Called on a fault (or rd_abort) that cannot be recovered: `sig` is the
 * signal (SIGABRT for rd_abort/rd_assert), `why` a short reason. It should
 * not return; if it does, the default runs (die by `sig`). */
typedef void (*rd_escalate_fn)(int sig, const char *why);

/* Installs the escalation hook (NULL: the default); returns the old one. */
rd_escalate_fn rd_set_escalate(rd_escalate_fn fn);

/* An assertion that rolls the domain back (RD_EASSERT) instead of killing
 * the process; outside a logged domain it escalates. Never compiled out. */
#define rd_assert(expr) \
    ((expr) ? (void)0 : rd_assert_fail(#expr, __FILE__, __LINE__))
__attribute__((noreturn)) void rd_assert_fail(const char *expr, const char *file, int line);

/* The block form. The stage variable steers one pass through the switch:
 * the body (then commit), or the abort branch after a rollback. */
enum rd_stage { RD_STAGE_NONE, RD_STAGE_WORK, RD_STAGE_ONABORT };

static inline int rd_stage_next(int stage)
{
    if (stage == RD_STAGE_WORK)
        rd_commit();
    return RD_STAGE_NONE;
}

#define RD_BEGIN(kind)                                                    \
    {                                                                     \
        volatile int rd_stage_ = RD_STAGE_WORK;                           \
        if (sigsetjmp(*rd_begin(kind), 0) != 0)                           \
            rd_stage_ = RD_STAGE_ONABORT;                                 \
        for (; rd_stage_ != RD_STAGE_NONE; rd_stage_ = rd_stage_next(rd_stage_)) \
            switch (rd_stage_) {                                          \
            case RD_STAGE_WORK:

#define RD_ONABORT                                                        \
                break;                                                    \
            case RD_STAGE_ONABORT:

#define RD_END                                                            \
                break;                                                    \
            default:                                                      \
                break;                                                    \
            }                                                             \
    }

#endif
