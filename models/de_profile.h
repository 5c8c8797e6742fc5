/* de_profile.h — measured performance samples to fit the models to (CSV traces,
 * read with de_csv.h; formats documented in traces/README.md).
 *
 * Three kinds, one row per measurement, each with a `source` (who measured it and
 * where it was published, or "derived: ..." when scaled from another figure) and an
 * optional `sd_s` (standard deviation of the measured time; when given, the fit
 * weights the row by 1/sd_s^2):
 *   step       device,network,batch,lc_util,step_time_s,sd_s,source
 *              training step time of a local batch, with the device's LC utilisation
 *              (0 = training alone).
 *   lc         device,model,rate_rps,percentile,latency_s,train_network,train_batch,
 *              train_duty,sd_s,source
 *              an LC latency percentile (percentile in %, e.g. 95) at a Poisson
 *              request rate, with training of train_network at local batch
 *              train_batch and duty cycle train_duty co-located (duty 0 = alone;
 *              then the train_* cells may be empty / 0).
 *   allreduce  link,n_devices,bytes,time_s,sd_s,source
 *              ring all-reduce time of `bytes` over n_devices devices on a link class.
 * A trace may hold rows of many devices / entries: a fit selects one (device,
 * entry) pair (for allreduce: one link). */
#ifndef DE_PROFILE_H
#define DE_PROFILE_H

#include <stdint.h>
#include <stdio.h>

#include "de_csv.h"
#include "de_error.h"

typedef enum de_profile_kind { DE_PROFILE_STEP, DE_PROFILE_LC, DE_PROFILE_ALLREDUCE } de_profile_kind;

/* One measurement. Strings are borrowed from the profile. */
typedef struct de_profile_row {
    int line;                   /* line in the trace */
    const char *group;          /* device type (step, lc) or link class (allreduce) */
    const char *entry;          /* network (step), LC model (lc); "" for allreduce */
    /* step: x[0] batch, x[1] lc_util
     * lc: x[0] rate_rps, x[1] percentile as a fraction, x[2] train_batch, x[3] train_duty
     * allreduce: x[0] bytes, x[1] n_devices */
    double x[4];
    const char *train_network;  /* lc: the co-located training network ("" when alone) */
    double y;                   /* the measured time, s */
    double sd;                  /* its standard deviation, s (0: not given) */
    const char *source;
} de_profile_row;

typedef struct de_profile {
    char *path;
    uint64_t checksum;          /* FNV-1a 64 of the file's bytes */
    de_profile_kind kind;
    int n;
    de_profile_row *rows;
    de_csv *csv;                /* owns the strings */
    char *host_cpu;             /* "measured on this host (CPU, N cores online)" of the header; NULL: absent */
    int host_cores;
} de_profile;

int de_profile_load(const char *path, de_profile_kind kind, de_profile **out, de_err *err);
void de_profile_destroy(de_profile *p); /* NULL is a no-op */

/* "step", "lc", "allreduce" <-> kind; parse returns DE_EINVAL for an unknown name. */
const char *de_profile_kind_name(de_profile_kind k);
int de_profile_kind_parse(const char *name, de_profile_kind *out);

/* Indices of the rows of (group, entry) into idx (capacity p->n); returns the
 * count. entry NULL matches any entry. */
int de_profile_select(const de_profile *p, const char *group, const char *entry, int *idx);

/* Distinct (group, entry) pairs in file order into groups/entries (capacity p->n,
 * borrowed strings); returns the count. */
int de_profile_pairs(const de_profile *p, const char **groups, const char **entries);

/* Prints the column tables of the three kinds (documentation). */
void de_profile_print_formats(FILE *out);

#endif
