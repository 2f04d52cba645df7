/* rv-blk — the command-line client of the `blk` service.
 *
 *   rv-blk [--socket PATH] [--service NAME] [--class rt|be|idle] [--weight N] [--depth D] COMMAND
 *     info                       the device's size, this session's weight, the queue depth
 *     read LBA COUNT             COUNT blocks from LBA to stdout
 *     write LBA FILE             FILE's bytes (padded to a whole block) at LBA
 *     fill LBA COUNT SEED        COUNT blocks of the test pattern for SEED
 *     verify LBA COUNT SEED      checks them; names the first block that differs
 *
 * fill and verify keep D requests (default 8) of 16 blocks in flight.
 * Exit status: 0 done, 1 verify found a block that differs or the device
 * refused (a sentence says why), 2 bad usage, 3 revive could not carry it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "blk_client.h"
#include "revive/version.h"

enum { EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_REVIVE = 3 };
#define CHUNK 16u      /* blocks per request of fill and verify */

static rvblk *blk;
static enum blk_class cls = BLK_BE;
static unsigned depth = 8;

static void usage(FILE *f)
{
    fprintf(f, "usage: rv-blk [--socket PATH] [--service NAME] [--class rt|be|idle] [--weight N] [--depth D]\n"
               "              info | read LBA COUNT | write LBA FILE | fill LBA COUNT SEED | verify LBA COUNT SEED\n");
}

static int failed(const char *what, int rc)
{
    fprintf(stderr, "rv-blk: %s: %s%s%s\n", what, strerror(-rc), rc == -EIO || rc == -ENOTCONN ? ": " : "",
            rc == -EIO || rc == -ENOTCONN ? rvblk_error(blk) : "");
    return rc == -EIO || rc == -ENOTCONN ? EXIT_REVIVE : EXIT_FAILED;
}

static bool number(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    *out = strtoull(s, &end, 0);
    return errno == 0 && *s && !*end;
}

static int do_info(void)
{
    const struct blk_info *in = rvblk_info(blk);
    printf("%" PRIu64 " blocks of %u bytes (%" PRIu64 " MiB); this session's weight %u; %u slots; queue depth %u\n",
           in->blocks, in->block_size, in->blocks * in->block_size >> 20, in->weight, in->slots, in->queue_depth);
    return 0;
}

static int do_read(uint64_t lba, uint64_t count)
{
    for (uint64_t done = 0; done < count; done += CHUNK) {
        uint32_t n = (uint32_t)(count - done < CHUNK ? count - done : CHUNK);
        int rc = rvblk_io(blk, BLK_READ, cls, lba + done, n, 0);
        if (rc < 0)
            return failed("read", rc);
        if (fwrite(rvblk_buffer(blk), BLK_BLOCK, n, stdout) != n)
            return EXIT_FAILED;
    }
    return 0;
}

static int do_write(uint64_t lba, const char *file)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "rv-blk: %s: %s\n", file, strerror(errno));
        return EXIT_FAILED;
    }
    int status = 0;
    for (uint64_t at = lba;; at += CHUNK) {
        memset(rvblk_buffer(blk), 0, CHUNK * BLK_BLOCK);
        ssize_t got = read(fd, rvblk_buffer(blk), CHUNK * BLK_BLOCK);
        if (got <= 0) {
            status = got < 0 ? EXIT_FAILED : 0;
            break;
        }
        int rc = rvblk_io(blk, BLK_WRITE, cls, at, (uint32_t)((got + BLK_BLOCK - 1) / BLK_BLOCK), 0);
        if (rc < 0) {
            status = failed("write", rc);
            break;
        }
    }
    close(fd);
    int rc = status ? 0 : rvblk_io(blk, BLK_FLUSH, cls, 0, 0, 0);
    return status ? status : rc < 0 ? failed("flush", rc) : 0;
}

/* fill or verify, D requests in flight, each in its own part of the buffer. */
struct run {
    uint64_t lba, count, seed, next, bad;
    bool verify;
    uint64_t lba_of[BLK_SLOTS];     /* by buffer part */
    uint32_t n_of[BLK_SLOTS], tag_of[BLK_SLOTS];
};

static int start_part(struct run *r, unsigned part)
{
    uint32_t n = (uint32_t)(r->count - r->next < CHUNK ? r->count - r->next : CHUNK);
    uint8_t *mem = rvblk_buffer(blk) + (size_t)part * CHUNK * BLK_BLOCK;
    r->lba_of[part] = r->lba + r->next;
    r->n_of[part] = n;
    for (uint32_t i = 0; !r->verify && i < n; i++)
        rvblk_pattern(mem + (size_t)i * BLK_BLOCK, r->seed, r->lba_of[part] + i);
    r->next += n;
    return rvblk_submit(blk, r->verify ? BLK_READ : BLK_WRITE, cls, r->lba_of[part], n,
                        (uint64_t)part * CHUNK * BLK_BLOCK, &r->tag_of[part]);
}

static void check_part(struct run *r, unsigned part)
{
    const uint8_t *mem = rvblk_buffer(blk) + (size_t)part * CHUNK * BLK_BLOCK;
    for (uint32_t i = 0; r->verify && i < r->n_of[part]; i++)
        if (!rvblk_pattern_ok(mem + (size_t)i * BLK_BLOCK, r->seed, r->lba_of[part] + i) &&
            r->lba_of[part] + i < r->bad)
            r->bad = r->lba_of[part] + i;
}

static int run_parts(struct run *r)
{
    unsigned busy = 0;
    for (unsigned p = 0; p < depth && r->next < r->count; p++, busy++) {
        int rc = start_part(r, p);
        if (rc < 0)
            return failed(r->verify ? "read" : "write", rc);
    }
    while (busy > 0) {
        struct blk_completion c[BLK_SLOTS];
        int n = rvblk_reap(blk, c, BLK_SLOTS, true);
        if (n < 0)
            return failed("reap", n);
        for (int k = 0; k < n; k++) {
            unsigned p = 0;
            while (p < depth && r->tag_of[p] != c[k].tag)
                p++;
            if (p == depth || c[k].result < 0)
                return failed(r->verify ? "read" : "write", p == depth ? -EPROTO : c[k].result);
            check_part(r, p);
            busy--;
            int rc = r->next < r->count ? start_part(r, p) : 1;
            if (rc < 0)
                return failed(r->verify ? "read" : "write", rc);
            busy += rc == 0;
        }
    }
    return 0;
}

static int do_pattern(uint64_t lba, uint64_t count, uint64_t seed, bool verify)
{
    struct run r = { .lba = lba, .count = count, .seed = seed, .bad = UINT64_MAX, .verify = verify };
    int rc = run_parts(&r);
    if (rc == 0 && !verify && (rc = rvblk_io(blk, BLK_FLUSH, cls, 0, 0, 0)) < 0)
        return failed("flush", rc);
    if (rc == 0 && r.bad != UINT64_MAX) {
        fprintf(stderr, "rv-blk: block %" PRIu64 " does not hold the pattern of seed %" PRIu64 "\n", r.bad, seed);
        return EXIT_FAILED;
    }
    return rc;
}

static int run(int argc, char **argv)
{
    uint64_t a, b, c;
    const char *cmd = argv[0];
    if (strcmp(cmd, "info") == 0 && argc == 1)
        return do_info();
    if (strcmp(cmd, "read") == 0 && argc == 3 && number(argv[1], &a) && number(argv[2], &b))
        return do_read(a, b);
    if (strcmp(cmd, "write") == 0 && argc == 3 && number(argv[1], &a))
        return do_write(a, argv[2]);
    if ((strcmp(cmd, "fill") == 0 || strcmp(cmd, "verify") == 0) && argc == 4 && number(argv[1], &a) &&
        number(argv[2], &b) && number(argv[3], &c))
        return do_pattern(a, b, c, cmd[0] == 'v');
    fprintf(stderr, "rv-blk: unknown command or wrong arguments: %s\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}

static int parse_class(const char *s)
{
    static const char *const names[] = { "rt", "be", "idle" };
    for (int i = 0; i < BLK_CLASSES; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

int main(int argc, char **argv)
{
    const char *socket = NULL, *service = "blk";
    unsigned weight = 0;
    static const struct option opts[] = {
        { "socket", required_argument, NULL, 's' }, { "service", required_argument, NULL, 'n' },
        { "class", required_argument, NULL, 'c' }, { "weight", required_argument, NULL, 'w' },
        { "depth", required_argument, NULL, 'd' }, { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' }, { 0 },
    };
    for (int o, k; (o = getopt_long(argc, argv, "+", opts, NULL)) != -1;) {
        if (o == 's')
            socket = optarg;
        else if (o == 'n')
            service = optarg;
        else if (o == 'c' && (k = parse_class(optarg)) >= 0)
            cls = (enum blk_class)k;
        else if (o == 'w' && (weight = (unsigned)atoi(optarg)) >= 1 && weight <= BLK_WEIGHT_MAX)
            continue;
        else if (o == 'd' && (depth = (unsigned)atoi(optarg)) >= 1 && depth <= BLK_SLOTS)
            continue;
        else if (o == 'h')
            return usage(stdout), 0;
        else if (o == 'V')
            return printf("rv-blk %s\n", REVIVE_VERSION), 0;
        else
            return usage(stderr), EXIT_USAGE;
    }
    if (optind >= argc)
        return usage(stderr), EXIT_USAGE;
    rv_conn *conn;
    if (rv_connect(socket, &conn) != 0) {
        fprintf(stderr, "rv-blk: cannot reach revived: %s\n", strerror(errno));
        return EXIT_REVIVE;
    }
    blk = rvblk_connect(conn, service, weight, (size_t)depth * CHUNK * BLK_BLOCK);
    if (!blk) {
        fprintf(stderr, "rv-blk: cannot open a session with '%s': %s\n", service,
                errno == ENOTCONN ? rv_conn_error(conn) : strerror(errno));
        rv_disconnect(conn);
        return EXIT_REVIVE;
    }
    int rc = run(argc - optind, argv + optind);
    rvblk_disconnect(blk);
    rv_disconnect(conn);
    return rc;
}
