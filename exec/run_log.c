/* run_log.c — the coordinator's clock and event log, and reading the ends of the logs its
 * children write (run_internal.h). Every other run_*.c file uses it; it uses none. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "de_util.h"
#include "run_internal.h"

double run_rel(const run *r)
{
    return de_now_s() - r->t0;
}

/* How many events of one kind are written; the rest are counted (run_event_tally). A run
 * has a few dozen of each kind; a flood (a peer repeating a refused line) stays bounded. */
#define EVENTS_PER_KIND 200

/* Counts an event of `kind`; 1 when it is still to be written. */
static int count_event(run *r, const char *kind)
{
    int i = 0;
    while (i < r->n_event_kinds && strcmp(r->event_count[i].kind, kind))
        i++;
    if (i == r->n_event_kinds) {
        if (i == (int)(sizeof r->event_count / sizeof r->event_count[0]))
            return 1; /* more kinds than the table: written (kinds are the code's own words) */
        r->event_count[r->n_event_kinds].kind = kind;
        r->event_count[r->n_event_kinds++].n = 0;
    }
    return ++r->event_count[i].n <= EVENTS_PER_KIND;
}

void run_event_tally(run *r)
{
    for (int i = 0; i < r->n_event_kinds; i++)
        if (r->event_count[i].n > EVENTS_PER_KIND) {
            long more = r->event_count[i].n - EVENTS_PER_KIND;
            r->event_count[i].n = 0; /* this line itself is written */
            run_event(r, "suppressed", "%ld more '%s' events were counted, not written", more, r->event_count[i].kind);
        }
}

void run_event(run *r, const char *kind, const char *fmt, ...)
{
    if (!count_event(r, kind))
        return;
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    double t = run_rel(r);
    if (r->f_events) {
        de_output_event(r->f_events, t, kind, detail);
        fflush(r->f_events);
    }
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "time_s", t);
    cJSON_AddStringToObject(e, "event", kind);
    cJSON_AddStringToObject(e, "detail", detail);
    cJSON_AddItemToArray(r->events, e);
    if (!r->o->quiet) {
        if (r->tty)
            fputs("\r\033[J", stderr);
        fprintf(stderr, "[%7.1f s] %s: %s\n", t, kind, detail);
        r->next_draw = 0;
    }
}

const char *run_tail_of(const char *path, char *buf, size_t n)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return buf;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    long from = sz > (long)n - 1 ? sz - ((long)n - 1) : 0;
    fseek(f, from, SEEK_SET);
    size_t k = fread(buf, 1, n - 1, f);
    buf[k] = '\0';
    fclose(f);
    return buf;
}

/* The first lines of a log (mpiexec says what went wrong first, then generic advice). */
const char *run_head_of(const char *path, char *buf, size_t n)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return buf;
    size_t k = fread(buf, 1, n - 1, f);
    buf[k] = '\0';
    fclose(f);
    char *p = buf; /* up to 8 lines */
    for (int i = 0; i < 8 && p; i++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    if (p)
        *p = '\0';
    return buf;
}

