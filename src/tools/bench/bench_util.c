/* bench_util.c — clocks, pinning, samples and the round-trip loop of rv-bench. */
#include "bench_tool.h"

#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int bench_pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    for (long c = 0, n = sysconf(_SC_NPROCESSORS_ONLN); c < n && c < CPU_SETSIZE; c++)
        if (cpu < 0 || c == cpu)
            CPU_SET(c, &set);
    return sched_setaffinity(0, sizeof set, &set);
}

pid_t bench_fork_server(void (*serve)(void *arg), void *arg)
{
    pid_t parent = getpid(), pid = fork();
    if (pid < 0)
        bench_die("fork: %m");
    if (pid == 0) {
        /* rv-bench dying half-way must not leave a server spinning on CPU 0 */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
            _exit(1);
        bench_pin(SERVER_CPU);
        serve(arg);
        _exit(0);
    }
    return pid;
}

void bench_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "rv-bench: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

void series_add(struct series *s, double us)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (!s->v)
            bench_die("out of memory");
    }
    s->v[s->n++] = us;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double series_quantile(struct series *s, double q)
{
    if (s->n == 0)
        return 0;
    qsort(s->v, s->n, sizeof *s->v, cmp_double);
    size_t rank = (size_t)(q * (double)s->n + 0.999999);   /* ceil */
    return s->v[rank ? rank - 1 : 0];
}

void series_free(struct series *s)
{
    free(s->v);
    *s = (struct series){ 0 };
}

static double batch_us(const struct contender *c, int rounds)
{
    uint64_t t0 = bench_now_ns();
    for (int i = 0; i < rounds; i++)
        if (c->round(c->ctx) < 0)
            bench_die("%s: a round trip failed", c->what);
    return (double)(bench_now_ns() - t0) / 1e3 / rounds;
}

/* Batches rather than one long loop: the median batch shrugs off the other
 * VMs on the host, and the warm-up batch faults in pages and caches. */
void measure_interleaved(const struct contender *c, size_t n, const struct plan *p, struct rtt *out)
{
    struct series *batch = calloc(n, sizeof *batch);
    if (!batch)
        bench_die("out of memory");
    for (int b = -1; b < p->batches; b++)
        for (size_t i = 0; i < n; i++) {
            double us = batch_us(&c[i], p->per_batch);
            if (b >= 0)
                series_add(&batch[i], us);
        }
    for (size_t i = 0; i < n; i++) {
        out[i] = (struct rtt){ series_quantile(&batch[i], 0.5), batch[i].v[0] };
        series_free(&batch[i]);
    }
    free(batch);
}
