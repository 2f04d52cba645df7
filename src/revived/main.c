/* main.c — revived, the nucleus: options, start-up and shut-down.
 *
 * revived holds every session (socket, SSR, journal, stored descriptors),
 * starts and supervises the services of its manifest, and answers clients
 * on its public socket. It is single-threaded: one epoll loop (loop.c). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "control.h"
#include "dataspace.h"
#include "launch.h"
#include "loader.h"
#include "log.h"
#include "loop.h"
#include "manifest.h"
#include "reserve.h"
#include "revive/client.h"
#include "revive/version.h"
#include "rv_config.h"
#include "supervisor.h"
#include "access.h"
#include "account.h"
#include "conn.h"

#define MAX_SERVICES 32
#define MAX_TASKS 32

struct options {
    const char *manifest;
    const char *socket;
    int foreground;
    int log_level;
};

/* The services of the embedded manifest, "random, timer, ...", from its
 * [service NAME] headers: the help text can never fall behind it. */
static const char *builtin_services(char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (const char *p = rv_default_manifest; (p = strstr(p, "[service ")) && n < len; p++) {
        int name = (int)strcspn(p + 9, "]\n");
        n += (size_t)snprintf(buf + n, len - n, "%s%.*s", n ? ", " : "", name, p + 9);
    }
    return buf;
}

/* Where bare exec names are looked for when $REVIVE_SERVICE_PATH is not
 * set: an installed revived looks in the install directory alone; one
 * that runs from its build tree looks in the tree's services/ first, so a
 * fresh build works without installing. */
static const char *default_service_path(void)
{
    static char path[2 * PATH_MAX];
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    bool in_tree = n > 0 && strncmp(exe, RV_BUILD_ROOT "/", strlen(RV_BUILD_ROOT) + 1) == 0;
    snprintf(path, sizeof path, "%s%s%s", in_tree ? RV_SERVICE_DIR_BUILD : "", in_tree ? ":" : "",
             RV_SERVICE_DIR_INSTALL);
    return path;
}

static void usage(FILE *f)
{
    char builtin[256];
    fprintf(f,
            "usage: revived [--manifest FILE] [--socket PATH] [--foreground] [--log-level LEVEL]\n"
            "  --manifest FILE   services to run (default: the embedded manifest: %s)\n"
            "  --socket PATH     public socket (default: $REVIVE_SOCKET, else\n"
            "                    $XDG_RUNTIME_DIR/revive/revived.sock, else /run/revive/revived.sock)\n"
            "  --foreground      stay in the foreground, logging to stderr (default: detach once\n"
            "                    listening, then log to syslog and leave the terminal alone)\n"
            "  --log-level LEVEL err, warning, notice (default), info or debug\n"
            "Bare exec names are looked up in $REVIVE_SERVICE_PATH (default %s), then $PATH.\n",
            builtin_services(builtin, sizeof builtin), default_service_path());
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        { "manifest", required_argument, NULL, 'm' }, { "socket", required_argument, NULL, 's' },
        { "foreground", no_argument, NULL, 'f' },     { "log-level", required_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },           { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    *o = (struct options){ .log_level = RV_LOG_NOTICE };
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': o->manifest = optarg; break;
        case 's': o->socket = optarg; break;
        case 'f': o->foreground = 1; break;
        case 'l':
            if ((o->log_level = rv_log_parse_level(optarg)) < 0) {
                fprintf(stderr, "revived: bad --log-level '%s' (err, warning, notice, info, debug)\n", optarg);
                return -1;
            }
            break;
        case 'h': usage(stdout); exit(0);
        case 'V': printf("revived %s\n", REVIVE_VERSION); exit(0);
        default: usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "revived: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return 0;
}

static int load_manifest(const struct options *o, struct rv_manifest *m)
{
    const char *path = getenv("REVIVE_SERVICE_PATH");
    path = path && *path ? path : default_service_path();
    char err[512];
    int rc = o->manifest ? rv_manifest_load_file(o->manifest, path, m, err, sizeof err)
                         : rv_manifest_load_text(rv_default_manifest, "<embedded manifest>", path, m, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "revived: %s\n", err);
        return -1;
    }
    const char *origin = o->manifest ? o->manifest : "<embedded manifest>";
    if (m->nservices > MAX_SERVICES || m->ntasks > MAX_TASKS) {
        fprintf(stderr, "revived: %s: %zu services and %zu tasks; at most %d of each are supported\n",
                origin, m->nservices, m->ntasks, MAX_SERVICES);
        rv_manifest_free(m);
        return -1;
    }
    return 0;
}

/* Without --foreground, the parent returns only once the child listens, so
 * `revived && client` never races the socket. */
static int detach(int *ready_fd)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0) {
        close(p[1]);
        char b;
        _exit(read(p[0], &b, 1) == 1 ? 0 : 1);
    }
    close(p[0]);
    setsid();
    *ready_fd = p[1];
    return 0;
}

/* Once detached and ready, revived lets go of the terminal it was started
 * from: its standard streams become /dev/null, its log goes to syslog. */
static void leave_terminal(void)
{
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int std = 0; null >= 0 && std < 3; std++)
        dup2(null, std);
    if (null > 2)
        close(null);
    setenv("REVIVE_LOG", "syslog", 1);
}

static void announce_ready(int ready_fd)
{
    const char *env = getenv("REVIVE_READY_FD");
    if (env) {
        int fd = atoi(env);
        ssize_t w = write(fd, "READY\n", 6);
        (void)w;
        close(fd);
    }
    if (ready_fd >= 0) {
        ssize_t w = write(ready_fd, "R", 1);
        (void)w;
        close(ready_fd);
    }
}

static void on_signal(struct rv_handler *h, uint32_t events);
static struct rv_handler signal_h = { on_signal };
static int signal_fd = -1;

static void on_signal(struct rv_handler *h, uint32_t events)
{
    (void)h;
    (void)events;
    struct signalfd_siginfo si;
    if (read(signal_fd, &si, sizeof si) == sizeof si) {
        rv_notice("SIG%s: shutting down", sigabbrev_np((int)si.ssi_signo));
        loop_stop();
    }
}

static int watch_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);   /* no configuration to reload; a lost terminal is no reason to stop */
    signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    return signal_fd < 0 ? -1 : loop_add(signal_fd, EPOLLIN, &signal_h);
}

/* Every session costs revived three descriptors: take all the kernel lets
 * us, rather than the 1024 a shell's soft limit often is. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Services and tasks revived starts find it as clients do, by
 * $REVIVE_SOCKET: a service may be another's client (fs on blk). */
static void export_socket(const char *path)
{
    char abs[PATH_MAX], cwd[PATH_MAX];
    if (path[0] != '/' && getcwd(cwd, sizeof cwd) && snprintf(abs, sizeof abs, "%s/%s", cwd, path) < (int)sizeof abs)
        path = abs;
    setenv("REVIVE_SOCKET", path, 1);
}

static int run(const struct options *o, struct rv_manifest *m)
{
    char sockbuf[128], why[256];
    const char *path = o->socket ? o->socket : rv_default_socket(sockbuf, sizeof sockbuf);
    int ready_fd = -1;
    if (!o->foreground && detach(&ready_fd) < 0) {
        fprintf(stderr, "revived: cannot detach: %s\n", strerror(errno));
        return 1;
    }
    if (!o->foreground)
        launch_detached();   /* startup errors of revived's own still reach the terminal */
    raise_nofile();
    account_set_limits(m);
    if (loop_init() < 0 || watch_signals() < 0 || reserve_init() < 0 || conn_init(m->idle_timeout_ms) < 0) {
        rv_err("cannot set up the event loop: %s", strerror(errno));
        return 1;
    }
    if (control_init(path, m->socket_mode, m->socket_group, why, sizeof why) < 0) {
        rv_err("%s", why);
        return 1;
    }
    export_socket(path);
    if (dataspace_init() < 0) {
        rv_err("cannot set up dataspaces: %s", strerror(errno));
        return 1;
    }
    int rc = 1;
    access_init(m);
    if (supervisor_init(m) < 0)
        rv_err("cannot start the services: %s", strerror(errno));
    else if (loader_init(m) < 0)
        rv_err("cannot start the tasks: %s", strerror(errno));
    else {
        rv_notice("listening on %s with %zu services and %zu tasks", path, m->nservices, m->ntasks);
        announce_ready(ready_fd);
        if (!o->foreground)
            leave_terminal();
        rc = loop_run() == 0 ? 0 : 1;
    }
    loader_fini();   /* before supervisor_fini, which ends the watching of children */
    supervisor_fini();
    control_fini();  /* closing the connections withdraws every dataspace */
    dataspace_fini();
    reserve_fini();
    loop_fini();
    close(signal_fd);
    return rc;
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse_options(argc, argv, &o) < 0)
        return 2;
    rv_log_set_level(o.log_level);
    struct rv_manifest m;
    if (load_manifest(&o, &m) < 0)
        return 2;
    int rc = run(&o, &m);
    rv_manifest_free(&m);
    return rc;
}
