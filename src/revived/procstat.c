/* procstat.c — see procstat.h. The kernel writes the line; only the command
 * name in it is the process's, which is why parsing starts after it. */
#include "procstat.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Field numbers of proc(5), 1-based; field 3 is the first after the name. */
enum { F_STATE = 3, F_FLAGS = 9, F_THREADS = 20, F_VSIZE = 23, F_EXIT_CODE = 52 };

int procstat_parse(const char *text, struct procstat *ps)
{
    const char *p = strrchr(text, ')');
    if (!p || p[1] != ' ')
        return -1;
    p += 2;
    int got = 0;
    for (int field = F_STATE; field <= F_EXIT_CODE && *p; field++) {
        char *end;
        if (field == F_STATE) {
            ps->state = *p;
            end = (char *)p + 1;
        } else {
            long long v = strtoll(p, &end, 10);
            if (end == p)
                return -1;
            if (field == F_FLAGS)
                ps->flags = (unsigned long)v;
            else if (field == F_THREADS)
                ps->threads = (long)v;
            else if (field == F_VSIZE)
                ps->vsize = (unsigned long long)v;
            else if (field == F_EXIT_CODE)
                ps->exit_code = (int)v;
        }
        got = field;
        if (*end != ' ' && *end != '\n' && *end != '\0')
            return -1;
        p = *end == ' ' ? end + 1 : end;
    }
    return got == F_EXIT_CODE ? 0 : -1;
}

int procstat_read(pid_t pid, struct procstat *ps)
{
    char path[32], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    return procstat_parse(buf, ps);
}
