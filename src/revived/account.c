/* account.c — see account.h. A linked list: users are few, and an account
 * is looked up only when a connection is accepted. */
#include "account.h"
#include "manifest.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

struct account {
    uid_t uid;
    bool privileged;
    unsigned connections;
    unsigned holdings;        /* sessions, dataspaces, attachments */
    uint64_t bytes;           /* SSR + journal */
    unsigned refs;            /* connections, sessions, dataspaces, attachments */
    struct account *next;
};

static struct account *accounts;
/* Until account_set_limits: the manifest's defaults. */
static struct {
    unsigned max_connections, max_sessions, reserved_fds;
    uint64_t max_ssr_bytes;
} limits = { .max_connections = 256, .max_sessions = 1024, .reserved_fds = 1024, .max_ssr_bytes = 16u << 20 };
static uint64_t shared_fds;   /* unprivileged users stop where the reserve starts */
static uint64_t used_fds;     /* by every account, privileged ones included */

void account_set_limits(const struct rv_manifest *m)
{
    limits.max_connections = m->max_connections_per_user;
    limits.max_sessions = m->max_sessions_per_user;
    limits.reserved_fds = m->reserved_descriptors;
    limits.max_ssr_bytes = m->max_ssr_bytes;
    struct rlimit rl;
    uint64_t nofile = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;
    shared_fds = nofile > limits.reserved_fds ? nofile - limits.reserved_fds : 0;
}

struct account *account_get(uid_t uid)
{
    for (struct account *a = accounts; a; a = a->next)
        if (a->uid == uid)
            return account_ref(a);
    struct account *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    *a = (struct account){ .uid = uid, .privileged = uid == 0 || uid == getuid(), .refs = 1, .next = accounts };
    accounts = a;
    return a;
}

struct account *account_ref(struct account *a)
{
    a->refs++;
    return a;
}

void account_put(struct account *a)
{
    if (--a->refs)
        return;
    for (struct account **p = &accounts; *p; p = &(*p)->next)
        if (*p == a) {
            *p = a->next;
            break;
        }
    free(a);
}

bool account_privileged(const struct account *a) { return a->privileged; }

/* An unprivileged user may take a descriptor only while all users together
 * (privileged ones too: they share the one table) leave the reserve intact. */
static int check_shared(const struct account *a, unsigned fds, char *why, size_t len)
{
    if (a->privileged || used_fds + fds <= shared_fds)
        return 0;
    snprintf(why, len,
             "revived is full for users other than root and its own: its clients hold %" PRIu64 " descriptors "
             "and the last %u are kept for root and revived's user by [revived] reserved_descriptors",
             used_fds, limits.reserved_fds);
    return -1;
}

int account_charge_connection(struct account *a, char *why, size_t len)
{
    if (a->connections >= limits.max_connections) {
        snprintf(why, len, "user %u has %u connections to revived; [revived] max_connections_per_user is %u",
                 (unsigned)a->uid, a->connections, limits.max_connections);
        return -1;
    }
    if (check_shared(a, 1, why, len) < 0)
        return -1;
    a->connections++;
    used_fds++;
    return 0;
}

void account_uncharge_connection(struct account *a)
{
    a->connections--;
    used_fds--;
}

int account_charge_fd(struct account *a, char *why, size_t len)
{
    if (check_shared(a, 1, why, len) < 0)
        return -1;
    used_fds++;
    return 0;
}

void account_uncharge_fd(void)
{
    used_fds--;
}

static int check_own(const struct account *a, uint64_t bytes, const char *what, char *why, size_t len)
{
    if (a->holdings >= limits.max_sessions) {
        snprintf(why, len, "user %u holds %u sessions and dataspaces, %s is one too many; "
                 "[revived] max_sessions_per_user is %u", (unsigned)a->uid, a->holdings, what, limits.max_sessions);
        return -1;
    }
    if (a->bytes + bytes > limits.max_ssr_bytes) {
        snprintf(why, len, "SSR quota exceeded: user %u holds %" PRIu64 " bytes of session state, %s needs %" PRIu64 " more; "
                 "[revived] max_ssr_bytes is %" PRIu64, (unsigned)a->uid, a->bytes, what, bytes, limits.max_ssr_bytes);
        return -1;
    }
    return 0;
}

int account_charge(struct account *a, unsigned fds, uint64_t bytes, const char *what, char *why, size_t len)
{
    if (check_own(a, bytes, what, why, len) < 0 || check_shared(a, fds, why, len) < 0)
        return -1;
    a->holdings++;
    a->bytes += bytes;
    used_fds += fds;
    return 0;
}

void account_uncharge(struct account *a, unsigned fds, uint64_t bytes)
{
    a->holdings--;
    a->bytes -= bytes;
    used_fds -= fds;
}
