/* filter.c — see filter.h. */
#include "filter.h"

#include <errno.h>
#include <linux/filter.h>
#include <sched.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "memfd.h"

/* Stands for the instance's pid in the compiled program until a copy is
 * made for one instance: a value no pid, system call number, flag or
 * action of the filter has. */
#define FILTER_PID_MARK 0x7e57ab1eu
#define ASKED_MAX 8192

static int allow_name(scmp_filter_ctx f, const char *name, bool known, char *why, size_t whylen)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR && !known)
        return 0;
    int rc = nr == __NR_SCMP_ERROR ? -EINVAL : seccomp_rule_add(f, SCMP_ACT_ALLOW, nr, 0);
    if (rc < 0)
        snprintf(why, whylen, "system call '%s': %s", name, nr == __NR_SCMP_ERROR ? "unknown" : strerror(-rc));
    return rc < 0 ? -1 : 0;
}

/* Blank-separated names of the first len bytes of list; known: a name
 * this machine lacks is an error, else skipped (the runtime's list names
 * calls of every architecture). */
static int allow_words(scmp_filter_ctx f, const char *list, size_t len, bool known, char *why, size_t whylen)
{
    char name[64];
    for (size_t i = 0; i < len;) {
        size_t n = 0;
        while (i + n < len && list[i + n] != ' ')
            n++;
        if (n >= sizeof name) {
            snprintf(why, whylen, "a system call name of %zu bytes", n);
            return -1;
        }
        memcpy(name, list + i, n);
        name[n] = '\0';
        if (n && allow_name(f, name, known, why, whylen) < 0)
            return -1;
        i += n + 1;
    }
    return 0;
}

/* An argument compared with a value (under a mask, for MASKED_EQ), spelled
 * out: libseccomp's SCMP_An macros leave a field to the compiler, which
 * clang's -Wmissing-field-initializers refuses. */
static struct scmp_arg_cmp arg_is(unsigned arg, enum scmp_compare op, scmp_datum_t a, scmp_datum_t b)
{
    return (struct scmp_arg_cmp){ .arg = arg, .op = op, .datum_a = a, .datum_b = b };
}

/* The calls allowed with their arguments checked. clone3 passes its flags
 * in memory, which a filter cannot read: it fails with ENOSYS, and glibc
 * falls back to clone. Resource limits may be read, not set (glibc's
 * pthread_getattr_np reads the stack's, for recovery domains). An ioctl
 * only for what stdio and the runtime ask of a descriptor (isatty: TCGETS),
 * so a service whose standard streams are a terminal cannot push input
 * into it (TIOCSTI). A signal only to the instance itself. */
static int allow_narrowed(scmp_filter_ctx f)
{
    const scmp_datum_t self = FILTER_PID_MARK;
    int rc = 0;
    rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, arg_is(0, SCMP_CMP_EQ, AF_UNIX, 0));
    rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1, arg_is(0, SCMP_CMP_EQ, self, 0));
    rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1, arg_is(0, SCMP_CMP_EQ, self, 0));
    rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                           arg_is(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
    rc |= seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 2, arg_is(0, SCMP_CMP_EQ, 0, 0),
                           arg_is(2, SCMP_CMP_EQ, 0, 0));
    rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, arg_is(1, SCMP_CMP_EQ, TCGETS, 0));
    return rc ? -1 : 0;
}

/* The runtime's names, a newline, the service's: letters, digits, '_'
 * and blanks, nothing else. */
static const char *split(const char *asked, size_t len)
{
    const char *nl = memchr(asked, '\n', len);
    for (size_t i = 0; nl && i < len; i++) {
        char ch = asked[i];
        if (!(ch == ' ' || ch == '_' || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              asked + i == nl))
            return NULL;
    }
    return nl;
}

static int build(scmp_filter_ctx f, const struct rv_service_conf *c, const char *asked, size_t len, char *why,
                 size_t whylen)
{
    const char *nl = len <= ASKED_MAX ? split(asked, len) : NULL;
    if (!nl) {
        snprintf(why, whylen, "its HELLO's list of system calls is malformed");
        return -1;
    }
    size_t rt = (size_t)(nl - asked);
    if (allow_words(f, asked, rt, false, why, whylen) < 0 ||
        allow_words(f, nl + 1, len - rt - 1, true, why, whylen) < 0 ||
        (c->syscalls && allow_words(f, c->syscalls, strlen(c->syscalls), true, why, whylen) < 0))
        return -1;
    if (allow_narrowed(f) < 0) {
        snprintf(why, whylen, "cannot add the rules on arguments");
        return -1;
    }
    int rc = seccomp_attr_set(f, SCMP_FLTATR_CTL_OPTIMIZE, 2);   /* a binary tree, not a list of ~90 */
    if (rc < 0)
        snprintf(why, whylen, "cannot ask libseccomp for a binary tree: %s", strerror(-rc));
    return rc < 0 ? -1 : 0;
}

/* libseccomp writes the program to a descriptor; read it back whole. */
static int export(scmp_filter_ctx f, struct filter_cache *cache, char *why, size_t whylen)
{
    int fd = memfd_create("rv-filter-build", MFD_CLOEXEC);
    off_t size = -1;
    void *prog = NULL;
    if (fd >= 0 && seccomp_export_bpf(f, fd) == 0 && (size = lseek(fd, 0, SEEK_END)) > 0 &&
        size % sizeof(struct sock_filter) == 0 && (prog = malloc((size_t)size)) &&
        pread(fd, prog, (size_t)size, 0) != size) {
        free(prog);
        prog = NULL;
    }
    if (fd >= 0)
        close(fd);
    if (!prog) {
        snprintf(why, whylen, "cannot export the compiled filter");
        return -1;
    }
    free(cache->prog);
    cache->prog = prog;
    cache->len = (size_t)size / sizeof(struct sock_filter);
    return 0;
}

/* libseccomp asks the kernel which actions it has, with the seccomp system
 * call; where that cannot be asked (valgrind knows no such call), it would
 * refuse SCMP_ACT_KILL_PROCESS. The filter is only compiled here and
 * loaded by the instance, whose kernel refuses it with a clear error if it
 * lacks the action (Linux 4.14 added it), so compile for API level 3. */
static scmp_filter_ctx new_filter(void)
{
    if (seccomp_api_get() < 3)
        seccomp_api_set(3);
    return seccomp_init(SCMP_ACT_KILL_PROCESS);
}

static int compile(struct filter_cache *cache, const struct rv_service_conf *c, const char *asked, size_t len,
                   char *why, size_t whylen)
{
    scmp_filter_ctx f = new_filter();
    if (!f) {
        snprintf(why, whylen, "seccomp_init failed");
        return -1;
    }
    int rc = build(f, c, asked, len, why, whylen);
    if (rc == 0)
        rc = export(f, cache, why, whylen);
    seccomp_release(f);
    free(cache->asked);
    cache->asked = rc == 0 ? strndup(asked, len) : NULL;
    if (rc == 0 && !cache->asked)
        snprintf(why, whylen, "out of memory");
    return cache->asked ? 0 : -1;
}

/* This instance's copy: its pid where the mark is, in the comparisons of
 * an argument with a constant. */
static int write_for(const struct filter_cache *cache, pid_t pid, char *why, size_t whylen)
{
    size_t bytes = cache->len * sizeof *cache->prog;
    int fd = sealed_memfd("rv-filter", bytes);
    struct sock_filter *p = fd < 0 ? MAP_FAILED : mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        snprintf(why, whylen, "cannot hand the filter over: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    unsigned marks = 0;
    for (size_t i = 0; i < cache->len; i++) {
        p[i] = cache->prog[i];
        if (p[i].code == (BPF_JMP | BPF_JEQ | BPF_K) && p[i].k == FILTER_PID_MARK) {
            p[i].k = (uint32_t)pid;
            marks++;
        }
    }
    munmap(p, bytes);
    if (!marks) {   /* kill and tgkill (which may share one comparison): compiled otherwise than expected */
        snprintf(why, whylen, "the compiled filter does not compare the pid as expected");
        close(fd);
        return -1;
    }
    return fd;
}

int filter_for(struct filter_cache *cache, const struct rv_service_conf *c, const char *asked, size_t len, pid_t pid,
               char *why, size_t whylen)
{
    bool same = cache->asked && strlen(cache->asked) == len && memcmp(cache->asked, asked, len) == 0;
    if (!same && compile(cache, c, asked, len, why, whylen) < 0)
        return -1;
    return write_for(cache, pid, why, whylen);
}

void filter_cache_free(struct filter_cache *cache)
{
    free(cache->asked);
    free(cache->prog);
    *cache = (struct filter_cache){ 0 };
}
