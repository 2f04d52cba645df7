/* reserve.h — descriptors revived keeps back for its own duties.
 *
 * Clients can make revived hold descriptors (each session costs one), and
 * a local user with many processes can drive it to its RLIMIT_NOFILE. That
 * must cost new clients their opens, never the restart of a service: a
 * restart that fails for want of a descriptor would fail every session.
 * So revived holds a few descriptors open on /dev/null and gives them back
 * just before it needs them itself (starting an instance, building its
 * seccomp filter), or to accept and
 * refuse a connection it has no room for (the classic spare-descriptor
 * trick, so the listening socket does not spin the loop). */
#ifndef RV_RESERVE_H
#define RV_RESERVE_H

int reserve_init(void);
/* Frees the reserve, for an action that opens descriptors... */
void reserve_release(void);
/* ...and takes it back afterwards (as far as descriptors are free). */
void reserve_refill(void);
/* Accepts one pending connection on listen_fd and closes it, using a spare
 * descriptor kept for nothing else. Returns 0, or -1 if even that failed. */
int reserve_refuse(int listen_fd);
void reserve_fini(void);

#endif
