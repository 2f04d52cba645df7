/* report.c — a campaign's results: one CSV row per experiment, and a
 * markdown summary (the outcome x recovery table, the headline percentage
 * of manifested faults recovered, and every case that was not recovered). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "campaign.h"

/* A CSV field in double quotes, inner quotes doubled. */
static void csv_quoted(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void cp_csv_header(FILE *f)
{
    fputs("index,seed,function,offset,instruction,type,outcome,recovery,detail\n", f);
}

void cp_csv_row(FILE *f, const struct cp_experiment *e)
{
    fprintf(f, "%d,%" PRIu64 ",", e->index, e->seed);
    csv_quoted(f, e->inj.function);
    fprintf(f, ",%#" PRIx64 ",", e->inj.offset);
    csv_quoted(f, e->inj.insn);
    fprintf(f, ",%c,%s,%s,", e->fault == RVI_FAULT_MEM ? 'M' : 'R', cp_outcome_name(e->outcome),
            cp_recovery_name(e->recovery));
    csv_quoted(f, e->detail);
    fputc('\n', f);
}

static double pct(int part, int whole) { return whole ? 100.0 * part / whole : 0.0; }

static void counts_table(FILE *f, const struct cp_experiment *e, int n)
{
    int cnt[CP_NOUTCOMES][CP_NRECOVERY] = { { 0 } };
    for (int i = 0; i < n; i++)
        cnt[e[i].outcome][e[i].recovery]++;
    fputs("| outcome | experiments | RECOVERED | RECOVERED_WITH_LOSS | NOT_RECOVERED |\n"
          "|---|---:|---:|---:|---:|\n", f);
    for (int o = 0; o < CP_NOUTCOMES; o++) {
        int total = 0;
        for (int r = 0; r < CP_NRECOVERY; r++)
            total += cnt[o][r];
        fprintf(f, "| %s | %d | %d | %d | %d |\n", cp_outcome_name((enum cp_outcome)o), total,
                cnt[o][CP_RECOVERED], cnt[o][CP_RECOVERED_WITH_LOSS], cnt[o][CP_NOT_RECOVERED]);
    }
}

static void headline(FILE *f, const struct cp_experiment *e, int n)
{
    int act = 0, man = 0, rec[CP_NRECOVERY] = { 0 };
    for (int i = 0; i < n; i++) {
        act += e[i].outcome != CP_NOT_ACTIVATED;
        man += e[i].recovery != CP_REC_NONE;
        rec[e[i].recovery]++;
    }
    fprintf(f, "\n%d experiments, %d activated, **%d manifested** (activated and not benign).\n\n"
               "Of the manifested faults: **%.1f%% recovered** (%d fully, %.1f%%; %d with loss, %.1f%%), "
               "%d not recovered (%.1f%%).\n\n",
            n, act, man, pct(rec[CP_RECOVERED] + rec[CP_RECOVERED_WITH_LOSS], man), rec[CP_RECOVERED],
            pct(rec[CP_RECOVERED], man), rec[CP_RECOVERED_WITH_LOSS], pct(rec[CP_RECOVERED_WITH_LOSS], man),
            rec[CP_NOT_RECOVERED], pct(rec[CP_NOT_RECOVERED], man));
    fputs("The papers, same measure (recovered among manifested faults, a lost client counted as "
          "recovered): CuriOS (Figure 5) 87-100% per service and fault type; "
          "Akeso 97.2%.\n", f);
}

void cp_markdown_failures(FILE *f, const struct cp_experiment *e, int n)
{
    fputs("\n## Not recovered (including SDC)\n\n", f);
    int shown = 0;
    for (int i = 0; i < n; i++) {
        if (e[i].recovery != CP_NOT_RECOVERED)
            continue;
        if (!shown++)
            fputs("| # | seed | function+offset | instruction | outcome | detail |\n|---|---|---|---|---|---|\n", f);
        fprintf(f, "| %d | %" PRIu64 " | %s+%#" PRIx64 " | `%s` | %s | %s |\n", e[i].index, e[i].seed,
                e[i].inj.function, e[i].inj.offset, e[i].inj.insn, cp_outcome_name(e[i].outcome),
                e[i].detail);
    }
    if (!shown)
        fputs("None.\n", f);
}

void cp_markdown_title(FILE *f, const char *cmdline, const struct cp_campaign *c, const char *mode)
{
    char date[32];
    time_t t = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&t));
    fprintf(f, "# Fault injection %s: `%s`, %s faults%s%s%s\n\nProduced %s by:\n\n    %s\n\n", mode,
            cp_service_name(c->svc), c->fault == RVI_FAULT_MEM ? "M (memory access)" : "R (register bit flip)",
            c->baseline ? ", baseline (state preservation off: " : "", c->baseline ? cp_baseline_what(c->svc) : "",
            c->baseline ? ")" : "", date, cmdline);
    fputs("Reproduce one experiment's choice of instruction with "
          "`rv-inject --pid PID --type T --seed SEED` (the row's seed).\n\n", f);
}

void cp_markdown(FILE *f, const char *cmdline, const struct cp_campaign *c, const struct cp_experiment *e, int n)
{
    cp_markdown_title(f, cmdline, c, "campaign");
    counts_table(f, e, n);
    headline(f, e, n);
    cp_markdown_failures(f, e, n);
}

void cp_progress(const struct cp_experiment *e, int n)
{
    printf("#%d (of %d) seed=%" PRIu64 " %s+%#" PRIx64 " %-13s %s%s%s\n", e->index, n, e->seed,
           e->inj.function, e->inj.offset, cp_outcome_name(e->outcome), cp_recovery_name(e->recovery),
           e->recovery == CP_NOT_RECOVERED || e->inj.outcome == RVI_ERROR ? "  " : "",
           e->recovery == CP_NOT_RECOVERED || e->inj.outcome == RVI_ERROR ? e->detail : "");
    fflush(stdout);
}
