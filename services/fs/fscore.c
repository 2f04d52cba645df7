/* fscore.c — ext2/ext4 operations by inode number; see fscore.h.
 *
 * libext2fs does the on-disk work (directories, extents, bitmaps); this
 * file adds what a mounted file system needs on top: POSIX semantics
 * (rename over a file, unlinked-but-open files, link counts, timestamps)
 * and the transaction around each operation. The image is only ever
 * changed through txnio, so an operation is applied whole or not at all,
 * and libext2fs's in-memory copies of the metadata (bitmaps, the group
 * descriptors, the superblock) are written into the transaction at its end
 * (ext2fs_flush2) or, when the operation fails, thrown away with it: the
 * file system is opened again from the image, which never saw the failed
 * operation.
 *
 * A file unlinked while open keeps its inode, on the image's orphan list
 * (s_last_orphan, chained through i_dtime, as the kernel's ext2/3/4 do),
 * until its last close; a file system mounted afresh frees what the list
 * still holds (fsc_reap_orphans). */
#include "fscore.h"

#include <dirent.h>
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "revive/server.h"
#include "fsdir.h"
#include "txnio.h"
#ifdef FS_TEST_HOOKS
#include "fs.h"
#endif

#define LINK_MAX_EXT4 65000     /* the kernel's EXT4_LINK_MAX */
#define ORPHAN_WALK_MAX 100000  /* a longer chain is a loop in a corrupt image */

typedef struct ext2_inode_large inode_t;

static ext2_filsys fs;
static bool (*file_is_open)(uint32_t ino);
static uint32_t next_generation;

/* ---- errors ---- */

static int errno_of(errcode_t e)
{
    if (e == 0)
        return 0;
    if (e > 0 && e < 256)
        return -(int)e;
    switch (e) {
    case EXT2_ET_FILE_NOT_FOUND: return -ENOENT;
    case EXT2_ET_DIR_EXISTS: return -EEXIST;
    case EXT2_ET_NO_DIRECTORY: return -ENOTDIR;
    case EXT2_ET_SYMLINK_LOOP: return -ELOOP;
    case EXT2_ET_FILE_TOO_BIG: return -EFBIG;
    case EXT2_ET_RO_FILSYS: return -EROFS;
    case EXT2_ET_DIR_NO_SPACE:
    case EXT2_ET_DIR_NO_SPACE_FOR_CSUM:
    case EXT2_ET_BLOCK_ALLOC_FAIL:
    case EXT2_ET_INODE_ALLOC_FAIL:
    case EXT2_ET_EA_NO_SPACE:
        return -ENOSPC;
    case EXT2_ET_NO_MEMORY:
        return txnio_dirty() > 0 ? -EFBIG : -ENOMEM;   /* txnio's full log says NO_MEMORY */
    default:
        rv_svc_log(LOG_ERR, "libext2fs: %s", error_message(e));
        return -EIO;
    }
}

/* ---- mounting ---- */

static const char *unsupported_feature(struct ext2_super_block *s)
{
    if (ext2fs_has_feature_journal_needs_recovery(s))
        return "its journal needs recovery (run e2fsck -fy on it first)";
    if (ext2fs_has_feature_inline_data(s))
        return "the inline_data feature is not supported";
    if (ext2fs_has_feature_encrypt(s))
        return "the encrypt feature is not supported";
    if (ext2fs_has_feature_casefold(s))
        return "the casefold feature is not supported";
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The pages libext2fs rewrites whole at every flush — the superblock's, the
 * group descriptors', every bitmap's — for txnio to log only when changed. */
static int compare_flushed_pages(void)
{
    static uint64_t *pages;
    size_t cap = 1 + fs->desc_blocks + 2 * (size_t)fs->group_desc_count, n = 0;
    uint64_t *p = realloc(pages, cap * sizeof *p);
    if (!p)
        return -ENOMEM;
    pages = p;
    uint64_t per_page = TXN_PAGE / fs->blocksize ? TXN_PAGE / fs->blocksize : 1;
    pages[n++] = 0;
    for (dgrp_t i = 0; i < fs->desc_blocks; i++)
        pages[n++] = ext2fs_descriptor_block_loc2(fs, fs->super->s_first_data_block, i) / per_page;
    for (dgrp_t g = 0; g < fs->group_desc_count; g++) {
        pages[n++] = ext2fs_block_bitmap_loc(fs, g) / per_page;
        pages[n++] = ext2fs_inode_bitmap_loc(fs, g) / per_page;
    }
    qsort(pages, n, sizeof *pages, cmp_u64);
    txnio_compare_pages(pages, n);
    return 0;
}

static int open_image(char *why, size_t whylen)
{
    errcode_t e = ext2fs_open2("revive-image", NULL, EXT2_FLAG_RW | EXT2_FLAG_64BITS, 0, 0, txnio_manager, &fs);
    if (e) {
        snprintf(why, whylen, "the image is not an ext2/3/4 file system: %s",
                 error_message(e));
        fs = NULL;
        return -EINVAL;
    }
    const char *bad = unsupported_feature(fs->super);
    if (bad || (e = ext2fs_read_bitmaps(fs))) {
        snprintf(why, whylen, "cannot serve the image: %s", bad ? bad : error_message(e));
        ext2fs_free(fs);
        fs = NULL;
        return -EINVAL;
    }
    fs->flags |= EXT2_FLAG_MASTER_SB_ONLY;     /* backups are e2fsck's, not every transaction's */
    fs->umask = 0;
    if (compare_flushed_pages() < 0) {
        snprintf(why, whylen, "out of memory");
        ext2fs_free(fs);
        fs = NULL;
        return -ENOMEM;
    }
    return 0;
}

int fsc_mount(bool (*is_open)(uint32_t ino), char *why, size_t whylen)
{
    initialize_ext2_error_table();      /* error_message() then names libext2fs's codes */
    file_is_open = is_open;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    next_generation = (uint32_t)(now.tv_nsec ^ now.tv_sec ^ (getpid() << 16));
    return open_image(why, whylen);
}

void fsc_unmount(void)
{
    if (fs)
        ext2fs_free(fs);
    fs = NULL;
}

/* ---- transactions ---- */

void fsc_begin(void (*apply_meta)(const void *meta, size_t len))
{
    if (txnio_committed())
        txnio_settle(apply_meta);
}

static bool memory_changed(void)
{
    return fs->flags & (EXT2_FLAG_DIRTY | EXT2_FLAG_BB_DIRTY | EXT2_FLAG_IB_DIRTY);
}

/* libext2fs's memory may hold what the thrown-away transaction did (a
 * bitmap bit, a cached inode): read everything again from the image. */
static void throw_away(void)
{
    bool reopen = txnio_dirty() > 0 || memory_changed();
    txnio_abort();
    if (!reopen)
        return;
    fsdir_forget_all();
    char why[256];
    ext2fs_free(fs);
    if (open_image(why, sizeof why) < 0) {
        rv_svc_log(LOG_CRIT, "cannot open the image again after a failed operation: %s", why);
        abort();
    }
}

int fsc_end(int rc, uint64_t tag_session, uint64_t tag_seq, const void *meta, size_t len)
{
    if (rc >= 0 && memory_changed()) {
        int f = errno_of(ext2fs_flush2(fs, 0));
        rc = f < 0 ? f : rc;
    }
    if (rc >= 0 && (txnio_dirty() > 0 || len > 0)) {
        int c = txnio_commit(tag_session, tag_seq, meta, len);
        rc = c < 0 ? c : rc;
    }
    if (rc < 0)
        throw_away();
    return rc;
}

/* ---- inodes ---- */

static int read_inode(uint32_t ino, inode_t *in)
{
    if (ino < EXT2_FIRST_INO(fs->super) && ino != EXT2_ROOT_INO)
        return -ENOENT;
    if (ino == 0 || ino > fs->super->s_inodes_count)
        return -ENOENT;
    memset(in, 0, sizeof *in);
    int rc = errno_of(ext2fs_read_inode_full(fs, ino, (struct ext2_inode *)in, sizeof *in));
    if (rc == 0 && (in->i_links_count == 0 && !ext2fs_test_inode_bitmap2(fs->inode_map, ino)))
        return -ENOENT;     /* freed: the kernel still knew it by number */
    return rc;
}

static int write_inode(uint32_t ino, inode_t *in)
{
    return errno_of(ext2fs_write_inode_full(fs, ino, (struct ext2_inode *)in, sizeof *in));
}

static bool fits(const inode_t *in, size_t field_end)
{
    return field_end <= (size_t)EXT2_GOOD_OLD_INODE_SIZE + in->i_extra_isize;
}
#define FITS(in, f) fits(in, offsetof(inode_t, f) + sizeof((in)->f))

static void put_time(__u32 *sec, __u32 *extra, bool has_extra, struct timespec ts)
{
    *sec = (__u32)ts.tv_sec;
    if (has_extra)
        *extra = (__u32)(((ts.tv_sec - (int32_t)*sec) >> 32) & EXT4_EPOCH_MASK) | ((__u32)ts.tv_nsec << EXT4_EPOCH_BITS);
}

static struct timespec get_time(__u32 sec, __u32 extra, bool has_extra)
{
    struct timespec ts = { .tv_sec = (int32_t)sec };
    if (has_extra) {
        ts.tv_sec += (time_t)(extra & EXT4_EPOCH_MASK) << 32;
        ts.tv_nsec = extra >> EXT4_EPOCH_BITS;
    }
    return ts;
}

static struct timespec now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts;
}

static void set_atime(inode_t *in, struct timespec t) { put_time(&in->i_atime, &in->i_atime_extra, FITS(in, i_atime_extra), t); }
static void set_mtime(inode_t *in, struct timespec t) { put_time(&in->i_mtime, &in->i_mtime_extra, FITS(in, i_mtime_extra), t); }
static void set_ctime(inode_t *in, struct timespec t) { put_time(&in->i_ctime, &in->i_ctime_extra, FITS(in, i_ctime_extra), t); }

static void set_owner(inode_t *in, uint32_t uid, uint32_t gid)
{
    in->i_uid = (__u16)uid;
    ext2fs_set_i_uid_high(*in, uid >> 16);
    in->i_gid = (__u16)gid;
    ext2fs_set_i_gid_high(*in, gid >> 16);
}

/* ctime, and mtime too when contents change (a directory's entries). */
static int touch(uint32_t ino, bool contents)
{
    inode_t in;
    int rc = read_inode(ino, &in);
    if (rc < 0)
        return rc;
    struct timespec t = now();
    set_ctime(&in, t);
    if (contents)
        set_mtime(&in, t);
    return write_inode(ino, &in);
}

int fsc_getattr(uint32_t ino, struct stat *st)
{
    inode_t in;
    int rc = read_inode(ino, &in);
    if (rc < 0)
        return rc;
    memset(st, 0, sizeof *st);
    st->st_ino = ino;
    st->st_mode = in.i_mode;
    st->st_nlink = in.i_links_count;
    st->st_uid = inode_uid(in);
    st->st_gid = inode_gid(in);
    st->st_size = (off_t)EXT2_I_SIZE(&in);
    st->st_blksize = fs->blocksize;
    st->st_blocks = (blkcnt_t)ext2fs_get_stat_i_blocks(fs, (struct ext2_inode *)&in);
    st->st_atim = get_time(in.i_atime, in.i_atime_extra, FITS(&in, i_atime_extra));
    st->st_mtim = get_time(in.i_mtime, in.i_mtime_extra, FITS(&in, i_mtime_extra));
    st->st_ctim = get_time(in.i_ctime, in.i_ctime_extra, FITS(&in, i_ctime_extra));
    if (LINUX_S_ISCHR(in.i_mode) || LINUX_S_ISBLK(in.i_mode))
        st->st_rdev = in.i_block[0] ? in.i_block[0] : in.i_block[1];
    return 0;
}

uint32_t fsc_generation(uint32_t ino)
{
    inode_t in;
    return read_inode(ino, &in) == 0 ? in.i_generation : 0;
}

int fsc_access(uint32_t ino, const struct fsc_cred *cred, int mask)
{
    inode_t in;
    int rc = read_inode(ino, &in);
    if (rc < 0)
        return rc;
    unsigned mode = in.i_mode;
    if (cred->uid == 0)     /* root: anything, but execute needs some x bit on a file */
        return (mask & X_OK) && !LINUX_S_ISDIR(mode) && !(mode & 0111) ? -EACCES : 0;
    unsigned bits = cred->uid == inode_uid(in) ? mode >> 6 : cred->gid == inode_gid(in) ? mode >> 3 : mode;
    return ((unsigned)mask & ~bits & 7) ? -EACCES : 0;
}

int fsc_statfs(struct statvfs *sv)
{
    const struct ext2_super_block *s = fs->super;
    blk64_t bfree = ext2fs_free_blocks_count(fs->super), reserved = ext2fs_r_blocks_count(fs->super);
    memset(sv, 0, sizeof *sv);
    sv->f_bsize = sv->f_frsize = fs->blocksize;
    sv->f_blocks = ext2fs_blocks_count(fs->super);
    sv->f_bfree = bfree;
    sv->f_bavail = bfree > reserved ? bfree - reserved : 0;
    sv->f_files = s->s_inodes_count;
    sv->f_ffree = sv->f_favail = s->s_free_inodes_count;
    memcpy(&sv->f_fsid, s->s_uuid, sizeof sv->f_fsid);
    sv->f_namemax = FSC_NAME_MAX;
    return 0;
}

/* ---- names ---- */

static int name_ok(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || strchr(name, '/'))
        return -EINVAL;
    return len > FSC_NAME_MAX ? -ENAMETOOLONG : 0;
}

int fsc_lookup(uint32_t dir, const char *name, uint32_t *ino)
{
    int rc = name_ok(name);
    if (rc < 0)
        return rc;
    inode_t d;
    if ((rc = read_inode(dir, &d)) < 0)
        return rc;
    if (!LINUX_S_ISDIR(d.i_mode))
        return -ENOTDIR;
    return errno_of(fsdir_lookup(fs, dir, name, ino));
}

static int dir_for_change(uint32_t dir, const char *name)
{
    uint32_t existing;
    int rc = fsc_lookup(dir, name, &existing);
    return rc == 0 ? -EEXIST : rc == -ENOENT ? 0 : rc;
}

static int file_type(unsigned mode)
{
    switch (mode & LINUX_S_IFMT) {
    case LINUX_S_IFREG: return EXT2_FT_REG_FILE;
    case LINUX_S_IFDIR: return EXT2_FT_DIR;
    case LINUX_S_IFCHR: return EXT2_FT_CHRDEV;
    case LINUX_S_IFBLK: return EXT2_FT_BLKDEV;
    case LINUX_S_IFIFO: return EXT2_FT_FIFO;
    case LINUX_S_IFSOCK: return EXT2_FT_SOCK;
    case LINUX_S_IFLNK: return EXT2_FT_SYMLINK;
    default: return EXT2_FT_UNKNOWN;
    }
}

static int add_entry(uint32_t dir, const char *name, uint32_t ino, unsigned mode)
{
    return errno_of(fsdir_add(fs, dir, name, ino, file_type(mode)));
}

static int remove_entry(uint32_t dir, const char *name, uint32_t ino)
{
    return errno_of(fsdir_remove(fs, dir, name, ino));
}

/* ---- creating ---- */

/* With metadata_csum, a directory block's checksum covers its inode's
 * generation, which libext2fs's mkdir leaves 0: after setting it, the
 * directory's first block ("." and "..") is written again. */
static int rewrite_first_dir_block(uint32_t parent, uint32_t ino)
{
    if (!ext2fs_has_feature_metadata_csum(fs->super))
        return 0;
    char *block;
    blk64_t blk;
    int rc = errno_of(ext2fs_new_dir_block(fs, ino, parent, &block));
    if (rc < 0)
        return rc;
    rc = errno_of(ext2fs_bmap2(fs, ino, NULL, NULL, 0, 0, NULL, &blk));
    if (rc == 0)
        rc = errno_of(ext2fs_write_dir_block4(fs, blk, block, 0, ino));
    ext2fs_free_mem(&block);
    return rc;
}

/* The fields every new inode gets after libext2fs made it. In a set-gid
 * directory it takes the directory's group, and a directory its set-gid
 * bit too, as on every Unix file system. */
static int finish_new(uint32_t dir, uint32_t ino, unsigned mode, const struct fsc_cred *cred)
{
    inode_t in, d;
    int rc = read_inode(ino, &in);
    if (rc < 0 || (rc = read_inode(dir, &d)) < 0)
        return rc;
    bool setgid_dir = d.i_mode & LINUX_S_ISGID;
    if (setgid_dir && LINUX_S_ISDIR(mode))
        mode |= LINUX_S_ISGID;
    in.i_mode = (__u16)mode;
    set_owner(&in, cred->uid, setgid_dir ? inode_gid(d) : cred->gid);
    in.i_generation = next_generation++;
    struct timespec t = now();
    set_atime(&in, t), set_mtime(&in, t), set_ctime(&in, t);
    if (FITS(&in, i_crtime_extra))
        put_time(&in.i_crtime, &in.i_crtime_extra, true, t);
    if ((rc = write_inode(ino, &in)) < 0)
        return rc;
    return LINUX_S_ISDIR(mode) ? rewrite_first_dir_block(dir, ino) : 0;
}

int fsc_mknod(uint32_t dir, const char *name, mode_t mode, dev_t rdev, const struct fsc_cred *cred, uint32_t *ino)
{
    int rc = dir_for_change(dir, name);
    if (rc < 0)
        return rc;
    if (file_type(mode) == EXT2_FT_UNKNOWN || LINUX_S_ISDIR(mode) || LINUX_S_ISLNK(mode))
        return -EINVAL;
    ext2_ino_t child;
    if ((rc = errno_of(ext2fs_new_inode(fs, dir, (int)mode, NULL, &child))) < 0)
        return rc;
    if ((rc = add_entry(dir, name, child, mode)) < 0)
        return rc;
    inode_t in;
    memset(&in, 0, sizeof in);
    in.i_mode = (__u16)mode;
    in.i_links_count = 1;
    in.i_extra_isize = sizeof(inode_t) - EXT2_GOOD_OLD_INODE_SIZE;
    if (LINUX_S_ISCHR(mode) || LINUX_S_ISBLK(mode))
        in.i_block[(rdev & ~0xFFFFu) ? 1 : 0] = (__u32)rdev;
    if (LINUX_S_ISREG(mode) && ext2fs_has_feature_extents(fs->super)) {
        ext2_extent_handle_t h;     /* opening the extent tree writes its empty header */
        if ((rc = errno_of(ext2fs_extent_open2(fs, child, (struct ext2_inode *)&in, &h))) < 0)
            return rc;
        ext2fs_extent_free(h);
    }
    if ((rc = errno_of(ext2fs_write_new_inode(fs, child, (struct ext2_inode *)&in))) < 0)
        return rc;
    ext2fs_inode_alloc_stats2(fs, child, +1, 0);
    if ((rc = finish_new(dir, child, mode, cred)) < 0 || (rc = touch(dir, true)) < 0)
        return rc;
    *ino = child;
    return 0;
}

/* libext2fs makes the inode (a directory's first block, a symlink's
 * target), and the entry is added here, as for every other name. */
static errcode_t make_dir(uint32_t dir, uint32_t ino, const char *arg)
{
    (void)arg;
    return ext2fs_mkdir(fs, dir, ino, NULL);
}

static errcode_t make_symlink(uint32_t dir, uint32_t ino, const char *target)
{
    return ext2fs_symlink(fs, dir, ino, NULL, target);
}

static int create_with(uint32_t dir, const char *name, unsigned mode, const struct fsc_cred *cred, uint32_t *ino,
                       errcode_t (*make)(uint32_t, uint32_t, const char *), const char *arg)
{
    int rc = dir_for_change(dir, name);
    if (rc < 0)
        return rc;
    ext2_ino_t child;
    if ((rc = errno_of(ext2fs_new_inode(fs, dir, (int)mode, NULL, &child))) < 0)
        return rc;
    if ((rc = errno_of(make(dir, child, arg))) < 0 || (rc = add_entry(dir, name, child, mode)) < 0)
        return rc;
    if ((rc = finish_new(dir, child, mode, cred)) < 0 || (rc = touch(dir, true)) < 0)
        return rc;
    *ino = child;
    return 0;
}

int fsc_mkdir(uint32_t dir, const char *name, mode_t mode, const struct fsc_cred *cred, uint32_t *ino)
{
#ifdef FS_TEST_HOOKS
    if (strcmp(name, FS_TEST_CRASH_NAME) == 0)
        abort();
#endif
    inode_t d;
    int rc = read_inode(dir, &d);
    if (rc < 0)
        return rc;
    if (d.i_links_count >= LINK_MAX_EXT4 && !ext2fs_has_feature_dir_nlink(fs->super))
        return -EMLINK;
    return create_with(dir, name, LINUX_S_IFDIR | (mode & 07777), cred, ino, make_dir, NULL);
}

int fsc_symlink(uint32_t dir, const char *name, const char *target, const struct fsc_cred *cred, uint32_t *ino)
{
    size_t len = strlen(target);
    if (len == 0)
        return -ENOENT;
    if (len >= fs->blocksize)
        return -ENAMETOOLONG;
    return create_with(dir, name, LINUX_S_IFLNK | 0777, cred, ino, make_symlink, target);
}

int fsc_link(uint32_t ino, uint32_t dir, const char *name)
{
    inode_t in;
    int rc = read_inode(ino, &in);
    if (rc < 0)
        return rc;
    if (LINUX_S_ISDIR(in.i_mode))
        return -EPERM;
    if (in.i_links_count >= LINK_MAX_EXT4)
        return -EMLINK;
    if ((rc = dir_for_change(dir, name)) < 0 || (rc = add_entry(dir, name, ino, in.i_mode)) < 0)
        return rc;
    if ((rc = read_inode(ino, &in)) < 0)
        return rc;
    in.i_links_count++;
    set_ctime(&in, now());
    if ((rc = write_inode(ino, &in)) < 0)
        return rc;
    return touch(dir, true);
}

/* ---- removing ---- */

static int free_inode(uint32_t ino, inode_t *in)
{
    int rc = errno_of(ext2fs_free_ext_attr(fs, ino, in));
    if (rc == 0 && ext2fs_inode_has_valid_blocks2(fs, (struct ext2_inode *)in))
        rc = errno_of(ext2fs_punch(fs, ino, (struct ext2_inode *)in, NULL, 0, ~0ULL));
    if (rc < 0)
        return rc;
    ext2fs_inode_alloc_stats2(fs, ino, -1, LINUX_S_ISDIR(in->i_mode));
    in->i_dtime = (__u32)now().tv_sec;
    return write_inode(ino, in);
}

static void orphan_add(uint32_t ino, inode_t *in)
{
    in->i_dtime = fs->super->s_last_orphan;
    fs->super->s_last_orphan = ino;
    ext2fs_mark_super_dirty(fs);
}

/* Takes ino off the orphan list; false if it was not on it. */
static int orphan_remove(uint32_t ino, const inode_t *in)
{
    uint32_t prev = 0, cur = fs->super->s_last_orphan;
    inode_t c;
    for (int n = 0; cur != 0 && cur != ino; n++) {
        if (n == ORPHAN_WALK_MAX || read_inode(cur, &c) < 0)
            return -EIO;
        prev = cur;
        cur = c.i_dtime;
    }
    if (cur == 0)
        return 0;
    if (prev == 0) {
        fs->super->s_last_orphan = in->i_dtime;
        ext2fs_mark_super_dirty(fs);
        return 0;
    }
    read_inode(prev, &c);
    c.i_dtime = in->i_dtime;
    return write_inode(prev, &c);
}

/* One link fewer (a directory: all of them); the last one frees the inode
 * or, while it is open, puts it on the orphan list. */
static int drop_link(uint32_t ino)
{
    inode_t in;
    int rc = read_inode(ino, &in);
    if (rc < 0)
        return rc;
    in.i_links_count = LINUX_S_ISDIR(in.i_mode) || in.i_links_count == 0 ? 0 : in.i_links_count - 1;
    set_ctime(&in, now());
    if (in.i_links_count > 0)
        return write_inode(ino, &in);
    if (!LINUX_S_ISDIR(in.i_mode) && file_is_open(ino)) {
        orphan_add(ino, &in);
        return write_inode(ino, &in);
    }
    return free_inode(ino, &in);
}

int fsc_release_orphan(uint32_t ino)
{
    inode_t in;
    int rc = read_inode(ino, &in);
    if (rc < 0 || in.i_links_count > 0)
        return rc == -ENOENT ? 0 : rc;
    if ((rc = orphan_remove(ino, &in)) < 0)
        return rc;
    return free_inode(ino, &in);
}

int fsc_reap_orphans(void)
{
    int rc = 0;
    uint32_t cur = fs->super->s_last_orphan;
    for (int n = 0; cur != 0 && rc == 0 && n < ORPHAN_WALK_MAX; n++) {
        inode_t in;
        if ((rc = read_inode(cur, &in)) < 0)
            break;
        uint32_t next = in.i_dtime;
        if (!file_is_open(cur))
            rc = fsc_release_orphan(cur);
        cur = next;
    }
    return rc;
}

static int dir_adjust_links(uint32_t dir, int delta)
{
    inode_t d;
    int rc = read_inode(dir, &d);
    if (rc < 0)
        return rc;
    if (delta < 0 && d.i_links_count > 2)
        d.i_links_count--;
    else if (delta > 0 && d.i_links_count > 1 && d.i_links_count < LINK_MAX_EXT4)
        d.i_links_count++;      /* 1 means "too many to count" (dir_nlink) */
    return write_inode(dir, &d);
}

static int dir_empty(uint32_t dir)
{
    bool empty;
    int rc = errno_of(fsdir_is_empty(fs, dir, &empty));
    return rc < 0 ? rc : empty ? 0 : -ENOTEMPTY;
}

int fsc_unlink(uint32_t dir, const char *name)
{
    uint32_t ino;
    inode_t in;
    int rc = fsc_lookup(dir, name, &ino);
    if (rc < 0 || (rc = read_inode(ino, &in)) < 0)
        return rc;
    if (LINUX_S_ISDIR(in.i_mode))
        return -EISDIR;
    if ((rc = remove_entry(dir, name, ino)) < 0 || (rc = touch(dir, true)) < 0)
        return rc;
    return drop_link(ino);
}

/* The entry dir/name for directory ino goes: ino is freed, dir loses the
 * link ino's ".." held. */
static int remove_dir_entry(uint32_t dir, const char *name, uint32_t ino)
{
    int rc = remove_entry(dir, name, ino);
    if (rc < 0 || (rc = drop_link(ino)) < 0 || (rc = dir_adjust_links(dir, -1)) < 0)
        return rc;
    fsdir_forget(ino);
    return touch(dir, true);
}

int fsc_rmdir(uint32_t dir, const char *name)
{
    if (strcmp(name, ".") == 0)
        return -EINVAL;
    if (strcmp(name, "..") == 0)
        return -ENOTEMPTY;
    uint32_t ino;
    inode_t in;
    int rc = fsc_lookup(dir, name, &ino);
    if (rc < 0 || (rc = read_inode(ino, &in)) < 0)
        return rc;
    if (!LINUX_S_ISDIR(in.i_mode))
        return -ENOTDIR;
    if (ino == FSC_ROOT)
        return -EBUSY;
    if ((rc = dir_empty(ino)) < 0)
        return rc;
    return remove_dir_entry(dir, name, ino);
}

/* ---- rename ---- */

/* Is `dir` the directory `ancestor` or below it? Walks ".." up to the root. */
static int is_within(uint32_t dir, uint32_t ancestor)
{
    for (int depth = 0; depth < 4096; depth++) {
        if (dir == ancestor)
            return 1;
        if (dir == FSC_ROOT)
            return 0;
        uint32_t up;
        int rc = fsc_lookup(dir, "..", &up);
        if (rc < 0)
            return rc;
        dir = up;
    }
    return -ELOOP;
}

/* Can the entry for `src` replace the existing `dst`? */
static int may_replace(const inode_t *src, uint32_t dst)
{
    inode_t d;
    int rc = read_inode(dst, &d);
    if (rc < 0)
        return rc;
    if (LINUX_S_ISDIR(src->i_mode) && !LINUX_S_ISDIR(d.i_mode))
        return -ENOTDIR;
    if (!LINUX_S_ISDIR(src->i_mode) && LINUX_S_ISDIR(d.i_mode))
        return -EISDIR;
    return LINUX_S_ISDIR(d.i_mode) ? dir_empty(dst) : 0;
}

/* Points newdir/newname at ino, taking the place of `old` (0: none). */
static int place_entry(uint32_t newdir, const char *newname, uint32_t ino, unsigned mode, uint32_t old)
{
    if (old == 0)
        return add_entry(newdir, newname, ino, mode);
    int rc = remove_entry(newdir, newname, old);
    if (rc < 0 || (rc = add_entry(newdir, newname, ino, mode)) < 0)
        return rc;
    if ((rc = drop_link(old)) < 0)
        return rc;
    if (!LINUX_S_ISDIR(mode))
        return 0;
    fsdir_forget(old);
    return dir_adjust_links(newdir, -1);
}

static int move_dir(uint32_t ino, uint32_t dir, uint32_t newdir)
{
    int rc = errno_of(fsdir_set_dotdot(fs, ino, newdir));
    if (rc < 0 || (rc = dir_adjust_links(dir, -1)) < 0)
        return rc;
    return dir_adjust_links(newdir, +1);
}

int fsc_rename(uint32_t dir, const char *name, uint32_t newdir, const char *newname, unsigned flags)
{
    if (flags & ~RENAME_NOREPLACE)
        return -EINVAL;
    uint32_t ino, old = 0;
    inode_t in;
    int rc = fsc_lookup(dir, name, &ino);
    if (rc < 0 || (rc = read_inode(ino, &in)) < 0 || (rc = name_ok(newname)) < 0)
        return rc;
    rc = fsc_lookup(newdir, newname, &old);
    if (rc < 0 && rc != -ENOENT)
        return rc;
    if (rc == 0 && (flags & RENAME_NOREPLACE))
        return -EEXIST;
    if (rc == 0 && old == ino)
        return 0;           /* two names of one file: POSIX says do nothing */
    old = rc == 0 ? old : 0;
    bool is_dir = LINUX_S_ISDIR(in.i_mode);
    if (is_dir && (rc = is_within(newdir, ino)) != 0)
        return rc < 0 ? rc : -EINVAL;
    if (old && (rc = may_replace(&in, old)) < 0)
        return rc;
    if ((rc = place_entry(newdir, newname, ino, in.i_mode, old)) < 0 ||
        (rc = remove_entry(dir, name, ino)) < 0)
        return rc;
    if (is_dir && dir != newdir && (rc = move_dir(ino, dir, newdir)) < 0)
        return rc;
    if ((rc = touch(ino, false)) < 0 || (rc = touch(dir, true)) < 0)
        return rc;
    return newdir == dir ? 0 : touch(newdir, true);
}

/* ---- contents ---- */

int fsc_readlink(uint32_t ino, char *buf, size_t size)
{
    inode_t in;
    int rc = read_inode(ino, &in);
    if (rc < 0)
        return rc;
    if (!LINUX_S_ISLNK(in.i_mode))
        return -EINVAL;
    size_t len = EXT2_I_SIZE(&in);
    if (len >= size)
        len = size - 1;
    if (ext2fs_is_fast_symlink((struct ext2_inode *)&in)) {
        memcpy(buf, in.i_block, len);
    } else {
        ssize_t got = fsc_read(ino, buf, len, 0);
        if (got < 0)
            return (int)got;
        len = (size_t)got;
    }
    buf[len] = '\0';
    return (int)len;
}

ssize_t fsc_read(uint32_t ino, void *buf, size_t size, uint64_t off)
{
    ext2_file_t f;
    unsigned got = 0;
    int rc = errno_of(ext2fs_file_open(fs, ino, 0, &f));
    if (rc < 0)
        return rc;
    rc = errno_of(ext2fs_file_llseek(f, off, EXT2_SEEK_SET, NULL));
    if (rc == 0)
        rc = errno_of(ext2fs_file_read(f, buf, (unsigned)size, &got));
    ext2fs_file_close(f);
    return rc < 0 ? rc : (ssize_t)got;
}

ssize_t fsc_write(uint32_t ino, const void *buf, size_t size, uint64_t off)
{
    inode_t in;
    int rc = read_inode(ino, &in);
    if (rc < 0)
        return rc;
    if (LINUX_S_ISDIR(in.i_mode))
        return -EISDIR;
    if (off + size < off || off + size > (uint64_t)fs->blocksize << 32)
        return -EFBIG;      /* past 2^32 blocks, ext4's largest file; ext2's are smaller, libext2fs says so */
    ext2_file_t f;
    unsigned put = 0;
    if ((rc = errno_of(ext2fs_file_open(fs, ino, EXT2_FILE_WRITE, &f))) < 0)
        return rc;
    rc = errno_of(ext2fs_file_llseek(f, off, EXT2_SEEK_SET, NULL));
    if (rc == 0)
        rc = errno_of(ext2fs_file_write(f, buf, (unsigned)size, &put));
    int rc_close = errno_of(ext2fs_file_close(f));
    if (rc < 0 || rc_close < 0)
        return rc < 0 ? rc : rc_close;
    if ((rc = touch(ino, true)) < 0)
        return rc;
    return (ssize_t)put;
}

static int set_size(uint32_t ino, uint64_t size)
{
    ext2_file_t f;
    int rc = errno_of(ext2fs_file_open(fs, ino, EXT2_FILE_WRITE, &f));
    if (rc < 0)
        return rc;
    rc = errno_of(ext2fs_file_set_size2(f, size));
    int rc_close = errno_of(ext2fs_file_close(f));
    return rc < 0 ? rc : rc_close;
}

int fsc_setattr(uint32_t ino, const struct fsc_setattr *sa)
{
    inode_t in;
    int rc = read_inode(ino, &in);
    if (rc < 0)
        return rc;
    if (sa->set & FSC_SET_SIZE) {
        if (LINUX_S_ISDIR(in.i_mode))
            return -EISDIR;
        if (!LINUX_S_ISREG(in.i_mode))
            return -EINVAL;
        if (EXT2_I_SIZE(&in) != sa->size && (rc = set_size(ino, sa->size)) < 0)
            return rc;
        if ((rc = read_inode(ino, &in)) < 0)
            return rc;
    }
    struct timespec t = now();
    if (sa->set & FSC_SET_MODE)
        in.i_mode = (__u16)((in.i_mode & LINUX_S_IFMT) | (sa->mode & 07777));
    if (sa->set & (FSC_SET_UID | FSC_SET_GID))
        set_owner(&in, sa->set & FSC_SET_UID ? sa->uid : inode_uid(in), sa->set & FSC_SET_GID ? sa->gid : inode_gid(in));
    if (sa->set & (FSC_SET_ATIME | FSC_SET_ATIME_NOW))
        set_atime(&in, sa->set & FSC_SET_ATIME_NOW ? t : sa->atime);
    if (sa->set & (FSC_SET_MTIME | FSC_SET_MTIME_NOW))
        set_mtime(&in, sa->set & FSC_SET_MTIME_NOW ? t : sa->mtime);
    if ((sa->set & FSC_SET_SIZE) && !(sa->set & (FSC_SET_MTIME | FSC_SET_MTIME_NOW)))
        set_mtime(&in, t);
    set_ctime(&in, sa->set & FSC_SET_CTIME ? sa->ctime : t);
    return write_inode(ino, &in);
}

/* ---- directories ---- */

struct listing {
    fsc_emit_fn emit;
    void *arg;
};

static unsigned dtype_of(unsigned ft)
{
    static const unsigned char map[] = { DT_UNKNOWN, DT_REG, DT_DIR, DT_CHR, DT_BLK, DT_FIFO, DT_SOCK, DT_LNK };
    return ft < sizeof map ? map[ft] : DT_UNKNOWN;
}

static bool list_one(const struct ext2_dir_entry *d, uint64_t pos, uint64_t next, void *arg)
{
    (void)pos;
    const struct listing *l = arg;
    return l->emit(d->name, (size_t)ext2fs_dirent_name_len(d), d->inode,
                   dtype_of((unsigned)ext2fs_dirent_file_type(d)), next, l->arg);
}

/* A cookie is an entry's byte position in the directory: stable while the
 * directory changes, as readdir wants. */
int fsc_readdir(uint32_t dir, uint64_t from, fsc_emit_fn emit, void *arg)
{
    inode_t d;
    int rc = read_inode(dir, &d);
    if (rc < 0)
        return rc;
    if (!LINUX_S_ISDIR(d.i_mode))
        return -ENOTDIR;
    struct listing l = { .emit = emit, .arg = arg };
    return errno_of(fsdir_scan(fs, dir, from, list_one, &l));
}
