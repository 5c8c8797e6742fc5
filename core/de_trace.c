/* de_trace.c — LC request-rate traces (see de_trace.h). */
#include "de_trace.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "de_util.h"

/* Parses one numeric CSV field [s, e) strictly; returns 0 on success. */
static int parse_field(const char *s, const char *e, double *out)
{
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        e--;
    if (s == e)
        return -1;
    char buf[64];
    size_t n = (size_t)(e - s);
    if (n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (errno || *end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int de_rate_trace_load(const char *path, de_rate_trace **out, de_err *err)
{
    *out = NULL;
    size_t len;
    char *text = de_file_read(path, &len);
    if (!text)
        return de_err_set(err, DE_EIO, "%s: cannot read rate trace: %s", path, strerror(errno));
    de_rate_trace *t = de_calloc(1, sizeof *t);
    t->path = de_strdup(path);
    int cap = 0, lineno = 0, header = 0, rc = DE_OK;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        size_t ll = strlen(line);
        if (ll && line[ll - 1] == '\r')
            line[--ll] = '\0';
        if (ll == 0 || line[0] == '#') {
            line = nl ? nl + 1 : NULL;
            continue;
        }
        if (!header) {
            if (strcmp(line, "time_s,rate_rps") != 0) {
                rc = de_err_set(err, DE_ESYNTAX, "%s:%d:1: header must be 'time_s,rate_rps', found '%s'", path,
                                lineno, line);
                break;
            }
            header = 1;
            line = nl ? nl + 1 : NULL;
            continue;
        }
        char *comma = strchr(line, ',');
        if (!comma || strchr(comma + 1, ',')) {
            rc = de_err_set(err, DE_ESYNTAX, "%s:%d: expected 2 columns (time_s,rate_rps)", path, lineno);
            break;
        }
        double tv, rv;
        if (parse_field(line, comma, &tv)) {
            rc = de_err_set(err, DE_ESYNTAX, "%s:%d:1: time_s: not a number", path, lineno);
            break;
        }
        if (parse_field(comma + 1, line + ll, &rv)) {
            rc = de_err_set(err, DE_ESYNTAX, "%s:%d:2: rate_rps: not a number", path, lineno);
            break;
        }
        if (tv < 0 || (t->n > 0 && tv <= t->time_s[t->n - 1])) {
            rc = de_err_set(err, DE_ERANGE, "%s:%d:1: time_s: %g must be >= 0 and greater than the previous row",
                            path, lineno, tv);
            break;
        }
        if (rv < 0) {
            rc = de_err_set(err, DE_ERANGE, "%s:%d:2: rate_rps: %g must be >= 0", path, lineno, rv);
            break;
        }
        if (t->n == cap) {
            cap = cap ? 2 * cap : 64;
            t->time_s = de_realloc(t->time_s, (size_t)cap * sizeof *t->time_s);
            t->rate = de_realloc(t->rate, (size_t)cap * sizeof *t->rate);
        }
        t->time_s[t->n] = tv;
        t->rate[t->n] = rv;
        t->n++;
        line = nl ? nl + 1 : NULL;
    }
    free(text);
    if (!rc && t->n == 0)
        rc = de_err_set(err, DE_ESYNTAX, "%s: %s", path, header ? "no data rows" : "empty (expected header 'time_s,rate_rps')");
    if (rc) {
        de_rate_trace_destroy(t);
        return rc;
    }
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
