/* rv-kv — the command-line client of the `kv` service.
 *
 *   rv-kv [--socket PATH] get KEY          prints the value alone
 *   rv-kv [--socket PATH] put KEY VALUE
 *   rv-kv [--socket PATH] del KEY
 *   rv-kv [--socket PATH] scan [PREFIX]    prints KEY<TAB>VALUE lines
 *
 * Exit status: 0 done, 1 no such key (get, del), 2 bad usage, 3 revive or
 * the service failed (a sentence on stderr says why). A put exits 0 only
 * after the service replied, which it does only once the write is durable
 * in its arena.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kv.h"
#include "revive/version.h"
#include "revive/client.h"

enum { EXIT_NOTFOUND = 1, EXIT_USAGE = 2, EXIT_REVIVE = 3 };

static void usage(FILE *f)
{
    fprintf(f, "usage: rv-kv [--socket PATH] get KEY | put KEY VALUE | del KEY | scan [PREFIX]\n"
               "  keys are 1 to %d bytes, values at most %d bytes\n", KV_KEY_MAX, KV_VALUE_MAX);
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "rv-kv: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    usage(stderr);
    return EXIT_USAGE;
}

/* A failed call: the service's own sentence when it sent one. */
static int call_failed(rv_session *s, const char *what, int rc, const char *reply, size_t len)
{
    if (rc <= RV_EAPP_BASE && len)
        fprintf(stderr, "rv-kv: %s failed: %.*s\n", what, (int)len, reply);
    else
        fprintf(stderr, "rv-kv: %s failed: %s\n", what, rv_session_error(s));
    return EXIT_REVIVE;
}

static int do_get(rv_session *s, const char *key)
{
    char v[RV_MAX_PAYLOAD];
    size_t len = 0;
    int rc = rv_call(s, KV_GET, key, strlen(key), v, sizeof v, &len);
    if (rc == KV_ENOTFOUND) {
        fprintf(stderr, "rv-kv: no key '%s'\n", key);
        return EXIT_NOTFOUND;
    }
    if (rc != 0)
        return call_failed(s, "get", rc, v, len);
    fwrite(v, 1, len, stdout);
    putchar('\n');
    return 0;
}

static int do_put(rv_session *s, const char *key, const char *value)
{
    char req[1 + KV_KEY_MAX + KV_VALUE_MAX], reply[256];
    size_t klen = strlen(key), vlen = strlen(value), len = 0;
    if (vlen > KV_VALUE_MAX)
        return usage_error("the value is longer than 1024 bytes%s", "");
    req[0] = (char)klen;
    memcpy(req + 1, key, klen);
    memcpy(req + 1 + klen, value, vlen);
    int rc = rv_call(s, KV_PUT, req, 1 + klen + vlen, reply, sizeof reply, &len);
    return rc ? call_failed(s, "put", rc, reply, len) : 0;
}

static int do_del(rv_session *s, const char *key)
{
    char reply[256];
    size_t len = 0;
    int rc = rv_call(s, KV_DEL, key, strlen(key), reply, sizeof reply, &len);
    if (rc == KV_ENOTFOUND) {
        fprintf(stderr, "rv-kv: no key '%s'\n", key);
        return EXIT_NOTFOUND;
    }
    return rc ? call_failed(s, "del", rc, reply, len) : 0;
}

static void print_entries(const uint8_t *p, const uint8_t *end, uint16_t n)
{
    for (uint16_t i = 0; i < n && end - p >= 3; i++) {
        uint8_t klen = p[0];
        uint16_t vlen;
        memcpy(&vlen, p + 1, 2);
        if ((size_t)(end - p) < 3u + klen + vlen)
            return;
        printf("%.*s\t%.*s\n", (int)klen, (const char *)p + 3, (int)vlen, (const char *)p + 3 + klen);
        p += 3 + klen + vlen;
    }
}

/* One call per reply-full of entries, until the cursor says done. */
static int do_scan(rv_session *s, const char *prefix)
{
    uint8_t req[sizeof(struct kv_cursor) + KV_KEY_MAX], reply[RV_MAX_PAYLOAD];
    struct kv_cursor c = { 0 };
    size_t plen = strlen(prefix);
    memcpy(req + sizeof c, prefix, plen);
    do {
        size_t len = 0;
        uint16_t n;
        memcpy(req, &c, sizeof c);
        int rc = rv_call(s, KV_SCAN, req, sizeof c + plen, reply, sizeof reply, &len);
        if (rc != 0)
            return call_failed(s, "scan", rc, (const char *)reply, len);
        if (len < sizeof c + 2) {
            fprintf(stderr, "rv-kv: scan failed: a reply of %zu bytes is too short\n", len);
            return EXIT_REVIVE;
        }
        memcpy(&c, reply, sizeof c);
        memcpy(&n, reply + sizeof c, 2);
        print_entries(reply + sizeof c + 2, reply + len, n);
    } while (c.bucket != KV_SCAN_DONE);
    return 0;
}

/* The words after the options: a command and its arguments, checked
 * before anything is sent. */
static int check_args(int argc, char **argv)
{
    static const struct { const char *cmd; int min, max; } cmds[] = {
        { "get", 1, 1 }, { "put", 2, 2 }, { "del", 1, 1 }, { "scan", 0, 1 },
    };
    if (argc < 1)
        return usage_error("no command given%s", "");
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        if (strcmp(argv[0], cmds[i].cmd) != 0)
            continue;
        if (argc - 1 < cmds[i].min || argc - 1 > cmds[i].max)
            return usage_error("wrong number of arguments for '%s'", argv[0]);
        bool scan = strcmp(argv[0], "scan") == 0;
        size_t len = argc > 1 ? strlen(argv[1]) : 0;
        if (argc > 1 && (len > KV_KEY_MAX || (!scan && len == 0)))
            return usage_error(scan ? "'%s' is not a prefix (at most 64 bytes)" : "'%s' is not a key (1 to 64 bytes)",
                               argv[1]);
        return 0;
    }
    return usage_error("unknown command '%s'", argv[0]);
}

static int run(rv_session *s, int argc, char **argv)
{
    if (strcmp(argv[0], "get") == 0)
        return do_get(s, argv[1]);
    if (strcmp(argv[0], "put") == 0)
        return do_put(s, argv[1], argv[2]);
    if (strcmp(argv[0], "del") == 0)
        return do_del(s, argv[1]);
    return do_scan(s, argc > 1 ? argv[1] : "");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "socket", required_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 },
    };
    const char *sock = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (c) {
        case 's': sock = optarg; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("rv-kv %s\n", REVIVE_VERSION); return 0;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    argc -= optind;
    argv += optind;
    int rc = check_args(argc, argv);
    if (rc)
        return rc;
    rv_conn *conn;
    rv_session *s;
    char buf[128];
    if (rv_connect(sock, &conn) < 0) {
        fprintf(stderr, "rv-kv: cannot reach revived at %s: %s\n", sock ? sock : rv_default_socket(buf, sizeof buf),
                strerror(errno));
        return EXIT_REVIVE;
    }
    if (rv_open(conn, "kv", NULL, &s) < 0) {
        fprintf(stderr, "rv-kv: cannot open a session with 'kv': %s\n", rv_conn_error(conn));
        rv_disconnect(conn);
        return EXIT_REVIVE;
    }
    rv_disconnect(conn);
    rc = run(s, argc, argv);
    rv_close(s);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "rv-kv: cannot write the output: %s\n", strerror(errno));
        return EXIT_REVIVE;
    }
    return rc;
}
