/* harness.h — what every integration test needs: a real revived in a
 * private temp dir, real client programs run as subprocesses, and the
 * status revivectl reports.
 *
 * Each test starts its own revived (--foreground, with REVIVE_READY_FD so
 * the start is an event, not a sleep) with a manifest written into a fresh
 * temp dir that also holds the socket, so test programs run in parallel
 * without sharing anything. Functions that assert use cmocka's assert_*
 * and so must run on the test's main thread. */
#ifndef RV_IT_HARNESS_H
#define RV_IT_HARNESS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <setjmp.h>
#include <sys/types.h>
#include <cmocka.h>
#include "revive/client.h"

/* A bound on every wait for an event that only polling can see. */
#define IT_WAIT_MS 30000

/* A fresh directory /tmp/rv-it-XXXXXX, and its recursive removal. Others
 * may pass through it (mode 0711): a service runs as a user of its own
 * (docs/sandbox.md), and opens the FIFOs and files the tests make there. */
void tempdir_make(char *buf, size_t len);
/* Writes text to a new file at path (mode 0644). */
void it_write_file(const char *path, const char *text);
/* A FIFO a service may open for writing (mode 0666, see tempdir_make). */
void it_mkfifo(const char *path);

/* The paths the test services (rv-svc-test, rv-svc-kv-test) open: the
 * tests' FIFOs and files, all under /tmp. Their Landlock domain allows
 * nothing there unless the manifest says so. */
#define IT_TEST_PATHS "write_paths = /tmp\n"

void tempdir_remove(const char *dir);

/* A manifest with one service `test` (rv-svc-test, allowed IT_TEST_PATHS)
 * plus the extra lines; with $RV_IT_FAST_PATH=1, `test` has the fast path
 * (meson runs the recovery and fault tests both ways). */
const char *manifest_test(char *buf, size_t len, const char *extra);

struct rvd {
    pid_t pid;
    char dir[64];
    char sock[96];
    bool as_nobody;    /* runs as `nobody`, not root (setpriv) */
};

/* Writes the manifest text to DIR/manifest.ini and starts revived on it;
 * NULL: revived runs its embedded manifest. */
void rvd_start(struct rvd *d, const char *manifest);
/* rvd_start, with revived running as `nobody` rather than root. */
void rvd_start_as_nobody(struct rvd *d, const char *manifest);
/* SIGKILLs revived (its services die with it), then starts a new one on
 * the same manifest and socket, as a machine's init would. */
void rvd_crash_and_restart(struct rvd *d);
/* SIGTERM; asserts a clean exit (status 0), then removes the temp dir. */
void rvd_stop(struct rvd *d);
/* cmocka teardown: stops any revived a failed test left running. */
int it_teardown(void **state);
/* DIR/name. */
const char *rvd_file(const struct rvd *d, const char *name, char *buf, size_t len);
/* DIR/marks/once, in a directory anyone may write (a sandboxed service
 * runs as a user of its own), not there yet: the marker of the testsvc
 * operations that act only the first time (TEST_FORBIDDEN_ONCE,
 * TEST_CLOSE_CTL), passed as the session's fifo= argument. */
const char *rvd_marker(const struct rvd *d, char *buf, size_t len);

/* A subprocess with its stdout and stderr on pipes. */
struct proc {
    pid_t pid;
    int out, err;
};
void proc_spawn(struct proc *p, const char *const argv[]);
/* Reads one line of stdout into buf (without the newline); false at EOF. */
bool proc_line(struct proc *p, char *buf, size_t len);
/* Reads what is left of both streams (into out/err, may be NULL) and reaps
 * the process. Returns its exit status, or 128 + the signal that killed it. */
int proc_finish(struct proc *p, char *out, size_t outlen, char *err, size_t errlen);
/* proc_spawn + proc_finish. */
int run(const char *const argv[], char *out, size_t outlen, char *err, size_t errlen);

/* revivectl --socket SOCK args...; asserts it exits 0. */
void ctl(const struct rvd *d, const char *cmd, const char *svc, const char *sig);

struct svc_status {
    char state[16];
    char last_exit[224];
    long long pid, standby_pid, restarts, recoveries, sessions, ssr_bytes, requests_failed;
    bool standby_ready;   /* the standby holds every session and may take over at once */
};
/* One service's line of `revivectl status --json`. */
void svc_status(const struct rvd *d, const char *name, struct svc_status *st);
/* Polls the status until done(st, arg) holds; fails the test after IT_WAIT_MS. */
void wait_status(const struct rvd *d, const char *name,
                 bool (*done)(const struct svc_status *st, const void *arg), const void *arg,
                 struct svc_status *st);
/* How many descriptors process pid holds. */
size_t it_fd_count(pid_t pid);
/* For wait_status: the service is ready (its instance's HELLO and hand-over
 * are behind revived). */
bool status_ready(const struct svc_status *st, const void *arg);
/* For wait_status: the service is ready and its standby holds every session. */
bool status_standby_ready(const struct svc_status *st, const void *arg);

/* Opens a session; asserts success. */
rv_session *open_session(const struct rvd *d, const char *svc, const char *args);
/* Calls op with no payload; returns the status, the uint64_t reply in *v. */
int call_u64(rv_session *s, uint32_t op, uint64_t *v);
/* call_u64 that must succeed. */
uint64_t call_ok(rv_session *s, uint32_t op);

/* TEST_FETCH on s (testsvc.h): asserts the reply is `want` and carries
 * the stored eventfd, which holds `want` too. */
void expect_fetch(rv_session *s, uint64_t want);

/* SLOW_INCR on c->s, on a thread of its own (testsvc.h): the test joins
 * c->th, then reads the call's status and counter. */
struct slow_call {
    pthread_t th;
    rv_session *s;
    int rc;
    uint64_t v;
};
void slow_call_start(struct slow_call *c);

/* A FIFO in the temp dir, opened read-write so it never reports hang-up. */
struct fifo {
    char path[128];
    int fd;
};
void fifo_make(const struct rvd *d, const char *name, struct fifo *f);
/* Blocks until the service writes its byte (a request is in flight). */
void fifo_wait(struct fifo *f);
void fifo_close(struct fifo *f);

/* Client threads, each with its own session of `test`, calling INCR in a
 * loop and checking every reply is the previous one plus one: the counters
 * must come back 1..N with no gap and no repeat across any fault. */
#define CREW_MAX 8
struct worker {
    struct crew *crew;
    pthread_t th;
    rv_session *s;
    uint64_t n;        /* last counter received */
    int rc;            /* first failure: a call's status, or RV_EPROTO for a wrong counter */
    char why[192];
};
struct crew {
    struct worker w[CREW_MAX];
    size_t n;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};
void crew_start(struct crew *c, const struct rvd *d, size_t n);
/* fork() for a test whose crew may be calling meanwhile (harness.c says
 * why): the child inherits no lock a crew thread held. */
pid_t it_fork(void);
/* Waits until every worker has made `calls` more calls; fails on an error. */
void crew_wait_progress(struct crew *c, uint64_t calls);
/* Stops and joins the workers; asserts none failed and that GET returns
 * each worker's last counter. */
void crew_stop(struct crew *c);

#endif
