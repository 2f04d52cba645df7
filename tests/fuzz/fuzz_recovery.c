/* fuzz_recovery.c — fuzz target for what the service runtime trusts when
 * it takes a session over after a restart: the session's journal and SSR
 * (src/lib/shared/journal.c, src/lib/server/serve.c), memory the dead
 * instance wrote and may have left torn or trampled.
 *
 * Each input describes one session as revived hands it over: the harness
 * formats a valid journal and SSR (journal.h) in a slab of one record, as
 * a bind and a few requests would have left them, applies the input's patches to their
 * bytes, optionally recomputes the checksums (so mutations get past them
 * to what follows), and then runs the runtime's own recovery on them:
 * rv__sess_attach, rv__sess_done (the arena's question), rv__sess_recover,
 * the re-run of a request in flight and the resending of the last reply,
 * as rv_service_main does, with a small service of its own (its handler,
 * validate and migrate hooks). Replies go to a socket the harness reads.
 *
 * Input:
 *   byte 0   bits 0-1 the protection (none, checksum, mprotect, none);
 *            bit 2 the session is the culprit, bit 3 poisoned; bits 4-7
 *            the stored descriptors (each /dev/null)
 *   byte 1   bit 0 the image was written by the old layout (1, not 2);
 *            bit 1 a request (seq 5) completed; bit 2 request 6 is in the
 *            journal; bit 3 checksums recomputed after the patches;
 *            bit 4 the last reply was sent; bits 5-7 the poisoned seq
 *   then     patches: u16 offset (top bit: into the SSR memfd, else the
 *            journal's; taken modulo its size), u8 length, the bytes
 *
 * Checked: a refused session says why; a recovered one has a valid
 * committed slot, an SSR stamped with this instance's layout that its
 * validate hook accepts, and no request left in flight once re-run; every
 * reply sent is well-formed; nothing leaks.
 */
#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "core.h"
#include "harness.h"
#include "serve.h"

#define HARNESS "fuzz_recovery"
#define LAYOUT 2
#define SSR_SIZE 64
#define COUNT_MAX 1000000u
#define MAX_REQUEST 100   /* the journal's shape: neither a multiple of 64 */
#define MAX_REPLY 40

/* The service's state, layout 2; layout 1 had no magic. */
struct state {
    uint32_t magic;
    uint32_t count;
    uint8_t last[SSR_SIZE - 8];
};
#define STATE_MAGIC 0x5a5a5546u

static int handle(rv_request *req)
{
    struct state *st = req->ssr;
    if (st->count < COUNT_MAX)
        st->count++;
    if (req->len)
        st->last[st->count % sizeof st->last] = ((const uint8_t *)req->data)[0];
    if (req->op == 1 && rv_reply_attach(req, 0) == 0)
        return 0;
    return rv_reply(req, req->data, req->len / 2);
}

static bool validate(rv_svc_session *s, const void *ssr)
{
    (void)s;
    const struct state *st = ssr;
    return st->magic == STATE_MAGIC && st->count <= COUNT_MAX;
}

static int migrate(rv_svc_session *s, uint32_t from, const void *old, void *ssr, size_t size)
{
    (void)s, (void)size;
    if (from != 1)
        return -1;
    struct state *st = ssr;
    memcpy(&st->count, old, sizeof *st - sizeof st->magic);
    st->magic = STATE_MAGIC;
    st->count = st->count > COUNT_MAX ? COUNT_MAX : st->count;
    return 0;
}

static const struct rv_service_ops ops = {
    .ssr_layout = LAYOUT, .ssr_size = SSR_SIZE, .handle = handle, .validate = validate, .migrate = migrate,
};

static int null_fd = -1, sv[2] = { -1, -1 };
static struct rv_ssr_hdr *ssr;
static struct rv_journal *journal;
static size_t ssr_len, journal_len;

/* The runtime's own slab mapping, of one record, laid out for mprotect
 * (an SSR on a page of its own) so that every protection can use it. */
static void map_slab(void)
{
    struct rv_slab_geom g;
    rv__slab_geom(&g, &rv__rt.shape, 1, true);
    int fd = memfd_create("fuzz-slab", MFD_CLOEXEC);
    char why[160];
    rv__rt.protect = RV_PROTECT_MPROTECT;
    if (fd < 0 || ftruncate(fd, (off_t)g.bytes) < 0 || rv__slab_map(fd, 1, why, sizeof why) < 0)
        fuzz_fail(HARNESS, "cannot map a slab");
    close(fd);
    ssr = (struct rv_ssr_hdr *)rv__rt.slab_ssrs;
    journal = (struct rv_journal *)rv__rt.slab_journals;
    ssr_len = rv__rt.slab.ssr_stride;
    journal_len = rv__rt.slab.journal_stride;
}

static void setup_once(void)
{
    static struct rv_status_page status;
    if (rv__rt.ops)
        return;
    fuzz_quiet();
    rv__rt.ops = &ops;
    rv__rt.status = &status;
    rv__rt.shape = (struct rv_journal_shape){ SSR_SIZE, MAX_REQUEST, MAX_REPLY };
    map_slab();
    null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    signal(SIGPIPE, SIG_IGN);
    if (null_fd < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
        fuzz_fail(HARNESS, "cannot open descriptors");
}

/* The next commit's slot, as the runtime fills it before committing. */
static struct rv_slot *next_slot(uint64_t done_seq)
{
    struct rv_slot *n = rv__journal_slot(journal, journal->cur ^ 1);
    n->done_seq = done_seq;
    n->reply_status = 0;
    n->reply_len = 0;
    n->reply_attach = -1;
    return n;
}

/* What a bind, then the requests byte 1 asks for, leave behind (through
 * the runtime's mapping, which the last input may have left PROT_NONE). */
static void format(uint8_t how)
{
    mprotect(ssr, ssr_len, PROT_READ | PROT_WRITE);
    uint32_t layout = how & 1 ? 1 : LAYOUT;
    rv__session_format(journal, ssr, &rv__rt.shape, layout);
    struct state *st = (struct state *)(ssr + 1);
    st->magic = layout == LAYOUT ? STATE_MAGIC : 0;
    next_slot(0);
    rv__journal_commit(journal, ssr);
    journal->bound = 1;
    if (how & 2) {
        st->count = 5;
        struct rv_slot *n = next_slot(5);
        n->reply_len = 3;
        memcpy(n->reply, "abc", 3);
        rv__journal_commit(journal, ssr);
    }
    if (how & 4) {
        journal->req = rv__hdr_make(RV_T_CALL, 6, 1, 0, 8);   /* op 1: the reply carries slot 0 */
        memcpy(journal->req_body, "request6", 8);
        st->count++;    /* the handler ran part-way */
    }
    if (how & 0x10)
        journal->sent_seq = rv__journal_committed(journal)->done_seq;
}

static void patch(const uint8_t *p, size_t n)
{
    while (n >= 3) {
        uint16_t off = (uint16_t)(p[0] | p[1] << 8);
        size_t len = p[2] < n - 3 ? p[2] : n - 3;
        uint8_t *base = off & 0x8000 ? (uint8_t *)ssr : (uint8_t *)journal;
        size_t size = off & 0x8000 ? ssr_len : journal_len, at = (off & 0x7fff) % size;
        len = len < size - at ? len : size - at;
        memcpy(base + at, p + 3, len);
        p += 3 + len;
        n -= 3 + len;
    }
}

/* As if the dead instance had committed exactly these bytes. */
static void fix_checksums(void)
{
    if (journal->cur <= 1 && journal->ssr_size == SSR_SIZE && journal->max_request == MAX_REQUEST &&
        journal->max_reply == MAX_REPLY) {
        struct rv_slot *c = rv__journal_committed(journal);
        c->sum = rv__checksum(rv__slot_ssr(journal, c), SSR_SIZE);
    }
    ssr->sum = rv__checksum(ssr + 1, SSR_SIZE);
}

static rv_svc_session *attach(uint8_t how, uint8_t poison_seq)
{
    struct rv_wire_session w = { .id = 1, .poison_seq = poison_seq, .stored_mask = how >> 4,
                                 .flags = (how & 4 ? RV_SESS_CULPRIT : 0) | (how & 8 ? RV_SESS_POISONED : 0) };
    int fds[1 + RV_MAX_STORED_FDS];
    size_t n = rv__wire_fds_of(&w);
    for (size_t i = 0; i < n; i++)
        if ((fds[i] = fcntl(i ? null_fd : sv[0], F_DUPFD_CLOEXEC, 0)) < 0)
            fuzz_fail(HARNESS, "dup");
    char why[128];
    rv_svc_session *s = rv__sess_attach(&w, fds, why, sizeof why);
    if (!s)
        fuzz_fail(HARNESS, "attach: %s", why);
    return s;
}

/* Every reply the session sent since the last call. */
static void drain(void)
{
    static struct rv_msg m;
    for (;;) {
        int r = rv__wire_recv(sv[1], &m, RV_MAX_PAYLOAD, MSG_DONTWAIT);
        if (r == -EAGAIN)
            return;
        if (r <= 0 || m.hdr.type != RV_T_REPLY)
            fuzz_fail(HARNESS, "the session sent a malformed reply (%d)", r);
        rv__msg_close_fds(&m);
    }
}

/* What rv__sess_recover promises of a session it keeps, and every request
 * after it too. */
static void check_sound(rv_svc_session *s, const char *when)
{
    struct rv_journal *j = s->j;
    if (j->cur > 1 || !rv__journal_committed_valid(j))
        fuzz_fail(HARNESS, "%s: the committed slot is not valid", when);
    if (!rv__ssr_valid(s->ssr, LAYOUT, SSR_SIZE) || !validate(s, s->ssr + 1))
        fuzz_fail(HARNESS, "%s: the SSR is not this instance's valid state", when);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup_once();
    if (size < 2)
        return 0;
    size_t fds_before = fuzz_count_fds();
    rv__rt.protect = (enum rv_ssr_protect)(data[0] & 3) % 3;
    format(data[1]);
    patch(data + 2, size - 2);
    if (data[1] & 8)
        fix_checksums();
    rv_svc_session *s = attach(data[0], data[1] >> 5);
    (void)rv__sess_done(&s, 1, 1, 5);
    char why[128] = "";
    if (rv__sess_recover(s, why, sizeof why)) {
        check_sound(s, "recovered");
        if (rv__sess_in_flight(s))
            rv__sess_rerun(s);
        rv__sess_resend_reply(s);
        if (rv__sess_in_flight(s))
            fuzz_fail(HARNESS, "a request is still in flight after its re-run");
        check_sound(s, "re-run");
    } else if (!why[0])
        fuzz_fail(HARNESS, "a session was refused without a reason");
    rv__sess_detach(s);
    drain();
    fuzz_expect_fds(HARNESS, fds_before, "descriptors leaked");
    return 0;
}

size_t fuzz_seed(size_t i, uint8_t *buf, size_t cap)
{
    static const uint8_t seeds[][8] = {
        { 0x00, 0x00 },             /* bound, nothing done */
        { 0x01, 0x02 },             /* checksum mode, one request done, its reply not sent */
        { 0x02, 0x16 },             /* mprotect, request 6 in flight, 5's reply sent */
        { 0x1c, 0xd6 },             /* culprit, poisoned at seq 6, a descriptor stored */
        { 0x00, 0x03 },             /* the old layout: migrated */
        { 0x10, 0x04 },             /* request 6's reply carries stored descriptor 0 */
        { 0x00, 0x08, 0x08, 0x00, 0x01, 0x05 },   /* a corrupt ssr_size, checksums fixed */
    };
    static const uint8_t lens[] = { 2, 2, 2, 2, 2, 2, 6 };
    if (i >= sizeof lens || cap < 8)
        return 0;
    memcpy(buf, seeds[i], lens[i]);
    return lens[i];
}
