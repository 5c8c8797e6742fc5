/* de_model.c — the performance model forms (see de_model.h). */
#include "de_model.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_gamma.h>
#include <math.h>
#include <stdlib.h>

#include "de_util.h"

double de_model_step_time(double overhead_s, double per_sample_s, double train_slowdown, int batch, double lc_util)
{
    if (lc_util >= 1.0)
        return INFINITY;
    double t = overhead_s + per_sample_s * (double)batch;
    if (lc_util > 0.0)
        t *= 1.0 + train_slowdown * lc_util / (1.0 - lc_util);
    return t;
}

double de_model_lc_service(double service_s, double lc_inflation, double blocking_fraction, double per_sample_s,
                           int batch, double duty)
{
    return service_s * (1.0 + lc_inflation * duty) + duty * blocking_fraction * per_sample_s * (double)batch;
}

double de_model_utilisation(const de_lc_class *cls, int n)
{
    double rho = 0.0;
    for (int i = 0; i < n; i++)
        rho += cls[i].rate * cls[i].service_s;
    return rho;
}

/* Quantile of a gamma(shape k, scale theta) distribution at probability p.
 * Newton's method on the regularised incomplete gamma function from the
 * Wilson-Hilferty start (2-3 steps to 1e-10 relative); GSL's gsl_cdf_gamma_Pinv is the
 * fallback. For k > 1e3 the Wilson-Hilferty formula itself is accurate to ~1e-7. */
static double gamma_quantile(double p, double k, double theta)
{
    double z = gsl_cdf_ugaussian_Pinv(p);
    double c = 1.0 - 1.0 / (9.0 * k) + z / (3.0 * sqrt(k));
    double x = k * c * c * c; /* in units of theta */
    if (k > 1e3 && x > 0)
        return x * theta;
    if (!(x > 0))
        x = k * 0.5;
    double lg = lgamma(k);
    gsl_sf_result r;
    for (int it = 0; it < 60; it++) {
        if (gsl_sf_gamma_inc_P_e(k, x, &r) != GSL_SUCCESS)
            break;
        double f = r.val - p;
        double dens = exp((k - 1.0) * log(x) - x - lg);
        if (!(dens > 0) || !isfinite(dens))
            break;
        double step = f / dens, nx = x - step;
        if (nx <= 0)
            nx = 0.5 * x;
        if (fabs(nx - x) <= 1e-10 * x)
            return nx * theta;
        x = nx;
    }
    return gsl_cdf_gamma_Pinv(p, k, theta);
}

/* Mean and variance of each class's sojourn time T = W + S at a shared FIFO M/G/1
 * queue with gamma service times of mean s and squared coefficient of variation c2
 * (E[S^2] = s^2 (1 + c2), E[S^3] = s^3 (1 + c2)(1 + 2 c2)). The waiting time W is
 * common to all classes: Pollaczek-Khinchine mean, Takacs second moment. Returns 0,
 * or -1 when the utilisation is >= 1. */
static int sojourn_moments(const de_lc_class *cls, int n, double *mean, double *var)
{
    double rho = 0.0, m2 = 0.0, m3 = 0.0; /* sum(l s), sum(l E[S^2]), sum(l E[S^3]) */
    for (int i = 0; i < n; i++) {
        double s = cls[i].service_s, c2 = cls[i].scv, l = cls[i].rate;
        rho += l * s;
        m2 += l * s * s * (1.0 + c2);
        m3 += l * s * s * s * (1.0 + c2) * (1.0 + 2.0 * c2);
    }
    if (rho >= 1.0)
        return -1;
    double ew = m2 / (2.0 * (1.0 - rho));
    double ew2 = 2.0 * ew * ew + m3 / (3.0 * (1.0 - rho));
    double vw = ew2 - ew * ew;
    if (vw < 0.0)
        vw = 0.0;
    for (int i = 0; i < n; i++) {
        double s = cls[i].service_s;
        mean[i] = ew + s;
        var[i] = vw + s * s * cls[i].scv;
    }
    return 0;
}

#define DE_LC_STACK 16

void de_model_lc_latency(const de_lc_class *cls, int n, double *out)
{
    gsl_set_error_handler_off(); /* GSL reports through return codes here, never aborts */
    double mst[DE_LC_STACK], vst[DE_LC_STACK];
    double *mean = n <= DE_LC_STACK ? mst : de_calloc((size_t)n, sizeof(double));
    double *var = n <= DE_LC_STACK ? vst : de_calloc((size_t)n, sizeof(double));
    if (sojourn_moments(cls, n, mean, var)) {
        for (int i = 0; i < n; i++)
            out[i] = INFINITY;
    } else {
        for (int i = 0; i < n; i++) {
            if (var[i] <= 1e-18 * mean[i] * mean[i])
                out[i] = mean[i];
            else
                out[i] = gamma_quantile(cls[i].percentile, mean[i] * mean[i] / var[i], var[i] / mean[i]);
        }
    }
    if (mean != mst) {
        free(mean);
        free(var);
    }
}

void de_model_lc_within(const de_lc_class *cls, int n, const double *limit, double *prob)
{
    gsl_set_error_handler_off();
    double mst[DE_LC_STACK], vst[DE_LC_STACK];
    double *mean = n <= DE_LC_STACK ? mst : de_calloc((size_t)n, sizeof(double));
    double *var = n <= DE_LC_STACK ? vst : de_calloc((size_t)n, sizeof(double));
    if (sojourn_moments(cls, n, mean, var)) {
        for (int i = 0; i < n; i++)
            prob[i] = 0.0;
    } else {
        for (int i = 0; i < n; i++) {
            if (var[i] <= 1e-18 * mean[i] * mean[i]) {
                prob[i] = limit[i] >= mean[i] ? 1.0 : 0.0;
                continue;
            }
            double k = mean[i] * mean[i] / var[i], x = limit[i] / (var[i] / mean[i]);
            gsl_sf_result r;
            if (k > 1e3) { /* Wilson-Hilferty, as in gamma_quantile */
                double z = (cbrt(x / k) - (1.0 - 1.0 / (9.0 * k))) * 3.0 * sqrt(k);
                prob[i] = gsl_cdf_ugaussian_P(z);
            } else {
                prob[i] = gsl_sf_gamma_inc_P_e(k, x, &r) == GSL_SUCCESS ? r.val : gsl_cdf_gamma_P(x, k, 1.0);
            }
        }
    }
    if (mean != mst) {
        free(mean);
        free(var);
    }
}

double de_model_allreduce(int n, double alpha_s, double beta_Bps, double bytes)
{
    if (n <= 1)
        return 0.0;
    return 2.0 * (n - 1) * alpha_s + 2.0 * (double)(n - 1) / (double)n * bytes / beta_Bps;
}

/* ---- LC next to training: a mixture of a step phase and a gap phase ---- */

/* Moments of one phase's sojourn times, per class. */
typedef struct phase {
    double w, vw;      /* waiting time: mean, variance (common to the classes) */
} phase;

/* Stationary M/G/1 waiting moments for classes with service means s[k] and second
 * and third moments e2[k], e3[k]; -1 when unstable. */
static int stationary(const de_lc_class *c, const double *s, const double *e2, const double *e3, int n, phase *ph,
                      double *rho_out, double *m2_out)
{
    double rho = 0, m2 = 0, m3 = 0;
    for (int i = 0; i < n; i++) {
        rho += c[i].rate * s[i];
        m2 += c[i].rate * e2[i];
        m3 += c[i].rate * e3[i];
    }
    *rho_out = rho;
    *m2_out = m2;
    if (rho >= 1.0)
        return -1;
    double ew = m2 / (2 * (1 - rho)), ew2 = 2 * ew * ew + m3 / (3 * (1 - rho));
    ph->w = ew;
    ph->vw = ew2 - ew * ew > 0 ? ew2 - ew * ew : 0;
    return 0;
}

/* Gamma CDF by mean and variance (a step at the mean when the variance vanishes). */
static double gamma_cdf(double x, double mean, double var)
{
    if (!(x > 0))
        return 0.0;
    if (var <= 1e-18 * mean * mean)
        return x >= mean ? 1.0 : 0.0;
    double k = mean * mean / var, y = x / (var / mean);
    if (k > 1e3) { /* Wilson-Hilferty */
        double z = (cbrt(y / k) - (1.0 - 1.0 / (9.0 * k))) * 3.0 * sqrt(k);
        return gsl_cdf_ugaussian_P(z);
    }
    gsl_sf_result r;
    return gsl_sf_gamma_inc_P_e(k, y, &r) == GSL_SUCCESS ? r.val : gsl_cdf_gamma_P(y, k, 1.0);
}

typedef struct mixture {
    double d;                       /* weight of the step phase */
    double mean_on, var_on, mean_off, var_off;
} mixture;

#define DE_TRAIN_MAX 16 /* classes per device kept on the stack */

/* The two phases' sojourn moments of class k; -1 when unstable. */
static int train_mixture_buf(const de_lc_class *c, int n, const de_lc_training *tr, mixture *mx, double *buf)
{
    double *s = buf, *e2 = buf + n, *e3 = buf + 2 * n, *so = buf + 3 * n, *e2o = buf + 4 * n, *e3o = buf + 5 * n;
    double *sa = buf + 6 * n, *e2a = buf + 7 * n, *e3a = buf + 8 * n;
    double d = tr->duty > 1 ? 1 : (tr->duty < 0 ? 0 : tr->duty);
    double f = 1.0 + tr->lc_inflation, m = tr->blocking_s;
    for (int i = 0; i < n; i++) {
        double s0 = c[i].service_s, c2 = c[i].scv;
        s[i] = s0;
        e2[i] = s0 * s0 * (1 + c2);
        e3[i] = s0 * s0 * s0 * (1 + c2) * (1 + 2 * c2);
        /* step phase: f S + B, S gamma, B uniform on [0, 2m] independent */
        double eS = f * s0, eS2 = f * f * e2[i], eS3 = f * f * f * e3[i];
        double eB = m, eB2 = 4 * m * m / 3, eB3 = 2 * m * m * m;
        so[i] = eS + eB;
        e2o[i] = eS2 + 2 * eS * eB + eB2;
        e3o[i] = eS3 + 3 * eS2 * eB + 3 * eS * eB2 + eB3;
    }
    phase off, on, avg;
    double rho_off, m2_off, rho_on, m2_on;
    if (stationary(c, s, e2, e3, n, &off, &rho_off, &m2_off))
        return -1;
    for (int i = 0; i < n; i++) {
        mx[i].d = d;
        mx[i].mean_off = off.w + s[i];
        mx[i].var_off = off.vw + s[i] * s[i] * c[i].scv;
        mx[i].mean_on = mx[i].mean_off;
        mx[i].var_on = mx[i].var_off;
    }
    if (d <= 0)
        return 0;
    /* Cycle-average queue (the gaps cannot drain a step's backlog / d -> 1). */
    double rho_a, m2_a;
    for (int i = 0; i < n; i++) {
        sa[i] = (1 - d) * s[i] + d * so[i];
        e2a[i] = (1 - d) * e2[i] + d * e2o[i];
        e3a[i] = (1 - d) * e3[i] + d * e3o[i];
    }
    if (stationary(c, sa, e2a, e3a, n, &avg, &rho_a, &m2_a))
        return -1;
    /* Step phase: stationary if the step queue is stable and reaches it; else capped
     * by the work a step can pile up: fluid overload plus a reflected random walk. */
    double tau = tr->step_s > 0 ? tr->step_s : 0;
    int stable_on = stationary(c, so, e2o, e3o, n, &on, &rho_on, &m2_on) == 0;
    double cap = off.w + (rho_on > 1 ? (rho_on - 1) * tau / 2 : 0) + (2.0 / 3.0) * sqrt(2.0 / 3.14159265358979323846) * sqrt(m2_on * tau);
    if (!stable_on || on.w > cap) {
        on.w = cap;
        on.vw = cap * cap;
    }
    /* The backlog a step leaves (above the gap's level) drains during the gap. */
    double excess = 2 * (on.w - off.w > 0 ? on.w - off.w : 0);
    double gap = d < 1 ? tau * (1 - d) / d : 0;
    double drain = excess / (1 - rho_off);
    phase gapph = off;
    if (drain >= gap) { /* never drains: the cycle-average queue, at least */
        if (avg.w > on.w) {
            on = avg;
        }
        gapph = on;
    } else if (excess > 0) {
        double fr = drain / gap, ex = fr * excess / 2;
        gapph.w = off.w + ex;
        gapph.vw = off.vw + fr * excess * excess / 3 - ex * ex;
    }
    for (int i = 0; i < n; i++) {
        mx[i].mean_on = on.w + so[i];
        mx[i].var_on = on.vw + (e2o[i] - so[i] * so[i]);
        mx[i].mean_off = gapph.w + s[i];
        mx[i].var_off = gapph.vw + s[i] * s[i] * c[i].scv;
    }
    return 0;
}

static int train_mixture(const de_lc_class *c, int n, const de_lc_training *tr, mixture *mx)
{
    double stack[9 * DE_TRAIN_MAX], *buf = n <= DE_TRAIN_MAX ? stack : de_calloc(9 * (size_t)n, sizeof(double));
    int rc = train_mixture_buf(c, n, tr, mx, buf);
    if (buf != stack)
        free(buf);
    return rc;
}

static double mix_cdf(const mixture *m, double x)
{
    return m->d * gamma_cdf(x, m->mean_on, m->var_on) + (1 - m->d) * gamma_cdf(x, m->mean_off, m->var_off);
}

static double gamma_q(double p, double mean, double var)
{
    if (var <= 1e-18 * mean * mean)
        return mean;
    return gamma_quantile(p, mean * mean / var, var / mean);
}

void de_model_lc_latency_train(const de_lc_class *cls, int n, const de_lc_training *tr, double *out)
{
    gsl_set_error_handler_off();
    if (tr->duty <= 0) {
        de_model_lc_latency(cls, n, out);
        return;
    }
    mixture st[DE_TRAIN_MAX], *mx = n <= DE_TRAIN_MAX ? st : de_calloc((size_t)n, sizeof *mx);
    if (train_mixture(cls, n, tr, mx)) {
        for (int i = 0; i < n; i++)
            out[i] = INFINITY;
        n = 0;
    }
    for (int i = 0; i < n; i++) {
        const mixture *m = &mx[i];
        double p = cls[i].percentile;
        double a = gamma_q(p, m->mean_on, m->var_on), b = gamma_q(p, m->mean_off, m->var_off);
        double lo = a < b ? a : b, hi = a < b ? b : a;
        if (m->d >= 1 || hi - lo <= 1e-12 * hi) {
            out[i] = m->d >= 1 ? a : hi;
            continue;
        }
        /* The mixture's quantile lies between its components' (bisection). */
        for (int it = 0; it < 100 && hi - lo > 1e-10 * hi; it++) {
            double mid = 0.5 * (lo + hi);
            if (mix_cdf(m, mid) >= p)
                hi = mid;
            else
                lo = mid;
        }
        out[i] = hi;
    }
    if (mx != st)
        free(mx);
}

void de_model_lc_within_train(const de_lc_class *cls, int n, const de_lc_training *tr, const double *limit,
                              double *prob)
{
    gsl_set_error_handler_off();
    if (tr->duty <= 0) {
        de_model_lc_within(cls, n, limit, prob);
        return;
    }
    mixture st[DE_TRAIN_MAX], *mx = n <= DE_TRAIN_MAX ? st : de_calloc((size_t)n, sizeof *mx);
    if (train_mixture(cls, n, tr, mx)) {
        for (int i = 0; i < n; i++)
            prob[i] = 0.0;
    } else {
        for (int i = 0; i < n; i++)
            prob[i] = mix_cdf(&mx[i], limit[i]);
    }
    if (mx != st)
        free(mx);
}
