/* bench_throughput.c — requests per second with many clients at once, next
 * to a raw AF_UNIX SEQPACKET echo server serving the same clients.
 *
 * The round-trip figures (bench_calls.c) time one caller; a service is
 * also judged by what it serves when many call together. Here THR_CLIENTS
 * (1, 8, 64) forked client processes each call in a closed loop, 64 bytes
 * each way, for THR_WINDOW_MS; the figure is the calls all of them
 * completed over the window. Three servers take the same clients in turn:
 *
 *   raw    one process, one thread, epoll over one socketpair per client,
 *          echoing what it reads: the floor, what a hand-written server
 *          over the same transport does;
 *   null   rv-svc-bench's null operation through revive (one thread);
 *   kv     rv-svc-kv's GET of a key the client put first: a service with a
 *          worker pool (4 threads), so its figure is the worker hand-off's;
 *   fast   the null operation again, its sessions on the fast path (ring.h);
 *   kv fast kv's GET again, on the fast path (its thread beside the workers).
 *
 * The server side (the raw server, revived and its services) is pinned to
 * SERVER_CPU; the clients to the same CPU, then to the other one. Each
 * cell is THR_RUNS windows, the three servers interleaved, and the report
 * gives the minimum and the median of each. */
#include "bench_tool.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"
#include "revive/client.h"

const unsigned thr_clients[THR_NCLIENTS] = { 1, 8, 64 };

#define KV_GET_OP 1
#define KV_PUT_OP 2

/* What the clients and rv-bench share: a start and a stop word, and each
 * client's count of completed calls. */
struct board {
    atomic_int go, stop, ready;
    atomic_ulong calls[THR_MAX_CLIENTS];
    atomic_int failed;
};

/* ---- the raw echo server ---- */

/* One thread, one epoll, level-triggered: a readable socket is read and
 * answered once per wake-up, the way a plain event-loop server is. */
static void raw_serve(void *arg)
{
    int *fds = arg, ep = epoll_create1(EPOLL_CLOEXEC), live = 0;
    for (int i = 0; fds[i] >= 0; i++, live++) {
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = fds[i] };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) < 0)
            _exit(1);
    }
    struct epoll_event evs[THR_MAX_CLIENTS];
    char buf[MSG_BYTES];
    while (live > 0) {
        int n = epoll_wait(ep, evs, THR_MAX_CLIENTS, -1);
        for (int i = 0; i < n; i++) {
            ssize_t got = recv(evs[i].data.fd, buf, sizeof buf, MSG_DONTWAIT);
            if (got == 0 || (evs[i].events & EPOLLHUP)) {
                close(evs[i].data.fd);
                live--;
            } else if (got > 0 && send(evs[i].data.fd, buf, (size_t)got, 0) != got) {
                _exit(1);
            }
        }
    }
}

/* ---- clients ---- */

enum server { SRV_RAW, SRV_NULL, SRV_KV, SRV_FAST, SRV_KV_FAST };

struct client {
    enum server srv;
    int fd;                 /* raw: this client's socket */
    rv_session *s;          /* null, kv */
    char key[16];
    size_t klen;
};

static int one_call(struct client *c)
{
    char req[MSG_BYTES] = { 1 }, rep[MSG_BYTES + 8];
    size_t len;
    switch (c->srv) {
    case SRV_RAW:
        if (send(c->fd, req, MSG_BYTES, 0) != MSG_BYTES)
            return -1;
        return recv(c->fd, rep, sizeof rep, 0) == MSG_BYTES ? 0 : -1;
    case SRV_NULL:
    case SRV_FAST:
        return rv_call(c->s, BENCH_NULL, req, MSG_BYTES, rep, sizeof rep, &len) == 0 && len == MSG_BYTES ? 0 : -1;
    case SRV_KV:
    case SRV_KV_FAST:
        return rv_call(c->s, KV_GET_OP, c->key, c->klen, rep, sizeof rep, &len) == 0 && len == MSG_BYTES ? 0 : -1;
    }
    return -1;
}

/* kv's clients each read a key of their own, which they put first. */
static int kv_prepare(struct client *c, unsigned idx)
{
    uint8_t req[1 + 16 + MSG_BYTES], rep[8];
    size_t len;
    c->klen = (size_t)snprintf(c->key, sizeof c->key, "thr%03u", idx);
    req[0] = (uint8_t)c->klen;
    memcpy(req + 1, c->key, c->klen);
    memset(req + 1 + c->klen, 'v', MSG_BYTES);
    return rv_call(c->s, KV_PUT_OP, req, 1 + c->klen + MSG_BYTES, rep, sizeof rep, &len);
}

/* A client process: says it is ready, calls from go until stop, and
 * counts. A failed call is a broken benchmark, not a figure. */
static void client_run(struct board *b, unsigned idx, struct client *c)
{
    if ((c->srv == SRV_KV || c->srv == SRV_KV_FAST) && kv_prepare(c, idx) != 0)
        atomic_store(&b->failed, 1);
    atomic_fetch_add(&b->ready, 1);
    while (!atomic_load(&b->go))
        sched_yield();
    unsigned long n = 0;
    while (!atomic_load_explicit(&b->stop, memory_order_relaxed)) {
        if (one_call(c) != 0) {
            atomic_store(&b->failed, 1);
            break;
        }
        atomic_store_explicit(&b->calls[idx], ++n, memory_order_relaxed);
    }
    _exit(0);
}

/* ---- one window ---- */

struct window {
    struct board *b;
    pid_t pids[THR_MAX_CLIENTS];
    pid_t raw_server;
    unsigned n;
};

static const char *svc_of(enum server srv)
{
    static const char *const svc[THR_NSERVERS] = { NULL, THR_NULL_SVC, THR_KV_SVC, THR_FAST_SVC, THR_KV_FAST_SVC };
    return svc[srv];
}

/* The client's end, made in the parent before the fork, so every session is
 * open before the window starts. */
static void connect_client(struct client *c, struct revived *r, enum server srv, int raw_fd)
{
    *c = (struct client){ .srv = srv, .fd = raw_fd };
    if (srv == SRV_RAW)
        return;
    rv_conn *conn;
    if (rv_connect(r->sock, &conn) < 0 || rv_open(conn, svc_of(srv), NULL, &c->s) < 0)
        bench_die("cannot open a session of %s", svc_of(srv));
    rv_disconnect(conn);
}

static void start_clients(struct window *w, struct revived *r, enum server srv, int cpu)
{
    int server_ends[THR_MAX_CLIENTS + 1];
    for (unsigned i = 0; i < w->n; i++) {
        int sv[2] = { -1, -1 };
        if (srv == SRV_RAW && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
            bench_die("socketpair: %m");
        server_ends[i] = sv[1];
        struct client c;
        connect_client(&c, r, srv, sv[0]);
        pid_t pid = fork();
        if (pid < 0)
            bench_die("fork: %m");
        if (pid == 0) {
            for (unsigned j = 0; srv == SRV_RAW && j <= i; j++)
                close(server_ends[j]);
            bench_pin(cpu);
            client_run(w->b, i, &c);
        }
        w->pids[i] = pid;
        if (srv == SRV_RAW)
            close(sv[0]);
        else
            rv_close(c.s);   /* the child holds its own copy of the session */
    }
    server_ends[w->n] = -1;
    w->raw_server = srv == SRV_RAW ? bench_fork_server(raw_serve, server_ends) : 0;
    for (unsigned i = 0; srv == SRV_RAW && i < w->n; i++)
        close(server_ends[i]);
}

static void reap(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        bench_die("a throughput process (%d) failed", (int)pid);
}

static unsigned long total_calls(const struct board *b, unsigned n)
{
    unsigned long sum = 0;
    for (unsigned i = 0; i < n; i++)
        sum += atomic_load(&b->calls[i]);
    return sum;
}

/* Calls per second of n clients on srv, the clients pinned to cpu. */
static double window_run(struct board *b, struct revived *r, enum server srv, unsigned n, int cpu)
{
    memset(b, 0, sizeof *b);
    struct window w = { .b = b, .n = n };
    start_clients(&w, r, srv, cpu);
    while ((unsigned)atomic_load(&b->ready) < n)
        sched_yield();
    if (atomic_load(&b->failed))
        bench_die("a %s client could not prepare", svc_of(srv));
    atomic_store(&b->go, 1);
    uint64_t t0 = bench_now_ns();
    unsigned long c0 = total_calls(b, n);
    struct timespec window = { 0, THR_WINDOW_MS * 1000000L };
    nanosleep(&window, NULL);
    unsigned long c1 = total_calls(b, n);
    uint64_t t1 = bench_now_ns();
    atomic_store(&b->stop, 1);
    for (unsigned i = 0; i < n; i++)
        reap(w.pids[i]);
    if (w.raw_server)
        reap(w.raw_server);
    if (atomic_load(&b->failed))
        bench_die("a call failed during the throughput window");
    return (double)(c1 - c0) * 1e9 / (double)(t1 - t0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void throughput_measure(struct thr_results *res, struct revived *r, int quick)
{
    struct board *b = mmap(NULL, sizeof *b, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (b == MAP_FAILED)
        bench_die("mmap: %m");
    res->runs = quick ? 1 : THR_RUNS;
    res->nplace = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? THR_NPLACE : 1;
    for (int place = 0; place < res->nplace; place++)
        for (int k = 0; k < THR_NCLIENTS; k++) {
            fprintf(stderr, "rv-bench: throughput, %u clients, %s ...\n", thr_clients[k],
                    place ? "clients on another core" : "same core");
            double v[THR_NSERVERS][THR_RUNS];
            for (int run = 0; run < res->runs; run++)
                for (int srv = 0; srv < THR_NSERVERS; srv++)
                    v[srv][run] = window_run(b, r, srv, thr_clients[k], SERVER_CPU + place);
            for (int srv = 0; srv < THR_NSERVERS; srv++) {
                qsort(v[srv], (size_t)res->runs, sizeof v[srv][0], cmp_double);
                res->cell[place][k][srv].min = v[srv][0];
                res->cell[place][k][srv].median = v[srv][res->runs / 2];
            }
        }
    munmap(b, sizeof *b);
}

static const char *const server_name[THR_NSERVERS] = { "raw SEQPACKET echo", "revive null call", "kv GET (4 workers)",
                                                        "revive null call, fast path", "kv GET, fast path" };

void throughput_report(FILE *f, const struct thr_results *res)
{
    fprintf(f, "## Throughput: many clients at once\n\n"
               "Client processes calling in a closed loop, 64 bytes each way, for %d ms per window; "
               "calls completed per second by all of them. `raw` is one thread echoing over one "
               "SEQPACKET socketpair per client (epoll); `null` is rv-svc-bench's null operation; `kv` "
               "is rv-svc-kv's GET (4 worker threads); `fast` and `kv fast` are the same with `fast_path = yes` "
               "(each call through its session's ring). The server side is on CPU %d. %d windows per "
               "cell, the servers interleaved; the median (and the minimum). Ratio: the median calls/s "
               "over raw's (target: null >= 1.0x raw; kv's cost per request <= 1.5x raw's, i.e. its "
               "rate >= 0.67x).\n\n"
               "| clients | placement | raw calls/s | null calls/s | null / raw | fast calls/s | fast / raw "
               "| kv calls/s | kv / raw | kv fast calls/s | kv fast / raw |\n"
               "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
            THR_WINDOW_MS, SERVER_CPU, res->runs);
    for (int place = 0; place < res->nplace; place++)
        for (int k = 0; k < THR_NCLIENTS; k++) {
            const struct thr_cell *c = res->cell[place][k];
            fprintf(f, "| %u | %s | %.0f (%.0f) |", thr_clients[k], place ? "clients on CPU 1" : "same core",
                    c[SRV_RAW].median, c[SRV_RAW].min);
            const enum server shown[] = { SRV_NULL, SRV_FAST, SRV_KV, SRV_KV_FAST };
            for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++)
                fprintf(f, " %.0f (%.0f) | **%.2fx** |", c[shown[i]].median, c[shown[i]].min,
                        c[shown[i]].median / c[SRV_RAW].median);
            fprintf(f, "\n");
        }
    fprintf(f, "\n");
}

void throughput_csv(FILE *f, const struct thr_results *res)
{
    fprintf(f, "clients,placement,server,calls_per_s_median,calls_per_s_min\n");
    for (int place = 0; place < res->nplace; place++)
        for (int k = 0; k < THR_NCLIENTS; k++)
            for (int srv = 0; srv < THR_NSERVERS; srv++)
                fprintf(f, "%u,%s,%s,%.0f,%.0f\n", thr_clients[k], place ? "cross" : "same", server_name[srv],
                        res->cell[place][k][srv].median, res->cell[place][k][srv].min);
}
