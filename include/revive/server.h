/* revive/server.h — the service side: write the hooks, the runtime does the rest.
 *
 * A service is a program whose main() calls rv_service_main() with its hooks.
 * revived starts it, hands it every session (socket, SSR, journal, stored
 * descriptors) and restarts it when it dies. The runtime:
 *   - journals each request before the handler runs, so a crash mid-request
 *     is rolled back and re-run by the next instance;
 *   - gives the handler its session's SSR (server state region), the only
 *     memory that survives a restart, and commits it after the handler;
 *   - records the reply before sending it and answers a repeated request
 *     from the journal, so a reply arrives exactly once.
 *
 * Hooks (all optional except handle):
 *   init(argc, argv)        once per instance, before any session arrives.
 *   bind(s, ssr, args)      a new session: initialise its SSR from args.
 *   unbind(s, ssr)          the client went away: release what bind took.
 *   handle(req)             one request. Write the reply with rv_reply*().
 *   validate(s, ssr)        is this SSR consistent? After a restart, and
 *                           before every commit — of a request or of an
 *                           rv_svc_session_update (keep it cheap): a change that
 *                           leaves an SSR its own validate rejects is a
 *                           fault, never committed.
 *   audit()                 at every heartbeat: are the service's own views
 *                           sound (a timer armed for its earliest deadline)?
 *                           false is a hang: revived restarts the instance.
 *   recover(all, n)         in the instance that takes over (the first one
 *                           too), before it serves, with every surviving
 *                           session (n may be 0): rebuild global views (a
 *                           timer queue) from SSRs; start serving what is
 *                           not a session (a FUSE mount, revive/fuse.h).
 *   migrate(s, from, ...)   after an upgrade, per session whose SSR another
 *                           layout wrote: convert it (else RV_ELOST).
 *
 * The runtime is single-threaded unless the service asks for workers:
 * then handle and unbind run on a pool of threads (see `workers`).
 *
 * Sandbox: revived starts the instance as an unprivileged user of its own,
 * with no_new_privs and in a Landlock domain (it may read the system's
 * libraries and little else), and once init has run the runtime installs
 * a seccomp filter (see `syscalls`). Open what needs opening in init, or
 * better let revived open it (`image`, `mount`, `arena_file`).
 */
#ifndef REVIVE_SERVER_H
#define REVIVE_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "revive/base.h"

#define RV_MAX_STORED_FDS 4

typedef struct rv_svc_session rv_svc_session;

typedef struct rv_request {
    rv_svc_session *session;
    uint64_t seq;
    uint32_t op;
    const void *data;
    size_t len;
    void *ssr;          /* the session's state, writable during the handler;
                           NULL when the manifest gives no SSR (ssr_size = 0) */
    size_t ssr_size;    /* the manifest's ssr_size: at least ops.ssr_size */
} rv_request;

typedef int (*rv_handle_fn)(rv_request *req);

struct rv_service_ops {
    /* The per-session state this code keeps in its SSR: its size (the
     * struct's, sizeof) and its layout version (bump it when the layout
     * changes incompatibly). revived refuses to run the service with a
     * manifest ssr_size below ssr_size; an SSR written by another layout is
     * never read as this one's: migrate converts it, or its session ends
     * with RV_ELOST. */
    uint32_t ssr_layout;
    size_t ssr_size;
    int (*init)(int argc, char **argv);
    int (*bind)(rv_svc_session *s, void *ssr, const char *args);
    void (*unbind)(rv_svc_session *s, void *ssr);
    int (*handle)(rv_request *req);
    bool (*validate)(rv_svc_session *s, const void *ssr);
    int (*recover)(rv_svc_session **all, size_t n);
    bool (*audit)(void);
    /* After an upgrade: the session's SSR was written by an instance of
     * layout `from`. old is a copy of it (size bytes), ssr is zeroed:
     * write the state in this instance's layout. Non-zero: the state cannot
     * be converted, and the session ends with RV_ELOST. */
    int (*migrate)(rv_svc_session *s, uint32_t from, const void *old, void *ssr, size_t size);
    /* Runs handle(req). NULL: a plain call. rv_domain_runner: tier 1. */
    int (*runner)(rv_request *req, rv_handle_fn handle);
    /* Serve requests on this many threads (at most 15; 0 or 1: on the
     * event loop's own). One session's requests never run concurrently,
     * different sessions' do: then handle and unbind must be thread-safe,
     * rv_svc_session_update is refused after start-up, and `ssr_protect =
     * mprotect` is refused (it keeps one SSR writable per process). */
    unsigned workers;
    /* System calls the service makes once init has run beyond those of
     * the runtime (docs/sandbox.md lists them), by name, NULL-terminated:
     * { "io_uring_enter", NULL }. Its seccomp filter allows these, and the
     * manifest may add more (`syscalls`); any other call kills the
     * instance. NULL: none. */
    const char *const *syscalls;
};

/* Tier 1 of revive's escalation (docs/rd.md, "In a service"): every request
 * runs in a root recovery domain. A fault in the handler rolls back the
 * request's logged writes and its SSR (from the journal's committed copy)
 * and the request is retried once; if it faults again, its client gets
 * RV_EFAULT and the process serves on. An rd_abort(code) in the handler is
 * answered at once with RV_EAPP_BASE - code. A request that read another
 * request's uncommitted write is answered only once that write commits, and
 * re-run if it is rolled back. A fault outside a logged
 * domain escalates to tier 2: a crash record and revived's microreboot.
 * Only for services whose writes to memory outside the SSR are logged —
 * built with rd_instrumented_dep, or logging by hand with rd_log_range —
 * since anything unlogged would survive the rollback. Link revive_rd_dep
 * and an rd library; set `.runner = rv_domain_runner`. */
int rv_domain_runner(rv_request *req, rv_handle_fn handle);

/* For runners: undoes what a failed attempt did to the request's SSR and
 * reply, so the request can run again from its committed state. */
void rv_request_rollback(rv_request *req);

int rv_service_main(const struct rv_service_ops *ops, int argc, char **argv);

/* Replies. A handler that writes none replies with an empty payload. One
 * longer than the manifest's max_reply (RV_MAX_PAYLOAD by default) is
 * refused with RV_ETOOBIG: the journal has room for no more. */
int rv_reply(rv_request *req, const void *data, size_t len);
/* Attaches stored descriptor `slot` to the reply. Only stored descriptors
 * can travel in replies, because a reply may be re-sent after a restart. */
int rv_reply_attach(rv_request *req, unsigned slot);

/* Session descriptor store: revived keeps the descriptor for the session
 * and hands it back to every later instance. */
int rv_store_fd(rv_svc_session *s, unsigned slot, int fd);
int rv_stored_fd(const rv_svc_session *s, unsigned slot);   /* -1 if empty */

/* Updates a session's SSR outside a request (a timer firing): fn runs with
 * the SSR writable, and the change is committed as one step. */
int rv_svc_session_update(rv_svc_session *s, void (*fn)(rv_svc_session *s, void *ssr, void *arg), void *arg);
const void *rv_svc_session_ssr(const rv_svc_session *s);          /* read-only view */
void *rv_svc_session_data(const rv_svc_session *s);               /* per-instance pointer for the service */
void rv_svc_session_set_data(rv_svc_session *s, void *data);
uint64_t rv_svc_session_id(const rv_svc_session *s);
/* The user and group of the process that opened the session, as the
 * kernel told revived (SO_PEERCRED): what a service checks permissions
 * against. */
void rv_svc_session_peer(const rv_svc_session *s, uint32_t *uid, uint32_t *gid);

/* Descriptors revived holds for the service as a whole and hands to every
 * instance (docs/manifest.md): the `image` file, opened read-write, and
 * the FUSE device of the file system revived mounts at `mount` (the
 * service serves it; revive/fuse.h). -1 when the manifest gives none. */
enum rv_service_fd { RV_FD_IMAGE, RV_FD_FUSE };
int rv_service_fd(enum rv_service_fd which);

/* A line in revived's log, as the service's own (name and pid first):
 * stderr, or syslog when revived runs detached (its standard streams are
 * /dev/null then, so a service's own fprintf(stderr) is lost there).
 * priority is syslog(3)'s: LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO. */
void rv_svc_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The service cannot run at all (its image is no file system, something
 * it needs is missing): logs the sentence, leaves it for revived — it
 * becomes the last exit `revivectl status` shows and clients that cannot
 * open a session read — and exits 1 at once (_exit: nothing to clean up
 * that revived does not hold). revived's restart policy decides what
 * follows. */
void rv_svc_fatal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Extra descriptors in the runtime's event loop (a timerfd). */
int rv_watch_fd(int fd, void (*on_ready)(int fd, void *arg), void *arg);

#endif
