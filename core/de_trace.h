/* de_trace.h — traces the scenarios refer to: LC request rates over time and faults
 * over time (CSV, read with de_csv.h; the formats are documented in traces/README.md).
 *
 * Rate trace: the header `time_s,rate_rps`, then one row per change point: the time
 * (s, strictly increasing, from 0) and the request rate (requests/s, >= 0) that
 * holds from then until the next row.
 * Fault trace (a scenario's `fault_trace`): columns `time_s,device,kind,repair_s,factor`
 * (repair_s and factor optional): one fault per row, times nondecreasing; kind is a
 * change kind of de_change.h that targets a device or its link (crash, repair,
 * slowdown, link-degrade); repair_s empty/absent = never repaired; factor in
 * [0.001, 1] for slowdown and link-degrade.
 * Lines starting with '#' are comments. Malformed input is an error naming
 * FILE:LINE:COLUMN; nothing is skipped. */
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

/* One fault of a fault trace. The device is a name, resolved against a scenario by
 * its user (the simulator). */
typedef struct de_fault_event {
    double time_s;
    char *device;
    int kind;           /* a de_change_kind (de_change.h) */
    double repair_s;    /* INFINITY: never repaired */
    double factor;      /* [0.001, 1] for slowdown and link-degrade; 0 otherwise */
    int line;           /* source line, for messages */
} de_fault_event;

typedef struct de_fault_trace {
    char *path;
    int n;
    de_fault_event *events;
} de_fault_trace;

int de_fault_trace_load(const char *path, de_fault_trace **out, de_err *err);
void de_fault_trace_destroy(de_fault_trace *t);

#endif
