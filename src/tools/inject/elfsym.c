/* elfsym.c — from symbol names to run-time addresses.
 *
 * A module is a file mapped in the target (its main executable, or a library
 * named by path or basename). Its function symbols come from both symbol
 * tables (.symtab when the file is not stripped, .dynsym always), read with
 * libelf. Where the file sits in memory comes from /proc/PID/maps: the first
 * mapping of the file, at file offset o, holds the segment byte whose link-time
 * address is vaddr(o), so the load bias is start - vaddr(o). For a non-PIE
 * executable that is 0, for a PIE or a library it is the ASLR base. */
#include "elfsym.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_PATTERNS 64

struct mapping {
    char path[PATH_MAX];
    uint64_t start, offset;
};

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* "libc" and "libc.so" both name /usr/lib/x86_64-linux-gnu/libc.so.6. */
static bool module_matches(const char *want, const char *path)
{
    if (strchr(want, '/'))
        return strcmp(want, path) == 0;
    const char *b = base_name(path);
    size_t n = strlen(want);
    return strncmp(b, want, n) == 0 && (b[n] == '\0' || b[n] == '.' || b[n] == '-');
}

/* The executable's path; the kernel appends " (deleted)" to a replaced file. */
static int exe_path(pid_t pid, char *out, size_t len)
{
    char link[64];
    snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
    ssize_t n = readlink(link, out, len - 1);
    if (n < 0)
        return -1;
    out[n] = '\0';
    char *del = strstr(out, " (deleted)");
    if (del && del[10] == '\0')
        *del = '\0';
    return 0;
}

/* The first (lowest) mapping of the module named WANT (NULL: the executable). */
static int find_mapping(pid_t pid, const char *want, struct mapping *m, char *err, size_t errlen)
{
    char exe[PATH_MAX], file[64], line[PATH_MAX + 128];
    if (!want) {
        if (exe_path(pid, exe, sizeof exe) < 0) {
            snprintf(err, errlen, "cannot read /proc/%d/exe: %s", (int)pid, strerror(errno));
            return -1;
        }
    }
    snprintf(file, sizeof file, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(file, "re");
    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", file, strerror(errno));
        return -1;
    }
    int found = -1;
    while (found < 0 && fgets(line, sizeof line, f)) {
        uint64_t start, end, off;
        int pathpos = 0;
        if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64 " %*s %*s %n", &start, &end, &off,
                   &pathpos) < 3 || pathpos == 0 || line[pathpos] != '/')
            continue;
        line[strcspn(line, "\n")] = '\0';
        const char *path = line + pathpos;
        if (want ? module_matches(want, path) : strcmp(exe, path) == 0) {
            snprintf(m->path, sizeof m->path, "%s", path);
            m->start = start;
            m->offset = off;
            found = 0;
        }
    }
    fclose(f);
    if (found < 0)
        snprintf(err, errlen, "module '%s' is not mapped in process %d", want ? want : exe,
                 (int)pid);
    return found;
}

/* Load bias of ELF given its first mapping M (see the top comment). */
static int load_bias(Elf *elf, const struct mapping *m, uint64_t *bias)
{
    size_t n;
    if (elf_getphdrnum(elf, &n) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
            continue;
        uint64_t first = ph.p_offset & ~(uint64_t)0xfff;
        if (m->offset >= first && m->offset < ph.p_offset + ph.p_filesz) {
            *bias = m->start - (ph.p_vaddr - ph.p_offset + m->offset);
            return 0;
        }
    }
    return -1;
}

struct patterns {
    char *buf;
    char *pat[MAX_PATTERNS];
    bool hit[MAX_PATTERNS];
    size_t n;
};

static int split_patterns(const char *functions, struct patterns *p)
{
    memset(p, 0, sizeof *p);
    p->buf = strdup(functions ? functions : "*");
    if (!p->buf)
        return -1;
    for (char *save = NULL, *t = strtok_r(p->buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (p->n == MAX_PATTERNS)
            return -1;
        p->pat[p->n++] = t;
    }
    return p->n ? 0 : -1;
}

static bool name_matches(struct patterns *p, const char *name)
{
    bool any = false;
    for (size_t i = 0; i < p->n; i++)
        if (fnmatch(p->pat[i], name, 0) == 0)
            any = p->hit[i] = true;
    return any;
}

static int push_func(struct rvi_funcs *out, const char *name, const char *module, uint64_t addr,
                     uint64_t size)
{
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 64;
        struct rvi_func *v = realloc(out->v, cap * sizeof *v);
        if (!v)
            return -1;
        out->v = v;
        out->cap = cap;
    }
    struct rvi_func *f = &out->v[out->n];
    f->name = strdup(name);
    f->module = strdup(module);
    f->addr = addr;
    f->size = size;
    if (!f->name || !f->module) {
        free(f->name);
        free(f->module);
        return -1;
    }
    out->n++;
    return 0;
}

/* Defined function symbols of one symbol table that match the patterns. */
static int scan_symtab(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, const struct mapping *m,
                       uint64_t bias, struct patterns *p, struct rvi_funcs *out)
{
    Elf_Data *d = elf_getdata(scn, NULL);
    if (!d || sh->sh_entsize == 0)
        return 0;
    size_t count = sh->sh_size / sh->sh_entsize;
    for (size_t i = 0; i < count; i++) {
        GElf_Sym s;
        if (!gelf_getsym(d, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC ||
            s.st_shndx == SHN_UNDEF || s.st_size == 0)
            continue;
        const char *name = elf_strptr(elf, sh->sh_link, s.st_name);
        if (name && *name && name_matches(p, name) &&
            push_func(out, name, m->path, bias + s.st_value, s.st_size) < 0)
            return -1;
    }
    return 0;
}

static int cmp_func(const void *a, const void *b)
{
    const struct rvi_func *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Sorts OUT[from..] by address and keeps one name per address: .symtab and
 * .dynsym repeat each other, and aliases share an address. */
static void sort_dedup(struct rvi_funcs *out, size_t from)
{
    if (out->n == from)
        return;
    qsort(out->v + from, out->n - from, sizeof *out->v, cmp_func);
    size_t w = from;
    for (size_t r = from; r < out->n; r++) {
        if (w > from && out->v[w - 1].addr == out->v[r].addr) {
            free(out->v[r].name);
            free(out->v[r].module);
            continue;
        }
        out->v[w++] = out->v[r];
    }
    out->n = w;
}

static int scan_module(pid_t pid, const char *want, struct patterns *p, struct rvi_funcs *out,
                       char *err, size_t errlen)
{
    struct mapping m;
    if (find_mapping(pid, want, &m, err, errlen) < 0)
        return -1;
    int fd = open(m.path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", m.path, strerror(errno));
        return -1;
    }
    Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
    uint64_t bias;
    int rc = -1;
    if (!elf || elf_kind(elf) != ELF_K_ELF || load_bias(elf, &m, &bias) < 0) {
        snprintf(err, errlen, "%s: not a loadable ELF file (%s)", m.path, elf_errmsg(-1));
        goto out;
    }
    size_t from = out->n;
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
            continue;
        if (scan_symtab(elf, scn, &sh, &m, bias, p, out) < 0) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    sort_dedup(out, from);
    rc = 0;
out:
    if (elf)
        elf_end(elf);
    close(fd);
    return rc;
}

static int check_all_matched(const struct patterns *p, char *err, size_t errlen)
{
    for (size_t i = 0; i < p->n; i++) {
        if (!p->hit[i]) {
            snprintf(err, errlen, "no such symbol: no function symbol matches '%s'", p->pat[i]);
            return -1;
        }
    }
    return 0;
}

int rvi_resolve(pid_t pid, const char *const *modules, size_t nmodules, const char *functions,
                struct rvi_funcs *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct patterns p;
    elf_version(EV_CURRENT);
    if (split_patterns(functions, &p) < 0) {
        snprintf(err, errlen, "bad function list '%s' (at most %d comma-separated patterns)",
                 functions ? functions : "", MAX_PATTERNS);
        free(p.buf);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < (nmodules ? nmodules : 1); i++)
        rc = scan_module(pid, nmodules ? modules[i] : NULL, &p, out, err, errlen);
    if (rc == 0)
        rc = check_all_matched(&p, err, errlen);
    free(p.buf);
    if (rc < 0)
        rvi_funcs_free(out);
    return rc;
}

void rvi_funcs_free(struct rvi_funcs *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].name);
        free(f->v[i].module);
    }
    free(f->v);
    memset(f, 0, sizeof *f);
}
