/* bench_arena.c — what durability costs: a kv PUT with its arena in
 * memory only, and with `arena_file` (every acknowledged put appended to
 * the file's redo log and fdatasync'ed before the reply).
 *
 * The floors, measured in the same run on the same core: a raw SEQPACKET
 * round trip (what any call costs), and a bare pwrite of 256 bytes plus
 * fdatasync to a file in the same directory as the arena file (what any
 * durable write costs on this file system, whoever makes it). The put
 * with the file should be close to the sum of the two. */
#include "bench_tool.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SYNC_BYTES 256
#define SYNC_SPAN (4u << 20)

struct sync_writer {
    int fd;
    uint64_t off;
    char path[160];
};

static int sync_round(void *ctx)
{
    struct sync_writer *w = ctx;
    char buf[SYNC_BYTES];
    memset(buf, (int)(w->off / SYNC_BYTES), sizeof buf);
    if (pwrite(w->fd, buf, sizeof buf, (off_t)w->off) != (ssize_t)sizeof buf || fdatasync(w->fd) < 0)
        return -1;
    w->off = (w->off + SYNC_BYTES) % SYNC_SPAN;
    return 0;
}

static struct contender sync_start(const char *dir)
{
    struct sync_writer *w = calloc(1, sizeof *w);
    if (!w)
        bench_die("out of memory");
    snprintf(w->path, sizeof w->path, "%s/sync-floor", dir);
    w->fd = open(w->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    static const char zeros[SYNC_BYTES];
    for (uint64_t off = 0; w->fd >= 0 && off < SYNC_SPAN; off += SYNC_BYTES)   /* allocated, as the redo log is */
        if (pwrite(w->fd, zeros, SYNC_BYTES, (off_t)off) != SYNC_BYTES)
            bench_die("%s: %m", w->path);
    if (w->fd < 0 || fsync(w->fd) < 0)
        bench_die("%s: %m", w->path);
    return (struct contender){ "pwrite 256 B + fdatasync", sync_round, w };
}

static void sync_stop(struct contender *k)
{
    struct sync_writer *w = k->ctx;
    close(w->fd);
    unlink(w->path);
    free(w);
}

void arena_measure(struct arena_results *res, struct revived *r, int quick)
{
    struct plan p = { 20, quick ? 50 : 250 };
    bench_pin(SERVER_CPU);
    struct contender c[4] = {
        seqpacket_start(),
        sync_start(r->dir),
        kv_start(r, ARENA_MEM_SVC, "kv PUT, arena in memory", true),
        kv_start(r, ARENA_FILE_SVC, "kv PUT, arena_file", true),
    };
    struct rtt out[4];
    measure_interleaved(c, 4, &p, out);
    res->seqpacket_us = out[0].median_us;
    res->sync_us = out[1].median_us;
    res->put_mem_us = out[2].median_us;
    res->put_file_us = out[3].median_us;
    res->per_batch = p.per_batch;
    pingpong_stop(&c[0]);
    sync_stop(&c[1]);
    kv_stop(&c[2]);
    kv_stop(&c[3]);
}

void arena_report(FILE *f, const struct arena_results *res)
{
    fprintf(f, "## Durability: a kv PUT with arena_file\n\n"
               "One client, same core as revived and kv; PUTs of 1024 keys in turn, 64-byte values, median "
               "over 20 interleaved batches of %d. `memory`: the arena in revived's memfd (survives service "
               "crashes); `arena_file`: the same, with every acknowledged put appended to the file's redo log "
               "and fdatasync'ed before the reply (survives revived and the machine). The durability floor is "
               "a bare pwrite of 256 bytes and fdatasync on the same file system.\n\n"
               "| case | us per op | x SEQPACKET | x fdatasync floor |\n|---|---:|---:|---:|\n"
               "| raw AF_UNIX SEQPACKET | %.2f | 1.00x | |\n"
               "| pwrite 256 B + fdatasync | %.2f | | 1.00x |\n"
               "| kv PUT, memory | %.2f | %.2fx | |\n"
               "| kv PUT, arena_file | %.2f | %.2fx | %.2fx |\n\n"
               "arena_file costs %.2fx the put in memory; of the %.1f us it adds, the floor is %.1f us.\n\n",
            res->per_batch, res->seqpacket_us, res->sync_us, res->put_mem_us, res->put_mem_us / res->seqpacket_us,
            res->put_file_us, res->put_file_us / res->seqpacket_us, res->put_file_us / res->sync_us,
            res->put_file_us / res->put_mem_us, res->put_file_us - res->put_mem_us, res->sync_us);
}

void arena_csv(FILE *f, const struct arena_results *res)
{
    fprintf(f, "case,us_per_op\nseqpacket,%.3f\nfdatasync_floor,%.3f\nkv_put_memory,%.3f\nkv_put_arena_file,%.3f\n",
            res->seqpacket_us, res->sync_us, res->put_mem_us, res->put_file_us);
}
