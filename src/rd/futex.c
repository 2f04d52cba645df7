/* futex.c — the runtime's two blocking waits (a rollback waiting for
 * another thread's undo, a domain waiting for a mutex) sleep on a futex, so
 * no wait ever polls and a cascade signal can cut one short by changing the
 * word. Process-private futexes: the runtime's state is per process.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rd_internal.h"

/* Sleeps while *word == val; returns on a wake-up, a signal, or at once if
 * the word already changed. The caller re-checks its condition. */
void rd_futex_wait(int *word, int val)
{
    int saved = errno;
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
    errno = saved;
}

void rd_futex_wake(int *word)
{
    int saved = errno;
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
    errno = saved;
}
