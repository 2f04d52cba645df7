/* revivectl — asks revived for the state of its services, and kills or
 * restarts one. It speaks the public socket's protocol directly (wire.h):
 * these are requests of the supervisor, not of a service. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include "revive/version.h"
#include "revive/client.h"
#include "wire.h"

static void usage(FILE *f)
{
    char list[128];
    fprintf(f, "usage: revivectl [--socket PATH] status [--json]\n"
               "       revivectl [--socket PATH] kill SERVICE [--signal SIGNAL]\n"
               "       revivectl [--socket PATH] restart SERVICE\n"
               "  kill sends SIGNAL (default KILL) to the service's running instance; SIGNAL is one of\n"
               "  %s (with or without SIG; STOP makes a hang).\n"
               "  restart starts the program anew at a request boundary (an upgrade), or a failed service.\n",
            rv__kill_signal_list(list, sizeof list));
}

static int dial(const char *path)
{
    char buf[108];
    path = path ? path : rv_default_socket(buf, sizeof buf);
    int fd = rv__wire_dial(path);
    if (fd < 0)
        fprintf(stderr, "revivectl: cannot reach revived at %s: %s\n", path, strerror(errno));
    return fd;
}

/* Sends one request and receives its reply; an RV_T_ERROR is printed. */
static int request(int fd, uint8_t type, uint32_t op, const char *name, struct rv_msg *m)
{
    size_t len = name ? strlen(name) + 1 : 0;
    struct rv_hdr h = rv__hdr_make(type, 0, op, 0, len);
    if (rv__wire_send(fd, &h, name, NULL, 0, 0) < 0 || rv__wire_recv(fd, m, RV_WIRE_MAX_BODY, 0) <= 0) {
        fprintf(stderr, "revivectl: no answer from revived\n");
        return -1;
    }
    if (m->hdr.type == RV_T_ERROR) {
        fprintf(stderr, "revivectl: %.*s\n", (int)m->hdr.len, (const char *)m->body);
        return -1;
    }
    return 0;
}

static void print_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", *s);
        else
            putchar(*s);
    }
    putchar('"');
}

static void print_status(const struct rv_wire_svc_status *st, size_t n, int json)
{
    if (!json)
        printf("%-12s %-11s %7s %8s %8s %10s  %s\n", "SERVICE", "STATE", "PID", "RESTARTS", "SESSIONS",
               "SSR-BYTES", "LAST-EXIT");
    else
        printf("[");
    for (size_t i = 0; i < n; i++) {
        const struct rv_wire_svc_status *s = &st[i];
        if (!json) {
            printf("%-12.63s %-11.15s %7d %8u %8u %10" PRIu64 "  %.127s\n", s->name, s->state, s->pid,
                   s->restarts, s->sessions, s->ssr_bytes, s->last_exit);
            if (s->mount[0])
                printf("%-12s mounted at %s\n", "", s->mount);
            continue;
        }
        printf("%s{\"name\":", i ? "," : "");
        print_json_string(s->name);
        printf(",\"state\":");
        print_json_string(s->state);
        printf(",\"pid\":%d,\"standby_pid\":%d,\"standby_ready\":%s,\"restarts\":%u,\"recoveries\":%u,\"sessions\":%u,\"ssr_bytes\":%" PRIu64
               ",\"last_recovery_us\":%" PRIu64 ",\"requests_failed\":%" PRIu64 ",\"last_exit\":",
               s->pid, s->standby_pid, s->standby_ready ? "true" : "false", s->restarts, s->recoveries, s->sessions, s->ssr_bytes, s->last_recovery_us,
               s->requests_failed);
        print_json_string(s->last_exit);
        printf(",\"mount\":");
        print_json_string(s->mount);
        printf("}");
    }
    if (json)
        printf("]\n");
}

static int cmd_status(int fd, int json, struct rv_msg *m)
{
    if (request(fd, RV_T_STATUS, 0, NULL, m) < 0)
        return 1;
    size_t n = m->hdr.len / sizeof(struct rv_wire_svc_status);
    struct rv_wire_svc_status *st = calloc(n ? n : 1, sizeof *st);
    if (!st)
        return 1;
    memcpy(st, m->body, n * sizeof *st);
    for (size_t i = 0; i < n; i++) {   /* never trust a peer's strings to be terminated */
        st[i].name[sizeof st[i].name - 1] = st[i].state[sizeof st[i].state - 1] = '\0';
        st[i].last_exit[sizeof st[i].last_exit - 1] = st[i].mount[sizeof st[i].mount - 1] = '\0';
    }
    print_status(st, n, json);
    free(st);
    return 0;
}

static int parse_signal(const char *s)
{
    if (strncasecmp(s, "SIG", 3) == 0)
        s += 3;
    for (size_t i = 0; i < rv__nkill_signals; i++)
        if (strcasecmp(s, sigabbrev_np(rv__kill_signals[i])) == 0)
            return rv__kill_signals[i];
    return -1;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "socket", required_argument, NULL, 's' }, { "json", no_argument, NULL, 'j' },
        { "signal", required_argument, NULL, 'g' }, { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    const char *sock = NULL;
    int json = 0, sig = SIGKILL, c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's': sock = optarg; break;
        case 'j': json = 1; break;
        case 'g':
            if ((sig = parse_signal(optarg)) < 0) {
                char list[128];
                fprintf(stderr, "revivectl: unknown signal '%s' (one of %s)\n", optarg,
                        rv__kill_signal_list(list, sizeof list));
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("revivectl %s\n", REVIVE_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    const char *cmd = optind < argc ? argv[optind] : NULL;
    const char *svc = optind + 1 < argc ? argv[optind + 1] : NULL;
    int nargs = argc - optind;
    int ok = cmd && ((strcmp(cmd, "status") == 0 && nargs == 1) ||
                     ((strcmp(cmd, "kill") == 0 || strcmp(cmd, "restart") == 0) && nargs == 2));
    if (!ok) {
        usage(stderr);
        return 2;
    }
    int fd = dial(sock);
    if (fd < 0)
        return 1;
    struct rv_msg *m = malloc(sizeof *m);
    int rc = 1;
    if (m && strcmp(cmd, "status") == 0)
        rc = cmd_status(fd, json, m);
    else if (m)
        rc = request(fd, strcmp(cmd, "kill") == 0 ? RV_T_KILL : RV_T_RESTART, (uint32_t)sig, svc, m) < 0;
    free(m);
    close(fd);
    return rc;
}
