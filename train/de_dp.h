/* de_dp.h — synchronous data-parallel SGD over MPI: one rank per device of a plan.
 *
 * Rank i computes the mean gradient g_i of its local batch of b_i samples
 * (de_train_grad); one MPI_Allreduce of b_i * g_i, divided by the global batch
 * B = sum b_i, gives every rank the gradient of the whole batch, and every rank applies
 * the same SGD step (de_train_step). Started from the same weights, the ranks stay
 * identical, and equal — up to float summation order — to one device training with
 * batch B (networks without batch norm: BN uses local batch statistics). This is the
 * iteration of the executor; `shares` comes from the plan (de_plan.h), unchanged. */
#ifndef DE_DP_H
#define DE_DP_H

#include <mpi.h>

#include "de_error.h"
#include "de_train.h"

typedef struct de_dp de_dp;

/* A data-parallel group over comm: rank r trains shares[r] samples per iteration
 * (n_shares == the communicator's size, every share >= 1). tr is borrowed. */
int de_dp_create(de_trainer *tr, size_t n_params, MPI_Comm comm, const int *shares, int n_shares, de_dp **out,
                 de_err *err);
void de_dp_destroy(de_dp *dp); /* NULL is a no-op */

/* New shares for the same ranks (a plan applied in place, at an iteration boundary on
 * every rank): the same rules as de_dp_create; the global batch may not change. */
int de_dp_set_shares(de_dp *dp, const int *shares, int n_shares, de_err *err);

/* This rank's share and its offset in the global batch (samples before it). */
int de_dp_local_batch(const de_dp *dp);
int de_dp_offset(const de_dp *dp);
int de_dp_global_batch(const de_dp *dp);

/* The synchronisation half of an iteration, after de_train_grad of the local batch:
 * ONE MPI_Allreduce carries b_i * g_i, b_i * local_loss and a control word (the sum of
 * every rank's `control`: the coordinator's stop request travels from rank 0 to all in
 * the same message), then the SGD step. *loss: the global mean loss (float precision),
 * *control_out: the summed control word, *allreduce_s: the time inside MPI (any may be
 * NULL). */
int de_dp_sync(de_dp *dp, double local_loss, int control, double lr, double *loss, int *control_out,
               double *allreduce_s, de_err *err);

/* One iteration: gradient of the local samples (x: local_batch x C x H x W), the
 * weighted all-reduce, the SGD step (de_train_grad + de_dp_sync). *loss gets the global
 * mean loss (may be NULL). */
int de_dp_step(de_dp *dp, const float *x, const int *labels, double lr, double *loss, de_err *err);

#endif
