/* inject_target — the program the injector tests inject faults into.
 *
 * It loops calling mem_block and reg_block_run (target_asm.S) and reports on
 * the fd in $INJECT_OUT_FD (default stdout), one line per event:
 *   READY buf=.. global=.. mem_block=.. rv_reg_block=.. never=..   at start
 *   SEGV addr=.. code=.. rip=..  its SIGSEGV handler ran (then exit 42)
 *   REG lo=.. hi=..              reg_block_run computed a wrong value (exit 3)
 *   ALIVE n                      on SIGUSR1: it is still looping (n iterations)
 *   CALLED                       on SIGUSR2: it called never_called and lived
 * Options: --threads runs the loop in a second thread (the main thread just
 * joins it); --wait-go waits for a line on stdin before starting the loop
 * (and the thread), so a test can attach first. */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <ucontext.h>
#include <unistd.h>

#include "target.h"

static int out_fd = 1;
static uint64_t buf[4] = { 1, 2, 3, 4 };
static volatile sig_atomic_t ping, call;
static volatile uint64_t sink;

__attribute__((noinline)) void never_called(void);
__attribute__((noinline)) void never_called(void)
{
    sink = sink * 3 + 1;
}

/* Async-signal-safe "0x<hex>" into P; returns the end. */
static char *put_hex(char *p, uint64_t v)
{
    char tmp[16];
    int n = 0;
    do
        tmp[n++] = "0123456789abcdef"[v & 15];
    while (v >>= 4);
    *p++ = '0', *p++ = 'x';
    while (n)
        *p++ = tmp[--n];
    return p;
}

static char *put_str(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    char line[128], *p = line;
    (void)sig;
    p = put_hex(put_str(p, "SEGV addr="), (uintptr_t)si->si_addr);
    p = put_hex(put_str(p, " code="), (uint64_t)si->si_code);
    p = put_hex(put_str(p, " rip="), (uint64_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP]);
    *p++ = '\n';
    if (write(out_fd, line, (size_t)(p - line)) < 0)
        _exit(43);
    _exit(42);
}

static void on_usr(int sig)
{
    if (sig == SIGUSR1)
        ping = 1;
    else
        call = 1;
}

static void handlers(void)
{
    struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    sa = (struct sigaction){ .sa_handler = on_usr, .sa_flags = SA_RESTART };
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
}

static void *loop(void *arg)
{
    uint64_t out[2], n = 0;
    (void)arg;
    for (;; n++) {
        mem_block(buf, MEM_INDEX);
        reg_block_run(REG_A, REG_B, REG_C, out);
        if (out[0] != (uint32_t)REG_A + REG_B + REG_C || out[1] != 0) {
            dprintf(out_fd, "REG lo=0x%llx hi=0x%llx\n", (unsigned long long)out[0],
                    (unsigned long long)out[1]);
            exit(3);
        }
        if (ping) {
            ping = 0;
            dprintf(out_fd, "ALIVE %llu\n", (unsigned long long)n);
        }
        if (call) {
            call = 0;
            never_called();
            dprintf(out_fd, "CALLED\n");
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    bool threads = false, wait_go = false;
    for (int i = 1; i < argc; i++) {
        threads |= strcmp(argv[i], "--threads") == 0;
        wait_go |= strcmp(argv[i], "--wait-go") == 0;
    }
    if (getenv("INJECT_OUT_FD"))
        out_fd = atoi(getenv("INJECT_OUT_FD"));
    prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);   /* never outlive a failed test */
    handlers();
    dprintf(out_fd, "READY buf=%p global=%p mem_block=%p rv_reg_block=%p never=%p\n",
            (void *)buf, (void *)&mem_global, (void *)mem_block, (void *)rv_reg_block,
            (void *)never_called);
    char line[16];
    if (wait_go && !fgets(line, sizeof line, stdin))
        return 1;
    if (!threads)
        loop(NULL);
    pthread_t t;
    if (pthread_create(&t, NULL, loop, NULL) != 0)
        return 1;
    pthread_join(t, NULL);
    return 0;
}
