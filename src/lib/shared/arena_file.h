/* arena_file.h — the layout of the file that keeps an arena durable
 * (`arena_file = PATH`), shared by revived, which creates it with this size
 * and holds it, and the service runtime, which reads and writes it
 * (src/lib/arena_file.c says how).
 *
 *   [header: 4 KiB][image: arena_size bytes][redo log: RV_ARENA_WAL_BYTES]
 *
 * The image is the arena as of the last checkpoint; the redo log holds
 * every transaction committed since, each written and fdatasync'ed before
 * its request is answered. The arena itself stays in revived's memfd: the
 * file is its durable copy, read back when a new revived starts.
 */
#ifndef RV_ARENA_FILE_H
#define RV_ARENA_FILE_H

#include <stdint.h>

#define RV_ARENA_FILE_HDR 4096u
#define RV_ARENA_WAL_BYTES (4u << 20)

static inline uint64_t rv__arena_file_bytes(uint64_t arena_size)
{
    return RV_ARENA_FILE_HDR + arena_size + RV_ARENA_WAL_BYTES;
}

#endif
