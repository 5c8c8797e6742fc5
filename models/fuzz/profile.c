/* profile.c — fuzz target: a measurement trace (CSV of the step, lc or allreduce format,
 * traces/README.md; de_profile_load), the first byte choosing the format; each (group,
 * entry) of an accepted trace is fitted, as `deepedge fit` does (the first 4 pairs of a
 * trace of at most 64 rows, to keep the target fast). */
#include <stdlib.h>

#include "de_fit.h"
#include "de_fuzz.h"
#include "de_profile.h"

/* The co-located trainer of lc rows: a fixed step model. */
static int per_sample(void *ctx, const char *device, const char *network, de_fit_train *out)
{
    (void)ctx, (void)device, (void)network;
    out->overhead_s = 0.002;
    out->per_sample_s = 0.01;
    out->train_slowdown = 1.0;
    out->colocation_slowdown = 0.1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    if (n < 1)
        return 0;
    de_profile_kind kind = (de_profile_kind)(data[0] % 3);
    de_profile *p = NULL;
    de_err err;
    int rc = de_profile_load(de_fuzz_file("trace.csv", data + 1, n - 1), kind, &p, &err);
    de_fuzz_verdict(rc, &err);
    if (rc == DE_OK && p->n <= 64) {
        const char **groups = calloc((size_t)p->n + 1, sizeof *groups), **entries = calloc((size_t)p->n + 1, sizeof *entries);
        int np = de_profile_pairs(p, groups, entries);
        for (int i = 0; i < np && i < 4; i++) {
            de_fit_params start;
            de_fit_params_init(kind, &start);
            de_fit_opts opts = {5, 1, 0, {0, 0}};
            de_fit_result res;
            if (de_fit_model(p, groups[i], entries[i], &start, per_sample, NULL, &opts, &res, &err) == DE_OK) {
                de_fit_print(&res, de_fuzz_null());
                de_fit_result_free(&res);
            }
        }
        free(groups);
        free(entries);
    }
    de_profile_destroy(p);
    return 0;
}
