/* de_trace.h — LC request-rate traces (CSV), as referenced by scenarios.
 *
 * Format: a header line `time_s,rate_rps`, then one row per change point: the time
 * (s, strictly increasing, from 0) and the request rate (requests/s, >= 0) that
 * holds from then until the next row. Lines starting with '#' are comments.
 * Malformed input is an error naming FILE:LINE:COLUMN; nothing is skipped. */
#ifndef DE_TRACE_H
#define DE_TRACE_H

#include "de_error.h"

typedef struct de_rate_trace {
    char *path;
    int n;
    double *time_s;
    double *rate;
} de_rate_trace;

int de_rate_trace_load(const char *path, de_rate_trace **out, de_err *err);
void de_rate_trace_destroy(de_rate_trace *t);

/* Rate at time t (piecewise constant; before the first row: the first rate). */
double de_rate_trace_at(const de_rate_trace *t, double time_s);

/* Largest rate in the trace. */
double de_rate_trace_peak(const de_rate_trace *t);

#endif
