/* valgrind_revived.c — revived under valgrind through a session's life, a
 * service crash, the life of a dataspace, and a task it keeps restarting.
 *
 *     valgrind_revived VALGRIND REVIVED
 *
 * Runs revived (only revived: services and tasks run natively; kv makes
 * revived create and hand over an arena too, random's fast path a ring per
 * session and a doorbell) under
 * memcheck, then opens sessions, calls them, kills the random service with
 * SIGKILL through the control protocol, checks that the session carries on
 * exactly where it was once the service is back, and closes the sessions.
 * Then a dataspace: an attach that waits for its provider, one answered at
 * once and hung up by its consumer, a refused provide, an attach that times
 * out, and the provider's hang-up seen on the first consumer's lifeline.
 * Meanwhile revived restarts a task that always fails (a script that
 * writes a byte to a FIFO and exits 1; restart = on-failure, every 100 ms):
 * two bytes prove the loader's start, exit and restart ran under memcheck.
 * Finally revived is SIGTERMed.
 * valgrind exits with 99 on any memory error or definite leak, so revived's
 * exit status 0 is the verdict.
 *
 * Exits 77 (skipped) when VALGRIND is empty. valgrind 3.19 (Debian 12's)
 * answers pidfd_open with ENOSYS, so this run also covers revived's SIGCHLD
 * fallback for watching its children (child.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "live.h"

#define DRAWS 4
#define BOUND_MS 20000   /* on any wait for revived: only a bug reaches it */

/* ---- the failing task ---- */

struct task_files {
    char dir[64], script[96], fifo[96], manifest[512];
    int fifo_fd;
};

/* The script and its FIFO, made before revived starts it; the manifest:
 * the embedded one's services, plus the task. */
static void make_task(struct task_files *t)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/rv-vg-task-XXXXXX");
    if (!mkdtemp(t->dir))
        live_die("mkdtemp: %s", strerror(errno));
    snprintf(t->script, sizeof t->script, "%s/task.sh", t->dir);
    snprintf(t->fifo, sizeof t->fifo, "%s/runs", t->dir);
    FILE *f = fopen(t->script, "we");
    if (mkfifo(t->fifo, 0600) < 0 || (t->fifo_fd = open(t->fifo, O_RDWR | O_CLOEXEC)) < 0 || !f ||
        fprintf(f, "#!/bin/sh\nprintf r > %s\nexit 1\n", t->fifo) < 0 || fclose(f) != 0 ||
        chmod(t->script, 0700) < 0)
        live_die("cannot make the task's files in %s: %s", t->dir, strerror(errno));
    snprintf(t->manifest, sizeof t->manifest,
             "[service random]\nexec = rv-svc-random\nssr_size = 64\nfast_path = yes\n"
             "[service timer]\nexec = rv-svc-timer\nssr_size = 64\n"
             "[service kv]\nexec = rv-svc-kv\nstate = arena\narena_size = 1M\nssr_size = 0\n"
             "[task failing]\nexec = %s\nrestart = on-failure\n", t->script);
}

/* Two runs: started, exited, restarted. */
static void wait_task_restarted(struct task_files *t)
{
    for (int i = 0; i < 2; i++) {
        struct pollfd p = { t->fifo_fd, POLLIN, 0 };
        char b;
        if (poll(&p, 1, BOUND_MS) != 1 || read(t->fifo_fd, &b, 1) != 1)
            live_die("the failing task did not run twice within %d ms", BOUND_MS);
    }
}

static void remove_task(struct task_files *t)
{
    close(t->fifo_fd);
    unlink(t->fifo);
    unlink(t->script);
    rmdir(t->dir);
}

/* The sequence a seed gives, drawn on a session of its own. */
static void reference(rv_conn *c, uint64_t *want, size_t n)
{
    rv_session *s = live_open(c, "random", "seed=7");
    for (size_t i = 0; i < n; i++)
        want[i] = live_draw(s);
    rv_close(s);
}

static void expect(rv_session *s, const uint64_t *want, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (live_draw(s) != want[i])
            live_die("draw %zu of seed=7 differs from the reference sequence", i);
}

static void kill_random(int ctl)
{
    static struct rv_msg m;
    live_request(ctl, RV_T_KILL, SIGKILL, "random", &m);
    if (m.hdr.type != RV_T_OK)
        live_die("revived answered KILL with message type %u", m.hdr.type);
}

static int no_sessions(void *arg)
{
    int ctl = *(int *)arg;
    return live_status(ctl, "random").sessions == 0 && live_status(ctl, "timer").sessions == 0;
}

/* Sessions, calls, a kill and a recovery, and the sessions' ends, each
 * waited for, so revived runs every one of these paths under memcheck. */
static void scenario(const struct live *l)
{
    rv_conn *c;
    if (rv_connect(l->sock, &c) != 0)
        live_die("cannot connect to revived");
    uint64_t want[2 * DRAWS];
    reference(c, want, 2 * DRAWS);
    rv_session *s = live_open(c, "random", "seed=7"), *t = live_open(c, "timer", "");
    expect(s, want, 0, DRAWS);
    int ctl = live_dial(l);
    kill_random(ctl);
    expect(s, want, DRAWS, 2 * DRAWS);   /* blocks until the new instance serves */
    struct rv_wire_svc_status st = live_status(ctl, "random");
    if (st.restarts != 1)
        live_die("random restarted %u times after one kill, want 1", st.restarts);
    rv_close(s);
    rv_close(t);
    rv_disconnect(c);
    if (live_poll_until(no_sessions, &ctl) < 0)
        live_die("revived still counts sessions that were closed");
    close(ctl);
}

/* ---- the dataspace ---- */

static struct rv_msg msg;

/* Sends a request with descriptors; returns the reply's type. */
static uint8_t ask(int fd, uint8_t type, uint32_t op, const char *name, const int *fds, size_t nfds)
{
    struct rv_hdr h = rv__hdr_make(type, 0, op, 0, strlen(name) + 1);
    struct pollfd p = { fd, POLLIN, 0 };
    if (rv__wire_send(fd, &h, name, fds, nfds, 0) < 0)
        live_die("cannot send a request of type %u", type);
    if (poll(&p, 1, BOUND_MS) != 1 || rv__wire_recv(fd, &msg, RV_WIRE_MAX_BODY, 0) != 1)
        live_die("no answer from revived to a request of type %u", type);
    return msg.hdr.type;
}

static void expect_reply(int fd, uint8_t want)
{
    struct pollfd p = { fd, POLLIN, 0 };
    if (poll(&p, 1, BOUND_MS) != 1 || rv__wire_recv(fd, &msg, RV_WIRE_MAX_BODY, 0) != 1 || msg.hdr.type != want)
        live_die("revived did not answer with message type %u", want);
}

/* Keeps the lifeline of an answered attach, closes the rest. */
static int take_lifeline(void)
{
    if (msg.hdr.type != RV_T_DS_OK || msg.nfds < 2)
        live_die("revived answered an attach with message type %u", msg.hdr.type);
    int life = msg.fds[1];
    msg.fds[1] = -1;
    rv__msg_close_fds(&msg);
    return life;
}

static void dataspace_scenario(const struct live *l)
{
    int prov = live_dial(l), cons = live_dial(l), p[2];
    int fds[2] = { memfd_create("vg-ds", MFD_CLOEXEC | MFD_ALLOW_SEALING), eventfd(0, EFD_CLOEXEC) };
    if (fds[0] < 0 || fds[1] < 0 || ftruncate(fds[0], 4096) < 0 || fcntl(fds[0], F_ADD_SEALS, F_SEAL_SHRINK) < 0 ||
        pipe2(p, O_CLOEXEC) < 0)
        live_die("cannot make a dataspace");
    struct rv_hdr h = rv__hdr_make(RV_T_DS_ATTACH, 0, BOUND_MS, 0, 3);
    if (rv__wire_send(cons, &h, "vg", NULL, 0, 0) < 0)
        live_die("cannot send an attach");
    live_status(cons, "random");   /* answered first: the attach waits */
    if (ask(prov, RV_T_DS_PROVIDE, 1, "vg", fds, 2) != RV_T_OK)
        live_die("revived refused a good provide");
    expect_reply(cons, RV_T_DS_OK);
    int life = take_lifeline();
    ask(cons, RV_T_DS_ATTACH, 0, "vg", NULL, 0);
    close(take_lifeline());   /* a consumer that hangs up */
    if (ask(prov, RV_T_DS_PROVIDE, 0, "bad", p, 1) != RV_T_ERROR)
        live_die("revived accepted a pipe as a dataspace");
    if (ask(cons, RV_T_DS_ATTACH, 10, "nobody", NULL, 0) != RV_T_ERROR)
        live_die("an attach of a dataspace nobody provides did not fail");
    close(prov);
    struct pollfd pf = { life, POLLIN, 0 };
    if (poll(&pf, 1, BOUND_MS) != 1 || !(pf.revents & POLLHUP))
        live_die("the provider hung up, but the lifeline did not");
    close(life);
    close(cons);
    close(fds[0]);
    close(fds[1]);
    close(p[0]);
    close(p[1]);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: valgrind_revived VALGRIND REVIVED\n");
        return 2;
    }
    if (!argv[1][0]) {
        printf("valgrind not found: skipped\n");
        return 77;
    }
    const char *const wrapper[] = { argv[1], "-q", "--error-exitcode=99", "--leak-check=full",
                                    "--errors-for-leak-kinds=definite", "--track-fds=no",
                                    "--trace-children=no", NULL };
    struct live l;
    struct task_files t;
    make_task(&t);
    live_start(&l, wrapper, argv[2], t.manifest);
    scenario(&l);
    dataspace_scenario(&l);
    wait_task_restarted(&t);
    int ws = live_stop(&l);
    remove_task(&t);
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
        live_die("revived under valgrind: wait status %#x (exit 99: valgrind found errors, see above)", ws);
    printf("ok: valgrind found no error and no definite leak in revived\n");
    return 0;
}
