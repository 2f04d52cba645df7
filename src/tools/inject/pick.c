/* pick.c — which instruction, which register, which bit.
 *
 * Every target function is read from the stopped process's memory and
 * decoded with capstone in detail mode. An instruction is a candidate for
 *   M  when it has an explicit memory operand that really accesses memory
 *      (not lea, nop or a prefetch hint) with a general-register (or rip)
 *      base and index, so its effective address can be computed;
 *   R  when it reads (explicitly or implicitly, cs_regs_access) a register
 *      the injector can flip: a general register slice or xmm0-15.
 * Candidates are numbered in a fixed order (module, address), and a
 * splitmix64 stream seeded with --seed draws the candidate, then for R the
 * register among those read and the bit within its width. The same seed and
 * binary therefore give the same experiment, whatever the ASLR base. */
#include "pick.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_READ_REGS 64

struct cand {
    uint32_t func, off;
};

struct cands {
    struct cand *v;
    size_t n, cap;
};

struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rng_below(struct rng *r, uint64_t n)
{
    return rng_next(r) % n;
}

static const cs_x86_op *mem_operand(const cs_insn *in)
{
    const cs_x86 *x = &in->detail->x86;
    for (int i = 0; i < x->op_count; i++)
        if (x->operands[i].type == X86_OP_MEM)
            return &x->operands[i];
    return NULL;
}

static bool touches_memory(unsigned id)
{
    switch (id) {
    case X86_INS_LEA: case X86_INS_NOP: case X86_INS_PREFETCH: case X86_INS_PREFETCHNTA:
    case X86_INS_PREFETCHT0: case X86_INS_PREFETCHT1: case X86_INS_PREFETCHT2:
    case X86_INS_PREFETCHW:
        return false;
    default:
        return true;
    }
}

/* A base or index register we can read: none, rip (base only), or a GPR. */
static bool address_reg(csh h, x86_reg reg, bool rip_ok, char out[8])
{
    struct rvi_reg g;
    out[0] = '\0';
    if (reg == X86_REG_INVALID)
        return true;
    if (reg == X86_REG_RIP) {
        snprintf(out, 8, "rip");
        return rip_ok;
    }
    const char *name = cs_reg_name(h, reg);
    if (!name || !rvi_reg_lookup(name, &g) || g.xmm)
        return false;
    snprintf(out, 8, "%s", name);
    return true;
}

static bool memop_of(csh h, const cs_insn *in, struct rvi_memop *op)
{
    const cs_x86_op *m = mem_operand(in);
    if (!m || !touches_memory(in->id))
        return false;
    memset(op, 0, sizeof *op);
    if (!address_reg(h, m->mem.base, true, op->base) ||
        !address_reg(h, m->mem.index, false, op->index))
        return false;
    if (m->mem.segment == X86_REG_FS || m->mem.segment == X86_REG_GS)
        snprintf(op->segment, sizeof op->segment, "%s", cs_reg_name(h, m->mem.segment));
    op->scale = m->mem.scale;
    op->disp = m->mem.disp;
    op->next_ip = in->address + in->size;
    return true;
}

/* The operand size of REG where the instruction names it explicitly. */
static unsigned explicit_width(const cs_insn *in, uint16_t reg)
{
    const cs_x86 *x = &in->detail->x86;
    for (int i = 0; i < x->op_count; i++)
        if (x->operands[i].type == X86_OP_REG && x->operands[i].reg == reg)
            return x->operands[i].size * 8u;
    return 0;
}

/* The flippable registers IN reads, without duplicates; returns how many. */
static size_t read_regs(csh h, const cs_insn *in, struct rvi_reg *out)
{
    cs_regs rd, wr;
    uint8_t nrd = 0, nwr = 0;
    if (cs_regs_access(h, in, rd, &nrd, wr, &nwr) != CS_ERR_OK)
        return 0;
    size_t n = 0;
    for (unsigned i = 0; i < nrd; i++) {
        const char *name = cs_reg_name(h, rd[i]);
        struct rvi_reg g;
        bool dup = false;
        if (!name || !rvi_reg_lookup(name, &g))
            continue;
        for (size_t j = 0; j < n; j++)
            dup |= strcmp(out[j].name, g.name) == 0;
        if (dup)
            continue;
        unsigned w = explicit_width(in, rd[i]);
        if (g.xmm && w > 0 && w < g.width)
            g.width = w;
        out[n++] = g;
    }
    return n;
}

static bool is_candidate(csh h, const cs_insn *in, enum rvi_fault fault)
{
    struct rvi_memop op;
    struct rvi_reg regs[MAX_READ_REGS];
    return fault == RVI_FAULT_MEM ? memop_of(h, in, &op) : read_regs(h, in, regs) > 0;
}

static int push_cand(struct cands *c, uint32_t func, uint32_t off)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        struct cand *v = realloc(c->v, cap * sizeof *v);
        if (!v)
            return -1;
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = (struct cand){ func, off };
    return 0;
}

static uint8_t *read_code(int memfd, const struct rvi_func *f)
{
    uint8_t *buf = malloc(f->size);
    if (buf && pread(memfd, buf, f->size, (off_t)f->addr) != (ssize_t)f->size) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Walks one function's instructions; an undecodable byte is skipped. */
static int scan_func(csh h, cs_insn *in, const uint8_t *buf, const struct rvi_func *f,
                     uint32_t fi, enum rvi_fault fault, struct cands *c)
{
    const uint8_t *code = buf;
    size_t size = f->size;
    uint64_t addr = f->addr;
    while (size > 0) {
        if (!cs_disasm_iter(h, &code, &size, &addr, in)) {
            code++, size--, addr++;
            continue;
        }
        if (is_candidate(h, in, fault) && push_cand(c, fi, (uint32_t)(in->address - f->addr)) < 0)
            return -1;
    }
    return 0;
}

static int collect(csh h, pid_t pid, const struct rvi_funcs *funcs, enum rvi_fault fault,
                   struct cands *c, char *err, size_t errlen)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
    int memfd = open(path, O_RDONLY | O_CLOEXEC);
    if (memfd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    cs_insn *in = cs_malloc(h);
    int rc = in ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < funcs->n; i++) {
        uint8_t *buf = read_code(memfd, &funcs->v[i]);
        if (!buf) {
            snprintf(err, errlen, "cannot read the code of %s at %#llx", funcs->v[i].name,
                     (unsigned long long)funcs->v[i].addr);
            rc = -1;
            break;
        }
        rc = scan_func(h, in, buf, &funcs->v[i], (uint32_t)i, fault, c);
        free(buf);
    }
    if (in)
        cs_free(in, 1);
    close(memfd);
    return rc;
}

/* Decodes the chosen instruction again and fills in the fault's details. */
static int describe(csh h, pid_t pid, const struct rvi_funcs *funcs, const struct cand *cd,
                    enum rvi_fault fault, struct rng *r, struct rvi_choice *out)
{
    const struct rvi_func *f = &funcs->v[cd->func];
    char path[64];
    uint8_t code[16];
    snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
    int memfd = open(path, O_RDONLY | O_CLOEXEC);
    size_t len = f->size - cd->off < sizeof code ? f->size - cd->off : sizeof code;
    ssize_t got = memfd < 0 ? -1 : pread(memfd, code, len, (off_t)(f->addr + cd->off));
    if (memfd >= 0)
        close(memfd);
    cs_insn *in = NULL;
    if (got != (ssize_t)len || cs_disasm(h, code, len, f->addr + cd->off, 1, &in) != 1)
        return -1;
    out->func = cd->func;
    out->addr = in->address;
    snprintf(out->insn, sizeof out->insn, "%s%s%s", in->mnemonic, in->op_str[0] ? " " : "",
             in->op_str);
    int rc = 0;
    if (fault == RVI_FAULT_MEM) {
        rc = memop_of(h, in, &out->mem) ? 0 : -1;
    } else {
        struct rvi_reg regs[MAX_READ_REGS];
        size_t n = read_regs(h, in, regs);
        if (n == 0)
            rc = -1;
        else {
            out->reg = regs[rng_below(r, n)];
            out->bit = (int)rng_below(r, out->reg.width);
        }
    }
    cs_free(in, 1);
    return rc;
}

int rvi_pick(pid_t pid, const struct rvi_funcs *funcs, enum rvi_fault fault, uint64_t seed,
             struct rvi_choice *out, char *err, size_t errlen)
{
    csh h;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) {
        snprintf(err, errlen, "capstone: cannot open an x86-64 decoder");
        return -1;
    }
    cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
    struct cands c = { 0 };
    struct rng r = { seed };
    memset(out, 0, sizeof *out);
    int rc = collect(h, pid, funcs, fault, &c, err, errlen);
    if (rc == 0 && c.n == 0) {
        snprintf(err, errlen, "no candidate instruction: no instruction in the %zu function(s) %s",
                 funcs->n, fault == RVI_FAULT_MEM ? "accesses memory" : "reads a register");
        rc = -1;
    }
    if (rc == 0) {
        out->candidates = c.n;
        rc = describe(h, pid, funcs, &c.v[rng_below(&r, c.n)], fault, &r, out);
        if (rc < 0)
            snprintf(err, errlen, "cannot decode the chosen instruction again");
    }
    free(c.v);
    cs_close(&h);
    return rc;
}
