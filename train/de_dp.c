/* de_dp.c — data-parallel SGD over MPI (see de_dp.h). */
#include "de_dp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "de_util.h"

struct de_dp {
    de_trainer *tr;
    MPI_Comm comm;
    size_t n;          /* parameters */
    int local, offset, global;
    float *buf;        /* b_i * g_i, b_i * loss_i, control; then the sums */
};

/* MPI call check: the error string of the MPI library, with file:line. */
#define MPI_CHECK(call, err)                                                                       \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != MPI_SUCCESS) {                                                                  \
            char s_[MPI_MAX_ERROR_STRING];                                                         \
            int l_ = 0;                                                                            \
            MPI_Error_string(rc_, s_, &l_);                                                        \
            return de_err_set((err), DE_EIO, "%s:%d: %s failed: %s (check the MPI launch and the " \
                              "network between the ranks)", __FILE__, __LINE__, #call, s_);         \
        }                                                                                          \
    } while (0)

int de_dp_create(de_trainer *tr, size_t n_params, MPI_Comm comm, const int *shares, int n_shares, de_dp **out,
                 de_err *err)
{
    *out = NULL;
    int rank, size;
    MPI_CHECK(MPI_Comm_rank(comm, &rank), err);
    MPI_CHECK(MPI_Comm_size(comm, &size), err);
    if (n_shares != size)
        return de_err_set(err, DE_EMISMATCH, "data parallel: the plan has %d shares but MPI runs %d ranks", n_shares,
                          size);
    de_dp *dp = de_calloc(1, sizeof *dp);
    for (int r = 0; r < n_shares; r++) {
        if (shares[r] < 1) {
            free(dp);
            return de_err_set(err, DE_ERANGE, "data parallel: share %d of rank %d must be >= 1", shares[r], r);
        }
        if (r < rank)
            dp->offset += shares[r];
        dp->global += shares[r];
    }
    dp->tr = tr;
    dp->comm = comm;
    dp->n = n_params;
    dp->local = shares[rank];
    dp->buf = de_calloc(n_params + 2, sizeof(float));
    *out = dp;
    return DE_OK;
}

int de_dp_set_shares(de_dp *dp, const int *shares, int n_shares, de_err *err)
{
    int rank, size, offset = 0, global = 0;
    MPI_CHECK(MPI_Comm_rank(dp->comm, &rank), err);
    MPI_CHECK(MPI_Comm_size(dp->comm, &size), err);
    if (n_shares != size)
        return de_err_set(err, DE_EMISMATCH, "data parallel: %d new shares for %d ranks", n_shares, size);
    for (int r = 0; r < n_shares; r++) {
        if (shares[r] < 1)
            return de_err_set(err, DE_ERANGE, "data parallel: new share %d of rank %d must be >= 1", shares[r], r);
        if (r < rank)
            offset += shares[r];
        global += shares[r];
    }
    if (global != dp->global)
        return de_err_set(err, DE_EMISMATCH, "data parallel: new shares sum to %d, not the global batch %d", global,
                          dp->global);
    dp->offset = offset;
    dp->local = shares[rank];
    return DE_OK;
}

void de_dp_destroy(de_dp *dp)
{
    if (!dp)
        return;
    free(dp->buf);
    free(dp);
}

int de_dp_local_batch(const de_dp *dp)
{
    return dp->local;
}

int de_dp_offset(const de_dp *dp)
{
    return dp->offset;
}

int de_dp_global_batch(const de_dp *dp)
{
    return dp->global;
}

int de_dp_sync(de_dp *dp, double local_loss, int control, double lr, double *loss, int *control_out,
               double *allreduce_s, de_err *err)
{
    const float *g = de_train_gradient(dp->tr);
    float w = (float)dp->local;
    for (size_t j = 0; j < dp->n; j++)
        dp->buf[j] = w * g[j];
    dp->buf[dp->n] = (float)(local_loss * dp->local);
    dp->buf[dp->n + 1] = (float)control;
    double t0 = MPI_Wtime();
    /* Non-blocking, polled with short sleeps: a rank waiting for slower ones waits
     * passively, as an idle device would, instead of spinning on its CPU budget (and
     * on the cores its LC services need). Costs at most one poll interval (0.2 ms). */
    MPI_Request req;
    MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, dp->buf, (int)dp->n + 2, MPI_FLOAT, MPI_SUM, dp->comm, &req), err);
    for (;;) {
        int done = 0;
        MPI_CHECK(MPI_Test(&req, &done, MPI_STATUS_IGNORE), err);
        if (done)
            break;
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    if (allreduce_s)
        *allreduce_s = MPI_Wtime() - t0;
    float inv = 1.0f / (float)dp->global;
    for (size_t j = 0; j < dp->n; j++)
        dp->buf[j] *= inv;
    if (loss)
        *loss = dp->buf[dp->n] / (double)dp->global;
    if (control_out)
        *control_out = (int)lroundf(dp->buf[dp->n + 1]);
    return de_train_step(dp->tr, dp->buf, lr, err);
}

int de_dp_step(de_dp *dp, const float *x, const int *labels, double lr, double *loss, de_err *err)
{
    double l = 0;
    int rc = de_train_grad(dp->tr, x, labels, dp->local, &l, NULL, err);
    if (rc)
        return rc;
    return de_dp_sync(dp, l, 0, lr, loss, NULL, NULL, err);
}
