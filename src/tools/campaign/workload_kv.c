/* workload_kv.c — the kv workload: clients that own disjoint keys and check
 * every reply against their own model of them, and the fresh session's check
 * of the whole store against the union of the models.
 *
 * Client i owns the keys "c<i>-k00".."c<i>-k15". It first puts each of them
 * (version 0), so the store holds acknowledged data from the start — what
 * a restart without state preservation loses shows whenever the fault
 * comes — and the client knows its keys also when the store holds an
 * earlier round's (the continuous mode runs round after round on one
 * store). Then it runs a fixed sequence, drawn from its seed, of puts,
 * deletes and gets, with a scan of its prefix every SCAN_EVERY operations
 * and at the end. The oracle is kv's contract (services/kv/kv.h):
 *   - a get returns the last acknowledged value, or KV_ENOTFOUND when the
 *     key's last acknowledged write deleted it;
 *   - a put says whether it replaced a value and a delete whether the key
 *     existed, so a write a restart lost, or one applied twice, shows at once;
 *   - a scan returns exactly the present keys with their values, each once.
 * Any other answer is wrong output (an SDC unless a failure was reported).
 * Any other error code is a detected failure: the client stops there, and the
 * write it was making is `pending` — it may or may not have happened, and
 * the post-check accepts either. Values are made from (client, key,
 * version), the version being the operation's index, so a model is one
 * version per key and no other write's value passes for the right one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "campaign.h"
#include "revive/client.h"
#include "kv/kv.h"

#define SEED_BASE 2000
#define SCAN_EVERY 16
#define ABSENT (-1)
#define UNKNOWN (-2)      /* not yet written by this round's client: anything goes */
#define VALUE_PAD 160     /* values are 11 to ~175 bytes: entries of several block sizes */

static int ops(bool quick) { return quick ? 24 : 64; }

/* One client's run: its session, its model, what it saw. */
struct kvc {
    rv_session *s;
    struct cp_kv_model *m;
    struct cp_client *c;
    int id;
};

static size_t key_name(char *buf, int client, int k)
{
    return (size_t)sprintf(buf, "c%d-k%02d", client, k);
}

/* The value version `ver` of key k of `client` puts; its length. */
static size_t make_value(char *buf, int client, int k, int ver)
{
    int n = sprintf(buf, "c%d-k%02d-v%d-", client, k, ver);
    int pad = (k * 37 + ver * 11) % VALUE_PAD;
    memset(buf + n, 'a' + ver % 26, (size_t)pad);
    return (size_t)(n + pad);
}

/* Whether a get's (rc, value) is what version `ver` of the key says. */
static bool holds(int client, int k, int ver, int rc, const char *v, size_t len)
{
    if (ver == UNKNOWN)
        return rc == 0 || rc == KV_ENOTFOUND;
    if (ver == ABSENT)
        return rc == KV_ENOTFOUND;
    char want[KV_VALUE_MAX];
    size_t n = make_value(want, client, k, ver);
    return rc == 0 && len == n && memcmp(v, want, n) == 0;
}

static void describe_ver(char *buf, size_t len, int ver)
{
    if (ver == ABSENT)
        snprintf(buf, len, "absent");
    else
        snprintf(buf, len, "v%d", ver);
}

/* A reply that contradicts the model (about key k, or none if k < 0):
 * wrong output; the client stops. */
static int wrong(struct kvc *kc, const char *op, int k, const char *saw)
{
    char key[16] = "", was[16] = "";
    if (k >= 0) {
        key_name(key, kc->id, k);
        describe_ver(was, sizeof was, kc->m->ver[k]);
    }
    kc->c->wrong = true;
    snprintf(kc->c->note, sizeof kc->c->note, "%s %s: %s%s%s", op, key, saw, k >= 0 ? ", but the model says " : "",
             was);
    return -1;
}

/* A call that failed (about key k, or none if k < 0): a detected failure;
 * the write it made, if any, is pending. */
static int failed(struct kvc *kc, int rc, const char *op, int k, bool write, int ver)
{
    char what[48] = "";
    size_t n = (size_t)snprintf(what, sizeof what, "%s ", op);
    if (k >= 0)
        key_name(what + n, kc->id, k);
    if (write) {
        kc->m->pending = (int8_t)k;
        kc->m->pending_ver = (int16_t)ver;
    }
    cp_call_failed(kc->c, kc->s, rc, what);
    return -1;
}

static int do_put(struct kvc *kc, int k, int ver)
{
    char req[1 + KV_KEY_MAX + KV_VALUE_MAX], reply[256];
    size_t klen = key_name(req + 1, kc->id, k), len = 0;
    req[0] = (char)klen;
    size_t vlen = make_value(req + 1 + klen, kc->id, k, ver);
    int rc = rv_call(kc->s, KV_PUT, req, 1 + klen + vlen, reply, sizeof reply, &len);
    if (rc == 0 && len != 1)
        rc = RV_EPROTO;
    if (rc < 0)
        return failed(kc, rc, "put", k, true, ver);
    bool replaced = reply[0] != 0;
    bool bad = kc->m->ver[k] != UNKNOWN && replaced != (kc->m->ver[k] >= 0);
    int r = bad ? wrong(kc, "put", k, replaced ? "it replaced a value" : "it made a new key") : 0;
    kc->m->ver[k] = (int16_t)ver;   /* acknowledged: durable, whatever else it said */
    return r;
}

static int do_del(struct kvc *kc, int k)
{
    char key[16], reply[256];
    size_t klen = key_name(key, kc->id, k), len = 0;
    int rc = rv_call(kc->s, KV_DEL, key, klen, reply, sizeof reply, &len);
    if (rc != 0 && rc != KV_ENOTFOUND)
        return failed(kc, rc, "del", k, true, ABSENT);
    bool bad = kc->m->ver[k] != UNKNOWN && (rc == 0) != (kc->m->ver[k] >= 0);
    int r = bad ? wrong(kc, "del", k, rc == 0 ? "it deleted the key" : "not found") : 0;
    kc->m->ver[k] = ABSENT;
    return r;
}

static int do_get(struct kvc *kc, int k)
{
    char key[16], v[RV_MAX_PAYLOAD], saw[64];
    size_t klen = key_name(key, kc->id, k), len = 0;
    int rc = rv_call(kc->s, KV_GET, key, klen, v, sizeof v, &len);
    if (rc != 0 && rc != KV_ENOTFOUND)
        return failed(kc, rc, "get", k, false, 0);
    if (holds(kc->id, k, kc->m->ver[k], rc, v, len))
        return 0;
    snprintf(saw, sizeof saw, rc ? "not found" : "'%.*s'", (int)(len < 24 ? len : 24), v);
    return wrong(kc, "get", k, saw);
}

/* The key an entry names, among the client's; -1 if none. */
static int key_index(int client, const uint8_t *key, size_t klen)
{
    char name[16];
    for (int k = 0; k < CP_KV_KEYS; k++)
        if (key_name(name, client, k) == klen && memcmp(name, key, klen) == 0)
            return k;
    return -1;
}

/* One reply's entries against the model; `seen` marks the keys returned. */
static int scan_entries(struct kvc *kc, const uint8_t *p, const uint8_t *end, uint16_t n, bool seen[CP_KV_KEYS])
{
    for (uint16_t i = 0; i < n; i++) {
        uint16_t vlen = 0;
        uint8_t klen = end - p >= 3 ? p[0] : 0;
        if (klen)
            memcpy(&vlen, p + 1, 2);
        if (!klen || end - p < 3 + klen + vlen)
            return failed(kc, RV_EPROTO, "scan (a truncated entry)", -1, false, 0);
        int k = key_index(kc->id, p + 3, klen);
        if (k < 0)
            return wrong(kc, "scan", -1, "it returned a key the client does not own");
        if (seen[k] || !holds(kc->id, k, kc->m->ver[k], 0, (const char *)p + 3 + klen, vlen))
            return wrong(kc, "scan", k, seen[k] ? "it returned the key twice" : "it returned another value");
        seen[k] = true;
        p += 3 + klen + vlen;
    }
    return 0;
}

/* The client's prefix, one call per reply-full, until the cursor is done;
 * then every key the model holds must have come. */
static int do_scan(struct kvc *kc)
{
    uint8_t req[sizeof(struct kv_cursor) + 16], reply[RV_MAX_PAYLOAD];
    struct kv_cursor cur = { 0 };
    bool seen[CP_KV_KEYS] = { false };
    size_t plen = (size_t)sprintf((char *)req + sizeof cur, "c%d-", kc->id);
    do {
        size_t len = 0;
        uint16_t n;
        memcpy(req, &cur, sizeof cur);
        int rc = rv_call(kc->s, KV_SCAN, req, sizeof cur + plen, reply, sizeof reply, &len);
        if (rc == 0 && len < sizeof cur + 2)
            rc = RV_EPROTO;
        if (rc < 0)
            return failed(kc, rc, "scan", -1, false, 0);
        memcpy(&cur, reply, sizeof cur);
        memcpy(&n, reply + sizeof cur, 2);
        if (scan_entries(kc, reply + sizeof cur + 2, reply + len, n, seen) < 0)
            return -1;
    } while (cur.bucket != KV_SCAN_DONE);
    for (int k = 0; k < CP_KV_KEYS; k++)
        if (kc->m->ver[k] >= 0 && !seen[k])
            return wrong(kc, "scan", k, "it did not return the key");
    return 0;
}

/* Operation `op` of the fixed sequence: half puts, a quarter each deletes
 * and gets, on keys drawn from the client's seed. */
static int step(struct kvc *kc, int op, unsigned *seed)
{
    int k = rand_r(seed) % CP_KV_KEYS, what = rand_r(seed) % 4;
    if (op % SCAN_EVERY == SCAN_EVERY - 1 && do_scan(kc) < 0)
        return -1;
    return what < 2 ? do_put(kc, k, op + 1) : what == 2 ? do_del(kc, k) : do_get(kc, k);
}

void cp_kv_client(struct cp_workload *w, int i, const char *sock, struct cp_client *c)
{
    struct kvc kc = { .m = &w->kv[i], .c = c, .id = i };
    kc.m->pending = -1;
    for (int k = 0; k < CP_KV_KEYS; k++)
        kc.m->ver[k] = UNKNOWN;
    if (cp_open_session(sock, "kv", NULL, c, &kc.s) < 0)
        return;
    unsigned seed = SEED_BASE + (unsigned)i;
    int rc = 0;
    for (int k = 0; k < CP_KV_KEYS && rc == 0; k++)
        rc = do_put(&kc, k, 0);
    for (int op = 0; op < ops(w->quick) && rc == 0; op++)
        rc = step(&kc, op, &seed);
    if (rc == 0)
        do_scan(&kc);
    rv_close(kc.s);
}

/* ---- the post-check ---- */

/* Key k of client i, read by the fresh session: the model's value, or the
 * pending write's. Counts the keys found in *present. */
static bool check_key(rv_session *s, const struct cp_kv_model *m, int i, int k, uint64_t *present, char *why,
                      size_t len)
{
    char key[16], v[RV_MAX_PAYLOAD], want[16];
    size_t klen = key_name(key, i, k), vlen = 0;
    int rc = rv_call(s, KV_GET, key, klen, v, sizeof v, &vlen);
    *present += rc == 0;
    if (rc != 0 && rc != KV_ENOTFOUND) {
        snprintf(why, len, "get %s: %s (%s)", key, rv_strerror(rc), rv_session_error(s));
        return false;
    }
    if (holds(i, k, m->ver[k], rc, v, vlen) || (m->pending == k && holds(i, k, m->pending_ver, rc, v, vlen)))
        return true;
    describe_ver(want, sizeof want, m->ver[k]);
    snprintf(why, len, "%s is %s%.*s%s, but the acknowledged writes say %s", key, rc ? "absent" : "'",
             rc ? 0 : (int)(vlen < 24 ? vlen : 24), v, rc ? "" : "...'", want);
    return false;
}

/* KV_CHECK: the table's and the allocator's invariants hold (nothing
 * half-applied), and the store holds exactly the keys found. */
static bool check_store(rv_session *s, uint64_t present, char *why, size_t len)
{
    char reply[256] = "";
    size_t rlen = 0;
    int rc = rv_call(s, KV_CHECK, NULL, 0, reply, sizeof reply - 1, &rlen);
    uint64_t count = 0;
    if (rc == 0 && rlen == sizeof count)
        memcpy(&count, reply, sizeof count);
    if (rc != 0)
        snprintf(why, len, "check: %s (%s)", rv_strerror(rc), rc == KV_ECORRUPT ? reply : rv_session_error(s));
    else if (rlen != sizeof count || count != present)
        snprintf(why, len, "check: the store holds %llu keys, the clients' keys found are %llu",
                 (unsigned long long)count, (unsigned long long)present);
    return rc == 0 && rlen == sizeof count && count == present;
}

bool cp_kv_postcheck(const struct cp_workload *w, const char *sock, char *why, size_t len)
{
    struct cp_client c = { 0 };
    rv_session *s;
    if (cp_open_session(sock, "kv", NULL, &c, &s) < 0) {
        snprintf(why, len, "%s", c.note);
        return false;
    }
    uint64_t present = 0;
    bool ok = true;
    for (int i = 0; i < CP_CLIENTS && ok; i++)
        for (int k = 0; k < CP_KV_KEYS && ok; k++)
            ok = check_key(s, &w->kv[i], i, k, &present, why, len);
    ok = ok && check_store(s, present, why, len);
    rv_close(s);
    if (ok)
        why[0] = '\0';
    return ok;
}
