/* test_fs.c — the fs service's native API and its FUSE mount, with real
 * kills, a second user and a lying client.
 *
 *   - Several clients keep files open, read and write at their offsets and
 *     work in their own working directories while the service is killed
 *     over and over: every call's result is checked against what the
 *     client did (a record read back where it was written, a mkdir/rename/
 *     rmdir chain that fails at once if a request ran twice), so open
 *     files, offsets and cwd surviving, and exactly-once, show per call.
 *   - A request that crashes the service every time is poisoned: its
 *     client gets EIO for it alone and goes on; so does the mount's.
 *   - `nobody`, through rv-fs, is refused what the files' modes refuse.
 *   - Malformed requests get errors, and do not crash the service.
 *   - An image that is no file system fails the service, clearly.
 * Every test that changes the image ends with e2fsck -fn on it. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "fs.h"
#include "fs_client.h"
#include "harness.h"

#define CLIENTS 3
#define KILLS 20        /* clients go on until the killer has made this many */

struct image {
    char dir[64];
    char path[96];
    char mnt[96];
};

static void image_make(struct image *im)
{
    tempdir_make(im->dir, sizeof im->dir);
    chmod(im->dir, 0755);
    snprintf(im->path, sizeof im->path, "%s/image", im->dir);
    snprintf(im->mnt, sizeof im->mnt, "%s/mnt", im->dir);
    const char *trunc[] = { "/usr/bin/truncate", "-s", "256M", im->path, NULL };
    const char *mkfs[] = { "/sbin/mke2fs", "-q", "-F", "-t", "ext4", "-b", "4096", im->path, NULL };
    assert_int_equal(run(trunc, NULL, 0, NULL, 0), 0);
    assert_int_equal(run(mkfs, NULL, 0, NULL, 0), 0);
}

/* After revived stopped: the image is clean, then goes. */
static void image_check_and_remove(struct image *im)
{
    char out[4096];
    const char *fsck[] = { "/sbin/e2fsck", "-fn", im->path, NULL };
    int rc = run(fsck, out, sizeof out, out, sizeof out);
    if (rc != 0)
        fail_msg("e2fsck -fn found the image damaged:\n%s", out);
    tempdir_remove(im->dir);
}

static const char *fs_manifest(char *buf, size_t len, const struct image *im, bool mount, const char *extra)
{
    char mount_line[128] = "";
    if (mount)
        snprintf(mount_line, sizeof mount_line, "mount = %s\n", im->mnt);
    snprintf(buf, len, "[service fs]\nexec = rv-svc-fs-test\nstate = arena\narena_size = 16M\nssr_size = 1K\n"
                       "image = %s\n%s%s", im->path, mount_line, extra);
    return buf;
}

static rvfs *fs_session(const struct rvd *d, rv_conn **conn)
{
    assert_int_equal(rv_connect(d->sock, conn), 0);
    rvfs *fs = rvfs_connect(*conn, "fs");
    assert_non_null(fs);
    return fs;
}

/* ---- a killer on its own thread ---- */

struct killer {
    const struct rvd *d;
    pthread_t th;
    volatile bool done;     /* KILLS made: the clients finish their round and stop */
    int kills;
};

static void *killer_main(void *arg)
{
    struct killer *k = arg;
    static const char *const sigs[] = { "SEGV", "KILL", "ABRT" };
    for (unsigned i = 0; k->kills < KILLS; i++) {
        const char *argv[] = { RV_IT_REVIVECTL, "--socket", k->d->sock, "kill", "fs", "--signal", sigs[i % 3], NULL };
        if (run(argv, NULL, 0, NULL, 0) == 0)
            k->kills++;
        struct timespec ts = { .tv_nsec = 25 * 1000 * 1000 };
        nanosleep(&ts, NULL);   /* the kill cadence, not a wait for an event */
    }
    k->done = true;
    return NULL;
}

/* ---- clients ---- */

struct client {
    const struct rvd *d;
    const struct killer *k;
    int id;
    int rounds;
    pthread_t th;
    char why[256];
};

#define CLIENT_FAIL(c, ...) do { snprintf((c)->why, sizeof (c)->why, __VA_ARGS__); goto out; } while (0)

/* One round: a record written at the writer's offset and read back at the
 * reader's, then mkdir d<k>, rename it to e<k>, rmdir e<k-1> — each must
 * succeed once: a re-run would fail with EEXIST or ENOENT. */
static bool client_round(struct client *c, rvfs *fs, int wfd, int rfd, int k, uint64_t *written)
{
    char rec[64], got[64], name[16], to[16];
    int len = snprintf(rec, sizeof rec, "client %d round %d\n", c->id, k);
    if (rvfs_write(fs, wfd, rec, (size_t)len) != len)
        return snprintf(c->why, sizeof c->why, "write round %d: %s", k, strerror(errno)), false;
    *written += (uint64_t)len;
    if (rvfs_read(fs, rfd, got, (size_t)len) != len || memcmp(got, rec, (size_t)len) != 0)
        return snprintf(c->why, sizeof c->why, "round %d: the record did not read back at the reader's offset", k), false;
    if (rvfs_lseek(fs, wfd, 0, SEEK_CUR) != (off_t)*written)
        return snprintf(c->why, sizeof c->why, "round %d: the writer's offset moved", k), false;
    snprintf(name, sizeof name, "d%d", k);
    snprintf(to, sizeof to, "e%d", k);
    if (rvfs_mkdir(fs, name, 0755) < 0 || rvfs_rename(fs, name, to) < 0)
        return snprintf(c->why, sizeof c->why, "round %d: mkdir/rename: %s", k, strerror(errno)), false;
    snprintf(name, sizeof name, "e%d", k - 1);
    if (k > 0 && rvfs_rmdir(fs, name) < 0)
        return snprintf(c->why, sizeof c->why, "round %d: rmdir %s: %s", k, name, strerror(errno)), false;
    return true;
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    rv_conn *conn = NULL;
    rvfs *fs = NULL;
    char dir[16];
    snprintf(dir, sizeof dir, "/c%d", c->id);
    if (rv_connect(c->d->sock, &conn) != 0 || !(fs = rvfs_connect(conn, "fs")))
        CLIENT_FAIL(c, "cannot connect");
    if (rvfs_mkdir(fs, dir, 0755) < 0 || rvfs_chdir(fs, dir) < 0)
        CLIENT_FAIL(c, "mkdir/chdir %s: %s", dir, strerror(errno));
    int wfd = rvfs_open(fs, "log", O_CREAT | O_WRONLY | O_EXCL, 0644), rfd = rvfs_open(fs, "log", O_RDONLY, 0);
    if (wfd < 0 || rfd < 0)
        CLIENT_FAIL(c, "open log: %s", strerror(errno));
    uint64_t written = 0;
    for (; !c->k->done; c->rounds++)
        if (!client_round(c, fs, wfd, rfd, c->rounds, &written))
            goto out;
    struct stat st;
    if (rvfs_close(fs, wfd) < 0 || rvfs_close(fs, rfd) < 0 || rvfs_stat(fs, "log", &st) < 0)
        CLIENT_FAIL(c, "close/stat: %s", strerror(errno));
    if ((uint64_t)st.st_size != written)
        CLIENT_FAIL(c, "log has %lld bytes, %llu were written", (long long)st.st_size, (unsigned long long)written);
out:
    rvfs_disconnect(fs);
    if (conn)
        rv_disconnect(conn);
    return NULL;
}

static void test_fs_native_state_survives_kills(void **state)
{
    (void)state;
    struct image im;
    struct rvd d;
    char m[1024];
    image_make(&im);
    rvd_start(&d, fs_manifest(m, sizeof m, &im, false, "max_restarts = 100000 in 10s\nstandby = yes\n"));
    struct client cl[CLIENTS];
    struct killer k = { .d = &d };
    for (int i = 0; i < CLIENTS; i++) {
        cl[i] = (struct client){ .d = &d, .k = &k, .id = i };
        assert_int_equal(pthread_create(&cl[i].th, NULL, client_main, &cl[i]), 0);
    }
    assert_int_equal(pthread_create(&k.th, NULL, killer_main, &k), 0);
    pthread_join(k.th, NULL);
    int rounds = 0;
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(cl[i].th, NULL);
        if (cl[i].why[0])
            fail_msg("client %d: %s (after %d kills)", i, cl[i].why, k.kills);
        rounds += cl[i].rounds;
    }
    print_message("%d clients, %d rounds in all, through %d kills of fs\n", CLIENTS, rounds, k.kills);
    rvd_stop(&d);
    image_check_and_remove(&im);
}

/* ---- poison ---- */

static bool restarted_twice(const struct svc_status *st, const void *arg)
{
    (void)arg;
    return st->restarts >= 2 && strcmp(st->state, "ready") == 0;
}

static void test_fs_poisoned_request_fails_alone(void **state)
{
    (void)state;
    struct image im;
    struct rvd d;
    char m[1024], path[160];
    image_make(&im);
    rvd_start(&d, fs_manifest(m, sizeof m, &im, true, "standby = yes\n"));
    rv_conn *ca, *cb;
    rvfs *a = fs_session(&d, &ca), *b = fs_session(&d, &cb);
    assert_int_equal(rvfs_mkdir(b, "/before", 0755), 0);
    errno = 0;
    assert_int_equal(rvfs_mkdir(a, "/" FS_TEST_CRASH_NAME, 0755), -1);
    assert_int_equal(errno, EIO);
    assert_int_equal(rvfs_mkdir(a, "/after-a", 0755), 0);       /* a goes on */
    assert_int_equal(rvfs_mkdir(b, "/after-b", 0755), 0);
    struct svc_status st;
    wait_status(&d, "fs", restarted_twice, NULL, &st);
    /* the mount's own: the kernel's request is answered EIO, the mount lives */
    snprintf(path, sizeof path, "%s/%s", im.mnt, FS_TEST_CRASH_NAME);
    errno = 0;
    assert_int_equal(mkdir(path, 0755), -1);
    assert_int_equal(errno, EIO);
    snprintf(path, sizeof path, "%s/after-a", im.mnt);
    struct stat s;
    assert_int_equal(stat(path, &s), 0);
    snprintf(path, sizeof path, "%s/made-through-the-mount", im.mnt);
    assert_int_equal(mkdir(path, 0755), 0);
    rvfs_disconnect(a), rvfs_disconnect(b);
    rv_disconnect(ca), rv_disconnect(cb);
    rvd_stop(&d);
    image_check_and_remove(&im);
}

/* ---- another user ---- */

static int as_nobody(const struct rvd *d, const char *cmd, const char *arg, char *out, size_t len)
{
    const char *argv[] = { "/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", RV_IT_RV_FS, "--socket",
                           d->sock, cmd, arg, NULL };
    return run(argv, out, len, out, len);
}

static void test_fs_second_user_is_refused(void **state)
{
    (void)state;
    struct image im;
    struct rvd d;
    char m[1024], out[512];
    image_make(&im);
    rvd_start(&d, fs_manifest(m, sizeof m, &im, false, "users = *\n[revived]\nsocket_mode = 0666\n"));
    chmod(d.dir, 0755);         /* nobody must reach the socket */
    rv_conn *conn;
    rvfs *fs = fs_session(&d, &conn);
    int fd = rvfs_open(fs, "/secret", O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    assert_int_equal(rvfs_write(fs, fd, "root only\n", 10), 10);
    assert_int_equal(rvfs_close(fs, fd), 0);
    fd = rvfs_open(fs, "/public", O_CREAT | O_WRONLY, 0644);
    assert_int_equal(rvfs_write(fs, fd, "anyone\n", 7), 7);
    assert_int_equal(rvfs_close(fs, fd), 0);
    assert_int_equal(rvfs_mkdir(fs, "/private", 0700), 0);
    assert_int_equal(as_nobody(&d, "cat", "/secret", out, sizeof out), 1);
    assert_non_null(strstr(out, "Permission denied"));
    assert_int_equal(as_nobody(&d, "cat", "/public", out, sizeof out), 0);
    assert_string_equal(out, "anyone\n");
    assert_int_equal(as_nobody(&d, "mkdir", "/mine", out, sizeof out), 1);
    assert_int_equal(as_nobody(&d, "ls", "/private", out, sizeof out), 1);
    assert_int_equal(as_nobody(&d, "rm", "/public", out, sizeof out), 1);
    struct stat st;
    assert_int_equal(rvfs_stat(fs, "/public", &st), 0);
    rvfs_disconnect(fs);
    rv_disconnect(conn);
    rvd_stop(&d);
    image_check_and_remove(&im);
}

/* ---- a lying client ---- */

static void test_fs_malformed_requests(void **state)
{
    (void)state;
    struct image im;
    struct rvd d;
    char m[1024];
    image_make(&im);
    rvd_start(&d, fs_manifest(m, sizeof m, &im, false, ""));
    rv_session *s = open_session(&d, "fs", NULL);
    uint8_t req[512], reply[RV_MAX_PAYLOAD];
    size_t got;
    assert_int_equal(rv_call(s, FS_OPEN, "abc", 3, reply, sizeof reply, &got), FS_ERR(EINVAL));
    struct fs_open_req o = { .flags = O_RDONLY };
    memcpy(req, &o, sizeof o);
    memset(req + sizeof o, 'x', 40);            /* a path with no NUL */
    assert_int_equal(rv_call(s, FS_OPEN, req, sizeof o + 40, reply, sizeof reply, &got), FS_ERR(EINVAL));
    struct fs_io_req io = { .fd = 99, .len = 10 };
    assert_int_equal(rv_call(s, FS_READ, &io, sizeof io, reply, sizeof reply, &got), FS_ERR(EBADF));
    assert_int_equal(rv_call(s, 999, NULL, 0, reply, sizeof reply, &got), FS_ERR(ENOSYS));
    srand(7);
    for (int i = 0; i < 400; i++) {             /* random bytes for every operation */
        size_t len = (size_t)rand() % sizeof req;
        for (size_t k = 0; k < len; k++)
            req[k] = (uint8_t)(k % 7 == 0 ? 0 : rand());
        rv_call(s, (uint32_t)(1 + i % FS_STATFS), req, len, reply, sizeof reply, &got);
    }
    struct svc_status st;
    svc_status(&d, "fs", &st);
    assert_int_equal(st.restarts, 0);
    assert_string_equal(st.state, "ready");
    rv_close(s);
    rvd_stop(&d);
    image_check_and_remove(&im);
}

/* ---- an image that is no file system ---- */

static bool failed(const struct svc_status *st, const void *arg)
{
    (void)arg;
    return strcmp(st->state, "failed") == 0;
}

static void test_fs_bad_image_fails_clearly(void **state)
{
    (void)state;
    struct image im;
    struct rvd d;
    char m[1024];
    image_make(&im);
    const char *zero[] = { "/bin/dd", "if=/dev/zero", "conv=notrunc", "bs=64k", "count=4", NULL, NULL };
    char of[128];
    snprintf(of, sizeof of, "of=%s", im.path);
    zero[5] = of;
    assert_int_equal(run(zero, NULL, 0, NULL, 0), 0);
    rvd_start(&d, fs_manifest(m, sizeof m, &im, false, "max_restarts = 3 in 10s\n"));
    struct svc_status st;
    wait_status(&d, "fs", failed, NULL, &st);
    if (!strstr(st.last_exit, "exited with status 1: the image is not an ext2/3/4 file system"))
        fail_msg("the last exit does not say why: '%s'", st.last_exit);
    rv_conn *conn;
    assert_int_equal(rv_connect(d.sock, &conn), 0);
    assert_null(rvfs_connect(conn, "fs"));
    assert_int_equal(errno, ENOTCONN);
    if (!strstr(rv_conn_error(conn), "is failed") || !strstr(rv_conn_error(conn), "not an ext2/3/4 file system"))
        fail_msg("the client is not told why the service failed: '%s'", rv_conn_error(conn));
    rv_disconnect(conn);
    rvd_stop(&d);
    tempdir_remove(im.dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_fs_native_state_survives_kills, it_teardown),
        cmocka_unit_test_teardown(test_fs_poisoned_request_fails_alone, it_teardown),
        cmocka_unit_test_teardown(test_fs_second_user_is_refused, it_teardown),
        cmocka_unit_test_teardown(test_fs_malformed_requests, it_teardown),
        cmocka_unit_test_teardown(test_fs_bad_image_fails_clearly, it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
