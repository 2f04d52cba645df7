/* revive/base.h — the error codes and limits clients and services share.
 *
 * Calls return 0 or a negative code. The codes are part of the wire
 * protocol (a reply's status carries them), so their values never change,
 * and the ranges never overlap:
 *
 *   -1 .. -99        revive's own (RV_E*, below)
 *   -200 .. -399     the recovery-domain runtime's (RD_E*, revive/rd.h)
 *   -1000 and below  a service's own: RV_EAPP_BASE - n for its code n
 *
 * rv_strerror() turns one into a sentence fit for a log line.
 */
#ifndef REVIVE_BASE_H
#define REVIVE_BASE_H

/* The largest request or reply payload, in bytes. */
#define RV_MAX_PAYLOAD 4096
/* A service's, task's or dataspace's name: at most RV_NAME_MAX - 1 bytes. */
#define RV_NAME_MAX 64
/* A session's open arguments: at most RV_ARGS_MAX bytes. */
#define RV_ARGS_MAX 1024

enum rv_error {
    RV_OK = 0,
    RV_ECONNECT = -1,   /* revived's socket cannot be reached */
    RV_EPROTO = -2,     /* a malformed or unexpected message */
    RV_ENOSVC = -3,     /* no service of that name */
    RV_EQUOTA = -4,     /* the task's SSR quota is exhausted */
    RV_EFAILED = -5,    /* the service gave up (restart intensity exceeded) */
    RV_EPOISON = -6,    /* the request crashed the service twice */
    RV_ELOST = -7,      /* the session's state was corrupt and could not be repaired */
    RV_ETOOBIG = -8,    /* a request or reply exceeds RV_MAX_PAYLOAD */
    RV_EINVAL = -9,     /* bad arguments */
    RV_EIO = -10,       /* a system call failed; errno says more */
    RV_ECLOSED = -11,   /* the session was closed by revived */
    RV_EAPP = -12,      /* the service's handler reported an error */
    RV_ESTOPPED = -13,  /* the service is stopped */
    RV_ENOMEM = -14,    /* out of memory or descriptors */
    RV_EBUSY = -15,     /* revived refused: too many sessions or tasks */
    RV_EPERM = -16,     /* the caller may not do this */
    RV_EREVOKED = -17,  /* the service restarted without keeping state (state = stateless) */
    RV_EFAULT = -18,    /* the request faulted twice; its effects were rolled back (tier 1) */
    /* A service's own error codes are RV_EAPP_BASE and below (see above). */
    RV_EAPP_BASE = -1000,
};

const char *rv_strerror(int err);

/* The errno closest to a code, for a client library that speaks POSIX: a
 * service's own code RV_EAPP_BASE - e gives e (a service whose codes are
 * errno values: fs, blk); a poisoned or faulted request EIO; a session that
 * ended (lost, closed, revoked, its service failed or stopped) ENOTCONN;
 * RV_ETOOBIG EMSGSIZE; RV_ENOMEM ENOMEM; RV_EQUOTA EDQUOT; RV_EPERM EPERM;
 * RV_EINVAL EINVAL; anything else EIO. 0 for 0. */
int rv_errno(int err);

#endif
