/* kv_table.h — the `kv` service's hash table, kept in the service's arena
 * (revive/arena.h); kv_table.c says how it stays consistent across crashes.
 * Writers call kv_table_put/del with the arena's exclusive lock (they take
 * it); readers hold the shared lock around get/scan/check. */
#ifndef RV_KV_TABLE_H
#define RV_KV_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kv.h"

struct kv_entry;

/* The entry for key, or NULL. */
const struct kv_entry *kv_table_get(const void *key, size_t klen);
const void *kv_entry_value(const struct kv_entry *e, size_t *vlen);
const void *kv_entry_key(const struct kv_entry *e, size_t *klen);

/* 0 (*replaced says whether the key existed), or KV_EFULL. */
int kv_table_put(const void *key, size_t klen, const void *value, size_t vlen, bool *replaced);
/* 0, or KV_ENOTFOUND. */
int kv_table_del(const void *key, size_t klen);

/* Calls emit for each entry with the prefix, from cursor c on, until emit
 * returns false (the reply is full: c then names that entry's bucket and
 * the last key emitted) or the table ends (c->bucket = KV_SCAN_DONE). */
void kv_table_scan(struct kv_cursor *c, const void *prefix, size_t plen,
                   bool (*emit)(const struct kv_entry *e, void *arg), void *arg);

/* Checks the table's invariants and the arena's; returns 0 with the number
 * of keys in *count, or -1 with a sentence in why. */
int kv_table_check(uint64_t *count, char *why, size_t whylen);
/* The chain key's bucket alone, as kv_table_check checks every chain:
 * 0, or -1 if it is broken. */
int kv_table_check_chain_of(const void *key, size_t klen);

#endif
