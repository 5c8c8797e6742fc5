/* de_model.c — the performance model forms (see de_model.h). */
#include "de_model.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_gamma.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "de_util.h"

double de_model_step_time(double overhead_s, double per_sample_s, double train_slowdown, double colocation_slowdown,
                          int batch, double lc_util)
{
    if (lc_util >= 1.0)
        return INFINITY;
    double t = overhead_s + per_sample_s * (double)batch;
    if (lc_util > 0.0)
        t *= 1.0 + colocation_slowdown + train_slowdown * lc_util / (1.0 - lc_util);
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

/* ---- a CPU budget per period (an emulated device's quota) ---- */

int de_model_budget_binds(const de_budget *b, double share)
{
    /* Alone the request needs 1 core; next to a trainer the two spend 1 / share cores. */
    return b && b->cores > 0 && b->period_s > 0 && b->cores * (share > 0 ? share : 1.0) < 1.0;
}

double de_model_budget_wall(double x, double t, double used, const de_budget *b, double share, double *used_end)
{
    if (!(x > 0)) {
        if (used_end)
            *used_end = used;
        return 0.0;
    }
    if (!de_model_budget_binds(b, share)) {
        if (used_end)
            *used_end = used + x;
        return x;
    }
    double P = b->period_s, Q = b->cores * P, phi = fmod(t, P);
    if (phi < 0)
        phi += P;
    if (!(used > 0))
        used = 0;
    double sh = share > 0 ? share : 1.0;
    double spent = fmin(Q, share > 0 ? phi + used : used); /* the trainer ran since the period began */
    double run = fmin((Q - spent) * sh, P - phi);         /* the request's CPU (= wall) in this period */
    if (x <= run) {
        if (used_end)
            *used_end = used + x;
        return x;
    }
    x -= run;
    double g = Q * sh, k = ceil(x / g) - 1.0; /* full periods of g, then the rest */
    if (k < 0)
        k = 0;
    double rem = x - k * g;
    if (used_end)
        *used_end = rem;
    return (P - phi) + k * P + rem;
}

/* Quadrature of the wall time under a budget: phases at NPHI midpoints of the period, the
 * gamma CPU work at NX probability midpoints, the blocking at NB midpoints. */
#define NPHI 24
#define NX 12
#define NB 4

/* A request's service moments, f = 1 + lc_inflation during a step (1 in a gap), m the
 * blocking. Without a budget its service is Y = f X + B (X gamma with mean s and scv
 * c2, B uniform on [0, 2m]); under a budget (an emulated type) its CPU work is X + B and
 * f is the trainer's claim instead: the request gets a share 1 / f of the budget next to
 * the trainer. q[0..2]: the first three moments of the time the work takes to drain at
 * the budget's rate r (its cores x share; 1 without a budget): the waiting that requests
 * queued behind each other see (their throttled waits overlap). w[0..1]: the first two
 * moments of the request's own wall time de_model_budget_wall from a uniform phase of the
 * period (its work itself where the budget does not bind). */
static void service_moments(double s, double c2, double f, double m, const de_budget *bud, int trainer, double *q,
                            double *w)
{
    int budget = bud && bud->cores > 0 && bud->period_s > 0;
    double share = trainer ? 1.0 / f : 0.0, g = budget ? 1.0 : f;
    double eX = s, eX2 = s * s * (1 + c2), eX3 = s * s * s * (1 + c2) * (1 + 2 * c2);
    double eS = g * eX, eS2 = g * g * eX2, eS3 = g * g * g * eX3;
    double eB = m, eB2 = 4 * m * m / 3, eB3 = 2 * m * m * m;
    double y1 = eS + eB, y2 = eS2 + 2 * eS * eB + eB2, y3 = eS3 + 3 * eS2 * eB + 3 * eS * eB2 + eB3;
    int binds = budget && de_model_budget_binds(bud, share);
    double r = binds ? bud->cores * (trainer ? share : 1.0) : 1.0;
    q[0] = y1 / r;
    q[1] = y2 / (r * r);
    q[2] = y3 / (r * r * r);
    w[0] = y1;
    w[1] = y2;
    if (!binds)
        return;
    double xs[NX];
    int nx = c2 > 1e-9 ? NX : 1, nb = m > 0 ? NB : 1;
    for (int i = 0; i < nx; i++)
        xs[i] = nx == 1 ? s : gamma_quantile((i + 0.5) / nx, 1.0 / c2, s * c2);
    double a1 = 0, a2 = 0, P = bud->period_s;
    for (int i = 0; i < nx; i++)
        for (int j = 0; j < nb; j++) {
            double x = xs[i] + (nb == 1 ? 0.0 : 2 * m * (j + 0.5) / nb);
            for (int k = 0; k < NPHI; k++) {
                double t = de_model_budget_wall(x, P * (k + 0.5) / NPHI, 0.0, bud, share, NULL);
                a1 += t;
                a2 += t * t;
            }
        }
    double n = (double)nx * nb * NPHI;
    w[0] = a1 / n;
    w[1] = a2 / n;
}

double de_model_lc_service_wall(const de_lc_class *c, const de_lc_training *tr)
{
    double d = tr->duty > 1 ? 1 : (tr->duty > 0 ? tr->duty : 0), q[3], a[2], b[2];
    service_moments(c->service_s, c->scv, 1.0, 0.0, &tr->budget, 0, q, a);
    if (!(d > 0))
        return a[0];
    service_moments(c->service_s, c->scv, 1.0 + tr->lc_inflation, tr->blocking_s, &tr->budget, 1, q, b);
    return (1 - d) * a[0] + d * b[0];
}

/* ---- LC next to training: a mixture of a step phase and a gap phase ---- */

/* Moments of one phase's sojourn times, per class. */
typedef struct phase {
    double w, vw;      /* waiting time: mean, variance (common to the classes) */
    double p;          /* probability of waiting at all (the utilisation; 1 when overloaded) */
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
    ph->p = rho;
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

/* Own wall times under a binding budget, as weighted points: NW_PHI phases x the work at
 * the middle of NW_X probability bins (finer in the tail, for p99). */
#define NW_PHI 16
#define NW_X 9
#define NW (NW_PHI * NW_X)
static const double x_edges[NW_X + 1] = {0, 0.2, 0.4, 0.6, 0.8, 0.9, 0.96, 0.99, 0.998, 1};

/* A request's own wall times in one phase, as weighted points sorted by time (weights
 * sum to 1), with prefix sums for the CDF in O(log n): cw[j] the weights of points 0..j,
 * ex[j] = sum over i <= j of wt[i] exp(-(pt[j] - pt[i]) / th) for the wait's mean th. */
typedef struct walls {
    int n;
    double (*pw)[2]; /* (time, weight) */
    double *cw, *ex;
} walls;

typedef struct mixture {
    double d;                       /* weight of the step phase */
    double mean_on, var_on, mean_off, var_off;
    /* Under a binding budget: the sojourn is the request's own wall time if it finds the
     * queue empty (probability 1 - p; idle: from a uniform phase of the period), else an
     * exponential wait of mean th plus its own wall time from where the request before it
     * left the period (busy: that request spent the quota there, so the one behind it is
     * throttled more; the simulator's queue shows it, an independent wait does not). */
    int budget;
    double p_on, th_on, p_off, th_off;
    walls idle_on, busy_on, idle_off, busy_off;
} mixture;

/* The work of a request at the middle of probability bin i: gamma (mean s, scv c2) plus
 * the blocking's mean m; its bin's weight in *w. */
static double work_point(double s, double c2, double m, int nx, int i, double *w)
{
    *w = nx == 1 ? 1.0 : x_edges[i + 1] - x_edges[i];
    return (nx == 1 ? s : gamma_quantile(0.5 * (x_edges[i] + x_edges[i + 1]), 1.0 / c2, s * c2)) + m;
}

static int cmp_pair(const void *a, const void *b)
{
    double x = ((const double *)a)[0], y = ((const double *)b)[0];
    return x < y ? -1 : x > y;
}

/* Takes n (time, weight) pairs (owned) into w, sorted, with cumulative weights. */
static void set_points(double (*pr)[2], int n, walls *w)
{
    qsort(pr, (size_t)n, sizeof *pr, cmp_pair);
    w->n = n;
    w->pw = pr;
    w->cw = de_calloc((size_t)n + 1, sizeof *w->cw);
    w->ex = NULL;
    for (int j = 0; j < n; j++)
        w->cw[j] = (j ? w->cw[j - 1] : 0.0) + pr[j][1];
}

/* The exponential prefix sums of w for a wait of mean th. */
static void set_tail(walls *w, double th)
{
    free(w->ex);
    w->ex = de_calloc((size_t)w->n + 1, sizeof *w->ex);
    for (int j = 0; j < w->n; j++)
        w->ex[j] = (j ? w->ex[j - 1] * (th > 0 ? exp(-(w->pw[j][0] - w->pw[j - 1][0]) / th) : 0.0) : 0.0) +
                   w->pw[j][1];
}

static void walls_free(walls *w)
{
    free(w->pw);
    free(w->cw);
    free(w->ex);
    memset(w, 0, sizeof *w);
}

/* The index of the last point at or before t (-1: none). */
static int last_at(const walls *w, double t)
{
    int lo = 0, hi = w->n; /* first index with time > t */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (w->pw[mid][0] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo - 1;
}

/* The own wall-time points of a request: work X + m (X gamma, mean s, scv c2) from NW_PHI
 * phases of the period (idle), and the same work started where a request of those points
 * ended, at its phase with what it spent of that period (busy). What the device's
 * earlier requests spent of the period before an idle request at phase phi (u per second
 * on average) is lumpy: nothing, or, with probability 1 - exp(-rate phi) that one came in
 * the period so far, u phi / that probability. */
static void wall_points(double s, double c2, double m, double rate, double u, const de_budget *bud, double share,
                        walls *idle, walls *busy)
{
    int nx = c2 > 1e-9 ? NW_X : 1, n = 0;
    double P = bud->period_s, xs[NW_X], xw[NW_X];
    for (int i = 0; i < nx; i++)
        xs[i] = work_point(s, c2, m, nx, i, &xw[i]);
    double (*raw)[4] = de_calloc(2 * (size_t)nx * NW_PHI, sizeof *raw); /* wall, weight, end phase, end used */
    for (int i = 0; i < nx; i++)
        for (int k = 0; k < NW_PHI; k++) {
            double phi = P * (k + 0.5) / NW_PHI, pi = rate > 0 ? 1 - exp(-rate * phi) : 0.0;
            for (int h = 0; h < 2; h++) {
                double wgt = xw[i] / NW_PHI * (h ? pi : 1 - pi), used = h ? u * phi / pi : 0.0;
                if (!(wgt > 0))
                    continue;
                raw[n][0] = de_model_budget_wall(xs[i], phi, used, bud, share, &raw[n][3]);
                raw[n][1] = wgt;
                raw[n][2] = fmod(phi + raw[n][0], P);
                n++;
            }
        }
    double (*pi)[2] = de_calloc((size_t)n, sizeof *pi), (*pr)[2] = de_calloc((size_t)n * nx, sizeof *pr);
    for (int j = 0; j < n; j++)
        pi[j][0] = raw[j][0], pi[j][1] = raw[j][1];
    set_points(pi, n, idle);
    int nb = 0;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < nx; i++, nb++) {
            pr[nb][0] = de_model_budget_wall(xs[i], raw[j][2], raw[j][3], bud, share, NULL);
            pr[nb][1] = raw[j][1] * xw[i];
        }
    set_points(pr, nb, busy);
    free(raw);
}

/* P(sojourn <= t) of one phase: empty queue (1 - p) then the idle points, else an
 * exponential wait of mean th then the busy points (whose tail sums set_tail made). */
static double phase_cdf(const walls *idle, const walls *busy, double p, double th, double t)
{
    int a = last_at(idle, t), b = p > 0 ? last_at(busy, t) : -1;
    double ia = a >= 0 ? idle->cw[a] : 0.0, ib = 0.0;
    if (b >= 0)
        ib = busy->cw[b] - (th > 0 ? busy->ex[b] * exp(-(t - busy->pw[b][0]) / th) : 0.0);
    return (1 - p) * ia + p * ib;
}

/* The first three moments of a point set. */
static void walls_moments(const walls *w, double *m1, double *m2, double *m3)
{
    *m1 = *m2 = *m3 = 0;
    for (int j = 0; j < w->n; j++) {
        double x = w->pw[j][0], q = w->pw[j][1];
        *m1 += q * x, *m2 += q * x * x, *m3 += q * x * x * x;
    }
}

/* M/G/1 with an exceptional first service (Welch 1964, Oper. Res. 12(5)): the first request
 * of a busy period is served in S0 (idle points), the others in S (busy points, whose
 * utilisation rho the phase was computed with). The mean wait gains
 * lambda (E S0^2 - E S^2) / (2 (1 - rho + rho0)) and a request waits with probability
 * rho0 / (1 - rho + rho0), rho0 = lambda E S0. */
static void welch(const de_lc_class *c, int n, const mixture *mx, int on, double rho, phase *ph)
{
    double rho0 = 0, d2 = 0;
    for (int i = 0; i < n; i++) {
        double a1, a2, a3, b1, b2, b3;
        walls_moments(on ? &mx[i].idle_on : &mx[i].idle_off, &a1, &a2, &a3);
        walls_moments(on ? &mx[i].busy_on : &mx[i].busy_off, &b1, &b2, &b3);
        rho0 += c[i].rate * a1;
        d2 += c[i].rate * (a2 - b2);
    }
    double den = 1 - rho + rho0;
    if (!(den > 0))
        return;
    ph->w = fmax(ph->w + d2 / (2 * den), 0.0);
    ph->p = rho0 / den;
}

#define DE_TRAIN_MAX 16 /* classes per device kept on the stack */

/* A phase's wait as an atom at 0 and an exponential tail with its mean. */
static void set_wait(double *p, double *th, const phase *ph)
{
    *p = ph->w > 0 ? fmin(fmax(ph->p, 1e-6), 1.0) : 0.0;
    *th = *p > 0 ? ph->w / *p : 0.0;
}

/* The two phases' sojourn moments of class k; -1 when unstable. */
static int train_mixture_buf(const de_lc_class *c, int n, const de_lc_training *tr, mixture *mx, double *buf)
{
    double *s = buf, *e2 = buf + n, *e3 = buf + 2 * n, *so = buf + 3 * n, *e2o = buf + 4 * n, *e3o = buf + 5 * n;
    double *sa = buf + 6 * n, *e2a = buf + 7 * n, *e3a = buf + 8 * n;
    double *wf = buf + 9 * n, *wf2 = buf + 10 * n, *wo = buf + 11 * n, *wo2 = buf + 12 * n; /* own wall times */
    double d = tr->duty > 1 ? 1 : (tr->duty < 0 ? 0 : tr->duty);
    double f = 1.0 + tr->lc_inflation, m = tr->blocking_s;
    for (int i = 0; i < n; i++) {
        /* gap phase: S gamma; step phase: f S + B, B uniform on [0, 2m] independent
         * (service_moments; under a budget the queues' moments are replaced below). */
        double q[3], w[2];
        service_moments(c[i].service_s, c[i].scv, 1.0, 0.0, &tr->budget, 0, q, w);
        s[i] = q[0], e2[i] = q[1], e3[i] = q[2], wf[i] = w[0], wf2[i] = w[1];
        if (d > 0)
            service_moments(c[i].service_s, c[i].scv, f, m, &tr->budget, 1, q, w);
        so[i] = q[0], e2o[i] = q[1], e3o[i] = q[2], wo[i] = w[0], wo2[i] = w[1];
    }
    double u_lc = 0, rate_lc = 0; /* the LC tasks' CPU per second: the budget their earlier requests spend */
    for (int i = 0; i < n; i++) {
        u_lc += c[i].rate * c[i].service_s;
        rate_lc += c[i].rate;
    }
    int budget = tr->budget.cores > 0 && tr->budget.period_s > 0 &&
                 (de_model_budget_binds(&tr->budget, 0.0) || (d > 0 && de_model_budget_binds(&tr->budget, 1.0 / f)));
    for (int i = 0; i < n; i++) {
        mx[i].d = d;
        mx[i].budget = budget;
        if (!budget)
            continue;
        /* Under a budget the queue serves each request in its wall time: the first of a busy
         * period from a uniform phase (idle points), the others where the one before left the
         * period (busy points); the waits take the busy ones' moments and welch() the first. */
        wall_points(c[i].service_s, c[i].scv, 0.0, rate_lc, u_lc, &tr->budget, 0.0, &mx[i].idle_off,
                    &mx[i].busy_off);
        walls_moments(&mx[i].busy_off, &s[i], &e2[i], &e3[i]);
        if (d > 0) {
            wall_points(c[i].service_s, c[i].scv, m, rate_lc, u_lc, &tr->budget, 1.0 / f, &mx[i].idle_on,
                        &mx[i].busy_on);
            walls_moments(&mx[i].busy_on, &so[i], &e2o[i], &e3o[i]);
        }
    }
    phase off, on, avg;
    double rho_off, m2_off, rho_on, m2_on;
    if (stationary(c, s, e2, e3, n, &off, &rho_off, &m2_off))
        return -1;
    if (budget)
        welch(c, n, mx, 0, rho_off, &off);
    for (int i = 0; i < n; i++) {
        mx[i].mean_off = off.w + wf[i];
        mx[i].var_off = off.vw + fmax(wf2[i] - wf[i] * wf[i], 0.0);
        mx[i].mean_on = mx[i].mean_off;
        mx[i].var_on = mx[i].var_off;
        if (budget) {
            set_wait(&mx[i].p_off, &mx[i].th_off, &off);
            set_wait(&mx[i].p_on, &mx[i].th_on, &off);
        }
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
    if (stable_on && budget)
        welch(c, n, mx, 1, rho_on, &on);
    double cap = off.w + (rho_on > 1 ? (rho_on - 1) * tau / 2 : 0) + (2.0 / 3.0) * sqrt(2.0 / 3.14159265358979323846) * sqrt(m2_on * tau);
    if (!stable_on || on.w > cap) {
        on.w = cap;
        on.vw = cap * cap;
        if (!stable_on) /* stable but capped keeps its utilisation: continuous where the cap sets in */
            on.p = 1.0;
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
        gapph.p = 1.0; /* the gap never empties the queue (the partial drain's fr -> 1 meets it) */
    } else if (excess > 0) {
        double fr = drain / gap, ex = fr * excess / 2;
        gapph.p = fmax(off.p, fr);
        gapph.w = off.w + ex;
        gapph.vw = off.vw + fr * excess * excess / 3 - ex * ex;
    }
    for (int i = 0; i < n; i++) {
        mx[i].mean_on = on.w + wo[i];
        mx[i].var_on = on.vw + fmax(wo2[i] - wo[i] * wo[i], 0.0);
        mx[i].mean_off = gapph.w + wf[i];
        mx[i].var_off = gapph.vw + fmax(wf2[i] - wf[i] * wf[i], 0.0);
        if (budget) {
            set_wait(&mx[i].p_on, &mx[i].th_on, &on);
            set_wait(&mx[i].p_off, &mx[i].th_off, &gapph);
        }
    }
    return 0;
}

static void mixture_free(mixture *mx, int n)
{
    for (int i = 0; i < n; i++) {
        walls_free(&mx[i].idle_on);
        walls_free(&mx[i].busy_on);
        walls_free(&mx[i].idle_off);
        walls_free(&mx[i].busy_off);
    }
}

/* The mixtures of n classes (mixture_free them after, whatever it returns). */
static int train_mixture(const de_lc_class *c, int n, const de_lc_training *tr, mixture *mx)
{
    memset(mx, 0, (size_t)n * sizeof *mx);
    double stack[13 * DE_TRAIN_MAX], *buf = n <= DE_TRAIN_MAX ? stack : de_calloc(13 * (size_t)n, sizeof(double));
    int rc = train_mixture_buf(c, n, tr, mx, buf);
    if (buf != stack)
        free(buf);
    for (int i = 0; !rc && i < n; i++)
        if (mx[i].budget) {
            set_tail(&mx[i].busy_off, mx[i].th_off);
            set_tail(&mx[i].busy_on, mx[i].th_on);
        }
    return rc;
}

static double mix_cdf(const mixture *m, double x)
{
    if (m->budget)
        return (m->d > 0 ? m->d * phase_cdf(&m->idle_on, &m->busy_on, m->p_on, m->th_on, x) : 0.0) +
               (1 - m->d) * phase_cdf(&m->idle_off, &m->busy_off, m->p_off, m->th_off, x);
    return m->d * gamma_cdf(x, m->mean_on, m->var_on) + (1 - m->d) * gamma_cdf(x, m->mean_off, m->var_off);
}

/* The mixture's quantile at p in [lo, hi] (CDF(hi) >= p): bisection to a bracket of
 * relative width rel, then the CDF's chord across it. Bisection alone returns a bracket
 * end, a step function of the model's parameters (steps of rel); the chord makes the
 * quantile move smoothly with them, as the fits' finite-difference Jacobians need (with
 * the bracket end, the LC fits' end points moved by 4e-6 relative with the libm's code
 * path: FMA or not). */
static double mix_bisect(const mixture *m, double p, double lo, double hi, double rel)
{
    double flo = NAN, fhi = NAN;
    for (int it = 0; it < 100 && hi - lo > rel * hi; it++) {
        double mid = 0.5 * (lo + hi), f = mix_cdf(m, mid);
        if (f >= p) {
            hi = mid;
            fhi = f;
        } else {
            lo = mid;
            flo = f;
        }
    }
    if (isnan(flo))
        flo = mix_cdf(m, lo);
    if (isnan(fhi))
        fhi = mix_cdf(m, hi);
    if (!(fhi > flo) || !(p > flo))
        return p > flo ? hi : lo;
    double t = (p - flo) / (fhi - flo);
    return lo + (t < 1 ? t : 1) * (hi - lo);
}

/* The mixture's quantile under a budget: bisection on its CDF. */
static double budget_quantile(const mixture *m, double p)
{
    double hi = 0;
    const walls *w[4] = {&m->idle_off, &m->busy_off, &m->idle_on, &m->busy_on};
    for (int k = 0; k < 4; k++)
        if (w[k]->n > 0)
            hi = fmax(hi, w[k]->pw[w[k]->n - 1][0]);
    hi += 1e-9;
    for (int it = 0; it < 200 && mix_cdf(m, hi) < p; it++)
        hi = 2 * hi + m->th_on + m->th_off;
    return mix_bisect(m, p, 0.0, hi, 1e-9);
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
    if (tr->duty <= 0 && !de_model_budget_binds(&tr->budget, 0.0)) {
        de_model_lc_latency(cls, n, out);
        return;
    }
    mixture st[DE_TRAIN_MAX], *mx = n <= DE_TRAIN_MAX ? st : de_calloc((size_t)n, sizeof *mx);
    int n0 = n;
    if (train_mixture(cls, n, tr, mx)) {
        for (int i = 0; i < n; i++)
            out[i] = INFINITY;
        n = 0;
    }
    for (int i = 0; i < n; i++) {
        const mixture *m = &mx[i];
        double p = cls[i].percentile;
        if (m->budget) {
            out[i] = budget_quantile(m, p);
            continue;
        }
        double a = gamma_q(p, m->mean_on, m->var_on), b = gamma_q(p, m->mean_off, m->var_off);
        double lo = a < b ? a : b, hi = a < b ? b : a;
        if (m->d >= 1 || hi - lo <= 1e-12 * hi) {
            out[i] = m->d >= 1 ? a : hi;
            continue;
        }
        out[i] = mix_bisect(m, p, lo, hi, 1e-10); /* between its components' quantiles */
    }
    mixture_free(mx, n0);
    if (mx != st)
        free(mx);
}

void de_model_lc_within_train(const de_lc_class *cls, int n, const de_lc_training *tr, const double *limit,
                              double *prob)
{
    gsl_set_error_handler_off();
    if (tr->duty <= 0 && !de_model_budget_binds(&tr->budget, 0.0)) {
        de_model_lc_within(cls, n, limit, prob);
        return;
    }
    mixture st[DE_TRAIN_MAX], *mx = n <= DE_TRAIN_MAX ? st : de_calloc((size_t)n, sizeof *mx);
    int n0 = n;
    if (train_mixture(cls, n, tr, mx)) {
        for (int i = 0; i < n; i++)
            prob[i] = 0.0;
    } else {
        for (int i = 0; i < n; i++)
            prob[i] = mix_cdf(&mx[i], limit[i]);
    }
    mixture_free(mx, n0);
    if (mx != st)
        free(mx);
}
