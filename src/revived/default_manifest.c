/* default_manifest.c — the manifest revived runs when none is given.
 *
 * Two small demo services, so that a freshly built revived does something
 * useful out of the box (and the README's first commands work), each with a
 * hot standby, the configuration for services whose clients notice latency. It is kept
 * as text rather than as a filled-in struct so it goes through the same
 * loader, and the same checks, as any manifest a user writes. The exec
 * names are bare: they are found in the service path (the build tree, then
 * the install directory). Keys not set here take their defaults; see
 * docs/manifest.md.
 */
#include "manifest.h"

const char rv_default_manifest[] =
    "; revive's built-in manifest\n"
    "\n"
    "[service random]\n"
    "exec = rv-svc-random\n"
    "ssr_size = 64\n"
    "restart = always\n"
    "request_timeout = 1s\n"
    "heartbeat = 500ms\n"
    "standby = yes\n"
    "\n"
    "[service timer]\n"
    "exec = rv-svc-timer\n"
    "ssr_size = 64\n"
    "restart = always\n"
    "request_timeout = 1s\n"
    "heartbeat = 500ms\n"
    "standby = yes\n";
