/* util.c — see util.h. */
#include "util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

uint64_t rv__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int rv__set_nonblock(int fd, int on)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return -1;
    return fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

void rv__log_line(enum rv_log_level level, const char *prefix, const char *fmt, va_list ap)
{
    char line[1024];
    int start = snprintf(line, sizeof line, "<%d>", level);
    int n = start + snprintf(line + start, sizeof line - (size_t)start, "%s: ", prefix);
    n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    const char *sink = getenv("REVIVE_LOG");
    if (sink && strcmp(sink, "syslog") == 0) {
        line[n] = '\0';
        syslog(LOG_DAEMON | (level & 7), "%s", line + start);
        return;
    }
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}
