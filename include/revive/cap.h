/* revive/cap.h — capabilities, capability faults and their handlers: tier 3
 * of revive's recovery (L4ReAnimator), for every case where a
 * session cannot survive on its own.
 *
 * Every capability a task holds is a file descriptor — a session endpoint,
 * a dataspace (memfd), a notifier (eventfd), the name-space channel to
 * revived — and librevive keeps a registry entry per descriptor: its kind,
 * how it was obtained (the name and the session arguments), its fault
 * handler, its unmap action, and whether the watcher watches it.
 * Capabilities obtained through librevive (rv_connect, rv_open,
 * rv_ds_attach) are registered automatically, with the generic handlers:
 *
 *   - a session is re-opened by name with its saved arguments;
 *   - a dataspace (and its notifiers) is looked up again by name and
 *     mapped at the same address, after its unmap action replaced the
 *     stale mapping with zero pages.
 *
 * Invoking a capability whose object is gone — a session revived revoked
 * (`state = stateless` restarted it), a dataspace whose provider died —
 * raises a capability fault inside librevive: the entry's unmap action
 * runs, then its handler, and the invocation is retried. Both cases of the
 * paper are covered: a fault found when invoking, and an invocation that
 * was blocked and got cancelled. A handler that cannot repair (the service
 * failed, the name is gone) makes the call return that error: never a
 * hang, never a crash. A handler repairs the capability *in place*: the
 * new object is dup2()ed onto the old descriptor number, so handles and
 * numbers the application holds stay valid.
 *
 * A service's client library adds custom handlers (rv_cap_set_handler),
 * typically the generic one followed by restoring its server-side state:
 *
 *     static int on_fault(int fd, int err, void *arg) {
 *         int rc = rv_cap_reopen(fd, err);       // the generic session handler
 *         return rc ? rc : reregister_everything(arg);
 *     }
 *
 * The watcher (rv_watcher_start) is a thread that finds dead capabilities
 * nobody invokes — a consumer that keeps a dataspace mapped — periodically
 * (the paper's way) and/or at once from kernel notifications (the
 * lifeline's POLLHUP; the paper's option 3). The registry is thread-safe.
 */
#ifndef REVIVE_CAP_H
#define REVIVE_CAP_H

#include <stdbool.h>
#include <stddef.h>
#include "revive/base.h"
#include "revive/client.h"

enum rv_cap_kind {
    RV_CAP_NAMESPACE = 1,   /* the channel to revived that names are looked up on */
    RV_CAP_SESSION,         /* a session endpoint */
    RV_CAP_DATASPACE,       /* shared memory another task provides */
    RV_CAP_NOTIFIER,        /* an eventfd that comes with a dataspace */
};

/* Repairs the capability `fd` after a fault `err` (RV_EREVOKED, RV_ECLOSED,
 * ...). Returns 0 when fd is usable again (the call is then retried), or the
 * error the faulting call should return. */
typedef int (*rv_cap_fault_fn)(int fd, int err, void *arg);
/* Revokes every mapping of resources that came with `fd` (before the
 * handler runs). */
typedef void (*rv_cap_unmap_fn)(int fd, void *arg);

/* What the registry knows about one slot. */
struct rv_cap_info {
    enum rv_cap_kind kind;
    char name[RV_NAME_MAX]; /* the name it was obtained by ("" for none) */
    char args[RV_ARGS_MAX]; /* session arguments */
    bool watched;
    unsigned generation;    /* +1 at every successful repair */
    unsigned faults;        /* faults raised on it */
};

/* 0 and *out, or RV_EINVAL if fd has no registry entry. */
int rv_cap_info(int fd, struct rv_cap_info *out);

/* Replaces the slot's fault handler / unmap action (NULL: the generic one
 * for its kind / none). */
int rv_cap_set_handler(int fd, rv_cap_fault_fn fn, void *arg);
int rv_cap_set_unmap(int fd, rv_cap_unmap_fn fn, void *arg);

/* The generic handlers, for custom handlers to build on: re-open a session
 * by its saved name and arguments; look a dataspace up again and remap it. */
int rv_cap_reopen(int fd, int err);
int rv_cap_relookup(int fd, int err);

/* Raises a capability fault on fd by hand: unmap action, then handler.
 * `seen` is the generation the caller last used (from rv_cap_info): if the
 * slot was repaired since, nothing runs and 0 is returned. */
int rv_cap_fault(int fd, int err, unsigned seen);

/* Registers any descriptor the application got elsewhere, so that it can
 * have a handler and be watched. `liveness_fd` (or -1) is the descriptor
 * whose hang-up or readability means the object is gone; the registry owns
 * it from then on. */
int rv_cap_register(int fd, enum rv_cap_kind kind, const char *name, int liveness_fd);
/* Forgets fd (does not close it). */
void rv_cap_unregister(int fd);

/* Watched capabilities are validated by the watcher. */
int rv_cap_watch(int fd, bool on);

/* Off: librevive registers nothing and invokes no handler (every fault is
 * an error) — the "registry off" baseline of rv-bench. On by default. */
void rv_cap_registry_enable(bool on);

/* ---- the watcher ---- */

enum rv_watch_mode {
    RV_WATCH_PERIODIC = 1,  /* validate every watched capability every period_ms */
    RV_WATCH_EVENT = 2,     /* block on the kernel's hang-up notification */
    RV_WATCH_BOTH = 3,
};

/* Starts the watcher thread (one per process). RV_EBUSY if it runs. */
int rv_watcher_start(enum rv_watch_mode mode, unsigned period_ms);
void rv_watcher_stop(void);

#endif
