/* task_helper.c — rv-it-task, the task test_namespace.c has revived start
 * from a [task NAME] section.
 *
 *     rv-it-task REPORT open NAME [fail-once]
 *     rv-it-task REPORT attach NAME [fail-once]
 *
 * Speaks the wire protocol on the descriptor REVIVE_NS_FD names: opens a
 * session with NAME, or attaches the dataspace NAME (waiting up to 30 s for
 * its provider), then writes one line to the FIFO REPORT, in one write:
 *
 *     TASK RUN OK                 an open succeeded
 *     TASK RUN OK TEXT            an attach succeeded; TEXT is the string
 *                                 at the start of the dataspace
 *     TASK RUN ERR STATUS WHY     revived refused
 *
 * TASK is $REVIVE_TASK; RUN counts this task's starts (kept in REPORT.runs,
 * so restarts show). With fail-once, the first run exits with status 3
 * before doing anything: the test of restart = on-failure. After reporting
 * it keeps what it got and waits for revived to close the connection (at
 * shutdown revived kills it anyway), so it never outlives its revived.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "wire.h"

static struct rv_msg msg;

/* This run's number: one byte appended per run. */
static long count_run(const char *report)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s.runs", report);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, "r", 1) != 1 || fstat(fd, &st) < 0)
        exit(20);
    close(fd);
    return (long)st.st_size;
}

static void say(const char *report, const char *line)
{
    int fd = open(report, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, line, strlen(line)) != (ssize_t)strlen(line))
        exit(21);
    close(fd);
}

/* Sends the request and waits for its one reply. */
static void ask(int ns, uint8_t type, uint32_t op, const char *name, size_t len)
{
    struct rv_hdr h = rv__hdr_make(type, 0, op, 0, len);
    if (rv__wire_send(ns, &h, name, NULL, 0, 0) < 0 || rv__wire_recv(ns, &msg, RV_WIRE_MAX_BODY, 0) != 1)
        exit(22);
}

/* What the reply says, after "TASK RUN ". */
static void describe(const char *mode, char *out, size_t len)
{
    if (msg.hdr.type == RV_T_ERROR) {
        snprintf(out, len, "ERR %d %.*s", (int)msg.hdr.status, (int)msg.hdr.len, (const char *)msg.body);
        return;
    }
    if (strcmp(mode, "open") == 0 && msg.hdr.type == RV_T_OPEN_OK && msg.nfds == 1) {
        snprintf(out, len, "OK");
        return;
    }
    uint64_t size = 0;
    if (msg.hdr.type == RV_T_DS_OK && msg.hdr.len == sizeof size && msg.nfds >= 2) {
        memcpy(&size, msg.body, sizeof size);
        const char *p = mmap(NULL, size, PROT_READ, MAP_SHARED, msg.fds[0], 0);
        if (p != MAP_FAILED) {
            snprintf(out, len, "OK %.*s", (int)strnlen(p, size < 128 ? size : 128), p);
            return;
        }
    }
    snprintf(out, len, "BAD reply type %u with %zu descriptors", msg.hdr.type, msg.nfds);
}

int main(int argc, char **argv)
{
    const char *ns_env = getenv("REVIVE_NS_FD"), *task = getenv("REVIVE_TASK");
    if (argc < 4 || !ns_env || !task)
        return 2;
    const char *report = argv[1], *mode = argv[2], *name = argv[3];
    long run = count_run(report);
    if (argc > 4 && strcmp(argv[4], "fail-once") == 0 && run == 1)
        return 3;
    int ns = atoi(ns_env);
    size_t len = strlen(name) + 1;
    if (strcmp(mode, "open") == 0)
        ask(ns, RV_T_OPEN, 0, name, len);
    else
        ask(ns, RV_T_DS_ATTACH, 30000, name, len);
    char what[256], line[384];
    describe(mode, what, sizeof what);
    snprintf(line, sizeof line, "%s %ld %s\n", task, run, what);
    say(report, line);
    while (rv__wire_recv(ns, &msg, RV_WIRE_MAX_BODY, 0) == 1)
        rv__msg_close_fds(&msg);
    return 0;
}
