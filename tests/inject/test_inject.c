/* test_inject — rv-inject against inject_target (target.c, target_asm.S).
 *
 * Each case is one meson test (`test_inject CASE`). The tests check what an
 * experiment did from outside the injector: the target's own SIGSEGV handler
 * reports si_addr and the faulting rip, the target reports the value its
 * register block computed (the test recomputes it with the reported bit
 * flipped, so exactly that one bit must have flipped), the target's code
 * bytes are read through /proc/PID/mem and its debug registers through
 * ptrace after the injector let go. Everything waits on events (pipe lines,
 * process exits, the injector's --armed-fd line); the bounds on those waits
 * only turn a hang into a failure. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "target.h"

#define WAIT_MS 20000       /* a line or an exit that takes longer is a hang */
#define MAX_ARGS 32

static const char *case_name = "?";

#define CHECK(cond, ...) do { if (!(cond)) fail(__LINE__, #cond, __VA_ARGS__); } while (0)

__attribute__((noreturn, format(printf, 3, 4)))
static void fail(int line, const char *cond, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "FAIL %s (line %d: %s): ", case_name, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* A target dies with its parent (PR_SET_PDEATHSIG), so none outlives a test. */
static pid_t fork_child(void)
{
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %s", strerror(errno));
    return pid;
}

/* ---- processes and pipes ---- */

struct target {
    pid_t pid;
    int report;         /* its INJECT_OUT_FD lines */
    int stdin_w;
    uint64_t buf, global, mem_block, reg_block, never;
};

static void make_pipe(int p[2])
{
    CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe: %s", strerror(errno));
}

/* Reads one line from FD, failing after WAIT_MS without one. */
static void read_line(int fd, char *line, size_t len, const char *what)
{
    size_t n = 0;
    while (n + 1 < len) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r = poll(&p, 1, WAIT_MS);
        CHECK(r > 0, "no %s line within %d ms", what, WAIT_MS);
        ssize_t got = read(fd, line + n, 1);
        CHECK(got == 1, "EOF while waiting for %s (have '%.*s')", what, (int)n, line);
        if (line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
}

/* Reads FD to EOF. */
static void read_all(int fd, char *out, size_t len)
{
    size_t n = 0;
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        CHECK(poll(&p, 1, WAIT_MS) > 0, "no output within %d ms", WAIT_MS);
        ssize_t got = read(fd, out + n, len - 1 - n);
        CHECK(got >= 0, "read: %s", strerror(errno));
        if (got == 0)
            break;
        n += (size_t)got;
    }
    out[n] = '\0';
}

/* waitpid with a bound: SIGKILLs a child that does not exit in time. */
static int wait_exit(pid_t pid)
{
    int status;
    for (int i = 0; i < WAIT_MS / 10; i++) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        CHECK(r >= 0, "waitpid %d: %s", (int)pid, strerror(errno));
        if (r == pid)
            return status;
        struct pollfd none;
        poll(&none, 0, 10);
    }
    kill(pid, SIGKILL);
    fail(__LINE__, "exit", "process %d did not exit within %d ms", (int)pid, WAIT_MS);
}

static uint64_t field_hex(const char *line, const char *key)
{
    const char *p = strstr(line, key);
    CHECK(p, "no '%s' in '%s'", key, line);
    return strtoull(p + strlen(key), NULL, 0);
}

/* Child side: stdin from IN, the report fd number in the environment. */
static void exec_with(char *const argv[], int in, int report, int out, int extra)
{
    char fdnum[16];
    if (in >= 0)
        dup2(in, 0);
    if (out >= 0)
        dup2(out, 1);
    if (report >= 0) {
        fcntl(report, F_SETFD, 0);
        snprintf(fdnum, sizeof fdnum, "%d", report);
        setenv("INJECT_OUT_FD", fdnum, 1);
    }
    if (extra >= 0)
        fcntl(extra, F_SETFD, 0);
    execv(argv[0], argv);
    _exit(127);
}

static void start_target(struct target *t, const char *path, const char *opt1, const char *opt2)
{
    int rep[2], in[2];
    char *argv[] = { (char *)path, (char *)opt1, (char *)opt2, NULL };
    char line[512];
    make_pipe(rep);
    make_pipe(in);
    t->pid = fork_child();
    if (t->pid == 0)
        exec_with(argv, in[0], rep[1], -1, -1);
    close(rep[1]);
    close(in[0]);
    t->report = rep[0];
    t->stdin_w = in[1];
    read_line(t->report, line, sizeof line, "READY");
    CHECK(strncmp(line, "READY ", 6) == 0, "target said '%s'", line);
    t->buf = field_hex(line, "buf=");
    t->global = field_hex(line, "global=");
    t->mem_block = field_hex(line, "mem_block=");
    t->reg_block = field_hex(line, "rv_reg_block=");
    t->never = field_hex(line, "never=");
}

static void stop_target(struct target *t)
{
    kill(t->pid, SIGKILL);
    wait_exit(t->pid);
    close(t->report);
    close(t->stdin_w);
}

/* ---- running rv-inject ---- */

struct run {
    char out[4096];     /* its stdout: the JSON line */
    int status;
};

struct inject {
    pid_t pid;
    int out, armed;
};

/* Starts rv-inject ARGS... (NULL-terminated); with ARMED, --armed-fd. */
static void inject_start(struct inject *in, int report, bool armed, char **args)
{
    char *argv[MAX_ARGS], fdarg[16];
    int out[2], arm[2] = { -1, -1 }, n = 0;
    argv[n++] = RV_INJECT;
    argv[n++] = "--json";
    make_pipe(out);
    if (armed) {
        make_pipe(arm);
        snprintf(fdarg, sizeof fdarg, "%d", arm[1]);
        argv[n++] = "--armed-fd";
        argv[n++] = fdarg;
    }
    while (*args && n < MAX_ARGS - 1)
        argv[n++] = *args++;
    argv[n] = NULL;
    in->pid = fork_child();
    if (in->pid == 0)
        exec_with(argv, -1, report, out[1], arm[1]);
    close(out[1]);
    if (armed)
        close(arm[1]);
    in->out = out[0];
    in->armed = arm[0];
}

static void inject_finish(struct inject *in, struct run *r)
{
    read_all(in->out, r->out, sizeof r->out);
    r->status = wait_exit(in->pid);
    close(in->out);
    if (in->armed >= 0)
        close(in->armed);
}

static void inject(struct run *r, int report, ...)
{
    char *args[MAX_ARGS];
    int n = 0;
    va_list ap;
    va_start(ap, report);
    while ((args[n] = va_arg(ap, char *)) && n < MAX_ARGS - 1)
        n++;
    va_end(ap);
    args[n] = NULL;
    struct inject in;
    inject_start(&in, report, false, args);
    inject_finish(&in, r);
}

/* A JSON field's value as text: a string's contents or a number. */
static void json_get(const char *json, const char *key, char *out, size_t len)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(json, pat);
    CHECK(p, "no \"%s\" in %s", key, json);
    p += strlen(pat);
    size_t n = 0;
    bool quoted = *p == '"';
    p += quoted;
    while (*p && n + 1 < len && (quoted ? *p != '"' : (*p != ',' && *p != '}')))
        out[n++] = *p++;
    out[n] = '\0';
}

static uint64_t json_num(const char *json, const char *key)
{
    char v[64];
    json_get(json, key, v, sizeof v);
    return strtoull(v, NULL, 0);
}

static void json_expect(const char *json, const char *key, const char *want)
{
    char v[256];
    json_get(json, key, v, sizeof v);
    CHECK(strcmp(v, want) == 0, "%s is '%s', want '%s' in %s", key, v, want, json);
}

static void expect_exit(int status, int code, const char *who)
{
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == code, "%s: status %#x, want exit %d", who,
          status, code);
}

/* ---- what the target shows ---- */

/* M: the target's handler saw SIGSEGV/SEGV_MAPERR at the reported operand
 * address, raised at the reported instruction, and that address is one
 * mem_block really accesses. */
static void check_mem(const struct target *t, const char *json, const char *segv)
{
    json_expect(json, "outcome", "ACTIVATED");
    uint64_t addr = json_num(json, "mem_addr"), insn = json_num(json, "address");
    CHECK(strncmp(segv, "SEGV ", 5) == 0, "target said '%s'", segv);
    CHECK(field_hex(segv, "addr=") == addr, "si_addr %s, injector said %#" PRIx64, segv, addr);
    CHECK(field_hex(segv, "rip=") == insn, "rip %s, injector said %#" PRIx64, segv, insn);
    CHECK(field_hex(segv, "code=") == SEGV_MAPERR, "si_code in '%s'", segv);
    CHECK(insn == t->mem_block + json_num(json, "offset"), "address %#" PRIx64 " is not "
          "mem_block %#" PRIx64 " + offset", insn, t->mem_block);
    CHECK(addr == t->buf || addr == t->buf + 8 + MEM_INDEX * 4 || addr == t->global,
          "%#" PRIx64 " is none of mem_block's operands", addr);
}

struct regstate {
    uint64_t rdi, rsi, rax, x0[2], x1[2];
};

static void flip(struct regstate *s, const char *reg, int bit)
{
    uint64_t *x = strcmp(reg, "xmm0") == 0 ? s->x0 : strcmp(reg, "xmm1") == 0 ? s->x1 : NULL;
    if (x) {
        x[bit / 64] ^= 1ull << (bit % 64);
        return;
    }
    uint64_t *g = strstr(reg, "di") ? &s->rdi : strstr(reg, "si") ? &s->rsi
                : strstr(reg, "ax") ? &s->rax : NULL;
    CHECK(g, "rv_reg_block does not read %s", reg);
    *g ^= 1ull << bit;
}

/* rv_reg_block's four instructions with REG's BIT flipped before STEP. */
static void simulate(int step, const char *reg, int bit, uint64_t out[2])
{
    struct regstate s = { .rdi = REG_A, .rsi = REG_B, .x1 = { REG_C, 0 } };
    for (int i = 0; i < 4; i++) {
        if (i == step)
            flip(&s, reg, bit);
        if (i == 0)
            s.rax = (uint32_t)s.rdi;
        else if (i == 1)
            s.rax += s.rsi;
        else if (i == 2)
            s.x0[0] = s.rax, s.x0[1] = 0;
        else
            s.x0[0] += s.x1[0], s.x0[1] += s.x1[1];
    }
    out[0] = s.x0[0];
    out[1] = s.x0[1];
}

static int step_of(const char *insn)
{
    static const char *const steps[] = { "mov eax, edi", "add rax, rsi", "movq xmm0, rax",
                                         "paddq xmm0, xmm1" };
    for (int i = 0; i < 4; i++)
        if (strcmp(insn, steps[i]) == 0)
            return i;
    fail(__LINE__, "step_of", "unexpected instruction '%s'", insn);
}

static int reg_width(const char *reg)
{
    return reg[0] == 'x' ? 128 : reg[0] == 'e' ? 32 : 64;
}

/* R: the value the target computed is the one with exactly the reported bit
 * of the reported register flipped before the reported instruction. */
static void check_reg(const struct target *t, const char *json, const char *regline)
{
    char insn[64], reg[16];
    json_expect(json, "outcome", "ACTIVATED");
    json_get(json, "insn", insn, sizeof insn);
    json_get(json, "reg", reg, sizeof reg);
    int bit = (int)json_num(json, "bit"), width = (int)json_num(json, "width");
    uint64_t before = json_num(json, "before"), after = json_num(json, "after");
    CHECK(width == reg_width(reg) && bit >= 0 && bit < width, "%s bit %d width %d", reg, bit,
          width);
    CHECK((before ^ after) == 1ull << (bit % 64), "before %#" PRIx64 " after %#" PRIx64 " bit %d",
          before, after, bit);
    CHECK(json_num(json, "address") == t->reg_block + json_num(json, "offset"),
          "address is not rv_reg_block + offset");
    uint64_t want[2];
    simulate(step_of(insn), reg, bit, want);
    CHECK(strncmp(regline, "REG ", 4) == 0, "target said '%s'", regline);
    CHECK(field_hex(regline, "lo=") == want[0] && field_hex(regline, "hi=") == want[1],
          "target computed '%s', a flip of %s bit %d before '%s' gives lo=%#" PRIx64
          " hi=%#" PRIx64, regline, reg, bit, insn, want[0], want[1]);
}

/* ---- the target's state after the injector let go ---- */

static void read_code(pid_t pid, uint64_t addr, uint8_t *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
    CHECK(pread(fd, buf, len, (off_t)addr) == (ssize_t)len, "pread %s: %s", path,
          strerror(errno));
    close(fd);
}

/* Every thread's DR7 (enable bits) is 0: no hardware breakpoint left. */
static void check_no_debugregs(pid_t pid)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
    DIR *d = opendir(dir);
    CHECK(d, "opendir %s", dir);
    int checked = 0;
    for (struct dirent *e; (e = readdir(d));) {
        pid_t tid = atoi(e->d_name);
        int status;
        if (tid <= 0)
            continue;
        CHECK(ptrace(PTRACE_SEIZE, tid, NULL, NULL) == 0, "seize %d: %s", tid, strerror(errno));
        CHECK(ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) == 0, "interrupt %d", tid);
        CHECK(waitpid(tid, &status, __WALL) == tid, "waitpid %d", tid);
        errno = 0;
        long dr7 = ptrace(PTRACE_PEEKUSER, tid, offsetof(struct user, u_debugreg[7]), NULL);
        CHECK(errno == 0 && dr7 == 0, "thread %d DR7 = %#lx", tid, dr7);
        CHECK(ptrace(PTRACE_DETACH, tid, NULL, NULL) == 0, "detach %d", tid);
        checked++;
    }
    closedir(d);
    CHECK(checked > 0, "no thread of %d checked", (int)pid);
}

/* The target still loops (ALIVE) and runs never_called without a trap. */
static void check_target_unharmed(struct target *t)
{
    char line[128];
    kill(t->pid, SIGUSR2);
    read_line(t->report, line, sizeof line, "CALLED");
    CHECK(strcmp(line, "CALLED") == 0, "after SIGUSR2 the target said '%s'", line);
    kill(t->pid, SIGUSR1);
    read_line(t->report, line, sizeof line, "ALIVE");
    CHECK(strncmp(line, "ALIVE ", 6) == 0, "after SIGUSR1 the target said '%s'", line);
    CHECK(waitpid(t->pid, NULL, WNOHANG) == 0, "the target exited");
}

/* ---- cases ---- */

/* Spawned: the target's report fd is passed through rv-inject. */
static void spawn_case(const char *path, const char *type, const char *bp, const char *fn,
                       const char *opt)
{
    for (int seed = 1; seed <= 4; seed++) {
        char seedarg[16], line[256];
        int rep[2];
        struct run r;
        make_pipe(rep);
        snprintf(seedarg, sizeof seedarg, "%d", seed);
        inject(&r, rep[1], "--type", type, "--seed", seedarg, "--breakpoint", bp, "--functions",
               fn, "--observe-ms", "10000", "--", path, opt, NULL);
        close(rep[1]);
        read_line(rep[0], line, sizeof line, "READY");
        struct target t = { .pid = (pid_t)json_num(r.out, "pid") };
        t.buf = field_hex(line, "buf=");
        t.global = field_hex(line, "global=");
        t.mem_block = field_hex(line, "mem_block=");
        t.reg_block = field_hex(line, "rv_reg_block=");
        read_line(rep[0], line, sizeof line, "fault report");
        close(rep[0]);
        expect_exit(r.status, 0, "rv-inject");
        json_expect(r.out, "target", "exited");
        if (*type == 'M') {
            check_mem(&t, r.out, line);
            CHECK(json_num(r.out, "status") == 42, "target status in %s", r.out);
        } else {
            check_reg(&t, r.out, line);
            CHECK(json_num(r.out, "status") == 3, "target status in %s", r.out);
        }
    }
}

static void attach_case(const char *path, const char *type, const char *bp, const char *opt,
                        bool wait_go)
{
    struct target t;
    struct inject in;
    struct run r;
    char pidarg[16], line[256];
    start_target(&t, path, opt, wait_go ? "--wait-go" : NULL);
    snprintf(pidarg, sizeof pidarg, "%d", (int)t.pid);
    char *args[] = { "--pid", pidarg, "--type", (char *)type, "--seed", "7", "--breakpoint",
                     (char *)bp, "--functions", *type == 'M' ? "mem_block" : "rv_reg_block",
                     "--timeout-ms", "10000", "--observe-ms", "10000", NULL };
    inject_start(&in, -1, wait_go, args);
    if (wait_go) {
        read_line(in.armed, line, sizeof line, "ARMED");
        CHECK(write(t.stdin_w, "go\n", 3) == 3, "write go");
    }
    read_line(t.report, line, sizeof line, "fault report");
    int status = wait_exit(t.pid);
    inject_finish(&in, &r);
    expect_exit(r.status, 0, "rv-inject");
    if (*type == 'M') {
        check_mem(&t, r.out, line);
        expect_exit(status, 42, "target");
    } else {
        check_reg(&t, r.out, line);
        expect_exit(status, 3, "target");
    }
    json_expect(r.out, "target", "gone");
    if (opt)    /* --threads: the loop, hence the hit, is in the second thread */
        CHECK(json_num(r.out, "tid") != (uint64_t)t.pid, "hit in the main thread: %s", r.out);
    close(t.report);
    close(t.stdin_w);
}

/* never_called is never called: NOT_ACTIVATED, and the target untouched. */
static void not_activated_case(const char *bp)
{
    struct target t;
    struct run r;
    char pidarg[16];
    uint8_t before[64], after[64];
    start_target(&t, TARGET_PIE, "--threads", NULL);
    read_code(t.pid, t.never, before, sizeof before);
    snprintf(pidarg, sizeof pidarg, "%d", (int)t.pid);
    inject(&r, -1, "--pid", pidarg, "--type", "R", "--seed", "1", "--breakpoint", bp,
           "--functions", "never_called", "--timeout-ms", "300", "--observe-ms", "0", NULL);
    expect_exit(r.status, 1, "rv-inject");
    json_expect(r.out, "outcome", "NOT_ACTIVATED");
    json_expect(r.out, "reason", "timeout");
    json_expect(r.out, "target", "running");
    CHECK(json_num(r.out, "address") == t.never + json_num(r.out, "offset"), "%s", r.out);
    read_code(t.pid, t.never, after, sizeof after);
    CHECK(memcmp(before, after, sizeof before) == 0, "never_called's code changed");
    check_no_debugregs(t.pid);
    check_target_unharmed(&t);
    stop_target(&t);
}

/* SIGTERM to rv-inject while it waits for the hit: it cleans up and exits. */
static void interrupt_case(const char *bp)
{
    struct target t;
    struct inject in;
    struct run r;
    char pidarg[16], line[64];
    uint8_t before[64], during[64], after[64];
    start_target(&t, TARGET_NOPIE, "--threads", NULL);
    read_code(t.pid, t.never, before, sizeof before);
    snprintf(pidarg, sizeof pidarg, "%d", (int)t.pid);
    char *args[] = { "--pid", pidarg, "--type", "M", "--seed", "1", "--breakpoint", (char *)bp,
                     "--functions", "never_called", "--timeout-ms", "60000", NULL };
    inject_start(&in, -1, true, args);
    read_line(in.armed, line, sizeof line, "ARMED");
    read_code(t.pid, t.never, during, sizeof during);
    kill(in.pid, SIGTERM);
    inject_finish(&in, &r);
    expect_exit(r.status, 128 + SIGTERM, "rv-inject");
    json_expect(r.out, "outcome", "NOT_ACTIVATED");
    json_expect(r.out, "reason", "interrupted");
    uint64_t off = json_num(r.out, "offset");
    CHECK(off < sizeof during, "offset %#" PRIx64 " beyond what was read", off);
    if (*bp == 's')     /* the int3 really was there while armed */
        CHECK(during[off] == 0xcc, "no int3 at never_called+%#" PRIx64 " while armed", off);
    read_code(t.pid, t.never, after, sizeof after);
    CHECK(memcmp(before, after, sizeof before) == 0, "never_called's code not restored");
    check_no_debugregs(t.pid);
    check_target_unharmed(&t);
    stop_target(&t);
}

static void seed_case(void)
{
    static const char *const keys[] = { "function", "offset", "insn", "reg", "bit" };
    struct run a, b;
    inject(&a, -1, "--type", "R", "--seed", "424242", "--functions", "mem_block,rv_reg_block",
           "--observe-ms", "0", "--", TARGET_PIE, NULL);
    inject(&b, -1, "--type", "R", "--seed", "424242", "--functions", "mem_block,rv_reg_block",
           "--observe-ms", "0", "--", TARGET_PIE, NULL);
    CHECK(json_num(a.out, "pid") != json_num(b.out, "pid"), "one process twice?");
    json_expect(a.out, "outcome", "ACTIVATED");
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char v[256];
        json_get(a.out, keys[i], v, sizeof v);
        json_expect(b.out, keys[i], v);
    }
}

static void expect_error(struct run *r, const char *needle)
{
    expect_exit(r->status, 2, "rv-inject");
    json_expect(r->out, "outcome", "ERROR");
    CHECK(strstr(r->out, needle), "error lacks '%s': %s", needle, r->out);
}

static void errors_case(void)
{
    struct run r;
    inject(&r, -1, "--pid", "2147483647", "--type", "M", NULL);
    expect_error(&r, "no such process");
    inject(&r, -1, "--type", "M", "--functions", "no_such_fn", "--", TARGET_PIE, NULL);
    expect_error(&r, "no such symbol");
    inject(&r, -1, "--type", "M", "--functions", "rv_reg_block", "--", TARGET_PIE, NULL);
    expect_error(&r, "no candidate instruction");
    inject(&r, -1, "--type", "M", "--module", "libnotthere.so", "--", TARGET_PIE, NULL);
    expect_error(&r, "not mapped");
    inject(&r, -1, "--type", "M", "--", "/nonexistent/program", NULL);
    expect_error(&r, "cannot execute");
    inject(&r, -1, "--type", "X", "--", TARGET_PIE, NULL);
    expect_exit(r.status, 2, "rv-inject --type X");
}

int main(int argc, char **argv)
{
    CHECK(argc == 2, "usage: test_inject CASE");
    case_name = argv[1];
    signal(SIGPIPE, SIG_IGN);
    const char *c = argv[1];
    if (!strcmp(c, "mem_spawn_sw_pie"))
        spawn_case(TARGET_PIE, "M", "sw", "mem_block", NULL);
    else if (!strcmp(c, "mem_spawn_hw_nopie"))
        spawn_case(TARGET_NOPIE, "M", "hw", "mem_block", NULL);
    else if (!strcmp(c, "reg_spawn_sw_nopie"))
        spawn_case(TARGET_NOPIE, "R", "sw", "rv_reg_block", NULL);
    else if (!strcmp(c, "reg_spawn_hw_pie"))
        spawn_case(TARGET_PIE, "R", "hw", "rv_reg_block", "--threads");
    else if (!strcmp(c, "mem_attach_sw_nopie"))
        attach_case(TARGET_NOPIE, "M", "sw", NULL, false);
    else if (!strcmp(c, "reg_attach_threads_hw"))
        attach_case(TARGET_PIE, "R", "hw", "--threads", false);
    else if (!strcmp(c, "reg_attach_newthread_hw"))
        attach_case(TARGET_PIE, "R", "hw", "--threads", true);
    else if (!strcmp(c, "mem_attach_threads_sw"))
        attach_case(TARGET_NOPIE, "M", "sw", "--threads", false);
    else if (!strcmp(c, "not_activated_sw"))
        not_activated_case("sw");
    else if (!strcmp(c, "not_activated_hw"))
        not_activated_case("hw");
    else if (!strcmp(c, "interrupt_sw"))
        interrupt_case("sw");
    else if (!strcmp(c, "interrupt_hw"))
        interrupt_case("hw");
    else if (!strcmp(c, "seed_repeats"))
        seed_case();
    else if (!strcmp(c, "errors"))
        errors_case();
    else
        fail(__LINE__, "case", "unknown case '%s'", c);
    printf("ok %s\n", c);
    return 0;
}
