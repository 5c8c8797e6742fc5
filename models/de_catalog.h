/* de_catalog.h — the device catalog: networks, LC inference models and device types.
 *
 * A catalog is a directory holding networks.cfg (the training networks and the
 * LC inference models, by name) and devices/<type>.cfg, one file per device type,
 * with the parameters of the model forms of de_model.h. Every parameter group
 * carries a non-empty `source`: the paper or public benchmark it comes from, or
 * "estimate: <how it was derived>". The loader validates every key (type, range,
 * references between files) and names file:line:key on error. */
#ifndef DE_CATALOG_H
#define DE_CATALOG_H

/* The period of an emulated type's CPU budget: deepedge run gives the type
 * emulation_cpu_cores x this many seconds of CPU per period (a cgroup's quota,
 * exec/de_emulate.h), and the LC model predicts the throttling that makes (de_budget). */
#define DE_EMU_PERIOD_S 0.010

#include <stdio.h>

#include "de_conf.h"
#include "de_error.h"
#include "de_links.h"

/* A training network (what an update job trains). */
typedef struct de_network {
    char *name;
    char *description;
    double parameters;            /* all parameters (count) */
    double trainable_parameters;  /* parameters updated by fine-tuning (count) */
    double gradient_bytes;        /* all-reduced per iteration: 4 B x trainable (fp32) */
    double checkpoint_bytes;      /* weights + momentum: 4 B x (parameters + trainable) */
    double forward_flops;         /* one image's forward pass, FLOP (2 per multiply-add) */
    char *architecture;           /* the executor's built-in network (train/de_net.h) */
    char *freeze;                 /* layers the executor does not update ("": none) */
    char *source;
} de_network;

/* An LC inference model (what a latency-critical task serves). */
typedef struct de_lc_model {
    char *name;
    char *description;
    double forward_flops;  /* one request's forward pass at batch 1, FLOP */
    char *architecture;    /* the executor's built-in network its LC service runs */
} de_lc_model;

/* Quality of the fit an entry comes from (points 0: not fitted, hand-set). */
typedef struct de_fit_quality {
    int points;
    double r2;       /* NAN when not fitted */
    double cv_mape;  /* %, NAN when not fitted */
} de_fit_quality;

/* Training step time of one network on one device type: t(b) = overhead_s + per_sample_s * b. */
typedef struct de_train_params {
    int network;          /* index into catalog networks */
    double overhead_s;    /* fixed cost per step (launches, optimizer), s */
    double per_sample_s;  /* marginal cost per sample, s */
    int max_batch;        /* largest local batch that fits in memory */
    char *source;
    de_fit_quality fit;
} de_train_params;

/* Batch-1 inference service time of one LC model on one device type, running alone. */
typedef struct de_infer_params {
    int model;            /* index into catalog lc_models */
    double service_s;     /* mean service time alone, s */
    double scv;           /* squared coefficient of variation of the service time */
    char *source;
    de_fit_quality fit;
} de_infer_params;

/* Interference between training and LC inference on one device type (see de_model.h). */
typedef struct de_interference {
    double lc_inflation;       /* LC service time x (1 + lc_inflation * duty) */
    double blocking_fraction;  /* + duty * blocking_fraction * (per_sample_s * b): waiting on a training kernel */
    double train_slowdown;     /* step time x (1 + colocation_slowdown + train_slowdown * u / (1 - u)), */
    double colocation_slowdown;/* u = LC utilisation > 0 (de_model_step_time) */
    char *source;
    de_fit_quality fit;          /* of lc_inflation / blocking_fraction */
    de_fit_quality slowdown_fit; /* of train_slowdown / colocation_slowdown */
} de_interference;

typedef struct de_device_type {
    char *name;
    char *description;
    char *kind;           /* "jetson", "gpu" or "cpu" */
    double memory_gb;
    double emulation_cpu_cores; /* deepedge run: CPU budget when emulated on one host (0: physical),
                                 * per DE_EMU_PERIOD_S */
    char *measured_cpu;   /* the host its fitted entries were measured on (NULL: not known) */
    int measured_cores;   /* that host's online cores (0: not known) */
    char *source;         /* hardware facts */
    char *file;           /* the file it was read from */
    de_interference interference;
    de_train_params *train;
    int n_train;
    de_infer_params *infer;
    int n_infer;
} de_device_type;

typedef struct de_catalog {
    char *dir;
    de_network *networks;
    int n_networks;
    de_lc_model *lc_models;
    int n_lc_models;
    de_device_type *types;   /* sorted by name */
    int n_types;
    de_link_class *link_classes; /* links/ *.cfg (optional), sorted by name */
    int n_link_classes;
    char **files;            /* every file it was read from (networks.cfg, devices/ *.cfg, links/ *.cfg) */
    int n_files;
} de_catalog;

/* Loads the catalog in dir (networks.cfg + devices/ *.cfg). On success *out is owned
 * by the caller (de_catalog_destroy). On failure *out is NULL and err says where. */
int de_catalog_load(const char *dir, de_catalog **out, de_err *err);
void de_catalog_destroy(de_catalog *cat);

/* Index lookups by name; -1 when absent. */
int de_catalog_link_class(const de_catalog *cat, const char *name);
int de_catalog_network(const de_catalog *cat, const char *name);
int de_catalog_lc_model(const de_catalog *cat, const char *name);
int de_catalog_type(const de_catalog *cat, const char *name);

/* Parameters of a (type, network) / (type, model) pair; NULL when the catalog has none. */
const de_train_params *de_catalog_train(const de_catalog *cat, int type, int network);
const de_infer_params *de_catalog_infer(const de_catalog *cat, int type, int model);

/* Prints the catalog as a table (one row per type and network / model), with sources. */
void de_catalog_print(const de_catalog *cat, FILE *out);

/* Prints the key tables of the catalog files (documentation). */
void de_catalog_print_keys(FILE *out);

/* Loads one device-type file against cat's networks and LC models, with every check
 * of de_catalog_load (the name must match the file name). *out is owned by the
 * caller (de_catalog_type_destroy). */
int de_catalog_load_type(const de_catalog *cat, const char *path, de_device_type **out, de_err *err);
void de_catalog_type_destroy(de_device_type *t); /* NULL is a no-op */

/* One fit to merge into a device-type file (see de_catalog_merge_fit). */
typedef struct de_catalog_fit {
    const char *kind;            /* "step" or "lc" */
    const char *entry;           /* network (step) or LC model (lc) */
    int n;                       /* parameters of the kind, in de_fit order */
    const char *const *names;
    const double *value;         /* [n] fitted or fixed values */
    const double *se;            /* [n] standard errors of the free ones */
    const int *free;             /* [n] 1 fitted, 0 fixed, 2 held by the fit (at a bound, or not
                                  * identifiable): its value is written, it is not a fitted param */
    const char *trace;           /* path as recorded */
    unsigned long long checksum; /* FNV-1a 64 of the trace */
    const char *form;
    int points, dof, folds;
    double r2, mape, cv_mape;
    const char *date;            /* YYYY-MM-DD */
    const char *data;            /* the sources of the rows fitted, for the entry's source */
    int max_batch;               /* step: max_batch of a train entry that does not exist yet */
    const char *host_cpu;        /* the trace's host (its header), NULL: unknown; written as measured_cpu */
    int host_cores;
} de_catalog_fit;

/* Reads the device-type file in_path, replaces what the fit produced and writes
 * the result to out_path (may be the same file): the fitted parameters, the entry's
 * `source` ("deepedge fit ... Before the fit: <the source it had before its first
 * fit>") and its `fit` record (interference: `fit` for lc_inflation /
 * blocking_fraction, `slowdown_fit` for train_slowdown). Every other setting keeps
 * its value; the file's leading comment block is kept, other comments are not.
 * A train / infer entry missing for the fitted network / model is added. The
 * result is not validated here: load it with de_catalog_load_type. */
int de_catalog_merge_fit(const char *in_path, const char *out_path, const de_catalog_fit *fit, de_err *err);

/* Range [min, max] of a float parameter of train / infer / interference entries
 * (e.g. "per_sample_s"), as the loader enforces it; DE_EINVAL if there is none. */
int de_catalog_param_range(const char *name, double *min, double *max);

#endif
