/* de_change.h — changes of the world: one table of their kinds.
 *
 * Everything that makes a running plan worth reconsidering is a change of one kind
 * of DE_CHANGE_TABLE: a device crashes or comes back, computes slower, a link
 * degrades, an LC application's load moves, a job arrives. The scenario's `faults`
 * (and its `fault_trace`), `deepedge sim|run --inject`, rate traces and what the
 * executor observes (a worker that dies or hangs) all become de_change values; the
 * simulator and the executor hand every one of them to the same two functions of
 * de_replan.h: de_change_apply (the cluster state) and de_replan_decide (what to do).
 *
 * A change happens at a time (s: simulated time in sim; since training began in
 * run) or after an iteration (when the running job has completed that many global
 * iterations; iteration-triggered changes fall on the same iteration in sim and run,
 * which makes their decisions comparable one to one). */
#ifndef DE_CHANGE_H
#define DE_CHANGE_H

#include <stddef.h>
#include <stdio.h>

#include "de_error.h"

struct de_scenario;

/* What a change names. */
typedef enum de_target_kind { DE_TARGET_DEVICE, DE_TARGET_LINK, DE_TARGET_TASK, DE_TARGET_JOB } de_target_kind;
/* What its value is. */
typedef enum de_value_kind {
    DE_VALUE_NONE,
    DE_VALUE_FACTOR, /* a multiplier in [0.001, 1] (1: nominal again) */
    DE_VALUE_RATE    /* requests/s, >= 0 */
} de_value_kind;

/* X(ID, "name", target, value, can be repaired after repair_s, "what it does to the cluster") */
#define DE_CHANGE_TABLE(X)                                                                                     \
    X(CRASH, "crash", DE_TARGET_DEVICE, DE_VALUE_NONE, 1,                                                      \
      "the device stops: its worker and LC services die, its LC requests are dropped; a job training on it "   \
      "loses the work since its last checkpoint")                                                              \
    X(REPAIR, "repair", DE_TARGET_DEVICE, DE_VALUE_NONE, 0, "the device is back up; its LC services restart")   \
    X(SLOWDOWN, "slowdown", DE_TARGET_DEVICE, DE_VALUE_FACTOR, 1,                                              \
      "the device computes at FACTOR x its speed (training and LC service times; 1: nominal again)")          \
    X(LINK_DEGRADE, "link-degrade", DE_TARGET_LINK, DE_VALUE_FACTOR, 1,                                        \
      "the link carries FACTOR x its bandwidth (1: nominal again)")                                            \
    X(LC_RATE, "lc-rate", DE_TARGET_TASK, DE_VALUE_RATE, 0, "the LC task's request rate becomes RATE req/s")    \
    X(JOB_ARRIVAL, "job-arrival", DE_TARGET_JOB, DE_VALUE_NONE, 0, "an update job arrives and queues (FCFS)")   \
    X(MODEL, "model", DE_TARGET_DEVICE, DE_VALUE_NONE, 0,                                                      \
      "the online correction moved the believed models (de_correct.h; made by the scheduler, not a fault)")   \
    /* new kinds above this line */

typedef enum de_change_kind {
#define DE_X_CK(id, name, target, value, repairable, help) DE_CHANGE_##id,
    DE_CHANGE_TABLE(DE_X_CK)
#undef DE_X_CK
    DE_CHANGE_COUNT
} de_change_kind;

typedef struct de_change {
    de_change_kind kind;
    int target;        /* index of the device, link, LC task or job (the kind's target) */
    double value;      /* the factor or the rate (the kind's value); 0 for none */
    double time_s;     /* when (s), or NAN when triggered by iteration */
    long iteration;    /* after this many iterations of the running job, or -1 when by time */
    int ends;          /* index (in the scenario's changes) of the change this repair ends, -1 */
    char origin[48];   /* where it comes from, for messages: "faults.[2]", "--inject", "rate trace" */
} de_change;

const char *de_change_kind_name(de_change_kind k);
const char *de_change_kind_help(de_change_kind k);
de_target_kind de_change_target_kind(de_change_kind k);
de_value_kind de_change_value_kind(de_change_kind k);
/* 1 for a kind only the scheduler makes (model): no scenario fault, trace row or --inject. */
#define DE_CHANGE_INTERNAL(k) ((k) == DE_CHANGE_MODEL)

/* 1 when the kind can be undone after repair_s (crash by a repair, the others by factor 1). */
int de_change_repairable(de_change_kind k);
/* 0 and *out, or DE_ERANGE for an unknown name. */
int de_change_kind_parse(const char *name, de_change_kind *out);
/* "crash, repair, ..." (static buffer). */
const char *de_change_kind_list(void);
/* The kinds as a table (name, target, value, what it does). */
void de_change_print_table(FILE *out);

/* A change with no trigger yet: time_s NAN, iteration -1, ends -1. */
void de_change_init(de_change *c, de_change_kind kind, int target, double value, const char *origin);

/* The change that undoes c (a repair of a crash; factor 1 for a slowdown or a link
 * degradation), repair_s after c's time. c must be repairable and triggered by time. */
de_change de_change_repair_of(const de_change *c, int index, double repair_s);

/* The name of what c targets in s. */
const char *de_change_target_name(const de_change *c, const struct de_scenario *s);

/* One line for logs: "crash of edge-b", "edge-a at 0.5 x speed", "cam-a at 120 req/s". */
void de_change_describe(const de_change *c, const struct de_scenario *s, char *buf, size_t n);

/* Parses an --inject value against scenario s:
 *     KIND:TARGET@WHEN            crash, repair (a device), job-arrival (a job)
 *     KIND:TARGET*FACTOR@WHEN     slowdown (a device), link-degrade (a link; `link` is accepted for it)
 *     KIND:TARGET=RATE@WHEN       lc-rate (an LC task)
 * WHEN is an iteration (an integer) or a time with an `s` (12.5s). Errors name the
 * option and say what was expected. */
int de_change_parse_spec(const char *spec, const struct de_scenario *s, de_change *out, de_err *err);

#endif
