/* testsvc.h — the protocol of `rv-svc-test`, the service the integration
 * tests fault on purpose. Each session's SSR holds a counter; every op that
 * succeeds replies with the counter as a uint64_t, so a test can see that a
 * request ran exactly once (no gap, no repeat) however often the service
 * died under it.
 *
 * Open arguments: "", "fifo=PATH", "bindfifo=PATH" or "refuseonce=PATH".
 * With bindfifo the bind itself writes a byte to PATH, if it exists, and
 * blocks (a test kills the service while an open is pending); refuseonce
 * refuses the bind that creates PATH, and binds every later one. The manifest's `args = --init-fifo
 * PATH` does the same before each instance registers; `--layout-file
 * PATH` makes each instance read its SSR layout (1 or 2, and "migrate" if
 * it converts layout 1) from PATH at its start, as a rebuilt program would
 * be (tests/integration/test_state.c upgrades it so). SLOW_INCR writes one byte to that FIFO
 * once the increment is done and then blocks, so a test knows for certain
 * that a request is in flight when it kills the service. A re-run of the
 * request (after the restart) finds no FIFO when the test has unlinked it,
 * and then completes at once. `args = --skip-filter` makes each instance
 * a liar: it does not install the seccomp filter revived asks for. */
#ifndef RV_SVC_TEST_H
#define RV_SVC_TEST_H

#define TEST_SSR_SIZE 256     /* the manifest's ssr_size for this service */
#define TEST_SLOW_BLOCK_S 5   /* how long SLOW_INCR blocks if nobody kills it */

enum test_op {
    TEST_INCR = 1,      /* counter++ */
    TEST_GET = 2,       /* the counter */
    TEST_SLOW_INCR = 3, /* counter++, a byte to the FIFO, then block */
    TEST_POISON = 4,    /* a store to a PROT_NONE page: SIGSEGV every time */
    TEST_ABORT = 5,     /* abort(): SIGABRT every time */
    TEST_HANG = 6,      /* a busy loop that never ends */
    TEST_WILD = 7,      /* writes into another session's SSR */
    TEST_CORRUPT = 8,   /* breaks its own SSR's magic: validate fails before the commit */
    TEST_RECOVERIES = 9, /* replies how often the recover hook updated this SSR */
    TEST_SPOIL_AUDIT = 16,  /* the audit hook fails from now on (until a restart) */
    TEST_SELF_KILL = 19,    /* the process SIGKILLs itself: a death no handler can record */
    /* The sandbox (tests/integration/test_sandbox.c): */
    TEST_FORBIDDEN = 20,    /* socket(AF_INET): outside the seccomp allow-list, SIGSYS every time
                               (unless the manifest's `syscalls` allows socket) */
    TEST_FORBIDDEN_ONCE = 21, /* counter++, then the same forbidden call if it can create the file
                               named by the open arguments' fifo=PATH (so only the first run does) */
    TEST_OPEN = 22,         /* opens the path in the payload for reading; replies errno (0: it could) */
    /* Stored descriptors (tests/integration/test_recovery.c): */
    TEST_STORE = 23,        /* stores an eventfd holding the counter in slot TEST_STORED_SLOT */
    TEST_FETCH = 24,        /* replies the counter with the stored eventfd attached */
    TEST_CLOSE_CTL = 25,    /* counter++, then, if it can create the file its session's fifo=
                               names (so only the first run of the request does), closes the
                               instance's control channel (its highest descriptor: the runtime
                               puts it there) and serves on: a service that lies about dying */
    /* rv-svc-test-rd only (the same service with tier 1, TEST_TIER1): */
    TEST_FAULT_ONCE = 10,   /* counter++, then SIGSEGV the first time this instance runs it */
    TEST_GLOBAL_FAULT = 11, /* a logged process global += 100, counter++, then SIGSEGV every time */
    TEST_GLOBAL_GET = 12,   /* replies that global */
    TEST_UNSAFE_FAULT = 13, /* SIGSEGV inside an unlogged domain: must escalate to a restart */
    TEST_RD_ABORT = 14,     /* counter++, then rd_abort(TEST_ABORT_CODE) */
    TEST_SHARED_WRITE = 17, /* shared = 42 (first run: then a byte to the FIFO, wait for a byte on
                               FIFO.go, SIGSEGV), shared = 7 on later runs; replies shared */
    TEST_SHARED_READ = 18,  /* reads shared (noted as a read), a byte to the FIFO; replies it */
};
#define TEST_ABORT_CODE 7
#define TEST_STORED_SLOT 1

#endif
