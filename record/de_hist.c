/* de_hist.c — log-linear latency histograms (see de_hist.h). */
#include "de_hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "de_util.h"

void de_hist_init(de_hist *h)
{
    memset(h, 0, sizeof *h);
    h->count = de_calloc(DE_HIST_BUCKETS, sizeof *h->count);
    h->lo = DE_HIST_BUCKETS;
    h->hi = -1;
}

void de_hist_free(de_hist *h)
{
    free(h->count);
    h->count = NULL;
}

void de_hist_reset(de_hist *h)
{
    uint32_t *c = h->count;
    if (h->hi >= h->lo)
        memset(c + h->lo, 0, (size_t)(h->hi - h->lo + 1) * sizeof *c);
    memset(h, 0, sizeof *h);
    h->count = c;
    h->lo = DE_HIST_BUCKETS;
    h->hi = -1;
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
    h->count[k]++;
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
        dst->count[k] += src->count[k];
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
            cum += h->count[k];
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
        if (!h->count[k])
            continue;
        cum += h->count[k];
        fprintf(f, "%s,%.6g,%.6f,%.6g,%g\n", label, de_hist_edge(k + 1), (double)cum / (double)h->n, deadline_s,
                percentile);
    }
}
