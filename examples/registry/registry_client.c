/* registry_client.c — the `registry` client library: the service author's
 * recovery code, written once, so that applications stay unaware of the
 * service's crashes (L4ReAnimator's semi-transparent model).
 *
 * It keeps a copy of every entry its client registered. Its capability
 * fault handler first calls librevive's generic session handler (re-open
 * by name onto the same descriptor), then replays the copies on the new
 * session; only then is the faulting call retried. */
#include "registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "revive/cap.h"

struct reg_entry {
    char key[REG_KEY_MAX];
    char value[REG_VALUE_MAX];
    struct reg_entry *next;
};

struct reg_client {
    rv_session *s;
    struct reg_entry *mine;
    unsigned reanimations;
    char err[256];
};

static int send_set(reg_client *c, const char *key, const char *value)
{
    char buf[REG_KEY_MAX + REG_VALUE_MAX];
    size_t kl = strlen(key), vl = strlen(value);
    memcpy(buf, key, kl + 1);
    memcpy(buf + kl + 1, value, vl + 1);
    return rv_call(c->s, REG_SET, buf, kl + vl + 2, NULL, 0, NULL);
}

static int restore_entries(int fd, int err, void *arg)
{
    reg_client *c = arg;
    int rc = rv_cap_reopen(fd, err);
    for (struct reg_entry *e = c->mine; e && rc == 0; e = e->next)
        rc = send_set(c, e->key, e->value);
    if (rc == 0)
        c->reanimations++;
    return rc;
}

int reg_open(rv_conn *conn, const char *name, reg_client **out)
{
    reg_client *c = calloc(1, sizeof *c);
    if (!c)
        return RV_ENOMEM;
    int rc = rv_open(conn, name, NULL, &c->s);
    if (rc == 0)
        rc = rv_cap_set_handler(rv_session_fd(c->s), restore_entries, c);
    if (rc) {
        snprintf(c->err, sizeof c->err, "%s", rv_conn_error(conn));
        rv_close(c->s);
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

/* The local copy, updated in place for a key set again. */
static int remember(reg_client *c, const char *key, const char *value)
{
    struct reg_entry *e = c->mine;
    while (e && strcmp(e->key, key) != 0)
        e = e->next;
    if (!e) {
        if (!(e = calloc(1, sizeof *e)))
            return RV_ENOMEM;
        snprintf(e->key, sizeof e->key, "%s", key);
        e->next = c->mine;
        c->mine = e;
    }
    snprintf(e->value, sizeof e->value, "%s", value);
    return 0;
}

int reg_set(reg_client *c, const char *key, const char *value)
{
    if (!*key || strlen(key) >= REG_KEY_MAX || strlen(value) >= REG_VALUE_MAX)
        return RV_EINVAL;
    int rc = send_set(c, key, value);
    return rc ? rc : remember(c, key, value);
}

int reg_get(reg_client *c, const char *key, char *buf, size_t len)
{
    size_t got = 0;
    if (len == 0)
        return RV_EINVAL;
    int rc = rv_call(c->s, REG_GET, key, strlen(key), buf, len - 1, &got);
    buf[rc == 0 ? got : 0] = '\0';
    return rc;
}

int reg_count(reg_client *c, unsigned long *n)
{
    uint64_t v = 0;
    int rc = rv_call(c->s, REG_COUNT, NULL, 0, &v, sizeof v, NULL);
    *n = (unsigned long)v;
    return rc;
}

unsigned reg_reanimations(const reg_client *c) { return c->reanimations; }

const char *reg_error(const reg_client *c) { return c->err[0] ? c->err : rv_session_error(c->s); }

void reg_close(reg_client *c)
{
    if (!c)
        return;
    while (c->mine) {
        struct reg_entry *e = c->mine;
        c->mine = e->next;
        free(e);
    }
    rv_close(c->s);
    free(c);
}
