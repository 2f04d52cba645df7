/* trace.h — ptrace control of every thread of one process, and the one
 * breakpoint an experiment sets in it. */
#ifndef RV_INJECT_TRACE_H
#define RV_INJECT_TRACE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "inject.h"

enum rvi_tstate { RVI_TS_RUNNING, RVI_TS_STOPPING, RVI_TS_STOPPED, RVI_TS_LISTENING, RVI_TS_GONE };

struct rvi_thread {
    pid_t tid;
    enum rvi_tstate st;
    int sig;            /* signal to deliver when it is resumed or detached */
    bool dr_set;        /* its debug registers hold the armed breakpoint */
};

struct rvi_trace {
    pid_t pid;
    bool spawned;
    struct rvi_thread *t;
    size_t n, cap;
    enum rvi_bp kind;
    bool armed;         /* the breakpoint is in place */
    uint64_t bp_addr;   /* where it is (or was: late hits are recognised) */
    uint8_t orig_byte;  /* sw: the byte the int3 replaced */
    bool leader_done;   /* the process's own wait status was reaped here */
    int leader_status;
    volatile sig_atomic_t *cancel;
};

enum rvi_wait { RVI_W_HIT, RVI_W_TIMEOUT, RVI_W_EXITED, RVI_W_EXEC, RVI_W_CANCELLED };

/* Forks and execs ARGV under trace (its own process group, signal mask
 * CHILD_MASK); returns with the new image stopped at its entry point, the
 * dynamic loader's work done so its libraries are mapped. */
int rvi_trace_spawn(struct rvi_trace *tr, char *const argv[], const sigset_t *child_mask,
                    char *err, size_t errlen);
/* Seizes every thread of PID and stops them all. */
int rvi_trace_attach(struct rvi_trace *tr, pid_t pid, char *err, size_t errlen);

/* Sets the breakpoint at ADDR (every thread stopped). */
int rvi_trace_arm(struct rvi_trace *tr, enum rvi_bp kind, uint64_t addr, char *err, size_t errlen);
/* Resumes every stopped thread, delivering its pending signal. */
void rvi_trace_resume(struct rvi_trace *tr);
/* Lets the process run until a thread reaches the breakpoint (that thread is
 * left stopped just before the instruction, *HIT its tid), the window ends,
 * the process ends or execs, or *tr->cancel is set. */
enum rvi_wait rvi_trace_wait_hit(struct rvi_trace *tr, int timeout_ms, pid_t *hit);
/* Sets the signal TID receives when let go. */
void rvi_trace_set_signal(struct rvi_trace *tr, pid_t tid, int sig);
/* Stops every thread, removes the breakpoint, detaches every thread with its
 * pending signal. Always safe to call; returns -1 with ERR if the breakpoint
 * could not be removed from some thread. */
int rvi_trace_release(struct rvi_trace *tr, char *err, size_t errlen);

#endif
