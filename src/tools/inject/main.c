/* rv-inject — inject one fault into a running or freshly spawned program,
 * CuriOS-style (see inject.h for what an experiment is). This file is the
 * command line: it parses options, turns SIGINT/SIGTERM into a cancel flag
 * (the experiment then cleans up: breakpoint removed, threads detached),
 * runs the experiment and prints its one result line.
 *
 * Exit status: 0 activated, 1 not activated, 2 error, 128+N when cancelled
 * by signal N (after cleaning up and printing the result). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "revive/version.h"
#include "inject.h"

#define MAX_MODULES 32

static volatile sig_atomic_t cancelled;

static void on_signal(int sig)
{
    cancelled = sig;
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: rv-inject (--pid PID | [--] PROGRAM [ARGS...]) --type M|R [options]\n"
        "Injects one fault just before a random instruction of the target functions\n"
        "executes (x86-64 Linux only).\n"
        "  --pid PID          attach to a running process (all its threads)\n"
        "  PROGRAM ARGS       or spawn this program under trace\n"
        "  --type M|R         M: SIGSEGV at the instruction's memory operand address;\n"
        "                     R: flip one bit of one register the instruction reads\n"
        "  --seed N           PRNG seed; the same seed repeats the experiment (default: time)\n"
        "  --functions LIST   comma-separated symbol names or globs ('random_*,xoshiro_next')\n"
        "  --module PATH      search this mapped ELF file (path or basename, repeatable)\n"
        "                     instead of the main executable; alone: all its functions\n"
        "  --breakpoint sw|hw int3 (default) or debug registers\n"
        "  --timeout-ms N     activation window (default 1000): else NOT_ACTIVATED\n"
        "  --observe-ms N     then watch the target this long (default 500); a spawned\n"
        "                     target still running then is killed unless --keep-running\n"
        "  --keep-running     leave a spawned target running\n"
        "  --armed-fd N       write \"ARMED\\n\" to fd N once the breakpoint is set\n"
        "  --json             print the result as a JSON object\n");
}

static int parse_num(const char *s, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 0);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_seed(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || *s == '-')
        return -1;
    *out = v;
    return 0;
}

struct options {
    struct rvi_config cfg;
    const char *modules[MAX_MODULES];
    bool json, have_type, have_seed;
};

static int bad(const char *what, const char *arg)
{
    fprintf(stderr, "rv-inject: bad %s '%s'\n", what, arg);
    return -1;
}

static int set_option(struct options *o, int c, const char *arg)
{
    long long v;
    switch (c) {
    case 'p': if (parse_num(arg, 1, INT32_MAX, &v) < 0) return bad("--pid", arg);
              o->cfg.pid = (pid_t)v; return 0;
    case 't': if (strcmp(arg, "M") && strcmp(arg, "R")) return bad("--type", arg);
              o->cfg.fault = *arg == 'M' ? RVI_FAULT_MEM : RVI_FAULT_REG;
              o->have_type = true; return 0;
    case 's': if (parse_seed(arg, &o->cfg.seed) < 0) return bad("--seed", arg);
              o->have_seed = true; return 0;
    case 'f': o->cfg.functions = arg; return 0;
    case 'm': if (o->cfg.nmodules == MAX_MODULES) return bad("--module (too many)", arg);
              o->modules[o->cfg.nmodules++] = arg; return 0;
    case 'b': if (strcmp(arg, "sw") && strcmp(arg, "hw")) return bad("--breakpoint", arg);
              o->cfg.bp = *arg == 's' ? RVI_BP_SW : RVI_BP_HW; return 0;
    case 'T': if (parse_num(arg, 0, INT32_MAX, &v) < 0) return bad("--timeout-ms", arg);
              o->cfg.timeout_ms = (int)v; return 0;
    case 'o': if (parse_num(arg, 0, INT32_MAX, &v) < 0) return bad("--observe-ms", arg);
              o->cfg.observe_ms = (int)v; return 0;
    case 'k': o->cfg.keep_running = true; return 0;
    case 'a': if (parse_num(arg, 0, INT32_MAX, &v) < 0) return bad("--armed-fd", arg);
              o->cfg.armed_fd = (int)v; return 0;
    case 'j': o->json = true; return 0;
    default: return -1;
    }
}

static int parse_args(int argc, char **argv, struct options *o)
{
    static const struct option longs[] = {
        { "pid", 1, 0, 'p' }, { "type", 1, 0, 't' }, { "seed", 1, 0, 's' },
        { "functions", 1, 0, 'f' }, { "module", 1, 0, 'm' }, { "breakpoint", 1, 0, 'b' },
        { "timeout-ms", 1, 0, 'T' }, { "observe-ms", 1, 0, 'o' }, { "keep-running", 0, 0, 'k' },
        { "armed-fd", 1, 0, 'a' }, { "json", 0, 0, 'j' }, { "help", 0, 0, 'h' }, { "version", 0, 0, 'V' },
        { 0, 0, 0, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "+h", longs, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            exit(0);
        }
        if (c == 'V') {
            printf("rv-inject %s\n", REVIVE_VERSION);
            exit(0);
        }
        if (set_option(o, c, optarg) < 0)
            return -1;
    }
    if (!o->have_type || (o->cfg.pid != 0) == (optind < argc)) {
        fprintf(stderr, "rv-inject: need --type, and exactly one of --pid or a program\n");
        return -1;
    }
    o->cfg.argv = optind < argc ? argv + optind : NULL;
    o->cfg.modules = o->modules;
    return 0;
}

static void catch_signals(void)
{
    struct sigaction sa = { .sa_handler = on_signal };   /* no SA_RESTART: waits wake up */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

int main(int argc, char **argv)
{
    struct options o = { .cfg = { .timeout_ms = 1000, .observe_ms = 500, .armed_fd = -1,
                                  .cancel = &cancelled } };
    if (parse_args(argc, argv, &o) < 0) {
        usage(stderr);
        return 2;
    }
    if (!o.have_seed)
        o.cfg.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    catch_signals();
    struct rvi_result res;
    int rc = rvi_run(&o.cfg, &res);
    rvi_result_print(&o.cfg, &res, o.json, stdout);
    if (rc == RVI_ERROR)
        fprintf(stderr, "rv-inject: %s\n", res.error);
    if (cancelled)
        return 128 + cancelled;
    return rc == RVI_ACTIVATED ? 0 : rc == RVI_NOT_ACTIVATED ? 1 : 2;
}
