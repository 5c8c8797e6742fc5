/* de_outputs.h — the output files of a run, as one table: what `sim` and `run` write.
 *
 * Both drivers write the same files with the same columns and the same precision
 * (times in seconds with 6 decimals, latencies with 6 significant digits), through
 * the writers below, so that a figure script, a test or a user's notebook reads a
 * simulated run and a measured one alike. The simulator's clock is simulated time
 * from 0; the executor's is wall-clock time from the coordinator's start.
 *
 *  events.csv       time_s,event,detail   one line per event (change, decision,
 *                   checkpoint, failure, job_start, job_done, ...); detail is free text
 *                   (quoted), for decisions the key=value line of de_decision_describe
 *  iterations.csv   job,iteration,start_s,compute_s,allreduce_s,end_s,samples_done
 *  timeline.csv     device,device_index,start_s,end_s,state   (state: de_tl_state)
 *  lc_windows.csv   start_s,end_s,task,requests,dropped,violations,p50_s,p95_s,p99_s,pct_s,percentile,deadline_s
 *                   per window and LC task; dropped: requests that arrived while its
 *                   device was down; violations: served over the deadline, or dropped;
 *                   pct_s: the latency at the task's own percentile
 *  lc_cdf.csv       task,latency_s,cdf,deadline_s,percentile   (de_hist_write_cdf)
 *  ranks.csv        time_s,rank,device,iteration,batch,compute_s,throttle_s,sync_s,mpi_s,pad_s,step_s,loss,cpu_s,rss_kb
 *                   (run only: what every worker rank reported, per iteration) */
#ifndef DE_OUTPUTS_H
#define DE_OUTPUTS_H

#include <stdint.h>
#include <stdio.h>

#include "de_error.h"

#define DE_OUTPUT_TABLE(X)                                                                                         \
    X(EVENTS, "events.csv", "time_s,event,detail")                                                                 \
    X(ITERATIONS, "iterations.csv", "job,iteration,start_s,compute_s,allreduce_s,end_s,samples_done")              \
    X(TIMELINE, "timeline.csv", "device,device_index,start_s,end_s,state")                                         \
    X(LC_WINDOWS, "lc_windows.csv",                                                                                \
      "start_s,end_s,task,requests,dropped,violations,p50_s,p95_s,p99_s,pct_s,percentile,deadline_s")             \
    X(LC_CDF, "lc_cdf.csv", "task,latency_s,cdf,deadline_s,percentile")                                            \
    X(RANKS, "ranks.csv",                                                                                          \
      "time_s,rank,device,iteration,batch,compute_s,throttle_s,sync_s,mpi_s,pad_s,step_s,loss,cpu_s,rss_kb")

typedef enum de_output {
#define DE_X_OUT(id, name, header) DE_OUT_##id,
    DE_OUTPUT_TABLE(DE_X_OUT)
#undef DE_X_OUT
    DE_OUT_COUNT
} de_output;

const char *de_output_name(de_output o);

/* A device's state in the timeline, the same in sim and run:
 *   train       computing its share of an iteration
 *   sync        waiting for the others and the all-reduce
 *   checkpoint  writing a checkpoint (the job's checkpoint_cost_s in sim)
 *   plan        computing and distributing a new plan (replan_cost_s in sim)
 *   recover     restarting the workers from a checkpoint (restart_cost_s in sim)
 *   down        crashed, until repaired */
#define DE_TL_TABLE(X) X(TRAIN, "train") X(SYNC, "sync") X(CHECKPOINT, "checkpoint") X(PLAN, "plan") \
    X(RECOVER, "recover") X(DOWN, "down")

typedef enum de_tl_state {
    DE_TL_OFF = -1, /* not in the job, nothing to draw */
#define DE_X_TL(id, name) DE_TL_##id,
    DE_TL_TABLE(DE_X_TL)
#undef DE_X_TL
    DE_TL_COUNT
} de_tl_state;

const char *de_tl_name(de_tl_state s);

/* An output written whole: its rows go to dir/<name>.tmp.<pid> (the temporaries of
 * writers that died are removed first), and de_output_close renames it to dir/<name>, so
 * a reader never finds half a file, even after a SIGKILL. NULL and err (DE_EIO, naming the
 * file) on failure. */
FILE *de_output_open(const char *dir, de_output o, de_err *err);
/* Closes an output of de_output_open (NULL is fine) and puts it in place; DE_EIO naming
 * dir/<name> when anything failed to be written (the temporary is then removed). */
int de_output_close(FILE *f, const char *dir, de_output o, de_err *err);
/* An output followed while it grows (`deepedge run`'s time series): dir/<name> itself,
 * line-buffered, so that each row reaches the file whole in one write and a process
 * killed at any moment leaves complete rows only. Closed with fclose. */
FILE *de_output_open_live(const char *dir, de_output o, de_err *err);

/* One row each; f may be NULL (nothing written). */
void de_output_event(FILE *f, double t, const char *event, const char *detail);
void de_output_iteration(FILE *f, const char *job, long iteration, double start_s, double compute_s,
                         double allreduce_s, double end_s, double samples_done);
void de_output_timeline(FILE *f, const char *device, int index, double start_s, double end_s, de_tl_state st);
typedef struct de_window_row {
    double start_s, end_s;
    const char *task;
    uint64_t requests, dropped, violations;
    double p50_s, p95_s, p99_s, pct_s, percentile, deadline_s; /* NAN when nothing was served */
} de_window_row;
void de_output_window(FILE *f, const de_window_row *w);

#endif
