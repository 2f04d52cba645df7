/* registry_svc.c — the `registry` example service (see registry.h): a
 * table of key=value entries owned by the sessions that set them, in the
 * process's own memory. Deliberately stateless (no SSR): it shows what
 * revive does for a service that was not written for it — the manifest
 * says `state = stateless`, a restart revokes the sessions, and the
 * clients' library restores the table. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "registry.h"
#include "revive/server.h"

#define MAX_ENTRIES 1024

struct entry {
    char key[REG_KEY_MAX];
    char value[REG_VALUE_MAX];
    uint64_t owner;     /* the session id that set it */
};

static struct entry table[MAX_ENTRIES];
static size_t nentries;

static struct entry *find(const char *key)
{
    for (size_t i = 0; i < nentries; i++)
        if (strcmp(table[i].key, key) == 0)
            return &table[i];
    return NULL;
}

/* key NUL value NUL, both within their bounds. */
static int parse_set(const rv_request *req, const char **key, const char **value)
{
    const char *p = req->data;
    size_t kl = strnlen(p, req->len);
    if (kl == 0 || kl >= REG_KEY_MAX || kl + 1 >= req->len)
        return -1;
    size_t vl = strnlen(p + kl + 1, req->len - kl - 1);
    if (vl >= REG_VALUE_MAX || kl + 1 + vl + 1 != req->len)
        return -1;
    *key = p;
    *value = p + kl + 1;
    return 0;
}

static int reg_set_op(rv_request *req)
{
    const char *key, *value;
    if (parse_set(req, &key, &value) < 0)
        return RV_EINVAL;
    struct entry *e = find(key);
    if (!e && nentries == MAX_ENTRIES)
        return RV_ENOMEM;
    if (!e) {
        e = &table[nentries++];
        strcpy(e->key, key);
    }
    strcpy(e->value, value);
    e->owner = rv_svc_session_id(req->session);
    return 0;
}

static int reg_get_op(rv_request *req)
{
    char key[REG_KEY_MAX];
    if (req->len == 0 || req->len >= REG_KEY_MAX)
        return RV_EINVAL;
    memcpy(key, req->data, req->len);
    key[req->len] = '\0';
    struct entry *e = find(key);
    return e ? rv_reply(req, e->value, strlen(e->value)) : REG_ENOTFOUND;
}

static int registry_handle(rv_request *req)
{
    uint64_t n = nentries;
    switch (req->op) {
    case REG_SET: return reg_set_op(req);
    case REG_GET: return reg_get_op(req);
    case REG_COUNT: return rv_reply(req, &n, sizeof n);
    default: return RV_EINVAL;
    }
}

/* A client that goes away takes its entries with it. */
static void registry_unbind(rv_svc_session *s, void *ssr)
{
    (void)ssr;
    uint64_t id = rv_svc_session_id(s);
    for (size_t i = 0; i < nentries;)
        if (table[i].owner == id)
            table[i] = table[--nentries];
        else
            i++;
}

int main(int argc, char **argv)
{
    static const struct rv_service_ops ops = {
        .ssr_layout = 1,
        .unbind = registry_unbind,
        .handle = registry_handle,
    };
    return rv_service_main(&ops, argc, argv);
}
