/* default_manifest.c — the manifest revived runs when none is given.
 *
 * Three small demo services, so that a freshly built revived does something
 * useful out of the box (and the README's first commands work), each with a
 * hot standby, the configuration for services whose clients notice latency:
 * random and timer keep per-client state in SSRs, kv a shared table in its
 * arena (64 MiB of address space; memory only as it is used). It is kept
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
    "standby = yes\n"
    "\n"
    "[service kv]\n"
    "exec = rv-svc-kv\n"
    "state = arena\n"
    "arena_size = 64M\n"
    "ssr_size = 0\n"
    "restart = always\n"
    "request_timeout = 1s\n"
    "heartbeat = 500ms\n"
    "standby = yes\n";
