/* test_journal.c — unit tests of the SSR/journal layout and its commit rule
 * (src/lib/shared/journal.c).
 *
 * Each test formats a fresh session in two memfds mapped shared, as the
 * service runtime maps the ones revived hands it. A crash is simulated by
 * stopping a commit at a chosen point and then doing what a new instance
 * does first: roll back from the committed slot. The rule under test
 * (journal.h): the flip of `cur` is the commit point, so a crash before it
 * restores the old state and a crash after it keeps the new one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "journal.h"

#define LAYOUT 7u
#define SSR_SIZE 1000u   /* not a multiple of the checksum's 32-byte stride */
/* requests and replies of a size of their own, neither a multiple of 64 */
static const struct rv_journal_shape SHAPE = { SSR_SIZE, 100, 200 };

struct session {
    struct rv_journal *j;
    struct rv_ssr_hdr *ssr;
    size_t jbytes, sbytes;
};

/* -------------------------------------------------------------- helpers */

static void *map_memfd(const char *name, size_t len)
{
    int fd = memfd_create(name, MFD_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)len), 0);
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    assert_true(p != MAP_FAILED);
    return p;
}

static int session_setup(void **state)
{
    struct session *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    struct rv_slab_geom g;
    rv__slab_geom(&g, &SHAPE, 1, false);
    s->sbytes = g.ssr_stride;
    s->jbytes = g.journal_stride;
    s->ssr = map_memfd("test-ssr", s->sbytes);
    s->j = map_memfd("test-journal", s->jbytes);
    rv__session_format(s->j, s->ssr, &SHAPE, LAYOUT);
    *state = s;
    return 0;
}

static int session_teardown(void **state)
{
    struct session *s = *state;
    munmap(s->ssr, s->sbytes);
    munmap(s->j, s->jbytes);
    free(s);
    return 0;
}

static uint8_t *data_of(struct session *s) { return (uint8_t *)(s->ssr + 1); }

/* Fills the SSR with a pattern that depends on tag, so states differ. */
static void fill(struct session *s, uint8_t tag)
{
    for (size_t i = 0; i < SSR_SIZE; i++)
        data_of(s)[i] = (uint8_t)(i * 7 + tag);
}

static void assert_ssr_is(struct session *s, uint8_t tag)
{
    for (size_t i = 0; i < SSR_SIZE; i++)
        if (data_of(s)[i] != (uint8_t)(i * 7 + tag))
            fail_msg("SSR byte %zu is %u, want state %u", i, data_of(s)[i], tag);
    assert_true(rv__ssr_valid(s->ssr, LAYOUT, SSR_SIZE));
}

static void commit_state(struct session *s, uint8_t tag)
{
    fill(s, tag);
    rv__journal_commit(s->j, s->ssr);
}

/* A commit that dies just before its last store: every byte of the next
 * slot and the SSR header is written, but `cur` still names the old slot. */
static void commit_crashing_before_flip(struct session *s, uint8_t tag)
{
    uint32_t old = s->j->cur;
    commit_state(s, tag);
    assert_int_not_equal(s->j->cur, old);
    s->j->cur = old;
}

/* -------------------------------------------------------------- tests */

static void format_commits_a_valid_zero_state(void **state)
{
    struct session *s = *state;
    assert_int_equal(s->ssr->magic, RV_SSR_MAGIC);
    assert_int_equal(s->ssr->layout, LAYOUT);
    assert_int_equal(s->ssr->size, SSR_SIZE);
    assert_int_equal(s->j->magic, RV_JOURNAL_MAGIC);
    assert_int_equal(s->j->version, RV_JOURNAL_VERSION);
    assert_true(rv__ssr_valid(s->ssr, LAYOUT, SSR_SIZE));
    assert_true(rv__journal_committed_valid(s->j));
    struct rv_slot *c = rv__journal_committed(s->j);
    static const uint8_t zero[SSR_SIZE];
    assert_memory_equal(rv__slot_ssr(s->j, c), zero, SSR_SIZE);
    assert_int_equal(c->done_seq, 0);
    assert_int_equal(c->reply_attach, -1);
}

static void commit_stores_image_and_checksum(void **state)
{
    struct session *s = *state;
    uint32_t before = s->j->cur;
    commit_state(s, 1);
    assert_int_equal(s->j->cur, before ^ 1);
    struct rv_slot *c = rv__journal_committed(s->j);
    assert_memory_equal(rv__slot_ssr(s->j, c), data_of(s), SSR_SIZE);
    assert_true(c->sum == rv__checksum(data_of(s), SSR_SIZE));
    assert_true(s->ssr->sum == c->sum);
    assert_true(rv__ssr_valid(s->ssr, LAYOUT, SSR_SIZE));
    assert_true(rv__journal_committed_valid(s->j));
    /* a second commit alternates slots */
    commit_state(s, 2);
    assert_int_equal(s->j->cur, before);
    assert_memory_equal(rv__slot_ssr(s->j, rv__journal_committed(s->j)), data_of(s), SSR_SIZE);
}

static void rollback_restores_committed_image(void **state)
{
    struct session *s = *state;
    commit_state(s, 1);
    fill(s, 2);   /* a request's writes, never committed */
    assert_false(rv__ssr_valid(s->ssr, LAYOUT, SSR_SIZE));
    rv__journal_rollback(s->j, s->ssr);
    assert_ssr_is(s, 1);
}

static void crash_before_flip_keeps_old_state(void **state)
{
    struct session *s = *state;
    commit_state(s, 1);
    commit_crashing_before_flip(s, 2);
    rv__journal_rollback(s->j, s->ssr);
    assert_ssr_is(s, 1);
    assert_true(rv__journal_committed_valid(s->j));
}

static void crash_while_writing_next_slot_keeps_old_state(void **state)
{
    struct session *s = *state;
    commit_state(s, 1);
    struct rv_slot *next = rv__journal_slot(s->j, s->j->cur ^ 1);
    memset(rv__slot_ssr(s->j, next), 0xee, SSR_SIZE / 2);   /* a torn copy */
    next->sum = 12345;
    fill(s, 2);
    rv__journal_rollback(s->j, s->ssr);
    assert_ssr_is(s, 1);
}

static void crash_after_flip_keeps_new_state(void **state)
{
    struct session *s = *state;
    commit_state(s, 1);
    commit_state(s, 2);
    fill(s, 3);   /* the next request had begun writing */
    rv__journal_rollback(s->j, s->ssr);
    assert_ssr_is(s, 2);
}

static void ssr_valid_detects_changed_bytes(void **state)
{
    struct session *s = *state;
    commit_state(s, 1);
    static const size_t where[] = { 0, 1, 31, 32, 500, SSR_SIZE - 1 };
    for (size_t i = 0; i < sizeof where / sizeof *where; i++) {
        data_of(s)[where[i]] ^= 0x10;
        assert_false(rv__ssr_valid(s->ssr, LAYOUT, SSR_SIZE));
        data_of(s)[where[i]] ^= 0x10;
        assert_true(rv__ssr_valid(s->ssr, LAYOUT, SSR_SIZE));
    }
}

static void ssr_valid_detects_bad_header(void **state)
{
    struct session *s = *state;
    commit_state(s, 1);
    assert_false(rv__ssr_valid(s->ssr, LAYOUT + 1, SSR_SIZE));
    assert_false(rv__ssr_valid(s->ssr, LAYOUT, SSR_SIZE - 1));
    s->ssr->magic ^= 1;
    assert_false(rv__ssr_valid(s->ssr, LAYOUT, SSR_SIZE));
    s->ssr->magic ^= 1;
    s->ssr->size = SSR_SIZE - 1;
    assert_false(rv__ssr_valid(s->ssr, LAYOUT, SSR_SIZE));
    s->ssr->size = SSR_SIZE;
    s->ssr->layout = LAYOUT + 1;
    assert_false(rv__ssr_valid(s->ssr, LAYOUT, SSR_SIZE));
    s->ssr->layout = LAYOUT;
    assert_true(rv__ssr_valid(s->ssr, LAYOUT, SSR_SIZE));
}

static void committed_valid_detects_corruption(void **state)
{
    struct session *s = *state;
    commit_state(s, 1);
    struct rv_slot *c = rv__journal_committed(s->j);
    rv__slot_ssr(s->j, c)[SSR_SIZE - 1] ^= 0x80;
    assert_false(rv__journal_committed_valid(s->j));
    rv__slot_ssr(s->j, c)[SSR_SIZE - 1] ^= 0x80;
    assert_true(rv__journal_committed_valid(s->j));
    c->reply_len = SHAPE.max_reply + 1;
    assert_false(rv__journal_committed_valid(s->j));
    /* the other slot's state is irrelevant */
    c->reply_len = 0;
    memset(rv__slot_ssr(s->j, rv__journal_slot(s->j, s->j->cur ^ 1)), 0xab, SSR_SIZE);
    assert_true(rv__journal_committed_valid(s->j));
}

static void checksum_sees_every_single_bit_flip(void **state)
{
    (void)state;
    enum { N = 1031 };
    static uint8_t buf[N];
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (uint8_t)x;
    }
    uint64_t base = rv__checksum(buf, N);
    assert_true(rv__checksum(buf, N) == base);
    for (size_t i = 0; i < N; i++)
        for (int b = 0; b < 8; b++) {
            buf[i] ^= (uint8_t)(1u << b);
            if (rv__checksum(buf, N) == base)
                fail_msg("flipping bit %d of byte %zu leaves the checksum unchanged", b, i);
            buf[i] ^= (uint8_t)(1u << b);
        }
    /* the length is part of the sum: a zero tail is not invisible */
    static const uint8_t zeros[64];
    assert_true(rv__checksum(zeros, 63) != rv__checksum(zeros, 64));
}

/* Every record of a slab, SSR and journal, lies in the slab apart from
 * every other: 64-byte aligned, an SSR on pages of its own when they are
 * mprotected, the journal area on a page; inside a journal the request,
 * each slot's reply and each slot's image have their full sizes and do
 * not overlap. */
static void check_journal(const struct rv_slab_geom *g)
{
    const struct rv_journal_shape *sh = &g->shape;
    struct rv_journal *j = map_memfd("test-journal", g->journal_stride);
    j->ssr_size = sh->ssr_size;
    j->max_request = sh->max_request;
    j->max_reply = sh->max_reply;
    uint8_t *base = (uint8_t *)j, *end = base + g->journal_stride;
    struct rv_slot *s0 = rv__journal_slot(j, 0), *s1 = rv__journal_slot(j, 1);
    assert_true(j->req_body + sh->max_request <= (uint8_t *)s0);
    assert_true(s0->reply + sh->max_reply <= rv__slot_ssr(j, s0));
    assert_true(rv__slot_ssr(j, s0) + sh->ssr_size <= (uint8_t *)s1);
    assert_true(s1->reply + sh->max_reply <= rv__slot_ssr(j, s1));
    assert_true(rv__slot_ssr(j, s1) + sh->ssr_size <= end);
    assert_int_equal(rv__journal_slot_offset(sh, 1), (size_t)((uint8_t *)s1 - base));
    munmap(j, g->journal_stride);
}

static void slab_records_lie_apart(void **state)
{
    (void)state;
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    static const uint64_t sizes[] = { 0, 1, 63, 64, 1000, 4095, 4096, 4097, 1u << 20 };
    static const uint32_t payloads[] = { 0, 1, 64, 100, RV_MAX_PAYLOAD };
    size_t np = sizeof payloads / sizeof *payloads;
    for (size_t i = 0; i < 2 * np * sizeof sizes / sizeof *sizes; i++) {
        uint64_t records = 3;
        struct rv_journal_shape sh = { sizes[i / (2 * np)], payloads[(i / 2) % np], payloads[(i / 2 + 1) % np] };
        bool paged = i % 2;
        struct rv_slab_geom g;
        rv__slab_geom(&g, &sh, records, paged);
        assert_int_equal(g.ssr_stride % (paged ? pg : 64), 0);
        assert_int_equal(g.journal_stride % 64, 0);
        assert_true(g.ssr_stride >= sizeof(struct rv_ssr_hdr) + sh.ssr_size);
        assert_int_equal(g.journal_off % pg, 0);
        assert_int_equal(g.bytes % pg, 0);
        assert_true(g.journal_off >= records * g.ssr_stride);
        assert_true(g.bytes >= g.journal_off + records * g.journal_stride);
        assert_int_equal(rv__session_bytes(&sh, paged), g.ssr_stride + g.journal_stride);
        check_journal(&g);
    }
}

#define SESSION_TEST(f) cmocka_unit_test_setup_teardown(f, session_setup, session_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        SESSION_TEST(format_commits_a_valid_zero_state),
        SESSION_TEST(commit_stores_image_and_checksum),
        SESSION_TEST(rollback_restores_committed_image),
        SESSION_TEST(crash_before_flip_keeps_old_state),
        SESSION_TEST(crash_while_writing_next_slot_keeps_old_state),
        SESSION_TEST(crash_after_flip_keeps_new_state),
        SESSION_TEST(ssr_valid_detects_changed_bytes),
        SESSION_TEST(ssr_valid_detects_bad_header),
        SESSION_TEST(committed_valid_detects_corruption),
        cmocka_unit_test(checksum_sees_every_single_bit_flip),
        cmocka_unit_test(slab_records_lie_apart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
