/* thread.c — the per-thread state of the recovery-domain runtime: where the
 * thread's stack lies (to tell frames created inside a domain from older
 * ones), and an alternate signal stack, without which a stack overflow
 * could not even run the fault handler.
 *
 * State is set up on a thread's first rd_begin (or rd_init) and released by
 * a thread-specific-data destructor when the thread exits. An alternate
 * stack that is already installed and large enough (the server runtime's,
 * the sanitizer's) is used as it is.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "rd_internal.h"

/* The handler replays the log and runs undo functions on this stack, a
 * few frames deep; sanitizer builds use several times more stack per frame.
 * ASan's own alternate stacks (about 56 KiB) are above the minimum, so the
 * runtime never replaces them (ASan unmaps whatever stack is current when
 * its thread ends). */
#define ALTSTACK_MIN (32u * 1024)
#define ALTSTACK_SIZE (128u * 1024)

__thread struct rd_thread rd_self;

static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

static void free_domains(struct rd_domain *d)
{
    while (d) {
        struct rd_domain *next = d->prev;
        free(d);
        d = next;
    }
}

static void thread_exit(void *arg)
{
    struct rd_thread *t = arg;
    rd_thread_unregister(t);
    stack_t cur;
    if (t->altstack && sigaltstack(NULL, &cur) == 0 && cur.ss_sp == t->altstack) {
        stack_t off = { .ss_flags = SS_DISABLE };
        sigaltstack(&off, NULL);
        munmap(t->altstack, t->altstack_size);
    }
    free_domains(t->top);
    free_domains(t->spare);
    rd_log_release(t);
    *t = (struct rd_thread){ 0 };
}

static void make_exit_key(void)
{
    pthread_key_create(&exit_key, thread_exit);
}

static int find_stack(struct rd_thread *t)
{
    pthread_attr_t attr;
    void *lo;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return -1;
    int r = pthread_attr_getstack(&attr, &lo, &size);
    pthread_attr_destroy(&attr);
    if (r != 0)
        return -1;
    t->stack_lo = (uintptr_t)lo;
    t->stack_hi = (uintptr_t)lo + size;
    return 0;
}

static int ensure_altstack(struct rd_thread *t)
{
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE) && cur.ss_size >= ALTSTACK_MIN)
        return 0;
    void *p = mmap(NULL, ALTSTACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    stack_t ss = { .ss_sp = p, .ss_size = ALTSTACK_SIZE };
    if (sigaltstack(&ss, NULL) != 0) {
        munmap(p, ALTSTACK_SIZE);
        return -1;
    }
    t->altstack = p;
    t->altstack_size = ALTSTACK_SIZE;
    return 0;
}

int rd_thread_setup(struct rd_thread *t)
{
    if (t->ready)
        return 0;
    if (find_stack(t) != 0 || ensure_altstack(t) != 0)
        return -1;
    pthread_once(&exit_key_once, make_exit_key);
    pthread_setspecific(exit_key, t);
    t->self = pthread_self();
    /* From the second thread on, reads are tracked (shadow.c). */
    static int threads;
    if (__atomic_add_fetch(&threads, 1, __ATOMIC_SEQ_CST) > 1)
        __atomic_store_n(&rd_multi, 1, __ATOMIC_SEQ_CST);
    t->ready = 1;
    return 0;
}

int rd_on_own_stack(const struct rd_thread *t, uintptr_t a)
{
    return a >= t->stack_lo && a < t->stack_hi;
}
