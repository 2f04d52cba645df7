/* fail.c — see fail.h. */
#include "fail.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *log_name = "service";

void rv__log_as(const char *name) { log_name = name; }

void rv__log(enum rv_log_level level, const char *fmt, ...)
{
    char prefix[96];
    snprintf(prefix, sizeof prefix, "%s[%d]", log_name, (int)getpid());
    va_list ap;
    va_start(ap, fmt);
    rv__log_line(level, prefix, fmt, ap);
    va_end(ap);
}

void rv__fail_stop(const char *why)
{
    rv__log(RV_LOG_CRIT, "%s: failing stop, revived restarts this instance", why);
    abort();
}
