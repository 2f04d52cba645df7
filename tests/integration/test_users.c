/* test_users.c — one revived, many local users: the hostile ones must not
 * lock the others out, reach what is not theirs, or squat their names.
 *
 * Every adversary here is a real process running as another uid: the test
 * (root) forks, the child drops to `nobody` (or another unprivileged uid)
 * with setgroups/setresgid/setresuid, and talks to revived through
 * librevive or a raw socket, as any local program could. Meanwhile root's
 * own clients (a crew of counting sessions, new sessions, revivectl) must
 * keep working with no error at all.
 *
 *   - who may open sessions: the `users` key (default: root and revived's
 *     user), users by name, @groups by primary and supplementary group;
 *   - the socket's mode and group (socket_mode, socket_group);
 *   - per-user limits across many processes of one uid (sessions,
 *     connections), the reserve of descriptors only root may use, idle
 *     connections closed, a client that never reads its replies;
 *   - dataspace names scoped per user, and kv's keys per user (through
 *     rv-kv, the real client, run by setpriv as nobody). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"
#include "revive/dataspace.h"
#include "testsvc.h"
#include "wire.h"

#define NOBODY 65534
#define NOGROUP 65534
#define STRANGER 4242       /* a second unprivileged uid, with no account */
#define SPARE_GID 4243      /* a supplementary group of nobody's, in one test */

/* ------------------------------------------------------------ as a user */

/* A child running as another user. It reports on `report` (lines) and, if
 * asked to hold, keeps what it opened until the test closes `hold`. */
struct child {
    pid_t pid;
    FILE *report;
    int hold;
};

struct identity {
    uid_t uid;
    gid_t gid;
    const gid_t *groups;
    size_t ngroups;
};

static const struct identity nobody = { NOBODY, NOGROUP, NULL, 0 };

typedef void (*child_fn)(const struct rvd *d, const void *arg, FILE *report, int hold);

static void become(const struct identity *who)
{
    if (setgroups(who->ngroups, who->groups) < 0 || setresgid(who->gid, who->gid, who->gid) < 0 ||
        setresuid(who->uid, who->uid, who->uid) < 0 || getuid() != who->uid) {
        perror("dropping to another user");
        _exit(99);
    }
}

static void child_start(struct child *c, const struct identity *who, child_fn fn, const struct rvd *d,
                        const void *arg)
{
    int rep[2], hold[2];
    assert_int_equal(pipe2(rep, O_CLOEXEC), 0);
    assert_int_equal(pipe2(hold, O_CLOEXEC), 0);
    fflush(NULL);
    c->pid = it_fork();
    assert_true(c->pid >= 0);
    if (c->pid == 0) {
        /* Only its own pipes: another child's `hold` kept open here would
         * never let that child go. */
        int r = fcntl(rep[1], F_DUPFD, 5), h = fcntl(hold[0], F_DUPFD, 5);
        if (r < 0 || h < 0 || dup2(r, 3) < 0 || dup2(h, 4) < 0 || close_range(5, ~0U, 0) < 0)
            _exit(98);
        become(who);
        FILE *report = fdopen(3, "w");
        setvbuf(report, NULL, _IOLBF, 0);
        fn(d, arg, report, 4);
        fclose(report);
        _exit(0);
    }
    close(rep[1]);
    close(hold[0]);
    c->report = fdopen(rep[0], "r");
    c->hold = hold[1];
}

/* The child's next line of report (without the newline). */
static void child_line(struct child *c, char *buf, size_t len)
{
    if (!fgets(buf, (int)len, c->report))
        fail_msg("a child ended without reporting");
    buf[strcspn(buf, "\n")] = '\0';
}

/* Lets the child go (it lets go of what it holds) and reaps it. */
static void child_finish(struct child *c)
{
    close(c->hold);
    int status;
    while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
        ;
    fclose(c->report);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Blocks until the test closes its end of `hold`. */
static void wait_released(int hold)
{
    char b;
    while (read(hold, &b, 1) < 0 && errno == EINTR)
        ;
}

/* ------------------------------------------------------------ manifests */

/* rv-svc-test as `open` (every user) and `test` (the default), a socket
 * every user can reach, and the [revived] lines given. The temp dir is
 * opened to others too, or nobody could reach the socket in it. */
static void start_open(struct rvd *d, const char *services, const char *revived)
{
    char m[2048];
    snprintf(m, sizeof m,
             "[service open]\nexec = rv-svc-test\nssr_size = %d\nusers = *\n"
             "[service test]\nexec = rv-svc-test\nssr_size = %d\n%s"
             "[revived]\nsocket_mode = 0666\n%s", TEST_SSR_SIZE, TEST_SSR_SIZE, services, revived);
    rvd_start(d, m);
    assert_int_equal(chmod(d->dir, 0755), 0);
}

/* A librevive open as the child's user: "ok COUNTER" or "err STATUS TEXT". */
static void report_open(const struct rvd *d, const char *svc, FILE *report)
{
    rv_conn *c;
    rv_session *s;
    if (rv_connect(d->sock, &c) != 0) {
        fprintf(report, "err connect %s\n", strerror(errno));
        return;
    }
    int rc = rv_open(c, svc, NULL, &s);
    uint64_t v = 0;
    if (rc == 0)
        rc = call_u64(s, TEST_INCR, &v);
    if (rc == 0)
        fprintf(report, "ok %llu\n", (unsigned long long)v);
    else
        fprintf(report, "err %d %s\n", rc, rv_conn_error(c));
}

static void open_each(const struct rvd *d, const void *arg, FILE *report, int hold)
{
    (void)hold;
    for (const char *const *svc = arg; *svc; svc++)
        report_open(d, *svc, report);
}

/* ------------------------------------------------------------ access */

static void expect_open(struct child *c, bool admitted)
{
    char line[512];
    child_line(c, line, sizeof line);
    if (admitted ? strcmp(line, "ok 1") != 0
                 : strncmp(line, "err -", 5) != 0 || !strstr(line, "permission denied") || !strstr(line, "users"))
        fail_msg("expected %s, got '%s'", admitted ? "a session" : "a refusal naming `users`", line);
}

static void test_users_key(void **state)
{
    (void)state;
    struct rvd d;
    char extra[256];
    snprintf(extra, sizeof extra,
             "[service byname]\nexec = rv-svc-test\nssr_size = %d\nusers = root, nobody\n"
             "[service bygroup]\nexec = rv-svc-test\nssr_size = %d\nusers = @%d\n",
             TEST_SSR_SIZE, TEST_SSR_SIZE, SPARE_GID);
    start_open(&d, extra, "");
    static const char *const all[] = { "test", "open", "byname", "bygroup", NULL };
    struct child c;

    child_start(&c, &nobody, open_each, &d, all);
    expect_open(&c, false);   /* test: root and revived's user only */
    expect_open(&c, true);    /* open: users = * */
    expect_open(&c, true);    /* byname */
    expect_open(&c, false);   /* bygroup: not in it */
    child_finish(&c);

    const gid_t spare[] = { SPARE_GID };
    const struct identity member = { NOBODY, NOGROUP, spare, 1 };   /* by a supplementary group */
    child_start(&c, &member, open_each, &d, all + 3);
    expect_open(&c, true);
    child_finish(&c);

    const struct identity stranger = { STRANGER, STRANGER, NULL, 0 };
    child_start(&c, &stranger, open_each, &d, all + 2);
    expect_open(&c, false);   /* byname names root and nobody only */
    expect_open(&c, false);
    child_finish(&c);

    rv_session *mine = open_session(&d, "test", NULL);   /* root: the default admits it */
    assert_int_equal(call_ok(mine, TEST_INCR), 1);
    rv_close(mine);
    rvd_stop(&d);
}

/* connect(2) to the socket as the child's user: "0" or the errno. */
static void try_connect(const struct rvd *d, const void *arg, FILE *report, int hold)
{
    (void)arg;
    (void)hold;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", d->sock);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    fprintf(report, "%d\n", rc == 0 ? 0 : errno);
    close(fd);
}

static int connect_as(const struct rvd *d, const struct identity *who)
{
    struct child c;
    char line[64];
    child_start(&c, who, try_connect, d, NULL);
    child_line(&c, line, sizeof line);
    child_finish(&c);
    return atoi(line);
}

static void test_socket_mode_and_group(void **state)
{
    (void)state;
    struct rvd d;
    char m[256];
    rvd_start(&d, manifest_test(m, sizeof m, "users = *\n"));   /* socket_mode: the default */
    assert_int_equal(chmod(d.dir, 0755), 0);
    struct stat st;
    assert_int_equal(stat(d.sock, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0666);
    assert_int_equal(connect_as(&d, &nobody), 0);
    rvd_stop(&d);

    rvd_start(&d, manifest_test(m, sizeof m, "users = *\n[revived]\nsocket_mode = 0660\n"));
    assert_int_equal(chmod(d.dir, 0755), 0);
    assert_int_equal(stat(d.sock, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0660);
    assert_int_equal(connect_as(&d, &nobody), EACCES);
    rvd_stop(&d);

    snprintf(m, sizeof m, "[service test]\nexec = rv-svc-test\nusers = *\n[revived]\nsocket_mode = 0660\n"
             "socket_group = %d\n", SPARE_GID);
    rvd_start(&d, m);
    assert_int_equal(chmod(d.dir, 0755), 0);
    assert_int_equal(stat(d.sock, &st), 0);
    assert_int_equal(st.st_gid, SPARE_GID);
    const gid_t spare[] = { SPARE_GID };
    const struct identity member = { NOBODY, NOGROUP, spare, 1 };
    assert_int_equal(connect_as(&d, &member), 0);
    assert_int_equal(connect_as(&d, &nobody), EACCES);
    rvd_stop(&d);
}

/* revivectl as nobody: status is for anyone who may connect, kill and
 * restart for root and revived's own user. */
static void test_revivectl_as_another_user(void **state)
{
    (void)state;
    struct rvd d;
    start_open(&d, "", "");
    struct svc_status before, after;
    svc_status(&d, "test", &before);
    char out[2048], err[512];
    const char *status[] = { "/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                             RV_IT_REVIVECTL, "--socket", d.sock, "status", NULL };
    assert_int_equal(run(status, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "test"));
    for (int i = 0; i < 2; i++) {
        const char *cmd[] = { "/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                              RV_IT_REVIVECTL, "--socket", d.sock, i ? "restart" : "kill", "test", NULL };
        assert_int_not_equal(run(cmd, out, sizeof out, err, sizeof err), 0);
        if (!strstr(err, "permission denied"))
            fail_msg("revivectl %s as nobody: '%s'", cmd[8], err);
    }
    svc_status(&d, "test", &after);
    assert_int_equal(after.pid, before.pid);   /* untouched */
    assert_int_equal(after.restarts, before.restarts);
    rvd_stop(&d);
}

/* ------------------------------------------------------------ limits */

/* Opens sessions of `open` until refused; reports "N TEXT" (how many it
 * got, and the refusal), then holds them. */
static void open_until_refused(const struct rvd *d, const void *arg, FILE *report, int hold)
{
    (void)arg;
    rv_conn *c;
    if (rv_connect(d->sock, &c) != 0) {
        fprintf(report, "0 connect: %s\n", strerror(errno));
        wait_released(hold);
        return;
    }
    rv_session *s;
    unsigned n = 0;
    while (n < 100000 && rv_open(c, "open", NULL, &s) == 0)
        n++;
    fprintf(report, "%u %s\n", n, rv_conn_error(c));
    wait_released(hold);
}

#define FLOODERS 6

/* Floods revived from several processes of one user; returns how many
 * sessions they got together, and one refusal's text in why. */
static unsigned flood(const struct rvd *d, struct child *kids, char *why, size_t len)
{
    unsigned total = 0;
    for (int i = 0; i < FLOODERS; i++)
        child_start(&kids[i], &nobody, open_until_refused, d, NULL);
    for (int i = 0; i < FLOODERS; i++) {
        char line[512];
        unsigned n;
        int at;
        child_line(&kids[i], line, sizeof line);
        assert_int_equal(sscanf(line, "%u %n", &n, &at), 1);
        total += n;
        snprintf(why, len, "%s", line + at);
    }
    return total;
}

/* Root's work while others flood: every call answered, new sessions
 * open, revivectl answers. */
static void root_keeps_working(const struct rvd *d, struct crew *crew, unsigned sessions)
{
    crew_wait_progress(crew, 50);
    rv_conn *c;
    assert_int_equal(rv_connect(d->sock, &c), 0);
    for (unsigned i = 0; i < sessions; i++) {
        rv_session *s;
        if (rv_open(c, "test", NULL, &s) != 0)
            fail_msg("root's open %u refused: %s", i, rv_conn_error(c));
        assert_int_equal(call_ok(s, TEST_INCR), 1);
        rv_close(s);
    }
    rv_disconnect(c);
    struct svc_status st;
    svc_status(d, "test", &st);
    crew_wait_progress(crew, 50);
}

static void test_sessions_per_user_not_per_process(void **state)
{
    (void)state;
    struct rvd d;
    start_open(&d, "", "max_sessions_per_user = 40\n");
    struct crew crew;
    crew_start(&crew, &d, 2);
    struct child kids[FLOODERS];
    char why[512];
    unsigned total = flood(&d, kids, why, sizeof why);
    assert_int_equal(total, 40);   /* six processes, one limit */
    if (!strstr(why, "user 65534") || !strstr(why, "max_sessions_per_user is 40"))
        fail_msg("the refusal does not name the limit and its key: '%s'", why);
    root_keeps_working(&d, &crew, 60);   /* root has an account of its own */
    for (int i = 0; i < FLOODERS; i++)
        child_finish(&kids[i]);
    crew_stop(&crew);
    rvd_stop(&d);
}

/* With every descriptor but a few hundred reserved, unprivileged users
 * run out long before root does. */
static void test_reserve_for_root(void **state)
{
    (void)state;
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    struct rvd d;
    char revived[128];
    snprintf(revived, sizeof revived, "max_sessions_per_user = 100000\nreserved_descriptors = %llu\n",
             (unsigned long long)(rl.rlim_max - 300));
    start_open(&d, "", revived);
    struct crew crew;
    crew_start(&crew, &d, 2);
    struct child kids[FLOODERS];
    char why[512];
    unsigned total = flood(&d, kids, why, sizeof why);
    assert_true(total > 0 && total < 300);   /* 300 descriptors less root's, at 1 a session */
    if (!strstr(why, "reserved_descriptors"))
        fail_msg("the refusal does not name the reserve: '%s'", why);
    root_keeps_working(&d, &crew, 150);   /* beyond what the others may hold */
    for (int i = 0; i < FLOODERS; i++)
        child_finish(&kids[i]);
    crew_stop(&crew);
    rvd_stop(&d);
}

static int dial(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Waits for revived to close fd: what it says first (if anything) goes to
 * why. Returns false if it stayed open IT_WAIT_MS. */
static bool closed_by_revived(int fd, char *why, size_t len)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    why[0] = '\0';
    for (;;) {
        if (poll(&p, 1, IT_WAIT_MS) <= 0)
            return false;
        char buf[512];
        ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
        if (n == 0 || (n < 0 && errno != ECONNRESET && errno != EINTR))
            return true;
        if (n > (ssize_t)sizeof(struct rv_hdr)) {
            buf[n] = '\0';
            snprintf(why, len, "%.200s", buf + sizeof(struct rv_hdr));
        }
    }
}

#define IDLERS 40

/* Connects IDLERS times and never sends a byte; reports, per connection,
 * "closed TEXT" once revived closed it (with what it said), or "open". */
static void idle_connections(const struct rvd *d, const void *arg, FILE *report, int hold)
{
    (void)arg;
    (void)hold;
    int fds[IDLERS];
    for (int i = 0; i < IDLERS; i++)
        fds[i] = dial(d->sock);
    for (int i = 0; i < IDLERS; i++) {
        char why[256];
        bool closed = fds[i] >= 0 && closed_by_revived(fds[i], why, sizeof why);
        fprintf(report, "%s %s\n", closed ? "closed" : "open", why);
    }
}

static void test_idle_connections_closed(void **state)
{
    (void)state;
    struct rvd d;
    start_open(&d, "", "max_connections_per_user = 30\nidle_timeout = 1s\n");
    struct crew crew;
    crew_start(&crew, &d, 2);
    struct child c;
    child_start(&c, &nobody, idle_connections, &d, NULL);
    unsigned refused = 0, timed_out = 0;
    for (int i = 0; i < IDLERS; i++) {
        char line[512];
        child_line(&c, line, sizeof line);
        if (strncmp(line, "closed ", 7) != 0)
            fail_msg("connection %d was never closed: '%s'", i, line);
        if (strstr(line, "max_connections_per_user is 30"))
            refused++;
        else if (line[7] == '\0')
            timed_out++;
    }
    child_finish(&c);
    assert_int_equal(refused, IDLERS - 30);
    assert_int_equal(timed_out, 30);
    root_keeps_working(&d, &crew, 10);
    static const char *const open_only[] = { "open", NULL };
    child_start(&c, &nobody, open_each, &d, open_only);   /* the idle ones no longer count */
    expect_open(&c, true);
    child_finish(&c);

    /* A librevive client that connects long before it speaks: revived
     * closes its connection too (a probe that connected after it shows
     * when), and its first open dials again unnoticed. */
    rv_conn *early;
    assert_int_equal(rv_connect(d.sock, &early), 0);
    int probe = dial(d.sock);
    char why[64];
    assert_true(closed_by_revived(probe, why, sizeof why));
    close(probe);
    rv_session *s;
    if (rv_open(early, "test", NULL, &s) != 0)
        fail_msg("a client silent past idle_timeout cannot open: %s", rv_conn_error(early));
    assert_int_equal(call_ok(s, TEST_INCR), 1);
    rv_close(s);
    rv_disconnect(early);
    crew_stop(&crew);
    rvd_stop(&d);
}

/* Asks revived for its status over and over and never reads an answer;
 * reports "closed" once revived gave up on it. */
static void never_reads(const struct rvd *d, const void *arg, FILE *report, int hold)
{
    (void)arg;
    (void)hold;
    int fd = dial(d->sock);
    struct rv_hdr h = rv__hdr_make(RV_T_STATUS, 0, 0, 0, 0);
    while (fd >= 0 && send(fd, &h, sizeof h, MSG_NOSIGNAL) == (ssize_t)sizeof h)
        ;
    fprintf(report, "%s\n", fd >= 0 && (errno == EPIPE || errno == ECONNRESET) ? "closed" : strerror(errno));
}

/* A session of the service root's crew uses, whose client sends calls
 * and never reads a reply: the service must not stall for everyone else.
 * Reports "stopped" once its sends can go no further (its socket is full,
 * or it was cut off). */
static void session_never_reads(const struct rvd *d, const void *arg, FILE *report, int hold)
{
    (void)arg;
    rv_conn *c;
    rv_session *s;
    if (rv_connect(d->sock, &c) != 0 || rv_open(c, "test", NULL, &s) != 0) {
        fprintf(report, "cannot open\n");
        return;
    }
    int fd = rv_session_fd(s);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    for (uint64_t seq = 1;; seq++) {
        struct rv_hdr h = rv__hdr_make(RV_T_CALL, seq, TEST_INCR, 0, 0);
        if (send(fd, &h, sizeof h, MSG_NOSIGNAL) < 0)
            break;
    }
    fprintf(report, "stopped\n");
    wait_released(hold);
}

static void test_client_that_never_reads(void **state)
{
    (void)state;
    struct rvd d;
    start_open(&d, "users = *\n", "");   /* nobody shares `test` with the crew */
    struct crew crew;
    crew_start(&crew, &d, 2);
    struct child reader, hog;
    char line[128];
    child_start(&reader, &nobody, never_reads, &d, NULL);
    child_line(&reader, line, sizeof line);
    assert_string_equal(line, "closed");
    child_start(&hog, &nobody, session_never_reads, &d, NULL);
    child_line(&hog, line, sizeof line);
    assert_string_equal(line, "stopped");
    root_keeps_working(&d, &crew, 10);
    child_finish(&reader);
    child_finish(&hog);
    crew_stop(&crew);
    rvd_stop(&d);
}

/* ------------------------------------------------------------ dataspaces */

static int sealed_text(const char *text)
{
    int fd = memfd_create("rv-it-ds", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 4096), 0);
    assert_int_equal(pwrite(fd, text, strlen(text) + 1, 0), (ssize_t)strlen(text) + 1);
    assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
    return fd;
}

/* "provided STATUS TEXT" for the name arg, holding it until released. */
static void provide_ring(const struct rvd *d, const void *arg, FILE *report, int hold)
{
    const char *const *what = arg;   /* name, content */
    rv_conn *c;
    if (rv_connect(d->sock, &c) != 0) {
        fprintf(report, "provided %d cannot connect\n", RV_ECONNECT);
        return;
    }
    int rc = rv_ds_provide(c, what[0], sealed_text(what[1]), NULL, 0);
    fprintf(report, "provided %d %s\n", rc, rc ? rv_conn_error(c) : "");
    wait_released(hold);
}

/* "read TEXT" from the dataspace named arg, or "err STATUS". */
static void attach_and_read(const struct rvd *d, const void *arg, FILE *report, int hold)
{
    (void)hold;
    rv_conn *c;
    rv_dataspace *ds;
    int rc = rv_connect(d->sock, &c);
    if (rc == 0)
        rc = rv_ds_attach(c, arg, 0, &ds);
    if (rc == 0)
        fprintf(report, "read %s\n", (const char *)rv_ds_addr(ds));
    else
        fprintf(report, "err %d\n", rc);
}

static void expect_line(const struct rvd *d, const struct identity *who, child_fn fn, const void *arg,
                        const char *want)
{
    struct child c;
    char line[512];
    child_start(&c, who, fn, d, arg);
    child_line(&c, line, sizeof line);
    child_finish(&c);
    if (strcmp(line, want) != 0)
        fail_msg("expected '%s', got '%s'", want, line);
}

static void test_dataspace_names_per_user(void **state)
{
    (void)state;
    struct rvd d;
    start_open(&d, "", "");
    static const char *const squat[] = { "ring", "nobody's" };
    struct child squatter;
    char line[512], want[64];
    child_start(&squatter, &nobody, provide_ring, &d, squat);   /* first */
    child_line(&squatter, line, sizeof line);
    assert_string_equal(line, "provided 0 ");

    rv_conn *root;
    assert_int_equal(rv_connect(d.sock, &root), 0);
    if (rv_ds_provide(root, "ring", sealed_text("root's"), NULL, 0) != 0)
        fail_msg("root's provider was refused: %s", rv_conn_error(root));
    assert_int_equal(rv_ds_provide(root, "shared", sealed_text("for all"), NULL, 0), 0);
    rv_dataspace *mine;
    assert_int_equal(rv_ds_attach(root, "ring", 0, &mine), 0);
    assert_string_equal(rv_ds_addr(mine), "root's");

    expect_line(&d, &nobody, attach_and_read, "ring", "read nobody's");       /* its own scope */
    expect_line(&d, &nobody, attach_and_read, "shared", "read for all");      /* root's, by default */
    const struct identity stranger = { STRANGER, STRANGER, NULL, 0 };
    snprintf(want, sizeof want, "err %d", RV_ENOSVC);
    expect_line(&d, &stranger, attach_and_read, "ring", "read root's");       /* never nobody's */
    expect_line(&d, &stranger, attach_and_read, "nothing", want);

    static const char *const again[] = { "ring", "twice" };
    snprintf(want, sizeof want, "provided %d", RV_EBUSY);
    struct child twice;
    child_start(&twice, &nobody, provide_ring, &d, again);   /* taken in its own scope */
    child_line(&twice, line, sizeof line);
    if (strncmp(line, want, strlen(want)) != 0)
        fail_msg("a second provider of nobody's 'ring': '%s'", line);
    child_finish(&twice);
    child_finish(&squatter);
    rv_ds_detach(mine);
    rv_disconnect(root);
    rvd_stop(&d);
}

/* ------------------------------------------------------------ kv */

/* rv-kv, the real client program, as root or (through setpriv) nobody:
 * its exit status, its stdout in out. */
static int rv_kv(const struct rvd *d, bool as_nobody, const char *a1, const char *a2, const char *a3,
                 char *out, size_t len)
{
    const char *argv[] = { "/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                           RV_IT_RV_KV, "--socket", d->sock, a1, a2, a3, NULL };
    return run(as_nobody ? argv : argv + 4, out, len, NULL, 0);
}

static void test_kv_keys_per_user(void **state)
{
    (void)state;
    struct rvd d;
    rvd_start(&d, "[service kv]\nexec = rv-svc-kv\nstate = arena\narena_size = 8M\nssr_size = 0\nusers = *\n"
                  "[revived]\nsocket_mode = 0666\n");
    assert_int_equal(chmod(d.dir, 0755), 0);
    char out[256];
    assert_int_equal(rv_kv(&d, false, "put", "owner", "root", out, sizeof out), 0);
    assert_int_equal(rv_kv(&d, true, "put", "owner", "nobody", out, sizeof out), 0);   /* its own key */
    assert_int_equal(rv_kv(&d, true, "put", "mine", "x", out, sizeof out), 0);
    assert_int_equal(rv_kv(&d, false, "get", "owner", NULL, out, sizeof out), 0);
    assert_string_equal(out, "root\n");
    assert_int_equal(rv_kv(&d, true, "get", "owner", NULL, out, sizeof out), 0);
    assert_string_equal(out, "nobody\n");
    assert_int_equal(rv_kv(&d, false, "get", "mine", NULL, out, sizeof out), 1);   /* not found */
    assert_int_equal(rv_kv(&d, true, "del", "owner", NULL, out, sizeof out), 0);
    assert_int_equal(rv_kv(&d, false, "get", "owner", NULL, out, sizeof out), 0);
    assert_string_equal(out, "root\n");
    assert_int_equal(rv_kv(&d, false, "scan", NULL, NULL, out, sizeof out), 0);
    if (strstr(out, "mine"))
        fail_msg("root's scan shows nobody's key: '%s'", out);
    assert_int_equal(rv_kv(&d, true, "scan", NULL, NULL, out, sizeof out), 0);
    if (!strstr(out, "mine") || strstr(out, "owner"))
        fail_msg("nobody's scan is not its own keys alone: '%s'", out);
    rvd_stop(&d);
}

/* ------------------------------------------------------------ shared sessions */

/* nobody asks revived to close sessions by id (RV_T_CLOSE), every id the
 * first sessions of revived's run can have (ids are a serial and a slab
 * record, no secret): none is its own, so every one is refused. */
static void close_by_id(const struct rvd *d, const void *arg, FILE *report, int hold)
{
    (void)arg;
    (void)hold;
    int fd = rv__wire_dial(d->sock);
    struct rv_msg *m = malloc(sizeof *m);
    unsigned refused = 0, total = 0;
    for (uint64_t serial = 1; serial <= 4; serial++)
        for (uint64_t record = 0; record < 8; record++, total++) {
            struct rv_hdr h = rv__hdr_make(RV_T_CLOSE, serial << 24 | record, 0, 0, 0);
            if (fd >= 0 && m && rv__wire_send(fd, &h, NULL, NULL, 0, 0) == 0 &&
                rv__wire_recv(fd, m, RV_WIRE_MAX_BODY, 0) == 1 && m->hdr.type == RV_T_ERROR)
                refused++;
        }
    fprintf(report, "%u of %u refused\n", refused, total);
    free(m);
}

/* root's session on a shared channel is closed by a CLOSE to revived
 * (client.c), which names it by id: another user naming it is refused, and
 * root's session counts on. */
static void test_close_of_another_users_shared_session(void **state)
{
    (void)state;
    struct rvd d;
    char m[512], line[64];
    rvd_start(&d, manifest_test(m, sizeof m, "users = *\n"));
    rv_conn *c;
    rv_session *s;
    assert_int_equal(rv_connect(d.sock, &c), 0);
    assert_int_equal(rv_open_shared(c, "test", NULL, &s), 0);
    assert_int_equal(call_ok(s, TEST_INCR), 1);
    struct child ch;
    child_start(&ch, &nobody, close_by_id, &d, NULL);
    child_line(&ch, line, sizeof line);
    child_finish(&ch);
    assert_string_equal(line, "32 of 32 refused");
    assert_int_equal(call_ok(s, TEST_INCR), 2);
    struct svc_status st;
    svc_status(&d, "test", &st);
    assert_int_equal(st.sessions, 1);
    rv_close(s);
    rv_disconnect(c);
    rvd_stop(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_users_key, it_teardown),
        cmocka_unit_test_teardown(test_close_of_another_users_shared_session, it_teardown),
        cmocka_unit_test_teardown(test_socket_mode_and_group, it_teardown),
        cmocka_unit_test_teardown(test_revivectl_as_another_user, it_teardown),
        cmocka_unit_test_teardown(test_sessions_per_user_not_per_process, it_teardown),
        cmocka_unit_test_teardown(test_reserve_for_root, it_teardown),
        cmocka_unit_test_teardown(test_idle_connections_closed, it_teardown),
        cmocka_unit_test_teardown(test_client_that_never_reads, it_teardown),
        cmocka_unit_test_teardown(test_dataspace_names_per_user, it_teardown),
        cmocka_unit_test_teardown(test_kv_keys_per_user, it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
