/* test_train.c — the trainer: learning, data-parallel equivalence, checkpoints.
 *
 * - A small CNN on the synthetic dataset (4 classes, 16x16) reaches >= 90% validation
 *   accuracy in a few epochs (a couple of seconds).
 * - Weighted gradient averaging: splitting a batch of 12 into local batches 5, 4, 3 and
 *   averaging Σ b_i·g_i / B gives the gradient of the whole batch. The two differ only in
 *   the order of float additions (sums over at most 12·HW terms): we require
 *   |Δ| ≤ 1e-6·max|g| + 1e-4·|g| per entry.
 * - The whole network's fp32 gradient agrees with central differences of its loss.
 * - Resume: a run stopped mid-epoch and resumed from its checkpoint ends bit-identical
 *   (memcmp of parameters and momentum) to an uninterrupted run.
 * - Truncated or corrupted checkpoints are refused, change nothing, and the last good
 *   checkpoint stays intact. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "de_ckpt.h"
#include "de_dataset.h"
#include "de_prng.h"
#include "de_test.h"
#include "de_train.h"
#include "de_util.h"

static const char SMALL[] = "input 3 16 16; c1: conv 8 3 1 1; relu; maxpool 2; c2: conv 16 3 1 1; relu;"
                            " gap; fc: fc 4";

static de_net *small_net(uint64_t seed)
{
    de_net *net;
    de_err err;
    if (de_net_parse("small", SMALL, &net, &err))
        fprintf(stderr, "%s\n", err.msg);
    de_net_init(net, seed);
    return net;
}

static int n_threads = 1; /* threads of the trainers the tests make */

static de_trainer *trainer(de_net *net, int batch)
{
    de_train_opts o;
    de_train_opts_default(&o);
    o.max_batch = batch;
    o.threads = n_threads;
    de_trainer *tr = NULL;
    de_err err;
    if (de_train_create(net, &o, &tr, &err))
        fprintf(stderr, "%s\n", err.msg);
    return tr;
}

static void test_learns(void)
{
    de_dataset *ds = de_dataset_synthetic(4, 60, 3, 18, 7);
    de_net *net = small_net(3);
    de_trainer *tr = trainer(net, 16);
    CU_ASSERT_FATAL(tr != NULL);
    de_train_run_opts o;
    de_train_run_opts_default(&o);
    o.batch = 16;
    o.epochs = 6;
    o.lr = 0.05;
    o.seed = 5;
    de_train_result res;
    de_err err;
    int rc = de_train_run(tr, ds, &o, &res, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_EQUAL(rc, 0);
    printf("\n  synthetic 4 classes: train loss %.3f acc %.3f, val loss %.3f acc %.3f (%.2f s) ", res.last.train_loss,
           res.last.train_acc, res.last.val_loss, res.last.val_acc, res.seconds);
    CU_ASSERT(res.last.val_acc >= 0.9);
    CU_ASSERT(res.last.train_loss < 0.5);
    de_train_destroy(tr);
    de_net_destroy(net);
    de_dataset_destroy(ds);
}

static void fill_batch(const de_dataset *ds, int n, float *x, int *y)
{
    int idx[64];
    for (int i = 0; i < n; i++)
        idx[i] = i;
    de_dataset_batch(ds, idx, n, 16, 16, 0, NULL, x, y);
}

static void test_weighted_average(void)
{
    de_dataset *ds = de_dataset_synthetic(4, 3, 3, 16, 9);
    de_net *net = small_net(4);
    de_trainer *tr = trainer(net, 12);
    size_t np = de_net_n_params(net);
    float *x = de_calloc(12 * 3 * 256, sizeof(float));
    int y[12];
    fill_batch(ds, 12, x, y);
    CU_ASSERT_FATAL(de_train_grad(tr, x, y, 12, NULL, NULL, NULL) == 0);
    float *full = de_calloc(np, sizeof(float));
    memcpy(full, de_train_gradient(tr), np * sizeof(float));
    double *avg = de_calloc(np, sizeof(double));
    int shares[3] = {5, 4, 3};
    for (int r = 0; r < 3; r++) {
        int off, cnt;
        de_dataset_shard(shares, 3, r, &off, &cnt);
        CU_ASSERT_FATAL(de_train_grad(tr, x + (size_t)off * 3 * 256, y + off, cnt, NULL, NULL, NULL) == 0);
        const float *g = de_train_gradient(tr);
        for (size_t j = 0; j < np; j++)
            avg[j] += (double)cnt / 12.0 * g[j];
    }
    double gmax = 0;
    for (size_t j = 0; j < np; j++)
        gmax = fmax(gmax, fabs(full[j]));
    int bad = 0;
    for (size_t j = 0; j < np; j++)
        bad += fabs(avg[j] - full[j]) > 1e-6 * gmax + 1e-4 * fabs(full[j]);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(gmax > 0);
    free(x), free(full), free(avg);
    de_train_destroy(tr);
    de_net_destroy(net);
    de_dataset_destroy(ds);
}

/* Whole-network fp32 gradient vs central differences of the fp32 loss, on a smooth graph
 * (no ReLU or max-pool kinks: those are checked per layer in double in test_layers) with
 * a branch, an unused output, a skip connection (ADD) and from=: h = 1e-2; float rounding
 * of a loss ≈ 1 gives ≈ 1e-7 / 1e-2 = 1e-5 noise, truncation O(h²) ≈ 1e-4 relative, so
 * |Δ| ≤ 1e-3 + 2e-2·|g|. This checks the wiring (accumulation into shared inputs). */
static void test_network_gradient(void)
{
    de_net *net;
    CU_ASSERT_FATAL(de_net_parse("branchy",
                                 "input 3 8 8; a: conv 4 3 1 1; b: conv 4 3 1 1; s: add a; avgpool 2;"
                                 " c: conv 6 3 2 1 from=s; gap; fc 3",
                                 &net, NULL) == 0);
    de_net_init(net, 11);
    de_trainer *tr = trainer(net, 4);
    float x[4 * 3 * 64];
    int y[4] = {0, 1, 2, 1};
    uint64_t r = 3;
    for (int i = 0; i < 4 * 3 * 64; i++)
        x[i] = (float)de_prng_normal(&r);
    double l0;
    CU_ASSERT_FATAL(de_train_grad(tr, x, y, 4, &l0, NULL, NULL) == 0);
    size_t np = de_net_n_params(net);
    float *g = de_calloc(np, sizeof(float));
    memcpy(g, de_train_gradient(tr), np * sizeof(float));
    float *w = de_net_params(net);
    int bad = 0;
    for (size_t j = 0; j < np; j++) {
        float keep = w[j];
        double lp, lm;
        w[j] = keep + 1e-2f;
        de_train_grad(tr, x, y, 4, &lp, NULL, NULL);
        w[j] = keep - 1e-2f;
        de_train_grad(tr, x, y, 4, &lm, NULL, NULL);
        w[j] = keep;
        double num = (lp - lm) / 2e-2;
        if (fabs(num - g[j]) > 1e-3 + 2e-2 * fabs(num)) {
            if (bad < 3)
                fprintf(stderr, "\n  param %zu: analytic %g numeric %g", j, g[j], num);
            bad++;
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    free(g);
    de_train_destroy(tr);
    de_net_destroy(net);
}

/* Runs the small net on a synthetic set: epochs, optional stop/resume; returns the trainer's net. */
static int run(de_net *net, const de_dataset *ds, const char *ckpt, const char *resume, long stop_after,
               float *mom_out, de_err *err)
{
    de_trainer *tr = trainer(net, 8);
    de_train_run_opts o;
    de_train_run_opts_default(&o);
    o.batch = 8;
    o.epochs = 2;
    o.lr = 0.05;
    o.seed = 21;
    o.checkpoint = ckpt;
    o.resume = resume;
    o.stop_after = stop_after;
    de_train_result res;
    int rc = de_train_run(tr, ds, &o, &res, err);
    if (mom_out)
        memcpy(mom_out, de_train_momentum(tr), de_net_n_params(net) * sizeof(float));
    de_train_destroy(tr);
    return rc;
}

static void test_resume_bit_identical(void)
{
    de_dataset *ds = de_dataset_synthetic(4, 10, 3, 18, 13); /* 32 training images: 4 steps per epoch */
    de_net *a = small_net(8), *b = small_net(8);
    size_t np = de_net_n_params(a);
    float *ma = de_calloc(np, 4), *mb = de_calloc(np, 4);
    char *ck = de_test_tmpfile("", ".ckpt");
    de_err err;
    CU_ASSERT_FATAL(run(a, ds, NULL, NULL, 0, ma, &err) == 0);
    /* stop after 3 steps (mid-epoch 1), then resume in a fresh network object */
    CU_ASSERT_FATAL(run(b, ds, ck, NULL, 3, NULL, &err) == 0);
    CU_ASSERT(memcmp(de_net_params(a), de_net_params(b), np * 4) != 0);
    de_net *c = small_net(99); /* different weights: the checkpoint must replace them */
    int rc = run(c, ds, ck, ck, 0, mb, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_FATAL(rc == 0);
    CU_ASSERT(memcmp(de_net_params(a), de_net_params(c), np * 4) == 0);
    CU_ASSERT(memcmp(ma, mb, np * 4) == 0);
    /* and a stop at an epoch boundary (step 4 = end of epoch 1) */
    de_net *d = small_net(8), *e = small_net(1);
    CU_ASSERT_FATAL(run(d, ds, ck, NULL, 4, NULL, &err) == 0);
    CU_ASSERT_FATAL(run(e, ds, ck, ck, 0, NULL, &err) == 0);
    CU_ASSERT(memcmp(de_net_params(a), de_net_params(e), np * 4) == 0);
    de_test_unlink(ck);
    free(ma), free(mb);
    de_net_destroy(a), de_net_destroy(b), de_net_destroy(c), de_net_destroy(d), de_net_destroy(e);
    de_dataset_destroy(ds);
}

/* Two CPU threads: resume still bit-identical; a gradient is bit-identical run to run and
 * differs from the 1-thread one only by float summation order (per-thread partial sums
 * of dw/db over a batch of 12: same tolerance as the weighted average). */
static void test_two_threads(void)
{
    n_threads = 2;
    test_resume_bit_identical();
    de_dataset *ds = de_dataset_synthetic(4, 3, 3, 16, 9);
    de_net *net = small_net(4);
    size_t np = de_net_n_params(net);
    float *x = de_calloc(12 * 3 * 256, sizeof(float)), *g2 = de_calloc(np, sizeof(float));
    int y[12];
    fill_batch(ds, 12, x, y);
    de_trainer *tr = trainer(net, 12);
    CU_ASSERT_FATAL(de_train_grad(tr, x, y, 12, NULL, NULL, NULL) == 0);
    memcpy(g2, de_train_gradient(tr), np * sizeof(float));
    CU_ASSERT_FATAL(de_train_grad(tr, x, y, 12, NULL, NULL, NULL) == 0);
    CU_ASSERT(memcmp(g2, de_train_gradient(tr), np * sizeof(float)) == 0);
    de_train_destroy(tr);
    n_threads = 1;
    tr = trainer(net, 12);
    CU_ASSERT_FATAL(de_train_grad(tr, x, y, 12, NULL, NULL, NULL) == 0);
    const float *g1 = de_train_gradient(tr);
    double gmax = 0;
    for (size_t j = 0; j < np; j++)
        gmax = fmax(gmax, fabs(g1[j]));
    int bad = 0;
    for (size_t j = 0; j < np; j++)
        bad += fabs(g2[j] - g1[j]) > 1e-6 * gmax + 1e-4 * fabs(g1[j]);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(gmax > 0);
    free(x), free(g2);
    de_train_destroy(tr);
    de_net_destroy(net);
    de_dataset_destroy(ds);
}

/* A conv fused with its ReLU (SMALL's c1 and c2) reports its own pre-ReLU output
 * (recomputed): ReLU of it is the ReLU layer's output, bit for bit. */
static void test_fused_activation(void)
{
    de_dataset *ds = de_dataset_synthetic(4, 3, 3, 16, 9);
    de_net *net = small_net(4);
    de_trainer *tr = trainer(net, 6);
    float *x = de_calloc(12 * 3 * 256, sizeof(float));
    int y[12];
    fill_batch(ds, 6, x, y);
    CU_ASSERT_FATAL(de_train_eval(tr, x, y, 6, NULL, NULL, NULL, NULL) == 0);
    size_t cnt = 6 * 8 * 256;
    float *c = de_calloc(cnt, sizeof(float)), *r = de_calloc(cnt, sizeof(float));
    CU_ASSERT(de_train_activation(tr, 0, 6, c, NULL) == 0);
    CU_ASSERT(de_train_activation(tr, 1, 6, r, NULL) == 0);
    int bad = 0, neg = 0;
    for (size_t i = 0; i < cnt; i++) {
        bad += (c[i] > 0 ? c[i] : 0) != r[i];
        neg += c[i] < 0;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(neg > 0);
    free(x), free(c), free(r);
    de_train_destroy(tr);
    de_net_destroy(net);
    de_dataset_destroy(ds);
}

static void write_bytes(const char *path, const char *buf, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(buf, 1, n, f);
    fclose(f);
}

static void test_bad_checkpoints(void)
{
    de_dataset *ds = de_dataset_synthetic(4, 10, 3, 18, 13);
    de_net *net = small_net(8);
    size_t np = de_net_n_params(net);
    char *good = de_test_tmpfile("", ".ckpt"), *bad = de_test_tmpfile("", ".ckpt");
    de_err err;
    CU_ASSERT_FATAL(run(net, ds, good, NULL, 3, NULL, &err) == 0);
    size_t len;
    char *bytes = de_file_read(good, &len);
    CU_ASSERT_FATAL(bytes && len > 100);
    float *before = de_calloc(np, 4), *mom = de_calloc(np, 4);
    memcpy(before, de_net_params(net), np * 4);
    de_ckpt_meta m;
    /* truncated */
    write_bytes(bad, bytes, len - 13);
    CU_ASSERT(de_ckpt_load(bad, net, mom, &m, &err) == DE_EIO);
    DE_ASSERT_CONTAINS(err.msg, "truncated");
    DE_ASSERT_CONTAINS(err.msg, bad);
    /* one flipped bit */
    bytes[len / 2] ^= 0x10;
    write_bytes(bad, bytes, len);
    bytes[len / 2] ^= 0x10;
    CU_ASSERT(de_ckpt_load(bad, net, mom, &m, &err) == DE_EIO);
    DE_ASSERT_CONTAINS(err.msg, "checksum");
    /* a checksum that vouches for an impossible header (a forged file): the field is named */
    CU_ASSERT_FATAL(de_ckpt_load(good, net, mom, &m, &err) == 0);
    de_ckpt_meta forged = m;
    forged.global_step = -5;
    CU_ASSERT_FATAL(de_ckpt_save(bad, net, mom, &forged, &err) == 0);
    CU_ASSERT(de_ckpt_load(bad, net, mom, &m, &err) == DE_ERANGE);
    DE_ASSERT_CONTAINS(err.msg, "field global_step");
    forged = m;
    forged.momentum = 7;
    CU_ASSERT_FATAL(de_ckpt_save(bad, net, mom, &forged, &err) == 0);
    CU_ASSERT(de_ckpt_load(bad, net, mom, &m, &err) == DE_ERANGE);
    DE_ASSERT_CONTAINS(err.msg, "field momentum");
    memcpy(de_net_params(net), before, np * 4);
    /* a header claiming another size: refused before the file is read whole */
    bytes[16 + 8] ^= 0x40; /* n_params */
    write_bytes(bad, bytes, len);
    bytes[16 + 8] ^= 0x40;
    CU_ASSERT(de_ckpt_load(bad, net, mom, &m, &err) == DE_EMISMATCH);
    /* not a checkpoint */
    write_bytes(bad, "hello", 5);
    CU_ASSERT(de_ckpt_load(bad, net, mom, &m, &err) == DE_EIO);
    CU_ASSERT(memcmp(before, de_net_params(net), np * 4) == 0); /* nothing was modified */
    /* another network */
    de_net *other;
    CU_ASSERT_FATAL(de_net_parse("o", "input 3 16 16; conv 4 3; gap; fc 4", &other, NULL) == 0);
    float *mo = de_calloc(de_net_n_params(other), 4);
    CU_ASSERT(de_ckpt_load(good, other, mo, &m, &err) == DE_EMISMATCH);
    /* resuming from a corrupted file while checkpointing to the good one: refused, good intact */
    bytes[len / 2] ^= 0x10;
    write_bytes(bad, bytes, len);
    bytes[len / 2] ^= 0x10;
    CU_ASSERT(run(net, ds, good, bad, 0, NULL, &err) == DE_EIO);
    size_t len2;
    char *after = de_file_read(good, &len2);
    CU_ASSERT(len2 == len && memcmp(after, bytes, len) == 0);
    CU_ASSERT(de_ckpt_load(good, net, mom, &m, &err) == 0);
    CU_ASSERT_EQUAL(m.global_step, 3);
    free(after), free(bytes), free(before), free(mom), free(mo);
    de_test_unlink(good);
    de_test_unlink(bad);
    de_net_destroy(other);
    de_net_destroy(net);
    de_dataset_destroy(ds);
}

/* Every truncation and every single flipped bit of a checkpoint is refused, with a message
 * naming the file, and leaves the network and the momentum untouched (a network small
 * enough to try them all: 12 params' worth of bytes per bit). */
static void test_every_damage_refused(void)
{
    de_net *net;
    CU_ASSERT_FATAL(de_net_parse("t", "input 2 4 4; conv 2 3 1 1; bn; relu; gap; fc 3", &net, NULL) == 0);
    de_net_init(net, 5);
    size_t np = de_net_n_params(net), ns = de_net_n_state(net);
    float *mom = de_calloc(np, 4), *p0 = de_calloc(np, 4), *m0 = de_calloc(np, 4), *s0 = de_calloc(ns, 4);
    for (size_t i = 0; i < np; i++)
        mom[i] = 0.01f * (float)i;
    de_ckpt_meta m = {0}, got;
    m.global_step = m.step = 7;
    m.batch = 16;
    m.lr = 0.01;
    m.momentum = 0.9;
    char *good = de_test_tmpfile("", ".ckpt"), *bad = de_test_tmpfile("", ".ckpt");
    de_err err;
    CU_ASSERT_FATAL(de_ckpt_save(good, net, mom, &m, &err) == 0);
    size_t len;
    char *bytes = de_file_read(good, &len);
    CU_ASSERT_FATAL(bytes != NULL);
    memcpy(p0, de_net_params(net), np * 4);
    memcpy(m0, mom, np * 4);
    memcpy(s0, de_net_state(net), ns * 4);
    int accepted = 0, unnamed = 0;
    for (size_t cut = 0; cut < len; cut++) {
        write_bytes(bad, bytes, cut);
        if (de_ckpt_load(bad, net, mom, &got, &err) == 0)
            accepted++;
        else if (!strstr(err.msg, bad))
            unnamed++;
    }
    for (size_t i = 0; i < len; i++)
        for (int b = 0; b < 8; b++) {
            bytes[i] ^= (char)(1 << b);
            write_bytes(bad, bytes, len);
            bytes[i] ^= (char)(1 << b);
            if (de_ckpt_load(bad, net, mom, &got, &err) == 0)
                accepted++;
            else if (!strstr(err.msg, bad))
                unnamed++;
        }
    CU_ASSERT_EQUAL(accepted, 0);
    CU_ASSERT_EQUAL(unnamed, 0);
    CU_ASSERT(memcmp(p0, de_net_params(net), np * 4) == 0);
    CU_ASSERT(memcmp(m0, mom, np * 4) == 0);
    CU_ASSERT(memcmp(s0, de_net_state(net), ns * 4) == 0);
    CU_ASSERT_EQUAL(de_ckpt_load(good, net, mom, &got, &err), 0); /* the good one still loads */
    CU_ASSERT_EQUAL(got.global_step, 7);
    free(bytes), free(mom), free(p0), free(m0), free(s0);
    de_test_unlink(good);
    de_test_unlink(bad);
    de_net_destroy(net);
}

static void test_frozen(void)
{
    de_dataset *ds = de_dataset_synthetic(4, 3, 3, 16, 9);
    de_net *net = small_net(4);
    CU_ASSERT_FATAL(de_net_freeze(net, "c1", NULL) == 0);
    size_t np = de_net_n_params(net);
    float *w0 = de_calloc(np, 4);
    memcpy(w0, de_net_params(net), np * 4);
    de_trainer *tr = trainer(net, 12);
    float *x = de_calloc(12 * 3 * 256, sizeof(float));
    int y[12];
    fill_batch(ds, 12, x, y);
    CU_ASSERT(de_train_grad(tr, x, y, 12, NULL, NULL, NULL) == 0);
    CU_ASSERT(de_train_step(tr, NULL, 0.1, NULL) == 0);
    const de_layer *c1 = de_net_layer(net, 0);
    size_t n1 = c1->w_n + c1->b_n;
    CU_ASSERT(memcmp(w0, de_net_params(net), n1 * 4) == 0);           /* frozen: unchanged */
    CU_ASSERT(memcmp(w0 + n1, de_net_params(net) + n1, (np - n1) * 4) != 0); /* the rest moved */
    de_err err;
    CU_ASSERT(de_train_grad(tr, x, y, 13, NULL, NULL, &err) == DE_ERANGE);
    y[0] = 7;
    CU_ASSERT(de_train_grad(tr, x, y, 12, NULL, NULL, &err) == DE_ERANGE);
    free(x), free(w0);
    de_train_destroy(tr);
    de_net_destroy(net);
    de_dataset_destroy(ds);
}

int main(void)
{
    static const de_test_case t[] = {{"synthetic training learns", test_learns},
                                     {"weighted gradient averaging = one batch", test_weighted_average},
                                     {"network gradient = finite differences", test_network_gradient},
                                     {"resume is bit-identical", test_resume_bit_identical},
                                     {"bad checkpoints refused, last good intact", test_bad_checkpoints},
                                     {"every truncation and every flipped bit of a checkpoint is refused",
                                      test_every_damage_refused},
                                     {"frozen layers", test_frozen},
                                     {"two threads: deterministic, = one thread", test_two_threads},
                                     {"fused conv+ReLU: the conv's own activation", test_fused_activation},
                                     {NULL, NULL}};
    de_test_suite("train", t);
    return de_test_run();
}
