/* de_generate.c — random scenarios from the catalog (see de_generate.h). */
#include "de_generate.h"

#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "de_model.h"
#include "de_scenario.h"
#include "de_util.h"

typedef struct gen_link {
    const char *name;
    double mbps, ms;
} gen_link;

/* Typical edge links: switched Ethernet and Wi-Fi (802.11ac / n), nominal figures. */
static const gen_link links[] = {
    {"eth-10g", 10000.0, 0.05},
    {"eth-1g", 1000.0, 0.2},
    {"wifi-ac", 400.0, 2.0},
    {"wifi-n", 100.0, 5.0},
};

void de_gen_opts_default(de_gen_opts *o)
{
    memset(o, 0, sizeof *o);
    o->devices = 8;
    o->lc_tasks = -1;
    o->seed = 1;
    o->safety_margin = 0.1;
}

static int pick_link(gsl_rng *r, const char *kind)
{
    double u = gsl_rng_uniform(r);
    if (strcmp(kind, "jetson") == 0)
        return u < 0.5 ? 1 : (u < 0.85 ? 2 : 3);
    return u < 0.4 ? 0 : (u < 0.9 ? 1 : 2);
}

int de_generate(const de_catalog *cat, const de_gen_opts *o, FILE *out, de_err *err)
{
    if (o->devices < 1)
        return de_err_set(err, DE_EINVAL, "--devices must be >= 1");
    int ntasks = o->lc_tasks < 0 ? o->devices / 2 : o->lc_tasks;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, o->seed);

    int net;
    if (o->network) {
        net = de_catalog_network(cat, o->network);
        if (net < 0) {
            gsl_rng_free(r);
            return de_err_set(err, DE_EINVAL, "unknown network '%s' in catalog %s", o->network, cat->dir);
        }
    } else {
        net = (int)gsl_rng_uniform_int(r, (unsigned long)cat->n_networks);
    }
    int B = o->global_batch;
    if (B <= 0) {
        static const int sizes[] = {32, 64, 128, 256};
        B = sizes[gsl_rng_uniform_int(r, 4)];
    }
    long long dataset = 30607; /* Caltech-256 image count */
    if (B > dataset)
        dataset = B;
    int epochs = 1 + (int)gsl_rng_uniform_int(r, 5);

    /* Physical device types only: emulated ones (emulation_cpu_cores > 0) describe slices
     * of the host that runs `deepedge run`, not edge hardware. */
    int *phys = de_calloc((size_t)cat->n_types + 1, sizeof(int)), n_phys = 0;
    for (int k = 0; k < cat->n_types; k++)
        if (!(cat->types[k].emulation_cpu_cores > 0))
            phys[n_phys++] = k;
    if (n_phys == 0) {
        free(phys);
        gsl_rng_free(r);
        return de_err_set(err, DE_EINVAL, "catalog %s has no physical device type", cat->dir);
    }
    int *type = de_calloc((size_t)o->devices, sizeof(int)), *link = de_calloc((size_t)o->devices, sizeof(int));
    for (int d = 0; d < o->devices; d++) {
        type[d] = phys[gsl_rng_uniform_int(r, (unsigned long)n_phys)];
        link[d] = pick_link(r, cat->types[type[d]].kind);
    }
    /* LC tasks: device, model, rate (utilisation share), percentile. */
    int *tdev = de_calloc((size_t)ntasks + 1, sizeof(int)), *tmodel = de_calloc((size_t)ntasks + 1, sizeof(int));
    double *trate = de_calloc((size_t)ntasks + 1, sizeof(double)), *tpct = de_calloc((size_t)ntasks + 1, sizeof(double));
    double *tdead = de_calloc((size_t)ntasks + 1, sizeof(double));
    double *util = de_calloc((size_t)o->devices, sizeof(double));
    static const double pcts[] = {90, 95, 95, 99};
    for (int t = 0; t < ntasks; t++) {
        int d = (int)gsl_rng_uniform_int(r, (unsigned long)o->devices);
        const de_device_type *dt = &cat->types[type[d]];
        const de_infer_params *ip = &dt->infer[gsl_rng_uniform_int(r, (unsigned long)dt->n_infer)];
        double u = 0.05 + 0.40 * gsl_rng_uniform(r);
        if (util[d] + u > 0.7)
            u = 0.7 - util[d] > 0.01 ? 0.7 - util[d] : 0.01;
        util[d] += u;
        tdev[t] = d;
        tmodel[t] = ip->model;
        trate[t] = u / ip->service_s;
        if (o->max_rate > 0 && trate[t] > o->max_rate)
            trate[t] = o->max_rate;
        tpct[t] = pcts[gsl_rng_uniform_int(r, 4)];
    }
    /* Deadlines: above the latency each task has with no training on its device. The
     * tasks of each device in task order (a counting sort: linear in devices + tasks). */
    int *first = de_calloc((size_t)o->devices + 1, sizeof(int)), *order = de_calloc((size_t)ntasks + 1, sizeof(int));
    for (int t = 0; t < ntasks; t++)
        first[tdev[t] + 1]++;
    for (int d = 0; d < o->devices; d++)
        first[d + 1] += first[d];
    int *fill = de_calloc((size_t)o->devices + 1, sizeof(int));
    for (int t = 0; t < ntasks; t++)
        order[first[tdev[t]] + fill[tdev[t]]++] = t;
    free(fill);
    for (int d = 0; d < o->devices; d++) {
        de_lc_class cls[64];
        int idx[64], n = 0;
        for (int k = first[d]; k < first[d + 1] && n < 64; k++) {
            int t = order[k];
            const de_infer_params *ip = de_catalog_infer(cat, type[d], tmodel[t]);
            cls[n].rate = trate[t];
            cls[n].service_s = ip->service_s;
            cls[n].scv = ip->scv;
            cls[n].percentile = tpct[t] / 100.0;
            idx[n++] = t;
        }
        if (n == 0)
            continue;
        double lat[64];
        de_model_lc_latency(cls, n, lat);
        for (int k = 0; k < n; k++)
            tdead[idx[k]] = lat[k] * (1.25 + 4.75 * gsl_rng_uniform(r)) / (1.0 - o->safety_margin);
    }
    free(first);
    free(order);
    /* Tasks beyond 64 on one device (only in absurd configurations) get a loose deadline. */
    for (int t = 0; t < ntasks; t++)
        if (tdead[t] == 0)
            tdead[t] = 10.0;

    fprintf(out, "# Generated by `deepedge scenario generate --devices %d --lc-tasks %d --seed %lu`", o->devices, ntasks,
            o->seed);
    if (o->max_rate > 0)
        fprintf(out, " (rates capped at %g req/s)", o->max_rate);
    fputc('\n', out);
    fprintf(out, "name = \"generated-%d-%lu\";\n", o->devices, o->seed);
    fprintf(out, "description = \"random heterogeneous cluster: %d devices, %d LC tasks, seed %lu\";\n", o->devices,
            ntasks, o->seed);
    if (o->catalog)
        fprintf(out, "catalog = \"%s\";\n", o->catalog);
    fprintf(out, "links = (\n");
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
        fprintf(out, "  { name = \"%s\"; bandwidth_mbps = %.1f; latency_ms = %.3f; }%s\n", links[i].name, links[i].mbps,
                links[i].ms, i + 1 < sizeof links / sizeof links[0] ? "," : "");
    fprintf(out, ");\ndevices = (\n");
    for (int d = 0; d < o->devices; d++)
        fprintf(out, "  { name = \"d%d\"; type = \"%s\"; link = \"%s\"; }%s\n", d, cat->types[type[d]].name,
                links[link[d]].name, d + 1 < o->devices ? "," : "");
    fprintf(out, ");\nlc_tasks = (\n");
    for (int t = 0; t < ntasks; t++)
        fprintf(out,
                "  { name = \"lc%d\"; device = \"d%d\"; model = \"%s\"; rate = %.6g; deadline_ms = %.6g; "
                "percentile = %.0f; }%s\n",
                t, tdev[t], cat->lc_models[tmodel[t]].name, trate[t], tdead[t] * 1e3, tpct[t],
                t + 1 < ntasks ? "," : "");
    fprintf(out, ");\njobs = (\n");
    fprintf(out,
            "  { name = \"update\"; network = \"%s\"; dataset_size = %lld; epochs = %d; global_batch = %d; "
            "checkpoint_interval = 100; checkpoint_cost_s = 2.0; }\n",
            cat->networks[net].name, dataset, epochs, B);
    fprintf(out, ");\nplanner = { policy = \"deep-edge\"; safety_margin = %.3g; };\n", o->safety_margin);

    free(type);
    free(phys);
    free(link);
    free(tdev);
    free(tmodel);
    free(trate);
    free(tpct);
    free(tdead);
    free(util);
    gsl_rng_free(r);
    return ferror(out) ? de_err_set(err, DE_EIO, "write failed") : DE_OK;
}

int de_generate_load(const char *catalog_dir, const de_gen_opts *o, de_scenario **out, de_err *err)
{
    *out = NULL;
    de_catalog *cat;
    int rc = de_catalog_load(catalog_dir, &cat, err);
    if (rc)
        return rc;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        de_catalog_destroy(cat);
        return de_err_set(err, DE_ENOMEM, "cannot open a memory stream");
    }
    de_gen_opts oo = *o;
    oo.catalog = NULL; /* loaded with catalog_dir below */
    rc = de_generate(cat, &oo, f, err);
    fclose(f);
    de_catalog_destroy(cat);
    if (!rc) {
        char name[64];
        snprintf(name, sizeof name, "generated-%d-%lu.cfg", o->devices, o->seed);
        rc = de_scenario_load_text(text, name, catalog_dir, out, err);
    }
    free(text);
    return rc;
}
