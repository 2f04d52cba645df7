/* revive/dataspace.h — dataspaces: shared memory one task provides to
 * others through revived (L4ReAnimator §3.2.3).
 *
 * A provider offers a memfd and up to two notifier eventfds under a name;
 * a consumer attaches by name and maps it. Both are capabilities
 * (revive/cap.h): when the provider dies, revived closes the consumer's
 * lifeline at once, the watcher or the next wait raises the capability
 * fault, the unmap action swaps the stale mapping for zero pages, and the
 * generic handler looks the name up again and maps the new provider's
 * memory at the same address. examples/ringbuf is a producer and consumer.
 */
#ifndef REVIVE_DATASPACE_H
#define REVIVE_DATASPACE_H

#include <stddef.h>
#include "revive/base.h"
#include "revive/client.h"

typedef struct rv_dataspace rv_dataspace;

/* Provides memfd (and up to two notifier eventfds) to others under `name`
 * through revived, for as long as conn stays open. revived keeps its own
 * duplicates; the caller keeps its descriptors. The memfd must be created
 * with MFD_ALLOW_SEALING and its final size: it is sealed against resizing
 * here, so no consumer's mapping can be cut short. */
int rv_ds_provide(rv_conn *conn, const char *name, int memfd, const int *notifiers, unsigned n);

/* Looks `name` up (waiting up to wait_ms for a provider), maps it shared
 * read-write, registers it (and its notifiers) with the generic relookup
 * handler and the unmap action, watched. */
int rv_ds_attach(rv_conn *conn, const char *name, unsigned wait_ms, rv_dataspace **out);
void *rv_ds_addr(const rv_dataspace *ds);
size_t rv_ds_size(const rv_dataspace *ds);
/* The dataspace's memfd slot (its registry key) and notifier i's slot. */
int rv_ds_fd(const rv_dataspace *ds);
int rv_ds_notifier(const rv_dataspace *ds, unsigned i);
/* Signals notifier i (eventfd write 1). */
int rv_ds_notify(rv_dataspace *ds, unsigned i);
/* Waits up to timeout_ms (-1: for ever) for notifier i; returns its count
 * (> 0), 0 on timeout, or an error. A provider that dies meanwhile raises
 * the capability fault: after a repair, RV_EREVOKED is returned once so the
 * caller restarts its protocol on the new buffer. */
long rv_ds_wait(rv_dataspace *ds, unsigned i, int timeout_ms);
void rv_ds_detach(rv_dataspace *ds);

#endif
