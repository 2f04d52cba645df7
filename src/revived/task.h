/* task.h — a task: a process revived knows, identified by SO_PEERCRED.
 *
 * Every connection from the same pid shares one task, and so one quota: the
 * SSR and journal bytes of all the sessions the task opened. The quota is
 * what stops one client from exhausting memory that revived holds for all. */
#ifndef RV_TASK_H
#define RV_TASK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct task {
    pid_t pid;
    uid_t uid;
    uint64_t charged;      /* bytes of SSR + journal held for it */
    uint64_t quota;
    unsigned sessions;
    unsigned refs;         /* connections and sessions */
    struct task *next;
};

void task_set_default_quota(uint64_t bytes);
struct task *task_get(pid_t pid, uid_t uid);   /* find or create; takes a reference */
void task_put(struct task *t);
/* Charges bytes, or explains in why (one sentence) and returns -1. */
int task_charge(struct task *t, uint64_t bytes, const char *service, char *why, size_t len);
void task_uncharge(struct task *t, uint64_t bytes);

#endif
