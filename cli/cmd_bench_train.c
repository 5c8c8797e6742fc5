/* cmd_bench_train.c — `deepedge bench train` (in deepedge-exec): training and inference
 * speed of the CNN engine, to set beside train/bench/pytorch_edgenet.py. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_exec.h"
#include "de_layers_cpu.h"
#include "de_net.h"
#include "de_prng.h"
#include "de_train.h"
#include "de_util.h"

static void help(FILE *out)
{
    fprintf(out, "usage: deepedge bench train [--net NAME] [--batch 8,32,64] [--threads 1,2] [--steps N] "
                 "[--device cpu|cuda]\n"
                 "       deepedge bench train --net NAME --split B1,B2,... [--device cpu|cuda]\n"
                 "--split: how far data-parallel shares B1, B2, ... (their local-mean gradients weighted by Bi/B,\n"
                 "what `deepedge run` all-reduces) are from one device's gradient at B = sum Bi, on the same\n"
                 "random images: equal up to float rounding without batch norm; with it, each share normalises\n"
                 "with its own batch's statistics.\n"
                 "(deepedge bench --help describes every benchmark)\n");
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Parses "8,32,64" into v (at most 16 values in [lo, hi]); returns the count or -1. */
static int int_list(const char *opt, const char *s, long long lo, long long hi, int *v)
{
    int n = 0;
    char *copy = de_strdup(s), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        long long x;
        if (n == 16 || de_cli_int(opt, t, lo, hi, &x)) {
            free(copy);
            return -1;
        }
        v[n++] = (int)x;
    }
    free(copy);
    return n;
}

static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_d);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

/* Median seconds of `steps` training steps (train != 0: gradient + SGD) or forward passes
 * (eval mode) at `batch`, after 5 warm-up runs; t has room for steps values. */
static int time_steps(de_net *net, de_backend dev, int threads, int batch, int train, const float *x, const int *y,
                      double *t, int steps, double *med)
{
    de_train_opts o;
    de_train_opts_default(&o);
    o.max_batch = batch;
    o.device = dev;
    o.threads = threads;
    de_trainer *tr;
    de_err err;
    if (de_train_create(net, &o, &tr, &err))
        return de_cli_fail("%s", err.msg);
    int rc = 0;
    for (int s = -5; s < steps && !rc; s++) {
        double t0 = de_now_s();
        rc = train ? (de_train_grad(tr, x, y, batch, NULL, NULL, &err) || de_train_step(tr, NULL, 1e-4, &err))
                   : de_train_eval(tr, x, y, batch, NULL, NULL, NULL, &err);
        if (s >= 0)
            t[s] = de_now_s() - t0;
    }
    de_train_destroy(tr);
    if (rc)
        return de_cli_fail("%s", err.msg);
    *med = median(t, steps);
    return 0;
}

/* --split: the all-reduced gradient of shares b[0..n) against one device's at their sum. */
static int split_gap(de_net *net, de_backend dev, const int *b, int n, const float *x, const int *y)
{
    int B = 0;
    for (int i = 0; i < n; i++)
        B += b[i];
    de_train_opts o;
    de_train_opts_default(&o);
    o.max_batch = B;
    o.device = dev;
    de_trainer *tr;
    de_err err;
    if (de_train_create(net, &o, &tr, &err))
        return de_cli_fail("%s", err.msg);
    size_t np = de_net_n_params(net), img = 0;
    int C, H, W;
    de_net_input(net, &C, &H, &W);
    img = (size_t)C * H * W;
    double *whole = de_calloc(np, sizeof(double)), *split = de_calloc(np, sizeof(double));
    int rc = de_train_grad(tr, x, y, B, NULL, NULL, &err);
    for (size_t j = 0; !rc && j < np; j++)
        whole[j] = de_train_gradient(tr)[j];
    for (int i = 0, at = 0; i < n && !rc; at += b[i++]) {
        rc = de_train_grad(tr, x + (size_t)at * img, y + at, b[i], NULL, NULL, &err);
        const float *g = de_train_gradient(tr);
        for (size_t j = 0; !rc && j < np; j++)
            split[j] += (double)b[i] / B * g[j];
    }
    de_train_destroy(tr);
    if (rc) {
        free(whole), free(split);
        return de_cli_fail("%s", err.msg);
    }
    double dd = 0, ww = 0, ss = 0, ws = 0;
    for (size_t j = 0; j < np; j++) {
        double d = split[j] - whole[j];
        dd += d * d, ww += whole[j] * whole[j], ss += split[j] * split[j], ws += whole[j] * split[j];
    }
    printf("shares");
    for (int i = 0; i < n; i++)
        printf("%s%d", i ? "+" : " ", b[i]);
    printf(" against one device at %d (%s, %s): |g_split - g_one| / |g_one| = %.3g, cosine %.6f\n", B,
           de_net_name(net), de_net_has_bn(net) ? "batch norm: local statistics per share" : "no batch norm",
           sqrt(dd / ww), ws / sqrt(ww * ss));
    free(whole), free(split);
    return DE_EXIT_OK;
}

static int bench_train(int argc, char **argv)
{
    static const struct option opts[] = {{"net", required_argument, 0, 'n'},   {"batch", required_argument, 0, 'b'},
                                         {"threads", required_argument, 0, 't'}, {"steps", required_argument, 0, 's'},
                                         {"device", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'},
                                         {"split", required_argument, 0, 'S'},   {0, 0, 0, 0}};
    int split[16], nsplit = 0;
    const char *netname = "edgenet-s";
    int batches[16] = {8, 32, 64}, nb = 3, threads[16] = {1, 2}, nt = 2;
    long long steps = 50;
    de_backend dev = DE_BACKEND_CPU;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': netname = optarg; break;
        case 'b': if ((nb = int_list("--batch", optarg, 1, 1024, batches)) < 0) return DE_EXIT_ERROR; break;
        case 't': if ((nt = int_list("--threads", optarg, 1, 256, threads)) < 0) return DE_EXIT_ERROR; break;
        case 's': if (de_cli_int("--steps", optarg, 1, 100000, &steps)) return DE_EXIT_ERROR; break;
        case 'd': if (de_cli_backend(optarg, &dev)) return DE_EXIT_ERROR; break;
        case 'S': if ((nsplit = int_list("--split", optarg, 1, 1024, split)) < 2) return nsplit < 0 ? DE_EXIT_ERROR : de_cli_fail("--split: at least two shares"); break;
        case 'h': help(stdout); return DE_EXIT_OK;
        default: help(stderr); return DE_EXIT_ERROR;
        }
    }
    de_err err;
    de_net *net;
    if (de_net_builtin(netname, 0, &net, &err))
        return de_cli_fail("%s", err.msg);
    de_net_init(net, 1);
    int C, H, W, maxb = 8;
    de_net_input(net, &C, &H, &W);
    for (int i = 0; i < nb; i++)
        maxb = batches[i] > maxb ? batches[i] : maxb;
    int ssum = 0;
    for (int i = 0; i < nsplit; i++)
        ssum += split[i];
    maxb = ssum > maxb ? ssum : maxb;
    int K = de_net_classes(net);
    float *x = de_calloc((size_t)maxb * C * H * W, sizeof(float));
    int *y = de_calloc((size_t)maxb, sizeof(int));
    uint64_t r = 7;
    for (size_t i = 0; i < (size_t)maxb * C * H * W; i++)
        x[i] = (float)de_prng_normal(&r);
    for (int i = 0; i < maxb; i++)
        y[i] = (int)de_prng_below(&r, (uint32_t)K);
    if (nsplit) {
        int rc = split_gap(net, dev, split, nsplit, x, y);
        free(x), free(y);
        de_net_destroy(net);
        return rc;
    }
    double flops = de_net_flops(net);
    printf("bench train: %s, %zu parameters, forward %.1f MFLOP/image, training step counted as 3x = %.1f MFLOP/image\n",
           netname, de_net_n_params(net), flops / 1e6, 3 * flops / 1e6);
    if (dev == DE_BACKEND_CPU)
        printf("CPU: OpenBLAS core %s (%s); median of %lld steps after 5 warm-up steps\n\n", de_layers_cpu_blas_core(),
               de_layers_cpu_coretype_note(), steps);
    printf("%-8s %7s %6s %10s %10s %9s\n", "device", "threads", "batch", "images/s", "ms/step", "GFLOP/s");
    double *t = de_calloc((size_t)steps, sizeof(double));
    int rc = 0;
    int nthreads = dev == DE_BACKEND_CPU ? nt : 1;
    const char *dname = dev == DE_BACKEND_CPU ? "cpu" : "cuda";
    for (int ti = 0; ti < nthreads && !rc; ti++)
        for (int bi = 0; bi < nb && !rc; bi++) {
            double m = NAN; /* set by time_steps when it returns 0 */
            if ((rc = time_steps(net, dev, threads[ti], batches[bi], 1, x, y, t, (int)steps, &m)))
                break;
            printf("%-8s %7d %6d %10.1f %10.2f %9.1f\n", dname, dev == DE_BACKEND_CPU ? threads[ti] : 0, batches[bi],
                   batches[bi] / m, 1e3 * m, 3 * flops * batches[bi] / m / 1e9);
            fflush(stdout);
        }
    if (!rc)
        printf("\ninference (forward only, eval mode), median of %lld\n%-8s %7s %6s %10s %10s\n", steps, "device",
               "threads", "batch", "ms", "images/s");
    const int ib[2] = {1, 8};
    for (int ti = 0; ti < nthreads && !rc; ti++)
        for (int bi = 0; bi < 2 && !rc; bi++) {
            double m = NAN; /* set by time_steps when it returns 0 */
            if ((rc = time_steps(net, dev, threads[ti], ib[bi], 0, x, y, t, (int)steps, &m)))
                break;
            printf("%-8s %7d %6d %10.2f %10.1f\n", dname, dev == DE_BACKEND_CPU ? threads[ti] : 0, ib[bi], 1e3 * m,
                   ib[bi] / m);
        }
    free(t);
    free(x);
    free(y);
    de_net_destroy(net);
    return rc;
}


int de_cmd_bench_heavy(int argc, char **argv)
{
    const char *b = argc >= 2 ? argv[1] : "";
    if (strcmp(b, "train") == 0)
        return bench_train(argc - 1, argv + 1);
    if (strcmp(b, "exec") == 0)
        return de_bench_exec(argc - 1, argv + 1);
    return de_cli_fail("deepedge-exec bench: train or exec (the other benchmarks are deepedge's)");
}
