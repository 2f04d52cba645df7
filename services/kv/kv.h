/* kv.h — the `kv` service's protocol, shared by the service (kv.c), its
 * client rv-kv and the tests. Keys are 1..KV_KEY_MAX bytes, values
 * 0..KV_VALUE_MAX bytes, both arbitrary bytes. Multi-byte integers are in
 * the host's order (client and service run on one machine).
 *
 *   KV_GET    key                                 -> value
 *   KV_PUT    u8 klen, key, value                 -> u8 1 if it replaced a value, 0 if new
 *   KV_DEL    key                                 -> empty
 *   KV_SCAN   struct kv_cursor, prefix            -> struct kv_cursor, u16 n, n x entry
 *             entry: u8 klen, u16 vlen, key, value
 *   KV_CHECK  empty                               -> u64 number of keys, or KV_ECORRUPT + why
 *
 * Every user has a table of its own: a key one user puts is invisible to
 * every other user, root included (the service stores it under the uid
 * revived names for the session's client, so no request can reach another
 * user's keys). KV_CHECK checks, and counts, the whole table.
 *
 * A scan returns the keys with the prefix in table order, as many as fit
 * in a reply, and the cursor to continue from (KV_SCAN_DONE: the end). A
 * key present for the whole scan is returned exactly once, whatever
 * changes meanwhile: chains are sorted, and the cursor names the bucket
 * and the last key returned from it.
 */
#ifndef RV_KV_H
#define RV_KV_H

#include <stdint.h>
#include "revive/base.h"

#define KV_KEY_MAX 64
#define KV_VALUE_MAX 1024
/* What the table stores: the owner's uid, then the key. */
#define KV_OWNER_BYTES 4
#define KV_TABLE_KEY_MAX (KV_OWNER_BYTES + KV_KEY_MAX)

enum kv_op { KV_GET = 1, KV_PUT = 2, KV_DEL = 3, KV_SCAN = 4, KV_CHECK = 5,
             /* rv-svc-kv-test only: a PUT that then blocks until killed */
             KV_PUT_SLOW = 100 };

enum kv_error {
    KV_ENOTFOUND = RV_EAPP_BASE - 1,  /* no such key */
    KV_EINVAL = RV_EAPP_BASE - 2,     /* a malformed request, a key or value too long */
    KV_EFULL = RV_EAPP_BASE - 3,      /* the arena is full */
    KV_ECORRUPT = RV_EAPP_BASE - 4,   /* KV_CHECK found a broken invariant */
};

#define KV_SCAN_DONE UINT32_MAX

struct kv_cursor {
    uint32_t bucket;          /* where to go on; KV_SCAN_DONE at the end */
    uint8_t after_len;        /* in that bucket, keys after this one (as stored); 0: from its start */
    uint8_t after[KV_TABLE_KEY_MAX];
    uint8_t pad[3];
};
_Static_assert(sizeof(struct kv_cursor) == 76, "the cursor has no hidden padding");

#endif
