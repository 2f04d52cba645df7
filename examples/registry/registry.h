/* registry.h — the `registry` example: a stateless name registry and its
 * client library, which reanimates the client's registrations.
 *
 * The service (registry_svc.c) is what a retrofitted legacy daemon looks
 * like under revive: its table lives in its own memory, not in SSRs, so it
 * runs with `state = stateless` and every restart forgets everything.
 * revived then revokes its sessions. The client library (registry_client.c)
 * makes that invisible to the application, the L4ReAnimator way: it
 * remembers what its client registered, and its capability fault handler
 * re-opens the session (the generic handler) and registers all of it again
 * before the faulting call is retried. The application never sees the crash;
 * other clients may, for a moment, miss a name until its owner's next call.
 *
 * Wire protocol (service type 3): REG_SET "key\0value" (the entry belongs to
 * the session and goes with it), REG_GET "key" → value or REG_ENOTFOUND,
 * REG_COUNT → uint64_t entries in the table. */
#ifndef RV_EXAMPLE_REGISTRY_H
#define RV_EXAMPLE_REGISTRY_H

#include <stddef.h>
#include "revive/client.h"

#define REG_KEY_MAX 64
#define REG_VALUE_MAX 256

enum reg_op { REG_SET = 1, REG_GET = 2, REG_COUNT = 3 };
enum { REG_ENOTFOUND = RV_EAPP_BASE - 1 };

typedef struct reg_client reg_client;

/* Opens a session with service `name` through conn and installs the
 * restoring fault handler. */
int reg_open(rv_conn *conn, const char *name, reg_client **out);
/* Registers key=value, remembered for re-registration. */
int reg_set(reg_client *c, const char *key, const char *value);
/* The value of key (any client's) into buf. REG_ENOTFOUND if none. */
int reg_get(reg_client *c, const char *key, char *buf, size_t len);
int reg_count(reg_client *c, unsigned long *n);
/* How many times the handler re-registered this client's entries. */
unsigned reg_reanimations(const reg_client *c);
const char *reg_error(const reg_client *c);
void reg_close(reg_client *c);

#endif
