/* valgrind_revived.c — revived under valgrind through a session's life and a
 * service crash.
 *
 *     valgrind_revived VALGRIND REVIVED
 *
 * Runs revived (only revived: services run natively) under memcheck, then
 * opens sessions, calls them, kills the random service with SIGKILL through
 * the control protocol, checks that the session carries on exactly where it
 * was once the service is back, closes the sessions and SIGTERMs revived.
 * valgrind exits with 99 on any memory error or definite leak, so revived's
 * exit status 0 is the verdict.
 *
 * Exits 77 (skipped) when VALGRIND is empty. valgrind 3.19 (Debian 12's)
 * answers pidfd_open with ENOSYS, so this run also covers revived's SIGCHLD
 * fallback for watching its children (child.c).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "live.h"

#define DRAWS 4

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
    live_start(&l, wrapper, argv[2]);
    scenario(&l);
    int ws = live_stop(&l);
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
        live_die("revived under valgrind: wait status %#x (exit 99: valgrind found errors, see above)", ws);
    printf("ok: valgrind found no error and no definite leak in revived\n");
    return 0;
}
