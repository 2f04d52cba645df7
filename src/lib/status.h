/* status.h — a service instance's status page: what it is doing, and why it died.
 *
 * A small memfd revived creates for each instance and maps read-only; the
 * runtime writes it. The watchdog reads busy_since_ns to find a request past
 * its deadline; after a death, the crash record names the session and
 * request being served, which is how revived tells the culprit of a crash
 * from a bystander. The service may be the thing that is broken, so revived
 * treats every field as a claim to check, never as a fact.
 */
#ifndef RV_STATUS_H
#define RV_STATUS_H

#include <stdint.h>

#define RV_STATUS_MAGIC 0x54415453u /* "STAT" */

struct rv_status_page {
    uint32_t magic;
    uint32_t crash_signal;    /* 0: no crash record */
    uint64_t busy_session;    /* session being served, 0 when idle */
    uint64_t busy_seq;
    uint64_t busy_since_ns;   /* CLOCK_MONOTONIC, 0 when idle */
    int32_t crash_code;       /* si_code */
    uint32_t crash_self;      /* the fault came from the process itself */
    uint64_t crash_session;
    uint64_t crash_seq;
    uint64_t crash_addr;
};

#endif
