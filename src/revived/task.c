/* task.c — see task.h. A linked list: tasks are few, and looked up only when a
 * connection is accepted. */
#include "task.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static struct task *tasks;
static uint64_t default_quota = 16u << 20;

void task_set_default_quota(uint64_t bytes) { default_quota = bytes; }

struct task *task_get(pid_t pid, uid_t uid)
{
    for (struct task *t = tasks; t; t = t->next)
        if (t->pid == pid && t->uid == uid) {
            t->refs++;
            return t;
        }
    struct task *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    *t = (struct task){ .pid = pid, .uid = uid, .quota = default_quota, .refs = 1, .next = tasks };
    tasks = t;
    return t;
}

void task_put(struct task *t)
{
    if (--t->refs)
        return;
    for (struct task **p = &tasks; *p; p = &(*p)->next)
        if (*p == t) {
            *p = t->next;
            break;
        }
    free(t);
}

int task_charge(struct task *t, uint64_t bytes, const char *service, char *why, size_t len)
{
    if (t->charged + bytes > t->quota) {
        snprintf(why, len,
                 "SSR quota exceeded: task %d holds %" PRIu64 " bytes in %u sessions, a session with "
                 "'%s' needs %" PRIu64 " more, max_ssr_bytes is %" PRIu64,
                 (int)t->pid, t->charged, t->sessions, service, bytes, t->quota);
        return -1;
    }
    t->charged += bytes;
    t->sessions++;
    return 0;
}

void task_uncharge(struct task *t, uint64_t bytes)
{
    t->charged -= bytes;
    t->sessions--;
}
