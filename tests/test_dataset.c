/* test_dataset.c — Caltech-layout folders, the binary cache, splits and shards.
 *
 * synth -> cache -> mmap round trip; a text file named .jpg and a truncated JPEG are
 * reported by name, skipped and counted; a corrupted cache is refused; the split is a
 * deterministic function of the seed; shards tile the global batch. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "de_dataset.h"
#include "de_test.h"
#include "de_util.h"

typedef struct skips {
    int n;
    char names[8][512];
} skips;

static void on_skip(void *ud, const char *path, const char *why)
{
    skips *s = ud;
    (void)why;
    if (s->n < 8)
        snprintf(s->names[s->n], sizeof s->names[0], "%s", path);
    s->n++;
}

static char *tmpdir(void)
{
    char *t = de_sprintf("%s/deepedge-ds-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(t) ? t : NULL;
}

static void rmtree(const char *d)
{
    char *cmd = de_sprintf("rm -rf '%s'", d);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", d);
    free(cmd);
}

static void test_round_trip(void)
{
    char *dir = tmpdir();
    CU_ASSERT_FATAL(dir != NULL);
    char *src = de_path_join(dir, "caltech"), *cache = de_path_join(dir, "c.decache");
    de_err err;
    CU_ASSERT_FATAL(de_dataset_synth_dir(src, 3, 4, 1, &err) == 0);
    /* a non-JPEG and a truncated JPEG in class 2, and a hidden file that is ignored */
    char *bad1 = de_path_join(src, "002.synth002/notes.jpg");
    FILE *f = fopen(bad1, "w");
    fputs("not an image\n", f);
    fclose(f);
    char *good = de_path_join(src, "002.synth002/img_0001.jpg"), *bad2 = de_path_join(src, "002.synth002/cut.jpg");
    size_t len;
    char *bytes = de_file_read(good, &len);
    f = fopen(bad2, "wb");
    fwrite(bytes, 1, len / 3, f);
    fclose(f);
    free(bytes);
    char *hidden = de_path_join(src, "001.synth001/.DS_Store");
    f = fopen(hidden, "w");
    fclose(f);
    skips sk = {0};
    de_dataset_report rep;
    int rc = de_dataset_build_cache(src, cache, 24, on_skip, &sk, &rep, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_FATAL(rc == 0);
    CU_ASSERT_EQUAL(rep.classes, 3);
    CU_ASSERT_EQUAL(rep.files, 14);
    CU_ASSERT_EQUAL(rep.images, 12);
    CU_ASSERT_EQUAL(rep.skipped, 2);
    CU_ASSERT_EQUAL(sk.n, 2);
    DE_ASSERT_CONTAINS(sk.names[0], "cut.jpg");
    DE_ASSERT_CONTAINS(sk.names[1], "notes.jpg");
    de_dataset *ds;
    CU_ASSERT_FATAL(de_dataset_open(cache, &ds, &err) == 0);
    CU_ASSERT_EQUAL(de_dataset_count(ds), 12);
    CU_ASSERT_EQUAL(de_dataset_classes(ds), 3);
    CU_ASSERT_EQUAL(de_dataset_skipped(ds), 2);
    CU_ASSERT_STRING_EQUAL(de_dataset_class_name(ds, 2), "003.synth003");
    CU_ASSERT_EQUAL(de_dataset_label(ds, 0), 0);
    CU_ASSERT_EQUAL(de_dataset_label(ds, 11), 2);
    int c, h, w;
    de_dataset_shape(ds, &c, &h, &w);
    CU_ASSERT(c == 3 && h == 24 && w == 24);
    /* a batch: normalised values in the ImageNet range, labels copied */
    int idx[2] = {0, 11}, y[2];
    float *x = de_calloc(2 * 3 * 20 * 20, sizeof(float));
    uint64_t r = 5;
    de_dataset_batch(ds, idx, 2, 20, 20, 1, &r, x, y);
    CU_ASSERT(y[0] == 0 && y[1] == 2);
    int in_range = 1;
    for (int i = 0; i < 2 * 3 * 400; i++)
        in_range &= x[i] >= -2.2f && x[i] <= 2.7f;
    CU_ASSERT(in_range);
    free(x);
    de_dataset_destroy(ds);
    /* corrupt one image byte of the cache: refused */
    bytes = de_file_read(cache, &len);
    bytes[100] ^= 1;
    f = fopen(cache, "wb");
    fwrite(bytes, 1, len, f);
    fclose(f);
    CU_ASSERT(de_dataset_open(cache, &ds, &err) == DE_EIO);
    DE_ASSERT_CONTAINS(err.msg, "checksum");
    /* a header field changed (the checksum covers the header too) */
    bytes[100] ^= 1;
    bytes[8 + 4 * 5] ^= 0x02; /* classes */
    f = fopen(cache, "wb");
    fwrite(bytes, 1, len, f);
    fclose(f);
    CU_ASSERT(de_dataset_open(cache, &ds, &err) == DE_EIO);
    DE_ASSERT_CONTAINS(err.msg, "checksum");
    bytes[8 + 4 * 5] ^= 0x02;
    bytes[100] ^= 1;
    /* truncated */
    f = fopen(cache, "wb");
    fwrite(bytes, 1, len - 7, f);
    fclose(f);
    CU_ASSERT(de_dataset_open(cache, &ds, &err) == DE_EIO);
    DE_ASSERT_CONTAINS(err.msg, "truncated");
    free(bytes);
    /* missing folder */
    CU_ASSERT(de_dataset_build_cache("/nonexistent/deepedge", cache, 24, NULL, NULL, NULL, &err) == DE_EIO);
    DE_ASSERT_CONTAINS(err.msg, "/nonexistent/deepedge");
    rmtree(dir);
    free(bad1), free(bad2), free(good), free(hidden), free(src), free(cache), free(dir);
}

static void test_split_and_shard(void)
{
    de_dataset *ds = de_dataset_synthetic(5, 20, 3, 8, 3);
    int n = de_dataset_count(ds);
    int *t1 = de_calloc(n, 4), *v1 = de_calloc(n, 4), *t2 = de_calloc(n, 4), *v2 = de_calloc(n, 4);
    int nt1, nv1, nt2, nv2;
    de_dataset_split(ds, 0.2, 42, t1, &nt1, v1, &nv1);
    de_dataset_split(ds, 0.2, 42, t2, &nt2, v2, &nv2);
    CU_ASSERT(nt1 == 80 && nv1 == 20);
    CU_ASSERT(memcmp(t1, t2, sizeof(int) * nt1) == 0 && memcmp(v1, v2, sizeof(int) * nv1) == 0);
    int *seen = de_calloc(n, 4);
    for (int i = 0; i < nt1; i++)
        seen[t1[i]]++;
    for (int i = 0; i < nv1; i++)
        seen[v1[i]]++;
    int ok = 1;
    for (int i = 0; i < n; i++)
        ok &= seen[i] == 1;
    CU_ASSERT(ok); /* a partition */
    de_dataset_split(ds, 0.2, 43, t2, &nt2, v2, &nv2);
    CU_ASSERT(memcmp(v1, v2, sizeof(int) * nv1) != 0);
    int shares[3] = {5, 4, 3}, off, cnt, next = 0;
    for (int r = 0; r < 3; r++) {
        de_dataset_shard(shares, 3, r, &off, &cnt);
        CU_ASSERT(off == next && cnt == shares[r]);
        next += cnt;
    }
    de_dataset_shard(shares, 3, 3, &off, &cnt);
    CU_ASSERT_EQUAL(cnt, 0);
    /* in-memory synthetic data is deterministic in its seed */
    de_dataset *ds2 = de_dataset_synthetic(5, 20, 3, 8, 3);
    float a[3 * 64], b[3 * 64];
    int idx = 17, ya, yb;
    de_dataset_batch(ds, &idx, 1, 8, 8, 0, NULL, a, &ya);
    de_dataset_batch(ds2, &idx, 1, 8, 8, 0, NULL, b, &yb);
    CU_ASSERT(memcmp(a, b, sizeof a) == 0 && ya == yb && ya == 2);
    free(t1), free(v1), free(t2), free(v2), free(seen);
    de_dataset_destroy(ds);
    de_dataset_destroy(ds2);
}

int main(void)
{
    static const de_test_case t[] = {{"synth -> cache -> mmap, bad files skipped", test_round_trip},
                                     {"split and shard", test_split_and_shard},
                                     {NULL, NULL}};
    de_test_suite("dataset", t);
    return de_test_run();
}
