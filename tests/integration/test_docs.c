/* test_docs.c — the manifests the documentation shows run as written:
 * every ```ini block of docs/manifest.md is a whole manifest, and a revived
 * started on it brings every service it declares to "ready". A reader who
 * copies an example gets a working revived, not an error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"

#define MANIFEST_MD RV_IT_DOCS "/manifest.md"

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        fail_msg("cannot read %s", path);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* Runs one example; returns how many services it declared. */
static int run_example(const char *text, int number)
{
    struct rvd d;
    rvd_start(&d, text);
    int services = 0;
    for (const char *p = text; (p = strstr(p, "[service ")); p++, services++) {
        char name[64];
        if (sscanf(p, "[service %63[^]]]", name) != 1)
            fail_msg("example %d: unreadable section at '%.20s'", number, p);
        struct svc_status st;
        wait_status(&d, name, status_ready, NULL, &st);
    }
    rvd_stop(&d);
    return services;
}

static void test_manifest_examples_run(void **state)
{
    (void)state;
    char *md = read_all(MANIFEST_MD);
    int examples = 0;
    for (char *p = md; (p = strstr(p, "```ini\n"));) {
        char *body = p + strlen("```ini\n"), *end = strstr(body, "```");
        assert_non_null(end);
        *end = '\0';
        if (run_example(body, ++examples) == 0)
            fail_msg("example %d of %s declares no service", examples, MANIFEST_MD);
        p = end + 3;
    }
    assert_true(examples >= 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_manifest_examples_run, it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
