/* de_scenario.h — a scenario: the edge cluster, its LC tasks, the update jobs,
 * planner options and faults, loaded from a libconfig file and fully validated.
 *
 * The format is documented in scenarios/README.md and by `deepedge scenario keys`
 * (printed from the key tables in de_scenario.c). All quantities are stored in SI
 * units (s, bytes/s, requests/s) whatever unit the file uses. A loaded scenario is
 * immutable; the changing part of the world (devices up/down, current LC rates,
 * job progress) lives in de_state (de_state.h). */
#ifndef DE_SCENARIO_H
#define DE_SCENARIO_H

#include <stdint.h>
#include <stdio.h>

#include "de_catalog.h"
#include "de_change.h"
#include "de_error.h"
#include "de_policy.h"
#include "de_trace.h"

typedef struct de_link {
    char *name;
    double bandwidth_Bps;   /* bytes/s */
    double latency_s;       /* one way, device to switch */
    int cls;                /* a measured link class of the catalog (catalog->link_classes), -1: none;
                             * then bandwidth and latency are its pooled fit, and an all-reduce over
                             * devices all on links of this class takes its fit at that rank count */
} de_link;

typedef struct de_device {
    char *name;
    int type;               /* index into catalog->types */
    int link;               /* index into links */
    char *host;             /* its host for `deepedge run --hosts` (NULL: none) */
} de_device;

/* An existing service an LC task stands for (lc_tasks.[i].service): `deepedge run`
 * observes it instead of serving the task's model; the planner and the simulator still
 * predict it as the model. */
typedef enum de_lc_service_kind {
    DE_LC_SVC_NONE = 0, /* deepedge serves the model itself */
    DE_LC_SVC_HTTP,     /* deepedge sends GET path to address at the task's rate, times each reply */
    DE_LC_SVC_TCP,      /* deepedge sends the request line to address, times the reply line */
    DE_LC_SVC_LOG,      /* the service's latency log, read as it grows */
    DE_LC_SVC_METRICS   /* the service's Prometheus latency histogram, scraped */
} de_lc_service_kind;

typedef struct de_lc_service {
    de_lc_service_kind kind;
    char *address;      /* probes: HOST:PORT */
    char *path;         /* http: the path; metrics: the URL */
    char *request;      /* tcp: the line sent */
    char *log;          /* log: the file (resolved) */
    int column;         /* log: 1-based column of the latency */
    double unit_s;      /* log: seconds per unit */
    char *histogram;    /* metrics: the histogram's name */
    double interval_s;  /* metrics: scrape period; log: read period */
    char *pid_file;     /* the service's pid, for its device's CPU budget (NULL: none) */
} de_lc_service;

/* "probe http", "log", ... ("" for none). */
const char *de_lc_service_kind_name(de_lc_service_kind k);

typedef struct de_lc_task {
    char *name;
    int device;             /* index into devices */
    int model;              /* index into catalog->lc_models */
    double rate;            /* constant rate, req/s (when trace is NULL) */
    de_rate_trace *trace;   /* or a rate trace (owned) */
    double deadline_s;
    double percentile;      /* fraction in (0,1), e.g. 0.95 */
    de_lc_service svc;      /* deepedge run: an existing service to observe (kind NONE: serve the model) */
} de_lc_task;

typedef struct de_job {
    char *name;
    int network;            /* index into catalog->networks */
    long long dataset_size; /* samples per epoch */
    int epochs;
    int global_batch;       /* B: fixed, the plan splits it */
    double arrival_s;
    int checkpoint_interval;   /* iterations between checkpoints */
    double checkpoint_cost_s;  /* time to write one checkpoint */
} de_job;

typedef struct de_planner_opts {
    de_policy policy;
    double safety_margin;   /* LC latency must stay <= deadline * (1 - margin) */
    int fastest_k;          /* fastest-k: k (0 = the k with the best predicted time) */
    /* The re-plan rule (de_replan.h), the same in sim and run: */
    double switch_gain;     /* switch when the new plan is predicted this fraction faster, costs included */
    double replan_cost_s;   /* time to compute and distribute a plan */
    double restart_cost_s;  /* time to restart the workers from a checkpoint; < 0: the job's checkpoint_cost_s */
    double ext_timeout_s;   /* an external policy (ext:COMMAND): longest wait for each of its messages */
    /* The online correction of the models (de_correct.h), the same in sim and run: */
    int correction;         /* on */
    double correction_forget;    /* weight of the past per observation, (0, 1] */
    double correction_threshold; /* relative change of a factor that is applied and re-planned on */
} de_planner_opts;

/* How far the world is from the catalog (a what-if of `deepedge sim`, de_correct.h): the
 * true step time, LC service time and link bandwidth are the catalog's times these
 * factors, each x (1 + drift_per_h x hours since the start). Applies to one device, every
 * device of a type, or one link. */
typedef struct de_model_error {
    int device, type, link; /* what it applies to (the others -1) */
    double step, lc, bandwidth, drift_per_h;
} de_model_error;

/* How `deepedge run` executes the scenario's first job (the `exec` group). */
typedef struct de_exec_spec {
    int present;            /* the group is there (run refuses scenarios without it) */
    char *dataset;          /* Caltech-layout folder, resolved against the scenario's directory */
    char *weights;          /* initial weights (resolved likewise), NULL: from seed */
    int synthesize;         /* generate a synthetic folder there if missing */
    int synth_classes, synth_per_class;
    int image_size;         /* stored size; 0: 9/8 of the network input */
    double val_frac;
    double lr;
    uint64_t seed;
    int augment;
    int threads;            /* kernel threads per worker and per LC service */
    char backend[8];        /* "auto", "cpu" or "cuda" */
} de_exec_spec;

typedef struct de_scenario {
    char *path;
    char *name;
    char *description;
    char *catalog_dir;
    de_catalog *catalog;    /* owned */
    de_link *links;
    int n_links;
    de_device *devices;
    int n_devices;
    de_lc_task *tasks;
    int n_tasks;
    int *dev_task_start;    /* tasks on device d: dev_tasks[dev_task_start[d] .. dev_task_start[d+1]) */
    int *dev_tasks;
    de_job *jobs;
    int n_jobs;
    de_change *changes;     /* the `faults` (and `fault_trace`) as changes, a repair after its fault */
    int n_changes;
    de_planner_opts planner;
    de_model_error *model_errors; /* the `model_error` list (sim draws from that world) */
    int n_model_errors;
    de_exec_spec exec;
    uint64_t checksum;      /* FNV-1a of the file's bytes */
    char **inputs;          /* the files it reads besides the catalog's: itself (when loaded from a file), rate
                             * and fault traces, exec.weights (what `run --stage` copies to the hosts) */
    int n_inputs;
    struct de_strmap *link_ix, *device_ix, *task_ix, *job_ix; /* name -> index */
} de_scenario;

/* Loads and validates a scenario file. The catalog is, in this order: catalog_dir if
 * not NULL, the scenario's `catalog` key (relative to the scenario file), or the
 * built-in catalog (DE_DEFAULT_CATALOG). On failure *out is NULL and err names
 * file:line:key. */
int de_scenario_load(const char *path, const char *catalog_dir, de_scenario **out, de_err *err);
/* The same from text in memory; name stands for the file path in messages and for
 * resolving relative paths (its directory), the checksum is that of the text. */
int de_scenario_load_text(const char *text, const char *name, const char *catalog_dir, de_scenario **out,
                          de_err *err);
/* The same from a configuration already read (de_conf_read) and changed in memory
 * (deepedge sweep's grid points): messages name the file and line each setting was read
 * from (one added in memory: its group's); the checksum is that of de_conf_write's text. */
int de_scenario_load_config(config_t *cfg, const char *name, const char *catalog_dir, de_scenario **out,
                            de_err *err);
void de_scenario_destroy(de_scenario *s);

/* Index by name, -1 if absent. */
int de_scenario_device(const de_scenario *s, const char *name);
int de_scenario_job(const de_scenario *s, const char *name);

/* Prints the resolved scenario (every value, defaults included, with units). */
void de_scenario_print(const de_scenario *s, FILE *out);

/* Prints the key tables of the scenario format (documentation). */
void de_scenario_print_keys(FILE *out);

/* The key-table entry of a scenario key path: group names and list elements as [N] or [*]
 * (lc_tasks.[0].rate, planner.safety_margin; deepedge sweep --vary). NULL when the format
 * has no such key or the path ends at an element of a list. *table and *n (when not NULL)
 * get the table of the group the path's last part was looked up in (NULL, 0 when the path
 * leaves the format before it), for messages listing the keys there. */
const de_key *de_scenario_key(const char *path, const de_key **table, size_t *n);

/* The restart cost of job j under the planner options (restart_cost_s, or the job's
 * checkpoint cost when that is < 0). */
double de_scenario_restart_cost(const de_scenario *s, const de_planner_opts *o, int job);

#endif
