/* cmd_bench_exec.c — `deepedge bench exec`: the executor's data-parallel overhead.
 *
 * For 2, 3, 4 local ranks (mpiexec of `deepedge _bench-exec`), every rank trains
 * edgenet-s with de_dp (de_train_grad on its even share of the global batch, then
 * de_dp_sync: one MPI_Allreduce of n_params + 2 floats and the SGD step) on synthetic
 * data, one OpenMP thread per rank. Per iteration it measures the iteration (slowest
 * rank), the slowest rank's compute (de_train_grad), and, separately after a barrier,
 * a raw MPI_Allreduce of the same bytes. The overhead is what the iteration costs
 * beyond compute + raw all-reduce: the SGD update, the gradient scaling, waiting. */
#include <getopt.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_exec.h"
#include "de_dp.h"
#include "de_net.h"
#include "de_probe.h"
#include "de_prng.h"
#include "de_train.h"
#include "de_util.h"

#define MAXV 32

void de_bench_exec_help(FILE *out)
{
    fprintf(out,
            "       deepedge bench exec [--ranks 2,3,4] [--batch 32] [--iters N] [--warmup N] [--net NAME]\n"
            "                           [--bytes LIST] [--reps N]\n");
}

static void help(FILE *out)
{
    fprintf(out, "usage:\n");
    de_bench_exec_help(out);
    fprintf(out,
            "\nexec measures the executor's data-parallel iteration on this host: for each rank count\n"
            "(mpiexec --oversubscribe --bind-to none, OMP_NUM_THREADS=1), every rank trains the network\n"
            "(default edgenet-s) on synthetic data with de_dp (its even share of the global --batch,\n"
            "default 32), and the medians over --iters iterations (default 20, after --warmup 3) of:\n"
            "the iteration (slowest rank), the slowest rank's compute (MPI_Allreduce MAX), and a raw\n"
            "MPI_Allreduce of the same n_params + 2 floats. overhead = iteration - (compute + raw\n"
            "all-reduce); target <= 10%% of the iteration. Then all-reduce time vs bytes (--bytes, default\n"
            "4096 .. 8388608 doubling; median of --reps, default 20) for each rank count.\n");
}

static int list_opt(const char *opt, const char *s, double lo, double hi, double *v, int *n)
{
    de_err err;
    if (de_probe_parse_list(opt, s, lo, hi, 1, v, MAXV, n, &err))
        return de_cli_fail("%s", err.msg);
    return 0;
}

typedef struct be_row {
    int ranks, n_params;
    double iter, compute, raw, mpi, over;
    char shares[128];
} be_row;

int de_bench_exec(int argc, char **argv)
{
    static const struct option opts[] = {{"ranks", required_argument, 0, 'k'},  {"batch", required_argument, 0, 'b'},
                                         {"iters", required_argument, 0, 'i'},  {"warmup", required_argument, 0, 'w'},
                                         {"net", required_argument, 0, 'n'},    {"bytes", required_argument, 0, 'y'},
                                         {"reps", required_argument, 0, 'R'},   {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    double ranks[MAXV] = {2, 3, 4}, bytes[MAXV];
    int nr = 3, nby = 0, c;
    for (double b = 4096; b <= 8388608; b *= 2)
        bytes[nby++] = b;
    long long batch = 32, iters = 20, warmup = 3, reps = 20;
    const char *net = "edgenet-s";
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'k': bad = list_opt("--ranks", optarg, 2, 64, ranks, &nr); break;
        case 'b': bad = de_cli_int("--batch", optarg, 1, 4096, &batch); break;
        case 'i': bad = de_cli_int("--iters", optarg, 1, 100000, &iters); break;
        case 'w': bad = de_cli_int("--warmup", optarg, 0, 1000, &warmup); break;
        case 'n': net = optarg; break;
        case 'y': bad = list_opt("--bytes", optarg, 4, 1073741824.0, bytes, &nby); break;
        case 'R': bad = de_cli_int("--reps", optarg, 1, 100000, &reps); break;
        case 'h': help(stdout); return DE_EXIT_OK;
        default:
            help(stderr);
            return de_cli_fail("bench exec: unknown option or missing argument: %s", argv[optind - 1]);
        }
        if (bad)
            return DE_EXIT_ERROR;
    }
    if (optind != argc)
        return de_cli_fail("bench exec: unexpected argument '%s'", argv[optind]);
    for (int i = 0; i < nr; i++)
        if (ranks[i] > batch)
            return de_cli_fail("--ranks: %d ranks cannot share --batch %lld (every rank needs a sample)",
                               (int)ranks[i], batch);
    for (int i = 0; i < nby; i++)
        if (fmod(bytes[i], 4) != 0)
            return de_cli_fail("--bytes: %.0f is not a multiple of 4 (float buffers)", bytes[i]);
    {
        de_net *n;
        de_err err;
        if (de_net_builtin(net, 0, &n, &err))
            return de_cli_fail("--net: %s", err.msg);
        de_net_destroy(n);
    }
    char sb[32], si[32], sw[32], sr[32];
    snprintf(sb, sizeof sb, "%lld", batch);
    snprintf(si, sizeof si, "%lld", iters);
    snprintf(sw, sizeof sw, "%lld", warmup);
    snprintf(sr, sizeof sr, "%lld", reps);
    printf("bench exec: %s, global batch %lld split evenly, 1 OpenMP thread per rank, %s -n K --oversubscribe "
           "--bind-to none;\nmedians of %lld iterations after %lld warm-up\n\n",
           net, batch, de_probe_mpiexec(), iters, warmup);
    fflush(stdout);
    be_row rows[MAXV];
    int rc = 0;
    for (int k = 0; k < nr && !rc; k++) {
        char *args[] = {"_bench-exec", "--batch", sb, "--iters", si, "--warmup", sw, "--net", (char *)net, NULL};
        char *out = NULL;
        de_err err;
        if (de_probe_mpirun((int)ranks[k], args, &out, &err)) {
            rc = de_cli_fail("bench exec with %d ranks: %s", (int)ranks[k], err.msg);
            break;
        }
        be_row *r = &rows[k];
        memset(r, 0, sizeof *r);
        const char *line = strstr(out, "benchexec ");
        if (!line || sscanf(line, "benchexec ranks=%d params=%d iter=%lf compute=%lf raw=%lf mpi=%lf over=%lf shares=%127s",
                            &r->ranks, &r->n_params, &r->iter, &r->compute, &r->raw, &r->mpi, &r->over,
                            r->shares) != 8)
            rc = de_cli_fail("bench exec with %d ranks: no result line in the ranks' output", (int)ranks[k]);
        free(out);
    }
    if (rc)
        return rc;
    printf("%5s %-11s %10s %12s %12s %10s %11s %9s %6s\n", "ranks", "local", "iter_ms", "compute_ms", "raw_ar_ms",
           "dp_mpi_ms", "overhead_ms", "overhead", "<=10%");
    for (int k = 0; k < nr; k++) {
        const be_row *r = &rows[k];
        double over = r->iter - (r->compute + r->raw);
        printf("%5d %-11s %10.2f %12.2f %12.3f %10.3f %11.3f %8.2f%% %6s\n", r->ranks, r->shares, r->iter * 1e3,
               r->compute * 1e3, r->raw * 1e3, r->mpi * 1e3, over * 1e3, 100 * over / r->iter,
               over <= 0.1 * r->iter ? "yes" : "NO");
    }
    printf("(all-reduce of %d + 2 floats = %.0f bytes; dp_mpi = the all-reduce inside de_dp_sync, slowest rank,\n"
           " which includes waiting for the slowest compute; per-iteration median of iter - compute - raw: ",
           rows[0].n_params, 4.0 * (rows[0].n_params + 2));
    for (int k = 0; k < nr; k++)
        printf("%s%.3f ms", k ? ", " : "", rows[k].over * 1e3);
    printf(")\n\nall-reduce time vs bytes (MPI_Allreduce of floats, MPI_SUM, in place; slowest rank, median of %lld)\n",
           reps);
    printf("%12s", "bytes");
    for (int k = 0; k < nr; k++) {
        char h[32];
        snprintf(h, sizeof h, "%d ranks ms", (int)ranks[k]);
        printf(" %13s", h);
    }
    printf("\n");
    fflush(stdout);
    char *blist = de_strdup("");
    for (int i = 0; i < nby; i++) {
        char *b2 = de_sprintf("%s%s%.0f", blist, i ? "," : "", bytes[i]);
        free(blist);
        blist = b2;
    }
    double *tab = de_calloc((size_t)nr * nby, sizeof(double));
    for (int k = 0; k < nr && !rc; k++) {
        char *args[] = {"_allreduce", "--bytes", blist, "--reps", sr, "--warmup", "3", NULL};
        char *out = NULL;
        de_err err;
        if (de_probe_mpirun((int)ranks[k], args, &out, &err)) {
            rc = de_cli_fail("bench exec: all-reduce with %d ranks: %s", (int)ranks[k], err.msg);
            break;
        }
        int got = 0;
        char *save = NULL;
        for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            double by, med, sd;
            if (sscanf(l, "allreduce %lf %lf %lf", &by, &med, &sd) == 3 && got < nby)
                tab[(size_t)k * nby + got++] = med;
        }
        free(out);
        if (got != nby)
            rc = de_cli_fail("bench exec: all-reduce with %d ranks: %d of %d sizes reported", (int)ranks[k], got, nby);
    }
    for (int i = 0; i < nby && !rc; i++) {
        printf("%12.0f", bytes[i]);
        for (int k = 0; k < nr; k++)
            printf(" %13.4f", tab[(size_t)k * nby + i] * 1e3);
        printf("\n");
    }
    free(tab);
    free(blist);
    return rc;
}

/* ---- deepedge _bench-exec: one rank ---- */

int de_cmd_bench_exec_rank(int argc, char **argv)
{
    static const struct option opts[] = {{"batch", required_argument, 0, 'b'}, {"iters", required_argument, 0, 'i'},
                                         {"warmup", required_argument, 0, 'w'}, {"net", required_argument, 0, 'n'},
                                         {0, 0, 0, 0}};
    long long batch = 32, iters = 20, warmup = 3;
    const char *netname = "edgenet-s";
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'b': bad = de_cli_int("--batch", optarg, 1, 4096, &batch); break;
        case 'i': bad = de_cli_int("--iters", optarg, 1, 100000, &iters); break;
        case 'w': bad = de_cli_int("--warmup", optarg, 0, 1000, &warmup); break;
        case 'n': netname = optarg; break;
        default: return de_cli_fail("_bench-exec: bad arguments (it is started by `deepedge bench exec`)");
        }
        if (bad)
            return DE_EXIT_ERROR;
    }
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    de_err err;
    de_err_clear(&err);
    int rc = DE_OK;
    int *shares = de_calloc((size_t)size, sizeof(int));
    for (int r = 0; r < size; r++)
        shares[r] = (int)(batch / size) + (r < batch % size);
    int local = shares[rank];
    de_net *net = NULL;
    de_trainer *tr = NULL;
    de_dp *dp = NULL;
    float *x = NULL, *raw = NULL;
    int *y = NULL;
    double *t = de_calloc(5 * (size_t)iters, sizeof(double));
    if (local < 1)
        rc = de_err_set(&err, DE_EINVAL, "%d ranks cannot share batch %lld", size, batch);
    if (!rc)
        rc = de_net_builtin(netname, 0, &net, &err);
    size_t np = 0;
    if (!rc) {
        de_net_init(net, 1); /* the same weights on every rank */
        np = de_net_n_params(net);
        de_train_opts to;
        de_train_opts_default(&to);
        to.max_batch = local;
        to.threads = 1;
        rc = de_train_create(net, &to, &tr, &err);
    }
    if (!rc)
        rc = de_dp_create(tr, np, MPI_COMM_WORLD, shares, size, &dp, &err);
    if (!rc) {
        int C, H, W;
        de_net_input(net, &C, &H, &W);
        size_t px = (size_t)C * H * W;
        x = de_calloc((size_t)local * px, sizeof(float));
        y = de_calloc((size_t)local, sizeof(int));
        uint64_t r = de_prng_seed(7, (uint64_t)rank);
        for (size_t i = 0; i < (size_t)local * px; i++)
            x[i] = (float)de_prng_normal(&r);
        for (int i = 0; i < local; i++)
            y[i] = (int)de_prng_below(&r, (uint32_t)de_net_classes(net));
        raw = de_calloc(np + 2, sizeof(float));
    }
    double *it_s = t, *comp_s = t + iters, *raw_s = t + 2 * iters, *mpi_s = t + 3 * iters, *over_s = t + 4 * iters;
    for (long long it = -warmup; it < iters && !rc; it++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = de_now_s(), loss, mpi;
        rc = de_train_grad(tr, x, y, local, &loss, NULL, &err);
        double t1 = de_now_s();
        if (!rc)
            rc = de_dp_sync(dp, loss, 0, 1e-4, NULL, NULL, &mpi, &err);
        if (rc)
            break;
        double t2 = de_now_s();
        double mine[3] = {t1 - t0, t2 - t0, mpi}, mx[3];
        MPI_Allreduce(mine, mx, 3, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        MPI_Barrier(MPI_COMM_WORLD);
        double t3 = MPI_Wtime();
        MPI_Allreduce(MPI_IN_PLACE, raw, (int)np + 2, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        double dr = MPI_Wtime() - t3, drm;
        MPI_Allreduce(&dr, &drm, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        if (it >= 0) {
            comp_s[it] = mx[0];
            it_s[it] = mx[1];
            mpi_s[it] = mx[2];
            raw_s[it] = drm;
            over_s[it] = mx[1] - mx[0] - drm;
        }
    }
    if (rc) {
        fprintf(stderr, "deepedge _bench-exec (rank %d): %s\n", rank, err.msg);
        MPI_Abort(MPI_COMM_WORLD, DE_EXIT_ERROR);
        return DE_EXIT_ERROR;
    }
    if (rank == 0) {
        char sh[128] = "";
        size_t len = 0;
        for (int r = 0; r < size && len < sizeof sh - 8; r++)
            len += (size_t)snprintf(sh + len, sizeof sh - len, "%s%d", r ? "/" : "", shares[r]);
        int n = (int)iters;
        double o = de_probe_median(over_s, n);
        printf("benchexec ranks=%d params=%zu iter=%.9g compute=%.9g raw=%.9g mpi=%.9g over=%.9g shares=%s\n", size,
               np, de_probe_median(it_s, n), de_probe_median(comp_s, n), de_probe_median(raw_s, n),
               de_probe_median(mpi_s, n), o, sh);
        fflush(stdout);
    }
    free(t);
    free(x);
    free(y);
    free(raw);
    free(shares);
    de_dp_destroy(dp);
    de_train_destroy(tr);
    de_net_destroy(net);
    MPI_Finalize();
    return DE_EXIT_OK;
}
