/* counter_svc.c — a service built outside revive's tree, against the
 * installed headers and library alone (`pkg-config --cflags --libs
 * revive`): one counter per session, in its SSR.
 *
 *   op 1  INCR: counter + 1, replies the counter (a uint64_t)
 *   op 2  SLOW: INCR, then one byte to the FIFO the manifest names
 *         (--fifo PATH) and a wait to be killed; the re-run in the next
 *         instance finds the FIFO gone and replies at once. */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <revive/server.h>

struct counter {
    uint64_t n;
};

static const char *fifo;

static int counter_init(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--fifo") == 0)
            fifo = argv[i + 1];
    return 0;
}

static void signal_and_wait(void)
{
    int fd = fifo ? open(fifo, O_WRONLY | O_NONBLOCK) : -1;
    if (fd < 0)
        return;
    if (write(fd, "!", 1) == 1)
        for (;;)
            pause();
    close(fd);
}

static int counter_handle(rv_request *req)
{
    struct counter *c = req->ssr;
    if (req->op != 1 && req->op != 2)
        return RV_EAPP;
    c->n++;
    if (req->op == 2)
        signal_and_wait();
    return rv_reply(req, &c->n, sizeof c->n);
}

/* pause() is no call the runtime makes: the seccomp filter allows it
 * because the service says it makes it. */
static const char *const counter_syscalls[] = { "pause", NULL };

int main(int argc, char **argv)
{
    static const struct rv_service_ops ops = {
        .ssr_layout = 1,
        .ssr_size = sizeof(struct counter),
        .init = counter_init,
        .handle = counter_handle,
        .syscalls = counter_syscalls,
    };
    return rv_service_main(&ops, argc, argv);
}
