/* liar.c — rv-it-liar, a service instance that lies to revived, for
 * test_isolation.c. It speaks the control protocol itself, not through
 * librevive, so it can say what no runtime says.
 *
 *     rv-it-liar hello-list   its HELLO asks for "system calls" that are
 *                             bytes no runtime sends; it then waits to be
 *                             killed
 *     rv-it-liar ctl-done     an instance that binds every session it is
 *                             sent (touching nothing of it) and answers
 *                             pings, and whose status page claims every
 *                             control message revived will ever send it
 *                             handled already. It keeps one check of its
 *                             own: a session bound in a slab record another
 *                             live session has makes it exit 5 (revived
 *                             then counts a restart)
 *     rv-it-liar standby-hangs-up FIFO  serves as the active instance
 *                             as ctl-done does (claiming nothing); as a
 *                             standby (a PING before it is promoted) it
 *                             writes its pid (a pid_t) to FIFO, closes
 *                             its control channel and lives on
 *
 * Each exits when revived closes its channel, or when killed. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "status.h"
#include "wire.h"

static struct rv_msg msg;
static int ctl;
static const char *hang_up_fifo;   /* standby-hangs-up: where it says it did */

static void say(uint8_t type, uint64_t seq, const void *body, size_t len)
{
    struct rv_hdr h = rv__hdr_make(type, seq, 0, 0, len);
    if (rv__wire_send(ctl, &h, body, NULL, 0, 0) < 0)
        exit(0);   /* revived is done with it */
}

static void hear(void)
{
    rv__msg_close_fds(&msg);
    if (rv__wire_recv(ctl, &msg, RV_WIRE_MAX_BODY, 0) <= 0)
        exit(0);
}

static void hello(const char *asked, size_t len)
{
    static char body[sizeof(struct rv_wire_svc_hello) + 4096];
    struct rv_wire_svc_hello h = { .state_size = 0, .layout = 0 };
    memcpy(body, &h, sizeof h);
    memcpy(body + sizeof h, asked, len);
    say(RV_T_SVC_HELLO, 0, body, sizeof h + len);
}

/* Upper case, punctuation, a NUL, and the newline that splits the
 * runtime's names from the service's: none of it a name. */
static void lie_in_hello(void)
{
    static const char asked[] = "read write\nEXIT_GROUP ../../etc;\0 \xff\xfe";
    hello(asked, sizeof asked - 1);
    for (;;)
        hear();
}

/* The status page is the first descriptor of the SVC_CONFIG. */
static void claim_everything_handled(void)
{
    struct rv_status_page *st = msg.nfds ? mmap(NULL, sizeof *st, PROT_READ | PROT_WRITE, MAP_SHARED, msg.fds[0], 0)
                                         : MAP_FAILED;
    if (st == MAP_FAILED)
        exit(3);
    st->magic = RV_STATUS_MAGIC;
    __atomic_store_n(&st->ctl_done, UINT64_MAX, __ATOMIC_RELEASE);
}

#define LIAR_RECORDS 64   /* more than the test's max_sessions */

/* A BIND into a record a bound session still has: revived believed the
 * lie beyond the liar's own retired records. */
static void bind_sessions(bool *live)
{
    struct rv_wire_session w;
    struct rv_wire_opened done[RV_BIND_MAX];
    size_t k = msg.hdr.op;
    if (k < 1 || k > RV_BIND_MAX || msg.hdr.len < k * sizeof w)
        exit(4);
    for (size_t i = 0; i < k; i++) {
        memcpy(&w, msg.body + i * sizeof w, sizeof w);
        if (w.record >= LIAR_RECORDS || live[w.record])
            exit(5);
        live[w.record] = true;
        done[i] = (struct rv_wire_opened){ .id = w.id };
    }
    say(RV_T_BIND_DONE, 0, done, k * sizeof done[0]);
}

/* Cut off from revived, alive. It says so first: revived may kill it the
 * moment the channel closes. */
static void hang_up(void)
{
    pid_t me = getpid();
    int fd = open(hang_up_fifo, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, &me, sizeof me) != sizeof me)
        exit(6);
    close(fd);
    close(ctl);
    for (;;)
        pause();
}

/* Binds and answers as a runtime would; claim: lie in the status page;
 * a standby hangs up if hang_up_fifo is set. */
static void serve(bool claim)
{
    static bool live[LIAR_RECORDS];
    bool promoted = false;
    hello("\n", 1);
    hear();
    if (msg.hdr.type != RV_T_SVC_CONFIG)
        exit(4);
    if (claim)
        claim_everything_handled();
    for (;;) {
        hear();
        if (msg.hdr.type == RV_T_PING && !promoted && hang_up_fifo)
            hang_up();
        switch (msg.hdr.type) {
        case RV_T_HANDOVER_END:
            promoted = true;
            say(RV_T_SVC_READY, 0, NULL, 0);
            break;
        case RV_T_BIND: bind_sessions(live); break;
        case RV_T_UNBIND: live[msg.hdr.seq & (RV_SLAB_MAX_RECORDS - 1) & (LIAR_RECORDS - 1)] = false; break;
        case RV_T_PING: say(RV_T_PONG, msg.hdr.seq, NULL, 0); break;
        default: break;   /* sessions handed over: none, it never restarts */
        }
    }
}

int main(int argc, char **argv)
{
    const char *fd = getenv("REVIVE_CTL_FD");
    if (argc < 2 || !fd)
        return 2;
    ctl = atoi(fd);
    if (argc == 2 && strcmp(argv[1], "hello-list") == 0)
        lie_in_hello();
    else if (argc == 2 && strcmp(argv[1], "ctl-done") == 0)
        serve(true);
    else if (argc == 3 && strcmp(argv[1], "standby-hangs-up") == 0) {
        hang_up_fifo = argv[2];
        serve(false);
    }
    return 2;
}
