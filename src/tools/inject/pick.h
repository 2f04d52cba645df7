/* pick.h — decoding the target functions and choosing the instruction (and,
 * for R, the register and bit) an experiment injects into. */
#ifndef RV_INJECT_PICK_H
#define RV_INJECT_PICK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "elfsym.h"
#include "fault.h"
#include "inject.h"

struct rvi_choice {
    size_t func;                /* index in the rvi_funcs it was picked from */
    uint64_t addr;
    char insn[192];
    size_t candidates;
    struct rvi_memop mem;       /* M */
    struct rvi_reg reg;         /* R */
    int bit;
};

/* Decodes FUNCS (read from PID's memory, which must be stopped) and picks one
 * candidate with a PRNG seeded by SEED: the same seed and binary give the same
 * choice. Returns 0, or -1 with ERR filled (e.g. no candidate instruction). */
int rvi_pick(pid_t pid, const struct rvi_funcs *funcs, enum rvi_fault fault, uint64_t seed,
             struct rvi_choice *out, char *err, size_t errlen);

#endif
