/* de_profile.c — loaders of the step / lc / allreduce sample traces (see de_profile.h). */
#include "de_profile.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "de_util.h"

enum { S_DEVICE, S_NETWORK, S_BATCH, S_UTIL, S_TIME, S_SD, S_SOURCE, S_NCOLS };
static const de_csv_col k_step_cols[] = {
    {"device", DE_CSV_STRING, 1, 0, 0, NULL, "device type (catalog name)"},
    {"network", DE_CSV_STRING, 1, 0, 0, NULL, "training network (catalog name)"},
    {"batch", DE_CSV_INT, 1, 1, 65536, NULL, "local batch, samples"},
    {"lc_util", DE_CSV_NUMBER, 0, 0, 0.99, "0", "LC utilisation of the device during the step"},
    {"step_time_s", DE_CSV_NUMBER, 1, 1e-9, 1e6, NULL, "s, one training step (forward, backward, update)"},
    {"sd_s", DE_CSV_NUMBER, 0, 0, 1e6, "0", "s, standard deviation of step_time_s (0: unknown, unweighted)"},
    {"source", DE_CSV_STRING, 1, 0, 0, NULL, "publication / benchmark / profiler run; 'derived: ...' if scaled"},
};

enum { L_DEVICE, L_MODEL, L_RATE, L_PCT, L_LAT, L_TNET, L_TBATCH, L_TDUTY, L_SD, L_SOURCE, L_NCOLS };
static const de_csv_col k_lc_cols[] = {
    {"device", DE_CSV_STRING, 1, 0, 0, NULL, "device type (catalog name)"},
    {"model", DE_CSV_STRING, 1, 0, 0, NULL, "LC model (catalog name)"},
    {"rate_rps", DE_CSV_NUMBER, 1, 0, 1e6, NULL, "requests/s, Poisson arrivals"},
    {"percentile", DE_CSV_NUMBER, 1, 1, 99.999, NULL, "%, which latency percentile (50, 95, 99 ...)"},
    {"latency_s", DE_CSV_NUMBER, 1, 1e-9, 1e6, NULL, "s, that percentile of the request latency"},
    {"train_network", DE_CSV_STRING, 0, 0, 0, "", "co-located training network ('' when alone)"},
    {"train_batch", DE_CSV_INT, 0, 0, 65536, "0", "its local batch, samples (0 when alone)"},
    {"train_duty", DE_CSV_NUMBER, 0, 0, 1, "0", "its duty cycle: fraction of time training computes"},
    {"sd_s", DE_CSV_NUMBER, 0, 0, 1e6, "0", "s, standard deviation of latency_s (0: unknown, unweighted)"},
    {"source", DE_CSV_STRING, 1, 0, 0, NULL, "publication / benchmark / profiler run; 'derived: ...' if scaled"},
};

enum { A_LINK, A_N, A_BYTES, A_TIME, A_SD, A_SOURCE, A_NCOLS };
static const de_csv_col k_allreduce_cols[] = {
    {"link", DE_CSV_STRING, 1, 0, 0, NULL, "link class the devices hang off (a label)"},
    {"n_devices", DE_CSV_INT, 1, 2, 1e6, NULL, "devices in the ring"},
    {"bytes", DE_CSV_NUMBER, 1, 1, 1e15, NULL, "bytes all-reduced"},
    {"time_s", DE_CSV_NUMBER, 1, 1e-9, 1e6, NULL, "s, one all-reduce"},
    {"sd_s", DE_CSV_NUMBER, 0, 0, 1e6, "0", "s, standard deviation of time_s (0: unknown, unweighted)"},
    {"source", DE_CSV_STRING, 1, 0, 0, NULL, "publication / benchmark / profiler run; 'derived: ...' if scaled"},
};

static const char *const kind_names[] = {"step", "lc", "allreduce"};

const char *de_profile_kind_name(de_profile_kind k)
{
    return (unsigned)k < 3 ? kind_names[k] : "?";
}

int de_profile_kind_parse(const char *name, de_profile_kind *out)
{
    for (int k = 0; k < 3; k++)
        if (strcmp(name, kind_names[k]) == 0) {
            *out = (de_profile_kind)k;
            return DE_OK;
        }
    return DE_EINVAL;
}

void de_profile_print_formats(FILE *out)
{
    de_csv_print_cols(out, "step traces (training step time)", k_step_cols, S_NCOLS);
    de_csv_print_cols(out, "lc traces (LC latency percentiles)", k_lc_cols, L_NCOLS);
    de_csv_print_cols(out, "allreduce traces (ring all-reduce time)", k_allreduce_cols, A_NCOLS);
}

/* Fills row r of kind from the table; checks what spans cells. */
static int fill_row(de_profile *p, int r, de_err *err)
{
    const de_csv *c = p->csv;
    de_profile_row *row = &p->rows[r];
    row->line = c->line[r];
    int gcol = 0, ecol = 1;
    switch (p->kind) {
    case DE_PROFILE_STEP:
        row->group = de_csv_str(c, r, S_DEVICE);
        row->entry = de_csv_str(c, r, S_NETWORK);
        row->x[0] = de_csv_num(c, r, S_BATCH);
        row->x[1] = de_csv_num(c, r, S_UTIL);
        row->y = de_csv_num(c, r, S_TIME);
        row->sd = de_csv_num(c, r, S_SD);
        row->source = de_csv_str(c, r, S_SOURCE);
        break;
    case DE_PROFILE_LC:
        row->group = de_csv_str(c, r, L_DEVICE);
        row->entry = de_csv_str(c, r, L_MODEL);
        row->x[0] = de_csv_num(c, r, L_RATE);
        row->x[1] = de_csv_num(c, r, L_PCT) / 100.0;
        row->x[2] = de_csv_num(c, r, L_TBATCH);
        row->x[3] = de_csv_num(c, r, L_TDUTY);
        row->train_network = de_csv_str(c, r, L_TNET);
        row->y = de_csv_num(c, r, L_LAT);
        row->sd = de_csv_num(c, r, L_SD);
        row->source = de_csv_str(c, r, L_SOURCE);
        if (row->x[3] > 0 && (row->x[2] < 1 || !row->train_network[0]))
            return de_csv_err(c, r, row->x[2] < 1 ? L_TBATCH : L_TNET, err, DE_EMISSING,
                              "train_duty %g > 0 needs train_network and train_batch >= 1", row->x[3]);
        break;
    case DE_PROFILE_ALLREDUCE:
        row->group = de_csv_str(c, r, A_LINK);
        row->entry = "";
        row->x[0] = de_csv_num(c, r, A_BYTES);
        row->x[1] = de_csv_num(c, r, A_N);
        row->y = de_csv_num(c, r, A_TIME);
        row->sd = de_csv_num(c, r, A_SD);
        row->source = de_csv_str(c, r, A_SOURCE);
        ecol = -1;
        break;
    }
    if (!row->group[0])
        return de_csv_err(c, r, gcol, err, DE_ESYNTAX, "must not be empty");
    if (ecol >= 0 && !row->entry[0])
        return de_csv_err(c, r, ecol, err, DE_ESYNTAX, "must not be empty");
    if (!row->source[0])
        return de_csv_err(c, r, de_csv_col_index(c, "source"), err, DE_ESYNTAX,
                          "must not be empty: every figure cites where it comes from");
    return DE_OK;
}

/* The host a trace was measured on, from the header `deepedge profile` writes:
 * "... measured on this host (CPU, N cores online) ..." in its leading comment lines. */
static void read_host(de_profile *p)
{
    char *text = de_file_read(p->path, NULL);
    const char *key = "measured on this host (", *at = text ? strstr(text, key) : NULL;
    const char *first_row = text ? strstr(text, "\n") : NULL;
    while (first_row && first_row[1] == '#') /* only the comment block at the top */
        first_row = strchr(first_row + 1, '\n');
    if (at && (!first_row || at < first_row)) {
        at += strlen(key);
        const char *end = strstr(at, " cores online)"), *comma = NULL;
        for (const char *q = at; end && q < end; q++)
            if (q[0] == ',' && q[1] == ' ')
                comma = q;
        if (end && comma && comma > at) {
            size_t n = (size_t)(comma - at);
            p->host_cpu = de_calloc(n + 1, 1);
            memcpy(p->host_cpu, at, n);
            p->host_cores = atoi(comma + 2);
        }
    }
    free(text);
}

int de_profile_load(const char *path, de_profile_kind kind, de_profile **out, de_err *err)
{
    *out = NULL;
    static const de_csv_col *const tables[] = {k_step_cols, k_lc_cols, k_allreduce_cols};
    static const int ncols[] = {S_NCOLS, L_NCOLS, A_NCOLS};
    if ((unsigned)kind > 2)
        return de_err_set(err, DE_EINVAL, "%s: unknown trace kind %d", path, (int)kind);
    de_profile *p = de_calloc(1, sizeof *p);
    p->path = de_strdup(path);
    p->kind = kind;
    int rc = de_csv_load(path, tables[kind], ncols[kind], 0, &p->csv, err);
    if (!rc && de_file_checksum(path, &p->checksum))
        rc = de_err_set(err, DE_EIO, "%s: cannot checksum", path);
    if (!rc) {
        p->rows = de_calloc((size_t)p->csv->n_rows, sizeof *p->rows);
        p->n = p->csv->n_rows;
        for (int r = 0; r < p->n && !rc; r++)
            rc = fill_row(p, r, err);
    }
    if (rc) {
        de_profile_destroy(p);
        return rc;
    }
    read_host(p);
    *out = p;
    return DE_OK;
}

void de_profile_destroy(de_profile *p)
{
    if (!p)
        return;
    de_csv_destroy(p->csv);
    free(p->host_cpu);
    free(p->rows);
    free(p->path);
    free(p);
}

int de_profile_select(const de_profile *p, const char *group, const char *entry, int *idx)
{
    int n = 0;
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->rows[i].group, group) == 0 && (!entry || strcmp(p->rows[i].entry, entry) == 0))
            idx[n++] = i;
    return n;
}

int de_profile_pairs(const de_profile *p, const char **groups, const char **entries)
{
    int n = 0;
    for (int i = 0; i < p->n; i++) {
        int seen = 0;
        for (int k = 0; k < n && !seen; k++)
            seen = strcmp(groups[k], p->rows[i].group) == 0 && strcmp(entries[k], p->rows[i].entry) == 0;
        if (!seen) {
            groups[n] = p->rows[i].group;
            entries[n] = p->rows[i].entry;
            n++;
        }
    }
    return n;
}
