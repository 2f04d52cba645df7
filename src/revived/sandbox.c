/* sandbox.c — see sandbox.h.
 *
 * Landlock: a service may read, and execute, the system's programs and
 * libraries (its dynamic loader and shared libraries live there), read the
 * loader's cache and its own /proc entry (a sanitizer reads its maps,
 * glibc a thread's stack bounds), execute its own program, and reach
 * nothing else but the manifest's read_paths and write_paths. It needs no
 * more: revived opens what it works on (its image, its arena file,
 * /dev/fuse, every memfd) and hands it over. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "log.h"

static const struct landlock_rule system_rules[] = {
    { "/usr", LANDLOCK_EXEC },
    { "/lib", LANDLOCK_EXEC },
    { "/lib64", LANDLOCK_EXEC },
    { "/etc/ld.so.cache", LANDLOCK_READ },
    { "/proc/self", LANDLOCK_READ },   /* opened by the child: its own entry */
};

#define NSYSTEM (sizeof system_rules / sizeof *system_rules)
_Static_assert(NSYSTEM + 1 + 2 * RV_PATHS_MAX <= SANDBOX_RULES_MAX, "room for every rule");

static size_t add_rules(struct landlock_rule *r, size_t n, char *const *paths, enum landlock_grant grant)
{
    for (size_t i = 0; paths && paths[i]; i++)
        r[n++] = (struct landlock_rule){ paths[i], grant };
    return n;
}

/* The kernel decides how much Landlock restricts: said once, not at every
 * start. */
static int landlock_for_services(void)
{
    static bool told;
    int abi = landlock_abi();
    if (!told && abi)
        rv_info("Landlock ABI %d: services are confined to their paths", abi);
    else if (!told)
        rv_warn("this kernel has no Landlock: services are not confined to their paths (their ids and seccomp "
                "filters still hold)");
    told = true;
    return abi;
}

static void plan_landlock(const struct rv_service_conf *c, struct sandbox_plan *p)
{
    size_t n = 0;
    for (; n < NSYSTEM; n++)
        p->rules[n] = system_rules[n];
    p->rules[n++] = (struct landlock_rule){ c->exec, LANDLOCK_EXEC };
    n = add_rules(p->rules, n, c->read_paths, LANDLOCK_READ);
    n = add_rules(p->rules, n, c->write_paths, LANDLOCK_WRITE);
    p->jail.landlock = (struct landlock_plan){ .abi = landlock_for_services(), .rules = p->rules, .nrules = n };
}

void sandbox_plan(const struct rv_service_conf *c, struct sandbox_plan *p)
{
    memset(p, 0, sizeof *p);
    p->jail = (struct launch_jail){ .set_ids = c->set_ids, .uid = c->uid, .gid = c->gid,
                                    .no_new_privs = c->sandbox };
    if (c->sandbox)
        plan_landlock(c, p);
    snprintf(p->sandbox_var, sizeof p->sandbox_var, "REVIVE_SANDBOX=%d", c->sandbox);
    p->vars[0] = p->sandbox_var;
}

/* ---- the check ---- */

/* The value of "NAME:\tVALUE" in a /proc/PID/status text ("" if absent). */
static const char *field(const char *status, const char *name, char *out, size_t len)
{
    size_t n = strlen(name);
    out[0] = '\0';
    for (const char *p = status; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, name, n) == 0 && p[n] == ':') {
            p += n + 1 + strspn(p + n + 1, "\t ");
            snprintf(out, len, "%.*s", (int)strcspn(p, "\n"), p);
            break;
        }
    return out;
}

/* All four ids (real, effective, saved, file-system) are `want` when
 * revived changed them; otherwise the effective one is. */
static bool ids_are(const char *status, const char *name, unsigned want, bool all, char *why, size_t whylen)
{
    char v[64];
    unsigned id[4];
    if (sscanf(field(status, name, v, sizeof v), "%u %u %u %u", &id[0], &id[1], &id[2], &id[3]) == 4 &&
        id[1] == want && (!all || (id[0] == want && id[2] == want && id[3] == want)))
        return true;
    snprintf(why, whylen, "runs with %s %s, not %u", name, v, want);
    return false;
}

static bool holds(const char *st, const struct rv_service_conf *c, char *why, size_t whylen)
{
    char v[64];
    if (!ids_are(st, "Uid", c->uid, c->set_ids, why, whylen) || !ids_are(st, "Gid", c->gid, c->set_ids, why, whylen))
        return false;
    if (c->set_ids && *field(st, "Groups", v, sizeof v)) {
        snprintf(why, whylen, "keeps supplementary groups (%s)", v);
        return false;
    }
    if (c->sandbox && strcmp(field(st, "NoNewPrivs", v, sizeof v), "1") != 0) {
        snprintf(why, whylen, "no_new_privs is not set (NoNewPrivs: %s)", v);
        return false;
    }
    if (c->sandbox && strcmp(field(st, "Seccomp", v, sizeof v), "2") != 0) {
        snprintf(why, whylen, "installed no seccomp filter (Seccomp: %s)", v);
        return false;
    }
    return true;
}

bool sandbox_in_force(pid_t pid, const struct rv_service_conf *c, char *why, size_t whylen)
{
    if (!c->sandbox && !c->set_ids)
        return true;   /* runs as revived does: nothing to check */
    char path[32], st[4096];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, st, sizeof st - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0) {
        snprintf(why, whylen, "cannot read %s: %s", path, n < 0 ? strerror(errno) : "empty");
        return false;
    }
    st[n] = '\0';
    return holds(st, c, why, whylen);
}
