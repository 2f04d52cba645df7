/* test_dataspace.c — dataspaces and the watcher: the
 * example producer (a real process) is killed while this consumer has its
 * whole buffer mapped and invokes nothing. The watcher must find the death
 * — at once in event mode, within a period in periodic mode — the unmap
 * action must leave no byte of the dead buffer readable, and the handler
 * must map the restarted producer's buffer at the same address. A producer
 * that never returns gives a clear error, and the watcher stops watching. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"
#include "revive/cap.h"
#include "revive/dataspace.h"
#include "../../examples/ringbuf/ring.h"

#define ATTACH_WAIT_MS 5000
/* Slack for a periodic watcher: revived must see the death and close the
 * lifeline, and two threads must be scheduled, on a loaded 2-core VM. */
#define SCHED_SLACK_MS 400

static uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* A producer process; returns once it provides the ring, with its id. */
static struct proc start_producer(const struct rvd *d, uint64_t *id)
{
    const char *argv[] = { RV_IT_EXAMPLES "/rv-ring-producer", "--socket", d->sock, "--rate", "2000", NULL };
    struct proc p;
    char line[128];
    proc_spawn(&p, argv);
    assert_true(proc_line(&p, line, sizeof line));
    assert_int_equal(sscanf(line, "providing 'ring' as producer %" SCNx64, id), 1);
    return p;
}

static void kill_producer(struct proc *p)
{
    kill(p->pid, SIGKILL);
    proc_finish(p, NULL, 0, NULL, 0);
}

/* What the handler saw, for the test thread (which waits on `entered` and
 * `done`, eventfds). */
struct observed {
    rv_dataspace *ds;
    uint64_t dead_id;
    int entered, done;
    int repair_rc;
    uint64_t entered_ms;
    unsigned long long stale;   /* records of dead_id readable after the unmap action */
    uint32_t magic_after_unmap;
};

static void signal_fd(int fd)
{
    uint64_t one = 1;
    assert_int_equal(write(fd, &one, sizeof one), (ssize_t)sizeof one);
}

static bool wait_fd(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    uint64_t n;
    return poll(&p, 1, ms) == 1 && read(fd, &n, sizeof n) == sizeof n;
}

/* Runs on the watcher thread, after the generic unmap action: inspects
 * the mapping, lets the test start the next producer, then repairs. */
static int observing_handler(int fd, int err, void *arg)
{
    struct observed *o = arg;
    o->entered_ms = now_ms();
    const struct ring *r = rv_ds_addr(o->ds);
    o->magic_after_unmap = r->magic;
    for (unsigned i = 0; i < RING_SLOTS; i++)
        o->stale += r->rec[i].producer == o->dead_id;
    signal_fd(o->entered);
    int rc = rv_cap_relookup(fd, err);
    o->repair_rc = rc;
    signal_fd(o->done);   /* o may be gone after this: the test moves on */
    return rc;
}

static rv_dataspace *attach(const struct rvd *d, rv_conn **conn, unsigned wait_ms)
{
    rv_dataspace *ds;
    assert_int_equal(rv_connect(d->sock, conn), 0);
    int rc = rv_ds_attach(*conn, RING_NAME, wait_ms, &ds);
    if (rc)
        fail_msg("rv_ds_attach: %d: %s", rc, rv_conn_error(*conn));
    return ds;
}

static void setup_observer(struct observed *o, rv_dataspace *ds, uint64_t id)
{
    *o = (struct observed){ .ds = ds, .dead_id = id, .entered = eventfd(0, EFD_CLOEXEC),
                            .done = eventfd(0, EFD_CLOEXEC) };
    assert_true(o->entered >= 0 && o->done >= 0);
    assert_int_equal(rv_cap_set_handler(rv_ds_fd(ds), observing_handler, o), 0);
}

/* Kills the producer with the consumer idle, and checks the watcher's
 * whole repair; returns the detection latency in ms. */
static uint64_t kill_and_observe(const struct rvd *d, rv_dataspace *ds, struct proc *producer, uint64_t *id)
{
    struct observed o;
    setup_observer(&o, ds, *id);
    void *addr = rv_ds_addr(ds);
    uint64_t killed = now_ms();
    kill_producer(producer);
    assert_true(wait_fd(o.entered, 10000));     /* found by the watcher: we invoked nothing */
    assert_int_equal(o.magic_after_unmap, 0);    /* zero pages, not the dead buffer */
    assert_int_equal(o.stale, 0);
    *producer = start_producer(d, id);
    assert_true(wait_fd(o.done, 10000));
    assert_int_equal(o.repair_rc, 0);
    const struct ring *r = rv_ds_addr(ds);
    assert_ptr_equal(r, addr);                   /* the same address */
    assert_int_equal(r->magic, RING_MAGIC);
    assert_true(r->producer == *id);             /* the new producer's buffer */
    rv_cap_set_handler(rv_ds_fd(ds), NULL, NULL);
    close(o.entered);
    close(o.done);
    return o.entered_ms - killed;
}

static void run_watcher_case(enum rv_watch_mode mode, unsigned period_ms, uint64_t bound_ms)
{
    struct rvd d;
    char m[256];
    rvd_start(&d, manifest_test(m, sizeof m, ""));
    uint64_t id;
    struct proc producer = start_producer(&d, &id);
    rv_conn *conn;
    rv_dataspace *ds = attach(&d, &conn, ATTACH_WAIT_MS);
    assert_int_equal(rv_watcher_start(mode, period_ms), 0);
    for (int round = 0; round < 2; round++) {
        uint64_t latency = kill_and_observe(&d, ds, &producer, &id);
        if (latency > bound_ms)
            fail_msg("detected after %" PRIu64 " ms; the bound is %" PRIu64 " ms", latency, bound_ms);
    }
    rv_watcher_stop();   /* joined: the registry saw both repairs through */
    struct rv_cap_info info;
    assert_int_equal(rv_cap_info(rv_ds_fd(ds), &info), 0);
    assert_int_equal(info.generation, 2);
    assert_int_equal(info.faults, 2);
    rv_ds_detach(ds);
    rv_disconnect(conn);
    kill_producer(&producer);
    rvd_stop(&d);
}

static void test_event_watcher(void **state)
{
    (void)state;
    run_watcher_case(RV_WATCH_EVENT, 0, SCHED_SLACK_MS);
}

static void test_periodic_watcher(void **state)
{
    (void)state;
    run_watcher_case(RV_WATCH_PERIODIC, 300, 300 + SCHED_SLACK_MS);
}

/* Without the watcher, the consumer's own wait finds the death: after
 * the counts the dead producer left, it returns RV_EREVOKED once, on the
 * new buffer, and then waits normally. (The next producer retries its
 * provide while revived still holds the name for the dead one.) */
static void test_wait_reanimates(void **state)
{
    (void)state;
    struct rvd d;
    char m[256];
    rvd_start(&d, manifest_test(m, sizeof m, ""));
    uint64_t id, old;
    struct proc producer = start_producer(&d, &id);
    rv_conn *conn;
    rv_dataspace *ds = attach(&d, &conn, ATTACH_WAIT_MS);
    old = id;
    kill_producer(&producer);
    producer = start_producer(&d, &id);
    long w;
    while ((w = rv_ds_wait(ds, RING_DATA, 10000)) > 0)
        ;
    assert_int_equal(w, RV_EREVOKED);
    const struct ring *r = rv_ds_addr(ds);
    assert_int_equal(r->magic, RING_MAGIC);
    assert_true(r->producer == id && id != old);
    assert_true(rv_ds_wait(ds, RING_DATA, 10000) > 0);   /* the new producer's data */
    rv_ds_detach(ds);
    rv_disconnect(conn);
    kill_producer(&producer);
    rvd_stop(&d);
}

/* A provider that never comes back: the watcher's repair fails after the
 * attach's wait, the capability is no longer watched, and the consumer's
 * next invocation reports RV_ENOSVC with revived's sentence. */
static void test_provider_gone_for_good(void **state)
{
    (void)state;
    struct rvd d;
    char m[256];
    rvd_start(&d, manifest_test(m, sizeof m, ""));
    uint64_t id;
    struct proc producer = start_producer(&d, &id);
    rv_conn *conn;
    rv_dataspace *ds = attach(&d, &conn, 200);
    struct observed o;
    setup_observer(&o, ds, id);
    assert_int_equal(rv_watcher_start(RV_WATCH_EVENT, 0), 0);
    kill_producer(&producer);
    assert_true(wait_fd(o.done, 10000));
    assert_int_equal(o.repair_rc, RV_ENOSVC);
    assert_non_null(strstr(rv_conn_error(conn), "ring"));
    rv_watcher_stop();   /* joined: its handling of the fault is over */
    struct rv_cap_info info;
    assert_int_equal(rv_cap_info(rv_ds_fd(ds), &info), 0);
    assert_false(info.watched);
    assert_int_equal(rv_ds_wait(ds, RING_DATA, 1000), RV_ENOSVC);
    rv_ds_detach(ds);
    rv_disconnect(conn);
    close(o.entered);
    close(o.done);
    rvd_stop(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_event_watcher, it_teardown),
        cmocka_unit_test_teardown(test_periodic_watcher, it_teardown),
        cmocka_unit_test_teardown(test_wait_reanimates, it_teardown),
        cmocka_unit_test_teardown(test_provider_gone_for_good, it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
