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
 * A record goes back to the slab when its session ends, and may go to the
 * next session at once: an instance writes no session's record after it
 * has read the session's UNBIND (its runtime waits for a worker serving
 * it), and the next session's BIND comes after that UNBIND on the same
 * channel; a standby never writes one. A record handed back is punched
 * out of the memfd: its memory is freed and it reads as zeros. */
#ifndef RV_SLAB_H
#define RV_SLAB_H

#include <stddef.h>
#include <stdint.h>
#include "journal.h"
#include "manifest.h"

struct slab {
    int fd;
    struct rv_slab_geom geom;
    const uint8_t *journals;      /* read-only view of the journal area */
    uint32_t fresh;               /* records from here on were never used */
    uint32_t *free;               /* records handed back, a stack */
    size_t nfree, capfree;
};

/* Creates the slab of service c; -1 with a sentence in why. */
int slab_open(struct slab *sl, const struct rv_service_conf *c, char *why, size_t whylen);
void slab_close(struct slab *sl);
/* A record for a new session; -1 when max_sessions are in use. */
long slab_take(struct slab *sl);
/* The record of a session that has ended. */
void slab_give_back(struct slab *sl, uint32_t record);
/* The journal of a record, read-only: the service's claims. */
const struct rv_journal *slab_journal(const struct slab *sl, uint32_t record);

#endif
