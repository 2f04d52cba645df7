/* dircache.h — the names of the directories fscore has looked into, in
 * process memory: name -> (inode, the directory block holding the entry).
 *
 * ext2's directories are lists: without this, every lookup, every create
 * (which must first check the name is free) and every unlink reads and
 * checksums the whole directory, and a directory of n files costs O(n) per
 * operation. A directory is read once, on its first lookup; after that
 * fscore keeps its entry here in step with every change it makes to the
 * directory. It is only a copy: it dies with the process, and is thrown
 * away whole when a transaction is (the image never saw what it recorded).
 */
#ifndef RV_FS_DIRCACHE_H
#define RV_FS_DIRCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DC_BLOCK_UNKNOWN UINT32_MAX    /* an entry whose block is not known */

struct dc_dir;

/* The cached directory dir, or NULL. */
struct dc_dir *dc_get(uint32_t dir);
/* A new, empty entry for dir (replacing any), to be filled with dc_put. */
struct dc_dir *dc_make(uint32_t dir);
/* Forgets dir (removed, or changed in a way not followed here). */
void dc_drop(uint32_t dir);
/* Forgets every directory. */
void dc_clear(void);

/* Adds or updates a name; false if memory ran out and d was forgotten (d
 * is then gone: look the directory up again). */
bool dc_put(struct dc_dir *d, const char *name, size_t len, uint32_t ino, uint32_t block);
bool dc_find(const struct dc_dir *d, const char *name, size_t len, uint32_t *ino, uint32_t *block);
void dc_del(struct dc_dir *d, const char *name, size_t len);
/* Entries besides "." and "..". */
size_t dc_children(const struct dc_dir *d);

#endif
