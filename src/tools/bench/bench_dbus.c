/* bench_dbus.c — D-Bus, the peer revive is most often compared with: a
 * synchronous method call with sd-bus (libsystemd), to a server process
 * that answers it and does nothing else.
 *
 * Two ways to reach the server:
 *   peer to peer  the client and the server on the two ends of a socketpair,
 *                 no daemon (sd_bus_set_fd, sd_bus_set_server): one hop each
 *                 way, like revive's session;
 *   brokered      both connected to a private dbus-daemon this file starts
 *                 (its own config, socket and temp dir): the call and the
 *                 reply each cross the daemon, two hops each way, which is
 *                 how D-Bus services are normally reached.
 *
 * The server offers Null (no arguments, no reply values) and Echo (an array
 * of bytes, returned). Every server and the daemon are forked onto
 * SERVER_CPU, like the echo side of the ping-pong baselines; the client
 * stays where rv-bench pinned it. Built only when meson found libsystemd;
 * RV_DBUS_DAEMON is where meson found dbus-daemon (or where Debian puts it). */
#include "bench_tool.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#define OBJ_PATH "/org/revive/Bench"
#define IFACE "org.revive.Bench"

/* ---- the server ---- */

static int method_null(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
    (void)userdata;
    (void)err;
    return sd_bus_reply_method_return(m, NULL);
}

static int method_echo(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
    (void)userdata;
    (void)err;
    const void *data;
    size_t n;
    sd_bus_message *reply = NULL;
    int rc = sd_bus_message_read_array(m, 'y', &data, &n);
    if (rc >= 0)
        rc = sd_bus_message_new_method_return(m, &reply);
    if (rc >= 0)
        rc = sd_bus_message_append_array(reply, 'y', data, n);
    if (rc >= 0)
        rc = sd_bus_send(NULL, reply, NULL);
    sd_bus_message_unref(reply);
    return rc;
}

static const sd_bus_vtable bench_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("Null", "", "", method_null, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Echo", "ay", "ay", method_echo, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

/* A started connection: to the bus at address, or on fd as its client or
 * (server) its server. */
static sd_bus *bus_open(const char *address, int fd, bool server)
{
    sd_bus *bus = NULL;
    sd_id128_t id;
    int rc = sd_bus_new(&bus);
    if (rc >= 0)
        rc = address ? sd_bus_set_address(bus, address) : sd_bus_set_fd(bus, fd, fd);
    if (rc >= 0 && address)
        rc = sd_bus_set_bus_client(bus, 1);   /* Hello, and a unique name */
    if (rc >= 0 && server && (rc = sd_id128_randomize(&id)) >= 0)
        rc = sd_bus_set_server(bus, 1, id);
    if (rc >= 0)
        rc = sd_bus_start(bus);
    if (rc < 0)
        bench_die("sd-bus connection to %s: %s", address ? address : "a socketpair", strerror(-rc));
    return bus;
}

/* What a forked server gets: its end of the socketpair (or -1 and the bus
 * address) and where to say it is ready. */
struct server_arg {
    const char *address;
    int fd;
    int ready;
};

/* The server holds no copy of another contender's socket, so each sees its
 * peer close. */
static void close_all_but(int a, int b)
{
    int keep[2] = { a < b ? a : b, a < b ? b : a };
    unsigned from = 3;
    for (int i = 0; i < 2; i++)
        if (keep[i] >= (int)from) {
            if (keep[i] > (int)from)
                close_range(from, (unsigned)keep[i] - 1, 0);
            from = (unsigned)keep[i] + 1;
        }
    close_range(from, ~0u, 0);
}

/* Serves until its client or the daemon goes away, or it is killed. Says
 * ready with its unique name on the bus ("-" peer to peer), once the object
 * is there to be called. */
static void serve(void *arg)
{
    struct server_arg *a = arg;
    close_all_but(a->fd, a->ready);
    sd_bus *bus = bus_open(a->address, a->fd, !a->address);
    const char *name = "-";
    if (sd_bus_add_object_vtable(bus, NULL, OBJ_PATH, IFACE, bench_vtable, NULL) < 0 ||
        (a->address && sd_bus_get_unique_name(bus, &name) < 0))
        _exit(1);
    if (write(a->ready, name, strlen(name)) < 0)
        _exit(1);
    close(a->ready);
    for (;;) {
        int rc = sd_bus_process(bus, NULL);
        if (rc < 0 || (rc == 0 && sd_bus_wait(bus, UINT64_MAX) < 0))
            break;
    }
    sd_bus_flush_close_unref(bus);
}

/* ---- the client ---- */

struct dbus_peer {
    sd_bus *bus;
    pid_t pid;
    size_t bytes;
    char dest[64];   /* the server's unique name; empty peer to peer */
};

static int dbus_round(void *ctx)
{
    struct dbus_peer *p = ctx;
    static const uint8_t req[MSG_BYTES] = { 1 };
    sd_bus_message *m = NULL, *reply = NULL;
    const void *data = NULL;
    size_t n = 0;
    int rc = sd_bus_message_new_method_call(p->bus, &m, p->dest[0] ? p->dest : NULL, OBJ_PATH, IFACE,
                                            p->bytes ? "Echo" : "Null");
    if (rc >= 0 && p->bytes)
        rc = sd_bus_message_append_array(m, 'y', req, p->bytes);
    if (rc >= 0)
        rc = sd_bus_call(p->bus, m, 0, NULL, &reply);
    if (rc >= 0 && p->bytes)
        rc = sd_bus_message_read_array(reply, 'y', &data, &n);
    sd_bus_message_unref(m);
    sd_bus_message_unref(reply);
    return rc >= 0 && n == p->bytes ? 0 : -1;
}

/* Reads the server's ready line into dest. */
static void wait_server(int ready, char *dest, size_t len)
{
    ssize_t n = read(ready, dest, len - 1);
    if (n <= 0)
        bench_die("the sd-bus server did not start");
    dest[n] = '\0';
    if (strcmp(dest, "-") == 0)
        dest[0] = '\0';
    close(ready);
}

struct contender dbus_start(const char *address, size_t bytes)
{
    struct dbus_peer *p = calloc(1, sizeof *p);
    int sv[2] = { -1, -1 }, ready[2];
    if (!p || bytes > MSG_BYTES)
        bench_die("out of memory, or more than %d bytes", MSG_BYTES);
    if ((!address && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) || pipe2(ready, O_CLOEXEC) < 0)
        bench_die("socketpair or pipe: %m");
    struct server_arg a = { address, sv[1], ready[1] };
    p->pid = bench_fork_server(serve, &a);
    close(ready[1]);
    if (sv[1] >= 0)
        close(sv[1]);
    wait_server(ready[0], p->dest, sizeof p->dest);
    p->bus = bus_open(address, sv[0], false);
    p->bytes = bytes;
    return (struct contender){ address ? "sd-bus via dbus-daemon" : "sd-bus peer to peer", dbus_round, p };
}

/* Ends a child forked onto SERVER_CPU; dies if it had died by itself. */
static void end_child(pid_t pid, const char *what)
{
    int st;
    if (kill(pid, SIGTERM) < 0 || waitpid(pid, &st, 0) < 0 ||
        !((WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM) || (WIFEXITED(st) && WEXITSTATUS(st) == 0)))
        bench_die("%s failed before the end of its run", what);
}

void dbus_stop(struct contender *c)
{
    struct dbus_peer *p = c->ctx;
    sd_bus_flush_close_unref(p->bus);
    end_child(p->pid, c->what);
    free(p);
}

/* ---- the broker: a private dbus-daemon ---- */

/* The policy of Debian's session.conf (anyone may own, call and receive
 * anything; no receive rule at all would refuse every reply), without its
 * service activation and include files; EXTERNAL auth on a socket in dir. */
static void write_config(const char *path, const char *dir)
{
    FILE *f = fopen(path, "w");
    if (!f)
        bench_die("cannot write %s: %m", path);
    fprintf(f, "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
               " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
               "<busconfig>\n  <type>session</type>\n  <listen>unix:path=%s/bus</listen>\n"
               "  <auth>EXTERNAL</auth>\n  <policy context=\"default\">\n"
               "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n    <allow eavesdrop=\"true\"/>\n"
               "    <allow own=\"*\"/>\n  </policy>\n</busconfig>\n",
            dir);
    if (fclose(f) != 0)
        bench_die("cannot write %s: %m", path);
}

struct daemon_arg {
    const char *config;
    const char *log;     /* its stderr: as root it complains of the fd limit */
    int print_fd;        /* where dbus-daemon prints its address */
};

static void exec_daemon(void *arg)
{
    struct daemon_arg *a = arg;
    char conf[128], print[32];
    int fd = dup(a->print_fd);   /* without close-on-exec */
    int log = open(a->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log < 0 || dup2(log, STDERR_FILENO) < 0)
        _exit(127);
    snprintf(conf, sizeof conf, "--config-file=%s", a->config);
    snprintf(print, sizeof print, "--print-address=%d", fd);
    execl(RV_DBUS_DAEMON, "dbus-daemon", "--nofork", conf, print, (char *)NULL);
    _exit(127);
}

int dbus_broker_start(struct dbus_broker *b)
{
    if (access(RV_DBUS_DAEMON, X_OK) < 0)
        return -1;
    char config[128], log[128];
    int p[2];
    snprintf(b->dir, sizeof b->dir, "/tmp/rv-bench-dbus.XXXXXX");
    if (!mkdtemp(b->dir) || pipe2(p, O_CLOEXEC) < 0)
        bench_die("mkdtemp or pipe: %m");
    snprintf(config, sizeof config, "%s/bus.conf", b->dir);
    write_config(config, b->dir);
    snprintf(log, sizeof log, "%s/daemon.log", b->dir);
    struct daemon_arg a = { config, log, p[1] };
    b->pid = bench_fork_server(exec_daemon, &a);
    close(p[1]);
    ssize_t n = read(p[0], b->address, sizeof b->address - 1);
    close(p[0]);
    if (n <= 0)
        bench_die("%s did not start; see %s", RV_DBUS_DAEMON, log);
    b->address[n] = '\0';
    b->address[strcspn(b->address, "\n")] = '\0';
    return 0;
}

void dbus_broker_stop(struct dbus_broker *b)
{
    end_child(b->pid, "dbus-daemon");
    char path[160];
    const char *files[] = { "bus.conf", "bus", "daemon.log" };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", b->dir, files[i]);
        unlink(path);
    }
    rmdir(b->dir);
}
