/* test_shared.c — sessions on a shared channel (rv_open_shared): many
 * sessions of one process cost revived and the service no descriptor
 * each, yet each keeps its own state, its exactly-once calls across kills
 * of the service (with a new process and with a standby), and its own end;
 * a client that names another client's session on its channel reaches
 * nothing. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"
#include "testsvc.h"
#include "wire.h"

#define POLICY "max_restarts = 100 in 10s\nrequest_timeout = 20s\nheartbeat = 10s\n"
#define MANY 600
/* Room for the thousands of sessions the tests of RV_OPEN_MANY hold. */
#define USER_ROOM "[revived]\nmax_sessions_per_user = 20000\nmax_connections_per_user = 4000\nmax_ssr_bytes = 1G\n"

static rv_session *open_shared(rv_conn *c, const char *args)
{
    rv_session *s;
    int rc = rv_open_shared(c, "test", args, &s);
    if (rc != 0)
        fail_msg("rv_open_shared: %d: %s", rc, rv_conn_error(c));
    return s;
}

static bool sessions_are(const struct svc_status *st, const void *arg)
{
    return st->sessions == *(const long long *)arg;
}

static void wait_sessions(const struct rvd *d, long long n)
{
    struct svc_status st;
    wait_status(d, "test", sessions_are, &n, &st);
}

/* Every session gone, the service never restarted: then revived stops. */
static void end_without_restarts(struct rvd *d)
{
    wait_sessions(d, 0);
    struct svc_status st;
    svc_status(d, "test", &st);
    assert_int_equal(st.restarts, 0);
    rvd_stop(d);
}

/* Session i is called i % 7 + 1 times: a session answering with another's
 * count shows state that leaked between them. */
static void incr_each(rv_session **s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k <= i % 7; k++)
            call_ok(s[i], TEST_INCR);
}

static void check_each(rv_session **s, size_t n, uint64_t rounds)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t v = call_ok(s[i], TEST_GET);
        if (v != rounds * (i % 7 + 1))
            fail_msg("session %zu counts %llu, expected %llu", i, (unsigned long long)v,
                     (unsigned long long)(rounds * (i % 7 + 1)));
    }
}

static void test_shared_sessions_cost_no_descriptors(void **state)
{
    (void)state;
    struct rvd d;
    char m[512];
    rvd_start(&d, manifest_test(m, sizeof m, "max_sessions = 2048\n"));
    rv_conn *c;
    assert_int_equal(rv_connect(d.sock, &c), 0);
    rv_session **s = calloc(MANY, sizeof *s);
    s[0] = open_shared(c, NULL);
    struct svc_status st;
    svc_status(&d, "test", &st);
    size_t rd_fds = it_fd_count(d.pid), svc_fds = it_fd_count((pid_t)st.pid), my_fds = it_fd_count(getpid());
    for (size_t i = 1; i < MANY; i++)
        s[i] = open_shared(c, NULL);
    assert_int_equal(it_fd_count(d.pid), rd_fds);
    assert_int_equal(it_fd_count((pid_t)st.pid), svc_fds);
    assert_int_equal(it_fd_count(getpid()), my_fds);
    incr_each(s, MANY);
    check_each(s, MANY, 1);
    for (size_t i = 0; i < MANY; i += 2)
        rv_close(s[i]);
    wait_sessions(&d, MANY / 2);
    for (size_t i = 1; i < MANY; i += 2)
        assert_int_equal(call_ok(s[i], TEST_GET), i % 7 + 1);
    for (size_t i = 1; i < MANY; i += 2)
        rv_close(s[i]);
    wait_sessions(&d, 0);
    rv_disconnect(c);
    free(s);
    rvd_stop(&d);
}

/* rv-svc-test with 4 worker threads (and tier 1's recovery domains). */
#define WORKERS_MANIFEST "[service test]\nexec = rv-svc-test-rd\nssr_size = 256\n" POLICY IT_TEST_PATHS

/* Ready, served by another process than *arg: the last kill took. */
static bool ready_after(const struct svc_status *st, const void *arg)
{
    return status_ready(st, NULL) && st->pid != *(const long long *)arg;
}

/* Calls in flight on shared sessions while the service is killed, with a
 * new process each time, with a standby, and with workers: every count
 * comes back exactly once. Each round waits for the last round's kill to
 * have taken: the calls may all be answered before it lands (a fault
 * signal takes the recovery domains' handler a while), and a kill sent
 * then would find the service recovering. */
static void kill_rounds(const char *manifest)
{
    struct rvd d;
    rvd_start(&d, manifest);
    rv_conn *c;
    assert_int_equal(rv_connect(d.sock, &c), 0);
    enum { N = 40, ROUNDS = 6 };
    rv_session *s[N];
    for (size_t i = 0; i < N; i++)
        s[i] = open_shared(c, NULL);
    static const char *const sigs[] = { "KILL", "SEGV", "ABRT" };
    long long killed = 0;
    for (uint64_t r = 0; r < ROUNDS; r++) {
        struct svc_status st;
        wait_status(&d, "test", ready_after, &killed, &st);   /* an instance to kill, not a backoff */
        killed = st.pid;
        pid_t child = it_fork();
        if (child == 0) {   /* the kill lands while the parent calls */
            char *argv[] = { RV_IT_REVIVECTL, "--socket", d.sock, "kill", "test", "--signal", (char *)sigs[r % 3], NULL };
            execv(argv[0], argv);
            _exit(127);
        }
        incr_each(s, N);
        int ws;
        assert_int_equal(waitpid(child, &ws, 0), child);
        assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    }
    check_each(s, N, ROUNDS);
    struct svc_status st;
    svc_status(&d, "test", &st);
    assert_true(st.restarts >= 1);
    for (size_t i = 0; i < N; i++)
        rv_close(s[i]);
    rv_disconnect(c);
    rvd_stop(&d);
}

static void test_shared_across_kills(void **state)
{
    (void)state;
    char m[512];
    kill_rounds(manifest_test(m, sizeof m, POLICY));
}

static void test_shared_across_kills_with_standby(void **state)
{
    (void)state;
    char m[512];
    kill_rounds(manifest_test(m, sizeof m, POLICY "standby = yes\n"));
}

static void test_shared_across_kills_with_workers(void **state)
{
    (void)state;
    kill_rounds(WORKERS_MANIFEST);
}

/* Threads on connections of their own open, call and close shared
 * sessions while the workers serve them: channels come and go under the
 * workers (the last session's close ends its channel). */
static void *churn_main(void *arg)
{
    const struct rvd *d = arg;
    rv_conn *c;
    assert_int_equal(rv_connect(d->sock, &c), 0);
    for (int round = 0; round < 50; round++) {
        rv_session *s[4];
        for (int i = 0; i < 4; i++)
            s[i] = open_shared(c, NULL);
        for (int i = 0; i < 4; i++)
            assert_int_equal(call_ok(s[i], TEST_INCR), 1);
        for (int i = 0; i < 4; i++)
            rv_close(s[i]);
    }
    rv_disconnect(c);
    return NULL;
}

static void test_shared_churn_with_workers(void **state)
{
    (void)state;
    struct rvd d;
    rvd_start(&d, WORKERS_MANIFEST);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, churn_main, &d), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    end_without_restarts(&d);
}

/* A process that dies holding shared sessions leaves none behind. */
static void test_shared_client_dies(void **state)
{
    (void)state;
    struct rvd d;
    char m[512];
    rvd_start(&d, manifest_test(m, sizeof m, ""));
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t child = it_fork();
    if (child == 0) {
        rv_conn *c;
        rv_session *s;
        if (rv_connect(d.sock, &c) != 0)
            _exit(1);
        for (int i = 0; i < 100; i++)
            if (rv_open_shared(c, "test", NULL, &s) != 0 || call_u64(s, TEST_INCR, &(uint64_t){ 0 }) != 0)
                _exit(2);
        if (write(ready[1], "k", 1) != 1)
            _exit(3);
        pause();
        _exit(0);
    }
    char b;
    assert_int_equal(read(ready[0], &b, 1), 1);
    wait_sessions(&d, 100);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    wait_sessions(&d, 0);
    close(ready[0]);
    close(ready[1]);
    rvd_stop(&d);
}

/* One raw call on a shared channel: the reply's status. */
static int32_t raw_call(int fd, uint64_t seq, uint32_t op, int32_t tag, const void *body, size_t len)
{
    struct rv_hdr h = rv__hdr_make(RV_T_CALL, seq, op, tag, 0);
    if (body)
        assert_int_equal(send(fd, body, len, 0), (ssize_t)len);
    else
        assert_int_equal(rv__wire_send(fd, &h, NULL, NULL, 0, 0), 0);
    struct rv_msg *msg = malloc(sizeof *msg);
    assert_int_equal(rv__wire_recv(fd, msg, RV_MAX_PAYLOAD, 0), 1);
    assert_int_equal(msg->hdr.type, RV_T_REPLY);
    assert_int_equal(msg->hdr.seq, body ? 0 : seq);
    int32_t status = msg->hdr.status;
    free(msg);
    return status;
}

/* A client names, on its own channel, the tag of a session another
 * client holds: the call is refused, and the other session's count does
 * not move. A datagram that is no message is answered too, and the
 * channel serves on. */
static void test_shared_tag_of_another_client(void **state)
{
    (void)state;
    struct rvd d;
    char m[512];
    rvd_start(&d, manifest_test(m, sizeof m, ""));
    rv_conn *victim_c, *thief_c;
    assert_int_equal(rv_connect(d.sock, &victim_c), 0);
    assert_int_equal(rv_connect(d.sock, &thief_c), 0);
    rv_session *victim = open_shared(victim_c, NULL);
    rv_session *thief = open_shared(thief_c, NULL);
    call_ok(victim, TEST_INCR);
    int fd = rv_session_fd(thief);
    unsigned counted = 0;
    int32_t own = -1;
    for (int32_t tag = 0; tag < 1024; tag++) {   /* every record of the slab (max_sessions) */
        int32_t status = raw_call(fd, 1000 + (uint64_t)tag, TEST_INCR, tag, NULL, 0);
        if (status == 0) {   /* its own tag counts; every other is refused */
            counted++;
            own = tag;
        } else
            assert_int_equal(status, RV_ECLOSED);
    }
    assert_int_equal(counted, 1);
    assert_int_equal(call_ok(victim, TEST_GET), 1);
    assert_int_equal(raw_call(fd, 0, 0, 0, "junk", 4), RV_EPROTO);
    assert_int_equal(raw_call(fd, 5000, TEST_GET, own, NULL, 0), 0);
    rv_close(victim);
    rv_close(thief);
    rv_disconnect(victim_c);
    rv_disconnect(thief_c);
    rvd_stop(&d);
}

/* A flood of openers: OPENERS connections each ask for a session before
 * any answer is read, so revived has an OPEN from every one of them to
 * bind at once. Every opener gets its session and each session serves.
 * revived keeps its binds to the instance within what the control socket
 * holds; unbounded, it filled the socket both ways, timed out on its own
 * write and killed a healthy instance. With a kill (kill_sig) sent while
 * the binds are out and queued, the next instance binds the rest. Returns
 * how often the service restarted meanwhile. */
#define OPENERS 3000
static unsigned flood_of_openers(const struct rvd *d, const char *kill_sig)
{
    struct rlimit rl;   /* the test holds two descriptors per opener: up to the hard limit */
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    rl.rlim_cur = rl.rlim_max;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
    assert_true(rl.rlim_cur >= 2 * OPENERS + 100);
    struct svc_status before, after;
    wait_status(d, "test", status_ready, NULL, &before);
    int *conn = malloc(OPENERS * sizeof *conn), *sess = malloc(OPENERS * sizeof *sess);
    struct rv_msg *msg = malloc(sizeof *msg);
    assert_non_null(conn);
    assert_non_null(sess);
    assert_non_null(msg);
    static const char name[] = "test";
    struct rv_hdr open = rv__hdr_make(RV_T_OPEN, 0, 0, 0, sizeof name);
    for (size_t i = 0; i < OPENERS; i++) {
        conn[i] = rv__wire_dial(d->sock);
        assert_true(conn[i] >= 0);
        assert_int_equal(rv__wire_send(conn[i], &open, name, NULL, 0, 0), 0);
    }
    if (kill_sig)
        ctl(d, "kill", "test", kill_sig);
    for (size_t i = 0; i < OPENERS; i++) {
        assert_int_equal(rv__wire_recv(conn[i], msg, RV_WIRE_MAX_BODY, 0), 1);
        if (msg->hdr.type != RV_T_OPEN_OK || msg->nfds != 1)
            fail_msg("opener %zu: answer type %u with %zu descriptors: %.*s", i, msg->hdr.type, msg->nfds,
                     (int)msg->hdr.len, (const char *)msg->body);
        sess[i] = msg->fds[0];
    }
    for (size_t i = 0; i < OPENERS; i++)
        assert_int_equal(raw_call(sess[i], 1, TEST_INCR, 0, NULL, 0), 0);
    svc_status(d, "test", &after);
    for (size_t i = 0; i < OPENERS; i++) {
        close(sess[i]);
        close(conn[i]);
    }
    free(conn);
    free(sess);
    free(msg);
    wait_sessions(d, 0);
    return (unsigned)(after.restarts - before.restarts);
}

static void test_flood_of_openers(void **state)
{
    (void)state;
    struct rvd d;
    char m[512];
    rvd_start(&d, manifest_test(m, sizeof m, POLICY "max_sessions = 4096\n" USER_ROOM));
    assert_int_equal(flood_of_openers(&d, NULL), 0);   /* nothing took the instance for hung */
    rvd_stop(&d);
}

/* A standby adopts the sessions as they bind, so the flood reaches it
 * too: it is neither taken for hung nor replaced. (That it holds them is
 * test_kill_while_opening_many_with_standby's to show.) */
static void test_flood_of_openers_with_standby(void **state)
{
    (void)state;
    struct rvd d;
    char m[512];
    rvd_start(&d, manifest_test(m, sizeof m, POLICY "max_sessions = 4096\nstandby = yes\n" USER_ROOM));
    struct svc_status before, after;
    wait_status(&d, "test", status_standby_ready, NULL, &before);
    assert_int_equal(flood_of_openers(&d, NULL), 0);
    svc_status(&d, "test", &after);
    assert_int_equal(after.standby_pid, before.standby_pid);
    rvd_stop(&d);
}

static void test_flood_of_openers_across_a_kill(void **state)
{
    (void)state;
    struct rvd d;
    char m[512];
    rvd_start(&d, manifest_test(m, sizeof m, POLICY "max_sessions = 4096\n" USER_ROOM));
    assert_int_equal(flood_of_openers(&d, "KILL"), 1);
    rvd_stop(&d);
}

/* Sends a shared OPEN of service "test" with args on the raw connection
 * fd, its answer left unread. */
static void send_shared_open(int fd, const char *args)
{
    char body[64];
    int n = snprintf(body, sizeof body, "test%c%s", '\0', args);
    assert_true(n > 0 && (size_t)n < sizeof body);
    struct rv_hdr h = rv__hdr_make(RV_T_OPEN, 0, RV_OPEN_SHARED, 0, (size_t)n + 1);
    assert_int_equal(rv__wire_send(fd, &h, body, NULL, 0, 0), 0);
}

/* Holds the service's one thread in a request for TEST_SLOW_BLOCK_S, so
 * that control messages pile up unread behind it; *held is the session
 * whose reply ends the hold (hold_end). */
static void hold_service(struct rvd *d, rv_session **held, struct fifo *f)
{
    char args[192];
    fifo_make(d, "hold", f);
    snprintf(args, sizeof args, "fifo=%s", f->path);
    *held = open_session(d, "test", args);
    struct rv_hdr h = rv__hdr_make(RV_T_CALL, 1, TEST_SLOW_INCR, 0, 0);
    assert_int_equal(rv__wire_send(rv_session_fd(*held), &h, NULL, NULL, 0, 0), 0);
    fifo_wait(f);
}

static void hold_end(rv_session *held, struct fifo *f, struct rv_msg *msg)
{
    assert_int_equal(rv__wire_recv(rv_session_fd(held), msg, RV_WIRE_MAX_BODY, 0), 1);
    assert_int_equal(msg->hdr.type, RV_T_REPLY);
    rv_close(held);
    fifo_close(f);
}

/* The next answer on the raw connection c: an OPEN_OK of a new channel,
 * whose session then counts one call; the session's id in *id. */
static int recv_opened_channel(int c, struct rv_msg *msg, uint64_t *id)
{
    assert_int_equal(rv__wire_recv(c, msg, RV_WIRE_MAX_BODY, 0), 1);
    if (msg->hdr.type != RV_T_OPEN_OK)
        fail_msg("the sound open was answered with type %u, status %d: %.*s", msg->hdr.type, msg->hdr.status,
                 (int)msg->hdr.len, (const char *)msg->body);
    assert_int_equal(msg->nfds, 1);   /* the channel's client end */
    *id = msg->hdr.seq;
    return msg->fds[0];
}

/* Two shared opens sent together on one connection while the service is
 * busy, so that both BINDs wait for it: the first is refused by the
 * service's bind (bad arguments), the second is sound. The refusal is the
 * first session's alone: the second, which counted on the channel's
 * socket the first brought the instance, opens and serves. */
static void test_refused_open_beside_a_sound_one(void **state)
{
    (void)state;
    struct rvd d;
    char m[512];
    rvd_start(&d, manifest_test(m, sizeof m, POLICY));
    rv_session *held;
    struct fifo f;
    hold_service(&d, &held, &f);
    int c = rv__wire_dial(d.sock);
    assert_true(c >= 0);
    send_shared_open(c, "bad");
    send_shared_open(c, "");
    struct rv_msg *msg = malloc(sizeof *msg);
    assert_non_null(msg);
    assert_int_equal(rv__wire_recv(c, msg, RV_WIRE_MAX_BODY, 0), 1);
    assert_int_equal(msg->hdr.type, RV_T_ERROR);
    assert_int_equal(msg->hdr.status, RV_EAPP);
    uint64_t id;
    int ch = recv_opened_channel(c, msg, &id);
    assert_int_equal(raw_call(ch, 1, TEST_INCR, rv__wire_tag(id), NULL, 0), 0);
    hold_end(held, &f, msg);
    free(msg);
    close(ch);
    close(c);
    end_without_restarts(&d);
}

/* Three sessions opened together, of which the service refuses the first
 * (refuseonce): the one that brings the new channel's socket to the
 * instance. The refusal is that session's alone: the other two, in the
 * same BIND, open on the channel and serve. Sent raw, for librevive's
 * rv_open_shared_many is all or nothing and would close them again. */
static void test_refused_first_of_a_batch(void **state)
{
    (void)state;
    struct rvd d;
    char m[512], marker[160], body[256];
    rvd_start(&d, manifest_test(m, sizeof m, POLICY));
    struct svc_status st;
    wait_status(&d, "test", status_ready, NULL, &st);   /* bound in the order opened: the first brings the socket */
    int n = snprintf(body, sizeof body, "test%crefuseonce=%s", '\0', rvd_marker(&d, marker, sizeof marker));
    assert_true(n > 0 && (size_t)n < sizeof body);
    int c = rv__wire_dial(d.sock);
    assert_true(c >= 0);
    struct rv_hdr h = rv__hdr_make(RV_T_OPEN, 3, RV_OPEN_SHARED | RV_OPEN_MANY, 0, (size_t)n + 1);
    assert_int_equal(rv__wire_send(c, &h, body, NULL, 0, 0), 0);
    struct rv_msg *msg = malloc(sizeof *msg);
    assert_non_null(msg);
    assert_int_equal(rv__wire_recv(c, msg, RV_WIRE_MAX_BODY, 0), 1);
    assert_int_equal(msg->hdr.type, RV_T_OPEN_OK);
    assert_int_equal(msg->nfds, 1);
    assert_true(msg->hdr.len >= 3 * sizeof(struct rv_wire_opened));
    struct rv_wire_opened e[3];
    memcpy(e, msg->body, sizeof e);
    assert_int_equal(e[0].status, RV_EAPP);
    for (int i = 1; i < 3; i++) {
        if (e[i].status != 0)
            fail_msg("session %d of the batch failed with %d beside the refused one", i, e[i].status);
        assert_int_equal(raw_call(msg->fds[0], 1, TEST_INCR, rv__wire_tag(e[i].id), NULL, 0), 0);
    }
    close(msg->fds[0]);
    free(msg);
    close(c);
    wait_sessions(&d, 0);
    rvd_stop(&d);
}

static bool recovering(const struct svc_status *st, const void *arg)
{
    (void)arg;
    return strcmp(st->state, "recovering") == 0;
}

/* Opens that arrive while the service waits out a backoff are bound once
 * it is ready, in the order they came: the opener that waited longest is
 * answered first (the answers on one connection come in bind order). */
static void test_waiting_opens_bound_in_order(void **state)
{
    (void)state;
    struct rvd d;
    char m[512];
    rvd_start(&d, manifest_test(m, sizeof m, POLICY "backoff = 1s..1min\n"));
    struct svc_status st;
    wait_status(&d, "test", status_ready, NULL, &st);
    ctl(&d, "kill", "test", "KILL");   /* a crash soon after the start: 1 s of backoff */
    wait_status(&d, "test", recovering, NULL, &st);
    int c = rv__wire_dial(d.sock);
    assert_true(c >= 0);
    enum { WAITING = 3 };
    for (int i = 0; i < WAITING; i++)
        send_shared_open(c, "");
    struct rv_msg *msg = malloc(sizeof *msg);
    assert_non_null(msg);
    uint64_t last = 0;
    for (int i = 0; i < WAITING; i++) {
        assert_int_equal(rv__wire_recv(c, msg, RV_WIRE_MAX_BODY, 0), 1);
        assert_int_equal(msg->hdr.type, RV_T_OPEN_OK);
        if (msg->hdr.seq <= last)
            fail_msg("open %d was answered with session %llu after session %llu", i,
                     (unsigned long long)msg->hdr.seq, (unsigned long long)last);
        last = msg->hdr.seq;
        rv__msg_close_fds(msg);
    }
    free(msg);
    close(c);
    wait_sessions(&d, 0);
    rvd_stop(&d);
}

/* A shared open that waits for room among the BINDs out (the service is
 * busy, and other clients' opens fill the window) while its client closes
 * the one other session of its channel, whose UNBIND goes out at once:
 * the instance drops the channel's socket with that session, before the
 * waiting BIND reaches it. The BIND brings the socket again, and the
 * session opens and serves. */
#define FILLERS 12
static void test_open_queued_behind_its_channel_closing(void **state)
{
    (void)state;
    struct rvd d;
    char m[512];
    rvd_start(&d, manifest_test(m, sizeof m, POLICY));
    int c = rv__wire_dial(d.sock);
    assert_true(c >= 0);
    struct rv_msg *msg = malloc(sizeof *msg);
    assert_non_null(msg);
    send_shared_open(c, "");
    uint64_t first;
    int ch = recv_opened_channel(c, msg, &first);
    rv_session *held;
    struct fifo f;
    hold_service(&d, &held, &f);
    int fillers[FILLERS];
    static const char name[] = "test";
    struct rv_hdr open = rv__hdr_make(RV_T_OPEN, 0, 0, 0, sizeof name);
    for (int i = 0; i < FILLERS; i++) {
        fillers[i] = rv__wire_dial(d.sock);
        assert_true(fillers[i] >= 0);
        assert_int_equal(rv__wire_send(fillers[i], &open, name, NULL, 0, 0), 0);
    }
    wait_sessions(&d, 2 + FILLERS);   /* revived has them all: the window is full */
    send_shared_open(c, "");
    struct rv_hdr close_first = rv__hdr_make(RV_T_CLOSE, first, 0, 0, 0);
    assert_int_equal(rv__wire_send(c, &close_first, NULL, NULL, 0, 0), 0);
    assert_int_equal(rv__wire_recv(c, msg, RV_WIRE_MAX_BODY, 0), 1);
    assert_int_equal(msg->hdr.type, RV_T_OK);   /* the CLOSE: answered at once */
    hold_end(held, &f, msg);
    assert_int_equal(rv__wire_recv(c, msg, RV_WIRE_MAX_BODY, 0), 1);
    if (msg->hdr.type != RV_T_OPEN_OK)
        fail_msg("the waiting open was answered with type %u, status %d: %.*s", msg->hdr.type, msg->hdr.status,
                 (int)msg->hdr.len, (const char *)msg->body);
    assert_int_equal(raw_call(ch, 1, TEST_INCR, rv__wire_tag(msg->hdr.seq), NULL, 0), 0);
    for (int i = 0; i < FILLERS; i++)
        close(fillers[i]);
    free(msg);
    close(ch);
    close(c);
    end_without_restarts(&d);
}

static void open_many(rv_conn *c, const char *name, size_t n, rv_session **s)
{
    int rc = rv_open_shared_many(c, name, NULL, n, s);
    if (rc != 0)
        fail_msg("rv_open_shared_many(%zu): %d: %s", n, rc, rv_conn_error(c));
}

static void close_all(rv_session **s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        rv_close(s[i]);
}

/* 2,500 sessions in three requests (at most 1,000 each): each is a session
 * of its own, with its own count, and closes on its own. */
static void test_open_many(void **state)
{
    (void)state;
    enum { N = 2500 };
    struct rvd d;
    char m[512];
    rvd_start(&d, manifest_test(m, sizeof m, "max_sessions = 4096\n" USER_ROOM));
    rv_conn *c;
    assert_int_equal(rv_connect(d.sock, &c), 0);
    rv_session **s = calloc(N, sizeof *s);
    open_many(c, "test", N, s);
    wait_sessions(&d, N);
    incr_each(s, N);
    check_each(s, N, 1);
    close_all(s, N / 2);
    wait_sessions(&d, N - N / 2);
    for (size_t i = N / 2; i < N; i++)
        assert_int_equal(call_ok(s[i], TEST_GET), i % 7 + 1);
    close_all(s + N / 2, N - N / 2);
    wait_sessions(&d, 0);
    free(s);
    rv_disconnect(c);
    rvd_stop(&d);
}

/* More sessions than max_sessions leaves room for: none of the request's
 * is kept, the error says why, and the sessions open before still count. */
static void test_open_many_is_all_or_nothing(void **state)
{
    (void)state;
    struct rvd d;
    char m[512];
    rvd_start(&d, manifest_test(m, sizeof m, "max_sessions = 1024\n" USER_ROOM));
    rv_conn *c;
    assert_int_equal(rv_connect(d.sock, &c), 0);
    rv_session *before[100], *many[1000];
    open_many(c, "test", 100, before);
    incr_each(before, 100);
    assert_int_equal(rv_open_shared_many(c, "test", NULL, 1000, many), RV_EBUSY);
    assert_non_null(strstr(rv_conn_error(c), "max_sessions"));
    wait_sessions(&d, 100);
    check_each(before, 100, 1);
    struct svc_status st;
    svc_status(&d, "test", &st);
    assert_int_equal(st.restarts, 0);
    close_all(before, 100);
    rv_disconnect(c);
    rvd_stop(&d);
}

#define TWO_SERVICES "[service a]\nexec = rv-svc-test\nssr_size = 256\n" IT_TEST_PATHS \
                     "[service b]\nexec = rv-svc-test\nssr_size = 256\n" IT_TEST_PATHS

/* One connection, shared sessions with two services opened in turns: each
 * goes on its own service's channel (revived names the channel in each
 * answer), so each counts on its own. */
static void test_two_services_on_one_connection(void **state)
{
    (void)state;
    enum { N = 20 };
    struct rvd d;
    rvd_start(&d, TWO_SERVICES);
    rv_conn *c;
    assert_int_equal(rv_connect(d.sock, &c), 0);
    rv_session *s[N];
    for (size_t i = 0; i < N; i++) {
        if (i % 4 == 3)
            open_many(c, "b", 1, &s[i]);   /* a batch on a channel the connection has */
        else if (rv_open_shared(c, i % 2 ? "b" : "a", NULL, &s[i]) != 0)
            fail_msg("open %zu: %s", i, rv_conn_error(c));
    }
    for (size_t i = 0; i < N; i++)
        for (size_t k = 0; k <= i; k++)
            call_ok(s[i], TEST_INCR);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(call_ok(s[i], TEST_GET), i + 1);
    struct svc_status st;
    svc_status(&d, "a", &st);
    assert_int_equal(st.sessions, N / 2);
    svc_status(&d, "b", &st);
    assert_int_equal(st.sessions, N / 2);
    close_all(s, N);
    rv_disconnect(c);
    rvd_stop(&d);
}

/* A client killed while the service binds a batch of its sessions: the
 * service's confirmations of binds whose client went are no lie (the
 * instance is not replaced), and nothing of the client's stays behind. */
static void test_client_killed_while_opening_many(void **state)
{
    (void)state;
    struct rvd d;
    char m[512];
    rvd_start(&d, manifest_test(m, sizeof m, "max_sessions = 16384\n" USER_ROOM));
    struct svc_status first;
    wait_status(&d, "test", status_ready, NULL, &first);
    for (int round = 0; round < 4; round++) {
        int ready[2];
        assert_int_equal(pipe(ready), 0);
        pid_t child = it_fork();
        if (child == 0) {
            rv_conn *c;
            static rv_session *s[RV_OPEN_MANY_MAX];
            if (rv_connect(d.sock, &c) != 0 || rv_open_shared_many(c, "test", NULL, RV_OPEN_MANY_MAX, s) != 0)
                _exit(1);
            if (write(ready[1], "k", 1) != 1)
                _exit(2);
            for (;;)   /* killed while these bind */
                if (rv_open_shared_many(c, "test", NULL, RV_OPEN_MANY_MAX, s) != 0)
                    _exit(3);
        }
        char b;
        assert_int_equal(read(ready[0], &b, 1), 1);
        kill(child, SIGKILL);
        int ws;
        assert_int_equal(waitpid(child, &ws, 0), child);
        assert_true(WIFSIGNALED(ws));
        wait_sessions(&d, 0);
        close(ready[0]);
        close(ready[1]);
    }
    struct svc_status st;
    svc_status(&d, "test", &st);
    assert_int_equal(st.restarts, 0);
    assert_int_equal(st.pid, first.pid);
    rvd_stop(&d);
}

/* The service is killed while it binds a batch (with a new process, and
 * with a standby): the batch is answered once the next instance has bound
 * what the dead one had not, and every session counts on its own. */
static void kill_while_opening_many(const char *manifest)
{
    enum { N = 1000 };
    struct rvd d;
    rvd_start(&d, manifest);
    rv_conn *c;
    assert_int_equal(rv_connect(d.sock, &c), 0);
    rv_session **s = calloc(3 * N, sizeof *s);
    for (int r = 0; r < 3; r++) {
        struct svc_status st;
        wait_status(&d, "test", status_ready, NULL, &st);
        pid_t child = it_fork();
        if (child == 0) {
            char *argv[] = { RV_IT_REVIVECTL, "--socket", d.sock, "kill", "test", NULL };
            execv(argv[0], argv);
            _exit(127);
        }
        open_many(c, "test", N, s + r * N);
        int ws;
        assert_int_equal(waitpid(child, &ws, 0), child);
        assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    }
    incr_each(s, 3 * N);
    check_each(s, 3 * N, 1);
    wait_sessions(&d, 3 * N);
    struct svc_status st;
    svc_status(&d, "test", &st);
    assert_int_equal(st.restarts, 3);
    close_all(s, 3 * N);
    free(s);
    rv_disconnect(c);
    rvd_stop(&d);
}

static void test_kill_while_opening_many(void **state)
{
    (void)state;
    char m[512];
    kill_while_opening_many(manifest_test(m, sizeof m, POLICY "max_sessions = 4096\n" USER_ROOM));
}

static void test_kill_while_opening_many_with_standby(void **state)
{
    (void)state;
    char m[512];
    kill_while_opening_many(manifest_test(m, sizeof m, POLICY "max_sessions = 4096\nstandby = yes\n" USER_ROOM));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_shared_sessions_cost_no_descriptors, it_teardown),
        cmocka_unit_test_teardown(test_shared_across_kills, it_teardown),
        cmocka_unit_test_teardown(test_shared_across_kills_with_standby, it_teardown),
        cmocka_unit_test_teardown(test_shared_across_kills_with_workers, it_teardown),
        cmocka_unit_test_teardown(test_shared_churn_with_workers, it_teardown),
        cmocka_unit_test_teardown(test_shared_client_dies, it_teardown),
        cmocka_unit_test_teardown(test_shared_tag_of_another_client, it_teardown),
        cmocka_unit_test_teardown(test_flood_of_openers, it_teardown),
        cmocka_unit_test_teardown(test_flood_of_openers_with_standby, it_teardown),
        cmocka_unit_test_teardown(test_flood_of_openers_across_a_kill, it_teardown),
        cmocka_unit_test_teardown(test_refused_open_beside_a_sound_one, it_teardown),
        cmocka_unit_test_teardown(test_open_queued_behind_its_channel_closing, it_teardown),
        cmocka_unit_test_teardown(test_refused_first_of_a_batch, it_teardown),
        cmocka_unit_test_teardown(test_waiting_opens_bound_in_order, it_teardown),
        cmocka_unit_test_teardown(test_open_many, it_teardown),
        cmocka_unit_test_teardown(test_open_many_is_all_or_nothing, it_teardown),
        cmocka_unit_test_teardown(test_two_services_on_one_connection, it_teardown),
        cmocka_unit_test_teardown(test_client_killed_while_opening_many, it_teardown),
        cmocka_unit_test_teardown(test_kill_while_opening_many, it_teardown),
        cmocka_unit_test_teardown(test_kill_while_opening_many_with_standby, it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
