/* fsdir.c — directory entries over the name cache; see fsdir.h.
 *
 * An ext2 directory block is a chain of entries, each with its length
 * (rec_len) reaching to the next; an entry's spare room past its name can
 * hold a new entry, and removing one gives its room to the entry before it
 * (or, first in its block, marks it unused). With metadata_csum the block
 * ends in a 12-byte tail holding its checksum, which writing the block
 * through libext2fs (ext2fs_write_dir_block4) recomputes. */
#include "fsdir.h"

#include <errno.h>
#include <string.h>
#include "dircache.h"

/* ---- scanning ---- */

struct scan {
    ext2_filsys fs;
    uint32_t dir;
    uint64_t from;
    fsdir_visit_fn visit;
    void *arg;
    char *buf;
    errcode_t err;
    bool stopped;
};

static errcode_t scan_block(struct scan *s, blk64_t blk, e2_blkcnt_t lblk)
{
    errcode_t e = ext2fs_read_dir_block4(s->fs, blk, s->buf, 0, s->dir);
    if (e)
        return e;
    unsigned bs = s->fs->blocksize;
    uint64_t base = (uint64_t)lblk * bs;
    for (unsigned off = 0; off + 8 <= bs;) {
        struct ext2_dir_entry *d = (struct ext2_dir_entry *)(s->buf + off);
        unsigned rec_len;
        if (ext2fs_get_rec_len(s->fs, d, &rec_len) || rec_len < 8 || off + rec_len > bs)
            return EXT2_ET_DIR_CORRUPTED;
        if (d->inode != 0 && ext2fs_dirent_name_len(d) > 0 && base + off >= s->from &&
            !s->visit(d, base + off, base + off + rec_len, s->arg)) {
            s->stopped = true;
            return 0;
        }
        off += rec_len;
    }
    return 0;
}

static int scan_blocks(ext2_filsys fs, blk64_t *blocknr, e2_blkcnt_t blockcnt, blk64_t ref_blk, int ref_offset,
                       void *arg)
{
    (void)ref_blk, (void)ref_offset;
    struct scan *s = arg;
    if (blockcnt < 0 || (uint64_t)(blockcnt + 1) * fs->blocksize <= s->from)
        return 0;
    s->err = scan_block(s, *blocknr, blockcnt);
    return s->err || s->stopped ? BLOCK_ABORT : 0;
}

errcode_t fsdir_scan(ext2_filsys fs, uint32_t dir, uint64_t from, fsdir_visit_fn visit, void *arg)
{
    struct scan s = { .fs = fs, .dir = dir, .from = from, .visit = visit, .arg = arg };
    errcode_t e = ext2fs_get_mem(fs->blocksize, &s.buf);
    if (e)
        return e;
    e = ext2fs_block_iterate3(fs, dir, BLOCK_FLAG_READ_ONLY | BLOCK_FLAG_DATA_ONLY, NULL, scan_blocks, &s);
    ext2fs_free_mem(&s.buf);
    return e ? e : s.err;
}

/* ---- the cache ---- */

struct fill {
    struct dc_dir *d;
    unsigned blocksize;
    bool lost;
};

static bool fill_one(const struct ext2_dir_entry *e, uint64_t pos, uint64_t next, void *arg)
{
    (void)next;
    struct fill *f = arg;
    if (!dc_put(f->d, e->name, (size_t)ext2fs_dirent_name_len(e), e->inode, (uint32_t)(pos / f->blocksize))) {
        f->lost = true;
        return false;
    }
    return true;
}

static errcode_t is_dir(ext2_filsys fs, uint32_t dir, struct ext2_inode *in)
{
    errcode_t e = ext2fs_read_inode(fs, dir, in);
    return e ? e : LINUX_S_ISDIR(in->i_mode) ? 0 : EXT2_ET_NO_DIRECTORY;
}

/* dir's names, read in if they are not cached; NULL (with *err 0) when
 * memory is short: callers then ask libext2fs. */
static struct dc_dir *names_of(ext2_filsys fs, uint32_t dir, errcode_t *err)
{
    *err = 0;
    struct dc_dir *d = dc_get(dir);
    if (d)
        return d;
    struct ext2_inode in;
    if ((*err = is_dir(fs, dir, &in)) || !(d = dc_make(dir)))
        return NULL;
    struct fill f = { .d = d, .blocksize = fs->blocksize };
    *err = fsdir_scan(fs, dir, 0, fill_one, &f);
    if (*err || f.lost) {
        if (!f.lost)
            dc_drop(dir);
        return NULL;
    }
    return d;
}

void fsdir_forget(uint32_t dir)
{
    dc_drop(dir);
}

void fsdir_forget_all(void)
{
    dc_clear();
}

errcode_t fsdir_lookup(ext2_filsys fs, uint32_t dir, const char *name, uint32_t *ino)
{
    errcode_t e;
    struct dc_dir *d = names_of(fs, dir, &e);
    uint32_t block;
    if (d)
        return dc_find(d, name, strlen(name), ino, &block) ? 0 : EXT2_ET_FILE_NOT_FOUND;
    if (e)
        return e;
    ext2_ino_t found;
    e = ext2fs_lookup(fs, dir, name, (int)strlen(name), NULL, &found);
    *ino = found;
    return e;
}

errcode_t fsdir_is_empty(ext2_filsys fs, uint32_t dir, bool *empty)
{
    errcode_t e;
    struct dc_dir *d = names_of(fs, dir, &e);
    if (!d)
        return e ? e : ENOMEM;
    *empty = dc_children(d) == 0;
    return 0;
}

/* ---- one block ---- */

static errcode_t block_of(ext2_filsys fs, uint32_t dir, uint32_t lblk, blk64_t *pblk)
{
    errcode_t e = ext2fs_bmap2(fs, dir, NULL, NULL, 0, lblk, NULL, pblk);
    return e ? e : *pblk ? 0 : EXT2_ET_DIR_CORRUPTED;
}

/* Where the entries end: before the checksum tail, if the block has one. */
static unsigned entries_end(ext2_filsys fs)
{
    return fs->blocksize - (ext2fs_has_feature_metadata_csum(fs->super) ? sizeof(struct ext2_dir_entry_tail) : 0);
}

static void fill_entry(ext2_filsys fs, struct ext2_dir_entry *d, const char *name, uint32_t ino, int ftype)
{
    size_t len = strlen(name);
    d->inode = ino;
    ext2fs_dirent_set_name_len(d, (int)len);
    ext2fs_dirent_set_file_type(d, ext2fs_has_feature_filetype(fs->super) ? ftype : 0);
    memcpy(d->name, name, len);
}

/* Puts the entry into block lblk of dir if it has room: EXT2_ET_DIR_NO_SPACE if not. */
static errcode_t block_insert(ext2_filsys fs, uint32_t dir, uint32_t lblk, char *buf, const char *name, uint32_t ino,
                              int ftype)
{
    blk64_t pblk;
    errcode_t e = block_of(fs, dir, lblk, &pblk);
    if (e || (e = ext2fs_read_dir_block4(fs, pblk, buf, 0, dir)))
        return e;
    unsigned need = EXT2_DIR_REC_LEN(strlen(name)), end = entries_end(fs), rec_len;
    for (unsigned off = 0; off < end; off += rec_len) {
        struct ext2_dir_entry *d = (struct ext2_dir_entry *)(buf + off);
        if ((e = ext2fs_get_rec_len(fs, d, &rec_len)) || rec_len < 8 || off + rec_len > end)
            return e ? e : EXT2_ET_DIR_CORRUPTED;
        unsigned used = d->inode ? EXT2_DIR_REC_LEN(ext2fs_dirent_name_len(d)) : 0;
        if (rec_len - used < need)
            continue;
        if (used) {     /* split: d keeps what it uses, the rest is the new entry's */
            if ((e = ext2fs_set_rec_len(fs, used, d)))
                return e;
            d = (struct ext2_dir_entry *)(buf + off + used);
            if ((e = ext2fs_set_rec_len(fs, rec_len - used, d)))
                return e;
        }
        fill_entry(fs, d, name, ino, ftype);
        return ext2fs_write_dir_block4(fs, pblk, buf, 0, dir);
    }
    return EXT2_ET_DIR_NO_SPACE;
}

static errcode_t block_remove(ext2_filsys fs, uint32_t dir, uint32_t lblk, char *buf, const char *name, uint32_t ino)
{
    blk64_t pblk;
    errcode_t e = block_of(fs, dir, lblk, &pblk);
    if (e || (e = ext2fs_read_dir_block4(fs, pblk, buf, 0, dir)))
        return e;
    size_t len = strlen(name);
    unsigned end = entries_end(fs), rec_len;
    struct ext2_dir_entry *prev = NULL;
    for (unsigned off = 0; off < end; off += rec_len) {
        struct ext2_dir_entry *d = (struct ext2_dir_entry *)(buf + off);
        if ((e = ext2fs_get_rec_len(fs, d, &rec_len)) || rec_len < 8 || off + rec_len > end)
            return e ? e : EXT2_ET_DIR_CORRUPTED;
        if (d->inode && (size_t)ext2fs_dirent_name_len(d) == len && memcmp(d->name, name, len) == 0 &&
            (!ino || d->inode == ino)) {
            unsigned prev_len;
            if (!prev)
                d->inode = 0;
            else if ((e = ext2fs_get_rec_len(fs, prev, &prev_len)) || (e = ext2fs_set_rec_len(fs, prev_len + rec_len, prev)))
                return e;
            return ext2fs_write_dir_block4(fs, pblk, buf, 0, dir);
        }
        prev = d;
    }
    return EXT2_ET_FILE_NOT_FOUND;
}

/* ---- adding and removing ---- */

static errcode_t with_block_buffer(ext2_filsys fs, char **buf)
{
    return ext2fs_get_mem(fs->blocksize, buf);
}

/* Where libext2fs puts it: a full scan for room (after removals), or a new
 * block at the end. The entry's block is then known only for the latter. */
static errcode_t add_anywhere(ext2_filsys fs, uint32_t dir, const char *name, uint32_t ino, int ftype, char *buf,
                              uint32_t *lblk)
{
    *lblk = DC_BLOCK_UNKNOWN;
    errcode_t e = ext2fs_link(fs, dir, name, ino, ftype);
    if (e != EXT2_ET_DIR_NO_SPACE || (e = ext2fs_expand_dir(fs, dir)))
        return e;
    struct ext2_inode in;
    if ((e = ext2fs_read_inode(fs, dir, &in)))
        return e;
    *lblk = (uint32_t)(EXT2_I_SIZE(&in) / fs->blocksize) - 1;
    e = block_insert(fs, dir, *lblk, buf, name, ino, ftype);
    return e == EXT2_ET_DIR_NO_SPACE ? ext2fs_link(fs, dir, name, ino, ftype) : e;
}

errcode_t fsdir_add(ext2_filsys fs, uint32_t dir, const char *name, uint32_t ino, int ftype)
{
    struct ext2_inode in;
    char *buf;
    errcode_t e = is_dir(fs, dir, &in);
    if (e || (e = with_block_buffer(fs, &buf)))
        return e;
    uint32_t blocks = (uint32_t)(EXT2_I_SIZE(&in) / fs->blocksize), lblk = blocks - 1;
    bool indexed = in.i_flags & EXT2_INDEX_FL;
    e = indexed || blocks == 0 ? EXT2_ET_DIR_NO_SPACE : block_insert(fs, dir, lblk, buf, name, ino, ftype);
    if (e == EXT2_ET_DIR_NO_SPACE)
        e = indexed ? ext2fs_link(fs, dir, name, ino, ftype) : add_anywhere(fs, dir, name, ino, ftype, buf, &lblk);
    if (indexed && e == EXT2_ET_DIR_NO_SPACE && !(e = ext2fs_expand_dir(fs, dir)))
        e = ext2fs_link(fs, dir, name, ino, ftype);
    ext2fs_free_mem(&buf);
    struct dc_dir *d = dc_get(dir);
    if (!e && d)
        dc_put(d, name, strlen(name), ino, indexed ? DC_BLOCK_UNKNOWN : lblk);
    return e;
}

errcode_t fsdir_remove(ext2_filsys fs, uint32_t dir, const char *name, uint32_t ino)
{
    struct ext2_inode in;
    char *buf;
    errcode_t e = is_dir(fs, dir, &in);
    if (e || (e = with_block_buffer(fs, &buf)))
        return e;
    struct dc_dir *d = dc_get(dir);
    uint32_t found, lblk = DC_BLOCK_UNKNOWN;
    if (d && !dc_find(d, name, strlen(name), &found, &lblk))
        e = EXT2_ET_FILE_NOT_FOUND;
    else if (lblk != DC_BLOCK_UNKNOWN && !(in.i_flags & EXT2_INDEX_FL))
        e = block_remove(fs, dir, lblk, buf, name, ino);
    else
        e = ext2fs_unlink(fs, dir, name, ino, 0);
    ext2fs_free_mem(&buf);
    if (!e && (d = dc_get(dir)))
        dc_del(d, name, strlen(name));
    return e;
}

struct dotdot {
    uint32_t to;
};

static int point_dotdot(ext2_ino_t dir, int entry, struct ext2_dir_entry *d, int offset, int blocksize, char *buf,
                        void *arg)
{
    (void)dir, (void)entry, (void)offset, (void)blocksize, (void)buf;
    if (ext2fs_dirent_name_len(d) == 2 && d->name[0] == '.' && d->name[1] == '.') {
        d->inode = ((struct dotdot *)arg)->to;
        return DIRENT_CHANGED | DIRENT_ABORT;
    }
    return 0;
}

errcode_t fsdir_set_dotdot(ext2_filsys fs, uint32_t dir, uint32_t parent)
{
    struct dotdot dd = { parent };
    errcode_t e = ext2fs_dir_iterate2(fs, dir, 0, NULL, point_dotdot, &dd);
    struct dc_dir *d = dc_get(dir);
    if (!e && d)
        dc_put(d, "..", 2, parent, 0);
    return e;
}
