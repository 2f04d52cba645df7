/* chain_task.c — rv-it-chain, the client of the Figure 7 test
 * (test_reanimate.c): a task revived starts, which uses librevive like any
 * application and knows nothing of the test.
 *
 *     rv-it-chain CMD_FIFO REPORT_FIFO NAME ARGS
 *
 * Connects through its name-space channel (REVIVE_NS_FD), opens NAME with
 * ARGS, reports "open RC", then per byte read from CMD_FIFO: 'c' calls
 * TEST_INCR and reports "call RC VALUE GENERATION" (the session
 * capability's registry generation: its repairs); 'q' exits. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "revive/cap.h"
#include "testsvc.h"

static void report(int fd, const char *line)
{
    if (write(fd, line, strlen(line)) < 0)
        _exit(1);
}

int main(int argc, char **argv)
{
    if (argc != 5)
        return 2;
    int cmd = open(argv[1], O_RDONLY | O_CLOEXEC), out = open(argv[2], O_WRONLY | O_CLOEXEC);
    if (cmd < 0 || out < 0)
        return 1;
    rv_conn *c;
    rv_session *s = NULL;
    int rc = rv_connect(NULL, &c);
    if (rc == 0)
        rc = rv_open(c, argv[3], argv[4], &s);
    char line[128], op;
    snprintf(line, sizeof line, "open %d\n", rc);
    report(out, line);
    while (rc == 0 && read(cmd, &op, 1) == 1 && op == 'c') {
        uint64_t v = 0;
        int r = rv_call(s, TEST_INCR, NULL, 0, &v, sizeof v, NULL);
        struct rv_cap_info info = { 0 };
        rv_cap_info(rv_session_fd(s), &info);
        snprintf(line, sizeof line, "call %d %llu %u\n", r, (unsigned long long)v, info.generation);
        report(out, line);
    }
    rv_close(s);
    rv_disconnect(c);
    return 0;
}
