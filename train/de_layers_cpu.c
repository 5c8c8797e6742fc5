/* de_layers_cpu.c — CPU kernels (fp32 and fp64 instances of de_layers_cpu_impl.inc)
 * and the OpenBLAS core-type choice.
 *
 * OPENBLAS_CORETYPE: OpenBLAS 0.3.21 picks a generic or wrong kernel set on some of
 * our CPUs (measured on the development machines). A constructor of this file sets OPENBLAS_CORETYPE before the
 * first BLAS call, unless the user set it: "SkylakeX" where the CPU has AVX-512
 * (F, BW, DQ, VL), "Zen" on AMD family >= 0x17 with AVX2 (0.3.21 labels Zen 3 as
 * Haswell). Verified on this machine: a setenv in a constructor of the executable
 * runs before OpenBLAS reads the variable (openblas_get_corename() reports the
 * chosen core); `deepedge bench train` prints the core in use. A wrong value
 * (SkylakeX without AVX-512) kills the program with SIGILL: hence the checks.
 * The checks are x86 only (cpuid, __builtin_cpu_supports); elsewhere (aarch64: the
 * Jetson boards) the choice is OpenBLAS's own, from the CPU's ID registers. */
#include "de_layers_cpu.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* OpenBLAS through its Fortran GEMM symbols, not cblas_*: GSL (linked into the same
 * programs) brings libgslcblas, whose slow reference cblas_sgemm would otherwise win the
 * symbol lookup (measured: 94% of a training step in libgslcblas, 7 images/s). */
extern void sgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k, const float *alpha,
                   const float *a, const int *lda, const float *b, const int *ldb, const float *beta, float *c,
                   const int *ldc);
extern void dgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k, const double *alpha,
                   const double *a, const int *lda, const double *b, const int *ldb, const double *beta, double *c,
                   const int *ldc);
extern void openblas_set_num_threads(int num_threads);
extern char *openblas_get_corename(void);

/* Row-major C (MxN) = alpha op(A) op(B) + beta C with ta/tb 1 for transposed, as the
 * column-major C^T = op(B)^T op(A)^T. */
static void gemm_s(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                   float beta, float *C, int ldc)
{
    sgemm_(tb ? "T" : "N", ta ? "T" : "N", &N, &M, &K, &alpha, B, &ldb, A, &lda, &beta, C, &ldc);
}

static void gemm_d(int ta, int tb, int M, int N, int K, double alpha, const double *A, int lda, const double *B,
                   int ldb, double beta, double *C, int ldc)
{
    dgemm_(tb ? "T" : "N", ta ? "T" : "N", &N, &M, &K, &alpha, B, &ldb, A, &lda, &beta, C, &ldc);
}

static const char *coretype_note = "OPENBLAS_CORETYPE left to OpenBLAS";

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
static void pick_x86_core(void)
{
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
        setenv("OPENBLAS_CORETYPE", "SkylakeX", 0);
        coretype_note = "OPENBLAS_CORETYPE=SkylakeX (AVX-512 CPU)";
        return;
    }
    unsigned a, b, c, d;
    if (__get_cpuid(0, &a, &b, &c, &d) && b == 0x68747541 /* "Auth"enticAMD */ && __get_cpuid(1, &a, &b, &c, &d)) {
        unsigned family = ((a >> 8) & 0xf) + ((a >> 20) & 0xff);
        if (family >= 0x17 && __builtin_cpu_supports("avx2")) {
            setenv("OPENBLAS_CORETYPE", "Zen", 0);
            coretype_note = "OPENBLAS_CORETYPE=Zen (AMD family >= 17h with AVX2)";
        }
    }
}
#endif

__attribute__((constructor)) static void de_layers_cpu_pick_core(void)
{
    if (getenv("OPENBLAS_CORETYPE")) {
        coretype_note = "OPENBLAS_CORETYPE set by the user";
        return;
    }
#if defined(__x86_64__) || defined(__i386__)
    pick_x86_core();
#endif
}

const char *de_layers_cpu_coretype_note(void) { return coretype_note; }
const char *de_layers_cpu_blas_core(void) { return openblas_get_corename(); }
/* Threads of the kernels (0: not set, OpenMP's default). OpenBLAS itself runs single-threaded:
 * the kernels split GEMMs over their own OpenMP threads, so the two thread pools never compete
 * for the cores (Debian's libopenblas here is the pthreads variant, whose idle workers spin). */
static int cpu_threads;
static int blas_single;

static int de_cpu_threads(void)
{
    if (!blas_single) {
        openblas_set_num_threads(1);
        blas_single = 1;
    }
    return cpu_threads > 0 ? cpu_threads : omp_get_max_threads();
}

void de_layers_cpu_threads(int n)
{
    cpu_threads = n < 1 ? 1 : n;
    openblas_set_num_threads(1);
    blas_single = 1;
}

int de_layers_cpu_get_threads(void) { return de_cpu_threads(); }

/* below DE_PAR_MIN elements an element-wise kernel stays on the calling thread */
#define DE_PAR_MIN 16384
/* im2col chunks: at least DE_CONV_MIN_COLS columns, up to DE_CONV_COL_TARGET elements */
#define DE_CONV_MIN_COLS 512
#define DE_CONV_COL_TARGET ((size_t)256 * 1024)

static size_t conv_chunk_imgs(const de_layer *L, int imgs)
{
    const size_t hw = (size_t)L->oh * L->ow, ckk = (size_t)L->c * L->k * L->k;
    size_t nb = (DE_CONV_MIN_COLS + hw - 1) / hw, by_cache = DE_CONV_COL_TARGET / (ckk * hw);
    if (by_cache > nb)
        nb = by_cache;
    if (nb < 1)
        nb = 1;
    return nb > (size_t)imgs ? (size_t)imgs : nb;
}

size_t de_layers_cpu_conv_ws(const de_layer *L, int n)
{
    const size_t per = (size_t)(L->c * L->k * L->k + L->oc) * L->oh * L->ow;
    const size_t part = (size_t)L->oc * L->c * L->k * L->k + (size_t)L->oc;
    int t = de_cpu_threads();
    if (n < 1)
        n = 1;
    if (t > n)
        t = n;
    int m = (n + t - 1) / t;
    return (size_t)t * ((t > 1 ? part : 0) + per * conv_chunk_imgs(L, m));
}

#define T float
#define FN(x) x
#define GEMM gemm_s
#include "de_layers_cpu_impl.inc"
#undef T
#undef FN
#undef GEMM

#define T double
#define FN(x) x##_d
#define GEMM gemm_d
#include "de_layers_cpu_impl.inc"
#undef T
#undef FN
#undef GEMM
