/* de_layers_cpu.h — the CPU layer kernels: the production CPU path and the oracle.
 *
 * Every kernel works on a batch of n images in NCHW layout with the per-image shapes
 * of a de_layer (de_net.h). Each exists in fp32 (production, the name as below) and
 * in fp64 (suffix _d: the same code instantiated for double, used by the
 * finite-difference gradient checks; see de_layers_cpu_impl.inc).
 *
 * Backward conventions: input gradients (dx, da, db of ADD) are ACCUMULATED (+=), so
 * a tensor read by several layers sums their contributions (the _ex kernels can overwrite
 * instead, DE_CPU_SET); parameter gradients (dw, db, dgamma, dbeta) are OVERWRITTEN. A
 * NULL gradient pointer is not computed (the network input, frozen layers). Convolutions
 * and FCs use GEMM (OpenBLAS sgemm_/dgemm_, kept single-threaded); the kernels run on
 * de_layers_cpu_threads OpenMP threads. */
#ifndef DE_LAYERS_CPU_H
#define DE_LAYERS_CPU_H

#include <stddef.h>

#include "de_net.h"

/* Elements of scratch space the conv kernels want for a batch of n images with the current
 * number of threads: per thread, cache-sized im2col chunks (columns + a GEMM output) and, in
 * backward, a partial weight gradient. Any ws_n of at least one image's columns + output
 * works: the kernels then use fewer threads or smaller chunks. */
size_t de_layers_cpu_conv_ws(const de_layer *L, int n);

/* Sets the number of threads of the kernels (>= 1; default: OpenMP's, e.g. OMP_NUM_THREADS).
 * Parallel kernels split work by images or planes (conv: each thread its image range, the
 * partial weight/bias gradients added in thread order; with fewer images than threads, the
 * GEMMs are split by output blocks): results are deterministic for a given thread count and
 * differ between thread counts only by the order of float additions in dw/db. OpenBLAS is
 * kept single-threaded (the kernels call it from their own threads). */
void de_layers_cpu_threads(int n);
/* The number of threads the kernels use. */
int de_layers_cpu_get_threads(void);

/* Flags of the _ex kernels. DE_CPU_RELU: conv forward writes max(0, conv + bias) (a conv
 * fused with the ReLU that follows it); conv backward then takes that output as y and uses
 * dy only where y > 0. DE_CPU_SET: the input gradient dx is OVERWRITTEN instead of
 * accumulated (the first of its producers in backward; saves zeroing it). */
#define DE_CPU_RELU 1
#define DE_CPU_SET 2
/* The OpenBLAS core in use (e.g. "Haswell", "Zen", "SkylakeX"). */
const char *de_layers_cpu_blas_core(void);
/* What the constructor did about OPENBLAS_CORETYPE (static text, for reports). */
const char *de_layers_cpu_coretype_note(void);

#define DE_LAYERS_CPU_DECLARE(T, SFX)                                                                             \
    void de_layers_cpu_conv_fwd##SFX(const de_layer *L, int n, const T *x, const T *w, const T *b, T *y, T *ws,   \
                                     size_t ws_n);                                                                \
    void de_layers_cpu_conv_bwd##SFX(const de_layer *L, int n, const T *x, const T *w, const T *dy, T *dx, T *dw, \
                                     T *db, T *ws, size_t ws_n);                                                  \
    void de_layers_cpu_conv_fwd_ex##SFX(const de_layer *L, int n, const T *x, const T *w, const T *b, T *y,      \
                                        T *ws, size_t ws_n, int flags);                                          \
    void de_layers_cpu_conv_bwd_ex##SFX(const de_layer *L, int n, const T *x, const T *w, const T *y,            \
                                        const T *dy, T *dx, T *dw, T *db, T *ws, size_t ws_n, int flags);         \
    void de_layers_cpu_fc_fwd##SFX(const de_layer *L, int n, const T *x, const T *w, const T *b, T *y);          \
    void de_layers_cpu_fc_bwd##SFX(const de_layer *L, int n, const T *x, const T *w, const T *dy, T *dx, T *dw,   \
                                   T *db);                                                                        \
    void de_layers_cpu_relu_fwd##SFX(size_t count, const T *x, T *y);                                             \
    void de_layers_cpu_relu_bwd##SFX(size_t count, const T *y, const T *dy, T *dx);                               \
    void de_layers_cpu_relu6_fwd##SFX(size_t count, const T *x, T *y);                                            \
    void de_layers_cpu_relu6_bwd##SFX(size_t count, const T *y, const T *dy, T *dx);                              \
    /* Depthwise convolution (DE_LAYER_DWCONV; b, db may be NULL: no biases). */                                 \
    void de_layers_cpu_dwconv_fwd##SFX(const de_layer *L, int n, const T *x, const T *w, const T *b, T *y);      \
    void de_layers_cpu_dwconv_bwd##SFX(const de_layer *L, int n, const T *x, const T *w, const T *dy, T *dx,     \
                                       T *dw, T *db);                                                             \
    /* MAXPOOL, AVGPOOL or GAP according to L->kind. */                                                           \
    void de_layers_cpu_pool_fwd##SFX(const de_layer *L, int n, const T *x, T *y);                                 \
    void de_layers_cpu_pool_bwd##SFX(const de_layer *L, int n, const T *x, const T *dy, T *dx);                   \
    void de_layers_cpu_pool_bwd_ex##SFX(const de_layer *L, int n, const T *x, const T *dy, T *dx, int flags);     \
    /* train != 0: batch statistics, saved[0..C) mean and saved[C..2C) 1/sqrt(var+eps), running (2C: mean,    \
     * unbiased variance; may be NULL) updated with momentum 0.1; train == 0: running statistics. */            \
    void de_layers_cpu_bn_fwd##SFX(const de_layer *L, int n, const T *x, const T *gamma, const T *beta, T *y,     \
                                   T *saved, T *running, int train);                                              \
    void de_layers_cpu_bn_bwd##SFX(const de_layer *L, int n, const T *x, const T *gamma, const T *saved,          \
                                   const T *dy, T *dx, T *dgamma, T *dbeta);                                      \
    void de_layers_cpu_add_fwd##SFX(size_t count, const T *a, const T *b, T *y);                                  \
    void de_layers_cpu_add_bwd##SFX(size_t count, const T *dy, T *da, T *db);                                     \
    /* Mean softmax cross-entropy over n rows of `classes` logits; dlogits (may be NULL) gets the gradient of   \
     * that mean times scale (overwritten); *correct (may be NULL) counts rows whose argmax is the label. */      \
    double de_layers_cpu_xent##SFX(int n, int classes, const T *logits, const int *labels, T *dlogits, T scale,   \
                                   int *correct);

DE_LAYERS_CPU_DECLARE(float, )
DE_LAYERS_CPU_DECLARE(double, _d)

/* Batch-norm epsilon (same on every backend). */
#define DE_BN_EPS 1e-5

#endif
