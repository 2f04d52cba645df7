/* namespace.h — what a name a client asks for stands for.
 *
 * A connection to revived's public socket lives in the identity name space:
 * every name stands for the service or dataspace of that name. A task that
 * revived starts (loader.h) gets its own: only the names of its manifest
 * section's `names` resolve, each to the service or dataspace it maps to,
 * and nothing else does. That is what confines a task to the capabilities
 * its manifest grants it, and lets two tasks use one name for different
 * objects. */
#ifndef RV_NAMESPACE_H
#define RV_NAMESPACE_H

#include <stddef.h>
#include "manifest.h"

enum ns_kind { NS_SERVICE, NS_DATASPACE };

/* Resolves `name` (as the client sent it: unchecked, NUL-terminated) in the
 * name space of `task` (NULL: the identity one) to the name of the object
 * of `kind` it stands for, copied into out (RV_NAME_MAX bytes). Returns 0,
 * or an RV_E* code with a sentence in why: RV_EINVAL for a name that can be
 * no object's, RV_ENOSVC for one the task's name space does not hold or
 * holds for the other kind. Whether the object exists is the caller's
 * business. */
int ns_resolve(const struct rv_task_conf *task, const char *name, enum ns_kind kind,
               char out[RV_NAME_MAX], char *why, size_t whylen);

#endif
