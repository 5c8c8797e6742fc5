/* de_layers_cuda.h — the CUDA path of the trainer (built only when nvcc is found).
 *
 * A de_cuda_net holds a network's parameters, gradients, momentum, activations and
 * workspaces in device memory, allocated once at creation for max_batch images.
 * Convolutions use cuDNN (forward, backward data, backward filter; the algorithm is
 * chosen once per layer shape at creation, the workspace is the largest any chosen
 * algorithm needs), fully connected layers cuBLAS, everything else our kernels. Every
 * CUDA/cuDNN/cuBLAS call is checked; errors come back as DE_EIO with file:line, the
 * failing call and a hint in err. Semantics are those of the CPU path (de_train.h,
 * de_layers_cpu.h), which is the oracle: tests/test_cuda.c compares them. */
#ifndef DE_LAYERS_CUDA_H
#define DE_LAYERS_CUDA_H

#include "de_error.h"
#include "de_net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct de_cuda_net de_cuda_net;

/* Number of CUDA devices (0 when there is none or no driver). */
int de_cuda_device_count(void);
/* A short description of device 0 ("NVIDIA H100 80GB HBM3, cc 9.0"), static storage. */
const char *de_cuda_device_name(void);

int de_cuda_create(de_net *net, int max_batch, de_cuda_net **out, de_err *err);
void de_cuda_destroy(de_cuda_net *c); /* NULL is a no-op */

/* Forward of n images (host x); train selects batch statistics for BN. logits (host,
 * may be NULL) receives n x classes outputs. */
int de_cuda_forward(de_cuda_net *c, const float *x, int n, int train, float *logits, de_err *err);
/* Forward + backward; the mean gradient stays on the device and is copied to grad (host,
 * may be NULL). */
int de_cuda_grad(de_cuda_net *c, const float *x, const int *labels, int n, double *loss, int *correct, float *grad,
                 de_err *err);
/* SGD step with momentum and weight decay; grad (host) NULL uses the device gradient. */
int de_cuda_step(de_cuda_net *c, const float *grad, double lr, double momentum, double wd, de_err *err);
/* Copies parameters, BN state and momentum device <-> host (any pointer may be NULL). */
int de_cuda_pull(de_cuda_net *c, float *params, float *state, float *momentum, de_err *err);
int de_cuda_push(de_cuda_net *c, const float *params, const float *state, const float *momentum, de_err *err);
/* Output of layer i (n x its size) of the last forward, to host. */
int de_cuda_activation(de_cuda_net *c, int layer, int n, float *out, de_err *err);

#ifdef __cplusplus
}
#endif

#endif
