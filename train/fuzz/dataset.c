/* dataset.c — fuzz target: a dataset cache (de_dataset_open, what `train --data` and
 * `run` map); the first byte's low bit seals the cache's checksum
 * (de_dataset_cache_seal), so that mutations reach the checks after it. An accepted
 * cache is split and read as batches, plain and augmented, as training does. */
#include <stdio.h>
#include <stdlib.h>

#include "de_dataset.h"
#include "de_fuzz.h"
#include "de_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    if (n < 1)
        return 0;
    unsigned char *buf = (unsigned char *)de_fuzz_text(data + 1, n - 1);
    if (data[0] & 1)
        de_dataset_cache_seal(buf, n - 1);
    const char *path = de_fuzz_file("data.decache", buf, n - 1);
    free(buf);
    de_dataset *ds = NULL;
    de_err err;
    int rc = de_dataset_open(path, &ds, &err);
    de_fuzz_verdict(rc, &err);
    if (rc == DE_OK) {
        int count = de_dataset_count(ds), c, h, w;
        de_dataset_shape(ds, &c, &h, &w);
        for (int k = 0; k < de_dataset_classes(ds); k++)
            (void)de_dataset_class_name(ds, k);
        int *tr = calloc((size_t)count, sizeof *tr), *va = calloc((size_t)count, sizeof *va), ntr, nva;
        de_dataset_split(ds, 0.2, 1, tr, &ntr, va, &nva);
        int idx[2] = {0, count - 1}, y[2];
        float *x = calloc(2 * (size_t)c * h * w, sizeof *x);
        uint64_t rng = 5;
        de_dataset_batch(ds, idx, 2, h, w, 0, NULL, x, y);
        de_dataset_batch(ds, idx, 2, h > 1 ? h - 1 : h, w > 1 ? w - 1 : w, 1, &rng, x, y);
        free(x);
        free(tr);
        free(va);
    }
    de_dataset_destroy(ds);
    return 0;
}

/* Seeds: caches of synthetic JPEG folders (as `deepedge dataset synth` makes), stored at 8 x 8. */
int de_fuzz_write_seeds(const char *dir)
{
    static const int shape[][2] = {{2, 2}, {3, 1}, {1, 3}};
    for (int k = 0; k < 3; k++) {
        char src[600], path[4096];
        snprintf(src, sizeof src, "%s/jpeg-%d", de_fuzz_dir(), k);
        snprintf(path, sizeof path, "%s/cache-%d.tmp", dir, k);
        de_err err;
        de_dataset_report rep;
        if (de_dataset_synth_dir(src, shape[k][0], shape[k][1], (uint64_t)k, &err) ||
            de_dataset_build_cache(src, path, 8, NULL, NULL, &rep, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        char seed[4096];
        snprintf(seed, sizeof seed, "%s/cache-%d", dir, k);
        if (de_fuzz_seed_from(path, 1, seed))
            return 1;
    }
    return 0;
}
