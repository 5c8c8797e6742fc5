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
