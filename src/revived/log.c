/* log.c — see log.h: a level filter over librevive's rv__log_line(). */
#include "log.h"

#include <stdarg.h>
#include <strings.h>
#include "util.h"

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

void rv_log(enum rv_log_level level, const char *fmt, ...)
{
    if ((int)level > max_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    rv__log_line(level, "revived", fmt, ap);
    va_end(ap);
}
