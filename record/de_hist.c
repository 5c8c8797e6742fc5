/* de_hist.c — log-linear latency histograms (see de_hist.h). */
#include "de_hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "de_util.h"

#define N_BLOCKS (DE_HIST_EMAX - DE_HIST_EMIN)

void de_hist_init(de_hist *h)
{
    memset(h, 0, sizeof *h);
    h->lo = DE_HIST_BUCKETS;
    h->hi = -1;
}

void de_hist_free(de_hist *h)
{
    for (int b = 0; b < N_BLOCKS; b++) {
        free(h->block[b]);
        h->block[b] = NULL;
    }
}

void de_hist_reset(de_hist *h)
{
    for (int b = h->hi >= h->lo ? h->lo / DE_HIST_SUB : N_BLOCKS; b <= h->hi / DE_HIST_SUB; b++)
        if (h->block[b])
            memset(h->block[b], 0, DE_HIST_SUB * sizeof *h->block[b]); /* kept for the next window */
    h->n = h->clamped = 0;
    h->sum = h->max = 0;
    h->lo = DE_HIST_BUCKETS;
    h->hi = -1;
}

/* Count of bucket k (0 when its block was never used). */
static uint32_t count_of(const de_hist *h, int k)
{
    const uint32_t *b = h->block[k / DE_HIST_SUB];
    return b ? b[k % DE_HIST_SUB] : 0;
}

static void count_add(de_hist *h, int k, uint32_t n)
{
    uint32_t **b = &h->block[k / DE_HIST_SUB];
    if (!*b)
        *b = de_calloc(DE_HIST_SUB, sizeof **b);
    (*b)[k % DE_HIST_SUB] += n;
}

/* Bucket of v from its IEEE-754 bits: the binary exponent and the top 7 bits of
 * the mantissa (v = 1.m x 2^e). */
static int bucket(double v)
{
    if (!(v > 0))
        return -1;
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    int e = (int)((bits >> 52) & 0x7ff) - 1023;
    if (e < DE_HIST_EMIN)
        return -1;
    if (e >= DE_HIST_EMAX)
        return DE_HIST_BUCKETS;
    int sub = (int)((bits >> (52 - 7)) & (DE_HIST_SUB - 1));
    return (e - DE_HIST_EMIN) * DE_HIST_SUB + sub;
}

void de_hist_add(de_hist *h, double v)
{
    int k = bucket(v);
    if (k < 0) {
        k = 0;
        h->clamped++;
    } else if (k >= DE_HIST_BUCKETS) {
        k = DE_HIST_BUCKETS - 1;
        h->clamped++;
    }
    count_add(h, k, 1);
    if (k < h->lo)
        h->lo = k;
    if (k > h->hi)
        h->hi = k;
    h->n++;
    h->sum += v;
    if (v > h->max)
        h->max = v;
}

void de_hist_merge(de_hist *dst, const de_hist *src)
{
    for (int k = src->lo; k <= src->hi; k++)
        if (count_of(src, k))
            count_add(dst, k, count_of(src, k));
    if (src->lo < dst->lo)
        dst->lo = src->lo;
    if (src->hi > dst->hi)
        dst->hi = src->hi;
    dst->n += src->n;
    dst->clamped += src->clamped;
    dst->sum += src->sum;
    if (src->max > dst->max)
        dst->max = src->max;
}

double de_hist_edge(int k)
{
    int e = k / DE_HIST_SUB + DE_HIST_EMIN, sub = k % DE_HIST_SUB;
    return ldexp(1.0 + (double)sub / DE_HIST_SUB, e);
}

void de_hist_quantiles(const de_hist *h, const double *ps, int n, double *out)
{
    int i = 0;
    uint64_t cum = 0;
    if (h->n > 0)
        for (int k = h->lo; k <= h->hi && i < n; k++) {
            cum += count_of(h, k);
            /* the smallest bucket whose cumulative count reaches ceil(p n) */
            while (i < n) {
                uint64_t need = (uint64_t)ceil(ps[i] * (double)h->n);
                if (need < 1)
                    need = 1;
                if (cum < need)
                    break;
                out[i++] = sqrt(de_hist_edge(k) * de_hist_edge(k + 1));
            }
        }
    for (; i < n; i++)
        out[i] = h->n ? h->max : NAN;
}

double de_hist_quantile(const de_hist *h, double p)
{
    double q;
    de_hist_quantiles(h, &p, 1, &q);
    return q;
}

double de_hist_mean(const de_hist *h)
{
    return h->n ? h->sum / (double)h->n : NAN;
}

void de_hist_write_cdf(FILE *f, const char *label, const de_hist *h, double deadline_s, double percentile)
{
    uint64_t cum = 0;
    for (int k = h->lo; k <= h->hi; k++) {
        uint32_t c = count_of(h, k);
        if (!c)
            continue;
        cum += c;
        fprintf(f, "%s,%.6g,%.6f,%.6g,%g\n", label, de_hist_edge(k + 1), (double)cum / (double)h->n, deadline_s,
                percentile);
    }
}
