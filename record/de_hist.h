/* de_hist.h — latency histograms with bounded relative error, for percentiles over
 * billions of requests in constant memory.
 *
 * Log-linear buckets (as in HDR histograms): the binary exponent of the value and
 * the top 7 bits of its mantissa pick the bucket, so a bucket's width is at most
 * 1/128 of its lower edge and a reported percentile is within 0.4% of the true
 * sample quantile. Range 2^-20 s (~1 us) to 2^14 s; values outside are clamped to
 * the end buckets, and counted. The buckets of one power of two (512 bytes) are allocated
 * when a value first falls there: a task whose latencies span a few powers of two costs
 * a few KiB, so 10^5 LC tasks fit in a few hundred MB. */
#ifndef DE_HIST_H
#define DE_HIST_H

#include <stdint.h>
#include <stdio.h>

#define DE_HIST_SUB 128                   /* buckets per power of two */
#define DE_HIST_EMIN (-20)
#define DE_HIST_EMAX 14
#define DE_HIST_BUCKETS ((DE_HIST_EMAX - DE_HIST_EMIN) * DE_HIST_SUB)

typedef struct de_hist {
    uint64_t n;
    uint64_t clamped;          /* values below or above the range */
    double sum;                /* exact sum (for the mean) */
    double max;
    int lo, hi;                /* buckets touched: [lo, hi] (lo > hi when empty) */
    uint32_t *block[DE_HIST_EMAX - DE_HIST_EMIN]; /* DE_HIST_SUB counts each, NULL until used */
} de_hist;

void de_hist_init(de_hist *h);   /* allocates nothing */
void de_hist_free(de_hist *h);
void de_hist_reset(de_hist *h);   /* cost proportional to the buckets touched */
void de_hist_add(de_hist *h, double v);
/* Adds every count of src to dst. */
void de_hist_merge(de_hist *dst, const de_hist *src);
/* The p-quantile (p in [0,1]): the geometric middle of the bucket holding it;
 * NAN when empty. */
double de_hist_quantile(const de_hist *h, double p);
/* Several quantiles in one pass: ps[] ascending, into out[]. */
void de_hist_quantiles(const de_hist *h, const double *ps, int n, double *out);
double de_hist_mean(const de_hist *h);
/* Bucket k's lower edge, and the number of buckets. */
double de_hist_edge(int k);

/* Writes the CDF of h as CSV rows "label,latency_s,cdf,deadline_s,percentile" (one per
 * non-empty bucket, at its upper edge): the lc_cdf.csv of sim and run. */
void de_hist_write_cdf(FILE *f, const char *label, const de_hist *h, double deadline_s, double percentile);

#endif
