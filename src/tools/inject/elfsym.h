/* elfsym.h — the functions an experiment may target, found in ELF symbol
 * tables and placed at their run-time addresses in one process. */
#ifndef RV_INJECT_ELFSYM_H
#define RV_INJECT_ELFSYM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct rvi_func {
    char *name;
    char *module;       /* the mapped file's path */
    uint64_t addr;      /* run-time address: load bias + st_value */
    uint64_t size;
};

struct rvi_funcs {
    struct rvi_func *v;
    size_t n, cap;
};

/* Collects the function symbols of the given modules (paths or basenames of
 * files mapped in PID; none: its main executable) whose names match one of
 * the comma-separated globs in FUNCTIONS (NULL: all), in module order and
 * address order within a module, so a seed picks the same one every run.
 * Every pattern must match something. Returns 0, or -1 with ERR filled. */
int rvi_resolve(pid_t pid, const char *const *modules, size_t nmodules, const char *functions,
                struct rvi_funcs *out, char *err, size_t errlen);
void rvi_funcs_free(struct rvi_funcs *f);

#endif
