/* rv-fs — the command-line client of the `fs` service, through its native
 * protocol (no mount needed).
 *
 *   rv-fs [--socket PATH] [--service NAME] ls [PATH]       names, one a line
 *   rv-fs ... cat PATH                                      the file to stdout
 *   rv-fs ... put LOCAL PATH                                copies a local file in
 *   rv-fs ... get PATH LOCAL                                copies a file out
 *   rv-fs ... mkdir PATH | rm PATH | mv FROM TO | stat PATH
 *
 * rm removes a file, or an empty directory. Permissions are the caller's:
 * the service checks them against the user running rv-fs. Exit status: 0
 * done, 1 the file system refused (a sentence on stderr says why), 2 bad
 * usage, 3 revive could not carry the call. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "fs.h"
#include "fs_client.h"
#include "revive/version.h"

enum { EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_REVIVE = 3 };

static rvfs *fs;

static void usage(FILE *f)
{
    fprintf(f, "usage: rv-fs [--socket PATH] [--service NAME] COMMAND\n"
               "  ls [PATH] | cat PATH | put LOCAL PATH | get PATH LOCAL | mkdir PATH | rm PATH |\n"
               "  mv FROM TO | stat PATH\n");
}

static int failed(const char *what, const char *path)
{
    int e = errno;
    if (e == EIO || e == ENOTCONN || e == EMSGSIZE) {
        fprintf(stderr, "rv-fs: %s %s: %s (%s)\n", what, path, strerror(e), rvfs_error(fs));
        return EXIT_REVIVE;
    }
    fprintf(stderr, "rv-fs: %s %s: %s\n", what, path, strerror(e));
    return EXIT_REFUSED;
}

static int print_name(const char *name, uint64_t ino, unsigned type, void *arg)
{
    (void)ino, (void)type, (void)arg;
    if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0)
        puts(name);
    return 0;
}

static int do_ls(const char *path)
{
    return rvfs_readdir(fs, path, print_name, NULL) < 0 ? failed("ls", path) : 0;
}

/* Copies from one descriptor to the other: from_fs says which side is the
 * service's. */
static int copy(int from, int to, bool from_fs, const char *path)
{
    static char buf[1 << 16];
    for (;;) {
        ssize_t n = from_fs ? rvfs_read(fs, from, buf, sizeof buf) : read(from, buf, sizeof buf);
        if (n < 0)
            return failed("read", path);
        if (n == 0)
            return 0;
        ssize_t w = from_fs ? write(to, buf, (size_t)n) : rvfs_write(fs, to, buf, (size_t)n);
        if (w != n)
            return failed("write", path);
    }
}

static int do_cat(const char *path)
{
    int fd = rvfs_open(fs, path, O_RDONLY, 0);
    if (fd < 0)
        return failed("open", path);
    int rc = copy(fd, STDOUT_FILENO, true, path);
    rvfs_close(fs, fd);
    return rc;
}

static int do_put(const char *local, const char *path)
{
    int in = open(local, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        fprintf(stderr, "rv-fs: %s: %s\n", local, strerror(errno));
        return EXIT_REFUSED;
    }
    int fd = rvfs_open(fs, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = fd < 0 ? failed("open", path) : copy(in, fd, false, path);
    if (fd >= 0 && rc == 0 && rvfs_fsync(fs, fd) < 0)
        rc = failed("fsync", path);
    if (fd >= 0)
        rvfs_close(fs, fd);
    close(in);
    return rc;
}

static int do_get(const char *path, const char *local)
{
    int fd = rvfs_open(fs, path, O_RDONLY, 0);
    if (fd < 0)
        return failed("open", path);
    int out = open(local, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        fprintf(stderr, "rv-fs: %s: %s\n", local, strerror(errno));
        rvfs_close(fs, fd);
        return EXIT_REFUSED;
    }
    int rc = copy(fd, out, true, path);
    rvfs_close(fs, fd);
    if (close(out) < 0 && rc == 0) {
        fprintf(stderr, "rv-fs: %s: %s\n", local, strerror(errno));
        rc = EXIT_REFUSED;
    }
    return rc;
}

static int do_rm(const char *path)
{
    if (rvfs_unlink(fs, path) == 0)
        return 0;
    if (errno == EISDIR && rvfs_rmdir(fs, path) == 0)
        return 0;
    return failed("rm", path);
}

static const char *type_name(mode_t m)
{
    return S_ISREG(m) ? "file" : S_ISDIR(m) ? "directory" : S_ISLNK(m) ? "symlink" : S_ISFIFO(m) ? "fifo"
         : S_ISSOCK(m) ? "socket" : S_ISCHR(m) ? "character device" : "block device";
}

static int do_stat(const char *path)
{
    struct stat st;
    if (rvfs_lstat(fs, path, &st) < 0)
        return failed("stat", path);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&st.st_mtim.tv_sec));
    printf("%s: %s, %lld bytes, inode %llu, %lu links, mode %04o, uid %u, gid %u, modified %s.%09ld\n", path,
           type_name(st.st_mode), (long long)st.st_size, (unsigned long long)st.st_ino, (unsigned long)st.st_nlink,
           st.st_mode & 07777, st.st_uid, st.st_gid, when, st.st_mtim.tv_nsec);
    return 0;
}

static int run(int argc, char **argv)
{
    const char *cmd = argv[0];
    int n = argc - 1;
    if (strcmp(cmd, "ls") == 0 && n <= 1)
        return do_ls(n ? argv[1] : "/");
    if (strcmp(cmd, "cat") == 0 && n == 1)
        return do_cat(argv[1]);
    if (strcmp(cmd, "put") == 0 && n == 2)
        return do_put(argv[1], argv[2]);
    if (strcmp(cmd, "get") == 0 && n == 2)
        return do_get(argv[1], argv[2]);
    if (strcmp(cmd, "mkdir") == 0 && n == 1)
        return rvfs_mkdir(fs, argv[1], 0755) < 0 ? failed("mkdir", argv[1]) : 0;
    if (strcmp(cmd, "rm") == 0 && n == 1)
        return do_rm(argv[1]);
    if (strcmp(cmd, "mv") == 0 && n == 2)
        return rvfs_rename(fs, argv[1], argv[2]) < 0 ? failed("mv", argv[1]) : 0;
    if (strcmp(cmd, "stat") == 0 && n == 1)
        return do_stat(argv[1]);
    fprintf(stderr, "rv-fs: unknown command or wrong arguments: %s\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    const char *socket = NULL, *service = "fs";
    static const struct option opts[] = {
        { "socket", required_argument, NULL, 's' }, { "service", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' }, { 0 },
    };
    for (int c; (c = getopt_long(argc, argv, "+", opts, NULL)) != -1;) {
        if (c == 's')
            socket = optarg;
        else if (c == 'n')
            service = optarg;
        else if (c == 'h')
            return usage(stdout), 0;
        else if (c == 'V')
            return printf("rv-fs %s\n", REVIVE_VERSION), 0;
        else
            return usage(stderr), EXIT_USAGE;
    }
    if (optind >= argc)
        return usage(stderr), EXIT_USAGE;
    rv_conn *conn;
    if (rv_connect(socket, &conn) != 0) {
        fprintf(stderr, "rv-fs: cannot reach revived: %s\n", strerror(errno));
        return EXIT_REVIVE;
    }
    fs = rvfs_connect(conn, service);
    if (!fs) {
        fprintf(stderr, "rv-fs: cannot open a session with '%s': %s\n", service, rv_conn_error(conn));
        rv_disconnect(conn);
        return EXIT_REVIVE;
    }
    int rc = run(argc - optind, argv + optind);
    rvfs_disconnect(fs);
    rv_disconnect(conn);
    return rc;
}
