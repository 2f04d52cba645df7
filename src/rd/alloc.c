/* alloc.c — allocation inside recovery domains.
 *
 * rd_malloc is a reversible operation in the paper's sense (§4.1.2): its
 * inverse, free, is logged with the domain that called it, so rolling that
 * domain back frees the block again (after every write into the block has
 * been restored, since the log replays newest first). rd_free is a release:
 * it is deferred until the work is final, so a rollback can still use the
 * block and no other allocation can reuse it before then.
 *
 * The allocator itself runs with in_runtime set: a fault inside malloc means
 * a corrupted heap, which no domain rollback can repair, so it escalates.
 */
#include <stdlib.h>

#include "rd_internal.h"

void *rd_malloc(size_t size)
{
    struct rd_thread *t = &rd_self;
    rd_runtime_enter(t);
    void *p = malloc(size);
    rd_runtime_leave(t);
    if (p)
        rd_log_undo(free, p);
    return p;
}

void rd_free(void *p)
{
    if (p)
        rd_defer(free, p);
}
