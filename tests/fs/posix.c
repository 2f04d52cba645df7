/* posix.c — `fs-posix DIR`: the POSIX semantics programs rely on, checked
 * in DIR (a fresh directory): permissions (as `nobody` too), link counts,
 * rename over files and directories, O_APPEND, O_EXCL, truncate, sparse
 * files, symlinks, timestamps, unlink while open, readdir, set-gid
 * directories. Prints one line per group and exits 1 at the first
 * difference. Run on a local disk it must pass too: the tests run it there
 * first, to keep the checks honest. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int checks;

#define CHECK(cond, ...) do {                                                  \
        checks++;                                                              \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fs-posix: %s:%d: ", __func__, __LINE__);          \
            fprintf(stderr, __VA_ARGS__);                                      \
            fprintf(stderr, " (errno %s)\n", strerror(errno));                 \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

#define FAILS_WITH(call, err) do { errno = 0; int r_ = (int)(call); CHECK(r_ < 0 && errno == (err), "%s should fail with %s", #call, strerror(err)); } while (0)

static void put(const char *path, const char *text)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    CHECK(fd >= 0, "create %s", path);
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text), "write %s", path);
    CHECK(close(fd) == 0, "close %s", path);
}

static char *get(const char *path)
{
    static char buf[4096];
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0, "open %s", path);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    CHECK(n >= 0, "read %s", path);
    buf[n] = '\0';
    close(fd);
    return buf;
}

static nlink_t links_of(const char *path)
{
    struct stat st;
    CHECK(lstat(path, &st) == 0, "lstat %s", path);
    return st.st_nlink;
}

static void links(void)
{
    put("f", "x");
    CHECK(links_of("f") == 1, "a new file has one link");
    CHECK(link("f", "g") == 0, "link");
    CHECK(links_of("f") == 2 && links_of("g") == 2, "two names, two links");
    FAILS_WITH(link("f", "g"), EEXIST);
    CHECK(unlink("f") == 0 && links_of("g") == 1, "unlink drops one");
    CHECK(mkdir("d", 0755) == 0 && links_of("d") == 2, "a new directory has two links");
    nlink_t top = links_of(".");
    CHECK(mkdir("d/s", 0755) == 0 && links_of("d") == 3, "a subdirectory adds one");
    CHECK(links_of(".") == top, "a grandchild changes nothing");
    FAILS_WITH(link("d", "d2"), EPERM);
    FAILS_WITH(rmdir("d"), ENOTEMPTY);
    FAILS_WITH(unlink("d"), EISDIR);
    FAILS_WITH(mkdir("d", 0755), EEXIST);
    CHECK(rmdir("d/s") == 0 && links_of("d") == 2, "rmdir gives it back");
    CHECK(rmdir("d") == 0 && unlink("g") == 0, "clean up");
    puts("links: ok");
}

static void renames(void)
{
    put("a", "A");
    put("b", "B");
    struct stat sa;
    CHECK(stat("a", &sa) == 0, "stat a");
    CHECK(rename("a", "b") == 0, "rename over a file");
    struct stat sb;
    CHECK(stat("b", &sb) == 0 && sb.st_ino == sa.st_ino && strcmp(get("b"), "A") == 0, "b is a now");
    FAILS_WITH(stat("a", &sa), ENOENT);
    CHECK(mkdir("d1", 0755) == 0 && mkdir("d2", 0755) == 0 && mkdir("d1/sub", 0755) == 0, "mkdirs");
    CHECK(rename("d1", "d2") == 0, "a directory over an empty one");
    CHECK(links_of("d2/sub") == 2 && access("d1", F_OK) < 0, "d2 is d1 now");
    CHECK(mkdir("d3", 0755) == 0, "mkdir d3");
    FAILS_WITH(rename("d3", "d2"), ENOTEMPTY);
    FAILS_WITH(rename("b", "d3"), EISDIR);
    FAILS_WITH(rename("d3", "b"), ENOTDIR);
    FAILS_WITH(rename("d2", "d2/sub/inside"), EINVAL);
    nlink_t top = links_of(".");
    CHECK(rename("d3", "d2/sub/d3") == 0, "a directory into another");
    CHECK(links_of(".") == top - 1 && links_of("d2/sub") == 3, "link counts follow the move");
    struct stat dd, sub;
    CHECK(stat("d2/sub/d3/..", &dd) == 0 && stat("d2/sub", &sub) == 0 && dd.st_ino == sub.st_ino, ".. follows");
    CHECK(link("b", "c") == 0 && rename("b", "c") == 0 && access("b", F_OK) == 0, "two names of one file: nothing");
    CHECK(unlink("b") == 0 && unlink("c") == 0 && rmdir("d2/sub/d3") == 0 && rmdir("d2/sub") == 0 && rmdir("d2") == 0,
          "clean up");
    puts("renames: ok");
}

static void opens(void)
{
    int fd = open("e", O_CREAT | O_EXCL | O_WRONLY, 0600);
    CHECK(fd >= 0, "O_EXCL creates");
    close(fd);
    FAILS_WITH(open("e", O_CREAT | O_EXCL | O_WRONLY, 0600), EEXIST);
    int a = open("e", O_WRONLY | O_APPEND), b = open("e", O_WRONLY | O_APPEND);
    CHECK(a >= 0 && b >= 0, "two appenders");
    for (int i = 0; i < 50; i++) {
        CHECK(write(a, "a", 1) == 1 && write(b, "bb", 2) == 2, "appends");
    }
    close(a), close(b);
    const char *s = get("e");
    CHECK(strlen(s) == 150, "every append landed: %zu bytes", strlen(s));
    for (int i = 0; i < 50; i++)
        CHECK(s[3 * i] == 'a' && s[3 * i + 1] == 'b' && s[3 * i + 2] == 'b', "in order at %d", i);
    put("e", "short");
    CHECK(strcmp(get("e"), "short") == 0, "O_TRUNC empties first");
    FAILS_WITH(open("e/x", O_RDONLY), ENOTDIR);
    FAILS_WITH(open("missing", O_RDONLY), ENOENT);
    CHECK(unlink("e") == 0, "clean up");
    puts("opens: ok");
}

static void sizes(void)
{
    put("t", "0123456789");
    CHECK(truncate("t", 4) == 0 && strcmp(get("t"), "0123") == 0, "shrink");
    CHECK(truncate("t", 8) == 0, "grow");
    char buf[16];
    int fd = open("t", O_RDWR);
    CHECK(fd >= 0 && pread(fd, buf, sizeof buf, 0) == 8, "read grown");
    CHECK(memcmp(buf, "0123\0\0\0\0", 8) == 0, "grown with zeros");
    CHECK(ftruncate(fd, 2) == 0 && pread(fd, buf, sizeof buf, 0) == 2, "ftruncate");
    close(fd);
    fd = open("sparse", O_CREAT | O_RDWR, 0644);
    const off_t far = (off_t)1 << 30;
    CHECK(fd >= 0 && pwrite(fd, "end", 3, far) == 3, "write a GiB in");
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == far + 3, "size %lld", (long long)st.st_size);
    CHECK(st.st_blocks * 512 < 1 << 20, "a hole takes no space: %lld blocks", (long long)st.st_blocks);
    CHECK(pread(fd, buf, 8, far / 2) == 8 && memcmp(buf, "\0\0\0\0\0\0\0\0", 8) == 0, "a hole reads zeros");
    close(fd);
    CHECK(unlink("t") == 0 && unlink("sparse") == 0, "clean up");
    puts("sizes: ok");
}

static void symlinks(void)
{
    put("target", "T");
    CHECK(symlink("target", "l") == 0, "symlink");
    char buf[64];
    ssize_t n = readlink("l", buf, sizeof buf);
    CHECK(n == 6 && memcmp(buf, "target", 6) == 0, "readlink");
    struct stat st;
    CHECK(lstat("l", &st) == 0 && S_ISLNK(st.st_mode) && st.st_size == 6, "lstat sees the link");
    CHECK(strcmp(get("l"), "T") == 0, "open follows it");
    CHECK(symlink("nowhere", "dangling") == 0, "a dangling one");
    FAILS_WITH(stat("dangling", &st), ENOENT);
    CHECK(symlink("loop2", "loop1") == 0 && symlink("loop1", "loop2") == 0, "a loop");
    FAILS_WITH(open("loop1", O_RDONLY), ELOOP);
    char longt[300];
    memset(longt, 'x', sizeof longt - 1);
    longt[sizeof longt - 1] = '\0';
    CHECK(symlink(longt, "long") == 0 && readlink("long", buf, sizeof buf) == sizeof buf, "a long target");
    CHECK(unlink("l") == 0 && unlink("dangling") == 0 && unlink("loop1") == 0 && unlink("loop2") == 0 &&
          unlink("long") == 0 && unlink("target") == 0, "clean up");
    puts("symlinks: ok");
}

static struct timespec mtime_of(const char *path, struct timespec *ctime)
{
    struct stat st;
    CHECK(stat(path, &st) == 0, "stat %s", path);
    if (ctime)
        *ctime = st.st_ctim;
    return st.st_mtim;
}

static bool later(struct timespec a, struct timespec b)
{
    return a.tv_sec > b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec > b.tv_nsec);
}

static void pause_a_tick(void)
{
    struct timespec ts = { .tv_nsec = 20 * 1000 * 1000 };
    nanosleep(&ts, NULL);   /* timestamps must be able to differ */
}

static void timestamps(void)
{
    put("ts", "1");
    struct timespec c0, m0 = mtime_of("ts", &c0), c1, c2;
    pause_a_tick();
    int fd = open("ts", O_WRONLY);
    CHECK(fd >= 0 && write(fd, "2", 1) == 1, "write");
    close(fd);
    struct timespec m1 = mtime_of("ts", &c1);
    CHECK(later(m1, m0) && later(c1, c0), "a write moves mtime and ctime");
    pause_a_tick();
    CHECK(chmod("ts", 0600) == 0, "chmod");
    struct timespec m2 = mtime_of("ts", &c2);
    CHECK(m2.tv_sec == m1.tv_sec && m2.tv_nsec == m1.tv_nsec && later(c2, c1), "chmod moves ctime only");
    struct timespec set[2] = { { 1000000000, 123456789 }, { 1500000000, 987654321 } };
    CHECK(utimensat(AT_FDCWD, "ts", set, 0) == 0, "utimensat");
    struct stat st;
    CHECK(stat("ts", &st) == 0 && st.st_atim.tv_sec == set[0].tv_sec && st.st_atim.tv_nsec == set[0].tv_nsec &&
          st.st_mtim.tv_sec == set[1].tv_sec && st.st_mtim.tv_nsec == set[1].tv_nsec, "exact times, to the ns");
    struct timespec d0 = mtime_of(".", NULL);
    pause_a_tick();
    put("ts2", "x");
    CHECK(later(mtime_of(".", NULL), d0), "a create moves the directory's mtime");
    CHECK(unlink("ts") == 0 && unlink("ts2") == 0, "clean up");
    puts("timestamps: ok");
}

static void unlinked_open(void)
{
    struct statvfs during, after;
    int fd = open("doomed", O_CREAT | O_RDWR, 0644);
    static char block[1 << 20];
    memset(block, 'z', sizeof block);
    for (int i = 0; i < 8; i++)
        CHECK(write(fd, block, sizeof block) == (ssize_t)sizeof block, "fill");
    CHECK(unlink("doomed") == 0, "unlink it open");
    FAILS_WITH(access("doomed", F_OK), ENOENT);
    char c;
    CHECK(pread(fd, &c, 1, 5 << 20) == 1 && c == 'z', "its data is still there");
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_blocks * 512 >= 8 << 20, "and still takes space");
    CHECK(fstatvfs(fd, &during) == 0, "statvfs");
    close(fd);
    /* Other programs may write to a local disk meanwhile (the tests run this
     * there too, in parallel with others): half the file back is proof
     * enough that the close freed it; on revive's mount it is all of it. */
    unsigned long long half = (4u << 20) / during.f_bsize;
    CHECK(statvfs(".", &after) == 0 && after.f_bfree >= during.f_bfree + half, "the last close frees it: %llu -> %llu",
          (unsigned long long)during.f_bfree, (unsigned long long)after.f_bfree);
    puts("unlinked while open: ok");
}

static void listing(void)
{
    CHECK(mkdir("many", 0755) == 0, "mkdir");
    char p[64];
    for (int i = 0; i < 600; i++) {
        snprintf(p, sizeof p, "many/entry-%04d", i);
        put(p, "");
    }
    for (int i = 0; i < 600; i += 2) {
        snprintf(p, sizeof p, "many/entry-%04d", i);
        CHECK(unlink(p) == 0, "unlink %s", p);
    }
    static int seen[600];
    DIR *d = opendir("many");
    CHECK(d != NULL, "opendir");
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        int k;
        if (sscanf(e->d_name, "entry-%d", &k) == 1) {
            CHECK(k % 2 == 1 && !seen[k]++, "%s listed once, and only if it exists", e->d_name);
            CHECK(e->d_type == DT_REG || e->d_type == DT_UNKNOWN, "a file's type");
            n++;
        }
    }
    closedir(d);
    CHECK(n == 300, "every entry listed: %d", n);
    for (int i = 1; i < 600; i += 2) {
        snprintf(p, sizeof p, "many/entry-%04d", i);
        CHECK(unlink(p) == 0, "unlink %s", p);
    }
    CHECK(rmdir("many") == 0, "rmdir");
    puts("readdir: ok");
}

/* As nobody, in a child: what root's files allow. */
static void permissions(void)
{
    put("secret", "s");
    CHECK(chmod("secret", 0600) == 0, "chmod 0600");
    put("public", "p");
    CHECK(chmod("public", 0644) == 0, "chmod 0644");
    CHECK(mkdir("closed", 0755) == 0 && mkdir("open", 0777) == 0 && chmod("open", 01777) == 0, "mkdirs");
    put("open/roots", "r");
    CHECK(chmod(".", 0755) == 0, "chmod .");
    struct passwd *nobody = getpwnam("nobody");
    CHECK(nobody != NULL, "a user nobody");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        CHECK(setgroups(0, NULL) == 0 && setgid(nobody->pw_gid) == 0 && setuid(nobody->pw_uid) == 0, "become nobody");
        FAILS_WITH(open("secret", O_RDONLY), EACCES);
        CHECK(strcmp(get("public"), "p") == 0, "read public");
        FAILS_WITH(open("public", O_WRONLY), EACCES);
        FAILS_WITH(open("closed/x", O_CREAT | O_WRONLY, 0644), EACCES);
        FAILS_WITH(chmod("public", 0666), EPERM);
        FAILS_WITH(unlink("public"), EACCES);
        put("open/mine", "m");
        FAILS_WITH(unlink("open/roots"), EPERM);          /* sticky */
        CHECK(unlink("open/mine") == 0, "my own, in a sticky directory");
        _exit(0);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0, "nobody's checks");
    CHECK(unlink("open/roots") == 0 && rmdir("open") == 0 && rmdir("closed") == 0 && unlink("secret") == 0 &&
          unlink("public") == 0, "clean up");
    puts("permissions: ok");
}

static void setgid_dirs(void)
{
    CHECK(mkdir("sg", 0755) == 0 && chown("sg", 0, 4242) == 0 && chmod("sg", 02775) == 0, "a set-gid directory");
    put("sg/f", "x");
    CHECK(mkdir("sg/d", 0755) == 0, "mkdir in it");
    struct stat f, d;
    CHECK(stat("sg/f", &f) == 0 && f.st_gid == 4242, "a file takes its group");
    CHECK(stat("sg/d", &d) == 0 && d.st_gid == 4242 && (d.st_mode & S_ISGID), "a directory its group and bit");
    CHECK(unlink("sg/f") == 0 && rmdir("sg/d") == 0 && rmdir("sg") == 0, "clean up");
    puts("set-gid directories: ok");
}

int main(int argc, char **argv)
{
    if (argc != 2 || mkdir(argv[1], 0755) < 0 || chdir(argv[1]) < 0) {
        fprintf(stderr, "usage: fs-posix NEW-DIR\n");
        return 2;
    }
    links();
    renames();
    opens();
    sizes();
    symlinks();
    timestamps();
    unlinked_open();
    listing();
    permissions();
    setgid_dirs();
    printf("%d checks passed\n", checks);
    return 0;
}
