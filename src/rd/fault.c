/* fault.c — turning a hardware fault into a domain rollback, and escalating
 * the faults no domain can take the blame for.
 *
 * One handler serves SIGSEGV, SIGBUS, SIGFPE and SIGILL process-wide. It
 * runs on the faulting thread's alternate signal stack (thread.c), so a
 * stack overflow inside a domain is handled like any other fault. From the
 * handler the rollback replays the domain's log and siglongjmps to its
 * landing pad. The handler runs with SA_NODEFER, so it blocks nothing the
 * jump would have to unblock (the pad does not save the mask: domain.c).
 *
 * The same signal sent by another process (kill -SEGV) is not a fault of
 * the code running: it escalates, like every fault outside a recoverable
 * domain. Escalating calls the configurable hook (the server runtime will
 * write its crash record there), then dies by the signal with its default
 * action, so the supervisor sees what happened.
 *
 * A second handler serves the cascade signal (a real-time signal, see
 * rd_cascade_signal): a thread whose failure condemned domains of another
 * thread sends it there (pthread_kill). On the condemned thread it rolls
 * back to the lowest condemned domain and jumps to its landing pad — unless
 * the thread is inside the runtime, where it only marks the request pending
 * (and wakes a runtime wait), and the runtime does it on the way out.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rd_internal.h"

static const int fault_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL };

static rd_escalate_fn escalate_hook;

/* A real fault (si_code > 0) or a signal the process raised itself. */
static int self_inflicted(const siginfo_t *si)
{
    return si->si_code > 0 || si->si_pid == getpid();
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (!self_inflicted(si))
        rd_escalate(sig, "fault signal sent by another process");
    rd_fail(sig, RD_EFAULT(sig));
}

/* SIGRTMIN + 6: glibc keeps the first real-time signals for itself
 * (SIGRTMIN already skips them), and low offsets are the ones other
 * libraries pick first. */
int rd_cascade_signal(void)
{
    return SIGRTMIN + 6;
}

static void on_cascade(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    (void)uc;
    struct rd_thread *t = &rd_self;
    int saved = errno;
    if (!t->ready)
        return;
    t->cascade_pending = 1;
    int *w = t->wait_word;
    if (w) {
        __atomic_add_fetch(w, 1, __ATOMIC_SEQ_CST);
        rd_futex_wake(w);
    }
    if (!t->in_runtime)
        rd_cascade_self(t);
    errno = saved;
}

void rd_signal_thread(struct rd_thread *t)
{
    pthread_kill(t->self, rd_cascade_signal());
}

static void install_handlers(void)
{
    /* SA_NODEFER: a fault inside the handler (the rollback, an undo
     * function) re-enters it and escalates, instead of the kernel killing
     * the process silently for a blocked synchronous signal. */
    struct sigaction sa = { .sa_sigaction = on_fault,
                            .sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER };
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof fault_signals / sizeof fault_signals[0]; i++)
        sigaction(fault_signals[i], &sa, NULL);
    /* SA_RESTART: a cascade signal that finds nothing to roll back (the
     * domain ended meanwhile) must not make the thread's system calls fail
     * with EINTR. */
    struct sigaction cascade = { .sa_sigaction = on_cascade,
                                 .sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART };
    sigemptyset(&cascade.sa_mask);
    sigaction(rd_cascade_signal(), &cascade, NULL);
}

static int shadow_ok = -1;

static void first_setup(void)
{
    install_handlers();
    shadow_ok = rd_shadow_init();
}

int rd_setup(struct rd_thread *t)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, first_setup);
    return shadow_ok == 0 ? rd_thread_setup(t) : -1;
}

int rd_init(void)
{
    if (rd_setup(&rd_self) != 0)
        return -1;
    install_handlers();
    return 0;
}

rd_escalate_fn rd_set_escalate(rd_escalate_fn fn)
{
    return __atomic_exchange_n(&escalate_hook, fn, __ATOMIC_ACQ_REL);
}

/* Dies by `sig` with its default action (a core dump where enabled). */
static __attribute__((noreturn)) void die_by(int sig)
{
    struct sigaction dfl = { .sa_handler = SIG_DFL };
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    abort();   /* only if `sig` did not kill: the caller must not return */
}

static size_t append(char *buf, size_t n, size_t cap, const char *s)
{
    size_t len = strlen(s);
    if (len > cap - n)
        len = cap - n;
    memcpy(buf + n, s, len);
    return n + len;
}

/* One write() of a journald-style line; no stdio, we may be in a handler. */
static void report(int sig, const char *why)
{
    char line[160];
    const char *name = sigabbrev_np(sig);
    size_t n = append(line, 0, sizeof line, "<2>rd: unrecoverable SIG");
    n = append(line, n, sizeof line, name ? name : "?");
    n = append(line, n, sizeof line, " ");
    n = append(line, n, sizeof line, why);
    n = append(line, n, sizeof line, ", escalating\n");
    (void)!write(STDERR_FILENO, line, n);
}

void rd_escalate(int sig, const char *why)
{
    report(sig, why);
    rd_escalate_fn hook = __atomic_load_n(&escalate_hook, __ATOMIC_ACQUIRE);
    if (hook)
        hook(sig, why);
    die_by(sig);
}
