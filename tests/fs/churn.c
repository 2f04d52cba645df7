/* churn.c — `fs-churn DIR SEED OPS`: name-space churn checked against a
 * model, for the file-system tests.
 *
 * Runs OPS pseudo-random operations (seeded) on files and directories
 * under DIR: create (O_EXCL), write, unlink, rename (onto a free name or
 * over a file), link, mkdir, rmdir. An in-memory model knows what each
 * must do — succeed, or fail with which errno — and the program stops with
 * a message at the first call whose outcome differs. So a non-idempotent
 * request that took effect twice across a crash (a mkdir answered EEXIST,
 * an unlink answered ENOENT, a rename that moved two files) is caught at
 * the call, and the tree left behind is the model's: the tests compare it
 * with the same run on a local disk. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIRS 4
#define NAMES 24

enum kind { NONE, FILE_, DIR_ };

/* The model: what each name in each subdirectory is; files are named by
 * an id, shared by hard links. */
static enum kind what[DIRS + 1][NAMES];
static int file_id[DIRS + 1][NAMES];
static int links[1 << 20];
static int next_id = 1;
static uint64_t rng;
static const char *top;

static unsigned pick(unsigned n)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)(rng >> 33) % n;
}

/* Subdirectory d's name n; d == DIRS names the subdirectories themselves. */
static void path_of(int d, int n, char *out, size_t len)
{
    if (d == DIRS)
        snprintf(out, len, "%s/d%d", top, n % DIRS);
    else
        snprintf(out, len, "%s/d%d/n%d", top, d, n);
}

static bool dir_exists(int d)
{
    return what[DIRS][d] == DIR_;
}

static bool dir_empty(int d)
{
    for (int n = 0; n < NAMES; n++)
        if (what[d][n] != NONE)
            return false;
    return true;
}

static void expect(const char *op, const char *path, int rc, int want_errno)
{
    int got = rc < 0 ? errno : 0;
    if (got == want_errno)
        return;
    fprintf(stderr, "fs-churn: %s %s: got %s, the model says %s\n", op, path, got ? strerror(got) : "success",
            want_errno ? strerror(want_errno) : "success");
    exit(1);
}

static void op_create(int d, int n)
{
    char p[512];
    path_of(d, n, p, sizeof p);
    int want = !dir_exists(d) ? ENOENT : what[d][n] != NONE ? EEXIST : 0;
    int fd = open(p, O_CREAT | O_EXCL | O_WRONLY, 0644);
    expect("create", p, fd, want);
    if (fd < 0)
        return;
    char body[64];
    int len = snprintf(body, sizeof body, "file %d\n", next_id);
    if (write(fd, body, (size_t)len) != len || close(fd) < 0)
        expect("write", p, -1, 0);
    what[d][n] = FILE_;
    file_id[d][n] = next_id;
    links[next_id++] = 1;
}

static void op_unlink(int d, int n)
{
    char p[512];
    path_of(d, n, p, sizeof p);
    int want = !dir_exists(d) ? ENOENT : what[d][n] == NONE ? ENOENT : what[d][n] == DIR_ ? EISDIR : 0;
    expect("unlink", p, unlink(p), want);
    if (want == 0) {
        links[file_id[d][n]]--;
        what[d][n] = NONE;
    }
}

static void op_rename(int d, int n, int d2, int n2)
{
    char p[512], q[512];
    path_of(d, n, p, sizeof p);
    path_of(d2, n2, q, sizeof q);
    int want = !dir_exists(d) || !dir_exists(d2) || what[d][n] != FILE_ ? ENOENT : what[d2][n2] == DIR_ ? EISDIR : 0;
    expect("rename", p, rename(p, q), want);
    if (want != 0 || (d == d2 && n == n2))
        return;
    if (what[d2][n2] == FILE_ && file_id[d2][n2] == file_id[d][n]) {
        return;     /* two links of one file: rename does nothing */
    }
    if (what[d2][n2] == FILE_)
        links[file_id[d2][n2]]--;
    what[d2][n2] = FILE_;
    file_id[d2][n2] = file_id[d][n];
    what[d][n] = NONE;
}

static void op_link(int d, int n, int d2, int n2)
{
    char p[512], q[512];
    path_of(d, n, p, sizeof p);
    path_of(d2, n2, q, sizeof q);
    int want = !dir_exists(d) || !dir_exists(d2) || what[d][n] != FILE_ ? ENOENT : what[d2][n2] != NONE ? EEXIST : 0;
    expect("link", p, link(p, q), want);
    if (want == 0) {
        what[d2][n2] = FILE_;
        file_id[d2][n2] = file_id[d][n];
        links[file_id[d][n]]++;
    }
}

static void op_mkdir(int d)
{
    char p[512];
    path_of(DIRS, d, p, sizeof p);
    expect("mkdir", p, mkdir(p, 0755), dir_exists(d) ? EEXIST : 0);
    what[DIRS][d] = DIR_;
}

static void op_rmdir(int d)
{
    char p[512];
    path_of(DIRS, d, p, sizeof p);
    int want = !dir_exists(d) ? ENOENT : !dir_empty(d) ? ENOTEMPTY : 0;
    int rc = rmdir(p);
    if (rc < 0 && want == ENOTEMPTY && errno == EEXIST)
        errno = ENOTEMPTY;      /* POSIX allows either */
    expect("rmdir", p, rc, want);
    if (want == 0)
        what[DIRS][d] = NONE;
}

/* A file's link count must be the model's. */
static void check_links(int d, int n)
{
    char p[512];
    struct stat st;
    if (!dir_exists(d) || what[d][n] != FILE_)
        return;
    path_of(d, n, p, sizeof p);
    expect("stat", p, stat(p, &st), 0);
    if ((int)st.st_nlink != links[file_id[d][n]]) {
        fprintf(stderr, "fs-churn: %s has %d links, the model says %d\n", p, (int)st.st_nlink, links[file_id[d][n]]);
        exit(1);
    }
}

static void one_op(void)
{
    int d = (int)pick(DIRS), n = (int)pick(NAMES), d2 = (int)pick(DIRS), n2 = (int)pick(NAMES);
    switch (pick(16)) {
    case 0: case 1: case 2: case 3: case 4: op_create(d, n); break;
    case 5: case 6: case 7: op_unlink(d, n); break;
    case 8: case 9: case 10: op_rename(d, n, d2, n2); break;
    case 11: case 12: op_link(d, n, d2, n2); break;
    case 13: op_mkdir(d); break;
    case 14: op_rmdir(d); break;
    default: check_links(d, n); break;
    }
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: fs-churn DIR SEED OPS\n");
        return 2;
    }
    top = argv[1];
    rng = strtoull(argv[2], NULL, 10);
    long ops = strtol(argv[3], NULL, 10);
    if (mkdir(top, 0755) < 0 && errno != EEXIST) {
        perror(top);
        return 1;
    }
    for (int d = 0; d < DIRS; d++)
        op_mkdir(d);
    for (long i = 0; i < ops && next_id < (int)(sizeof links / sizeof links[0]) - 1; i++)
        one_op();
    return 0;
}
