/* arena.c — the arena of a `state = arena` service: its mapping, its
 * allocator and its persistent undo logs (include/revive/arena.h says what a
 * service sees).
 *
 * Layout, at RV_ARENA_BASE in every instance:
 *
 *   [header page][undo log 0]...[undo log 15][heap ........................]
 *
 * The header holds the service's root pointer and the allocator's state;
 * each writing thread owns one undo log while this instance runs.
 *
 * Undo log. A record is {addr, len, old bytes (rounded up to 8), size}: the
 * size at the end lets recovery walk the log backwards. A block fresh from
 * the allocator gets a record without old bytes (len carries FRESH): there
 * is nothing to undo in it, but its bytes are the request's to make
 * durable (arena_file.c writes every range of the log at the commit). A record is written
 * completely, then `used` grows over it with one store, and only then does
 * the caller write to addr (the compiler fence keeps that order; a SIGKILL
 * stops a thread between instructions, so the order the thread executed is
 * the order memory sees). So at any crash point every write already made is
 * covered by a record, and a record torn by the crash is past `used`. The
 * log is tagged with the request (session, seq) that wrote it.
 *
 * Commit. The commit point of a request is its journal's commit (journal.h),
 * which the runtime makes before it empties the log (`used` = 0) and only
 * then sends the reply; with an arena file, the log's ranges are made
 * durable in between. Recovery therefore keeps a log whose request the
 * journal shows completed (the crash fell between the two stores), and rolls
 * every other non-empty log back — newest first, by the epoch each log took
 * at its first record — restoring the old bytes in reverse order; then it
 * makes every log's ranges durable as they now are, and only then empties
 * the logs. Rolling back twice restores the same bytes, so a crash during
 * recovery is harmless.
 *
 * Threads. The first write of a request takes an exclusive lock held until
 * the commit: writers are serialised through their commit, so a log never
 * depends on another thread's uncommitted writes and each rolls back alone.
 *
 * Allocator: 19 size classes from 32 to 16384 bytes (steps of 1.5x and
 * 2x), each block an 8-byte header {magic, class, in use} and its payload;
 * a free list per class, linked through the first payload word; new blocks
 * are cut from `bump`. Whole pages for big, long-lived buffers are cut from
 * the other end (`top`, growing down) and never given back. Everything it changes is logged in the caller's log,
 * including the whole block on free: a request that frees a block and then
 * gets it back from alloc can still be rolled back to the old contents.
 */
#include "arena_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "fail.h"
#include "revive/arena.h"

#define ARENA_MAGIC 0x414e455241565201ull   /* "RVARENA" + 1 */
#define ARENA_VERSION 1
#define HDR_BYTES 4096
#define SLOT_BYTES (RV_ARENA_LOG_BYTES + 64)
#define HEAP_OFFSET (HDR_BYTES + RV_ARENA_THREADS * SLOT_BYTES)
#define NCLASSES 19
#define BLOCK_MAGIC 0xb10cu
#define REC_MIN 24   /* addr, len, size: a record of no bytes */
#define FRESH (1ull << 63)   /* in a record's len: a fresh block, no old bytes */

struct log_slot {
    uint64_t used;            /* record bytes; 0 = empty: the commit store */
    uint64_t session, seq;    /* the request that wrote it; 0: none */
    uint64_t epoch;           /* orders the logs of a rollback, newest first */
    uint64_t reserved[4];
    uint8_t rec[RV_ARENA_LOG_BYTES];
};
_Static_assert(sizeof(struct log_slot) == SLOT_BYTES, "a log slot is 32 KiB");

struct arena_hdr {
    uint64_t magic, version, size, base;
    void *root;               /* the service's */
    uint64_t bump;            /* address of the first byte never allocated */
    uint64_t epoch;
    uint64_t top;             /* the lowest byte rv_arena_alloc_pages gave out; 0: none yet */
    uint64_t free_head[NCLASSES];
};
_Static_assert(sizeof(struct arena_hdr) <= HDR_BYTES, "the header fits its page");

struct block {
    uint16_t magic;
    uint16_t cls;
    uint32_t in_use;
};

static struct arena_hdr *hdr;        /* NULL: no arena */
static uint64_t arena_size;
static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static bool slot_taken[RV_ARENA_THREADS];
static pthread_key_t slot_key;
static pthread_once_t slot_key_once = PTHREAD_ONCE_INIT;
static __thread struct log_slot *t_slot;
static __thread bool t_writer;
static __thread unsigned t_shared;
static __thread uint64_t t_session, t_seq;   /* the request this thread serves: rv__arena_request */

/* ---- places ---- */

static uint64_t heap_start(void) { return RV_ARENA_BASE + HEAP_OFFSET; }
static uint64_t arena_end(void) { return RV_ARENA_BASE + arena_size; }
/* Where the blocks may grow to: below the pages given out. */
static uint64_t heap_end(void) { return hdr->top ? hdr->top : arena_end(); }

static struct log_slot *slot_at(unsigned i)
{
    return (struct log_slot *)(RV_ARENA_BASE + HDR_BYTES + (uint64_t)i * SLOT_BYTES);
}

/* What a log may restore: the header's fields (root, allocator) or the
 * heap; never a log itself. */
static bool loggable(uint64_t a, uint64_t len)
{
    uint64_t h = RV_ARENA_BASE + offsetof(struct arena_hdr, root);
    if (a >= h && a <= RV_ARENA_BASE + sizeof(struct arena_hdr) &&
        len <= RV_ARENA_BASE + sizeof(struct arena_hdr) - a)
        return true;
    return a >= heap_start() && a <= arena_end() && len <= arena_end() - a;
}

static size_t class_size(unsigned c)
{
    return (size_t)((c % 2 ? 48 : 32) << (c / 2));
}

static uint64_t round8(uint64_t n) { return (n + 7) & ~(uint64_t)7; }

/* ---- locks and slots ---- */

static void release_slot(void *p)
{
    struct log_slot *s = p;
    pthread_mutex_lock(&slots_lock);
    slot_taken[s - slot_at(0)] = false;
    pthread_mutex_unlock(&slots_lock);
}

static void make_slot_key(void)
{
    if (pthread_key_create(&slot_key, release_slot) != 0)
        rv__fail_stop("cannot create the arena's thread key");
}

/* The calling thread's undo log, claimed on its first write; a thread
 * that ends gives it back (its log is empty: the runtime committed). */
static struct log_slot *my_slot(void)
{
    if (t_slot)
        return t_slot;
    pthread_once(&slot_key_once, make_slot_key);
    pthread_mutex_lock(&slots_lock);
    for (unsigned i = 0; i < RV_ARENA_THREADS && !t_slot; i++)
        if (!slot_taken[i]) {
            slot_taken[i] = true;
            t_slot = slot_at(i);
        }
    pthread_mutex_unlock(&slots_lock);
    if (!t_slot)
        rv__fail_stop("more threads write the arena than it has undo logs (RV_ARENA_THREADS)");
    pthread_setspecific(slot_key, t_slot);
    return t_slot;
}

static void need_arena(const char *what)
{
    if (!hdr) {
        char why[96];
        snprintf(why, sizeof why, "%s: this service has no arena (state = arena in the manifest)", what);
        rv__fail_stop(why);
    }
}

void rv_arena_lock(void)
{
    need_arena("rv_arena_lock");
    if (t_writer)
        return;
    if (t_shared)
        rv__fail_stop("a thread that holds the arena's shared lock writes to it");
    pthread_rwlock_wrlock(&lock);
    t_writer = true;
}

static void unlock_writer(void)
{
    if (t_writer)
        pthread_rwlock_unlock(&lock);
    t_writer = false;
}

void rv_arena_lock_shared(void)
{
    if (hdr && !t_writer && t_shared++ == 0)
        pthread_rwlock_rdlock(&lock);
}

void rv_arena_unlock_shared(void)
{
    if (hdr && !t_writer && t_shared && --t_shared == 0)
        pthread_rwlock_unlock(&lock);
}

/* ---- the undo log ---- */

void rv__arena_request(uint64_t session, uint64_t seq)
{
    t_session = session;
    t_seq = seq;
}

/* The log belongs to the request this thread serves (or to none): a log
 * with writes from outside a request becomes part of the next request. */
static void tag(struct log_slot *s)
{
    if (s->used == 0)
        s->epoch = ++hdr->epoch;
    if (s->session != t_session || s->seq != t_seq) {
        s->session = t_session;
        s->seq = t_seq;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
    }
}

/* A record read back before it joins the log: a corrupted address, length
 * or old value (a soft error) would make recovery undo the wrong bytes, or
 * find the log corrupt and fail every restart. Not yet published, a bad
 * record is simply not part of the log when the instance fails stop. */
static bool record_sound(const uint8_t *r, const void *addr, size_t len, uint64_t size)
{
    uint64_t a, l, trailer;
    memcpy(&a, r, 8);
    memcpy(&l, r + 8, 8);
    memcpy(&trailer, r + size - 8, 8);
    return a == (uint64_t)(uintptr_t)addr && l == len && trailer == size && memcmp(r + 16, addr, len) == 0;
}

/* Through a volatile pointer, so the check reads memory afresh. */
static bool (*volatile check_record)(const uint8_t *, const void *, size_t, uint64_t) = record_sound;

void rv_arena_log(const void *addr, size_t len)
{
    need_arena("rv_arena_log");
    uint64_t a = (uint64_t)(uintptr_t)addr;
    if (!loggable(a, len))
        rv__fail_stop("rv_arena_log: the range is not in the arena's root or heap");
    rv_arena_lock();
    struct log_slot *s = my_slot();
    uint64_t size = REC_MIN + round8(len);
    if (size > RV_ARENA_LOG_BYTES - s->used)
        rv__fail_stop("a request logged more arena bytes than its undo log holds (RV_ARENA_LOG_BYTES)");
    tag(s);
    uint8_t *r = s->rec + s->used;
    memcpy(r, &a, 8);
    memcpy(r + 8, &(uint64_t){ len }, 8);
    memcpy(r + 16, addr, len);
    memcpy(r + size - 8, &size, 8);
    if (!check_record(r, addr, len, size))
        rv__fail_stop("rv_arena_log: the record just written does not read back");
    __atomic_store_n(&s->used, s->used + size, __ATOMIC_RELEASE);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);   /* the caller's write comes after */
}

/* A record for a block fresh from the allocator: nothing to undo (the
 * allocator's own records free it again), but the request's to persist. */
static void log_fresh(const void *addr, size_t len)
{
    struct log_slot *s = my_slot();
    if (REC_MIN > RV_ARENA_LOG_BYTES - s->used)
        rv__fail_stop("a request logged more arena bytes than its undo log holds (RV_ARENA_LOG_BYTES)");
    tag(s);
    uint8_t *r = s->rec + s->used;
    uint64_t a = (uint64_t)(uintptr_t)addr, l = len | FRESH, size = REC_MIN;
    memcpy(r, &a, 8);
    memcpy(r + 8, &l, 8);
    memcpy(r + 16, &size, 8);
    __atomic_store_n(&s->used, s->used + size, __ATOMIC_RELEASE);
}

/* Checks a log from its end back to its start: every record whole and
 * restoring only what a log may restore. */
static bool log_valid(const struct log_slot *s)
{
    uint64_t end = s->used;
    if (end > RV_ARENA_LOG_BYTES || end % 8)
        return false;
    while (end) {
        uint64_t size, a, len;
        memcpy(&size, s->rec + end - 8, 8);
        if (size < REC_MIN || size > end || size % 8)
            return false;
        memcpy(&a, s->rec + end - size, 8);
        memcpy(&len, s->rec + end - size + 8, 8);
        uint64_t bytes = len & ~FRESH;
        if ((len & FRESH ? REC_MIN : REC_MIN + round8(bytes)) != size || !loggable(a, bytes))
            return false;
        end -= size;
    }
    return true;
}

/* Restores every record's old bytes, newest first. */
static void restore(const struct log_slot *s)
{
    uint64_t end = s->used;
    while (end) {
        uint64_t size, a, len;
        memcpy(&size, s->rec + end - 8, 8);
        memcpy(&a, s->rec + end - size, 8);
        memcpy(&len, s->rec + end - size + 8, 8);
        if (!(len & FRESH))
            memcpy((void *)(uintptr_t)a, s->rec + end - size + 16, len);
        end -= size;
    }
}

/* With an arena file, every range the log covers goes to the file as it
 * is now, as one transaction, durable before the log is forgotten. */
static void make_durable(const struct log_slot *s)
{
    if (!rv__arena_file_on())
        return;
    for (uint64_t at = 0; at < s->used;) {
        uint64_t a, len;
        memcpy(&a, s->rec + at, 8);
        memcpy(&len, s->rec + at + 8, 8);
        rv__arena_file_add((const uint8_t *)hdr, a - RV_ARENA_BASE, len & ~FRESH);
        at += len & FRESH ? REC_MIN : REC_MIN + round8(len);
    }
    rv__arena_file_commit((const uint8_t *)hdr);
}

static void forget(struct log_slot *s)
{
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    __atomic_store_n(&s->used, 0, __ATOMIC_RELEASE);
}

void rv_arena_commit(void)
{
    if (t_slot && t_slot->used) {
        make_durable(t_slot);
        forget(t_slot);
    }
    unlock_writer();
}

/* A live rollback: nothing of the attempt reached the file. */
void rv_arena_abort(void)
{
    if (t_slot && t_slot->used) {
        restore(t_slot);
        forget(t_slot);
    }
    unlock_writer();
}

/* ---- the allocator ---- */

static struct block *block_of(const void *p)
{
    return (struct block *)((uint8_t *)p - sizeof(struct block));
}

/* The block p is the payload of, if it is one: in the heap, well formed. */
static struct block *checked_block(const void *p, const char *what)
{
    uint64_t a = (uint64_t)(uintptr_t)p;
    struct block *b = block_of(p);
    if (a < heap_start() + sizeof *b || a >= arena_end() || a % 8 || b->magic != BLOCK_MAGIC ||
        b->cls >= NCLASSES || b->in_use != 1) {
        char why[128];
        snprintf(why, sizeof why, "%s: %p is not an allocated block of the arena (freed twice?)", what, p);
        rv__fail_stop(why);
    }
    return b;
}

/* A free-list link: 0, or a free block of class c inside the heap. */
static bool free_link_ok(uint64_t a, unsigned c)
{
    if (a == 0)
        return true;
    const struct block *b = (const struct block *)(uintptr_t)a;
    return a >= heap_start() && a + class_size(c) <= arena_end() && a % 8 == 0 && b->magic == BLOCK_MAGIC &&
           b->cls == c && b->in_use == 0;
}

/* What alloc and free just did, checked independently (through a volatile
 * pointer, so the compiler cannot reuse their values): the block's class
 * holds the size, and the free list they touched still links free blocks
 * of that class. A corrupted value (a soft error) in the allocator would
 * otherwise be committed and break every later request that allocates;
 * failing stop lets the next instance roll the request back. */
static bool alloc_sound(const struct block *b, size_t size, unsigned c)
{
    return b->cls == c && class_size(c) - sizeof *b >= size && free_link_ok(hdr->free_head[c], c);
}

static bool (*volatile check_alloc)(const struct block *, size_t, unsigned) = alloc_sound;

static bool free_sound(const struct block *b)
{
    uint64_t next;
    memcpy(&next, b + 1, 8);
    return hdr->free_head[b->cls] == (uint64_t)(uintptr_t)b && free_link_ok(next, b->cls);
}

static bool (*volatile check_free)(const struct block *) = free_sound;

void *rv_arena_alloc(size_t size)
{
    need_arena("rv_arena_alloc");
    unsigned c = 0;
    while (c < NCLASSES && class_size(c) - sizeof(struct block) < size)
        c++;
    if (size == 0 || c == NCLASSES)
        return NULL;
    rv_arena_lock();
    struct block *b = (struct block *)(uintptr_t)hdr->free_head[c];
    if (b) {
        /* the block's header and its link word: the caller overwrites both */
        rv_arena_log(&hdr->free_head[c], 8);
        rv_arena_log(b, sizeof *b + 8);
        memcpy(&hdr->free_head[c], b + 1, 8);
    } else {
        if (class_size(c) > heap_end() - hdr->bump)
            return NULL;
        rv_arena_log(&hdr->bump, 8);
        b = (struct block *)(uintptr_t)hdr->bump;
        hdr->bump += class_size(c);
    }
    *b = (struct block){ .magic = BLOCK_MAGIC, .cls = (uint16_t)c, .in_use = 1 };
    if (!check_alloc(b, size, c))
        rv__fail_stop("rv_arena_alloc: the block or its free list is inconsistent");
    log_fresh(b, class_size(c));
    return b + 1;
}

void rv_arena_free(void *p)
{
    if (!p)
        return;
    need_arena("rv_arena_free");
    rv_arena_lock();
    struct block *b = checked_block(p, "rv_arena_free");
    rv_arena_log(b, class_size(b->cls));
    rv_arena_log(&hdr->free_head[b->cls], 8);
    b->in_use = 0;
    memcpy(b + 1, &hdr->free_head[b->cls], 8);
    hdr->free_head[b->cls] = (uint64_t)(uintptr_t)b;
    if (!check_free(b))
        rv__fail_stop("rv_arena_free: the free list is inconsistent");
}

void *rv_arena_alloc_pages(size_t size)
{
    need_arena("rv_arena_alloc_pages");
    uint64_t n = ((uint64_t)size + 4095) & ~(uint64_t)4095;
    rv_arena_lock();
    if (size == 0 || n > heap_end() - hdr->bump)
        return NULL;
    uint64_t at = heap_end() - n;
    rv_arena_log(&hdr->top, 8);
    hdr->top = at;
    return (void *)(uintptr_t)at;
}

size_t rv_arena_usable(const void *p)
{
    need_arena("rv_arena_usable");
    return class_size(checked_block(p, "rv_arena_usable")->cls) - sizeof(struct block);
}

/* ---- checking ---- */

static int bad(char *why, size_t whylen, const char *fmt, unsigned long long a, unsigned long long b)
{
    snprintf(why, whylen, fmt, a, b);
    return -1;
}

/* Walks the heap block by block up to bump; counts the free ones per class. */
static int check_heap(uint64_t nfree[NCLASSES], char *why, size_t whylen)
{
    uint64_t a = heap_start();
    if (hdr->bump < a || hdr->bump > heap_end() || heap_end() > arena_end() || heap_end() % 4096)
        return bad(why, whylen, "bump %#llx is outside the heap (ends %#llx)", hdr->bump, heap_end());
    while (a < hdr->bump) {
        const struct block *b = (const struct block *)(uintptr_t)a;
        if (b->magic != BLOCK_MAGIC || b->cls >= NCLASSES || b->in_use > 1 ||
            class_size(b->cls) > hdr->bump - a)
            return bad(why, whylen, "malformed block header at %#llx (heap in use up to %#llx)", a, hdr->bump);
        nfree[b->cls] += !b->in_use;
        a += class_size(b->cls);
    }
    return 0;
}

/* Each free list holds exactly the free blocks of its class: as many as
 * the heap walk counted, each one free and of the class. */
static int check_free_lists(const uint64_t nfree[NCLASSES], char *why, size_t whylen)
{
    for (unsigned c = 0; c < NCLASSES; c++) {
        uint64_t n = 0;
        for (uint64_t a = hdr->free_head[c]; a; n++) {
            const struct block *b = (const struct block *)(uintptr_t)a;
            if (n == nfree[c] || a < heap_start() || a >= hdr->bump || a % 8 ||
                b->magic != BLOCK_MAGIC || b->cls != c || b->in_use)
                return bad(why, whylen, "free list %llu is broken at %#llx", c, a);
            memcpy(&a, b + 1, 8);
        }
        if (n != nfree[c])
            return bad(why, whylen, "free list %llu misses %llu free blocks", c, nfree[c] - n);
    }
    return 0;
}

int rv_arena_check(char *why, size_t whylen)
{
    uint64_t nfree[NCLASSES] = { 0 };
    if (!hdr) {
        snprintf(why, whylen, "this service has no arena");
        return -1;
    }
    rv_arena_lock_shared();
    int rc = check_heap(nfree, why, whylen);
    if (rc == 0)
        rc = check_free_lists(nfree, why, whylen);
    if (rc == 0 && hdr->root && ((uint64_t)(uintptr_t)hdr->root < heap_start() ||
                                 (uint64_t)(uintptr_t)hdr->root >= hdr->bump))
        rc = bad(why, whylen, "the root %#llx is outside the allocated heap (ends %#llx)",
                 (unsigned long long)(uintptr_t)hdr->root, hdr->bump);
    rv_arena_unlock_shared();
    return rc;
}

/* ---- mapping and recovery ---- */

void *rv_arena(size_t *size)
{
    if (size)
        *size = hdr ? (size_t)arena_size : 0;
    return hdr;
}

void **rv_arena_root(void)
{
    return hdr ? &hdr->root : NULL;
}

int rv__arena_attach(int fd, uint64_t size, char *why, size_t whylen)
{
    struct stat st;
    if (size < HEAP_OFFSET + class_size(NCLASSES - 1) || fstat(fd, &st) < 0 || (uint64_t)st.st_size != size) {
        snprintf(why, whylen, "the arena memfd is not the %llu bytes revived announced, or below the minimum of %d",
                 (unsigned long long)size, HEAP_OFFSET + (int)class_size(NCLASSES - 1));
        return -1;
    }
    void *p = mmap((void *)RV_ARENA_BASE, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
    if (p == MAP_FAILED || p != (void *)RV_ARENA_BASE) {
        int e = errno;
        if (p != MAP_FAILED)
            munmap(p, size);   /* a kernel that ignores MAP_FIXED_NOREPLACE placed it elsewhere */
        snprintf(why, whylen, "cannot map the arena at its fixed address %#llx: %s",
                 (unsigned long long)RV_ARENA_BASE,
                 p != MAP_FAILED ? "this kernel does not honour MAP_FIXED_NOREPLACE"
                 : e == EEXIST   ? "something else is mapped there in this process"
                                 : strerror(e));
        return -1;
    }
    hdr = p;
    arena_size = size;
    return 0;
}

void rv__arena_detach(void)
{
    rv__arena_file_detach();
    if (hdr)
        munmap(hdr, arena_size);
    hdr = NULL;
    t_slot = NULL;
    memset(slot_taken, 0, sizeof slot_taken);
}

static void format(void)
{
    hdr->version = ARENA_VERSION;
    hdr->size = arena_size;
    hdr->base = RV_ARENA_BASE;
    hdr->bump = heap_start();
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    __atomic_store_n(&hdr->magic, ARENA_MAGIC, __ATOMIC_RELEASE);   /* formatted only once all is set */
}


/* The non-empty, not yet restored log with the highest epoch, or NULL. */
static struct log_slot *newest_to_restore(const bool restored[RV_ARENA_THREADS])
{
    struct log_slot *best = NULL;
    for (unsigned i = 0; i < RV_ARENA_THREADS; i++) {
        struct log_slot *s = slot_at(i);
        if (s->used && !restored[i] && (!best || s->epoch > best->epoch))
            best = s;
    }
    return best;
}

/* Undoes every log whose request did not commit, newest first; keeps the
 * others. Then, memory being all committed state, makes every log's
 * ranges durable (the file learns of the undo too) and forgets the logs. */
static void settle_logs(bool (*committed)(uint64_t session, uint64_t seq))
{
    bool restored[RV_ARENA_THREADS] = { false };
    for (unsigned i = 0; i < RV_ARENA_THREADS; i++) {
        struct log_slot *s = slot_at(i);
        if (s->used && !log_valid(s))
            rv__fail_stop("an undo log of the arena is corrupt: its writes cannot be undone");
        restored[i] = s->used && s->session && committed(s->session, s->seq);   /* kept: nothing to restore */
    }
    for (struct log_slot *s; (s = newest_to_restore(restored));) {
        rv__log(RV_LOG_NOTICE, "arena: undoing the writes of an interrupted request (session %llu, request %llu)",
                  (unsigned long long)s->session, (unsigned long long)s->seq);
        restore(s);
        restored[s - slot_at(0)] = true;
    }
    for (unsigned i = 0; i < RV_ARENA_THREADS; i++)
        if (slot_at(i)->used) {
            make_durable(slot_at(i));
            forget(slot_at(i));
        }
}

void rv__arena_recover(bool (*committed)(uint64_t session, uint64_t seq))
{
    if (!hdr)
        return;
    rv__arena_file_recover((uint8_t *)hdr);
    if (hdr->magic == 0) {
        format();
        rv__arena_file_add((const uint8_t *)hdr, 0, sizeof *hdr);
        rv__arena_file_commit((const uint8_t *)hdr);
        return;
    }
    if (hdr->magic != ARENA_MAGIC || hdr->version != ARENA_VERSION || hdr->size != arena_size ||
        hdr->base != RV_ARENA_BASE)
        rv__fail_stop("the arena's header is corrupt, or from an incompatible build");
    settle_logs(committed);
}
