/* bench_tool.h — the parts of rv-bench, and what they share.
 *
 * rv-bench measures revive against its floor on the same machine in the
 * same run: the baselines (bench_pingpong.c), a revived of its own with
 * rv-svc-bench (bench_revived.c), calls and recoveries through it
 * (bench_calls.c, bench_recovery.c), what capabilities cost (bench_caps.c),
 * and the report (rv-bench.c).
 *
 * Placement matters more than anything else on a VM: a blocking wake-up of
 * a thread on another core costs tens of microseconds there, a wake-up on
 * the same core a few. So every figure says where the two sides ran:
 * the "server" side (the echo process, revived and its services) always on
 * SERVER_CPU, the client on SERVER_CPU (same core) or another (cross core).
 */
#ifndef RV_BENCH_TOOL_H
#define RV_BENCH_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>
#include "wire.h"

#define SERVER_CPU 0
#define MSG_BYTES 64        /* request and reply payload of every round trip */

/* ---- bench_util.c ---- */

uint64_t bench_now_ns(void);
int bench_pin(int cpu);               /* this thread, and what it spawns; -1: every CPU */
/* Forks a child pinned to SERVER_CPU that runs serve(arg), then exits 0; it
 * is killed if rv-bench dies first. */
pid_t bench_fork_server(void (*serve)(void *arg), void *arg);
void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* A growable list of samples, in microseconds. */
struct series {
    double *v;
    size_t n, cap;
};
void series_add(struct series *s, double us);
double series_quantile(struct series *s, double q);   /* nearest rank; sorts */
void series_free(struct series *s);

/* ---- round trips ---- */

struct plan {
    int batches;        /* measured batches (one more runs first, as warm-up) */
    int per_batch;      /* round trips per batch */
};

/* One round trip; returns 0, or -1 when something broke. */
typedef int (*round_fn)(void *ctx);

/* One of the things measured side by side. */
struct contender {
    const char *what;
    round_fn round;
    void *ctx;
};

struct rtt {
    double median_us;   /* median over batches of the mean round trip */
    double min_us;      /* the best batch */
};

/* Runs the plan on this thread, one batch of each contender in turn, so a
 * burst of noise from elsewhere on the host hits all of them alike; dies if
 * a round trip fails. out[i] is contender i's. */
void measure_interleaved(const struct contender *c, size_t n, const struct plan *p, struct rtt *out);

/* bench_pingpong.c: the floor, two processes, the echo side forked and
 * pinned to SERVER_CPU, the caller wherever it is pinned. */
struct contender seqpacket_start(void);
struct contender futex_start(void);
void pingpong_stop(struct contender *c);

/* ---- bench_revived.c ---- */

struct revived {
    pid_t pid;
    char dir[64];           /* private temp dir: manifest, socket, fifo, log */
    char sock[108];         /* sizeof sun_path */
    char log[128];
    int notify_fd;          /* read end of the fifo rv-svc-bench HOLD writes */
    int ctl;                /* a connection to the public socket, for status */
};

/* One service of the manifest rv-bench writes. */
struct bench_svc {
    const char *name;
    unsigned ssr_size;
    const char *protect;    /* none | checksum | mprotect */
    bool fast;              /* fast_path = yes: calls through the session's ring */
};

/* Starts revived --foreground from build_dir on a manifest with the given
 * call services plus "hold" (the recovery benchmark's); returns once it
 * listens. It inherits this thread's CPU affinity and descriptor limit. */
void revived_start(struct revived *r, const char *build_dir, const struct bench_svc *svcs, size_t n);
void revived_stop(struct revived *r);
/* The status record of service name; dies if revived does not answer. */
struct rv_wire_svc_status revived_status(struct revived *r, const char *name);

#define HOLD_SVC "hold"
#define HOLD_STANDBY_SVC "hold-standby"   /* the same, with a hot standby */
#define HOLD_BARE_SVC "hold-bare"         /* hold with sandbox = no: what the sandbox costs */
#define HOLD_STANDBY_BARE_SVC "hold-standby-bare"
#define HOLD_SSR_SIZE 64

/* ---- bench_calls.c ---- */

/* rv_call of op on a fresh session of service svc. */
struct contender call_start(struct revived *r, const char *svc, uint32_t op, unsigned sessions);
/* The same with `bytes` (at most MSG_BYTES) each way instead of MSG_BYTES. */
struct contender call_start_sized(struct revived *r, const char *svc, uint32_t op, unsigned sessions, size_t bytes);
void call_stop(struct contender *c);

/* ---- bench_recovery.c ---- */

struct recovery {
    size_t sessions;
    int reps;
    double p50_us, p99_us, max_us;  /* kill -> the in-flight call answered */
    double revived_p50_us;          /* revived's last_recovery_us: crash seen -> READY */
};

struct recovery_run;   /* an open connection and its sessions, grown step by step */
/* shared: the idle sessions are opened with rv_open_shared (the one in
 * flight has a socket of its own). */
struct recovery_run *recovery_begin(struct revived *r, const char *svc, bool standby, bool shared);
/* Grows the run to `sessions` sessions, then kills the instance `reps` times
 * with a request in flight; with a standby, each time once the standby holds
 * every session (bench_storm.c measures kills that come before). */
struct recovery recovery_measure(struct recovery_run *run, size_t sessions, int reps);
void recovery_end(struct recovery_run *run);

/* ---- bench_scale.c ---- */

#define SCALE_SVC "scale"           /* rv-svc-bench, ssr_size 64, a standby, room for SCALE_SESSIONS */
#define SCALE_SESSIONS 10000
#define SCALE_RUNS 3
#define SCALE_OPENERS 8             /* connections opening at once, for the second open rate */
#define SCALE_SHARED_SESSIONS 100000 /* with rv_open_shared: one channel per connection */
#define SCALE_SHARED_SVC "scale-shared" /* as SCALE_SVC, room for SCALE_SHARED_SESSIONS */

/* One run's costs, per session. */
struct scale_run {
    double opens_per_s, opens_per_s_many;   /* one connection; SCALE_OPENERS at once */
    double opens_per_s_batched;             /* shared: one connection, rv_open_shared_many */
    double revived_fds, instance_fds, instance_maps, standby_fds;
    double server_bytes, client_bytes;
};

struct scale_results {
    size_t sessions;
    bool shared;            /* opened with rv_open_shared */
    int runs;
    struct scale_run run[SCALE_RUNS];
};

void scale_measure(struct scale_results *res, struct revived *r, int quick, bool shared);
void scale_report(FILE *f, const struct scale_results *res);
void scale_csv(FILE *f, const struct scale_results *res);

/* ---- bench_storm.c ---- */

#define STORM_PERIOD_MS 10
#define STORM_STANDBY_SVC "storm-standby"   /* standby = yes, default backoff */
#define STORM_NEW_SVC "storm-new"           /* standby = no, default backoff */

struct storm_result {
    const char *svc;
    size_t idle;            /* sessions open beside the caller's, never calling */
    int kills, refused;     /* kills made; ticks that found no (new) instance to kill */
    size_t calls;           /* calls completed during the storm */
    size_t wrong;           /* replies that were not the counter's next value */
    double back_p50_us, back_p99_us;     /* kill -> the first call begun after it answered */
    double stall_p50_us, stall_p99_us;   /* per kill: the longest wait for a reply until the next */
};

/* SIGKILLs svc's active instance every STORM_PERIOD_MS, `kills` times, while
 * a client calls it without pause and `idle` more sessions are open. */
struct storm_result storm_measure(struct revived *r, const char *svc, int kills, size_t idle);
#define STORM_IDLE 10000    /* the sessions of the storm at scale */

/* ---- bench_arena.c ---- */

#define ARENA_MEM_SVC "kv"              /* RD_KV_SVC: the arena in memory */
#define ARENA_FILE_SVC "kv-file"        /* the same with arena_file in revived's temp dir */

struct arena_results {
    double seqpacket_us, sync_us, put_mem_us, put_file_us;
    int per_batch;
};

void arena_measure(struct arena_results *res, struct revived *r, int quick);
void arena_report(FILE *f, const struct arena_results *res);
void arena_csv(FILE *f, const struct arena_results *res);

/* ---- bench_caps.c ---- */

enum { CAPS_SAME, CAPS_CROSS, CAPS_NPLACE };   /* registry: client's core; watcher: one core / two */
#define CAPS_NCOUNTS 3
#define CAPS_NMODES 4

struct caps_mode {
    const char *label;
    int mode;             /* enum rv_watch_mode */
    unsigned period_ms;
};
extern const size_t caps_counts[CAPS_NCOUNTS];       /* watched capabilities: 10, 100, 1000 */
extern const struct caps_mode caps_modes[CAPS_NMODES];  /* periodic 1, 10, 100 ms; event */

struct caps_results {
    int have_cross, have_two;
    struct plan plan[CAPS_NPLACE];
    struct rtt on[CAPS_NPLACE], off[CAPS_NPLACE];   /* null call, registry on / off */
    double lookup_on_ns, lookup_off_ns;             /* rv__cap_generation, registered or not */
    int reps;                                       /* pairs of runs per watcher cell */
    unsigned mults;                                 /* multiplications per run */
    double job_ms[CAPS_NPLACE];                     /* a run without the watcher, median */
    struct caps_cell {
        double wall_pct;      /* the job's wall-clock time with / without the watcher - 1 */
        double cpu_pct;       /* the same by CPU time: the job's and the watcher's */
        double own_pct;       /* the watcher's own CPU time / the job's without */
        double detect_ms;     /* an object's death -> its capability fault */
    } watch[CAPS_NPLACE][CAPS_NCOUNTS][CAPS_NMODES], control[CAPS_NPLACE];   /* control: without vs without */
};

/* The null call on service svc with the registry on and off; leaves this
 * thread pinned to SERVER_CPU. */
void caps_measure_registry(struct caps_results *res, struct revived *r, const char *svc, int quick);
/* The watcher matrix; wants the CPUs otherwise idle (revived stopped). */
void caps_measure_watcher(struct caps_results *res, int quick);
void caps_report(FILE *f, const struct caps_results *res);   /* markdown sections */
void caps_csv(FILE *f, const struct caps_results *res);
void caps_dat(FILE *f, const struct caps_results *res);      /* for bench/plot-watcher.sh */

/* ---- bench_rd.c ---- */

/* The two kv services of revived_start's manifest: rv-svc-kv, and the same
 * with tier 1 (rv-svc-kv-rd), when the build has it. */
#define RD_KV_SVC "kv"
#define RD_KV_RD_SVC "kv-rd"

struct rd_results {
    double ns[3];             /* per hash-table operation: plain, hooks, domains */
    long ops;
    int reps;
    uint64_t sink;            /* the work's result, so it is not optimised away */
    double kv_seqpacket_us, kv_us, kv_rd_us;   /* per kv operation, end to end */
};

/* A kv client: a PUT then a GET of 1024 keys in turn (64-byte values), or
 * PUTs alone; one operation per round. */
struct contender kv_start(struct revived *r, const char *svc, const char *what, bool puts_only);
void kv_stop(struct contender *c);

void rd_measure(struct rd_results *res, int quick);
void rd_measure_kv(struct rd_results *res, struct revived *r, int quick);
void rd_report(FILE *f, const struct rd_results *res);
void rd_report_kv(FILE *f, const struct rd_results *res);
void rd_csv(FILE *f, const struct rd_results *res);

/* ---- bench_fs.c ---- */

enum { FS_REVIVE, FS_FUSE2FS, FS_EXT4, FS_NTARGETS };
enum { FS_SEQ_WRITE, FS_SEQ_READ, FS_RAND_WRITE, FS_RAND_READ, FS_CREATE, FS_STAT, FS_UNLINK, FS_NROWS };
enum { FS_PINNED, FS_FREE, FS_NPLACES };

struct fs_results {
    double v[FS_NPLACES][FS_NROWS][FS_NTARGETS];   /* MiB/s, IOPS or files/s */
    int reps;
    int stall_kills;
    double stall_p50_us, stall_p99_us, stall_max_us;   /* per kill: the longest write */
    double calm_p50_us, calm_max_us;                   /* the same windows without kills */
    int fuse2fs_err;          /* the writer's errno after fuse2fs was killed */
    double fuse2fs_ms;        /* kill -> that error */
    int fuse2fs_stat_err;     /* stat of its mount point afterwards */
};

/* Starts its own revived (rv-svc-fs), fuse2fs and a loop-mounted ext4 on
 * three fresh images; needs root, e2fsprogs and fuse2fs. */
void fs_measure(struct fs_results *res, const char *build, int quick);
void fs_report(FILE *f, const struct fs_results *res);
void fs_csv(FILE *f, const struct fs_results *res);

/* ---- bench_blk.c ---- */

enum { BLK_RAND_READ, BLK_RAND_WRITE, BLK_SEQ_READ, BLK_SEQ_WRITE, BLK_NIO };

struct blk_results {
    double uring[BLK_NIO][2], blk[BLK_NIO][2];     /* ops/s at queue depth 1 and 32 */
    uint64_t share_w1, share_w3;                   /* completions of the weight-1 and weight-3 clients */
    double rt_alone_p50, rt_alone_p99, rt_flood_p50, rt_flood_p99;   /* us */
    uint64_t flood_ops;
    int kills;
    double stall_p50_us, stall_p99_us;             /* a QD32 client, per kill */
    double ext4_stall_p50_us, ext4_stall_p99_us;   /* the kernel's ext4 over the export, per kill */
};

/* Starts its own revived with blk; needs root (a loop device and a mount)
 * for the kernel ext4 part. */
void blk_measure(struct blk_results *res, const char *build, int quick);
void blk_report(FILE *f, const struct blk_results *res);
void blk_csv(FILE *f, const struct blk_results *res);

/* ---- bench_dbus.c (built only with libsystemd's sd-bus) ---- */

/* A private dbus-daemon on a socket in a temp dir of its own, pinned to
 * SERVER_CPU. */
struct dbus_broker {
    pid_t pid;
    char dir[64];
    char address[160];   /* what dbus-daemon --print-address said */
};

/* Returns 0, or -1 when this build or machine has no dbus-daemon. */
int dbus_broker_start(struct dbus_broker *b);
void dbus_broker_stop(struct dbus_broker *b);

/* A synchronous sd-bus method call to a server forked onto SERVER_CPU,
 * through the bus at `address`, or with address NULL over a socketpair
 * (peer to peer, no daemon). With bytes 0 the method takes and returns
 * nothing; otherwise an array of that many bytes each way. */
struct contender dbus_start(const char *address, size_t bytes);
void dbus_stop(struct contender *c);

/* ---- bench_peer.c ---- */

enum { PEER_SAME, PEER_CROSS, PEER_NPLACE };
enum { PEER_SEQPACKET, PEER_RV_NULL, PEER_RV_64, PEER_P2P_NULL, PEER_P2P_64, PEER_BUS_NULL, PEER_BUS_64, PEER_NROWS };
#define PEER_RUNS 3

extern const bool peer_built;   /* rv-bench was built with sd-bus */

struct peer_results {
    bool measured[PEER_NROWS];    /* the bus rows need dbus-daemon */
    int nplace;                   /* 1 on a single CPU */
    struct plan plan[PEER_NPLACE];
    /* over PEER_RUNS runs, each run's figure its median batch (us per call) */
    double min_us[PEER_NPLACE][PEER_NROWS], median_us[PEER_NPLACE][PEER_NROWS];
    char load_start[64], load_end[64];   /* /proc/loadavg's three averages: others share the host */
    int nice;
};

/* The rows beside revive's null call on service svc (an rv-svc-bench). */
void peer_measure(struct peer_results *res, struct revived *r, const char *svc, int quick);
void peer_report(FILE *f, const struct peer_results *res);
void peer_csv(FILE *f, const struct peer_results *res);

/* ---- bench_throughput.c ---- */

#define THR_NCLIENTS 3              /* 1, 8 and 64 client processes */
#define THR_MAX_CLIENTS 64
#define THR_NSERVERS 5              /* raw echo, revive's null call, kv's GET, then both on the fast path */
#define THR_NPLACE 2                /* clients on SERVER_CPU; on the other CPU */
#define THR_RUNS 3
#define THR_WINDOW_MS 500
#define THR_NULL_SVC "null"         /* rv-bench's null-call service (rv-bench.c's first case) */
#define THR_FAST_SVC "null-fast"    /* the same with fast_path = yes (rv-bench.c's second case) */
#define THR_KV_SVC RD_KV_SVC        /* rv-svc-kv, 4 workers */
#define THR_KV_FAST_SVC "kv-fast"   /* the same with fast_path = yes */

extern const unsigned thr_clients[THR_NCLIENTS];

struct thr_cell {
    double median, min;             /* calls per second over THR_RUNS windows */
};

struct thr_results {
    int runs, nplace;
    struct thr_cell cell[THR_NPLACE][THR_NCLIENTS][THR_NSERVERS];
};

void throughput_measure(struct thr_results *res, struct revived *r, int quick);
void throughput_report(FILE *f, const struct thr_results *res);
void throughput_csv(FILE *f, const struct thr_results *res);

#endif
