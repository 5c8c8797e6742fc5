/* test_cuda.c — the CUDA path against the CPU oracle (skips with 77 without a GPU).
 *
 * Same network, same weights, same data on both backends; every layer's forward output,
 * every parameter gradient and the weights after a few SGD steps are compared with
 * |gpu − cpu| ≤ atol + rtol·|cpu|, per tensor:
 *  - forward activations: atol 1e-4·max|cpu| + rtol 1e-3. Convolutions sum up to
 *    C·K·K = 1,152 fp32 products in a different order (cuDNN vs im2col+sgemm, FP32 FMA
 *    math, no TF32): the expected error is ~sqrt(1152)·2^-24·|terms| ≈ 1e-5 relative;
 *    1e-3 leaves room for deep stacks, and a wrong index gives O(1) errors.
 *  - gradients: atol 1e-3·max|cpu| + rtol 1e-2: backward sums over batch x positions
 *    (up to 5·4096 terms for conv1's filter) with cancellation; still far below O(1).
 *  - weights after 3 SGD steps (lr 0.01): atol 1e-5 + rtol 1e-4 (updates are 1e-2 of
 *    gradients whose error is bounded above).
 * It also checks that the GPU gradient is bit-identical across two evaluations
 * (deterministic algorithms: the basis of bit-identical resume on CUDA) and that a
 * CUDA run resumed from a checkpoint ends bit-identical to an uninterrupted CUDA run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "de_prng.h"
#include "de_test.h"
#include "de_train.h"
#include "de_util.h"
#ifdef DE_HAVE_CUDA
#include "de_layers_cuda.h"

static const char ALL[] = "input 3 16 16; c1: conv 8 3 1 1; relu; p1: maxpool 2; c2: conv 8 3 1 1; b2: bn; r2: relu;"
                          " s: add p1; a: avgpool 3 2 1; c3: conv 16 3 2 1; relu; gap; fc: fc 6";

static int close_enough(const char *what, const float *gpu, const float *cpu, size_t n, double atol_rel, double rtol)
{
    double mx = 0;
    for (size_t i = 0; i < n; i++)
        mx = fmax(mx, fabs(cpu[i]));
    double atol = atol_rel * mx + 1e-30;
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        if (!(fabs(gpu[i] - cpu[i]) <= atol + rtol * fabs(cpu[i]))) {
            if (bad < 3)
                fprintf(stderr, "\n  %s[%zu]: gpu %.8g cpu %.8g", what, i, gpu[i], cpu[i]);
            bad++;
        }
    return bad;
}

static de_trainer *make(de_net *net, de_backend dev, int batch)
{
    de_train_opts o;
    de_train_opts_default(&o);
    o.max_batch = batch;
    o.device = dev;
    o.threads = 1;
    de_trainer *tr = NULL;
    de_err err;
    if (de_train_create(net, &o, &tr, &err))
        fprintf(stderr, "\n  %s", err.msg);
    return tr;
}

static void compare_net(const char *desc_or_builtin, int builtin, int n)
{
    de_net *a, *b;
    de_err err;
    int prc = builtin ? de_net_builtin(desc_or_builtin, 0, &a, &err) : de_net_parse("all", desc_or_builtin, &a, &err);
    CU_ASSERT_FATAL(prc == 0);
    de_net_init(a, 5);
    b = de_net_clone(a);
    de_trainer *cpu = make(a, DE_BACKEND_CPU, n), *gpu = make(b, DE_BACKEND_CUDA, n);
    CU_ASSERT_FATAL(cpu && gpu);
    int C, H, W;
    de_net_input(a, &C, &H, &W);
    size_t nx = (size_t)n * C * H * W, np = de_net_n_params(a);
    float *x = de_calloc(nx, sizeof(float));
    int *y = de_calloc((size_t)n, sizeof(int));
    uint64_t r = 9;
    for (size_t i = 0; i < nx; i++)
        x[i] = (float)de_prng_normal(&r);
    for (int i = 0; i < n; i++)
        y[i] = (int)de_prng_below(&r, (uint32_t)de_net_classes(a));
    double lc, lg;
    CU_ASSERT_FATAL(de_train_grad(cpu, x, y, n, &lc, NULL, &err) == 0);
    int rc = de_train_grad(gpu, x, y, n, &lg, NULL, &err);
    if (rc)
        fprintf(stderr, "\n  %s", err.msg);
    CU_ASSERT_FATAL(rc == 0);
    CU_ASSERT(fabs(lc - lg) <= 1e-4 * fabs(lc));
    int bad = 0;
    for (int i = 0; i < de_net_n_layers(a); i++) {
        const de_layer *L = de_net_layer(a, i);
        size_t cnt = (size_t)n * L->oc * L->oh * L->ow;
        float *ac = de_calloc(cnt, 4), *ag = de_calloc(cnt, 4);
        de_train_activation(cpu, i, n, ac, NULL);
        de_train_activation(gpu, i, n, ag, NULL);
        bad += close_enough(L->name, ag, ac, cnt, 1e-4, 1e-3);
        free(ac), free(ag);
    }
    CU_ASSERT_EQUAL(bad, 0);
    /* every parameter tensor's gradient */
    const float *gc = de_train_gradient(cpu), *gg = de_train_gradient(gpu);
    bad = 0;
    for (int i = 0; i < de_net_n_layers(a); i++) {
        const de_layer *L = de_net_layer(a, i);
        if (L->w_n)
            bad += close_enough(L->name, gg + L->w_off, gc + L->w_off, L->w_n, 1e-3, 1e-2);
        if (L->b_n)
            bad += close_enough(L->name, gg + L->b_off, gc + L->b_off, L->b_n, 1e-3, 1e-2);
    }
    CU_ASSERT_EQUAL(bad, 0);
    /* determinism of the GPU gradient */
    float *g1 = de_calloc(np, 4);
    memcpy(g1, gg, np * 4);
    CU_ASSERT(de_train_grad(gpu, x, y, n, NULL, NULL, &err) == 0);
    CU_ASSERT(memcmp(g1, de_train_gradient(gpu), np * 4) == 0);
    /* three SGD steps on both */
    for (int s = 0; s < 3; s++) {
        CU_ASSERT(de_train_grad(cpu, x, y, n, NULL, NULL, &err) == 0);
        CU_ASSERT(de_train_step(cpu, NULL, 0.01, &err) == 0);
        CU_ASSERT(de_train_grad(gpu, x, y, n, NULL, NULL, &err) == 0);
        CU_ASSERT(de_train_step(gpu, NULL, 0.01, &err) == 0);
    }
    CU_ASSERT(de_train_pull(gpu, &err) == 0);
    CU_ASSERT_EQUAL(close_enough("weights", de_net_params(b), de_net_params(a), np, 1e-5, 1e-4), 0);
    free(g1), free(x), free(y);
    de_train_destroy(cpu);
    de_train_destroy(gpu);
    de_net_destroy(a);
    de_net_destroy(b);
}

static void test_all_layers(void) { compare_net(ALL, 0, 5); }
static void test_edgenet(void) { compare_net("edgenet-s", 1, 4); }

static int run(de_net *net, const de_dataset *ds, const char *ckpt, const char *resume, long stop)
{
    de_trainer *tr = make(net, DE_BACKEND_CUDA, 8);
    if (!tr)
        return -1;
    de_train_run_opts o;
    de_train_run_opts_default(&o);
    o.batch = 8;
    o.epochs = 2;
    o.lr = 0.05;
    o.checkpoint = ckpt;
    o.resume = resume;
    o.stop_after = stop;
    de_train_result res;
    de_err err;
    int rc = de_train_run(tr, ds, &o, &res, &err);
    if (rc)
        fprintf(stderr, "\n  %s", err.msg);
    de_train_destroy(tr);
    return rc;
}

static void test_resume(void)
{
    de_dataset *ds = de_dataset_synthetic(4, 10, 3, 18, 13);
    de_net *a, *b;
    CU_ASSERT_FATAL(de_net_parse("s", "input 3 16 16; conv 8 3 1 1; relu; maxpool 2; conv 16 3 1 1; relu; gap; fc 4",
                                 &a, NULL) == 0);
    de_net_init(a, 8);
    b = de_net_clone(a);
    char *ck = de_test_tmpfile("", ".ckpt");
    CU_ASSERT_FATAL(run(a, ds, NULL, NULL, 0) == 0);
    CU_ASSERT_FATAL(run(b, ds, ck, NULL, 3) == 0);
    de_net_init(b, 77);
    CU_ASSERT_FATAL(run(b, ds, ck, ck, 0) == 0);
    CU_ASSERT(memcmp(de_net_params(a), de_net_params(b), de_net_n_params(a) * 4) == 0);
    de_test_unlink(ck);
    de_net_destroy(a);
    de_net_destroy(b);
    de_dataset_destroy(ds);
}

#endif /* DE_HAVE_CUDA */

int main(void)
{
#ifndef DE_HAVE_CUDA
    printf("test_cuda: built without CUDA: skipped\n");
    return 77;
#else
    if (de_cuda_device_count() < 1) {
        printf("test_cuda: no CUDA device: skipped\n");
        return 77;
    }
    printf("test_cuda: %s\n", de_cuda_device_name());
    static const de_test_case t[] = {{"every layer: forward, gradients, SGD vs CPU", test_all_layers},
                                     {"edgenet-s vs CPU", test_edgenet},
                                     {"resume bit-identical on CUDA", test_resume},
                                     {NULL, NULL}};
    de_test_suite("cuda", t);
    return de_test_run();
#endif
}
