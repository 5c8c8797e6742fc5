/* device_type.c — fuzz target: a device-type file of the catalog (models/devices/T.cfg,
 * de_catalog_load_type) against the built-in catalog's networks and LC models, read as
 * fuzz.cfg (its name must be "fuzz"); the step and LC models of an accepted type are
 * evaluated over its batch range, as the planner does. */
#include "de_catalog.h"
#include "de_fuzz.h"
#include "de_model.h"

static de_catalog *cat;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    de_err err;
    if (de_catalog_load(DE_DEFAULT_CATALOG, &cat, &err))
        de_fuzz_die("the built-in catalog does not load: %s", err.msg);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    de_device_type *t = NULL;
    de_err err;
    int rc = de_catalog_load_type(cat, de_fuzz_file("fuzz.cfg", data, n), &t, &err);
    de_fuzz_verdict(rc, &err);
    if (rc == DE_OK) {
        const de_interference *in = &t->interference;
        double acc = 0;
        for (int i = 0; i < t->n_train; i++) {
            const de_train_params *p = &t->train[i];
            for (int b = 1; b <= p->max_batch; b += 1 + p->max_batch / 16)
                acc += de_model_step_time(p->overhead_s, p->per_sample_s, in->train_slowdown, in->colocation_slowdown, b, 0.5);
        }
        for (int i = 0; i < t->n_infer; i++) {
            const de_infer_params *p = &t->infer[i];
            de_lc_class cls = {.rate = 0.5 / p->service_s, .service_s = p->service_s, .scv = p->scv,
                               .percentile = 0.95};
            double lat;
            de_model_lc_latency(&cls, 1, &lat);
            acc += lat;
        }
        (void)acc;
    }
    de_catalog_type_destroy(t);
    return 0;
}
