/* fault.c — applying a fault to a thread stopped at the chosen instruction.
 *
 * M: a data abort delivers SIGSEGV with si_code SEGV_MAPERR and si_addr the
 * faulting address. The thread is in the signal-delivery-stop of the
 * breakpoint's SIGTRAP; PTRACE_SETSIGINFO replaces that siginfo with a SIGSEGV
 * one, and resuming it with SIGSEGV (the same signal number, so the kernel keeps
 * our siginfo) runs the process's own handler as if the instruction faulted.
 *
 * R: one bit of one register the instruction reads. x86 names slices of the
 * 16 general registers (al = bits 0-7 of rax, ah = bits 8-15, eax = 0-31), so
 * a flip in "ah" bit 3 is bit 11 of rax; xmm registers live in the FP register
 * set (user_fpregs_struct.xmm_space, four 32-bit words each). */
#include "fault.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>

#define GPR_OFF(f) offsetof(struct user_regs_struct, f)
#define GPR(n, f, sh, w) { n, false, GPR_OFF(f), sh, w }
#define GPR4(q, d, w, b, f) GPR(q, f, 0, 64), GPR(d, f, 0, 32), GPR(w, f, 0, 16), GPR(b, f, 0, 8)

static const struct rvi_reg gprs[] = {
    GPR4("rax", "eax", "ax", "al", rax), GPR("ah", rax, 8, 8),
    GPR4("rbx", "ebx", "bx", "bl", rbx), GPR("bh", rbx, 8, 8),
    GPR4("rcx", "ecx", "cx", "cl", rcx), GPR("ch", rcx, 8, 8),
    GPR4("rdx", "edx", "dx", "dl", rdx), GPR("dh", rdx, 8, 8),
    GPR4("rsi", "esi", "si", "sil", rsi), GPR4("rdi", "edi", "di", "dil", rdi),
    GPR4("rbp", "ebp", "bp", "bpl", rbp), GPR4("rsp", "esp", "sp", "spl", rsp),
    GPR4("r8", "r8d", "r8w", "r8b", r8), GPR4("r9", "r9d", "r9w", "r9b", r9),
    GPR4("r10", "r10d", "r10w", "r10b", r10), GPR4("r11", "r11d", "r11w", "r11b", r11),
    GPR4("r12", "r12d", "r12w", "r12b", r12), GPR4("r13", "r13d", "r13w", "r13b", r13),
    GPR4("r14", "r14d", "r14w", "r14b", r14), GPR4("r15", "r15d", "r15w", "r15b", r15),
};

bool rvi_reg_lookup(const char *name, struct rvi_reg *out)
{
    for (size_t i = 0; i < sizeof gprs / sizeof gprs[0]; i++) {
        if (strcmp(gprs[i].name, name) == 0) {
            *out = gprs[i];
            return true;
        }
    }
    unsigned n;
    char tail;
    if (sscanf(name, "xmm%u%c", &n, &tail) == 1 && n < 16) {
        *out = (struct rvi_reg){ .xmm = true, .index = n, .shift = 0, .width = 128 };
        snprintf(out->name, sizeof out->name, "xmm%u", n);
        return true;
    }
    return false;
}

static uint64_t *gpr_slot(struct user_regs_struct *r, const struct rvi_reg *g)
{
    return (uint64_t *)((char *)r + g->index);
}

/* The value of a general register slice named by an operand, "" being 0. */
static int operand_value(struct user_regs_struct *r, const char *name, uint64_t *v)
{
    struct rvi_reg g;
    if (!*name) {
        *v = 0;
        return 0;
    }
    if (!rvi_reg_lookup(name, &g) || g.xmm)
        return -1;
    uint64_t mask = g.width == 64 ? ~0ull : (1ull << g.width) - 1;
    *v = (*gpr_slot(r, &g) >> g.shift) & mask;
    return g.width;
}

static int segment_base(struct user_regs_struct *r, const char *seg, uint64_t *base)
{
    *base = 0;
    if (strcmp(seg, "fs") == 0)
        *base = r->fs_base;
    else if (strcmp(seg, "gs") == 0)
        *base = r->gs_base;
    return 0;
}

static int effective_address(struct user_regs_struct *r, const struct rvi_memop *op, uint64_t *ea)
{
    uint64_t base, index, seg;
    int wb = 64, wi;
    if (strcmp(op->base, "rip") == 0)
        base = op->next_ip;
    else if ((wb = operand_value(r, op->base, &base)) < 0)
        return -1;
    if ((wi = operand_value(r, op->index, &index)) < 0)
        return -1;
    segment_base(r, op->segment, &seg);
    uint64_t a = base + index * (uint64_t)op->scale + (uint64_t)op->disp;
    if (wb == 32 || wi == 32)       /* address-size override: 32-bit arithmetic */
        a &= 0xffffffffull;
    *ea = seg + a;
    return 0;
}

int rvi_fault_mem(pid_t tid, const struct rvi_memop *op, uint64_t *ea, char *err, size_t errlen)
{
    struct user_regs_struct r;
    if (ptrace(PTRACE_GETREGS, tid, NULL, &r) < 0) {
        snprintf(err, errlen, "PTRACE_GETREGS %d: %s", (int)tid, strerror(errno));
        return -1;
    }
    if (effective_address(&r, op, ea) < 0) {
        snprintf(err, errlen, "cannot compute the operand address");
        return -1;
    }
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGSEGV;
    si.si_code = SEGV_MAPERR;
    si.si_addr = (void *)(uintptr_t)*ea;
    if (ptrace(PTRACE_SETSIGINFO, tid, NULL, &si) < 0) {
        snprintf(err, errlen, "PTRACE_SETSIGINFO %d: %s", (int)tid, strerror(errno));
        return -1;
    }
    return 0;
}

static int flip_gpr(pid_t tid, const struct rvi_reg *g, int bit, uint64_t *before, uint64_t *after)
{
    struct user_regs_struct r;
    if (ptrace(PTRACE_GETREGS, tid, NULL, &r) < 0)
        return -1;
    uint64_t *slot = gpr_slot(&r, g);
    *before = *slot;
    *slot ^= 1ull << (g->shift + (unsigned)bit);
    *after = *slot;
    return ptrace(PTRACE_SETREGS, tid, NULL, &r) < 0 ? -1 : 0;
}

static uint64_t xmm_lane(const struct user_fpregs_struct *fp, unsigned reg, unsigned lane)
{
    const unsigned int *w = &fp->xmm_space[reg * 4 + lane * 2];
    return (uint64_t)w[0] | (uint64_t)w[1] << 32;
}

static int flip_xmm(pid_t tid, const struct rvi_reg *x, int bit, uint64_t *before, uint64_t *after)
{
    struct user_fpregs_struct fp;
    if (ptrace(PTRACE_GETFPREGS, tid, NULL, &fp) < 0)
        return -1;
    unsigned lane = (unsigned)bit / 64;
    *before = xmm_lane(&fp, x->index, lane);
    fp.xmm_space[x->index * 4 + (unsigned)bit / 32] ^= 1u << (bit % 32);
    *after = xmm_lane(&fp, x->index, lane);
    return ptrace(PTRACE_SETFPREGS, tid, NULL, &fp) < 0 ? -1 : 0;
}

int rvi_fault_reg(pid_t tid, const struct rvi_reg *reg, int bit, uint64_t *before,
                  uint64_t *after, char *err, size_t errlen)
{
    int rc = reg->xmm ? flip_xmm(tid, reg, bit, before, after)
                      : flip_gpr(tid, reg, bit, before, after);
    if (rc < 0)
        snprintf(err, errlen, "flipping %s in thread %d: %s", reg->name, (int)tid,
                 strerror(errno));
    return rc;
}
