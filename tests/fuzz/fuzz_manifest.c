/* fuzz_manifest.c — fuzz target for the manifest loader, revived's other
 * parser of outside input.
 *
 * Invariants checked on every input: loading never crashes or leaks (ASan
 * and LeakSanitizer check that in the ASan run); it either succeeds with at
 * least one service whose exec is an absolute path, or fails with exactly one
 * line that names the origin; and on failure the manifest is left empty.
 * Bare exec names resolve in FUZZ_SERVICE_DIR (the build's services), so
 * mutations of the seeds can also load. Run under libFuzzer as fuzz_wire.c
 * explains, with manifest.c and inih added to the link.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "manifest.h"

#define ORIGIN "fuzz.ini"

static const char *const seeds[] = {
    "[service random]\nexec = rv-svc-random\nssr_size = 64\n",
    "[revived]\nmax_ssr_bytes = 1M\n[service t]\nexec = rv-svc-timer\nargs = -a b\nstate = ssr\n"
    "restart = on-failure\nmax_restarts = 5 in 10s\nbackoff = 1ms..1s\nrequest_timeout = 250ms\n"
    "heartbeat = 0\nssr_protect = mprotect\nstandby = yes\n",
    "[service a]\nexec = rv-svc-random\n[service b]\nexec = rv-svc-timer\nrestart = never\n",
};

size_t fuzz_seed(size_t i, uint8_t *buf, size_t cap)
{
    if (i >= sizeof seeds / sizeof seeds[0])
        return 0;
    size_t n = strlen(seeds[i]);
    n = n < cap ? n : cap;
    memcpy(buf, seeds[i], n);
    return n;
}

static void check_loaded(const struct rv_manifest *m)
{
    if (m->nservices == 0)
        abort();
    for (size_t i = 0; i < m->nservices; i++)
        if (m->services[i].exec[0] != '/' || strcmp(m->services[i].argv[0], m->services[i].exec) != 0)
            abort();
}

static void check_failed(const struct rv_manifest *m, const char *err)
{
    if (m->nservices || m->services || strncmp(err, ORIGIN, strlen(ORIGIN)) != 0 || strchr(err, '\n'))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = getenv("FUZZ_SERVICE_DIR");
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct rv_manifest m;
    char err[512];
    if (rv_manifest_load_text(text, ORIGIN, dir ? dir : "", &m, err, sizeof err) == 0) {
        check_loaded(&m);
        rv_manifest_free(&m);
    } else
        check_failed(&m, err);
    free(text);
    return 0;
}
