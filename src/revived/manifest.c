/* manifest.c — loading and validating the manifest (see manifest.h and
 * docs/manifest.md).
 *
 * The manifest is an INI file. inih does the tokenizing: it splits lines into
 * "[section]" headers and "key = value" pairs, strips blanks and ';' comments,
 * and calls on_key() once per pair. Everything else is here: which sections
 * and keys exist, what their values mean, and the error messages.
 *
 * Why we feed inih through our own line reader (ini_parse_stream) instead of
 * calling ini_parse_string() directly:
 *
 *   - inih never tells the handler about a section header, only about keys.
 *     An empty "[service foo]" (or a misspelled empty section) would vanish
 *     silently. Our reader spots header lines itself, with inih's own rules,
 *     so every section is opened and checked, keys or not.
 *   - The handler is not given a line number. The reader hands inih exactly
 *     one line per call, so its count is the current line.
 *   - inih cuts lines longer than its buffer into pieces and numbers each
 *     piece as a line. The reader refuses such lines instead.
 *
 * Loading runs in three steps: parse (sections and keys, each value checked
 * and converted as it is seen, so errors carry the line), then finish()
 * (whole-manifest checks: every service and task has an exec, there is at
 * least one service, every name a task maps to a service names one that
 * exists, which only the whole manifest can tell; argv is assembled), then,
 * only if anything failed, everything built so far is freed, so a caller
 * never sees a half-loaded manifest.
 *
 * Only the first error is reported: later ones are usually its fallout.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>
#include <seccomp.h>

#include "manifest.h"
#include "journal.h"

#define KiB (UINT64_C(1) << 10)
#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)

#define BLANKS " \t"
#define MANIFEST_FILE_MAX (1024 * 1024) /* a manifest is a few hundred bytes */
#define SSR_SIZE_MAX (64 * MiB)
#define MAX_SSR_BYTES_MAX (64 * GiB)
/* An arena holds its allocator's header and undo logs (about 0.5 MiB, see
 * src/lib/server/arena.c) besides the heap; it is mapped whole, in pages. */
#define ARENA_SIZE_MIN (1 * MiB)
#define ARENA_SIZE_MAX (64 * GiB)
#define ARENA_SIZE_DEFAULT (64 * MiB)
#define ARENA_PAGE (4 * KiB)
#define MAX_ARENA_BYTES_DEFAULT (1 * GiB)
/* A cap on every duration, so later arithmetic (and conversion to an int
 * poll() timeout) cannot overflow; nothing sensible needs more than a day. */
#define DURATION_MAX_MS (UINT64_C(24) * 60 * 60 * 1000)
#define MAX_KEYS 32
#define ID_UNSET UINT32_MAX   /* no `user` (`group`) given: finish() decides */

enum section_kind { SEC_NONE, SEC_REVIVED, SEC_SERVICE, SEC_TASK };

/* Everything one load needs; lives on rv_manifest_load_text()'s stack. */
struct load {
    struct rv_manifest *m;
    const char *origin;       /* file name (or a label) for error messages */
    const char *service_path; /* where bare exec names are looked up first */
    const char *pos;          /* the reader's position in the text */
    int line;                 /* line the reader handed out last */
    bool indented;            /* ... and whether it starts with blanks */
    char last_name[64];       /* inih's "previous key", see scan_line() */
    enum section_kind kind;
    char section[INI_MAX_LINE]; /* current section's name as written */
    bool seen_revived;
    /* The current [service] or [task] section's fields that both kinds
     * have, so one parser serves both. They point into the manifest's
     * arrays, which move only when the next section is added. */
    char **exec;
    char ***argv;
    enum rv_restart *restart;
    int key_line[MAX_KEYS];   /* where each key of this section was set */
    const char *key;          /* the key being parsed, for bad() */
    char *err;
    size_t errlen;
    bool failed;
    int err_line;
};

/* ---------------------------------------------------------------- errors */

/* Writes "ORIGIN:LINE: key 'KEY': what" (line 0: no line; key NULL: no key
 * part). Only the first error counts. Always returns -1, for `return fail()`. */
static int failv(struct load *L, int line, const char *key, const char *fmt, va_list ap)
{
    if (L->failed)
        return -1;
    L->failed = true;
    L->err_line = line;
    if (!L->err || L->errlen == 0)
        return -1;
    int n = line > 0 ? snprintf(L->err, L->errlen, "%s:%d: ", L->origin, line)
                     : snprintf(L->err, L->errlen, "%s: ", L->origin);
    if (key && n >= 0 && (size_t)n < L->errlen)
        n += snprintf(L->err + n, L->errlen - n, "key '%s': ", key);
    if (n >= 0 && (size_t)n < L->errlen)
        vsnprintf(L->err + n, L->errlen - n, fmt, ap);
    return -1;
}

static int __attribute__((format(printf, 4, 5)))
fail(struct load *L, int line, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    failv(L, line, key, fmt, ap);
    va_end(ap);
    return -1;
}

/* A bad value of the key being parsed, on the current line. */
static int __attribute__((format(printf, 2, 3))) bad(struct load *L, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    failv(L, L->line, L->key, fmt, ap);
    va_end(ap);
    return -1;
}

static int out_of_memory(struct load *L)
{
    return fail(L, 0, NULL, "out of memory");
}

/* --------------------------------------------------------- value syntax */

/* Reads a decimal number at *s and advances *s past its digits. No sign and
 * no blanks are accepted, so "-1" or " 1" is an error rather than a
 * surprise. Returns 0, -1 if there is no digit, -2 on overflow. */
static int read_number(const char **s, uint64_t *out)
{
    const char *p = *s;
    uint64_t n = 0;
    bool overflow = false;
    if (!isdigit((unsigned char)*p))
        return -1;
    for (; isdigit((unsigned char)*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        overflow |= n > (UINT64_MAX - d) / 10;
        n = n * 10 + d;
    }
    *s = p;
    *out = n;
    return overflow ? -2 : 0;
}

struct unit {
    const char *name;
    uint64_t mul, div; /* value = number * mul / div, rounded up */
};

static const struct unit *find_unit(const struct unit *u, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(u[i].name, name) == 0)
            return &u[i];
    return NULL;
}

/* number * mul / div rounded up, or -1 if it overflows. */
static int scale(uint64_t n, const struct unit *u, uint64_t *out)
{
    if (n > UINT64_MAX / u->mul)
        return -1;
    n *= u->mul;
    *out = n / u->div + (n % u->div != 0);
    return 0;
}

static const struct unit size_units[] = {
    {"", 1, 1}, {"B", 1, 1},
    {"K", KiB, 1}, {"KiB", KiB, 1},
    {"M", MiB, 1}, {"MiB", MiB, 1},
    {"G", GiB, 1}, {"GiB", GiB, 1},
};

/* A size: "64", "64B", "16K", "16KiB", "1M", ... (all 1024-based). `range`
 * is how [min, max] is written in the error message. */
static int parse_size(struct load *L, const char *v, uint64_t min, uint64_t max,
                      const char *range, uint64_t *out)
{
    const char *p = v;
    uint64_t n;
    if (*v == '-')
        return bad(L, "'%s' is negative", v);
    int r = read_number(&p, &n);
    const struct unit *u = r == -1 ? NULL : find_unit(size_units, sizeof size_units / sizeof *size_units, p);
    if (!u)
        return bad(L, "'%s' is not a size (a number with optional suffix B, K, M, G, KiB, MiB or GiB)", v);
    if (r == -2 || scale(n, u, &n) < 0 || n < min || n > max)
        return bad(L, "'%s' is out of range (%s)", v, range);
    *out = n;
    return 0;
}

static const struct unit duration_units[] = {
    {"us", 1, 1000}, {"ms", 1, 1}, {"s", 1000, 1}, {"min", 60000, 1},
};

/* A duration: "500us", "250ms", "2s", "1min" or a bare "0"; in ms, with
 * microseconds rounded up so a nonzero duration never becomes 0 (= off). */
static int parse_duration(struct load *L, const char *v, uint64_t *ms)
{
    const char *p = v;
    uint64_t n;
    if (*v == '-')
        return bad(L, "'%s' is negative", v);
    int r = read_number(&p, &n);
    if (r == 0 && *p == '\0' && n == 0) {
        *ms = 0;
        return 0;
    }
    if (r == 0 && *p == '\0')
        return bad(L, "'%s' needs a unit (us, ms, s or min)", v);
    const struct unit *u = r == -1 ? NULL : find_unit(duration_units, sizeof duration_units / sizeof *duration_units, p);
    if (!u)
        return bad(L, "'%s' is not a duration (a number followed by us, ms, s or min, e.g. 250ms)", v);
    if (r == -2 || scale(n, u, ms) < 0 || *ms > DURATION_MAX_MS)
        return bad(L, "'%s' is too long (at most 24 hours)", v);
    return 0;
}

/* One of a fixed list of words; the error lists them all. */
static int parse_enum(struct load *L, const char *v, const char *const *names, int n, int *out)
{
    char list[128] = "";
    for (int i = 0; i < n; i++) {
        if (strcmp(v, names[i]) == 0) {
            *out = i;
            return 0;
        }
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", names[i]);
    }
    return bad(L, "'%s' is not one of %s", v, list);
}

/* A whole number in [min, max]. */
static int parse_count(struct load *L, const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
    const char *p = v;
    uint64_t n;
    if (*v == '-')
        return bad(L, "'%s' is negative", v);
    int r = read_number(&p, &n);
    if (r == -1 || (r == 0 && *p))
        return bad(L, "'%s' is not a number", v);
    if (r == -2 || n < min || n > max)
        return bad(L, "'%s' is out of range (%" PRIu64 "..%" PRIu64 ")", v, min, max);
    *out = n;
    return 0;
}

/* Names of services, tasks and name-space entries: they appear in logs,
 * errors and revivectl's output, so nothing that could garble a line. */
static bool valid_name(const char *s, size_t len)
{
    return len >= 1 && len < RV_NAME_MAX &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") >= len;
}

#define NAME_RULE "1 to 63 characters of A-Z a-z 0-9 _ -"

/* Copies the blank-trimmed s[0..len) into buf; false if it does not fit. */
static bool copy_trimmed(char *buf, size_t size, const char *s, size_t len)
{
    while (len > 0 && strchr(BLANKS, *s)) {
        s++;
        len--;
    }
    while (len > 0 && strchr(BLANKS, s[len - 1]))
        len--;
    if (len >= size)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return true;
}

/* Calls each(L, word, its length, arg) on every word of v, words being
 * separated by blanks or commas; stops at the first error. */
static int each_word(struct load *L, const char *v, int (*each)(struct load *, const char *, size_t, void *),
                     void *arg)
{
    static const char seps[] = BLANKS ",";
    for (const char *p = v + strspn(v, seps); *p; p += strspn(p, seps)) {
        size_t len = strcspn(p, seps);
        if (each(L, p, len, arg) < 0)
            return -1;
        p += len;
    }
    return 0;
}

/* ------------------------------------------------------ exec resolution */

/* Directories pass access(X_OK) too, hence the stat. */
static bool is_executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Looks for an executable `name` in each directory of the colon-separated
 * `dirs` (empty entries are skipped: they would mean "the current
 * directory", which is never what a daemon wants). Returns its real path
 * (malloc'd) or NULL; *seen remembers a file that exists but cannot be
 * executed, to point the user at it. */
static char *search_dirs(const char *dirs, const char *name, char *seen, size_t seenlen)
{
    char cand[PATH_MAX];
    struct stat st;
    for (const char *d = dirs; d && *d; d += *d == ':') {
        size_t len = strcspn(d, ":");
        int n = snprintf(cand, sizeof cand, "%.*s/%s", (int)len, d, name);
        d += len;
        if (len == 0 || n < 0 || (size_t)n >= sizeof cand)
            continue;
        if (is_executable(cand))
            return realpath(cand, NULL);
        if (!*seen && stat(cand, &st) == 0)
            snprintf(seen, seenlen, "%s", cand);
    }
    return NULL;
}

/* A name with a '/' is a path (relative to the current directory). */
static int resolve_path(struct load *L, const char *v, char **out)
{
    char *real = realpath(v, NULL);
    if (!real)
        return bad(L, "no executable '%s' (%s)", v, strerror(errno));
    if (!is_executable(real)) {
        free(real);
        return bad(L, "no executable '%s' (not an executable file)", v);
    }
    *out = real;
    return 0;
}

/* A bare name: the service path first, so revive's own services win over
 * anything of the same name on PATH, then PATH. */
static int resolve_bare(struct load *L, const char *v, char **out)
{
    char seen[PATH_MAX] = "";
    const char *sp = L->service_path ? L->service_path : "";
    const char *path = getenv("PATH") ? getenv("PATH") : "";
    char *real = search_dirs(sp, v, seen, sizeof seen);
    if (!real)
        real = search_dirs(path, v, seen, sizeof seen);
    if (real) {
        *out = real;
        return 0;
    }
    return bad(L, "no executable '%s' (searched %s%s%s%s%s)", v, sp, *sp && *path ? ":" : "",
               path, *seen ? "; not executable: " : "", seen);
}

/* ----------------------------------------------------------- the keys */

static struct rv_service_conf *cur(struct load *L)
{
    return &L->m->services[L->m->nservices - 1];
}

static int key_exec(struct load *L, const char *v)
{
    return strchr(v, '/') ? resolve_path(L, v, L->exec) : resolve_bare(L, v, L->exec);
}

/* Splits on blanks into a NULL-terminated array. finish() later puts exec
 * in front of it, since `exec` may come after `args`. No quoting: services
 * take simple arguments. */
static int key_args(struct load *L, const char *v)
{
    size_t n = 0;
    for (const char *p = v + strspn(v, BLANKS); *p; p += strspn(p, BLANKS)) {
        p += strcspn(p, BLANKS);
        n++;
    }
    char **argv = calloc(n + 1, sizeof *argv);
    if (!argv)
        return out_of_memory(L);
    *L->argv = argv;
    n = 0;
    for (const char *p = v + strspn(v, BLANKS); *p; p += strspn(p, BLANKS)) {
        size_t len = strcspn(p, BLANKS);
        if (!(argv[n++] = strndup(p, len)))
            return out_of_memory(L);
        p += len;
    }
    return 0;
}

static int key_state(struct load *L, const char *v)
{
    /* In the order of enum rv_state_mode. */
    static const char *const names[] = {"ssr", "stateless", "arena"};
    int i = 0;
    if (parse_enum(L, v, names, 3, &i) < 0)
        return -1;
    cur(L)->state = (enum rv_state_mode)i;
    return 0;
}

static int key_ssr_size(struct load *L, const char *v)
{
    return parse_size(L, v, 0, SSR_SIZE_MAX, "0..64M", &cur(L)->ssr_size);
}

static int key_max_sessions(struct load *L, const char *v)
{
    return parse_count(L, v, 1, RV_SLAB_MAX_RECORDS, &cur(L)->max_sessions);
}

static int key_max_request(struct load *L, const char *v)
{
    return parse_size(L, v, 0, RV_MAX_PAYLOAD, "0..4K", &cur(L)->max_request);
}

static int key_max_reply(struct load *L, const char *v)
{
    return parse_size(L, v, 0, RV_MAX_PAYLOAD, "0..4K", &cur(L)->max_reply);
}

/* Whether the service has state = arena is checked by finish(): keys come
 * in any order. Whole pages, because the arena is mapped whole. */
static int key_arena_size(struct load *L, const char *v)
{
    uint64_t n;
    if (parse_size(L, v, ARENA_SIZE_MIN, ARENA_SIZE_MAX, "1M..64G", &n) < 0)
        return -1;
    if (n % ARENA_PAGE)
        return bad(L, "'%s' is not a multiple of 4K (the arena is mapped in whole pages)", v);
    cur(L)->arena_size = n;
    return 0;
}

static int key_restart(struct load *L, const char *v)
{
    /* In the order of enum rv_restart. */
    static const char *const names[] = {"always", "on-failure", "never"};
    int i = 0;
    if (parse_enum(L, v, names, 3, &i) < 0)
        return -1;
    *L->restart = (enum rv_restart)i;
    return 0;
}

/* "N in DURATION": the service is given up on after more than N restarts
 * within the window. */
static int key_max_restarts(struct load *L, const char *v)
{
    char n_s[INI_MAX_LINE], in_s[INI_MAX_LINE], win_s[INI_MAX_LINE], rest[2];
    uint64_t n, win;
    if (sscanf(v, "%199s %199s %199s %1s", n_s, in_s, win_s, rest) != 3 || strcmp(in_s, "in") != 0)
        return bad(L, "'%s' is not of the form 'N in DURATION' (e.g. 5 in 10s)", v);
    if (parse_count(L, n_s, 0, UINT_MAX, &n) < 0 || parse_duration(L, win_s, &win) < 0)
        return -1;
    if (win == 0)
        return bad(L, "the window '%s' must be longer than 0", win_s);
    cur(L)->max_restarts = (unsigned)n;
    cur(L)->restart_window_ms = win;
    return 0;
}

/* "MIN..MAX": the first restart waits MIN, each next one twice as long, up
 * to MAX. */
static int key_backoff(struct load *L, const char *v)
{
    char lo_s[INI_MAX_LINE], hi_s[INI_MAX_LINE];
    const char *dots = strstr(v, "..");
    uint64_t lo, hi;
    if (!dots || !copy_trimmed(lo_s, sizeof lo_s, v, (size_t)(dots - v)) ||
        !copy_trimmed(hi_s, sizeof hi_s, dots + 2, strlen(dots + 2)) || !*lo_s || !*hi_s)
        return bad(L, "'%s' is not of the form 'MIN..MAX' (e.g. 10ms..1s)", v);
    if (parse_duration(L, lo_s, &lo) < 0 || parse_duration(L, hi_s, &hi) < 0)
        return -1;
    if (lo > hi)
        return bad(L, "minimum '%s' is longer than maximum '%s'", lo_s, hi_s);
    cur(L)->backoff_min_ms = lo;
    cur(L)->backoff_max_ms = hi;
    return 0;
}

/* A file revived opens or creates: made absolute against the current
 * directory (revived may run anywhere later), in a directory that exists. */
static int parse_file_path(struct load *L, const char *v, char **out)
{
    char abs[PATH_MAX], dir[PATH_MAX];
    int n = v[0] == '/' ? snprintf(abs, sizeof abs, "%s", v)
                        : snprintf(abs, sizeof abs, "%s/%s", getcwd(dir, sizeof dir) ? dir : ".", v);
    if (!*v || v[strlen(v) - 1] == '/' || n < 0 || (size_t)n >= sizeof abs)
        return bad(L, "'%s' is not a file path", v);
    snprintf(dir, sizeof dir, "%.*s", (int)(strrchr(abs, '/') - abs), abs);
    struct stat st;
    if (*dir && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)))
        return bad(L, "directory '%s' does not exist", dir);
    if (!(*out = strdup(abs)))
        return out_of_memory(L);
    return 0;
}

/* Whether the service has state = arena is checked by finish(). */
static int key_arena_file(struct load *L, const char *v)
{
    return parse_file_path(L, v, &cur(L)->arena_file);
}

/* The file must exist, and be one revived can hand over read-write: a
 * regular file or a block device. */
static int key_image(struct load *L, const char *v)
{
    char **image = &cur(L)->image;
    if (parse_file_path(L, v, image) < 0)
        return -1;
    struct stat st;
    if (stat(*image, &st) < 0)
        return bad(L, "'%s': %s", *image, strerror(errno));
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
        return bad(L, "'%s' is neither a regular file nor a block device", *image);
    return 0;
}

/* A directory; revived creates it (and its parents) when it mounts. */
static int key_mount(struct load *L, const char *v)
{
    char **mount = &cur(L)->mount;
    if (v[0] != '/')
        return bad(L, "'%s' is not an absolute path", v);
    if (strlen(v) >= 128)
        return bad(L, "'%s' is longer than 127 bytes", v);
    struct stat st;
    if (stat(v, &st) == 0 && !S_ISDIR(st.st_mode))
        return bad(L, "'%s' exists and is not a directory", v);
    if (!(*mount = strdup(v)))
        return out_of_memory(L);
    return 0;
}

static int key_request_timeout(struct load *L, const char *v)
{
    return parse_duration(L, v, &cur(L)->request_timeout_ms);
}

static int key_start_timeout(struct load *L, const char *v)
{
    if (parse_duration(L, v, &cur(L)->start_timeout_ms) < 0)
        return -1;
    return cur(L)->start_timeout_ms ? 0 : bad(L, "must be longer than 0 (an instance that never gets ready "
                                                 "must be found)");
}

static int key_heartbeat(struct load *L, const char *v)
{
    return parse_duration(L, v, &cur(L)->heartbeat_ms);
}

static int key_ssr_protect(struct load *L, const char *v)
{
    /* In the order of enum rv_ssr_protect. */
    static const char *const names[] = {"none", "checksum", "mprotect"};
    int i = 0;
    if (parse_enum(L, v, names, 3, &i) < 0)
        return -1;
    cur(L)->ssr_protect = (enum rv_ssr_protect)i;
    return 0;
}

static int parse_yes_no(struct load *L, const char *v, bool *out)
{
    static const char *const names[] = {"no", "yes"};
    int i = 0;
    if (parse_enum(L, v, names, 2, &i) < 0)
        return -1;
    *out = i == 1;
    return 0;
}

static int key_standby(struct load *L, const char *v)
{
    return parse_yes_no(L, v, &cur(L)->standby);
}

static int key_fast_path(struct load *L, const char *v)
{
    return parse_yes_no(L, v, &cur(L)->fast_path);
}

/* ---------------------------------------------------------- the sandbox */

/* Only root can start a process as someone else: a revived that is not
 * root runs its services as itself, and says so at the key that asks for
 * more. */
static int check_switchable(struct load *L, uint32_t id, uint32_t own, const char *kind)
{
    if (geteuid() == 0 || id == own)
        return 0;
    return bad(L, "revived runs as uid %u, not as root: it cannot start a service with %s %u "
               "(leave the key out, and the service runs as revived's own user)", (unsigned)geteuid(), kind, id);
}

/* A user (group): a name in the system's database, or a number, which
 * needs no account. A name must exist now, so a typo is an error at load
 * rather than a refusal later. */
static int parse_id(struct load *L, const char *v, bool group, uint32_t *out)
{
    const char *p = v;
    uint64_t n;
    int r = read_number(&p, &n);
    if (r == -2 || (r == 0 && !*p && n >= ID_UNSET))
        return bad(L, "'%s' is out of range (0..%u)", v, ID_UNSET - 1);
    if (r < 0 || *p) {
        const char *what = group ? "group" : "user";
        struct passwd *pw = group ? NULL : getpwnam(v);
        struct group *gr = group ? getgrnam(v) : NULL;
        if (!pw && !gr)
            return bad(L, "no %s '%s' (neither a name in the %s database nor a number)", what, v, what);
        n = pw ? pw->pw_uid : gr->gr_gid;
    }
    *out = (uint32_t)n;
    return 0;
}

/* Who a service runs as: an id revived can switch to. */
static int parse_run_as(struct load *L, const char *v, bool group, uint32_t *out)
{
    if (parse_id(L, v, group, out) < 0)
        return -1;
    return check_switchable(L, *out, group ? getegid() : geteuid(), group ? "gid" : "uid");
}

static int key_user(struct load *L, const char *v)
{
    return parse_run_as(L, v, false, &cur(L)->uid);
}

static int key_group(struct load *L, const char *v)
{
    return parse_run_as(L, v, true, &cur(L)->gid);
}

static int key_sandbox(struct load *L, const char *v)
{
    return parse_yes_no(L, v, &cur(L)->sandbox);
}

/* One name of `syscalls`, appended to the blank-separated list at arg.
 * Names are libseccomp's for this machine, which is what the runtime
 * builds its filter from (src/lib/server/sandbox.c). */
static int add_syscall(struct load *L, const char *p, size_t len, void *arg)
{
    char *list = arg, name[64];
    if (len >= sizeof name)
        return bad(L, "unknown system call '%.*s'", (int)len, p);
    snprintf(name, sizeof name, "%.*s", (int)len, p);
    if (seccomp_syscall_resolve_name(name) == __NR_SCMP_ERROR)
        return bad(L, "unknown system call '%s'", name);
    size_t at = strlen(list);
    snprintf(list + at, INI_MAX_LINE - at, "%s%s", at ? " " : "", name);
    return 0;
}

static int key_syscalls(struct load *L, const char *v)
{
    char list[INI_MAX_LINE] = "";
    if (each_word(L, v, add_syscall, list) < 0)
        return -1;
    if (!(cur(L)->syscalls = strdup(list)))
        return out_of_memory(L);
    return 0;
}

/* One path of `read_paths` or `write_paths`, added to the list at arg. It
 * must exist: Landlock allows what is beneath an open directory (or a
 * file), not a name. */
static int add_path(struct load *L, const char *p, size_t len, void *arg)
{
    char ***list = arg, path[PATH_MAX];
    struct stat st;
    size_t n = 0;
    while (*list && (*list)[n])
        n++;
    if (n == RV_PATHS_MAX)
        return bad(L, "more than %d paths", RV_PATHS_MAX);
    if (*p != '/' || len >= sizeof path)
        return bad(L, "'%.*s' is not an absolute path", (int)len, p);
    snprintf(path, sizeof path, "%.*s", (int)len, p);
    if (stat(path, &st) < 0)
        return bad(L, "'%s': %s", path, strerror(errno));
    char **l = realloc(*list, (n + 2) * sizeof *l);
    if (!l)
        return out_of_memory(L);
    *list = l;
    l[n + 1] = NULL;
    if (!(l[n] = strdup(path)))
        return out_of_memory(L);
    return 0;
}

static int key_read_paths(struct load *L, const char *v)
{
    return each_word(L, v, add_path, &cur(L)->read_paths);
}

static int key_write_paths(struct load *L, const char *v)
{
    return each_word(L, v, add_path, &cur(L)->write_paths);
}

static struct rv_task_conf *cur_task(struct load *L)
{
    return &L->m->tasks[L->m->ntasks - 1];
}

static int add_name(struct load *L, const struct rv_name *n)
{
    struct rv_task_conf *t = cur_task(L);
    for (size_t i = 0; i < t->nnames; i++)
        if (strcmp(t->names[i].name, n->name) == 0)
            return bad(L, "name '%s' is mapped twice", n->name);
    struct rv_name *names = realloc(t->names, (t->nnames + 1) * sizeof *names);
    if (!names)
        return out_of_memory(L);
    t->names = names;
    names[t->nnames++] = *n;
    return 0;
}

/* One "NAME:SERVICE" or "NAME:ds/DATASPACE" of `names`, len bytes at p.
 * Whether SERVICE exists is checked by finish(): services may come later. */
static int parse_name_pair(struct load *L, const char *p, size_t len, void *unused)
{
    (void)unused;
    static const char ds[] = "ds/";
    const char *colon = memchr(p, ':', len);
    struct rv_name n = { .line = L->line };
    if (!colon || colon == p || colon == p + len - 1)
        return bad(L, "'%.*s' is not of the form NAME:SERVICE or NAME:ds/DATASPACE", (int)len, p);
    size_t nlen = (size_t)(colon - p), tlen = len - nlen - 1;
    const char *target = colon + 1;
    if (tlen >= sizeof ds - 1 && strncmp(target, ds, sizeof ds - 1) == 0) {
        n.dataspace = true;
        target += sizeof ds - 1;
        tlen -= sizeof ds - 1;
    }
    if (!valid_name(p, nlen))
        return bad(L, "bad name '%.*s' in '%.*s' (" NAME_RULE ")", (int)nlen, p, (int)len, p);
    if (!valid_name(target, tlen))
        return bad(L, "bad %s '%.*s' in '%.*s' (" NAME_RULE ")", n.dataspace ? "dataspace" : "service",
                   (int)tlen, target, (int)len, p);
    memcpy(n.name, p, nlen);
    memcpy(n.target, target, tlen);
    return add_name(L, &n);
}

/* The task's name space: pairs separated by blanks or commas. */
static int key_names(struct load *L, const char *v)
{
    return each_word(L, v, parse_name_pair, NULL);
}

/* One entry of `users`: *, a user, or @group. */
static int add_user(struct load *L, const char *p, size_t len, void *arg)
{
    struct rv_users *u = arg;
    char word[INI_MAX_LINE];
    snprintf(word, sizeof word, "%.*s", (int)len, p);
    if (strcmp(word, "*") == 0) {
        u->anyone = true;
        return 0;
    }
    bool group = word[0] == '@';
    void *grown = group ? realloc(u->gids, (u->ngids + 1) * sizeof *u->gids)
                        : realloc(u->uids, (u->nuids + 1) * sizeof *u->uids);
    if (!grown)
        return out_of_memory(L);
    if (group) {
        u->gids = grown;
        return parse_id(L, word + 1, true, &u->gids[u->ngids++]);
    }
    u->uids = grown;
    return parse_id(L, word, false, &u->uids[u->nuids++]);
}

/* Users and @groups separated by blanks or commas, or *. */
static int key_users(struct load *L, const char *v)
{
    struct rv_users *u = &cur(L)->users;
    u->given = true;
    if (each_word(L, v, add_user, u) < 0)
        return -1;
    if (!u->anyone && !u->nuids && !u->ngids)
        return bad(L, "no user given (write * to let every user in)");
    return 0;
}

static int key_max_ssr_bytes(struct load *L, const char *v)
{
    return parse_size(L, v, 1, MAX_SSR_BYTES_MAX, "1..64G", &L->m->max_ssr_bytes);
}

static int key_max_arena_bytes(struct load *L, const char *v)
{
    return parse_size(L, v, ARENA_SIZE_MIN, ARENA_SIZE_MAX, "1M..64G", &L->m->max_arena_bytes);
}

#define LIMIT_MAX 1000000

/* A count of at most LIMIT_MAX, into an unsigned. */
static int parse_limit(struct load *L, const char *v, uint64_t min, unsigned *out)
{
    uint64_t n;
    if (parse_count(L, v, min, LIMIT_MAX, &n) < 0)
        return -1;
    *out = (unsigned)n;
    return 0;
}

static int key_max_sessions_per_user(struct load *L, const char *v)
{
    return parse_limit(L, v, 1, &L->m->max_sessions_per_user);
}

static int key_max_connections_per_user(struct load *L, const char *v)
{
    return parse_limit(L, v, 1, &L->m->max_connections_per_user);
}

static int key_reserved_descriptors(struct load *L, const char *v)
{
    return parse_limit(L, v, 0, &L->m->reserved_descriptors);
}

static int key_idle_timeout(struct load *L, const char *v)
{
    return parse_duration(L, v, &L->m->idle_timeout_ms);
}

/* Octal, as chmod takes it: 0660, 660 or 0666. */
static int key_socket_mode(struct load *L, const char *v)
{
    char *end;
    errno = 0;
    unsigned long mode = strtoul(v, &end, 8);
    if (!*v || *end || errno || mode > 0777 || *v == '-')
        return bad(L, "'%s' is not a file mode (octal, 0 to 0777, e.g. 0660)", v);
    L->m->socket_mode = (unsigned)mode;
    return 0;
}

static int key_socket_group(struct load *L, const char *v)
{
    return parse_id(L, v, true, &L->m->socket_group);
}

struct key {
    const char *name;
    int (*parse)(struct load *L, const char *value);
};

static const struct key service_keys[] = {
    {"exec", key_exec},
    {"args", key_args},
    {"state", key_state},
    {"ssr_size", key_ssr_size},
    {"arena_size", key_arena_size},
    {"arena_file", key_arena_file},
    {"image", key_image},
    {"mount", key_mount},
    {"restart", key_restart},
    {"max_restarts", key_max_restarts},
    {"backoff", key_backoff},
    {"request_timeout", key_request_timeout},
    {"start_timeout", key_start_timeout},
    {"heartbeat", key_heartbeat},
    {"ssr_protect", key_ssr_protect},
    {"standby", key_standby},
    {"fast_path", key_fast_path},
    {"max_sessions", key_max_sessions},
    {"max_request", key_max_request},
    {"max_reply", key_max_reply},
    {"users", key_users},
    {"user", key_user},
    {"group", key_group},
    {"sandbox", key_sandbox},
    {"syscalls", key_syscalls},
    {"read_paths", key_read_paths},
    {"write_paths", key_write_paths},
};

static const struct key task_keys[] = {
    {"exec", key_exec},
    {"args", key_args},
    {"names", key_names},
    {"restart", key_restart},
};

static const struct key revived_keys[] = {
    {"max_ssr_bytes", key_max_ssr_bytes},
    {"max_sessions_per_user", key_max_sessions_per_user},
    {"max_connections_per_user", key_max_connections_per_user},
    {"reserved_descriptors", key_reserved_descriptors},
    {"idle_timeout", key_idle_timeout},
    {"socket_mode", key_socket_mode},
    {"socket_group", key_socket_group},
    {"max_arena_bytes", key_max_arena_bytes},
};

_Static_assert(sizeof service_keys / sizeof *service_keys <= MAX_KEYS, "key_line too small");

/* ------------------------------------------------------------ sections */

static void set_defaults(struct rv_service_conf *c)
{
    c->state = RV_STATE_SSR;
    c->ssr_size = 256;
    c->max_request = c->max_reply = RV_MAX_PAYLOAD;
    c->restart = RV_RESTART_ALWAYS;
    c->max_restarts = 50;
    c->restart_window_ms = 10000;
    c->backoff_min_ms = 1;
    c->backoff_max_ms = 100;
    c->request_timeout_ms = 2000;
    c->start_timeout_ms = 10000;
    c->heartbeat_ms = 1000;
    c->ssr_protect = RV_PROTECT_CHECKSUM;
    c->sandbox = true;
    c->uid = c->gid = ID_UNSET;
}

static int add_service(struct load *L, const char *name)
{
    struct rv_manifest *m = L->m;
    for (size_t i = 0; i < m->nservices; i++)
        if (strcmp(m->services[i].name, name) == 0)
            return fail(L, L->line, NULL, "duplicate section [service %s]", name);
    struct rv_service_conf *s = realloc(m->services, (m->nservices + 1) * sizeof *s);
    if (!s)
        return out_of_memory(L);
    m->services = s;
    s = &s[m->nservices++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    set_defaults(s);
    L->exec = &s->exec;
    L->argv = &s->argv;
    L->restart = &s->restart;
    return 0;
}

static int add_task(struct load *L, const char *name)
{
    struct rv_manifest *m = L->m;
    for (size_t i = 0; i < m->ntasks; i++)
        if (strcmp(m->tasks[i].name, name) == 0)
            return fail(L, L->line, NULL, "duplicate section [task %s]", name);
    struct rv_task_conf *t = realloc(m->tasks, (m->ntasks + 1) * sizeof *t);
    if (!t)
        return out_of_memory(L);
    m->tasks = t;
    t = &t[m->ntasks++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->restart = RV_RESTART_ON_FAILURE;
    L->exec = &t->exec;
    L->argv = &t->argv;
    L->restart = &t->restart;
    return 0;
}

/* The section's name, if it is "WORD NAME" (or just "WORD": an empty,
 * hence bad, NAME); NULL if it is of another kind. */
static const char *section_arg(const char *section, const char *word)
{
    size_t n = strlen(word);
    if (strncmp(section, word, n) != 0 || (section[n] && !strchr(BLANKS, section[n])))
        return NULL;
    return section + n + strspn(section + n, BLANKS);
}

/* "[revived]", "[service NAME]" or "[task NAME]"; anything else is an error. */
static int open_section(struct load *L, const char *name, size_t len)
{
    snprintf(L->section, sizeof L->section, "%.*s", (int)len, name);
    memset(L->key_line, 0, sizeof L->key_line);
    L->last_name[0] = '\0'; /* inih forgets the previous key here too */
    if (strcmp(L->section, "revived") == 0) {
        if (L->seen_revived)
            return fail(L, L->line, NULL, "duplicate section [revived]");
        L->seen_revived = true;
        L->kind = SEC_REVIVED;
        return 0;
    }
    const char *svc = section_arg(L->section, "service"), *task = section_arg(L->section, "task");
    const char *arg = svc ? svc : task;
    if (!arg)
        return fail(L, L->line, NULL, "unknown section [%s]", L->section);
    if (!valid_name(arg, strlen(arg)))
        return fail(L, L->line, NULL, "bad %s name '%s' (" NAME_RULE ")", svc ? "service" : "task", arg);
    L->kind = svc ? SEC_SERVICE : SEC_TASK;
    return svc ? add_service(L, svc) : add_task(L, task);
}

/* --------------------------------------------------------------- reader */

/* inih's find_chars_or_comment(s, "]"): stops at ']', at the end, or at a
 * ';' that follows a blank (an inline comment). */
static const char *find_close(const char *s)
{
    bool was_space = false;
    while (*s && *s != ']' && !(was_space && *s == ';')) {
        was_space = isspace((unsigned char)*s);
        s++;
    }
    return s;
}

/* Spots section headers exactly as inih does: after leading blanks (and a
 * UTF-8 BOM on line 1) a '[' ... ']' line, unless it is indented right after
 * a key, which inih reads as a continuation of that key's value. A '[' line
 * without ']' is left to inih, which reports a syntax error. */
static void scan_line(struct load *L, const char *buf)
{
    const char *p = buf;
    if (L->line == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    while (isspace((unsigned char)*p))
        p++;
    L->indented = p > buf;
    if (*p != '[' || (L->indented && L->last_name[0]))
        return;
    const char *end = find_close(p + 1);
    if (*end == ']')
        open_section(L, p + 1, (size_t)(end - (p + 1)));
}

/* inih's fgets-style reader: one line of the text per call. Returning NULL
 * ends the parse, which is how an error found here stops inih. */
static char *next_line(char *buf, int size, void *stream)
{
    struct load *L = stream;
    if (L->failed || !*L->pos)
        return NULL;
    size_t len = strcspn(L->pos, "\n");
    size_t take = len + (L->pos[len] == '\n');
    L->line++;
    if (len + 2 > (size_t)size) {
        fail(L, L->line, NULL, "line too long (at most %d characters)", size - 2);
        return NULL;
    }
    memcpy(buf, L->pos, take);
    buf[take] = '\0';
    L->pos += take;
    scan_line(L, buf);
    return L->failed ? NULL : buf;
}

/* -------------------------------------------------------------- handler */

static int find_key(const struct key *keys, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(keys[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* The section inih names must be ours (inih truncates long names, hence
 * the prefix comparison); a mismatch would mean scan_line() misread a line. */
static int check_section(struct load *L, const char *section, const char *name)
{
    if (L->kind == SEC_NONE)
        return fail(L, L->line, name, "not inside a section");
    if (strncmp(section, L->section, strlen(section)) != 0)
        return fail(L, L->line, name, "cannot tell which section this belongs to");
    return 0;
}

/* One "name = value": checks it belongs here and is set once, then
 * parses it into the manifest. */
static int handle_key(struct load *L, const char *section, const char *name, const char *value)
{
    if (L->indented && L->last_name[0])
        return fail(L, L->line, name, "indented line would continue the value of '%s'; "
                    "multi-line values are not supported (remove the indentation)", name);
    snprintf(L->last_name, sizeof L->last_name, "%s", name);
    if (check_section(L, section, name) < 0)
        return -1;
    const struct key *keys = revived_keys;
    size_t nkeys = sizeof revived_keys / sizeof *keys;
    if (L->kind == SEC_SERVICE) {
        keys = service_keys;
        nkeys = sizeof service_keys / sizeof *keys;
    } else if (L->kind == SEC_TASK) {
        keys = task_keys;
        nkeys = sizeof task_keys / sizeof *keys;
    }
    int k = find_key(keys, nkeys, name);
    if (k < 0)
        return fail(L, L->line, name, "unknown key in [%s]", L->section);
    if (L->key_line[k])
        return fail(L, L->line, name, "given twice (first on line %d)", L->key_line[k]);
    L->key_line[k] = L->line;
    L->key = name;
    if (!*value && keys[k].parse != key_args)
        return bad(L, "empty value");
    return keys[k].parse(L, value);
}

/* inih's handler: returns 0 to flag the line as bad. */
static int on_key(void *user, const char *section, const char *name, const char *value)
{
    struct load *L = user;
    return !L->failed && handle_key(L, section, name, value) == 0;
}

/* ----------------------------------------------------------- finishing */

/* Checks `exec` was given, then makes argv = exec, then the args split
 * earlier. `what` is the section, for the error. */
static int finish_program(struct load *L, const char *what, const char *name, const char *exec, char ***argvp)
{
    if (!exec)
        return fail(L, 0, NULL, "[%s %s]: missing key 'exec'", what, name);
    size_t n = 0;
    while (*argvp && (*argvp)[n])
        n++;
    char **argv = calloc(n + 2, sizeof *argv);
    if (!argv || !(argv[0] = strdup(exec))) {
        free(argv);
        return out_of_memory(L);
    }
    if (n)
        memcpy(argv + 1, *argvp, n * sizeof *argv);
    free(*argvp);
    *argvp = argv;
    return 0;
}

static bool has_service(const struct rv_manifest *m, const char *name)
{
    for (size_t i = 0; i < m->nservices; i++)
        if (strcmp(m->services[i].name, name) == 0)
            return true;
    return false;
}

/* A name that stands for a service must name one of the manifest's: a
 * typo would otherwise surface only when the task runs. Dataspaces come
 * and go at run time, so their names cannot be checked here. */
static int check_names(struct load *L, const struct rv_task_conf *t)
{
    for (size_t i = 0; i < t->nnames; i++) {
        const struct rv_name *n = &t->names[i];
        if (!n->dataspace && !has_service(L->m, n->target))
            return fail(L, n->line, "names", "'%s:%s' maps to service '%s', which the manifest does not define",
                        n->name, n->target, n->target);
    }
    return 0;
}

/* arena_size belongs to state = arena, and revived holds every arena for
 * its whole run, so together they are bounded by max_arena_bytes. A mount
 * needs an arena too: what takes it over after a crash (the kernel's INIT,
 * revive/fuse.h) lives there. */
static int finish_arena(struct load *L, struct rv_service_conf *c, uint64_t *total)
{
    if (c->state != RV_STATE_ARENA) {
        if (c->arena_size || c->arena_file || c->mount)
            return fail(L, 0, NULL, "[service %s]: key '%s' needs state = arena", c->name,
                        c->arena_size ? "arena_size" : c->arena_file ? "arena_file" : "mount");
        return 0;
    }
    if (!c->arena_size)
        c->arena_size = ARENA_SIZE_DEFAULT;
    *total += c->arena_size;
    if (*total > L->m->max_arena_bytes)
        return fail(L, 0, NULL, "[service %s]: its arena of %" PRIu64 " bytes brings the arenas to %" PRIu64
                    " bytes, more than [revived] max_arena_bytes (%" PRIu64 ")",
                    c->name, c->arena_size, *total, L->m->max_arena_bytes);
    return 0;
}

/* An id taken by an account, a group, or a service of the manifest. */
static bool id_taken(const struct rv_manifest *m, uint32_t id)
{
    for (size_t i = 0; i < m->nservices; i++)
        if (m->services[i].uid == id || m->services[i].gid == id)
            return true;
    return getpwuid(id) || getgrgid(id);
}

/* A service's own id in the dynamic range, the same at every start: the
 * name's FNV-1a hash picks it, and the next free one is taken while it is
 * taken (then it is stable as long as the accounts are). */
static uint32_t dynamic_id(const struct rv_manifest *m, const char *name)
{
    const uint32_t span = RV_DYNAMIC_ID_MAX - RV_DYNAMIC_ID_MIN + 1;
    uint32_t h = 2166136261u;
    for (const char *p = name; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    uint32_t k = 0;
    while (k < span && id_taken(m, RV_DYNAMIC_ID_MIN + (h + k) % span))
        k++;
    return RV_DYNAMIC_ID_MIN + (h + k) % span;
}

static uint32_t primary_gid(uint32_t uid)
{
    struct passwd *pw = getpwuid(uid);
    return pw ? pw->pw_gid : uid;   /* an id with no account (a dynamic one): its own number */
}

/* Who each service runs as. revived as root changes the ids of every
 * sandboxed service, and of one that names a user or group: a sandboxed
 * service naming neither gets an id of its own (dynamic_id), never root's
 * and never `nobody`'s, which local users share. Otherwise a service runs
 * as revived does. */
static void finish_ids(struct rv_manifest *m)
{
    for (size_t i = 0; i < m->nservices; i++) {
        struct rv_service_conf *c = &m->services[i];
        c->set_ids = geteuid() == 0 && (c->sandbox || c->uid != ID_UNSET || c->gid != ID_UNSET);
        if (c->uid == ID_UNSET)
            c->uid = c->set_ids ? dynamic_id(m, c->name) : geteuid();
        if (c->gid == ID_UNSET)
            c->gid = c->set_ids ? primary_gid(c->uid) : getegid();
    }
}

/* The slab holds max_sessions records, mapped whole by revived and each
 * instance: address space, not memory (a record's pages exist once a
 * session uses it). By default as many as SLAB_DEFAULT_BYTES of address
 * space holds, up to SLAB_DEFAULT_RECORDS; asked for, up to SLAB_MAX_BYTES. */
#define SLAB_DEFAULT_RECORDS 65536u
#define SLAB_DEFAULT_BYTES (1ull << 30)
#define SLAB_MAX_BYTES (1ull << 40)

static int finish_slab(struct load *L, struct rv_service_conf *c)
{
    struct rv_journal_shape shape = { c->ssr_size, (uint32_t)c->max_request, (uint32_t)c->max_reply };
    uint64_t per = rv__session_bytes(&shape, c->ssr_protect == RV_PROTECT_MPROTECT);
    if (!c->max_sessions) {
        uint64_t fits = SLAB_DEFAULT_BYTES / per;
        c->max_sessions = fits < 16 ? 16 : fits > SLAB_DEFAULT_RECORDS ? SLAB_DEFAULT_RECORDS : fits;
    } else if (c->max_sessions > SLAB_MAX_BYTES / per)
        return fail(L, 0, NULL, "[service %s]: max_sessions = %" PRIu64 " at %" PRIu64 " bytes per session (ssr_size "
                    "and its journal) needs more than 1T of address space; at most %" PRIu64, c->name,
                    c->max_sessions, per, (uint64_t)(SLAB_MAX_BYTES / per));
    return 0;
}

static int finish(struct load *L)
{
    struct rv_manifest *m = L->m;
    uint64_t arenas = 0;
    if (m->nservices == 0)
        return fail(L, 0, NULL, "no [service NAME] section: a manifest needs at least one service");
    for (size_t i = 0; i < m->nservices; i++) {
        struct rv_service_conf *c = &m->services[i];
        if (finish_program(L, "service", c->name, c->exec, &c->argv) < 0 || finish_arena(L, c, &arenas) < 0 ||
            finish_slab(L, c) < 0)
            return -1;
    }
    for (size_t i = 0; i < m->ntasks; i++) {
        struct rv_task_conf *t = &m->tasks[i];
        if (finish_program(L, "task", t->name, t->exec, &t->argv) < 0 || check_names(L, t) < 0)
            return -1;
    }
    finish_ids(m);
    return 0;
}

/* inih's result is the first line it had trouble with: either one our
 * handler refused (we already said why) or one it could not parse at all.
 * Since inih carries on after a bad line, a later error of ours may have
 * been recorded meanwhile; the earlier line wins. */
static void note_syntax_error(struct load *L, int ret)
{
    if (ret < 0) {
        L->failed = false;
        fail(L, 0, NULL, "cannot parse (inih error %d)", ret);
    } else if (ret > 0 && (!L->failed || ret < L->err_line)) {
        L->failed = false;
        fail(L, ret, NULL, "syntax error");
    }
}

int rv_manifest_load_text(const char *text, const char *origin, const char *service_path,
                          struct rv_manifest *m, char *err, size_t errlen)
{
    struct load L = {
        .m = m, .origin = origin, .service_path = service_path, .pos = text,
        .err = err, .errlen = errlen,
    };
    memset(m, 0, sizeof *m);
    m->max_ssr_bytes = 16 * MiB;
    m->max_sessions_per_user = 1024;
    m->max_connections_per_user = 256;
    m->reserved_descriptors = 1024;
    m->idle_timeout_ms = 10000;
    m->socket_mode = 0666;
    m->socket_group = (gid_t)-1;
    m->max_arena_bytes = MAX_ARENA_BYTES_DEFAULT;
    note_syntax_error(&L, ini_parse_stream(next_line, &L, on_key, &L));
    if (!L.failed)
        finish(&L);
    if (!L.failed)
        return 0;
    rv_manifest_free(m);
    return -1;
}

/* ---------------------------------------------------------------- files */

/* Reads the whole file into a NUL-terminated buffer, so files and texts go
 * through the same reader. Returns NULL with errno set (EFBIG: too large,
 * EINVAL: contains a NUL byte, which would silently end the text). */
static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = malloc(MANIFEST_FILE_MAX + 1);
    errno = 0;
    size_t n = buf ? fread(buf, 1, MANIFEST_FILE_MAX + 1, f) : 0;
    int e = 0;
    if (!buf)
        e = ENOMEM;
    else if (ferror(f))
        e = errno ? errno : EIO; /* e.g. EISDIR */
    else if (n > MANIFEST_FILE_MAX)
        e = EFBIG;
    else if (memchr(buf, '\0', n))
        e = EINVAL;
    fclose(f);
    if (e) {
        free(buf);
        errno = e;
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

int rv_manifest_load_file(const char *path, const char *service_path,
                          struct rv_manifest *m, char *err, size_t errlen)
{
    char *text = read_file(path);
    if (!text) {
        memset(m, 0, sizeof *m);
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot read: %s", path,
                     errno == EFBIG ? "larger than 1 MiB" : errno == EINVAL ? "contains a NUL byte" : strerror(errno));
        return -1;
    }
    int r = rv_manifest_load_text(text, path, service_path, m, err, errlen);
    free(text);
    return r;
}

static void free_list(char **list)
{
    for (size_t j = 0; list && list[j]; j++)
        free(list[j]);
    free(list);
}

static void free_program(char *exec, char **argv)
{
    free_list(argv);
    free(exec);
}

void rv_manifest_free(struct rv_manifest *m)
{
    for (size_t i = 0; i < m->nservices; i++) {
        free_program(m->services[i].exec, m->services[i].argv);
        free(m->services[i].arena_file);
        free(m->services[i].image);
        free(m->services[i].mount);
        free(m->services[i].users.uids);
        free(m->services[i].users.gids);
        free(m->services[i].syscalls);
        free_list(m->services[i].read_paths);
        free_list(m->services[i].write_paths);
    }
    for (size_t i = 0; i < m->ntasks; i++) {
        free_program(m->tasks[i].exec, m->tasks[i].argv);
        free(m->tasks[i].names);
    }
    free(m->services);
    free(m->tasks);
    memset(m, 0, sizeof *m);
}
