/* log.c — see log.h. One write() per line so concurrent writers to the same
 * stderr never interleave inside a line. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static int max_level = RV_LOG_NOTICE;

void rv_log_set_level(int level) { max_level = level; }

int rv_log_parse_level(const char *s)
{
    static const char *names[] = { "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug" };
    for (int i = 0; i < 8; i++)
        if (strcasecmp(s, names[i]) == 0)
            return i;
    if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
        return s[0] - '0';
    return -1;
}

void rv_log(int level, const char *fmt, ...)
{
    if (level > max_level)
        return;
    char line[1024];
    int n = snprintf(line, sizeof line, "<%d>revived: ", level);
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}
