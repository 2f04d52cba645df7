/* landlock.h — Landlock, the kernel's sandbox for unprivileged processes,
 * as revived puts a service in it: which files it may read or write
 * (beneath a few paths), no TCP, no signal and no abstract socket to a
 * process outside its domain. The child that becomes the service enters
 * the domain between clone and exec (launch.c); nothing here is kept in
 * revived.
 *
 * Best effort by ABI: the running kernel's ABI decides what is restricted
 * (ABI 1: files; 2: renames across directories; 3: truncation; 4: TCP;
 * 5: device ioctls; 6: signals and abstract sockets), and a kernel without
 * Landlock restricts nothing (landlock_abi() returns 0). Debian 12's
 * headers know ABI 1 and 2 only: what later ABIs added is defined in
 * landlock.c, from the kernel's uapi. */
#ifndef RV_LANDLOCK_H
#define RV_LANDLOCK_H

#include <stddef.h>
#include <stdint.h>

/* What a rule allows beneath its path (a subset of a file's rights when
 * the path is a file). */
enum landlock_grant { LANDLOCK_READ, LANDLOCK_EXEC, LANDLOCK_WRITE };

struct landlock_rule {
    const char *path;            /* absolute; a path that is gone is skipped */
    enum landlock_grant grant;
};

struct landlock_plan {
    int abi;                     /* landlock_abi(); 0: nothing to do */
    const struct landlock_rule *rules;
    size_t nrules;
};

/* The running kernel's Landlock ABI, asked once; 0 without Landlock. */
int landlock_abi(void);
/* Restricts the calling process to p's rules, for good (and whatever it
 * executes next). Only raw system calls: safe in a child that shares
 * revived's memory (launch.c). 0, or -errno. */
int landlock_enter(const struct landlock_plan *p);

#endif
