/* cap.c — the capability registry: one entry per descriptor librevive
 * hands out, and the capability fault that repairs one (L4ReAnimator's
 * registry, L4ReAnimator §3.2).
 *
 * The table is indexed by descriptor number, because the descriptor *is*
 * the capability slot: a repair dup2()s the new object onto the old number,
 * so the entry, and every handle the application holds, stays valid.
 * Entries are allocated on registration only (most descriptors of a
 * process are not capabilities). Two locks: `table_lock` guards the table
 * and is held only for short lookups; `fault_lock` serialises repairs, and
 * is held while a handler runs — handlers open sessions and register new
 * descriptors, which takes table_lock, so the order is always fault_lock,
 * then table_lock. A repair bumps the slot's generation; a fault raised
 * with an older generation than the current one was already repaired by
 * someone else (the watcher, another thread) and only retries. */
#include "revive/cap.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cap_internal.h"

/* Repairs nested deeper than this (a handler whose own calls keep
 * faulting: the service dies as fast as it is re-opened) give up. */
#define MAX_DEPTH 4

struct cap_entry {
    struct rv_cap_info info;
    rv_cap_fault_fn fault, generic;   /* the handler; the kind's generic one */
    void *fault_arg;
    rv_cap_unmap_fn unmap;
    void *unmap_arg;
    int liveness_fd;
    void *owner;                  /* the librevive object behind the slot */
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
/* Recursive: a custom handler may call on the capability it repairs, and
 * that call may fault again (bounded by MAX_DEPTH). */
static pthread_mutex_t fault_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static __thread int fault_depth;
static struct cap_entry **table;
static size_t table_len;
static unsigned table_version;    /* changes whenever the watched set may have */
static bool disabled;
/* Told whenever the watched set may have changed: the watcher, once it
 * runs (rv__cap_on_change). */
static void (*on_change)(void);

void rv__cap_on_change(void (*fn)(void)) { __atomic_store_n(&on_change, fn, __ATOMIC_RELEASE); }

static void changed(void)
{
    void (*fn)(void) = __atomic_load_n(&on_change, __ATOMIC_ACQUIRE);
    if (fn)
        fn();
}

void rv_cap_registry_enable(bool on) { disabled = !on; }
bool rv__cap_enabled(void) { return !disabled; }

static struct cap_entry *entry_of(int fd)
{
    return fd >= 0 && (size_t)fd < table_len ? table[fd] : NULL;
}

static int grow_to(size_t len)
{
    if (len <= table_len)
        return 0;
    size_t n = table_len ? table_len : 64;
    while (n < len)
        n *= 2;
    struct cap_entry **t = realloc(table, n * sizeof *t);
    if (!t)
        return RV_ENOMEM;
    memset(t + table_len, 0, (n - table_len) * sizeof *t);
    table = t;
    table_len = n;
    return 0;
}

int rv__cap_add(int fd, enum rv_cap_kind kind, const char *name, const char *args, int liveness_fd,
               rv_cap_fault_fn fault, void *owner)
{
    if (disabled)
        return 0;
    if (fd < 0)
        return RV_EINVAL;
    struct cap_entry *e = calloc(1, sizeof *e);
    if (!e)
        return RV_ENOMEM;
    e->info.kind = kind;
    snprintf(e->info.name, sizeof e->info.name, "%s", name ? name : "");
    snprintf(e->info.args, sizeof e->info.args, "%s", args ? args : "");
    e->fault = e->generic = fault;
    e->fault_arg = owner;
    e->liveness_fd = liveness_fd;
    e->owner = owner;
    pthread_mutex_lock(&table_lock);
    int rc = grow_to((size_t)fd + 1);
    if (rc == 0) {
        free(table[fd]);
        table[fd] = e;
        table_version++;
    }
    pthread_mutex_unlock(&table_lock);
    if (rc)
        free(e);
    else
        changed();
    return rc;
}

int rv_cap_register(int fd, enum rv_cap_kind kind, const char *name, int liveness_fd)
{
    if (kind < RV_CAP_NAMESPACE || kind > RV_CAP_NOTIFIER)
        return RV_EINVAL;
    return rv__cap_add(fd, kind, name, NULL, liveness_fd, NULL, NULL);
}

void rv_cap_unregister(int fd)
{
    pthread_mutex_lock(&table_lock);
    struct cap_entry *e = entry_of(fd);
    if (e) {
        table[fd] = NULL;
        table_version++;
    }
    pthread_mutex_unlock(&table_lock);
    if (e)
        changed();
    if (e && e->liveness_fd >= 0 && !e->owner)
        close(e->liveness_fd);   /* registered by hand: the registry owns it */
    free(e);
}

/* Runs fn on the entry under table_lock; RV_EINVAL if fd has none. */
#define WITH_ENTRY(fd, e, body)                   \
    do {                                          \
        pthread_mutex_lock(&table_lock);          \
        struct cap_entry *e = entry_of(fd);       \
        int rc_ = e ? 0 : RV_EINVAL;              \
        if (e) {                                  \
            body;                                 \
        }                                         \
        pthread_mutex_unlock(&table_lock);        \
        return rc_;                               \
    } while (0)

int rv_cap_info(int fd, struct rv_cap_info *out) { WITH_ENTRY(fd, e, *out = e->info); }

int rv_cap_set_handler(int fd, rv_cap_fault_fn fn, void *arg)
{
    WITH_ENTRY(fd, e, e->fault = fn ? fn : e->generic; e->fault_arg = fn ? arg : e->owner);
}

int rv_cap_set_unmap(int fd, rv_cap_unmap_fn fn, void *arg)
{
    WITH_ENTRY(fd, e, e->unmap = fn; e->unmap_arg = arg);
}

int rv_cap_watch(int fd, bool on)
{
    pthread_mutex_lock(&table_lock);
    struct cap_entry *e = entry_of(fd);
    if (e) {
        e->info.watched = on;
        table_version++;
    }
    pthread_mutex_unlock(&table_lock);
    if (!e)
        return RV_EINVAL;
    changed();
    return 0;
}

void *rv__cap_owner(int fd)
{
    pthread_mutex_lock(&table_lock);
    struct cap_entry *e = entry_of(fd);
    void *owner = e ? e->owner : NULL;
    pthread_mutex_unlock(&table_lock);
    return owner;
}

void rv__cap_repaired(int fd)
{
    pthread_mutex_lock(&table_lock);
    struct cap_entry *e = entry_of(fd);
    if (e)
        e->info.generation++;
    table_version++;
    pthread_mutex_unlock(&table_lock);
    changed();
}

/* On every call's path: one field, not a copy of the whole entry. */
unsigned rv__cap_generation(int fd)
{
    if (disabled)
        return 0;
    pthread_mutex_lock(&table_lock);
    struct cap_entry *e = entry_of(fd);
    unsigned g = e ? e->info.generation : 0;
    pthread_mutex_unlock(&table_lock);
    return g;
}

size_t rv__cap_watched(struct rv__cap_watched *out, size_t max, unsigned *version)
{
    size_t n = 0;
    pthread_mutex_lock(&table_lock);
    for (size_t fd = 0; fd < table_len && n < max; fd++) {
        struct cap_entry *e = table[fd];
        if (e && e->info.watched && e->liveness_fd >= 0)
            out[n++] = (struct rv__cap_watched){ .fd = (int)fd, .liveness_fd = e->liveness_fd,
                                                .generation = e->info.generation };
    }
    *version = table_version;
    pthread_mutex_unlock(&table_lock);
    return n;
}

unsigned rv__cap_version(void)
{
    pthread_mutex_lock(&table_lock);
    unsigned v = table_version;
    pthread_mutex_unlock(&table_lock);
    return v;
}

/* The handler and unmap action to run, read under table_lock so that a
 * concurrent rv_cap_set_handler is seen whole. */
struct fault_plan {
    bool found, stale;
    rv_cap_fault_fn fault, generic;   /* the handler; the kind's generic one */
    void *fault_arg;
    rv_cap_unmap_fn unmap;
    void *unmap_arg;
};

static struct fault_plan plan_fault(int fd, unsigned seen)
{
    struct fault_plan p = { 0 };
    pthread_mutex_lock(&table_lock);
    struct cap_entry *e = entry_of(fd);
    if (e) {
        p.found = true;
        p.stale = e->info.generation != seen;
        p.fault = e->fault;
        p.fault_arg = e->fault_arg;
        p.unmap = e->unmap;
        p.unmap_arg = e->unmap_arg;
        if (!p.stale)
            e->info.faults++;
    }
    pthread_mutex_unlock(&table_lock);
    return p;
}

int rv_cap_fault(int fd, int err, unsigned seen)
{
    if (disabled || fault_depth >= MAX_DEPTH)
        return err;
    pthread_mutex_lock(&fault_lock);
    fault_depth++;
    struct fault_plan p = plan_fault(fd, seen);
    int rc;
    if (!p.found || !p.fault)
        rc = err;              /* nothing registered can repair it */
    else if (p.stale)
        rc = 0;                /* repaired meanwhile: just retry */
    else {
        if (p.unmap)
            p.unmap(fd, p.unmap_arg);
        rc = p.fault(fd, err, p.fault_arg);
        if (rc == 0)
            rv__cap_repaired(fd);
    }
    fault_depth--;
    pthread_mutex_unlock(&fault_lock);
    return rc;
}

bool rv__cap_is_fault(int err)
{
    /* Not RV_ELOST: a session whose state was lost has lost data its client
     * must hear about; only a handler of the client's own, which restores
     * that state, may repair it (client.c). */
    return err == RV_EREVOKED || err == RV_ECLOSED || err == RV_EFAILED || err == RV_ESTOPPED;
}

bool rv__cap_custom_handler(int fd)
{
    pthread_mutex_lock(&table_lock);
    struct cap_entry *e = entry_of(fd);
    bool custom = e && e->fault && e->fault != e->generic;
    pthread_mutex_unlock(&table_lock);
    return custom;
}
