/* fsdir.h — directory entries, for fscore: names looked up through the
 * name cache (dircache.h), and entries added to and removed from the one
 * block the cache knows holds them, where libext2fs would read and
 * checksum the whole directory each time.
 *
 * Functions return libext2fs error codes: EXT2_ET_FILE_NOT_FOUND for a
 * missing name, EXT2_ET_NO_DIRECTORY for a file, errno values for the rest.
 * Inline-data directories are not handled (fscore refuses such images). */
#ifndef RV_FS_FSDIR_H
#define RV_FS_FSDIR_H

#include <stdbool.h>
#include <stdint.h>
#include <ext2fs/ext2fs.h>

errcode_t fsdir_lookup(ext2_filsys fs, uint32_t dir, const char *name, uint32_t *ino);
/* name -> ino, of file type ftype (EXT2_FT_*), into dir: in the last block
 * if it has room, else where libext2fs finds room, else in a new block. */
errcode_t fsdir_add(ext2_filsys fs, uint32_t dir, const char *name, uint32_t ino, int ftype);
errcode_t fsdir_remove(ext2_filsys fs, uint32_t dir, const char *name, uint32_t ino);
/* Points dir's ".." at parent (dir moved). */
errcode_t fsdir_set_dotdot(ext2_filsys fs, uint32_t dir, uint32_t parent);
errcode_t fsdir_is_empty(ext2_filsys fs, uint32_t dir, bool *empty);
/* dir is gone; every directory is (a transaction was thrown away). */
void fsdir_forget(uint32_t dir);
void fsdir_forget_all(void);

/* Visits dir's entries from byte position `from` on, each with its
 * position and the next one's, until visit returns false. */
typedef bool (*fsdir_visit_fn)(const struct ext2_dir_entry *d, uint64_t pos, uint64_t next, void *arg);
errcode_t fsdir_scan(ext2_filsys fs, uint32_t dir, uint64_t from, fsdir_visit_fn visit, void *arg);

#endif
