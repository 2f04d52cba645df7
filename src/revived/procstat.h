/* procstat.h — the few fields of /proc/PID/stat revived reads of an
 * instance: its state, its kernel flags (PF_EXITING: it has begun to exit
 * and runs no code of its own again), its thread count, its address
 * space's size (0 once the exit has released its memory) and its exit code
 * (in waitpid's form, set before the memory is released). */
#ifndef RV_PROCSTAT_H
#define RV_PROCSTAT_H

#include <sys/types.h>

#define PROCSTAT_PF_EXITING 0x4u   /* include/linux/sched.h */

struct procstat {
    char state;                    /* R, S, D, Z ... */
    unsigned long flags;
    long threads;
    unsigned long long vsize;
    int exit_code;
};

/* Parses the text of a /proc/PID/stat: 0, or -1 if it is not one. The
 * command name (field 2) is the process's own choice, parentheses and
 * spaces included: fields are counted from its last ')'. */
int procstat_parse(const char *text, struct procstat *ps);
/* Reads and parses /proc/pid/stat: 0, or -1 (gone, or unreadable). */
int procstat_read(pid_t pid, struct procstat *ps);

#endif
