/* namespace.c — see namespace.h. A task's table is its manifest section's
 * `names`, searched linearly: a task maps a handful of names. */
#include "namespace.h"

#include <stdio.h>
#include <string.h>
#include "revive/base.h"

static const char *kind_name[] = { [NS_SERVICE] = "service", [NS_DATASPACE] = "dataspace" };

/* Names go into log lines and error sentences: the manifest's rule for
 * names holds for every name a client sends too. */
static int check_name(const char *name, char *why, size_t whylen)
{
    size_t len = strlen(name);
    if (len >= 1 && len < RV_NAME_MAX &&
        strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == len)
        return 0;
    snprintf(why, whylen, "bad name '%.*s' (1 to %d characters of A-Z a-z 0-9 _ -)", RV_NAME_MAX, name,
             RV_NAME_MAX - 1);
    return RV_EINVAL;
}

static const struct rv_name *lookup(const struct rv_task_conf *task, const char *name)
{
    for (size_t i = 0; i < task->nnames; i++)
        if (strcmp(task->names[i].name, name) == 0)
            return &task->names[i];
    return NULL;
}

int ns_resolve(const struct rv_task_conf *task, const char *name, enum ns_kind kind,
               char out[RV_NAME_MAX], char *why, size_t whylen)
{
    int rc = check_name(name, why, whylen);
    if (rc)
        return rc;
    if (!task) {
        snprintf(out, RV_NAME_MAX, "%s", name);
        return 0;
    }
    const struct rv_name *n = lookup(task, name);
    if (!n) {
        snprintf(why, whylen, "name '%s' is not in task '%s''s name space", name, task->name);
        return RV_ENOSVC;
    }
    if (n->dataspace != (kind == NS_DATASPACE)) {
        snprintf(why, whylen, "name '%s' in task '%s''s name space stands for %s '%s', not a %s", name,
                 task->name, kind_name[n->dataspace ? NS_DATASPACE : NS_SERVICE], n->target, kind_name[kind]);
        return RV_ENOSVC;
    }
    snprintf(out, RV_NAME_MAX, "%s", n->target);
    return 0;
}
