/* de_train.h — the CNN trainer: gradient of a local batch, SGD step, evaluation, and the
 * training loop with checkpoints, on the CPU (the oracle) or on a CUDA device.
 *
 * Data-parallel use (the executor): each rank calls de_train_grad on its local batch of
 * b_i samples, which leaves the MEAN gradient g_i of the loss over that batch in
 * de_train_gradient(); the ranks all-reduce Σ b_i·g_i / B (B = Σ b_i) and every rank
 * applies de_train_step with that averaged gradient. Without batch normalisation this
 * is exactly the step of one device with batch B (up to float rounding).
 *
 * SGD (PyTorch semantics): g += wd·w; v = momentum·v + g; w -= lr·v, on every
 * parameter of layers that are not frozen (biases and BN parameters included). */
#ifndef DE_TRAIN_H
#define DE_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "de_dataset.h"
#include "de_error.h"
#include "de_net.h"

typedef enum de_backend { DE_BACKEND_CPU = 0, DE_BACKEND_CUDA = 1 } de_backend;

typedef struct de_train_opts {
    int max_batch;        /* largest local batch (>= 1) */
    de_backend device;
    int threads;          /* CPU: kernel threads (0: OpenMP default, e.g. OMP_NUM_THREADS) */
    double momentum;      /* default 0.9 */
    double weight_decay;  /* default 5e-4 */
} de_train_opts;

void de_train_opts_default(de_train_opts *o);

typedef struct de_trainer de_trainer;

/* A trainer for net (borrowed: it must outlive the trainer). On CUDA the parameters are
 * copied to the device; de_train_pull / de_train_push synchronise net's host copy.
 * DE_EINVAL when CUDA is asked for but not built in or no device is present. */
int de_train_create(de_net *net, const de_train_opts *o, de_trainer **out, de_err *err);
void de_train_destroy(de_trainer *tr); /* NULL is a no-op */

/* Forward + backward of n <= max_batch samples (x: n x C x H x W, labels in [0, classes)),
 * in training mode. Leaves the mean gradient in de_train_gradient() (zeros for frozen
 * layers); *loss (mean) and *correct (argmax hits) may be NULL. */
int de_train_grad(de_trainer *tr, const float *x, const int *labels, int n, double *loss, int *correct, de_err *err);
/* The gradient of the last de_train_grad, n_params floats (a host copy on CUDA). */
const float *de_train_gradient(de_trainer *tr);
/* One SGD step with grad (n_params floats on the host; NULL: the trainer's own gradient). */
int de_train_step(de_trainer *tr, const float *grad, double lr, de_err *err);
/* Forward in inference mode (BN running statistics): loss and hits over n samples; logits
 * (n x classes, may be NULL) receives the outputs. */
int de_train_eval(de_trainer *tr, const float *x, const int *labels, int n, double *loss, int *correct, float *logits,
                  de_err *err);
/* Output of layer i (n x its size) from the last forward, copied to out. */
int de_train_activation(de_trainer *tr, int layer, int n, float *out, de_err *err);
/* The options the trainer runs with (momentum, weight decay: what a checkpoint records). */
const de_train_opts *de_train_options(const de_trainer *tr);

/* The momentum buffer (n_params floats, host copy; writable, push after writing). */
float *de_train_momentum(de_trainer *tr);
/* CUDA: copies parameters, BN state and momentum device -> host (pull) or host -> device
 * (push). CPU: no-ops. */
int de_train_pull(de_trainer *tr, de_err *err);
int de_train_push(de_trainer *tr, de_err *err);
de_backend de_train_backend(const de_trainer *tr);

/* ---- the training loop ---- */

typedef struct de_train_epoch {
    int epoch;                        /* 1-based */
    double train_loss, train_acc;     /* over the epoch's training steps */
    double val_loss, val_acc;         /* NAN when there is no validation set */
    double seconds, images_per_s;
} de_train_epoch;

/* Progress of the current epoch: step of steps. */
typedef void (*de_train_progress_fn)(void *ud, int epoch, int step, int steps, double loss, double acc);
typedef void (*de_train_epoch_fn)(void *ud, const de_train_epoch *e);

typedef struct de_train_run_opts {
    int batch, epochs;
    double lr;
    uint64_t seed;           /* split, shuffling, augmentation (not the initial weights) */
    double val_frac;         /* fraction held out for validation (0.2) */
    int augment;             /* random crop + flip */
    const char *checkpoint;  /* written at the end of every epoch and every ckpt_every steps (NULL: none) */
    int ckpt_every;
    const char *resume;      /* checkpoint to start from (NULL: a fresh run) */
    long stop_after;         /* stop (after checkpointing) once this many global steps are done; 0: never */
    de_train_progress_fn progress;
    de_train_epoch_fn on_epoch;
    void *ud;
} de_train_run_opts;

void de_train_run_opts_default(de_train_run_opts *o);

typedef struct de_train_result {
    int epochs_done;
    long steps;
    de_train_epoch last;
    double seconds;
    int stopped;             /* 1: stopped by stop_after */
} de_train_result;

/* Trains tr's network on ds for o->epochs epochs (or until stop_after). With resume the
 * run continues bit-identically (same backend) from the checkpoint's position. */
int de_train_run(de_trainer *tr, const de_dataset *ds, const de_train_run_opts *o, de_train_result *res, de_err *err);

#endif
