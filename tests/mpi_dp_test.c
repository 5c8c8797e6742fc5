/* mpi_dp_test.c — data-parallel training over MPI (run by ctest with 3 ranks): shares
 * 5/11/16 of a global batch of 32 follow the same loss trajectory and reach the same
 * weights as one process training with batch 32, up to float summation order; and the
 * ranks stay identical to each other. */
#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "de_dataset.h"
#include "de_dp.h"
#include "de_test.h"
#include "de_util.h"

static const char SMALL[] = "input 3 16 16; c1: conv 8 3 1 1; relu; maxpool 2; c2: conv 16 3 1 1; relu;"
                            " gap; fc: fc 4";

static de_trainer *make(de_net **net, int batch)
{
    de_err err;
    if (de_net_parse("small", SMALL, net, &err))
        fprintf(stderr, "%s\n", err.msg);
    de_net_init(*net, 11);
    de_train_opts o;
    de_train_opts_default(&o);
    o.max_batch = batch;
    o.threads = 1;
    de_trainer *tr = NULL;
    if (de_train_create(*net, &o, &tr, &err))
        fprintf(stderr, "%s\n", err.msg);
    return tr;
}

static void test_uneven_shares(void)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    CU_ASSERT_FATAL(size == 3);
    const int shares[3] = {5, 11, 16}, B = 32, steps = 12, px = 3 * 16 * 16;
    de_dataset *ds = de_dataset_synthetic(4, 40, 3, 16, 5);
    de_net *net, *ref_net;
    de_trainer *tr = make(&net, shares[rank]), *ref = make(&ref_net, B);
    CU_ASSERT_FATAL(tr && ref);
    size_t np = de_net_n_params(net);
    de_dp *dp;
    de_err err;
    CU_ASSERT_FATAL(de_dp_create(tr, np, MPI_COMM_WORLD, shares, 3, &dp, &err) == DE_OK);
    CU_ASSERT_EQUAL(de_dp_global_batch(dp), B);
    CU_ASSERT_EQUAL(de_dp_local_batch(dp), shares[rank]);
    float *x = de_calloc((size_t)B * px, sizeof(float));
    int y[32], idx[32], n = de_dataset_count(ds);
    double worst_loss = 0;
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < B; i++)
            idx[i] = (s * B + i) % n;
        de_dataset_batch(ds, idx, B, 16, 16, 0, NULL, x, y);
        double l_dp, l_ref;
        int off = de_dp_offset(dp);
        CU_ASSERT_FATAL(de_dp_step(dp, x + (size_t)off * px, y + off, 0.05, &l_dp, &err) == DE_OK);
        CU_ASSERT_FATAL(de_train_grad(ref, x, y, B, &l_ref, NULL, &err) == DE_OK);
        CU_ASSERT_FATAL(de_train_step(ref, NULL, 0.05, &err) == DE_OK);
        worst_loss = fmax(worst_loss, fabs(l_dp - l_ref) / fabs(l_ref));
    }
    /* Float summation order differs (per-rank means, then a weighted sum): relative
     * 1e-5 on the loss, 1e-5 max|w| + 1e-4 |w| on the weights after 12 steps. */
    CU_ASSERT(worst_loss < 1e-5);
    const float *w = de_net_params(net), *wr = de_net_params(ref_net);
    double wmax = 0;
    for (size_t j = 0; j < np; j++)
        wmax = fmax(wmax, fabs(wr[j]));
    int bad = 0;
    for (size_t j = 0; j < np; j++)
        bad += fabs(w[j] - wr[j]) > 1e-5 * wmax + 1e-4 * fabs(wr[j]);
    CU_ASSERT_EQUAL(bad, 0);
    /* The ranks hold bit-identical weights. */
    float *w0 = de_calloc(np, sizeof(float));
    memcpy(w0, w, np * sizeof(float));
    MPI_Bcast(w0, (int)np, MPI_FLOAT, 0, MPI_COMM_WORLD);
    CU_ASSERT(memcmp(w0, w, np * sizeof(float)) == 0);
    if (rank == 0)
        fprintf(stderr, "\n  3 ranks (5/11/16 of 32), %d steps: worst relative loss difference %.2e\n", steps,
                worst_loss);
    /* A plan that does not match the launch is refused. */
    const int two[2] = {16, 16};
    de_dp *bad_dp = NULL;
    CU_ASSERT_EQUAL(de_dp_create(tr, np, MPI_COMM_WORLD, two, 2, &bad_dp, &err), DE_EMISMATCH);
    DE_ASSERT_CONTAINS(err.msg, "2 shares but MPI runs 3 ranks");
    free(w0);
    free(x);
    de_dp_destroy(dp);
    de_train_destroy(tr);
    de_train_destroy(ref);
    de_net_destroy(net);
    de_net_destroy(ref_net);
    de_dataset_destroy(ds);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    static const de_test_case cases[] = {{"uneven shares = one batch", test_uneven_shares}, {NULL, NULL}};
    de_test_suite("data parallel over MPI", cases);
    int rc = de_test_run();
    MPI_Finalize();
    return rc;
}
