/* slab.h — a service's slab: one memfd that holds every session's SSR and
 * journal (the layout is src/lib/shared/journal.h's).
 *
 * A session used to cost revived an SSR memfd and a journal memfd, and an
 * instance two mappings: the descriptor limit stopped revived at a few
 * thousand sessions, and vm.max_map_count a service at some tens of
 * thousands. The slab is created once per service, sized for the manifest's
 * max_sessions and sealed against resizing; it is sparse, so a record costs
 * memory only while a session uses it. revived maps its journal area
 * read-only (to see requests waiting and deaths inside a recv); each instance
 * maps the whole slab once.
 *
 * A record goes back to the slab when its session ends, but not while the
 * active instance may still touch it: it may be finishing the session's
 * last request (its reply is sent before its journal's last words are
 * written) until it has handled the session's UNBIND. So a session whose
 * UNBIND went to the active instance is retired with the number of
 * control messages sent up to it, and reclaimed once the instance's status
 * page says it has handled that many (no acknowledgement message, which
 * could deadlock a control channel both ends write) or it has died. A
 * standby never writes a record. A record handed back is punched out of
 * the memfd: its memory is freed and it reads as zeros. */
#ifndef RV_SLAB_H
#define RV_SLAB_H

#include <stddef.h>
#include <stdint.h>
#include "journal.h"
#include "manifest.h"

struct slab_retired {
    uint32_t record;
    uint64_t upto;      /* the active instance handles its UNBIND as message number upto */
};

struct slab {
    int fd;
    struct rv_slab_geom geom;
    const uint8_t *journals;      /* read-only view of the journal area */
    uint32_t fresh;               /* records from here on were never used */
    uint32_t *free;               /* records handed back, a stack */
    size_t nfree, capfree;
    struct slab_retired *retired; /* oldest from `first` on */
    size_t first, nretired, capretired;
};

/* Creates the slab of service c; -1 with a sentence in why. */
int slab_open(struct slab *sl, const struct rv_service_conf *c, char *why, size_t whylen);
void slab_close(struct slab *sl);
/* A record for a new session, once the retired records the active
 * instance has let go of (it has handled `done` control messages; a
 * service with no active instance: UINT64_MAX) are back; -1 when
 * max_sessions are in use or retired. */
long slab_take(struct slab *sl, uint64_t done);
/* The record of a session that has ended and that no instance can touch. */
void slab_give_back(struct slab *sl, uint32_t record);
/* The record of a session whose UNBIND is the active instance's control
 * message number upto. */
void slab_retire(struct slab *sl, uint32_t record, uint64_t upto);
/* The active instance died: no retired record is touched any more. */
void slab_release_all(struct slab *sl);
/* The journal of a record, read-only: the service's claims. */
const struct rv_journal *slab_journal(const struct slab *sl, uint32_t record);

#endif
