/* live.h — a live revived for the tests in this directory: started in the
 * foreground on a private socket, optionally under a wrapper (valgrind),
 * and spoken to over its public protocol (wire.h).
 *
 * Start-up is synchronised on revived's REVIVE_READY_FD line, never on a
 * sleep. Any failure here aborts the test with a message: these helpers
 * are used by whole-program tests, not by cmocka.
 */
#ifndef RV_TEST_LIVE_H
#define RV_TEST_LIVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "revive/client.h"
#include "wire.h"

struct live {
    pid_t pid;
    char dir[64];     /* private directory holding the socket */
    char sock[96];
    char manifest[96];  /* "" for the embedded one */
};

/* Prints a message, kills the revived live_start started, if any, and exits
 * the test with status 1. */
void live_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Runs `wrapper... revived --foreground --socket S [--manifest M]`
 * (wrapper may be NULL; M is written from manifest, or revived runs its
 * embedded one when manifest is NULL) and returns once revived listens. */
void live_start(struct live *l, const char *const *wrapper, const char *revived, const char *manifest);
/* SIGTERMs revived and returns its wait status. */
int live_stop(struct live *l);
/* revived has not exited. */
int live_alive(const struct live *l);
/* The number of descriptors revived holds. */
size_t live_fd_count(const struct live *l);
/* Lists revived's descriptors on stderr, to explain a failed count. */
void live_fd_dump(const struct live *l);

/* A new connection to revived's public socket. */
int live_dial(const struct live *l);
/* One request (name may be NULL) on connection fd; the reply goes to m.
 * A reply on a connection held open also proves revived has finished
 * whatever it was doing when the request was sent (it is single-threaded),
 * without the transient descriptor a fresh connection would add. */
void live_request(int fd, uint8_t type, uint32_t op, const char *name, struct rv_msg *m);
/* The status of one service, asked on connection fd. */
struct rv_wire_svc_status live_status(int fd, const char *service);

/* Calls done(arg) every 10 ms until it returns true: for states nothing
 * signals, such as revived having processed a hang-up. Returns 0, or -1
 * after about 20 s, a bound only a bug reaches. */
int live_poll_until(int (*done)(void *arg), void *arg);

/* Opens a session, or dies with revived's explanation. */
rv_session *live_open(rv_conn *c, const char *name, const char *args);
/* The next number of a `random` session's sequence, or dies. */
uint64_t live_draw(rv_session *s);

#endif
