/* kv_table.c — the `kv` hash table, in the arena (see kv_table.h).
 *
 * Layout: the arena's root points to a struct kv_table, whose directory
 * points to KV_DIR pages of bucket heads (a page is one arena block, so the
 * table needs no block larger than the allocator's largest). Each bucket is
 * a singly linked chain of entries sorted by key — so a lookup stops early,
 * and a scan can resume after "the last key it returned" in a bucket,
 * however the chain changed meanwhile. An entry is one arena block:
 * {next, hash, klen, vlen, key bytes, value bytes}.
 *
 * Crash consistency is the arena's undo log (revive/arena.h): before any
 * byte reachable from the root changes, its old contents are logged with
 * rv_arena_log. A new entry is filled while unreachable (no logging needed:
 * a rollback frees its block again) and then published by one logged
 * pointer store; a replaced or deleted entry is unlinked by one logged
 * store and handed to rv_arena_free, which logs the block. So whatever
 * instruction a crash hits, the next instance's rollback restores the table
 * exactly as the last committed request left it.
 */
#include "kv_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "revive/arena.h"

#define KV_MAGIC 0x4b565441424c4531ull   /* "KVTABLE1" */
#define KV_DIR 16
#define KV_DIR_BUCKETS 1020   /* a page of heads fills one 8 KiB block */
#define KV_BUCKETS (KV_DIR * KV_DIR_BUCKETS)

struct kv_entry {
    struct kv_entry *next;
    uint64_t hash;
    uint16_t klen, vlen;
    uint32_t pad;
    uint8_t data[];           /* key, then value */
};

struct kv_table {
    uint64_t magic;
    uint64_t count;
    struct kv_entry **dir[KV_DIR];
};

/* FNV-1a: simple, and spreads short similar keys well enough. */
static uint64_t hash_key(const void *key, size_t len)
{
    const uint8_t *p = key;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static struct kv_table *table(void)
{
    void **root = rv_arena_root();
    return root ? *root : NULL;
}

static struct kv_entry **bucket(struct kv_table *t, uint32_t b)
{
    return &t->dir[b / KV_DIR_BUCKETS][b % KV_DIR_BUCKETS];
}

/* memcmp order, a prefix before its extensions. */
static int key_cmp(const struct kv_entry *e, const void *key, size_t klen)
{
    int c = memcmp(e->data, key, e->klen < klen ? e->klen : klen);
    return c ? c : (e->klen > klen) - (e->klen < klen);
}

const void *kv_entry_key(const struct kv_entry *e, size_t *klen)
{
    *klen = e->klen;
    return e->data;
}

const void *kv_entry_value(const struct kv_entry *e, size_t *vlen)
{
    *vlen = e->vlen;
    return e->data + e->klen;
}

/* The link that points at key's entry, or where it would be inserted. */
static struct kv_entry **find_link(struct kv_table *t, const void *key, size_t klen, uint64_t h)
{
    struct kv_entry **link = bucket(t, (uint32_t)(h % KV_BUCKETS));
    while (*link && key_cmp(*link, key, klen) < 0)
        link = &(*link)->next;
    return link;
}

/* Where key is, or would go, and whether it is there. */
static struct kv_entry **locate(struct kv_table *t, const void *key, size_t klen, bool *found)
{
    struct kv_entry **link = find_link(t, key, klen, hash_key(key, klen));
    *found = *link && key_cmp(*link, key, klen) == 0;
    return link;
}

/* Called through a volatile pointer, so the compiler keeps two lookups. */
static struct kv_entry **(*volatile second_locate)(struct kv_table *, const void *, size_t, bool *) = locate;

/* Every decision about a key is made twice, independently: a corrupted
 * compare, hash or pointer (a soft error; the fault-injection campaigns' R
 * faults) would otherwise answer "not found" for a key that is there, or
 * act on the wrong entry — a wrong reply nothing downstream can tell from
 * a right one. If the two disagree the instance fails stop and the request
 * is re-run from the committed state. */
static struct kv_entry **lookup(struct kv_table *t, const void *key, size_t klen, bool *found)
{
    bool again;
    struct kv_entry **link = locate(t, key, klen, found);
    if (second_locate(t, key, klen, &again) != link || again != *found)
        abort();
    return link;
}

const struct kv_entry *kv_table_get(const void *key, size_t klen)
{
    struct kv_table *t = table();
    bool found;
    if (!t)
        return NULL;
    struct kv_entry **link = lookup(t, key, klen, &found);
    return found ? *link : NULL;
}

/* The first write to an empty arena. A failure undoes the half-made table. */
/* Every bucket of a new table empty, read back through a volatile
 * pointer so the check does not trust the clearing it follows. */
static bool all_empty(const struct kv_table *t)
{
    for (int i = 0; i < KV_DIR; i++)
        for (size_t b = 0; b < KV_DIR_BUCKETS; b++)
            if (t->dir[i][b])
                return false;
    return t->magic == KV_MAGIC;
}

static bool (*volatile empty_table)(const struct kv_table *) = all_empty;

static struct kv_table *table_create(void)
{
    struct kv_table *t = rv_arena_alloc(sizeof *t);
    if (!t)
        return NULL;
    *t = (struct kv_table){ .magic = KV_MAGIC };
    for (int i = 0; i < KV_DIR; i++) {
        t->dir[i] = rv_arena_alloc(KV_DIR_BUCKETS * sizeof *t->dir[i]);
        if (!t->dir[i]) {
            rv_arena_abort();
            return NULL;
        }
        memset(t->dir[i], 0, KV_DIR_BUCKETS * sizeof *t->dir[i]);
    }
    if (!empty_table(t))
        abort();   /* a corrupted clear would leave garbage pointers in chains */
    void **root = rv_arena_root();
    rv_arena_log(root, sizeof *root);
    *root = t;
    return t;
}

static struct kv_entry *entry_new(const void *key, size_t klen, const void *value, size_t vlen, uint64_t h)
{
    struct kv_entry *e = rv_arena_alloc(sizeof *e + klen + vlen);
    if (!e)
        return NULL;
    *e = (struct kv_entry){ .hash = h, .klen = (uint16_t)klen, .vlen = (uint16_t)vlen };
    memcpy(e->data, key, klen);
    memcpy(e->data + klen, value, vlen);
    return e;
}

/* A new value that fits the entry's block is written in place. */
static bool update_in_place(struct kv_entry *e, const void *value, size_t vlen)
{
    size_t need = sizeof *e + e->klen + vlen;
    size_t usable = rv_arena_usable(e);
    if (usable > RV_ARENA_ALLOC_MAX)
        abort();   /* impossible: a corrupted value; fail stop before writing past the block */
    if (usable < need)
        return false;
    rv_arena_log(e, need);
    e->vlen = (uint16_t)vlen;
    memcpy(e->data + e->klen, value, vlen);
    return true;
}

int kv_table_put(const void *key, size_t klen, const void *value, size_t vlen, bool *replaced)
{
    rv_arena_lock();   /* before the lookup: nobody may change the chain in between */
    struct kv_table *t = table();
    if (!t && !(t = table_create()))
        return KV_EFULL;
    uint64_t h = hash_key(key, klen);
    struct kv_entry **link = lookup(t, key, klen, replaced), *old = *link;
    if (*replaced && update_in_place(old, value, vlen))
        return 0;
    struct kv_entry *e = entry_new(key, klen, value, vlen, h);
    if (!e)
        return KV_EFULL;
    e->next = *replaced ? old->next : old;
    rv_arena_log(link, sizeof *link);
    *link = e;   /* the one store that makes it visible */
    if (*replaced)
        rv_arena_free(old);
    else {
        rv_arena_log(&t->count, sizeof t->count);
        t->count++;
    }
    return 0;
}

int kv_table_del(const void *key, size_t klen)
{
    rv_arena_lock();
    struct kv_table *t = table();
    if (!t)
        return KV_ENOTFOUND;
    bool found;
    struct kv_entry **link = lookup(t, key, klen, &found), *e = *link;
    if (!found)
        return KV_ENOTFOUND;
    rv_arena_log(link, sizeof *link);
    *link = e->next;
    rv_arena_log(&t->count, sizeof t->count);
    t->count--;
    rv_arena_free(e);
    return 0;
}

static bool has_prefix(const struct kv_entry *e, const void *prefix, size_t plen)
{
    return e->klen >= plen && memcmp(e->data, prefix, plen) == 0;
}

void kv_table_scan(struct kv_cursor *c, const void *prefix, size_t plen,
                   bool (*emit)(const struct kv_entry *e, void *arg), void *arg)
{
    struct kv_table *t = table();
    for (uint32_t b = c->bucket; t && b < KV_BUCKETS; b++) {
        const struct kv_entry *last = NULL;
        for (const struct kv_entry *e = *bucket(t, b); e; e = e->next) {
            if ((b == c->bucket && c->after_len && key_cmp(e, c->after, c->after_len) <= 0) ||
                !has_prefix(e, prefix, plen))
                continue;
            if (!emit(e, arg)) {   /* resume after the last key emitted from this bucket */
                if (last) {
                    c->after_len = (uint8_t)last->klen;
                    memcpy(c->after, last->data, last->klen);
                } else if (b != c->bucket)
                    c->after_len = 0;
                c->bucket = b;
                return;
            }
            last = e;
        }
    }
    c->bucket = KV_SCAN_DONE;
    c->after_len = 0;
}

/* One chain: entries well formed, in their bucket, strictly sorted. */
static int check_chain(struct kv_table *t, uint32_t b, uint64_t *count, uint64_t limit, char *why, size_t whylen)
{
    const struct kv_entry *prev = NULL;
    for (const struct kv_entry *e = *bucket(t, b); e; prev = e, e = e->next) {
        const char *bad = NULL;
        if (++*count > limit)
            bad = "holds more entries than the arena can (a cycle)";
        else if (e->klen == 0 || e->klen > KV_TABLE_KEY_MAX || e->vlen > KV_VALUE_MAX)
            bad = "has an entry with a bad key or value length";
        else if (e->hash != hash_key(e->data, e->klen) || e->hash % KV_BUCKETS != b)
            bad = "has an entry whose hash does not match its key or bucket";
        else if (prev && key_cmp(prev, e->data, e->klen) >= 0)
            bad = "is not sorted";
        if (bad) {
            snprintf(why, whylen, "bucket %u %s", b, bad);
            return -1;
        }
    }
    return 0;
}

int kv_table_check(uint64_t *count, char *why, size_t whylen)
{
    size_t size;
    *count = 0;
    if (rv_arena_check(why, whylen) < 0)
        return -1;
    struct kv_table *t = table();
    if (!t)
        return 0;
    rv_arena(&size);
    if (t->magic != KV_MAGIC) {
        snprintf(why, whylen, "the table's magic number is wrong");
        return -1;
    }
    for (uint32_t b = 0; b < KV_BUCKETS; b++)
        if (check_chain(t, b, count, size / 32, why, whylen) < 0)
            return -1;
    if (*count != t->count) {
        snprintf(why, whylen, "the table counts %llu keys but holds %llu",
                 (unsigned long long)t->count, (unsigned long long)*count);
        return -1;
    }
    return 0;
}

int kv_table_check_chain_of(const void *key, size_t klen)
{
    struct kv_table *t = table();
    size_t size;
    uint64_t count = 0;
    char why[96];
    if (!t)
        return 0;
    rv_arena(&size);
    return check_chain(t, (uint32_t)(hash_key(key, klen) % KV_BUCKETS), &count, size / 32, why, sizeof why);
}
