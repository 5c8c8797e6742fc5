/* test_layers.c — finite-difference gradient checks of every CPU layer kernel.
 *
 * Each kernel is run in its double-precision instance (the same code as the fp32 one,
 * de_layers_cpu_impl.inc) on tiny shapes. For a random upstream gradient r, the
 * analytic gradients of L = Σ r·f(x, w, b) from the backward kernel are compared with
 * central differences (L(v+h) - L(v-h)) / 2h, h = 1e-6. In double the truncation error
 * is O(h²) ≈ 1e-12 and the rounding error ≈ 1e-16·|L|/h ≈ 1e-10, so we require
 * |analytic − numeric| ≤ 1e-7 + 1e-6·|numeric|. Inputs of ReLU are kept away from the
 * kink (|x| ≥ 0.05) and max-pool windows have no ties (continuous random values). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "de_layers_cpu.h"
#include "de_net.h"
#include "de_prng.h"
#include "de_test.h"
#include "de_util.h"

#define ATOL 1e-7
#define RTOL 1e-6
#define H 1e-6

static uint64_t rng = 42;

static double *rnd(size_t n, double lo, double hi)
{
    double *v = de_calloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = lo + (hi - lo) * de_prng_uniform(&rng);
    return v;
}

typedef struct probe {
    const de_layer *L;
    int n;
    double *x, *w, *b, *r, *y, *saved, *running;
    size_t nx, ny;
} probe;

static void fwd(probe *p)
{
    const de_layer *L = p->L;
    static double ws[1 << 16];
    switch (L->kind) {
    case DE_LAYER_CONV:
        de_layers_cpu_conv_fwd_d(L, p->n, p->x, p->w, L->b_n ? p->b : NULL, p->y, ws, 700); /* small ws: exercises chunking */
        break;
    case DE_LAYER_FC:
        de_layers_cpu_fc_fwd_d(L, p->n, p->x, p->w, p->b, p->y);
        break;
    case DE_LAYER_DWCONV:
        de_layers_cpu_dwconv_fwd_d(L, p->n, p->x, p->w, L->b_n ? p->b : NULL, p->y);
        break;
    case DE_LAYER_RELU:
        de_layers_cpu_relu_fwd_d(p->nx, p->x, p->y);
        break;
    case DE_LAYER_RELU6:
        de_layers_cpu_relu6_fwd_d(p->nx, p->x, p->y);
        break;
    case DE_LAYER_BN:
        de_layers_cpu_bn_fwd_d(L, p->n, p->x, p->w, p->b, p->y, p->saved, p->running, 1);
        break;
    default:
        de_layers_cpu_pool_fwd_d(L, p->n, p->x, p->y);
    }
}

static double loss(probe *p)
{
    fwd(p);
    double s = 0;
    for (size_t i = 0; i < p->ny; i++)
        s += p->r[i] * p->y[i];
    return s;
}

static void bwd(probe *p, double *dx, double *dw, double *db)
{
    const de_layer *L = p->L;
    static double ws[1 << 16];
    fwd(p);
    switch (L->kind) {
    case DE_LAYER_CONV:
        de_layers_cpu_conv_bwd_d(L, p->n, p->x, p->w, p->r, dx, dw, db, ws, 700);
        break;
    case DE_LAYER_FC:
        de_layers_cpu_fc_bwd_d(L, p->n, p->x, p->w, p->r, dx, dw, db);
        break;
    case DE_LAYER_DWCONV:
        de_layers_cpu_dwconv_bwd_d(L, p->n, p->x, p->w, p->r, dx, dw, db);
        break;
    case DE_LAYER_RELU:
        de_layers_cpu_relu_bwd_d(p->nx, p->y, p->r, dx);
        break;
    case DE_LAYER_RELU6:
        de_layers_cpu_relu6_bwd_d(p->nx, p->y, p->r, dx);
        break;
    case DE_LAYER_BN:
        de_layers_cpu_bn_bwd_d(L, p->n, p->x, p->w, p->saved, p->r, dx, dw, db);
        break;
    default:
        de_layers_cpu_pool_bwd_d(L, p->n, p->x, p->r, dx);
    }
}

/* Compares analytic g with central differences over the entries of v; returns failures. */
static int fd_compare(probe *p, double *v, size_t n, const double *g, const char *what, const char *desc)
{
    int bad = 0;
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double keep = v[i];
        v[i] = keep + H;
        double lp = loss(p);
        v[i] = keep - H;
        double lm = loss(p);
        v[i] = keep;
        double num = (lp - lm) / (2 * H);
        double d = fabs(g[i] - num);
        if (d > worst)
            worst = d;
        if (d > ATOL + RTOL * fabs(num)) {
            if (bad < 3)
                fprintf(stderr, "\n  %s d%s[%zu]: analytic %.10g numeric %.10g", desc, what, i, g[i], num);
            bad++;
        }
    }
    (void)worst;
    return bad;
}

/* Gradient check of the last layer of the description, batch n. */
static void check(const char *desc, int n)
{
    de_net *net;
    de_err err;
    int rc = de_net_parse("t", desc, &net, &err);
    if (rc)
        fprintf(stderr, "\n  %s: %s", desc, err.msg);
    CU_ASSERT_FATAL(rc == 0);
    probe p;
    memset(&p, 0, sizeof p);
    p.L = de_net_layer(net, de_net_n_layers(net) - 1);
    p.n = n;
    const de_layer *L = p.L;
    p.nx = (size_t)n * L->c * L->h * L->w;
    p.ny = (size_t)n * L->oc * L->oh * L->ow;
    p.x = rnd(p.nx, -1, 1);
    if (L->kind == DE_LAYER_RELU || L->kind == DE_LAYER_RELU6) /* away from the kinks at 0 (and 6) */
        for (size_t i = 0; i < p.nx; i++) {
            if (L->kind == DE_LAYER_RELU6)
                p.x[i] *= 8; /* some inputs above 6 */
            if (fabs(p.x[i]) < 0.05)
                p.x[i] = p.x[i] < 0 ? -0.05 - p.x[i] : 0.05 + p.x[i];
            if (fabs(p.x[i] - 6) < 0.05)
                p.x[i] = 6.1;
        }
    p.w = rnd(L->w_n, -0.5, 0.5);
    p.b = rnd(L->b_n, -0.5, 0.5);
    if (L->kind == DE_LAYER_BN)
        for (size_t i = 0; i < L->w_n; i++)
            p.w[i] += 1.0;
    p.r = rnd(p.ny, -1, 1);
    p.y = de_calloc(p.ny, sizeof(double));
    p.saved = de_calloc(2 * (size_t)L->c, sizeof(double));
    double *dx = de_calloc(p.nx, sizeof(double)), *dw = de_calloc(L->w_n + 1, sizeof(double)),
           *db = de_calloc(L->b_n + 1, sizeof(double));
    bwd(&p, dx, L->w_n ? dw : NULL, L->b_n ? db : NULL);
    int bad = fd_compare(&p, p.x, p.nx, dx, "x", desc);
    bad += fd_compare(&p, p.w, L->w_n, dw, "w", desc);
    bad += fd_compare(&p, p.b, L->b_n, db, "b", desc);
    CU_ASSERT_EQUAL(bad, 0);
    free(p.x), free(p.w), free(p.b), free(p.r), free(p.y), free(p.saved);
    free(dx), free(dw), free(db);
    de_net_destroy(net);
}

static void test_conv(void)
{
    check("input 2 5 5; conv 3 3 1 1", 2);        /* same padding */
    check("input 2 7 6; conv 4 3 2 1", 3);        /* stride 2, odd/even sizes */
    check("input 3 5 5; conv 2 1", 2);            /* 1x1 */
    check("input 1 6 6; conv 2 4 2 3", 1);        /* pad larger than half the kernel */
    check("input 2 4 4; conv 3 2 1 0", 1);        /* even kernel, one image (no chunk) */
    check("input 2 6 6; conv 3 3 2 1 nobias", 2); /* no biases (before batch norm) */
}

static void test_fc(void) { check("input 3 2 2; fc 5", 4); }
static void test_relu(void)
{
    check("input 2 3 3; relu", 3);
    check("input 2 3 3; relu6", 3);
}
static void test_dwconv(void)
{
    check("input 3 5 5; dwconv 3 1 1", 2);        /* same padding */
    check("input 4 7 6; dwconv 3 2 1 nobias", 3); /* stride 2, no biases (MobileNet-v2) */
    check("input 2 4 4; dwconv 2", 1);            /* even kernel, one image */
}
static void test_maxpool(void)
{
    check("input 2 4 4; maxpool 2", 2);
    check("input 2 5 5; maxpool 3 2 1", 2);
}
static void test_avgpool(void)
{
    check("input 2 4 4; avgpool 2", 2);
    check("input 2 5 5; avgpool 3 2 1", 2);
}
static void test_gap(void) { check("input 3 3 4; gap", 2); }
static void test_bn(void)
{
    check("input 3 3 3; bn", 4);
    check("input 2 1 1; bn", 5); /* after a GAP/FC: statistics over the batch only */
}

/* ADD: L = Σ r·(a + b); the gradients of a and b are r (accumulated onto what is there). */
static void test_add(void)
{
    size_t n = 24;
    double *a = rnd(n, -1, 1), *b = rnd(n, -1, 1), *r = rnd(n, -1, 1), *y = de_calloc(n, sizeof(double));
    double *da = rnd(n, 0, 1), *db = de_calloc(n, sizeof(double));
    double *da0 = de_calloc(n, sizeof(double));
    memcpy(da0, da, n * sizeof(double));
    de_layers_cpu_add_fwd_d(n, a, b, y);
    de_layers_cpu_add_bwd_d(n, r, da, db);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_DOUBLE_EQUAL(y[i], a[i] + b[i], 1e-15);
        CU_ASSERT_DOUBLE_EQUAL(da[i], da0[i] + r[i], 1e-15);
        CU_ASSERT_DOUBLE_EQUAL(db[i], r[i], 1e-15);
    }
    free(a), free(b), free(r), free(y), free(da), free(db), free(da0);
}

/* Softmax cross-entropy: the gradient of the mean loss over the logits. */
static void test_xent(void)
{
    int n = 3, k = 5, lab[3] = {0, 4, 2};
    double *z = rnd((size_t)n * k, -3, 3), *g = de_calloc((size_t)n * k, sizeof(double));
    int correct;
    double l0 = de_layers_cpu_xent_d(n, k, z, lab, g, 1.0 / n, &correct);
    CU_ASSERT(l0 > 0);
    int bad = 0;
    for (int i = 0; i < n * k; i++) {
        double keep = z[i];
        z[i] = keep + H;
        double lp = de_layers_cpu_xent_d(n, k, z, lab, NULL, 0, NULL);
        z[i] = keep - H;
        double lm = de_layers_cpu_xent_d(n, k, z, lab, NULL, 0, NULL);
        z[i] = keep;
        double num = (lp - lm) / (2 * H);
        bad += fabs(num - g[i]) > ATOL + RTOL * fabs(num);
    }
    CU_ASSERT_EQUAL(bad, 0);
    /* uniform logits: loss log(k), nothing "correct" unless the label is class 0 (first max) */
    double zz[5] = {0, 0, 0, 0, 0};
    int l1 = 3;
    CU_ASSERT_DOUBLE_EQUAL(de_layers_cpu_xent_d(1, 5, zz, &l1, NULL, 0, &correct), log(5.0), 1e-12);
    CU_ASSERT_EQUAL(correct, 0);
    free(z), free(g);
}

/* The fp32 kernels agree with the fp64 ones (same code): conv forward to float rounding. */
static void test_float_matches_double(void)
{
    de_net *net;
    CU_ASSERT_FATAL(de_net_parse("t", "input 4 9 9; conv 5 3 1 1", &net, NULL) == 0);
    const de_layer *L = de_net_layer(net, 0);
    size_t nx = 2 * 4 * 81, ny = 2 * 5 * 81;
    double *x = rnd(nx, -1, 1), *w = rnd(L->w_n, -1, 1), *b = rnd(L->b_n, -1, 1), *y = de_calloc(ny, 8);
    float *xf = de_calloc(nx, 4), *wf = de_calloc(L->w_n, 4), *bf = de_calloc(L->b_n, 4), *yf = de_calloc(ny, 4);
    for (size_t i = 0; i < nx; i++)
        xf[i] = (float)x[i];
    for (size_t i = 0; i < L->w_n; i++)
        wf[i] = (float)w[i], w[i] = wf[i];
    for (size_t i = 0; i < L->b_n; i++)
        bf[i] = (float)b[i], b[i] = bf[i];
    for (size_t i = 0; i < nx; i++)
        x[i] = xf[i];
    size_t wsn = de_layers_cpu_conv_ws(L, 2);
    double *ws = de_calloc(wsn, 8);
    float *wsf = de_calloc(wsn, 4);
    de_layers_cpu_conv_fwd_d(L, 2, x, w, b, y, ws, wsn);
    de_layers_cpu_conv_fwd(L, 2, xf, wf, bf, yf, wsf, wsn);
    /* 37 products of magnitude <= 1: float rounding <= 37 * 2^-24 * 1 ≈ 2.2e-6 */
    int bad = 0;
    for (size_t i = 0; i < ny; i++)
        bad += fabs(yf[i] - y[i]) > 1e-5 + 1e-5 * fabs(y[i]);
    CU_ASSERT_EQUAL(bad, 0);
    free(x), free(w), free(b), free(y), free(xf), free(wf), free(bf), free(yf), free(ws), free(wsf);
    de_net_destroy(net);
}

static void test_builtins(void)
{
    de_net *net;
    de_err err;
    CU_ASSERT_FATAL(de_net_builtin("edgenet-s", 0, &net, &err) == 0);
    CU_ASSERT_EQUAL(de_net_n_params(net), 454465); /* models/networks.cfg */
    CU_ASSERT_EQUAL(de_net_classes(net), 257);
    /* 60.2 M multiply-adds per image (networks.cfg): 120.4 MFLOP */
    CU_ASSERT(fabs(de_net_flops(net) - 120.4e6) < 0.1e6);
    de_net_destroy(net);
    CU_ASSERT_FATAL(de_net_builtin("resnet18", 0, &net, &err) == 0);
    /* torchvision resnet18: 11,689,512 with a 1000-class head (512*1000+1000 = 513,000);
     * with 257 classes: 11,689,512 - 513,000 + 512*257 + 257 = 11,308,353; our convolutions
     * always carry a bias (redundant before BN): + 64 + 4*64 + 5*128 + 5*256 + 5*512 = 4,800 */
    CU_ASSERT_EQUAL(de_net_n_params(net), 11308353 + 4800);
    CU_ASSERT(de_net_has_bn(net));
    de_net_destroy(net);
    CU_ASSERT_FATAL(de_net_builtin("resnet50-ft", 0, &net, &err) == 0);
    /* torchvision resnet50: 25,557,032 with 1,000 classes; with 257: 24,034,625 (no conv
     * biases); 4.0877 G multiply-adds forward */
    CU_ASSERT_EQUAL(de_net_n_params(net), 24034625);
    CU_ASSERT(fabs(de_net_flops(net) - 8.1753e9) < 0.001e9);
    CU_ASSERT_EQUAL(de_net_n_layers(net), 174);
    de_net_destroy(net);
    CU_ASSERT_FATAL(de_net_builtin("mobilenet-v2", 0, &net, &err) == 0);
    /* torchvision mobilenet_v2: 3,504,872 with 1,000 classes; with 257: 3,504,872 -
     * 1281 x 1000 + 1281 x 257 = 2,553,089; 299.8 M multiply-adds forward */
    CU_ASSERT_EQUAL(de_net_n_params(net), 2553089);
    CU_ASSERT(fabs(de_net_flops(net) - 0.5996e9) < 0.0005e9);
    de_net_destroy(net);
    CU_ASSERT(de_net_builtin("nope", 0, &net, &err) == DE_EREF);
    DE_ASSERT_CONTAINS(err.msg, "edgenet-s");
    CU_ASSERT(de_net_parse("bad", "input 3 8 8\nconv 4 3\nadd nowhere", &net, &err) == DE_EREF);
    DE_ASSERT_CONTAINS(err.msg, "bad:3");
    CU_ASSERT(de_net_parse("bad", "input 3 8 8\nconv 4 9", &net, &err) == DE_ERANGE);
    CU_ASSERT(de_net_parse("bad", "conv 4 3", &net, &err) == DE_EMISSING);
    CU_ASSERT(de_net_parse("bad", "input 3 8 8; frob", &net, &err) == DE_ESYNTAX);
    DE_ASSERT_CONTAINS(err.msg, "frob");
    /* 647 x 202 x 202 inputs to an fc of 257 (a libFuzzer find): 6.8 billion weights, refused
     * with the line before anything is allocated */
    CU_ASSERT(de_net_parse("big", "input 3 224 224; c: conv 647 23; f: fc 257", &net, &err) == DE_ERANGE);
    DE_ASSERT_CONTAINS(err.msg, "big:3: f: the network would have");
    DE_ASSERT_CONTAINS(err.msg, "over the limit of 268435456");
}

/* Weight files: round trip, partial load onto a new head, corrupted file refused. */
static void test_weights(void)
{
    de_net *a, *b;
    de_err err;
    CU_ASSERT_FATAL(de_net_parse("a", "input 3 8 8; c1: conv 4 3 1 1; bn1: bn; r: relu; g: gap; fc: fc 5", &a, NULL) == 0);
    CU_ASSERT_FATAL(de_net_parse("b", "input 3 8 8; c1: conv 4 3 1 1; bn1: bn; r: relu; g: gap; fc: fc 7", &b, NULL) == 0);
    de_net_init(a, 1);
    de_net_init(b, 2);
    char *path = de_test_tmpfile("", ".dew");
    CU_ASSERT_FATAL(de_net_save_weights(a, path, &err) == 0);
    int loaded;
    CU_ASSERT(de_net_load_weights(b, path, 0, &loaded, &err) == DE_EMISMATCH);
    DE_ASSERT_CONTAINS(err.msg, "fc");
    CU_ASSERT(de_net_load_weights(b, path, 1, &loaded, &err) == 0);
    CU_ASSERT_EQUAL(loaded, 2); /* c1 and bn1; the new head keeps its own weights */
    const de_layer *c1 = de_net_layer(a, 0);
    CU_ASSERT(memcmp(de_net_params(a), de_net_params(b), 4 * (c1->w_n + c1->b_n)) == 0);
    CU_ASSERT(de_net_freeze(b, "upto:bn1", &err) == 0);
    CU_ASSERT_EQUAL(de_net_n_trainable(b), (size_t)(4 * 7 + 7));
    CU_ASSERT(de_net_freeze(b, "nope", &err) == DE_EREF);
    /* flip one byte: refused */
    size_t len;
    char *buf = de_file_read(path, &len);
    buf[len / 2] ^= 1;
    FILE *f = fopen(path, "wb");
    fwrite(buf, 1, len, f);
    fclose(f);
    CU_ASSERT(de_net_load_weights(a, path, 1, NULL, &err) == DE_EIO);
    DE_ASSERT_CONTAINS(err.msg, "checksum");
    free(buf);
    de_test_unlink(path);
    de_net_destroy(a);
    de_net_destroy(b);
}

static int differ(const double *a, const double *b, size_t n, double rtol)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += fabs(a[i] - b[i]) > rtol * (1 + fabs(b[i]));
    return bad;
}

/* The threaded and fused paths against the single-threaded, unfused kernels (themselves
 * gradient-checked above), in double: conv over 5 images (uneven image ranges) with 1 and 2
 * threads. Forward outputs and dx come from one thread each with the full sum: equal to
 * rounding (1e-12); dw/db add per-thread partials in another order: 1e-12 relative too (in
 * double). Same thread count twice: bit-identical. Fused ReLU and DE_CPU_SET: bit-identical
 * to conv + relu and to accumulating into zeros. */
static void test_threads_fused(void)
{
    de_net *net;
    CU_ASSERT_FATAL(de_net_parse("t", "input 3 10 10; conv 6 3 1 1; maxpool 2", &net, NULL) == 0);
    const de_layer *L = de_net_layer(net, 0), *Pl = de_net_layer(net, 1);
    const int n = 5;
    size_t nx = (size_t)n * 3 * 100, ny = (size_t)n * 6 * 100, np = (size_t)n * 6 * 25;
    double *x = rnd(nx, -1, 1), *w = rnd(L->w_n, -0.5, 0.5), *b = rnd(L->b_n, -0.5, 0.5), *r = rnd(ny, -1, 1);
    double *y1 = de_calloc(ny, 8), *y2 = de_calloc(ny, 8), *yr = de_calloc(ny, 8);
    double *dx1 = de_calloc(nx, 8), *dx2 = de_calloc(nx, 8), *dw1 = de_calloc(L->w_n, 8), *dw2 = de_calloc(L->w_n, 8);
    double *db1 = de_calloc(L->b_n, 8), *db2 = de_calloc(L->b_n, 8), *rm = de_calloc(ny, 8);
    de_layers_cpu_threads(1);
    size_t wsn1 = de_layers_cpu_conv_ws(L, n);
    double *ws = de_calloc(wsn1 * 4 + 4096, 8);
    de_layers_cpu_conv_fwd_d(L, n, x, w, b, y1, ws, wsn1);
    de_layers_cpu_conv_bwd_d(L, n, x, w, r, dx1, dw1, db1, ws, wsn1);
    /* fused ReLU (1 thread): = relu(conv); backward = conv backward of the masked gradient */
    de_layers_cpu_conv_fwd_ex_d(L, n, x, w, b, yr, ws, wsn1, DE_CPU_RELU);
    int bad = 0;
    for (size_t i = 0; i < ny; i++) {
        bad += yr[i] != (y1[i] > 0 ? y1[i] : 0);
        rm[i] = yr[i] > 0 ? r[i] : 0;
    }
    CU_ASSERT_EQUAL(bad, 0);
    de_layers_cpu_conv_bwd_d(L, n, x, w, rm, dx2, dw2, db2, ws, wsn1);
    double *dx3 = de_calloc(nx, 8), *dw3 = de_calloc(L->w_n, 8), *db3 = de_calloc(L->b_n, 8);
    for (size_t i = 0; i < nx; i++)
        dx3[i] = 1e30; /* DE_CPU_SET: overwritten */
    de_layers_cpu_conv_bwd_ex_d(L, n, x, w, yr, r, dx3, dw3, db3, ws, wsn1, DE_CPU_RELU | DE_CPU_SET);
    CU_ASSERT(memcmp(dx2, dx3, nx * 8) == 0);
    CU_ASSERT(memcmp(dw2, dw3, L->w_n * 8) == 0);
    CU_ASSERT(memcmp(db2, db3, L->b_n * 8) == 0);
    /* max-pool backward, overwrite = accumulate into zeros */
    double *pd1 = de_calloc(ny, 8), *pd2 = de_calloc(ny, 8), *pg = rnd(np, -1, 1);
    de_layers_cpu_pool_bwd_d(Pl, n, y1, pg, pd1);
    for (size_t i = 0; i < ny; i++)
        pd2[i] = -7;
    de_layers_cpu_pool_bwd_ex_d(Pl, n, y1, pg, pd2, DE_CPU_SET);
    CU_ASSERT(memcmp(pd1, pd2, ny * 8) == 0);
    /* 2 threads: same values to rounding, and bit-identical run to run */
    de_layers_cpu_threads(2);
    size_t wsn2 = de_layers_cpu_conv_ws(L, n);
    CU_ASSERT(wsn2 <= wsn1 * 4 + 4096);
    for (int rep = 0; rep < 2; rep++) {
        memset(dx2, 0, nx * 8);
        de_layers_cpu_conv_fwd_d(L, n, x, w, b, y2, ws, wsn2);
        de_layers_cpu_conv_bwd_d(L, n, x, w, r, dx2, dw2, db2, ws, wsn2);
        CU_ASSERT_EQUAL(differ(y2, y1, ny, 1e-12), 0);
        CU_ASSERT_EQUAL(differ(dx2, dx1, nx, 1e-12), 0);
        CU_ASSERT_EQUAL(differ(dw2, dw1, L->w_n, 1e-12), 0);
        CU_ASSERT_EQUAL(differ(db2, db1, L->b_n, 1e-12), 0);
        if (rep == 0) {
            memcpy(dx3, dx2, nx * 8), memcpy(dw3, dw2, L->w_n * 8), memcpy(db3, db2, L->b_n * 8);
        } else {
            CU_ASSERT(memcmp(dx2, dx3, nx * 8) == 0);
            CU_ASSERT(memcmp(dw2, dw3, L->w_n * 8) == 0);
            CU_ASSERT(memcmp(db2, db3, L->b_n * 8) == 0);
        }
    }
    /* one image, 2 threads: the GEMMs split by output blocks */
    de_layers_cpu_conv_fwd_d(L, 1, x, w, b, y2, ws, wsn2);
    CU_ASSERT_EQUAL(differ(y2, y1, 600, 1e-12), 0);
    free(x), free(w), free(b), free(r), free(y1), free(y2), free(yr), free(dx1), free(dx2), free(dw1), free(dw2);
    free(db1), free(db2), free(rm), free(ws), free(dx3), free(dw3), free(db3), free(pd1), free(pd2), free(pg);
    de_net_destroy(net);
}

int main(void)
{
    static const de_test_case t[] = {{"conv", test_conv},
                                     {"fc", test_fc},
                                     {"relu, relu6", test_relu},
                                     {"depthwise conv", test_dwconv},
                                     {"maxpool", test_maxpool},
                                     {"avgpool", test_avgpool},
                                     {"gap", test_gap},
                                     {"bn", test_bn},
                                     {"add", test_add},
                                     {"softmax cross-entropy", test_xent},
                                     {"fp32 conv = fp64 conv", test_float_matches_double},
                                     {"threaded and fused conv = reference", test_threads_fused},
                                     {"built-in networks", test_builtins},
                                     {"weight files", test_weights},
                                     {NULL, NULL}};
    de_test_suite("layers", t);
    return de_test_run();
}
