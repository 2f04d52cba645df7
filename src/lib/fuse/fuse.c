/* fuse.c — a FUSE mount served across instance deaths; see revive/fuse.h.
 *
 * libfuse 3.14 has no hook for its I/O, so the takeover works with the
 * session as it is: the first instance's INIT request is fed to
 * fuse_session_process_buf, libfuse answers it as it did the first time,
 * and the kernel refuses that answer (ENOENT: no such request), which
 * libfuse ignores. From then on libfuse serves the device as usual.
 *
 * Every request is read here, before libfuse sees it, so the unique and
 * the resend mark are known while it runs, the INIT is captured, and a
 * poisoned or malformed request (fuse_check.h) is answered without
 * dispatch. */
#include "revive/fuse.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "core.h"
#include "fail.h"
#include "fuse_check.h"
#include "revive/server.h"

#ifndef FUSE_NOTIFY_RESEND
#define FUSE_NOTIFY_RESEND 7            /* Linux 6.9; Debian 12's headers lack it */
#endif
#define UNIQUE_RESEND (1ull << 63)      /* the kernel marks a resent request so */

static struct fuse_session *se;
static struct rv_fuse_state *st;
static struct fuse_buf buf;
static uint64_t cur_unique;

uint64_t rv_fuse_unique(void) { return cur_unique & ~UNIQUE_RESEND; }
bool rv_fuse_resent(void) { return cur_unique & UNIQUE_RESEND; }

static void reply_error(uint64_t unique, int err)
{
    struct fuse_out_header oh = { .len = sizeof oh, .error = -err, .unique = unique };
    if (write(fuse_session_fd(se), &oh, sizeof oh) < 0 && errno != ENOENT)
        rv__log(RV_LOG_WARNING, "fuse: cannot answer request %llu: %s", (unsigned long long)unique,
                strerror(errno));
}

static void keep_init(const struct fuse_in_header *in, size_t len)
{
    if (in->opcode != FUSE_INIT || st->init_len || len > sizeof st->init)
        return;
    memcpy(st->init, in, len);
    __atomic_store_n(&st->init_len, (uint32_t)len, __ATOMIC_RELEASE);   /* the bytes first */
}

static bool poisoned(uint64_t unique)
{
    return st->crash_count >= 2 && (unique & ~UNIQUE_RESEND) == st->crash_unique;
}

/* A request libfuse would read past (fuse_check.h) is answered EIO and
 * never dispatched; one too short to say its unique cannot be answered. */
static void refuse_malformed(const struct fuse_in_header *in, size_t n)
{
    if (n < sizeof *in)
        return;
    rv__log(RV_LOG_WARNING, "fuse: request %llu (opcode %u, %zu bytes) is malformed: answered EIO",
            (unsigned long long)(in->unique & ~UNIQUE_RESEND), in->opcode, n);
    reply_error(in->unique, EIO);
}

/* One request: the device is non-blocking, so EAGAIN ends the batch. */
static bool serve_one(void)
{
    int r = fuse_session_receive_buf(se, &buf);
    if (r == -EAGAIN || r == -EINTR)
        return false;
    if (r <= 0)
        rv__fail_stop(r == 0 ? "fuse: the mount was unmounted or aborted" : "fuse: cannot read the device");
    const struct fuse_in_header *in = buf.mem;
    if (!rv__fuse_request_ok(buf.mem, (size_t)r)) {
        refuse_malformed(in, (size_t)r);
        return true;
    }
    keep_init(in, (size_t)r);
    if (poisoned(in->unique)) {
        rv__log(RV_LOG_WARNING, "fuse: request %llu (opcode %u) killed the service twice: answered EIO",
                (unsigned long long)(in->unique & ~UNIQUE_RESEND), in->opcode);
        reply_error(in->unique, EIO);
        return true;
    }
    cur_unique = in->unique;
    __atomic_store_n(&st->serving, in->unique & ~UNIQUE_RESEND, __ATOMIC_RELEASE);
    fuse_session_process_buf(se, &buf);
    __atomic_store_n(&st->serving, 0, __ATOMIC_RELEASE);
    cur_unique = 0;
    return true;
}

static void on_device(int fd, void *arg)
{
    (void)fd, (void)arg;
    for (int n = 0; n < 64 && serve_one(); n++)
        ;
}

/* The instance before us died serving st->serving (if any): count it. */
static void count_death(void)
{
    uint64_t died = st->serving;
    if (!died)
        return;
    if (died == st->crash_unique)
        st->crash_count++;
    else {
        st->crash_unique = died;
        st->crash_count = 1;
    }
    st->serving = 0;
}

static void take_over(int fd)
{
    static uint8_t init[sizeof st->init];
    uint32_t len = __atomic_load_n(&st->init_len, __ATOMIC_ACQUIRE);
    memcpy(init, st->init, len);
    struct fuse_buf ib = { .mem = init, .size = len };
    fuse_session_process_buf(se, &ib);   /* the kernel refuses its answer: no second INIT */
    struct fuse_out_header oh = { .len = sizeof oh, .error = FUSE_NOTIFY_RESEND, .unique = 0 };
    if (write(fd, &oh, sizeof oh) == (ssize_t)sizeof oh) {
        rv__log(RV_LOG_INFO, "fuse: took the mount over; the kernel resends what was in flight");
        return;
    }
    rv__log(RV_LOG_ERR, "fuse: this kernel cannot resend the requests the last instance had read (%s; "
            "FUSE_NOTIFY_RESEND needs Linux 6.9): programs waiting for them wait until the mount is aborted",
            strerror(errno));
}

bool rv_fuse_is_new_mount(const struct rv_fuse_state *state)
{
    return state->mount_id != rv__rt.mount_id;
}

int rv_fuse_start(const struct fuse_lowlevel_ops *ops, size_t ops_size, void *userdata,
                  struct rv_fuse_state *state)
{
    int fd = rv_service_fd(RV_FD_FUSE);
    if (fd < 0 || !state)
        return RV_EINVAL;
    st = state;
    if (rv_fuse_is_new_mount(st)) {
        memset(st, 0, sizeof *st);
        __atomic_store_n(&st->mount_id, rv__rt.mount_id, __ATOMIC_RELEASE);
    }
    char *argv[] = { "revive-fuse", NULL };
    struct fuse_args args = FUSE_ARGS_INIT(1, argv);
    se = fuse_session_new(&args, ops, ops_size, userdata);
    fuse_opt_free_args(&args);   /* the session keeps none of them */
    char path[32];
    snprintf(path, sizeof path, "/dev/fd/%d", fd);
    if (!se || fuse_session_mount(se, path) != 0)
        return RV_ENOMEM;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return RV_EIO;
    count_death();
    if (st->init_len)
        take_over(fd);
    return rv_watch_fd(fd, on_device, NULL);
}
