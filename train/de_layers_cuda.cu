/* de_layers_cuda.cu — the CUDA path of the trainer (see de_layers_cuda.h).
 *
 * Device memory is allocated once at creation for max_batch images: parameters,
 * gradient, momentum, BN state, every activation and its gradient, the cuDNN
 * workspace. Convolutions: cuDNN with FP32 FMA math (no TF32, so that the CPU oracle
 * comparison holds at fp32 tolerances), algorithms chosen once per layer at creation
 * with cuDNN's heuristics, restricted to DETERMINISTIC backward algorithms so that a
 * resumed run is bit-identical to an uninterrupted one on the same GPU. Fully connected:
 * cuBLAS sgemm (default math, no TF32). Everything else: the kernels below, written as
 * gathers (no atomics) for the same reason. Every CUDA/cuDNN/cuBLAS call goes through a
 * check macro that returns DE_EIO with file:line, the call and a hint. */
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern "C" {
#include "de_layers_cpu.h" /* DE_BN_EPS */
#include "de_layers_cuda.h"
#include "de_util.h"
}

#define CK(call, hint)                                                                                          \
    do {                                                                                                        \
        cudaError_t e_ = (call);                                                                                \
        if (e_ != cudaSuccess)                                                                                  \
            return de_err_set(err, DE_EIO, "%s:%d: %s: %s (%s)", __FILE__, __LINE__, #call, cudaGetErrorString(e_), \
                              hint);                                                                            \
    } while (0)
#define CKDNN(call, hint)                                                                                       \
    do {                                                                                                        \
        cudnnStatus_t s_ = (call);                                                                              \
        if (s_ != CUDNN_STATUS_SUCCESS)                                                                         \
            return de_err_set(err, DE_EIO, "%s:%d: %s: %s (%s)", __FILE__, __LINE__, #call, cudnnGetErrorString(s_), \
                              hint);                                                                            \
    } while (0)
#define CKBLAS(call, hint)                                                                                      \
    do {                                                                                                        \
        cublasStatus_t s_ = (call);                                                                             \
        if (s_ != CUBLAS_STATUS_SUCCESS)                                                                        \
            return de_err_set(err, DE_EIO, "%s:%d: %s: cuBLAS status %d (%s)", __FILE__, __LINE__, #call, (int)s_, \
                              hint);                                                                            \
    } while (0)
#define CKLAUNCH(what) CK(cudaGetLastError(), "kernel launch failed: " what)

static const int TPB = 256;
static unsigned blocks(size_t n) { return (unsigned)((n + TPB - 1) / TPB); }

typedef struct convd {
    cudnnTensorDescriptor_t x, y, b;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t conv;
    cudnnConvolutionFwdAlgo_t fwd;
    cudnnConvolutionBwdDataAlgo_t bwd_data;
    cudnnConvolutionBwdFilterAlgo_t bwd_filter;
} convd;

struct de_cuda_net {
    de_net *net;
    int B, nl, cur_n;
    cudnnHandle_t dnn;
    cublasHandle_t blas;
    float *params, *grad, *mom, *state, *x, *dlogits, *loss, *bnsave;
    int *labels, *correct;
    float **act, **dact;
    size_t *osz, *bn_off;
    int *needs;
    convd *cv;
    void *ws;
    size_t ws_bytes;
    float *h_loss;
    int *h_correct;
};

/* ---- kernels (semantics: de_layers_cpu_impl.inc) ---- */

__global__ void k_relu_fwd(size_t n, const float *x, float *y)
{
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i < n)
        y[i] = x[i] > 0 ? x[i] : 0;
}

__global__ void k_relu_bwd(size_t n, const float *y, const float *dy, float *dx)
{
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i < n)
        dx[i] += y[i] > 0 ? dy[i] : 0;
}

__global__ void k_relu6_fwd(size_t n, const float *x, float *y)
{
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i < n)
        y[i] = x[i] > 0 ? (x[i] < 6 ? x[i] : 6) : 0;
}

__global__ void k_relu6_bwd(size_t n, const float *y, const float *dy, float *dx)
{
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i < n)
        dx[i] += y[i] > 0 && y[i] < 6 ? dy[i] : 0;
}

__global__ void k_add_fwd(size_t n, const float *a, const float *b, float *y)
{
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i < n)
        y[i] = a[i] + b[i];
}

__global__ void k_accumulate(size_t n, const float *dy, float *dx)
{
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i < n)
        dx[i] += dy[i];
}

struct pshape {
    int C, H, W, OH, OW, K, S, P, is_max;
};

__device__ static void window(const pshape &s, int oy, int ox, int *y0, int *y1, int *x0, int *x1)
{
    *y0 = oy * s.S - s.P, *y1 = *y0 + s.K, *x0 = ox * s.S - s.P, *x1 = *x0 + s.K;
    if (*y0 < 0)
        *y0 = 0;
    if (*y1 > s.H)
        *y1 = s.H;
    if (*x0 < 0)
        *x0 = 0;
    if (*x1 > s.W)
        *x1 = s.W;
}

__global__ void k_pool_fwd(size_t n_out, pshape s, const float *x, float *y)
{
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i >= n_out)
        return;
    int ox = (int)(i % s.OW), oy = (int)((i / s.OW) % s.OH);
    size_t pl = i / ((size_t)s.OW * s.OH);
    const float *xp = x + pl * s.H * s.W;
    int y0, y1, x0, x1;
    window(s, oy, ox, &y0, &y1, &x0, &x1);
    float acc = s.is_max ? xp[(size_t)y0 * s.W + x0] : 0.0f;
    for (int iy = y0; iy < y1; iy++)
        for (int ix = x0; ix < x1; ix++) {
            float v = xp[(size_t)iy * s.W + ix];
            if (s.is_max)
                acc = v > acc ? v : acc;
            else
                acc += v;
        }
    y[i] = s.is_max ? acc : acc / (float)((y1 - y0) * (x1 - x0));
}

/* One thread per input element: gathers the outputs whose window holds it (no atomics). */
__global__ void k_pool_bwd(size_t n_in, pshape s, const float *x, const float *dy, float *dx)
{
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i >= n_in)
        return;
    int ix = (int)(i % s.W), iy = (int)((i / s.W) % s.H);
    size_t pl = i / ((size_t)s.W * s.H);
    const float *xp = x + pl * s.H * s.W;
    const float *gp = dy + pl * s.OH * s.OW;
    /* outputs oy with oy*S - P <= iy < oy*S - P + K */
    int oy_lo = (iy + s.P - s.K + s.S) / s.S, oy_hi = (iy + s.P) / s.S;
    int ox_lo = (ix + s.P - s.K + s.S) / s.S, ox_hi = (ix + s.P) / s.S;
    if (iy + s.P - s.K + 1 <= 0)
        oy_lo = 0;
    if (ix + s.P - s.K + 1 <= 0)
        ox_lo = 0;
    if (oy_hi >= s.OH)
        oy_hi = s.OH - 1;
    if (ox_hi >= s.OW)
        ox_hi = s.OW - 1;
    float g = 0;
    for (int oy = oy_lo; oy <= oy_hi; oy++)
        for (int ox = ox_lo; ox <= ox_hi; ox++) {
            int y0, y1, x0, x1;
            window(s, oy, ox, &y0, &y1, &x0, &x1);
            if (iy < y0 || iy >= y1 || ix < x0 || ix >= x1)
                continue;
            if (s.is_max) {
                int best = y0 * s.W + x0;
                for (int yy = y0; yy < y1; yy++)
                    for (int xx = x0; xx < x1; xx++)
                        if (xp[yy * s.W + xx] > xp[best])
                            best = yy * s.W + xx;
                if (best == iy * s.W + ix)
                    g += gp[oy * s.OW + ox];
            } else {
                g += gp[oy * s.OW + ox] / (float)((y1 - y0) * (x1 - x0));
            }
        }
    dx[i] += g;
}

__global__ void k_gap_fwd(size_t planes, size_t hw, const float *x, float *y)
{
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i >= planes)
        return;
    float s = 0;
    for (size_t p = 0; p < hw; p++)
        s += x[i * hw + p];
    y[i] = s / (float)hw;
}

__global__ void k_gap_bwd(size_t n_in, size_t hw, const float *dy, float *dx)
{
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i < n_in)
        dx[i] += dy[i / hw] / (float)hw;
}

/* Block reduction of two doubles (blockDim.x == TPB). */
__device__ static void reduce2(double *a, double *b)
{
    __shared__ double sa[256], sb[256];
    sa[threadIdx.x] = *a;
    sb[threadIdx.x] = *b;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if ((int)threadIdx.x < s) {
            sa[threadIdx.x] += sa[threadIdx.x + s];
            sb[threadIdx.x] += sb[threadIdx.x + s];
        }
        __syncthreads();
    }
    *a = sa[0];
    *b = sb[0];
    __syncthreads();
}

/* One block per channel. */
__global__ void k_bn_fwd(int n, int C, size_t hw, const float *x, const float *gamma, const float *beta, float *y,
                         float *saved, float *running, int train)
{
    int c = blockIdx.x;
    double m = (double)n * (double)hw;
    double mean, invstd;
    if (train) {
        double s = 0, z = 0;
        for (size_t j = threadIdx.x; j < (size_t)n * hw; j += blockDim.x)
            s += x[((j / hw) * C + c) * hw + j % hw];
        reduce2(&s, &z);
        mean = s / m;
        double s2 = 0;
        z = 0;
        for (size_t j = threadIdx.x; j < (size_t)n * hw; j += blockDim.x) {
            double d = (double)x[((j / hw) * C + c) * hw + j % hw] - mean;
            s2 += d * d;
        }
        reduce2(&s2, &z);
        double var = s2 / m;
        invstd = 1.0 / sqrt(var + DE_BN_EPS);
        if (threadIdx.x == 0) {
            saved[c] = (float)mean;
            saved[C + c] = (float)invstd;
            running[c] = (float)(0.9 * running[c] + 0.1 * mean);
            running[C + c] = (float)(0.9 * running[C + c] + 0.1 * var * (m > 1 ? m / (m - 1) : 1.0));
        }
    } else {
        mean = running[c];
        invstd = 1.0 / sqrt((double)running[C + c] + DE_BN_EPS);
    }
    float a = (float)(gamma[c] * invstd), b = (float)(beta[c] - gamma[c] * invstd * mean);
    for (size_t j = threadIdx.x; j < (size_t)n * hw; j += blockDim.x) {
        size_t k = ((j / hw) * C + c) * hw + j % hw;
        y[k] = a * x[k] + b;
    }
}

__global__ void k_bn_bwd(int n, int C, size_t hw, const float *x, const float *gamma, const float *saved,
                         const float *dy, float *dx, float *dgamma, float *dbeta)
{
    int c = blockIdx.x;
    double m = (double)n * (double)hw, mean = saved[c], invstd = saved[C + c];
    double sdy = 0, sdyx = 0;
    for (size_t j = threadIdx.x; j < (size_t)n * hw; j += blockDim.x) {
        size_t k = ((j / hw) * C + c) * hw + j % hw;
        sdy += dy[k];
        sdyx += dy[k] * ((double)x[k] - mean) * invstd;
    }
    reduce2(&sdy, &sdyx);
    if (threadIdx.x == 0) {
        if (dgamma)
            dgamma[c] = (float)sdyx;
        if (dbeta)
            dbeta[c] = (float)sdy;
    }
    if (dx) {
        double kk = gamma[c] * invstd / m;
        for (size_t j = threadIdx.x; j < (size_t)n * hw; j += blockDim.x) {
            size_t k = ((j / hw) * C + c) * hw + j % hw;
            double xh = ((double)x[k] - mean) * invstd;
            dx[k] += (float)(kk * (m * dy[k] - sdy - xh * sdyx));
        }
    }
}

__global__ void k_fill_rows(int n, int out, const float *b, float *y)
{
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i < (size_t)n * out)
        y[i] = b[i % out];
}

__global__ void k_col_sums(int n, int out, const float *dy, float *db)
{
    int o = blockIdx.x * blockDim.x + threadIdx.x;
    if (o >= out)
        return;
    float s = 0;
    for (int i = 0; i < n; i++)
        s += dy[(size_t)i * out + o];
    db[o] = s;
}

/* One thread per row: loss, hit, and the gradient of the mean loss. */
__global__ void k_xent(int n, int K, const float *z, const int *labels, float *dz, float scale, float *loss,
                       int *correct)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n)
        return;
    const float *r = z + (size_t)i * K;
    int am = 0;
    for (int k = 1; k < K; k++)
        if (r[k] > r[am])
            am = k;
    double mx = r[am], s = 0;
    for (int k = 0; k < K; k++)
        s += exp((double)r[k] - mx);
    double lse = mx + log(s);
    loss[i] = (float)(lse - (double)r[labels[i]]);
    correct[i] = am == labels[i];
    if (dz) {
        float *d = dz + (size_t)i * K;
        for (int k = 0; k < K; k++)
            d[k] = (float)(exp((double)r[k] - lse) * scale);
        d[labels[i]] -= scale;
    }
}

__global__ void k_sgd(size_t n, float *w, float *v, const float *g, float lr, float mu, float wd)
{
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i < n) {
        float gj = g[i] + wd * w[i];
        v[i] = mu * v[i] + gj;
        w[i] -= lr * v[i];
    }
}

/* ---- host side ---- */

extern "C" int de_cuda_device_count(void)
{
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess)
        return 0;
    return n;
}

extern "C" const char *de_cuda_device_name(void)
{
    static char name[320];
    cudaDeviceProp p;
    if (cudaGetDeviceProperties(&p, 0) != cudaSuccess)
        return "no CUDA device";
    snprintf(name, sizeof name, "%s, cc %d.%d, %.1f GiB", p.name, p.major, p.minor, p.totalGlobalMem / 1073741824.0);
    return name;
}

static int trainable(const de_layer *L) { return !L->frozen && (L->w_n + L->b_n) > 0; }

/* Sets the batch-dependent descriptors of every conv layer for n images; checks the workspace. */
static int set_batch(de_cuda_net *c, int n, de_err *err)
{
    if (n == c->cur_n)
        return 0;
    for (int i = 0; i < c->nl; i++) {
        const de_layer *L = de_net_layer(c->net, i);
        if (!de_layer_is_conv(L))
            continue;
        convd *d = &c->cv[i];
        CKDNN(cudnnSetTensor4dDescriptor(d->x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, L->c, L->h, L->w), "input shape");
        CKDNN(cudnnSetTensor4dDescriptor(d->y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, L->oc, L->oh, L->ow),
              "output shape");
        size_t a = 0, b = 0, e = 0;
        CKDNN(cudnnGetConvolutionForwardWorkspaceSize(c->dnn, d->x, d->w, d->conv, d->y, d->fwd, &a), "workspace");
        CKDNN(cudnnGetConvolutionBackwardDataWorkspaceSize(c->dnn, d->w, d->y, d->conv, d->x, d->bwd_data, &b),
              "workspace");
        CKDNN(cudnnGetConvolutionBackwardFilterWorkspaceSize(c->dnn, d->x, d->y, d->conv, d->w, d->bwd_filter, &e),
              "workspace");
        size_t need = a > b ? a : b;
        need = need > e ? need : e;
        if (need > c->ws_bytes) {
            cudaFree(c->ws);
            c->ws = NULL;
            CK(cudaMalloc(&c->ws, need), "cuDNN workspace: not enough device memory (smaller batch?)");
            c->ws_bytes = need;
        }
    }
    c->cur_n = n;
    return 0;
}

/* Chooses the algorithms of conv layer i for the full batch: cuDNN's heuristic order, the
 * first that succeeds; backward ones must be deterministic. */
static int choose_algos(de_cuda_net *c, int i, de_err *err)
{
    convd *d = &c->cv[i];
    int got = 0;
    cudnnConvolutionFwdAlgoPerf_t fp[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    CKDNN(cudnnGetConvolutionForwardAlgorithm_v7(c->dnn, d->x, d->w, d->conv, d->y, CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                                                 &got, fp),
          "forward algorithm heuristics");
    int k = 0;
    while (k < got && fp[k].status != CUDNN_STATUS_SUCCESS)
        k++;
    if (k == got)
        return de_err_set(err, DE_EIO, "%s:%d: layer %s: no cuDNN forward algorithm", __FILE__, __LINE__,
                          de_net_layer(c->net, i)->name);
    d->fwd = fp[k].algo;
    cudnnConvolutionBwdDataAlgoPerf_t dp[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    CKDNN(cudnnGetConvolutionBackwardDataAlgorithm_v7(c->dnn, d->w, d->y, d->conv, d->x,
                                                      CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &got, dp),
          "backward-data algorithm heuristics");
    k = 0;
    while (k < got && (dp[k].status != CUDNN_STATUS_SUCCESS || dp[k].determinism != CUDNN_DETERMINISTIC))
        k++;
    d->bwd_data = k < got ? dp[k].algo : CUDNN_CONVOLUTION_BWD_DATA_ALGO_1;
    cudnnConvolutionBwdFilterAlgoPerf_t wp[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    CKDNN(cudnnGetConvolutionBackwardFilterAlgorithm_v7(c->dnn, d->x, d->y, d->conv, d->w,
                                                        CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &got, wp),
          "backward-filter algorithm heuristics");
    k = 0;
    while (k < got && (wp[k].status != CUDNN_STATUS_SUCCESS || wp[k].determinism != CUDNN_DETERMINISTIC))
        k++;
    d->bwd_filter = k < got ? wp[k].algo : CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1;
    return 0;
}

static int setup(de_cuda_net *c, de_err *err)
{
    de_net *net = c->net;
    int B = c->B, nl = c->nl = de_net_n_layers(net);
    size_t np = de_net_n_params(net), ns = de_net_n_state(net);
    CK(cudaSetDevice(0), "no usable CUDA device (driver installed? CUDA_VISIBLE_DEVICES?)");
    CKDNN(cudnnCreate(&c->dnn), "cuDNN initialisation (library/driver mismatch?)");
    CKBLAS(cublasCreate(&c->blas), "cuBLAS initialisation (library/driver mismatch?)");
    CK(cudaMalloc(&c->params, (np ? np : 1) * sizeof(float)), "parameters: out of device memory");
    CK(cudaMalloc(&c->grad, (np ? np : 1) * sizeof(float)), "gradient: out of device memory");
    CK(cudaMalloc(&c->mom, (np ? np : 1) * sizeof(float)), "momentum: out of device memory");
    CK(cudaMemset(c->mom, 0, (np ? np : 1) * sizeof(float)), "momentum");
    CK(cudaMemset(c->grad, 0, (np ? np : 1) * sizeof(float)), "gradient");
    CK(cudaMalloc(&c->state, (ns ? ns : 1) * sizeof(float)), "BN state: out of device memory");
    int C, H, W;
    de_net_input(net, &C, &H, &W);
    int K = de_net_classes(net);
    CK(cudaMalloc(&c->x, (size_t)B * C * H * W * sizeof(float)), "input: out of device memory (smaller batch?)");
    CK(cudaMalloc(&c->labels, (size_t)B * sizeof(int)), "labels");
    CK(cudaMalloc(&c->correct, (size_t)B * sizeof(int)), "hits");
    CK(cudaMalloc(&c->loss, (size_t)B * sizeof(float)), "losses");
    CK(cudaMalloc(&c->dlogits, (size_t)B * K * sizeof(float)), "logit gradient");
    c->h_loss = (float *)de_calloc((size_t)B, sizeof(float));
    c->h_correct = (int *)de_calloc((size_t)B, sizeof(int));
    c->act = (float **)de_calloc((size_t)nl, sizeof(float *));
    c->dact = (float **)de_calloc((size_t)nl, sizeof(float *));
    c->osz = (size_t *)de_calloc((size_t)nl, sizeof(size_t));
    c->bn_off = (size_t *)de_calloc((size_t)nl, sizeof(size_t));
    c->needs = (int *)de_calloc((size_t)nl, sizeof(int));
    c->cv = (convd *)de_calloc((size_t)nl, sizeof(convd));
    size_t bn = 0;
    for (int i = 0; i < nl; i++) {
        const de_layer *L = de_net_layer(net, i);
        c->osz[i] = (size_t)L->oc * L->oh * L->ow;
        c->needs[i] = trainable(L) || (L->in >= 0 && c->needs[L->in]) || (L->in2 >= 0 && c->needs[L->in2]);
        CK(cudaMalloc(&c->act[i], (size_t)B * c->osz[i] * sizeof(float)), "activations: out of device memory");
        if (c->needs[i])
            CK(cudaMalloc(&c->dact[i], (size_t)B * c->osz[i] * sizeof(float)), "gradients: out of device memory");
        if (L->kind == DE_LAYER_BN) {
            c->bn_off[i] = bn;
            bn += 2 * (size_t)L->c;
        }
        if (de_layer_is_conv(L)) {
            convd *d = &c->cv[i];
            /* a depthwise convolution is cuDNN's grouped one with a group per channel */
            const int groups = L->kind == DE_LAYER_DWCONV ? L->c : 1;
            CKDNN(cudnnCreateTensorDescriptor(&d->x), "descriptor");
            CKDNN(cudnnCreateTensorDescriptor(&d->y), "descriptor");
            CKDNN(cudnnCreateTensorDescriptor(&d->b), "descriptor");
            CKDNN(cudnnCreateFilterDescriptor(&d->w), "descriptor");
            CKDNN(cudnnCreateConvolutionDescriptor(&d->conv), "descriptor");
            CKDNN(cudnnSetTensor4dDescriptor(d->x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, B, L->c, L->h, L->w), "shape");
            CKDNN(cudnnSetTensor4dDescriptor(d->y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, B, L->oc, L->oh, L->ow),
                  "shape");
            CKDNN(cudnnSetTensor4dDescriptor(d->b, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, L->oc, 1, 1), "shape");
            CKDNN(cudnnSetFilter4dDescriptor(d->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, L->oc, L->c / groups, L->k,
                                             L->k),
                  "filter shape");
            CKDNN(cudnnSetConvolution2dDescriptor(d->conv, L->pad, L->pad, L->stride, L->stride, 1, 1,
                                                  CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
                  "convolution parameters");
            CKDNN(cudnnSetConvolutionMathType(d->conv, CUDNN_FMA_MATH), "FP32 math (no TF32)");
            CKDNN(cudnnSetConvolutionGroupCount(d->conv, groups), "group count");
            int rc = choose_algos(c, i, err);
            if (rc)
                return rc;
        }
    }
    CK(cudaMalloc(&c->bnsave, (bn ? bn : 1) * sizeof(float)), "BN statistics");
    c->cur_n = 0;
    int rc = set_batch(c, B, err);
    if (rc)
        return rc;
    return de_cuda_push(c, de_net_params(net), de_net_state(net), NULL, err);
}

extern "C" int de_cuda_create(de_net *net, int max_batch, de_cuda_net **out, de_err *err)
{
    *out = NULL;
    if (de_cuda_device_count() < 1)
        return de_err_set(err, DE_EINVAL, "--device cuda: no CUDA device is present (cudaGetDeviceCount = 0)");
    de_cuda_net *c = (de_cuda_net *)de_calloc(1, sizeof *c);
    c->net = net;
    c->B = max_batch;
    int rc = setup(c, err);
    if (rc) {
        de_cuda_destroy(c);
        return rc;
    }
    *out = c;
    return 0;
}

extern "C" void de_cuda_destroy(de_cuda_net *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->nl; i++) {
        if (c->act)
            cudaFree(c->act[i]);
        if (c->dact)
            cudaFree(c->dact[i]);
        if (c->cv && c->cv[i].conv) {
            cudnnDestroyTensorDescriptor(c->cv[i].x);
            cudnnDestroyTensorDescriptor(c->cv[i].y);
            cudnnDestroyTensorDescriptor(c->cv[i].b);
            cudnnDestroyFilterDescriptor(c->cv[i].w);
            cudnnDestroyConvolutionDescriptor(c->cv[i].conv);
        }
    }
    cudaFree(c->params);
    cudaFree(c->grad);
    cudaFree(c->mom);
    cudaFree(c->state);
    cudaFree(c->x);
    cudaFree(c->labels);
    cudaFree(c->correct);
    cudaFree(c->loss);
    cudaFree(c->dlogits);
    cudaFree(c->bnsave);
    cudaFree(c->ws);
    if (c->blas)
        cublasDestroy(c->blas);
    if (c->dnn)
        cudnnDestroy(c->dnn);
    free(c->act);
    free(c->dact);
    free(c->osz);
    free(c->bn_off);
    free(c->needs);
    free(c->cv);
    free(c->h_loss);
    free(c->h_correct);
    free(c);
}

static const float *in_of(const de_cuda_net *c, int idx) { return idx < 0 ? c->x : c->act[idx]; }

static pshape pool_shape(const de_layer *L)
{
    pshape s = {L->c, L->h, L->w, L->oh, L->ow, L->k, L->stride, L->pad, L->kind == DE_LAYER_MAXPOOL};
    return s;
}

static int forward(de_cuda_net *c, int n, int train, de_err *err)
{
    int rc = set_batch(c, n, err);
    if (rc)
        return rc;
    const float one = 1.0f, zero = 0.0f;
    for (int i = 0; i < c->nl; i++) {
        const de_layer *L = de_net_layer(c->net, i);
        const float *x = in_of(c, L->in);
        float *y = c->act[i];
        size_t cnt = (size_t)n * c->osz[i];
        switch (L->kind) {
        case DE_LAYER_CONV:
        case DE_LAYER_DWCONV: {
            convd *d = &c->cv[i];
            CKDNN(cudnnConvolutionForward(c->dnn, &one, d->x, x, d->w, c->params + L->w_off, d->conv, d->fwd, c->ws,
                                          c->ws_bytes, &zero, d->y, y),
                  "convolution forward");
            if (L->b_n) /* a convolution without biases (`conv ... nobias`) has none to add */
                CKDNN(cudnnAddTensor(c->dnn, &one, d->b, c->params + L->b_off, &one, d->y, y), "bias");
            break;
        }
        case DE_LAYER_FC: {
            int in = L->c * L->h * L->w, out = L->oc;
            k_fill_rows<<<blocks((size_t)n * out), TPB>>>(n, out, c->params + L->b_off, y);
            CKLAUNCH("fc bias");
            CKBLAS(cublasSgemm(c->blas, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, &one, c->params + L->w_off, in, x, in,
                               &one, y, out),
                   "fc forward");
            break;
        }
        case DE_LAYER_RELU:
            k_relu_fwd<<<blocks(cnt), TPB>>>(cnt, x, y);
            CKLAUNCH("relu");
            break;
        case DE_LAYER_RELU6:
            k_relu6_fwd<<<blocks(cnt), TPB>>>(cnt, x, y);
            CKLAUNCH("relu6");
            break;
        case DE_LAYER_MAXPOOL:
        case DE_LAYER_AVGPOOL:
            k_pool_fwd<<<blocks(cnt), TPB>>>(cnt, pool_shape(L), x, y);
            CKLAUNCH("pool");
            break;
        case DE_LAYER_GAP:
            k_gap_fwd<<<blocks(cnt), TPB>>>(cnt, (size_t)L->h * L->w, x, y);
            CKLAUNCH("gap");
            break;
        case DE_LAYER_BN:
            k_bn_fwd<<<L->c, TPB>>>(n, L->c, (size_t)L->h * L->w, x, c->params + L->w_off, c->params + L->b_off, y,
                                    c->bnsave + c->bn_off[i], c->state + L->s_off, train);
            CKLAUNCH("batch norm");
            break;
        case DE_LAYER_ADD:
            k_add_fwd<<<blocks(cnt), TPB>>>(cnt, x, in_of(c, L->in2), y);
            CKLAUNCH("add");
            break;
        }
    }
    return 0;
}

static int backward(de_cuda_net *c, int n, de_err *err)
{
    const float one = 1.0f, zero = 0.0f;
    int last = c->nl - 1;
    for (int i = 0; i < last; i++)
        if (c->dact[i])
            CK(cudaMemsetAsync(c->dact[i], 0, (size_t)n * c->osz[i] * sizeof(float)), "zero gradients");
    CK(cudaMemsetAsync(c->grad, 0, de_net_n_params(c->net) * sizeof(float)), "zero gradient");
    if (!c->needs[last])
        return 0;
    CK(cudaMemcpyAsync(c->dact[last], c->dlogits, (size_t)n * c->osz[last] * sizeof(float), cudaMemcpyDeviceToDevice),
       "logit gradient");
    for (int i = last; i >= 0; i--) {
        if (!c->needs[i])
            continue;
        const de_layer *L = de_net_layer(c->net, i);
        const float *x = in_of(c, L->in), *dy = c->dact[i];
        float *dx = L->in >= 0 ? c->dact[L->in] : NULL;
        int tw = trainable(L);
        size_t cnt = (size_t)n * c->osz[i];
        switch (L->kind) {
        case DE_LAYER_CONV:
        case DE_LAYER_DWCONV: {
            convd *d = &c->cv[i];
            if (tw) {
                if (L->b_n)
                    CKDNN(cudnnConvolutionBackwardBias(c->dnn, &one, d->y, dy, &zero, d->b, c->grad + L->b_off),
                          "bias gradient");
                CKDNN(cudnnConvolutionBackwardFilter(c->dnn, &one, d->x, x, d->y, dy, d->conv, d->bwd_filter, c->ws,
                                                     c->ws_bytes, &zero, d->w, c->grad + L->w_off),
                      "filter gradient");
            }
            if (dx)
                CKDNN(cudnnConvolutionBackwardData(c->dnn, &one, d->w, c->params + L->w_off, d->y, dy, d->conv,
                                                   d->bwd_data, c->ws, c->ws_bytes, &one, d->x, dx),
                      "input gradient");
            break;
        }
        case DE_LAYER_FC: {
            int in = L->c * L->h * L->w, out = L->oc;
            if (tw) {
                CKBLAS(cublasSgemm(c->blas, CUBLAS_OP_N, CUBLAS_OP_T, in, out, n, &one, x, in, dy, out, &zero,
                                   c->grad + L->w_off, in),
                       "fc weight gradient");
                k_col_sums<<<blocks((size_t)out), TPB>>>(n, out, dy, c->grad + L->b_off);
                CKLAUNCH("fc bias gradient");
            }
            if (dx)
                CKBLAS(cublasSgemm(c->blas, CUBLAS_OP_N, CUBLAS_OP_N, in, n, out, &one, c->params + L->w_off, in, dy,
                                   out, &one, dx, in),
                       "fc input gradient");
            break;
        }
        case DE_LAYER_RELU:
            if (dx) {
                k_relu_bwd<<<blocks(cnt), TPB>>>(cnt, c->act[i], dy, dx);
                CKLAUNCH("relu backward");
            }
            break;
        case DE_LAYER_RELU6:
            if (dx) {
                k_relu6_bwd<<<blocks(cnt), TPB>>>(cnt, c->act[i], dy, dx);
                CKLAUNCH("relu6 backward");
            }
            break;
        case DE_LAYER_MAXPOOL:
        case DE_LAYER_AVGPOOL:
            if (dx) {
                size_t nin = (size_t)n * L->c * L->h * L->w;
                k_pool_bwd<<<blocks(nin), TPB>>>(nin, pool_shape(L), x, dy, dx);
                CKLAUNCH("pool backward");
            }
            break;
        case DE_LAYER_GAP:
            if (dx) {
                size_t nin = (size_t)n * L->c * L->h * L->w;
                k_gap_bwd<<<blocks(nin), TPB>>>(nin, (size_t)L->h * L->w, dy, dx);
                CKLAUNCH("gap backward");
            }
            break;
        case DE_LAYER_BN:
            k_bn_bwd<<<L->c, TPB>>>(n, L->c, (size_t)L->h * L->w, x, c->params + L->w_off, c->bnsave + c->bn_off[i],
                                    dy, dx, tw ? c->grad + L->w_off : NULL, tw ? c->grad + L->b_off : NULL);
            CKLAUNCH("batch norm backward");
            break;
        case DE_LAYER_ADD:
            if (dx) {
                k_accumulate<<<blocks(cnt), TPB>>>(cnt, dy, dx);
                CKLAUNCH("add backward");
            }
            if (L->in2 >= 0 && c->dact[L->in2]) {
                k_accumulate<<<blocks(cnt), TPB>>>(cnt, dy, c->dact[L->in2]);
                CKLAUNCH("add backward");
            }
            break;
        }
    }
    return 0;
}

static int upload_input(de_cuda_net *c, const float *x, const int *labels, int n, de_err *err)
{
    if (n < 1 || n > c->B)
        return de_err_set(err, DE_ERANGE, "batch %d not in [1, %d]", n, c->B);
    int C, H, W;
    de_net_input(c->net, &C, &H, &W);
    CK(cudaMemcpy(c->x, x, (size_t)n * C * H * W * sizeof(float), cudaMemcpyHostToDevice), "input upload");
    if (labels)
        CK(cudaMemcpy(c->labels, labels, (size_t)n * sizeof(int), cudaMemcpyHostToDevice), "label upload");
    return 0;
}

extern "C" int de_cuda_forward(de_cuda_net *c, const float *x, int n, int train, float *logits, de_err *err)
{
    int rc = upload_input(c, x, NULL, n, err);
    if (!rc)
        rc = forward(c, n, train, err);
    if (rc)
        return rc;
    if (logits)
        CK(cudaMemcpy(logits, c->act[c->nl - 1], (size_t)n * c->osz[c->nl - 1] * sizeof(float),
                      cudaMemcpyDeviceToHost),
           "logits download");
    CK(cudaDeviceSynchronize(), "forward failed on the device");
    return 0;
}

extern "C" int de_cuda_grad(de_cuda_net *c, const float *x, const int *labels, int n, double *loss, int *correct,
                            float *grad, de_err *err)
{
    int rc = upload_input(c, x, labels, n, err);
    if (!rc)
        rc = forward(c, n, 1, err);
    if (rc)
        return rc;
    int K = de_net_classes(c->net);
    k_xent<<<blocks((size_t)n), TPB>>>(n, K, c->act[c->nl - 1], c->labels, c->dlogits, 1.0f / (float)n, c->loss,
                                       c->correct);
    CKLAUNCH("softmax cross-entropy");
    rc = backward(c, n, err);
    if (rc)
        return rc;
    CK(cudaMemcpy(c->h_loss, c->loss, (size_t)n * sizeof(float), cudaMemcpyDeviceToHost), "loss download");
    CK(cudaMemcpy(c->h_correct, c->correct, (size_t)n * sizeof(int), cudaMemcpyDeviceToHost), "hits download");
    double l = 0;
    int ok = 0;
    for (int i = 0; i < n; i++) {
        l += c->h_loss[i];
        ok += c->h_correct[i];
    }
    if (loss)
        *loss = l / n;
    if (correct)
        *correct = ok;
    if (grad)
        CK(cudaMemcpy(grad, c->grad, de_net_n_params(c->net) * sizeof(float), cudaMemcpyDeviceToHost),
           "gradient download");
    return 0;
}

extern "C" int de_cuda_step(de_cuda_net *c, const float *grad, double lr, double momentum, double wd, de_err *err)
{
    if (grad)
        CK(cudaMemcpy(c->grad, grad, de_net_n_params(c->net) * sizeof(float), cudaMemcpyHostToDevice),
           "gradient upload");
    for (int i = 0; i < c->nl; i++) {
        const de_layer *L = de_net_layer(c->net, i);
        if (!trainable(L))
            continue;
        size_t n = L->w_n + L->b_n;
        k_sgd<<<blocks(n), TPB>>>(n, c->params + L->w_off, c->mom + L->w_off, c->grad + L->w_off, (float)lr,
                                  (float)momentum, (float)wd);
        CKLAUNCH("sgd");
    }
    CK(cudaDeviceSynchronize(), "SGD step failed on the device");
    return 0;
}

extern "C" int de_cuda_pull(de_cuda_net *c, float *params, float *state, float *momentum, de_err *err)
{
    size_t np = de_net_n_params(c->net), ns = de_net_n_state(c->net);
    if (params)
        CK(cudaMemcpy(params, c->params, np * sizeof(float), cudaMemcpyDeviceToHost), "parameter download");
    if (state && ns)
        CK(cudaMemcpy(state, c->state, ns * sizeof(float), cudaMemcpyDeviceToHost), "BN state download");
    if (momentum)
        CK(cudaMemcpy(momentum, c->mom, np * sizeof(float), cudaMemcpyDeviceToHost), "momentum download");
    return 0;
}

extern "C" int de_cuda_push(de_cuda_net *c, const float *params, const float *state, const float *momentum, de_err *err)
{
    size_t np = de_net_n_params(c->net), ns = de_net_n_state(c->net);
    if (params)
        CK(cudaMemcpy(c->params, params, np * sizeof(float), cudaMemcpyHostToDevice), "parameter upload");
    if (state && ns)
        CK(cudaMemcpy(c->state, state, ns * sizeof(float), cudaMemcpyHostToDevice), "BN state upload");
    if (momentum)
        CK(cudaMemcpy(c->mom, momentum, np * sizeof(float), cudaMemcpyHostToDevice), "momentum upload");
    return 0;
}

extern "C" int de_cuda_activation(de_cuda_net *c, int layer, int n, float *out, de_err *err)
{
    CK(cudaMemcpy(out, c->act[layer], (size_t)n * c->osz[layer] * sizeof(float), cudaMemcpyDeviceToHost),
       "activation download");
    return 0;
}
