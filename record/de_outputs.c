/* de_outputs.c — the output files and their rows (see de_outputs.h). */
#include "de_outputs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "de_csv.h"
#include "de_util.h"

static const char *const names[] = {
#define DE_X_NAME(id, name, header) name,
    DE_OUTPUT_TABLE(DE_X_NAME)
#undef DE_X_NAME
};
static const char *const headers[] = {
#define DE_X_HEAD(id, name, header) header,
    DE_OUTPUT_TABLE(DE_X_HEAD)
#undef DE_X_HEAD
};
static const char *const tl_names[] = {
#define DE_X_TLN(id, name) name,
    DE_TL_TABLE(DE_X_TLN)
#undef DE_X_TLN
};

const char *de_output_name(de_output o)
{
    return (unsigned)o < DE_OUT_COUNT ? names[o] : "?";
}

const char *de_tl_name(de_tl_state s)
{
    return (unsigned)s < DE_TL_COUNT ? tl_names[s] : "off";
}

static char *tmp_name(de_output o)
{
    return de_sprintf("%s.tmp.%ld", names[o], (long)getpid());
}

FILE *de_output_open(const char *dir, de_output o, de_err *err)
{
    char *final = de_path_join(dir, names[o]), *tmp = tmp_name(o);
    de_remove_stale_tmp(final);
    int rc = DE_OK;
    FILE *f = de_csv_create(dir, tmp, headers[o], err, &rc);
    free(final);
    free(tmp);
    return f;
}

int de_output_close(FILE *f, const char *dir, de_output o, de_err *err)
{
    if (!f)
        return DE_OK;
    char *final = de_path_join(dir, names[o]), *name = tmp_name(o), *tmp = de_path_join(dir, name);
    int rc = DE_OK;
    if (ferror(f) | fclose(f))
        rc = de_err_set(err, DE_EIO, "%s: write failed", final);
    else if (rename(tmp, final) != 0)
        rc = de_err_set(err, DE_EIO, "%s: cannot rename %s to it: %s", final, tmp, strerror(errno));
    if (rc)
        remove(tmp);
    free(final);
    free(name);
    free(tmp);
    return rc;
}

FILE *de_output_open_live(const char *dir, de_output o, de_err *err)
{
    char *p = de_path_join(dir, names[o]);
    FILE *f = fopen(p, "w");
    if (!f)
        de_err_set(err, DE_EIO, "%s: cannot write: %s", p, strerror(errno));
    else if (setvbuf(f, NULL, _IOLBF, 0) != 0 || fprintf(f, "%s\n", headers[o]) < 0)
        de_err_set(err, DE_EIO, "%s: cannot write", p);
    free(p);
    return f;
}

void de_output_event(FILE *f, double t, const char *event, const char *detail)
{
    if (!f)
        return;
    fprintf(f, "%.6f,%s,\"", t, event);
    for (const char *p = detail; *p; p++) {
        if (*p == '"')
            fputc('"', f); /* CSV: a quote is doubled */
        fputc(*p == '\n' ? ' ' : *p, f);
    }
    fputs("\"\n", f);
}

void de_output_iteration(FILE *f, const char *job, long iteration, double start_s, double compute_s,
                         double allreduce_s, double end_s, double samples_done)
{
    if (f)
        fprintf(f, "%s,%ld,%.6f,%.6f,%.6f,%.6f,%.0f\n", job, iteration, start_s, compute_s, allreduce_s, end_s,
                samples_done);
}

void de_output_timeline(FILE *f, const char *device, int index, double start_s, double end_s, de_tl_state st)
{
    if (f && st != DE_TL_OFF && end_s > start_s)
        fprintf(f, "%s,%d,%.6f,%.6f,%s\n", device, index, start_s, end_s, de_tl_name(st));
}

void de_output_window(FILE *f, const de_window_row *w)
{
    if (f)
        fprintf(f, "%.6f,%.6f,%s,%llu,%llu,%llu,%.6g,%.6g,%.6g,%.6g,%g,%.6g\n", w->start_s, w->end_s, w->task,
                (unsigned long long)w->requests, (unsigned long long)w->dropped, (unsigned long long)w->violations,
                w->p50_s, w->p95_s, w->p99_s, w->pct_s, w->percentile, w->deadline_s);
}
