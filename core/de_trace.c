/* de_trace.c — rate and fault traces over the CSV reader (see de_trace.h). */
#include "de_trace.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "de_change.h"
#include "de_csv.h"
#include "de_util.h"

static const de_csv_col k_rate_cols[] = {
    {"time_s", DE_CSV_NUMBER, 1, 0, INFINITY, NULL, "s, when the rate starts to hold"},
    {"rate_rps", DE_CSV_NUMBER, 1, 0, INFINITY, NULL, "requests/s from then on"},
};

int de_rate_trace_load(const char *path, de_rate_trace **out, de_err *err)
{
    *out = NULL;
    de_csv *csv;
    int rc = de_csv_load(path, k_rate_cols, 2, DE_CSV_EXACT, &csv, err);
    if (rc)
        return rc;
    for (int r = 1; r < csv->n_rows; r++)
        if (de_csv_num(csv, r, 0) <= de_csv_num(csv, r - 1, 0)) {
            rc = de_csv_err(csv, r, 0, err, DE_ERANGE, "%g must be >= 0 and greater than the previous row",
                            de_csv_num(csv, r, 0));
            de_csv_destroy(csv);
            return rc;
        }
    de_rate_trace *t = de_calloc(1, sizeof *t);
    t->path = de_strdup(path);
    t->n = csv->n_rows;
    t->time_s = de_calloc((size_t)t->n, sizeof *t->time_s);
    t->rate = de_calloc((size_t)t->n, sizeof *t->rate);
    for (int r = 0; r < t->n; r++) {
        t->time_s[r] = de_csv_num(csv, r, 0);
        t->rate[r] = de_csv_num(csv, r, 1);
    }
    de_csv_destroy(csv);
    *out = t;
    return DE_OK;
}

void de_rate_trace_destroy(de_rate_trace *t)
{
    if (!t)
        return;
    free(t->path);
    free(t->time_s);
    free(t->rate);
    free(t);
}

double de_rate_trace_at(const de_rate_trace *t, double time_s)
{
    /* Last row with time <= time_s (binary search). */
    int lo = 0, hi = t->n - 1;
    if (time_s < t->time_s[0])
        return t->rate[0];
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (t->time_s[mid] <= time_s)
            lo = mid;
        else
            hi = mid - 1;
    }
    return t->rate[lo];
}

double de_rate_trace_peak(const de_rate_trace *t)
{
    double m = 0;
    for (int i = 0; i < t->n; i++)
        if (t->rate[i] > m)
            m = t->rate[i];
    return m;
}

/* ---- fault traces ---- */

enum { F_TIME, F_DEVICE, F_KIND, F_REPAIR, F_FACTOR, F_NCOLS };
static const de_csv_col k_fault_cols[] = {
    {"time_s", DE_CSV_NUMBER, 1, 0, 1e12, NULL, "s, when the fault happens (nondecreasing)"},
    {"device", DE_CSV_STRING, 1, 0, 0, NULL, "device name in the scenario"},
    {"kind", DE_CSV_STRING, 1, 0, 0, NULL, "crash | repair | slowdown | link-degrade (de_change.h)"},
    {"repair_s", DE_CSV_STRING, 0, 0, 0, "", "s until repaired; empty or 'inf': never"},
    {"factor", DE_CSV_STRING, 0, 0, 0, "", "slowdown: speed multiplier; link-degrade: bandwidth multiplier, in [0.001, 1]"},
};

/* An optional numeric cell held as text: "" -> def. */
static int opt_number(const de_csv *csv, int r, int c, double def, double min, double max, double *out, de_err *err)
{
    const char *s = de_csv_str(csv, r, c);
    if (!*s) {
        *out = def;
        return DE_OK;
    }
    char *end;
    double v = strtod(s, &end);
    if (*end != '\0' || isnan(v))
        return de_csv_err(csv, r, c, err, DE_ESYNTAX, "not a number ('%s')", s);
    if (v < min || v > max)
        return de_csv_err(csv, r, c, err, DE_ERANGE, "%g is out of range [%g, %g]", v, min, max);
    *out = v;
    return DE_OK;
}

static int fault_row(const de_csv *csv, int r, de_fault_event *e, de_err *err)
{
    e->time_s = de_csv_num(csv, r, F_TIME);
    e->line = csv->line[r];
    if (r > 0 && e->time_s < de_csv_num(csv, r - 1, F_TIME))
        return de_csv_err(csv, r, F_TIME, err, DE_ERANGE, "%g is earlier than the previous row", e->time_s);
    const char *dev = de_csv_str(csv, r, F_DEVICE), *kind = de_csv_str(csv, r, F_KIND);
    if (!*dev)
        return de_csv_err(csv, r, F_DEVICE, err, DE_ESYNTAX, "empty device name");
    de_change_kind k;
    if (de_change_kind_parse(kind, &k) || de_change_target_kind(k) == DE_TARGET_TASK ||
        de_change_target_kind(k) == DE_TARGET_JOB || DE_CHANGE_INTERNAL(k))
        return de_csv_err(csv, r, F_KIND, err, DE_ERANGE,
                          "unknown fault kind '%s' (known here: crash, repair, slowdown, link-degrade)", kind);
    e->kind = k;
    int rc = opt_number(csv, r, F_REPAIR, INFINITY, 0, INFINITY, &e->repair_s, err);
    if (rc)
        return rc;
    if (isfinite(e->repair_s) && !de_change_repairable(k))
        return de_csv_err(csv, r, F_REPAIR, err, DE_EINVAL, "a %s is not undone by a repair_s", kind);
    if ((rc = opt_number(csv, r, F_FACTOR, NAN, 1e-3, 1, &e->factor, err)))
        return rc;
    if (de_change_value_kind(k) == DE_VALUE_NONE) {
        if (!isnan(e->factor))
            return de_csv_err(csv, r, F_FACTOR, err, DE_EINVAL, "a %s takes no factor", kind);
        e->factor = 0;
    } else if (isnan(e->factor)) {
        return de_csv_err(csv, r, F_FACTOR, err, DE_EMISSING, "a %s fault needs a factor in [0.001, 1]", kind);
    }
    e->device = de_strdup(dev);
    return DE_OK;
}

int de_fault_trace_load(const char *path, de_fault_trace **out, de_err *err)
{
    *out = NULL;
    de_csv *csv;
    int rc = de_csv_load(path, k_fault_cols, F_NCOLS, 0, &csv, err);
    if (rc)
        return rc;
    de_fault_trace *t = de_calloc(1, sizeof *t);
    t->path = de_strdup(path);
    t->events = de_calloc((size_t)csv->n_rows, sizeof *t->events);
    for (int r = 0; r < csv->n_rows && !rc; r++) {
        rc = fault_row(csv, r, &t->events[r], err);
        if (!rc)
            t->n = r + 1;
    }
    de_csv_destroy(csv);
    if (rc) {
        de_fault_trace_destroy(t);
        return rc;
    }
    *out = t;
    return DE_OK;
}

void de_fault_trace_destroy(de_fault_trace *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->n; i++)
        free(t->events[i].device);
    free(t->events);
    free(t->path);
    free(t);
}
