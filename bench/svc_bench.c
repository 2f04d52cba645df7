/* svc_bench.c — rv-svc-bench, the service rv-bench measures.
 *
 * It does as little as a service can, so what rv-bench measures is revive's
 * own cost: the journal, the commit, the SSR protection policy. The HOLD
 * operation exists for the recovery benchmark: it parks a request in the
 * handler of one particular instance, so rv-bench knows the request is in
 * flight (journaled, half-served) at the moment it kills that instance.
 *
 * Arguments (from the manifest): --notify FIFO, where HOLD announces itself.
 */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include "bench.h"
#include "revive/server.h"

#define BENCH_SSR_LAYOUT 1

static int notify_fd = -1;

static int bench_init(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--notify") == 0) {
            /* rv-bench holds the fifo open for reading, so this never blocks */
            notify_fd = open(argv[i + 1], O_WRONLY | O_CLOEXEC);
            return notify_fd < 0 ? -1 : 0;
        }
    return 0;
}

/* Blocks the whole instance until it is killed: that is the point. */
static int hold(rv_request *req)
{
    int32_t pid;
    if (req->len != sizeof pid || notify_fd < 0)
        return RV_EAPP;
    memcpy(&pid, req->data, sizeof pid);
    if (pid == (int32_t)getpid()) {
        ssize_t w = write(notify_fd, "h", 1);
        (void)w;
        for (;;)
            pause();
    }
    return rv_reply(req, req->data, req->len);
}

static int bench_handle(rv_request *req)
{
    switch (req->op) {
    case BENCH_TOUCH:
        if (req->ssr_size < sizeof(uint64_t))
            return RV_EAPP;
        ++*(uint64_t *)req->ssr;
        /* fall through */
    case BENCH_NULL:
        return rv_reply(req, req->data, req->len);
    case BENCH_COUNT:
        if (req->ssr_size < sizeof(uint64_t))
            return RV_EAPP;
        ++*(uint64_t *)req->ssr;
        return rv_reply(req, req->ssr, sizeof(uint64_t));
    case BENCH_PID: {
        int32_t pid = (int32_t)getpid();
        return rv_reply(req, &pid, sizeof pid);
    }
    case BENCH_HOLD:
        return hold(req);
    default:
        return RV_EAPP;
    }
}

/* HOLD waits in pause(), which its seccomp filter allows only so. */
static const char *const bench_syscalls[] = { "pause", NULL };

int main(int argc, char **argv)
{
    static const struct rv_service_ops ops = {
        .ssr_layout = BENCH_SSR_LAYOUT,
        .init = bench_init,
        .handle = bench_handle,
        .syscalls = bench_syscalls,
    };
    return rv_service_main(&ops, argc, argv);
}
