/* fault.h — the two faults, applied to one stopped thread, and the register
 * names they understand. */
#ifndef RV_INJECT_FAULT_H
#define RV_INJECT_FAULT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Where a register an instruction names lives in the thread's state: a slice
 * [shift, shift+width) of a 64-bit general register in user_regs_struct, or
 * xmm register INDEX in the FP register set. */
struct rvi_reg {
    char name[8];
    bool xmm;
    unsigned index;     /* GPR: byte offset in user_regs_struct; XMM: number */
    unsigned shift, width;
};

/* False for registers the injector does not flip or read (rip, flags,
 * segment, x87/mmx, ymm/zmm, control and debug registers). */
bool rvi_reg_lookup(const char *name, struct rvi_reg *out);

/* A memory operand, [segment: base + index*scale + disp], as decoded. */
struct rvi_memop {
    char base[8], index[8], segment[8];   /* "" when absent; base may be "rip" */
    int scale;
    int64_t disp;
    uint64_t next_ip;                     /* rip-relative operands count from here */
};

/* M: computes the operand's effective address from TID's registers and sets
 * TID's pending signal to SIGSEGV/SEGV_MAPERR at that address (TID must be in
 * a signal-delivery-stop; resume it with SIGSEGV to deliver). */
int rvi_fault_mem(pid_t tid, const struct rvi_memop *op, uint64_t *ea, char *err, size_t errlen);

/* R: flips BIT of REG in TID; BEFORE/AFTER get the 64-bit register (xmm: the
 * 64-bit lane holding the bit). */
int rvi_fault_reg(pid_t tid, const struct rvi_reg *reg, int bit, uint64_t *before,
                  uint64_t *after, char *err, size_t errlen);

#endif
