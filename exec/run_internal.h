/* run_internal.h — the coordinator of `deepedge run`, private to exec/: its state and
 * the functions its files share (de_run.h is the public side).
 *
 * One file per concern, each using only those listed after it (no file calls back up):
 *   run_main.c       open, the main loop, close (one cleanup path)
 *   run_recover.c    changes of the world through core's change table and re-plan rule;
 *                    failures, voluntary switches and restarts
 *   run_setup.c      options, the plan, the dataset cache, CPU budgets, the listening port
 *   run_proc.c       child processes: workers through mpiexec, LC services, their supervision
 *   run_intake.c     connections and the lines they send (one handler per message kind)
 *   run_netns.c      network namespaces as hosts, links shaped with tc (--links netns)
 *   run_live.c       the live display and the Prometheus endpoint
 *   run_report.c     the output files (record/), the summary, the figures
 *   run_log.c        the clock, the event log, the ends of the children's logs */
#ifndef RUN_INTERNAL_H
#define RUN_INTERNAL_H

#include <cjson/cJSON.h>
#include <stdio.h>
#include <sys/types.h>

#include "de_change.h"
#include "de_correct.h"
#include "de_emulate.h"
#include "de_hist.h"
#include "de_outputs.h"
#include "de_plan.h"
#include "de_predictor.h"
#include "de_replan.h"
#include "de_run.h"
#include "de_scenario.h"
#include "de_stage.h"
#include "de_state.h"
#include "de_wire.h"

#define RUN_MAX_CONN 1024

/* Why the workers were asked to stop. */
typedef enum run_stop { RUN_STOP_NONE, RUN_STOP_USER, RUN_STOP_SWITCH } run_stop;

/* One TCP connection: a worker rank or an LC service. */
typedef struct run_conn {
    int fd;
    de_wire_reader rd; /* its lines */
    int rank;          /* worker rank of the current launch, -1 otherwise */
    int task;          /* LC task, -1 otherwise */
    int launch;        /* launch the worker belongs to */
    int bye;           /* it said goodbye: its closing is no failure */
    int refused;       /* lines refused (unknown, malformed, out of range, not its to send) */
    int authed;        /* answered the challenge with the run secret */
    char nonce[2 * DE_WIRE_NONCE_BYTES + 1]; /* its challenge */
    double opened_t;   /* when it was accepted (an unauthenticated one is closed after 10 s) */
} run_conn;

/* An LC service. */
typedef struct run_task {
    pid_t pid;
    int conn;          /* connection index, -1 */
    int down;          /* its device is down: stopped */
    int restarts;      /* times the coordinator restarted it after it died */
    de_hist all, alone, win;
    long n, late, win_late;
    long failed;       /* requests an observed service failed (counted late too) */
    double dropped, win_dropped;  /* requests that arrived while its device was down (rate x time) */
    double dropped_until;         /* ... accounted up to this time */
    double svc_sum, svc_alone_sum; /* forward-pass time alone, next to training */
    de_hist cor;                  /* the online correction's observation (de_correct.h): latencies since */
    double cor_svc;               /* its last one, their service times, how many */
    long cor_n;
    double cpu_s;                 /* from its lcstat lines */
    long rss_kb;
    char *log;
} run_task;

/* A file transfer of --stage, served by a child process. */
typedef struct run_xfer {
    pid_t pid;
    int put;           /* rank 0's file in; else a file out */
    long g;            /* put: its global step */
    long long bytes;   /* its size */
    double t0;
    char what[96];
} run_xfer;

/* A device. */
typedef struct run_dev {
    char *cgroup;          /* cgroup directory, NULL */
    int rank;              /* rank in the current launch, -1 */
    int batch;
    double compute, throttle, sync, step, cpu_s;
    long rss_kb;
    double sum_compute, sum_sync, sum_step, batch_sum;
    long iters;
    long last_g;           /* last iteration it reported in the current launch */
    double down_since;     /* NAN: up */
    long pid;              /* its worker in the current launch (from hello), 0 */
    int capacity;          /* the largest batch its worker can take in place (DE_WORKER_CAPACITY) */
    char backend[8];       /* cpu | cuda, as the worker chose */
    double time_s[DE_TL_COUNT]; /* its timeline, summed by state */
} run_dev;

typedef struct run {
    const de_run_opts *o;
    FILE *out;
    de_scenario *s;
    int job;
    de_state st;
    de_predictor pred;
    de_corrector cor;              /* the online correction of the models (planner.correction) */
    de_plan plan;                  /* the plan the workers run */
    de_plan pending;               /* a switch decided, carried out at the workers' next stop */
    int has_pending;
    de_plan reshare;               /* a reshare decided, sent to rank 0, not yet taken (has_reshare) */
    int has_reshare;
    double reshare_t;              /* ... when it was decided */
    de_plan before;                /* the shares before the last reshare taken, ... */
    long reshare_from;             /* ... for the iterations before this one (0: no reshare in this launch) */
    long reshares;                 /* reshares taken, and the time from decision to taken, summed */
    double reshare_s_sum;
    char *exe, *cache, *run_id, *cg_run;
    char *plan_path, *resume;      /* the current launch's plan file and checkpoint */
    de_budget_mode budget;
    double t0;                     /* de_now_s at start */
    int lfd, port;
    int mfd;                       /* Prometheus endpoint (-1: none) */
    char report[300];
    run_conn *conns;               /* [RUN_MAX_CONN] */
    int n_conns;
    run_task *tasks;
    run_dev *devs;
    /* every change: the scenario's, then --inject's, then the rate traces' rows */
    de_change *changes;
    int n_changes;
    char *inbox;                   /* OUT/inbox: the operator's changes (run_read_inbox) */
    long long inbox_pos;           /* bytes of it read */
    unsigned char *fired;
    /* the current launch */
    pid_t mpi_pid;
    int launch;
    int rank_up;                   /* ranks connected */
    double launch_t, first_iter_t;
    double progress_t;             /* when the job last completed an iteration */
    int killed_stalled;            /* this launch was killed for not starting */
    long g_done, g_total, g_ckpt, g_launch;
    int done, stopped, crashed_dev, fail_dev;
    int done_seen;                 /* rank 0's `done` of this launch came (one is taken) */
    double fail_t;                 /* when the launch ended early (a failure, a stop) */
    double lost_t;                 /* when the launch was first seen failing (a crash line, a worker gone) */
    double plan_s;                 /* the planning time of the coming relaunch */
    run_stop stop;                 /* a stop requested from the workers */
    int stop_delivered;            /* "stop" written to rank 0 (it may connect after the request) */
    int waiting;                   /* no device can take the job: waiting for a change */
    char stop_cause[32];           /* the change kind behind a switch */
    char plan_error[512];          /* the policy failed on a change: the run stops with this */
    double last_loss, val_acc, val_loss;
    double train_start_t;
    /* outcome */
    int restarts, switches, failures;
    long lost_iters, iters_run;
    double lost_s, recovery_s_sum, ckpt_s_sum, planning_s_sum;
    cJSON *events, *recoveries;
    long refused;                  /* lines refused by the intake, all connections */
    long auth_refused;             /* connections closed for not proving the run secret */
    char secret[2 * DE_WIRE_SECRET_BYTES + 1]; /* the run secret (de_wire.h), hex */
    struct { const char *kind; long n; } event_count[32]; /* events per kind (repeats past a bound are counted only) */
    int n_event_kinds;
    double *decision_t;
    char **decision_line;
    int n_decisions;
    /* per-iteration aggregates for iterations.csv */
    double *it_start, *it_end, *it_compute;
    double *it_allreduce;          /* the shortest all-reduce (mpi + pad) a rank saw: the all-reduce itself */
    int *it_ranks;
    FILE *f_ranks, *f_timeline, *f_windows, *f_events;
    double win_start;
    double cor_start;              /* the last hand-over to the correction (DE_CORRECT_PERIOD_S) */
    double next_draw;
    int tty;
    /* --stage */
    de_stage stage;                /* the manifest of the current launch */
    run_xfer *xfers;               /* transfers in flight */
    int n_xfers;
    struct { long manifests, sent, received, failed; long long sent_bytes, received_bytes; } staged; /* transfers done */
    /* --links netns */
    int netns;
    char ns_prefix[16], ns_subnet[32];
    char *ns_args;                 /* mpiexec arguments from netns-hosts.sh, without --hostfile */
} run;

/* run_main.c: a coordinator's life. run_open does everything that starts no process and
 * opens no port (the scenario, the options, the output files, the plan, the dataset
 * cache); run_free releases what run_init and run_open made, whatever step failed. */
void run_init(run *r, const de_run_opts *o, FILE *out);
int run_open(run *r, de_err *err);
void run_free(run *r);

/* run_log.c */
double run_rel(const run *r);
/* An event: events.csv, the summary's events, stderr; past EVENTS_PER_KIND of a kind,
 * counted only, and run_event_tally writes how many were not. */
void run_event(run *r, const char *kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void run_event_tally(run *r);
const char *run_tail_of(const char *path, char *buf, size_t n);
const char *run_head_of(const char *path, char *buf, size_t n);

/* run_setup.c */
int run_check_opts(run *r, de_err *err);
int run_load_plan(run *r, de_err *err);
int run_prepare_dataset(run *r, de_err *err);
int run_setup_budgets(run *r, de_err *err);
int run_listen(run *r, de_err *err);
int run_write_plan(run *r, int k, de_err *err);

/* run_proc.c */
pid_t run_spawn(char *const argv[], const char *log, de_err *err);
void run_stop_child(pid_t pid, int sig, double grace);
int run_start_lc(run *r, int ti, de_err *err);
void run_supervise_lc(run *r);
void run_stop_device_lc(run *r, int d);
int run_launch(run *r, de_err *err);
void run_stop_children(run *r);
double run_pad_seconds(const run *r);

/* run_stage.c */
/* The manifest of a launch: the scenario's files, the catalog's, the plan, the dataset
 * cache, the checkpoint it resumes from. */
int run_stage_manifest(run *r, de_err *err);
/* A `fetch` or `put` line on a fresh connection: the connection is handed to a child that
 * serves it, and is no longer the coordinator's. Returns why it is refused, or NULL. */
const char *run_stage_transfer(run *r, run_conn *c, de_msg m, const char *line);
/* Transfers that ended: reaped, each an event. */
void run_stage_reap(run *r);
/* Transfers still running: stopped (at the end of a run). */
void run_stage_stop(run *r);
/* A path on the command line of a process the run starts: absolute under --stage (the
 * name of the coordinator's file, which the process maps into its stage folder), else as
 * it is. Owned by the caller. */
char *run_stage_arg(const run *r, const char *path);

/* run_netns.c */
int run_netns_up(run *r, de_err *err);
int run_netns_shape(run *r, de_err *err);
void run_netns_down(run *r);
/* Removes the namespaces of coordinators that died (dr<PID>x<i> with no process PID). */
int run_netns_sweep(run *r);

/* run_intake.c */
void run_pump(run *r, int timeout_ms);
/* A connected socket taken as a new connection of the current launch, nobody until its
 * first line (NULL, fd closed: no free slot). */
run_conn *run_adopt(run *r, int fd);
run_conn *run_rank_conn(run *r, int rank);
void run_send_ranks(run *r, de_msg m, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void run_send_task(run *r, int ti, de_msg m, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* run_live.c */
void run_draw(run *r);
void run_serve_metrics(run *r);

/* run_recover.c */
void run_arm_changes(run *r);
void run_apply_due_changes(run *r);
/* Every DE_CORRECT_PERIOD_S: the online correction's observations (de_correct.h); a `model`
 * change through the re-plan rule when the models moved or a percentile crossed. */
void run_correct(run *r);
/* New lines of the operator's inbox (OUT/inbox), armed as changes. */
void run_read_inbox(run *r);
int run_after_launch(run *r, int status, int *completed, de_err *err);
int run_wait_for_plan(run *r, de_err *err);

/* run_report.c */
int run_open_outputs(run *r, de_err *err);
void run_timeline(run *r, int d, double t0, double t1, de_tl_state st);
void run_account_dropped(run *r, int ti, double now);
void run_window_flush(run *r, double now);
void run_record_decision(run *r, const de_decision *d, const de_change *c);
int run_finish(run *r, double train_s, int completed, int interrupted, int failed, cJSON **summary, de_err *err);
void run_close_outputs(run *r);

#endif
