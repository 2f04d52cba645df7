/* rv-registry-demo.c — an application of the `registry` example that
 * knows nothing about crashes: it registers its names once, then looks
 * them up again and again, and counts what it gets wrong.
 *
 *   rv-registry-demo [--socket PATH] [--name NAME] [--service SERVICE]
 *                    [--keys N] [--report FILE]
 *
 * Run by revived from examples/manifest.ini it finds revived through
 * REVIVE_NS_FD, and SERVICE ("reg" there) resolves through its name space.
 * It runs until SIGTERM, then writes "lookups=L wrong=W errors=E
 * reanimations=R" to stdout and FILE: L lookups of its own names, W that
 * came back wrong or missing, E calls that failed, R times its client
 * library restored its entries. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "revive/version.h"
#include "registry.h"

static volatile sig_atomic_t stop;

static void on_term(int sig) { (void)sig; stop = 1; }

struct opts {
    const char *sock, *name, *service, *report;
    unsigned keys;
};

static int parse(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        { "socket", required_argument, NULL, 's' }, { "name", required_argument, NULL, 'n' },
        { "service", required_argument, NULL, 'v' }, { "keys", required_argument, NULL, 'k' },
        { "report", required_argument, NULL, 'r' }, { "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 },
    };
    *o = (struct opts){ .name = "demo", .service = "registry", .keys = 8 };
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 's': o->sock = optarg; break;
        case 'n': o->name = optarg; break;
        case 'v': o->service = optarg; break;
        case 'k': o->keys = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'r': o->report = optarg; break;
        case 'V': printf("rv-registry-demo %s\n", REVIVE_VERSION); exit(0);
        default: return -1;
        }
    }
    return o->keys && o->keys <= 64 && strlen(o->name) < 32 ? 0 : -1;
}

static void key_value(const struct opts *o, unsigned i, char *key, char *value)
{
    snprintf(key, REG_KEY_MAX, "%s.%u", o->name, i);
    snprintf(value, REG_VALUE_MAX, "value of %s.%u", o->name, i);
}

int main(int argc, char **argv)
{
    struct opts o;
    if (parse(argc, argv, &o) < 0) {
        fprintf(stderr, "usage: rv-registry-demo [--socket PATH] [--name NAME] [--service SERVICE] "
                        "[--keys 1..64] [--report FILE]\n");
        return 2;
    }
    signal(SIGTERM, on_term);
    rv_conn *conn;
    reg_client *c;
    int rc = rv_connect(o.sock, &conn);
    if (rc == 0 && (rc = reg_open(conn, o.service, &c)) != 0)
        fprintf(stderr, "rv-registry-demo: opening '%s': %s\n", o.service, rv_conn_error(conn));
    char key[REG_KEY_MAX], value[REG_VALUE_MAX], got[REG_VALUE_MAX];
    for (unsigned i = 0; rc == 0 && i < o.keys; i++) {
        key_value(&o, i, key, value);
        rc = reg_set(c, key, value);
    }
    if (rc)
        return 1;
    unsigned long long lookups = 0, wrong = 0, errors = 0;
    for (unsigned i = 0; !stop; i = (i + 1) % o.keys, lookups++) {
        key_value(&o, i, key, value);
        rc = reg_get(c, key, got, sizeof got);
        errors += rc != 0 && rc != REG_ENOTFOUND;
        wrong += rc == REG_ENOTFOUND || (rc == 0 && strcmp(got, value) != 0);
    }
    char line[160];
    snprintf(line, sizeof line, "lookups=%llu wrong=%llu errors=%llu reanimations=%u\n", lookups, wrong, errors,
             reg_reanimations(c));
    fputs(line, stdout);
    FILE *f = o.report ? fopen(o.report, "w") : NULL;
    if (f) {
        fputs(line, f);
        fclose(f);
    }
    reg_close(c);
    return wrong || errors ? 1 : 0;
}
