/* link_class.c — fuzz target: a measured link class of the catalog (links/CLASS.cfg, as
 * deepedge calibrate writes it; de_link_class_load), read as fuzz.cfg (its link.name
 * must be "fuzz"); the ring all-reduce of an accepted class is evaluated at each of its rank
 * counts and with its pooled fit, as the predictor does. */
#include "de_links.h"
#include "de_fuzz.h"
#include "de_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    de_link_class c;
    de_err err;
    int rc = de_link_class_load(de_fuzz_file("fuzz.cfg", data, n), &c, &err);
    de_fuzz_verdict(rc, &err);
    if (rc == DE_OK) {
        double acc = de_model_allreduce(3, 2 * c.latency_s, c.bandwidth_Bps, 1e6);
        for (int i = 0; i < c.n_per_ranks; i++) {
            const de_link_rank *r = de_link_class_at(&c, c.per_ranks[i].ranks);
            acc += de_model_allreduce(r->ranks, r->alpha_s, r->beta_Bps, 1e6);
        }
        (void)acc;
    }
    de_link_class_free(&c);
    return 0;
}
