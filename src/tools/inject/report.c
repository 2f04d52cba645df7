/* report.c — the one line rv-inject prints per experiment: plain text for a
 * person, or a JSON object for a campaign runner. Both carry the same
 * fields: what was chosen, whether it was reached, the fault itself, and
 * what the target did afterwards. */
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "inject.h"

static const char *outcome_name(enum rvi_outcome o)
{
    return o == RVI_ACTIVATED ? "ACTIVATED" : o == RVI_NOT_ACTIVATED ? "NOT_ACTIVATED" : "ERROR";
}

static const char *why_name(enum rvi_why w)
{
    static const char *const names[] = {
        [RVI_WHY_NONE] = "", [RVI_WHY_TIMEOUT] = "timeout", [RVI_WHY_EXITED] = "target-exited",
        [RVI_WHY_EXEC] = "target-exec", [RVI_WHY_CANCELLED] = "interrupted",
    };
    return names[w];
}

static const char *fate_name(enum rvi_fate f)
{
    static const char *const names[] = {
        [RVI_FATE_RUNNING] = "running", [RVI_FATE_EXITED] = "exited",
        [RVI_FATE_SIGNALED] = "signaled", [RVI_FATE_GONE] = "gone",
    };
    return names[f];
}

/* A JSON string (or, in text mode, a double-quoted one with the same escapes). */
static void put_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(out, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(out, "\\u%04x", *s);
        else
            fputc(*s, out);
    }
    fputc('"', out);
}

/* Field writers: `"key":value` separated by commas, or `key=value` by spaces. */
struct line {
    FILE *out;
    bool json, first;
};

static void key(struct line *l, const char *k)
{
    fputs(l->first ? "" : l->json ? "," : " ", l->out);
    l->first = false;
    fprintf(l->out, l->json ? "\"%s\":" : "%s=", k);
}

static void field_str(struct line *l, const char *k, const char *v)
{
    key(l, k);
    if (l->json || strpbrk(v, " \"\\"))
        put_string(l->out, v);
    else
        fputs(v, l->out);
}

static void field_int(struct line *l, const char *k, long long v)
{
    key(l, k);
    fprintf(l->out, "%lld", v);
}

static void field_hex(struct line *l, const char *k, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "0x%" PRIx64, v);
    field_str(l, k, buf);
}

static void choice_fields(struct line *l, const struct rvi_config *cfg, const struct rvi_result *r)
{
    field_str(l, "module", r->module);
    field_str(l, "function", r->function);
    field_hex(l, "offset", r->offset);
    field_hex(l, "address", r->address);
    field_str(l, "insn", r->insn);
    field_int(l, "candidates", (long long)r->candidates);
    if (cfg->fault == RVI_FAULT_REG) {
        field_str(l, "reg", r->reg);
        field_int(l, "bit", r->bit);
        field_int(l, "width", r->width);
    }
}

static void fault_fields(struct line *l, const struct rvi_config *cfg, const struct rvi_result *r)
{
    field_int(l, "tid", r->tid);
    if (cfg->fault == RVI_FAULT_MEM) {
        field_hex(l, "mem_addr", r->mem_addr);
        return;
    }
    field_hex(l, "before", r->before);
    field_hex(l, "after", r->after);
}

static void fate_fields(struct line *l, const struct rvi_result *r)
{
    field_str(l, "target", fate_name(r->fate));
    if (r->fate == RVI_FATE_EXITED)
        field_int(l, "status", r->status);
    if (r->fate == RVI_FATE_SIGNALED)
        field_str(l, "signal", sigabbrev_np(r->status) ? sigabbrev_np(r->status) : "?");
}

void rvi_result_print(const struct rvi_config *cfg, const struct rvi_result *r, bool json,
                      FILE *out)
{
    struct line l = { out, json, true };
    if (json) {
        fputc('{', out);
        field_str(&l, "outcome", outcome_name(r->outcome));
    } else {
        fputs(outcome_name(r->outcome), out);
        l.first = false;
    }
    if (r->outcome == RVI_ERROR) {
        field_str(&l, "error", r->error);
    } else {
        field_str(&l, "type", cfg->fault == RVI_FAULT_MEM ? "M" : "R");
        field_str(&l, "breakpoint", cfg->bp == RVI_BP_SW ? "sw" : "hw");
        key(&l, "seed");
        fprintf(out, "%" PRIu64, cfg->seed);
        field_int(&l, "pid", r->pid);
        if (r->outcome == RVI_NOT_ACTIVATED)
            field_str(&l, "reason", why_name(r->why));
        choice_fields(&l, cfg, r);
        if (r->outcome == RVI_ACTIVATED)
            fault_fields(&l, cfg, r);
        fate_fields(&l, r);
    }
    fputs(json ? "}\n" : "\n", out);
    fflush(out);
}
