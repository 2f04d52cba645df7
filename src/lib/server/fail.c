/* fail.c — see fail.h. */
#include "fail.h"
#include "revive/server.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *log_name = "service";

void rv__log_as(const char *name) { log_name = name; }

static void log_line(enum rv_log_level level, const char *fmt, va_list ap)
{
    char prefix[96];
    snprintf(prefix, sizeof prefix, "%s[%d]", log_name, (int)getpid());
    rv__log_line(level, prefix, fmt, ap);
}

void rv__log(enum rv_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(level, fmt, ap);
    va_end(ap);
}

void rv_svc_log(int priority, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(priority < RV_LOG_CRIT ? RV_LOG_CRIT : priority > RV_LOG_DEBUG ? RV_LOG_DEBUG : (enum rv_log_level)priority,
             fmt, ap);
    va_end(ap);
}

void rv__fail_stop(const char *why)
{
    rv__log(RV_LOG_CRIT, "%s: failing stop, revived restarts this instance", why);
    abort();
}
