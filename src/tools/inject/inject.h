/* inject.h — the fault injector as a library: one call runs one experiment.
 *
 * An experiment, after CuriOS §6.1: take a process (attach to a running one by
 * pid, or spawn a program), pick one instruction at random among the target
 * functions (a seeded PRNG, so a seed reproduces the choice), stop the process
 * just before that instruction executes (an int3 or a debug-register
 * breakpoint), inject exactly one fault, let go, and watch what the process
 * does. Two fault types:
 *   M  a memory access fault: the thread receives SIGSEGV (SEGV_MAPERR) with
 *      si_addr = the instruction's memory operand address, as a data abort
 *      would deliver it, so the process's own SIGSEGV handler runs;
 *   R  a bit flip in one register the instruction reads, within the operand's
 *      width (al/ah/ax/eax/rax, xmm through the FP register set).
 * If the instruction is not reached within the window the experiment is
 * NOT_ACTIVATED and the process continues untouched. Whatever happens —
 * activation, timeout, the caller's cancel flag — the breakpoint is removed
 * and every thread detached before rvi_run returns.
 *
 * x86-64 Linux only. rvi_run blocks SIGCHLD in the calling thread while it
 * runs and waits only for the target's threads (waitpid by tid), so a caller
 * with children of its own (a campaign runner) keeps their exit statuses. */
#ifndef RV_INJECT_H
#define RV_INJECT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

enum rvi_fault { RVI_FAULT_MEM, RVI_FAULT_REG };
enum rvi_bp { RVI_BP_SW, RVI_BP_HW };

enum rvi_outcome { RVI_ERROR = -1, RVI_NOT_ACTIVATED = 0, RVI_ACTIVATED = 1 };

/* Why an experiment was not activated. */
enum rvi_why { RVI_WHY_NONE, RVI_WHY_TIMEOUT, RVI_WHY_EXITED, RVI_WHY_EXEC, RVI_WHY_CANCELLED };

/* What the target did after the experiment, within the observation window.
 * A spawned target is our child, so its exit status is known; of an attached
 * one only whether it is still there. */
enum rvi_fate { RVI_FATE_RUNNING, RVI_FATE_EXITED, RVI_FATE_SIGNALED, RVI_FATE_GONE };

struct rvi_config {
    pid_t pid;                   /* attach to this process ... */
    char *const *argv;           /* ... or spawn this program (PATH lookup) */
    enum rvi_fault fault;
    enum rvi_bp bp;
    uint64_t seed;
    const char *functions;       /* comma-separated names or globs; NULL: all */
    const char *const *modules;  /* paths or basenames of mapped ELF files;  */
    size_t nmodules;             /* none: the main executable                 */
    int timeout_ms;              /* activation window */
    int observe_ms;              /* watch the target this long afterwards */
    bool keep_running;           /* spawned: leave it running, else SIGKILL it */
    int armed_fd;                /* -1, or "ARMED\n" is written here once armed */
    volatile sig_atomic_t *cancel; /* non-zero (a signal handler sets it): give up */
};

struct rvi_result {
    enum rvi_outcome outcome;
    enum rvi_why why;
    pid_t pid, tid;              /* the target, the thread that hit */
    size_t candidates;           /* instructions the choice was made among */
    char module[256];            /* the chosen instruction: where it is, */
    char function[128];
    uint64_t offset, address;
    char insn[192];              /* and its text (Intel syntax) */
    uint64_t mem_addr;           /* M: the operand address given as si_addr */
    char reg[8];                 /* R: the register (as the instruction names it), */
    int bit, width;              /*    the bit flipped in it, its width */
    uint64_t before, after;      /*    the 64-bit register (xmm: the lane) around the flip */
    enum rvi_fate fate;
    int status;                  /* exit code, or signal number */
    char error[256];
};

/* Runs one experiment. Returns res->outcome; on RVI_ERROR res->error says why
 * (bad pid, no permission, no such symbol, no candidate instruction, ...). */
int rvi_run(const struct rvi_config *cfg, struct rvi_result *res);

/* One line describing the result: plain text, or a JSON object. */
void rvi_result_print(const struct rvi_config *cfg, const struct rvi_result *res, bool json,
                      FILE *out);

#endif
