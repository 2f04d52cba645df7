/* account.h — what each local user holds in revived, and the limits on it.
 *
 * One revived serves every local user from one process, with one table of
 * descriptors (RLIMIT_NOFILE, whose hard limit an unprivileged revived cannot
 * raise). Without limits, one user with enough processes or idle
 * connections locks every other user out. So everything revived holds on a
 * client's behalf is charged to the uid the kernel names for it
 * (SO_PEERCRED), never to its pid: forking would escape a per-pid limit.
 *
 * Two kinds of limit:
 *   - per user: connections; sessions, provided dataspaces and dataspace
 *     attachments together ("holdings", each one costs revived a
 *     descriptor or three); SSR and journal bytes;
 *   - all other users together: descriptors, at most RLIMIT_NOFILE less a
 *     reserve that only root and revived's own user may use. The reserve is
 *     what keeps `revivectl` and the administrator's clients working, and
 *     leaves revived the descriptors it needs to restart a service, however
 *     many users flood it.
 * The per-user limits hold for root too (a runaway client of root's is still
 * a runaway); the reserve is for root and revived's own user alone.
 *
 * Every refusal is one sentence that names the limit and the [revived] key
 * that raises it. */
#ifndef RV_ACCOUNT_H
#define RV_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct account;
struct rv_manifest;

/* Takes the limits of the manifest's [revived] section; the shared budget
 * is the descriptor limit revived runs with (read now) less its
 * reserved_descriptors. */
void account_set_limits(const struct rv_manifest *m);
/* Finds or creates uid's account; takes a reference. NULL: out of memory. */
struct account *account_get(uid_t uid);
struct account *account_ref(struct account *a);
void account_put(struct account *a);
bool account_privileged(const struct account *a);

/* Each charge either fits, or explains in why and returns -1. */
int account_charge_connection(struct account *a, char *why, size_t len);
void account_uncharge_connection(struct account *a);
/* A holding that costs revived fds descriptors and bytes of memory;
 * `what` names it in the refusal ("a session with 'kv'"). */
int account_charge(struct account *a, unsigned fds, uint64_t bytes, const char *what, char *why, size_t len);
void account_uncharge(struct account *a, unsigned fds, uint64_t bytes);
/* A descriptor held for the user outside its holdings: a shared channel's,
 * which its sessions share. */
int account_charge_fd(struct account *a, char *why, size_t len);
void account_uncharge_fd(void);

#endif
