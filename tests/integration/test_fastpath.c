/* test_fastpath.c — the fast path (ring.h, `fast_path = yes`): calls go
 * through the session's ring, not its socket; a reply that carries a
 * descriptor comes on the socket; a client that lies through its ring or
 * the doorbell (a garbled call, a huge one, a flood of rings, a doorbell
 * rewritten, an attempt to shrink the ring under the service) costs
 * itself alone; a call that waits on its ring hears when its session
 * ends; a call posted without a ring is answered all the same (revived
 * rings for it); and a service with workers serves its rings beside them.
 * Recovery across kills on the fast path is the whole recovery and fault
 * suites run again with it on (meson.build: recovery-fast, faults-fast). */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"
#include "ring.h"
#include "kv.h"
#include "testsvc.h"

#define POLICY "fast_path = yes\nmax_restarts = 100 in 10s\nrequest_timeout = 20s\nheartbeat = 10s\n"
#define MAX_RINGS 8

struct ring_map {
    struct rv_ring *r;
    char range[64];   /* its /proc/self/map_files name */
};

/* The mappings of memfds named `what` in this process. */
static size_t mapped(const char *what, struct ring_map *out)
{
    FILE *f = fopen("/proc/self/maps", "r");
    assert_non_null(f);
    char line[512];
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (!strstr(line, what) || sscanf(line, "%lx-%lx", &lo, &hi) != 2 || n == MAX_RINGS)
            continue;
        out[n].r = (struct rv_ring *)lo;
        snprintf(out[n].range, sizeof out[n].range, "%lx-%lx", lo, hi);
        n++;
    }
    fclose(f);
    return n;
}

static size_t mapped_rings(struct ring_map *out)
{
    return mapped("memfd:revive-ring", out);
}

/* The service's doorbell, as this process maps it. */
static struct rv_doorbell *mapped_doorbell(void)
{
    struct ring_map m[MAX_RINGS];
    assert_true(mapped("memfd:revive-doorbell", m) > 0);
    return (struct rv_doorbell *)m[0].r;
}

/* Opens a session of svc and finds the ring that came with it: the one
 * mapped now that was not before. */
static rv_session *open_svc_with_ring(const struct rvd *d, const char *svc, const char *args,
                                      struct ring_map *ring)
{
    struct ring_map before[MAX_RINGS], after[MAX_RINGS];
    size_t nb = mapped_rings(before);
    rv_session *s = open_session(d, svc, args);
    size_t na = mapped_rings(after);
    assert_int_equal(na, nb + 1);
    for (size_t i = 0; i < na; i++) {
        bool old = false;
        for (size_t k = 0; k < nb; k++)
            old |= before[k].r == after[i].r;
        if (!old)
            *ring = after[i];
    }
    return s;
}

static rv_session *open_with_ring(const struct rvd *d, const char *args, struct ring_map *ring)
{
    return open_svc_with_ring(d, "test", args, ring);
}

/* Waits until the service answers seq in the ring; false after IT_WAIT_MS. */
static bool ring_answered(struct rv_ring *r, uint64_t seq)
{
    struct timespec look = { 0, 100000000L };
    for (int waited = 0; waited < IT_WAIT_MS / 100; waited++) {
        uint32_t seen = __atomic_load_n(&r->answered, __ATOMIC_ACQUIRE);
        if (seen == (uint32_t)seq && r->reply.seq == seq)
            return true;
        syscall(SYS_futex, &r->answered, FUTEX_WAIT, seen, &look, NULL, 0);
    }
    return false;
}

static void start(struct rvd *d)
{
    char m[512];
    rvd_start(d, manifest_test(m, sizeof m, POLICY));
}

static void test_calls_go_through_the_ring(void **state)
{
    (void)state;
    struct rvd d;
    start(&d);
    struct ring_map ring;
    rv_session *s = open_with_ring(&d, NULL, &ring);
    for (uint64_t i = 1; i <= 5; i++)
        assert_int_equal(call_ok(s, TEST_INCR), i);
    assert_int_equal(ring.r->posted, 5);
    assert_int_equal(ring.r->answered, 5);
    assert_int_equal(ring.r->reply.status, 0);
    rv_close(s);
    rvd_stop(&d);
}

static void test_reply_with_descriptor_on_socket(void **state)
{
    (void)state;
    struct rvd d;
    start(&d);
    struct ring_map ring;
    rv_session *s = open_with_ring(&d, NULL, &ring);
    assert_int_equal(call_ok(s, TEST_INCR), 1);
    assert_int_equal(call_ok(s, TEST_STORE), 1);
    expect_fetch(s, 1);
    assert_int_equal(ring.r->posted, 3);   /* the call went into the ring, its reply said "on the socket" */
    assert_true(ring.r->reply.op & RV_RING_ON_SOCKET);
    assert_int_equal(call_ok(s, TEST_GET), 1);
    rv_close(s);
    rvd_stop(&d);
}

/* Posts a call into the ring by hand, as a lying client may, and rings. */
static void post(struct rv_ring *r, struct rv_doorbell *bell, struct rv_hdr h, uint64_t posted)
{
    r->req = h;
    __atomic_store_n(&r->posted, posted, __ATOMIC_RELEASE);
    rv__doorbell_ring(bell);
}

static void test_lying_client_costs_itself(void **state)
{
    (void)state;
    struct rvd d;
    start(&d);
    rv_session *honest = open_session(&d, "test", NULL);
    assert_int_equal(call_ok(honest, TEST_INCR), 1);
    struct ring_map ring;
    rv_session *liar = open_with_ring(&d, NULL, &ring);
    struct rv_doorbell *bell = mapped_doorbell();
    struct rv_ring *r = ring.r;

    post(r, bell, (struct rv_hdr){ .magic = 0xdead, .seq = 999 }, 1000);   /* garbled */
    assert_true(ring_answered(r, 1000));
    assert_int_equal(r->reply.status, RV_EPROTO);
    post(r, bell, rv__hdr_make(RV_T_CALL, 1001, TEST_INCR, 0, 1u << 30), 1001);   /* larger than it can be */
    assert_true(ring_answered(r, 1001));
    assert_int_equal(r->reply.status, RV_ETOOBIG);
    for (int i = 0; i < 10000; i++)   /* rings for nothing */
        rv__doorbell_ring(bell);
    bell->rung = 0;   /* undoes every ring: another's call waits for the instance's next look at most */
    bell->magic = 0;
    assert_int_equal(call_ok(honest, TEST_INCR), 2);
    struct ring_map later_ring;   /* a client that comes later still has the fast path */
    rv_session *later = open_with_ring(&d, NULL, &later_ring);
    assert_int_equal(call_ok(later, TEST_INCR), 1);
    assert_int_equal(later_ring.r->posted, 1);
    rv_close(later);
    char path[128];
    snprintf(path, sizeof path, "/proc/self/map_files/%s", ring.range);
    int ring_fd = open(path, O_RDWR);
    assert_true(ring_fd >= 0);
    assert_int_equal(ftruncate(ring_fd, 0), -1);   /* sealed: the service's mapping cannot be cut */
    assert_int_equal(errno, EPERM);
    close(ring_fd);

    assert_int_equal(call_ok(honest, TEST_INCR), 3);
    assert_int_equal(call_ok(liar, TEST_INCR), 1);   /* no refused call ran */
    struct svc_status st;
    svc_status(&d, "test", &st);
    assert_int_equal(st.restarts, 0);
    rv_close(liar);
    rv_close(honest);
    rvd_stop(&d);
}

/* Nothing wakes the ring when the service fails for good: the call looks
 * at its socket, hears revived's notice and ends. */
static void test_ended_session_ends_the_ring_call(void **state)
{
    (void)state;
    struct rvd d;
    char m[512], args[160], path[128];
    rvd_start(&d, manifest_test(m, sizeof m, "fast_path = yes\nmax_restarts = 0 in 10s\nrequest_timeout = 20s\n"
                                             "heartbeat = 10s\n"));
    struct fifo f;
    fifo_make(&d, "sync.fifo", &f);
    snprintf(args, sizeof args, "fifo=%s", rvd_file(&d, "sync.fifo", path, sizeof path));
    struct ring_map ring;
    struct slow_call c = { .s = open_with_ring(&d, args, &ring) };
    slow_call_start(&c);
    fifo_wait(&f);
    assert_int_equal(ring.r->posted, 1);   /* the call waits on the ring */
    ctl(&d, "kill", "test", "KILL");
    pthread_join(c.th, NULL);
    fifo_close(&f);
    assert_int_equal(c.rc, RV_ELOST);
    if (!strstr(rv_session_error(c.s), "failed"))
        fail_msg("the ended call says '%s', not that the service failed", rv_session_error(c.s));
    rv_close(c.s);
    rvd_stop(&d);
}

/* A service with workers (kv: 4) serves its rings' calls on one more
 * thread beside them, which claims each session as a worker does; a call
 * on the socket of a session the thread holds waits for it (workers.c). */
static void test_workers_serve_the_fast_path(void **state)
{
    (void)state;
    struct rvd d;
    rvd_start(&d, "[service kv]\nexec = rv-svc-kv\nstate = arena\narena_size = 1M\nssr_size = 0\n"
                  "fast_path = yes\n");
    struct ring_map ring;
    rv_session *s = open_svc_with_ring(&d, "kv", NULL, &ring);
    uint8_t put[] = { 3, 'k', 'e', 'y', 'v', 'a', 'l' }, replaced = 9;
    char got[16];
    size_t len = 0;
    assert_int_equal(rv_call(s, KV_PUT, put, sizeof put, &replaced, sizeof replaced, &len), 0);
    assert_int_equal(replaced, 0);
    assert_int_equal(rv_call(s, KV_GET, "key", 3, got, sizeof got, &len), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(got, "val", 3);
    assert_int_equal(ring.r->posted, 2);
    rv_close(s);
    rvd_stop(&d);
}

/* A call posted without a ring of the doorbell (its client died between,
 * or lies) is rung for by revived's stall check, within half a
 * request_timeout: it is answered, and the instance is not blamed. */
static void test_unrung_call_is_answered(void **state)
{
    (void)state;
    struct rvd d;
    char m[512];
    rvd_start(&d, manifest_test(m, sizeof m, "fast_path = yes\nrequest_timeout = 300ms\nheartbeat = 10s\n"));
    struct ring_map ring;
    rv_session *s = open_with_ring(&d, NULL, &ring);
    struct rv_ring *r = ring.r;
    r->req = rv__hdr_make(RV_T_CALL, 1, TEST_INCR, 0, 0);
    __atomic_store_n(&r->posted, 1, __ATOMIC_RELEASE);   /* and no ring */
    assert_true(ring_answered(r, 1));
    assert_int_equal(r->reply.status, 0);
    uint64_t counter;
    memcpy(&counter, rv__ring_reply_body(r, r->max_request), sizeof counter);
    assert_int_equal(counter, 1);
    struct svc_status st;
    svc_status(&d, "test", &st);
    assert_int_equal(st.restarts, 0);
    rv_close(s);   /* its library seq is behind the hand-posted call: not called again */
    rvd_stop(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_calls_go_through_the_ring, it_teardown),
        cmocka_unit_test_teardown(test_reply_with_descriptor_on_socket, it_teardown),
        cmocka_unit_test_teardown(test_lying_client_costs_itself, it_teardown),
        cmocka_unit_test_teardown(test_ended_session_ends_the_ring_call, it_teardown),
        cmocka_unit_test_teardown(test_workers_serve_the_fast_path, it_teardown),
        cmocka_unit_test_teardown(test_unrung_call_is_answered, it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
