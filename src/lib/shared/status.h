/* status.h — a service instance's status page: what it is doing, and why it died.
 *
 * A small memfd revived creates for each instance and maps read-only; the
 * runtime writes it, each serving thread its own busy slot. The watchdog
 * looks at the oldest busy slot to find a request past its deadline; after a death, the crash record names the session and
 * request being served, which is how revived tells the culprit of a crash
 * from a bystander. The service may be the thing that is broken, so revived
 * treats every field as a claim to check, never as a fact.
 */
#ifndef RV_STATUS_H
#define RV_STATUS_H

#include <stdint.h>

#define RV_STATUS_MAGIC 0x54415453u /* "STAT" */

/* One per serving thread: slot 0 is the event loop's, then the workers'. */
#define RV_STATUS_SLOTS 16

struct rv_busy {
    uint64_t session;         /* session being served, 0 when idle */
    uint64_t seq;
    uint64_t since_ns;        /* CLOCK_MONOTONIC, 0 when idle */
};

struct rv_status_page {
    uint32_t magic;
    uint32_t crash_signal;    /* 0: no crash record */
    int32_t crash_code;       /* si_code */
    uint32_t crash_self;      /* the fault came from the process itself */
    uint64_t crash_session;
    uint64_t crash_seq;
    uint64_t crash_addr;
    struct rv_busy busy[RV_STATUS_SLOTS];
    char last_words[96];      /* rv_svc_fatal's sentence: why it exited, if it said */
    uint64_t ctl_done;        /* control messages from revived it has handled in full: a
                                 session's slab record is reused once its UNBIND is (slab.h) */
    uint64_t ring_scans;      /* looks the fast path's thread took at every ring (fastpath.c) */
};

/* The longest-running request of any thread: its start (0: all idle), and
 * in *oldest a copy of its slot. */
static inline uint64_t rv__status_oldest(const struct rv_status_page *st, struct rv_busy *oldest)
{
    uint64_t first = 0;
    for (int i = 0; i < RV_STATUS_SLOTS; i++) {
        uint64_t since = __atomic_load_n(&st->busy[i].since_ns, __ATOMIC_ACQUIRE);
        if (since && (!first || since < first)) {
            first = since;
            oldest->since_ns = since;
            oldest->session = st->busy[i].session;
            oldest->seq = st->busy[i].seq;
        }
    }
    return first;
}

#endif
