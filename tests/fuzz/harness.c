/* harness.c — see harness.h. */
#include "harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool fuzz_next_msg(struct fuzz_input *in, uint8_t *sel, struct rv_msg *m)
{
    if (in->left < 1 + sizeof m->hdr)
        return false;
    *sel = in->p[0];
    memcpy(&m->hdr, in->p + 1, sizeof m->hdr);
    in->p += 1 + sizeof m->hdr;
    in->left -= 1 + sizeof m->hdr;
    size_t n = m->hdr.len < in->left ? m->hdr.len : in->left;
    n = n < sizeof m->body ? n : sizeof m->body;
    memcpy(m->body, in->p, n);
    in->p += n;
    in->left -= n;
    m->hdr.len = (uint32_t)n;
    m->nfds = 0;
    return true;
}

bool fuzz_msg_framed(const struct rv_msg *m, size_t max_body)
{
    static uint8_t datagram[sizeof m->hdr + sizeof m->body];
    memcpy(datagram, &m->hdr, sizeof m->hdr);
    memcpy(datagram + sizeof m->hdr, m->body, m->hdr.len);
    return rv__wire_check(datagram, sizeof m->hdr + m->hdr.len, max_body) == 0;
}

bool fuzz_put_msg(uint8_t *buf, size_t *len, size_t cap, uint8_t sel, uint8_t type, uint64_t seq, uint32_t op,
                  int32_t status, const void *payload, size_t plen)
{
    struct rv_hdr h = rv__hdr_make(type, seq, op, status, plen);
    if (*len + 1 + sizeof h + plen > cap)
        return false;
    buf[*len] = sel;
    memcpy(buf + *len + 1, &h, sizeof h);
    if (plen)
        memcpy(buf + *len + 1 + sizeof h, payload, plen);
    *len += 1 + sizeof h + plen;
    return true;
}

size_t fuzz_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        abort();
    size_t n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* Present only when linked: libFuzzer's mutator, and the sanitizers'
 * report channel. */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max) __attribute__((weak));
void __sanitizer_set_report_fd(void *fd) __attribute__((weak));
void __sanitizer_report_error_summary(const char *summary) __attribute__((weak));

static int report_fd = STDERR_FILENO;

void fuzz_quiet(void)
{
    if (LLVMFuzzerMutate || report_fd != STDERR_FILENO)
        return;
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    report_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0);
    if (null < 0 || report_fd < 0 || dup2(null, STDERR_FILENO) < 0)
        abort();
    close(null);
    if (__sanitizer_set_report_fd)
        __sanitizer_set_report_fd((void *)(intptr_t)report_fd);
}

void fuzz_expect_fds(const char *harness, size_t expected, const char *what)
{
    size_t n = fuzz_count_fds();
    if (n == expected)
        return;
    DIR *d = opendir("/proc/self/fd");
    for (struct dirent *e; d && (e = readdir(d));) {
        char path[300], target[256];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t k = readlink(path, target, sizeof target - 1);
        target[k > 0 ? k : 0] = '\0';
        dprintf(report_fd, "  fd %s: %s\n", e->d_name, target);
    }
    fuzz_fail(harness, "%s: %zu entries in /proc/self/fd, %zu expected", what, n, expected);
}

void fuzz_fail(const char *harness, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(why, sizeof why, "%s: ", harness);
    vsnprintf(why + n, sizeof why - (size_t)n, fmt, ap);
    va_end(ap);
    dprintf(report_fd, "%s\n", why);
    if (LLVMFuzzerMutate && __sanitizer_report_error_summary)
        __sanitizer_report_error_summary(why);   /* libFuzzer may have closed our stderr */
    abort();
}
