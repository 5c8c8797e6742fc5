/* de_fit.c — weighted nonlinear least squares and the model kinds (see de_fit.h). */
#include "de_fit.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "de_catalog.h"
#include "de_model.h"
#include "de_util.h"

/* ---- generic solver ---- */

/* The points a solve sees: a subset idx[0..m-1] of the problem's points. */
typedef struct subset {
    const de_nls *pb;
    const int *idx;
    int m;
    int failed;
} subset;

static void unscale(const de_nls *pb, const gsl_vector *x, double *theta)
{
    for (int j = 0; j < pb->p; j++)
        theta[j] = gsl_vector_get(x, (size_t)j) * (pb->scale ? pb->scale[j] : 1.0);
}

static int residuals(const gsl_vector *x, void *params, gsl_vector *f)
{
    subset *s = params;
    double theta[DE_FIT_MAXP];
    unscale(s->pb, x, theta);
    for (int i = 0; i < s->m; i++) {
        int k = s->idx[i];
        double yhat = s->pb->predict(theta, k, s->pb->ctx);
        if (!isfinite(yhat)) {
            s->failed = 1;
            return GSL_EDOM;
        }
        gsl_vector_set(f, (size_t)i, yhat - s->pb->y[k]);
    }
    return GSL_SUCCESS;
}

static const char *pname(const de_nls *pb, int j, char *buf, size_t n)
{
    if (pb->names)
        return pb->names[j];
    snprintf(buf, n, "p%d", j);
    return buf;
}

/* True when the residual is orthogonal to every Jacobian column (to 1e-6 in cosine):
 * the first-order condition of a least-squares minimum, scale-free. */
static int at_minimum(gsl_multifit_nlinear_workspace *ws)
{
    gsl_matrix *J = gsl_multifit_nlinear_jac(ws);
    gsl_vector *f = gsl_multifit_nlinear_residual(ws);
    double fn = gsl_blas_dnrm2(f);
    if (fn == 0)
        return 1;
    for (size_t j = 0; j < J->size2; j++) {
        gsl_vector_view c = gsl_matrix_column(J, j);
        double g, cn = gsl_blas_dnrm2(&c.vector);
        gsl_blas_ddot(&c.vector, f, &g);
        if (cn > 0 && fabs(g) > 1e-6 * cn * fn)
            return 0;
    }
    return 1;
}

/* Solves over the subset; theta in/out. When cov is not NULL, also checks the
 * Jacobian's rank and returns (J'WJ)^-1 in cov (p x p, real units). */
static int solve(const de_nls *pb, const int *idx, int m, double *theta, double *cov, int *iterations, int *weak,
                 de_err *err)
{
    int p = pb->p, rc = DE_OK;
    subset s = {pb, idx, m, 0};
    gsl_multifit_nlinear_parameters par = gsl_multifit_nlinear_default_parameters();
    par.trs = gsl_multifit_nlinear_trs_lm;
    /* Central differences (step ~ eps^(1/3)): a forward difference's O(h) error and its
     * 1e-8 step made where an ill-determined LC fit stopped depend on rounding. */
    par.fdtype = GSL_MULTIFIT_NLINEAR_CTRDIFF;
    par.h_df = 6e-6;
    gsl_multifit_nlinear_workspace *ws = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &par, (size_t)m,
                                                                      (size_t)p);
    gsl_multifit_nlinear_fdf fdf = {0};
    fdf.f = residuals;
    fdf.df = NULL; /* forward differences */
    fdf.fvv = NULL;
    fdf.n = (size_t)m;
    fdf.p = (size_t)p;
    fdf.params = &s;
    gsl_vector *x = gsl_vector_alloc((size_t)p), *wv = gsl_vector_alloc((size_t)m);
    for (int j = 0; j < p; j++)
        gsl_vector_set(x, (size_t)j, theta[j] / (pb->scale ? pb->scale[j] : 1.0));
    for (int i = 0; i < m; i++)
        gsl_vector_set(wv, (size_t)i, pb->w ? pb->w[idx[i]] : 1.0);
    int info = 0, st = gsl_multifit_nlinear_winit(x, wv, &fdf, ws);
    if (st == GSL_SUCCESS)
        st = gsl_multifit_nlinear_driver(1000, 1e-12, 1e-12, 1e-14, NULL, NULL, &info, ws);
    if ((st == GSL_ENOPROG || st == GSL_EMAXITER) && !s.failed && at_minimum(ws))
        st = GSL_SUCCESS; /* no step improves: already at the least-squares point */
    if (st != GSL_SUCCESS || s.failed) {
        rc = de_err_set(err, DE_EINVAL, "the solver failed (%s)%s", gsl_strerror(st),
                        s.failed ? ": the model is not finite at the trial parameters (e.g. an LC queue at "
                                   "utilisation >= 1); try other starting values"
                                 : "");
        goto out;
    }
    unscale(pb, ws->x, theta);
    for (int j = 0; j < p; j++)
        if (!isfinite(theta[j])) {
            char b[16];
            rc = de_err_set(err, DE_EINVAL, "fitted %s is not finite", pname(pb, j, b, sizeof b));
            goto out;
        }
    if (iterations)
        *iterations = (int)gsl_multifit_nlinear_niter(ws);
    if (cov) {
        /* Rank: singular values of the Jacobian with unit-norm columns (scale-free). */
        gsl_matrix *J = gsl_multifit_nlinear_jac(ws);
        gsl_matrix *A = gsl_matrix_alloc((size_t)m, (size_t)p), *V = gsl_matrix_alloc((size_t)p, (size_t)p);
        gsl_vector *S = gsl_vector_alloc((size_t)p), *work = gsl_vector_alloc((size_t)p);
        gsl_matrix_memcpy(A, J);
        int zero_col = -1;
        for (int j = 0; j < p; j++) {
            gsl_vector_view c = gsl_matrix_column(A, (size_t)j);
            double nrm = gsl_blas_dnrm2(&c.vector);
            if (!(nrm > 0)) {
                zero_col = j;
                break;
            }
            gsl_vector_scale(&c.vector, 1.0 / nrm);
        }
        double smin = 0, smax = 1;
        if (zero_col < 0 && gsl_linalg_SV_decomp(A, V, S, work) == GSL_SUCCESS) {
            smax = gsl_vector_max(S);
            smin = gsl_vector_min(S);
        }
        if (zero_col >= 0 || !(smin > 1e-7 * smax)) {
            char b[16], names[160] = "";
            /* Name the parameters that the weakest direction mixes. */
            size_t len = 0;
            if (zero_col >= 0) {
                snprintf(names, sizeof names, "%s has no effect on the predictions", pname(pb, zero_col, b, sizeof b));
                if (weak)
                    weak[zero_col] = 1;
            } else {
                size_t jmin = gsl_vector_min_index(S);
                for (int j = 0; j < p && len < sizeof names; j++)
                    if (fabs(gsl_matrix_get(V, (size_t)j, jmin)) > 0.1) {
                        if (weak)
                            weak[j] = 1;
                        int w = snprintf(names + len, sizeof names - len, "%s%s", len ? ", " : "",
                                         pname(pb, j, b, sizeof b));
                        if (w > 0)
                            len += (size_t)w;
                    }
                size_t l2 = strlen(names);
                snprintf(names + l2, sizeof names - l2, " cannot be told apart by these points");
            }
            rc = de_err_set(err, DE_EINVAL, "singular Jacobian (condition %.3g): %s; fix one of them or add points "
                            "that vary what they depend on", smin > 0 ? smax / smin : INFINITY, names);
        } else {
            gsl_matrix *C = gsl_matrix_alloc((size_t)p, (size_t)p);
            gsl_multifit_nlinear_covar(J, 0.0, C);
            for (int a = 0; a < p; a++)
                for (int b = 0; b < p; b++)
                    cov[a * p + b] = gsl_matrix_get(C, (size_t)a, (size_t)b) * (pb->scale ? pb->scale[a] : 1.0) *
                                     (pb->scale ? pb->scale[b] : 1.0);
            gsl_matrix_free(C);
        }
        gsl_matrix_free(A);
        gsl_matrix_free(V);
        gsl_vector_free(S);
        gsl_vector_free(work);
    }
out:
    gsl_vector_free(x);
    gsl_vector_free(wv);
    gsl_multifit_nlinear_free(ws);
    return rc;
}

int de_fit_nls(const de_nls *pb, const double *theta0, int folds, unsigned long seed, de_nls_result *res,
               de_err *err)
{
    gsl_set_error_handler_off();
    memset(res, 0, sizeof *res);
    int n = pb->n, p = pb->p;
    if (p < 0 || p > DE_FIT_MAXP)
        return de_err_set(err, DE_EINVAL, "%d free parameters (0..%d supported)", p, DE_FIT_MAXP);
    if (n <= p)
        return de_err_set(err, DE_EINVAL,
                          "too few points: %d for %d free parameters (need at least %d, so that the fit's quality "
                          "can be judged)", n, p, p + 1);
    for (int i = 0; i < n; i++)
        if (!isfinite(pb->y[i]) || (pb->w && !(pb->w[i] > 0 && isfinite(pb->w[i]))))
            return de_err_set(err, DE_EINVAL, "point %d: observation or weight is not finite and positive", i);
    /* Weighted total sum of squares: R^2 needs observations that vary. */
    double sw = 0, swy = 0, sst = 0;
    for (int i = 0; i < n; i++) {
        sw += pb->w ? pb->w[i] : 1.0;
        swy += (pb->w ? pb->w[i] : 1.0) * pb->y[i];
    }
    for (int i = 0; i < n; i++)
        sst += (pb->w ? pb->w[i] : 1.0) * (pb->y[i] - swy / sw) * (pb->y[i] - swy / sw);
    if (!(sst > 0))
        return de_err_set(err, DE_EINVAL, "the observations do not vary: R^2 is undefined");
    int *all = de_calloc((size_t)n, sizeof *all);
    for (int i = 0; i < n; i++)
        all[i] = i;
    double theta[DE_FIT_MAXP] = {0}, cov[DE_FIT_MAXP * DE_FIT_MAXP] = {0};
    if (p > 0)
        memcpy(theta, theta0, (size_t)p * sizeof *theta);
    int rc = p > 0 ? solve(pb, all, n, theta, cov, &res->iterations, res->weak, err) : DE_OK;
    if (rc) {
        for (int j = 0; j < p; j++)
            res->singular |= res->weak[j];
        memcpy(res->theta, theta, sizeof res->theta); /* where the solver stopped */
        goto out;
    }
    /* Quality. */
    double chi2 = 0, ape = 0, sse = 0;
    for (int i = 0; i < n; i++) {
        double w = pb->w ? pb->w[i] : 1.0, yhat = pb->predict(theta, i, pb->ctx), r = yhat - pb->y[i];
        chi2 += w * r * r;
        sse += r * r;
        ape += fabs(r / pb->y[i]);
    }
    res->dof = n - p;
    res->chi2 = chi2;
    res->r2 = 1.0 - chi2 / sst;
    res->mape = 100.0 * ape / n;
    res->rmse = sqrt(sse / n);
    double s2 = chi2 / res->dof;
    for (int j = 0; j < p; j++) {
        res->theta[j] = theta[j];
        res->se[j] = sqrt(cov[j * p + j] * s2);
    }
    res->cv_mape = NAN;
    res->folds = 0;
    if (folds >= 2 && p == 0) {
        /* Nothing to refit: held-out predictions are the fit's own. */
        res->folds = folds < n ? folds : n;
        res->cv_mape = res->mape;
        res->cv_points = n;
    } else if (folds >= 2) {
        int k = folds < n ? folds : n;
        if (n - (n + k - 1) / k < p)
            k = n; /* leave-one-out keeps n - 1 >= p points */
        int *perm = de_calloc((size_t)n, sizeof *perm), *train = de_calloc((size_t)n, sizeof *train);
        memcpy(perm, all, (size_t)n * sizeof *perm);
        gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
        gsl_rng_set(rng, seed);
        gsl_ran_shuffle(rng, perm, (size_t)n, sizeof *perm);
        gsl_rng_free(rng);
        double cv_ape = 0;
        int predicted = 0;
        int *failed = de_calloc((size_t)k, sizeof *failed); /* a failed fold's message: its first fold's index + 1 */
        char (*why)[sizeof ((de_err *)0)->msg] = de_calloc((size_t)k, sizeof *why);
        for (int f = 0; f < k; f++) {
            int m = 0;
            for (int i = 0; i < n; i++)
                if (i % k != f)
                    train[m++] = perm[i];
            double th[DE_FIT_MAXP];
            memcpy(th, theta, (size_t)p * sizeof *th);
            de_err ferr;
            if (solve(pb, train, m, th, NULL, NULL, NULL, &ferr)) {
                /* Reported and left out: the full fit stands; the CV is over the other folds. */
                res->cv_failed++;
                snprintf(why[f], sizeof why[f], "%s", ferr.msg);
                failed[f] = f + 1;
                for (int g = 0; g < f; g++)
                    if (failed[g] == g + 1 && strcmp(why[g], why[f]) == 0) {
                        failed[f] = g + 1;
                        break;
                    }
                continue;
            }
            for (int i = f; i < n; i += k) {
                int q = perm[i];
                double yhat = pb->predict(th, q, pb->ctx);
                if (!isfinite(yhat) || fabs(yhat) >= 1e6) { /* kind_predict's stand-in for an unstable queue */
                    res->cv_unbounded++;
                    continue;
                }
                cv_ape += fabs((yhat - pb->y[q]) / pb->y[q]);
                predicted++;
            }
        }
        /* One entry per distinct reason, with its folds: "folds 1, 3 of 5: why". An entry that
         * does not fit is left out whole ("..."), never cut inside. */
        size_t nl = 0;
        for (int g = 0; g < k; g++) {
            if (failed[g] != g + 1)
                continue;
            char list[96] = "", entry[sizeof res->cv_note];
            int nf = 0;
            for (int f = g; f < k; f++)
                if (failed[f] == g + 1) {
                    size_t l = strlen(list);
                    snprintf(list + l, sizeof list - l, "%s%d", nf++ ? ", " : "", f + 1);
                }
            int w = snprintf(entry, sizeof entry, "%s%s %s of %d: %s", nl ? "; " : "", nf > 1 ? "folds" : "fold", list,
                             k, why[g]);
            if (w > 0 && nl + (size_t)w < sizeof res->cv_note - 6) {
                memcpy(res->cv_note + nl, entry, (size_t)w + 1);
                nl += (size_t)w;
            } else {
                snprintf(res->cv_note + nl, sizeof res->cv_note - nl, "%s...", nl ? "; " : "");
                break;
            }
        }
        free(failed);
        free(why);
        free(perm);
        free(train);
        res->folds = k;
        res->cv_points = predicted;
        if (predicted == 0)
            rc = de_err_set(err, DE_EINVAL, "cross-validation: no held-out point could be predicted (%d folds "
                            "failed%s%s; %d points predicted unbounded)", res->cv_failed, res->cv_failed ? ": " : "",
                            res->cv_note, res->cv_unbounded);
        else
            res->cv_mape = 100.0 * cv_ape / predicted;
    }
out:
    free(all);
    return rc;
}

/* ---- model kinds ---- */

static const char *const step_names[] = {"overhead_s", "per_sample_s", "train_slowdown", "colocation_slowdown"};
static const char *const lc_names[] = {"service_s", "scv", "lc_inflation", "blocking_fraction"};
static const char *const ar_names[] = {"alpha_s", "beta_Bps"};

void de_fit_params_init(de_profile_kind kind, de_fit_params *par)
{
    memset(par, 0, sizeof *par);
    par->kind = kind;
    const char *const *names = kind == DE_PROFILE_STEP ? step_names : kind == DE_PROFILE_LC ? lc_names : ar_names;
    static const double step0[] = {0.01, 0.01, 1.0, 0.1}, lc0[] = {0.01, 0.5, 1.0, 0.01}, ar0[] = {1e-4, 1.25e8};
    const double *v0 = kind == DE_PROFILE_STEP ? step0 : kind == DE_PROFILE_LC ? lc0 : ar0;
    par->n = kind == DE_PROFILE_STEP ? 4 : kind == DE_PROFILE_LC ? 4 : 2;
    for (int j = 0; j < par->n; j++) {
        par->names[j] = names[j];
        par->value[j] = v0[j];
        par->free[j] = -1;
    }
}

int de_fit_params_index(const de_fit_params *par, const char *name)
{
    for (int j = 0; j < par->n; j++)
        if (strcmp(par->names[j], name) == 0)
            return j;
    return -1;
}

/* Prediction of kind at full parameter values v for inputs x. */
static double predict_x(de_profile_kind kind, const double *v, const double *x, const de_fit_train *tr,
                        const de_budget *bud)
{
    switch (kind) {
    case DE_PROFILE_STEP:
        return de_model_step_time(v[0], v[1], v[2], v[3], (int)x[0], x[1]);
    case DE_PROFILE_LC: {
        /* Parameters outside their domain are held at its edge (trial steps). */
        double s = fmax(v[0], 1e-12), scv = fmax(v[1], 0.0), infl = fmax(v[2], 0.0), bf = fmax(v[3], 0.0);
        de_lc_class c = {x[0], s, scv, x[1]};
        int b = (int)x[2];
        de_lc_training t = {0, 0, infl, 0, *bud};
        if (tr && x[3] > 0 && b > 0) { /* as the predictor: step under this LC load */
            t.duty = x[3];
            t.step_s = de_model_step_time(tr->overhead_s, tr->per_sample_s, tr->train_slowdown, tr->colocation_slowdown,
                                          b, x[0] * s);
            t.blocking_s = bf * tr->per_sample_s * b;
        }
        double out;
        de_model_lc_latency_train(&c, 1, &t, &out);
        return out;
    }
    case DE_PROFILE_ALLREDUCE:
        return de_model_allreduce((int)x[1], v[0], v[1], x[0]);
    }
    return NAN;
}

typedef struct kind_ctx {
    const de_fit_result *r;
    int free_idx[DE_FIT_MAXP];
    int n_free;
    const int *map; /* point i of the problem is r->rows[map[i]] */
} kind_ctx;

static double kind_predict(const double *theta, int i, void *ctx)
{
    const kind_ctx *k = ctx;
    double v[DE_FIT_MAXP];
    memcpy(v, k->r->par.value, sizeof v);
    for (int j = 0; j < k->n_free; j++)
        v[k->free_idx[j]] = theta[j];
    int q = k->map[i];
    const de_profile_row *row = &k->r->prof->rows[k->r->rows[q]];
    double y = predict_x(k->r->par.kind, v, row->x, k->r->train ? &k->r->train[q] : NULL, &k->r->budget);
    /* An unstable queue at a trial point: a large finite value, so the trust region
     * rejects the step instead of the solver failing. */
    if (k->r->par.kind == DE_PROFILE_LC && isinf(y))
        y = 1e6;
    return y;
}

double de_fit_predict_row(const de_fit_result *r, int row, const de_fit_train *train)
{
    return predict_x(r->par.kind, r->par.value, r->prof->rows[row].x, train, &r->budget);
}

/* Range of a fitted parameter: the catalog's, or the ring's. */
static void param_range(const char *name, double *min, double *max)
{
    if (strcmp(name, "alpha_s") == 0) {
        *min = 0;
        *max = 10;
    } else if (strcmp(name, "beta_Bps") == 0) {
        *min = 1e3;
        *max = 1e13;
    } else if (de_catalog_param_range(name, min, max)) {
        *min = -INFINITY;
        *max = INFINITY;
    }
}

/* Decides which parameters are free; fills starting values from the data (and, with
 * start_defaults, the kind's neutral values before that). */
static int decide_free(de_fit_result *r, int start_defaults, de_err *err)
{
    const de_profile *pf = r->prof;
    int n = r->n, has_util = 0, has_alone = 0, has_train = 0;
    double b0 = -1, u0 = -1;
    int batches = 0;
    for (int i = 0; i < n; i++) {
        const de_profile_row *row = &pf->rows[r->rows[i]];
        if (pf->kind == DE_PROFILE_STEP && row->x[1] > 0) {
            /* has_util: 1 with one LC load, 2 with two or more (colocation_slowdown then
             * separates from train_slowdown) */
            if (!has_util || (has_util == 1 && fabs(row->x[1] - u0) > 1e-9 * u0))
                has_util++;
            if (has_util == 1)
                u0 = row->x[1];
        }
        if (pf->kind == DE_PROFILE_LC) {
            if (row->x[3] > 0) {
                has_train = 1;
                double b = row->x[2] * r->train[i].per_sample_s;
                if (batches == 0 || (batches == 1 && fabs(b - b0) > 1e-12 * fabs(b0)))
                    batches++;
                if (batches == 1)
                    b0 = b;
            } else {
                has_alone = 1;
            }
        }
    }
    de_fit_params *par = &r->par;
    for (int j = 0; j < par->n; j++) {
        if (par->free[j] >= 0)
            continue;
        const char *nm = par->names[j];
        if (pf->kind == DE_PROFILE_STEP)
            par->free[j] = !strcmp(nm, "train_slowdown")        ? has_util > 0
                           : !strcmp(nm, "colocation_slowdown") ? has_util > 1
                                                                : 1;
        else if (pf->kind == DE_PROFILE_LC)
            par->free[j] = !strcmp(nm, "service_s") || !strcmp(nm, "scv") ? has_alone
                           : !strcmp(nm, "lc_inflation")                 ? has_train
                                                                        : batches >= 2;
        else
            par->free[j] = 1;
    }
    int n_free = 0;
    for (int j = 0; j < par->n; j++)
        n_free += par->free[j] > 0;
    if (n_free == 0)
        return de_err_set(err, DE_EINVAL, "nothing to fit: every parameter is fixed or has no rows that inform it");
    if (start_defaults) {
        de_fit_params d;
        de_fit_params_init(pf->kind, &d);
        for (int j = 0; j < par->n; j++)
            if (par->free[j] > 0)
                par->value[j] = d.value[j];
    }
    /* All-reduce: y = alpha a + x / beta (a = 2 (n - 1), x = 2 (n - 1) / n bytes) is linear in
     * (alpha, 1 / beta): start at its weighted least-squares solution (weights 1 / sd^2, as
     * the fit's), where the solver then only polishes; a straight line without the weights
     * can start it far off when the sd span decades. */
    if (pf->kind == DE_PROFILE_ALLREDUCE) {
        double saa = 0, sax = 0, sxx = 0, say = 0, sxy = 0;
        for (int i = 0; i < n; i++) {
            const de_profile_row *row = &pf->rows[r->rows[i]];
            double a = 2.0 * (row->x[1] - 1), x = 2.0 * (row->x[1] - 1) / row->x[1] * row->x[0];
            double w = row->sd > 0 ? 1.0 / (row->sd * row->sd) : 1.0;
            saa += w * a * a, sax += w * a * x, sxx += w * x * x, say += w * a * row->y, sxy += w * x * row->y;
        }
        double det = saa * sxx - sax * sax;
        if (det > 1e-12 * saa * sxx) {
            double al = (say * sxx - sxy * sax) / det, g = (saa * sxy - sax * say) / det;
            if (par->free[1] > 0 && g > 0)
                par->value[1] = 1.0 / g;
            if (par->free[0] > 0)
                par->value[0] = fmax(al, 1e-9);
        } else if (saa > 0 && sxx > 0) { /* one rank count and one size: the line through the origin */
            if (par->free[1] > 0 && sxy > 0)
                par->value[1] = sxx / sxy;
        }
    }
    /* Starting values of the linear ones from a straight line through the data. */
    if (pf->kind == DE_PROFILE_STEP) {
        double sx = 0, sy = 0, sxx = 0, sxy = 0;
        int m = 0;
        for (int i = 0; i < n; i++) {
            const de_profile_row *row = &pf->rows[r->rows[i]];
            double x = row->x[0];
            if (row->x[1] > 0)
                continue;
            sx += x, sy += row->y, sxx += x * x, sxy += x * row->y, m++;
        }
        double den = m * sxx - sx * sx;
        if (m >= 2 && den > 0) {
            double slope = (m * sxy - sx * sy) / den, icpt = (sy - slope * sx) / m;
            if (par->free[0] > 0)
                par->value[0] = fmax(icpt, 1e-4 * sy / m);
            if (par->free[1] > 0 && slope > 0)
                par->value[1] = slope;
        }
    }
    if (pf->kind == DE_PROFILE_LC && par->free[0] > 0) {
        /* Keep every queue stable at the start: service below half the shortest gap. */
        double lmin = INFINITY, rmax = 0;
        for (int i = 0; i < n; i++) {
            const de_profile_row *row = &pf->rows[r->rows[i]];
            lmin = fmin(lmin, row->y);
            rmax = fmax(rmax, row->x[0]);
        }
        double s = fmin(par->value[0], 0.5 * lmin);
        if (rmax > 0)
            s = fmin(s, 0.3 / rmax);
        par->value[0] = s;
    }
    return DE_OK;
}

/* Appends a "; "-separated note to the result. */
static void add_note(de_fit_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_note(de_fit_result *r, const char *fmt, ...)
{
    char note[sizeof r->notes];
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(note, sizeof note, fmt, ap);
    va_end(ap);
    size_t len = strlen(r->notes);
    if (len >= 3 && strcmp(r->notes + len - 3, "...") == 0)
        return; /* full: a note was left out already */
    if (w > 0 && len + (len ? 2 : 0) + (size_t)w < sizeof r->notes - 5)
        snprintf(r->notes + len, sizeof r->notes - len, "%s%s", len ? "; " : "", note);
    else /* left out whole, never cut inside */
        snprintf(r->notes + len, sizeof r->notes - len, "%s...", len ? "; " : "");
}

/* Another start for a retry: theta0 x f (f x 1e-3 for a zero), held within each range. */
static void scaled_start(const double *theta0, const char *const *names, int n, double f, double *th)
{
    for (int j = 0; j < n; j++) {
        double lo, hi, v = theta0[j] != 0 ? theta0[j] * f : f * 1e-3;
        param_range(names[j], &lo, &hi);
        th[j] = fmin(fmax(v, lo), hi);
    }
}

/* Whether every free parameter's value theta[j] lies in its range. */
static int in_range(const de_fit_params *par, const kind_ctx *k, const double *theta)
{
    for (int j = 0; j < k->n_free; j++) {
        double lo, hi;
        param_range(par->names[k->free_idx[j]], &lo, &hi);
        if (!(theta[j] >= lo && theta[j] <= hi))
            return 0;
    }
    return 1;
}

/* de_fit_nls, and a fit that ends where the model leaves a point's queue unstable (an
 * LC row predicted unbounded, kind_predict's stand-in) is a failed solve: from an
 * unstable start the capped predictions are flat, the solver can stop there, and every
 * measured row had a finite latency. The caller then retries from other starts. */
static int fit_bounded(const de_nls *pb, const double *theta0, int folds, unsigned long seed, de_nls_result *nr,
                       de_err *err)
{
    int rc = de_fit_nls(pb, theta0, folds, seed, nr, err);
    for (int i = 0; !rc && i < pb->n; i++) {
        double y = pb->predict(nr->theta, i, pb->ctx);
        if (!isfinite(y) || fabs(y) >= 1e6) {
            const kind_ctx *k = pb->ctx;
            const de_profile_row *row = &k->r->prof->rows[k->r->rows[k->map[i]]];
            rc = de_err_set(err, DE_EINVAL, "the solver stopped where the model makes the queue of line %d "
                            "(%g req/s) unstable, a row measured with a finite latency", row->line, row->x[0]);
        }
    }
    return rc;
}

/* One stage of a fit: the parameters want[j] (those not held) over the rows map[0..m-1]
 * (indices into res->rows; y, w over res->rows). A fitted value outside its range is
 * held at the bound it crossed, a parameter of the data's weakest direction (singular
 * Jacobian) at its start (at its bound if the solver had pushed it out of range), and the
 * others are fitted again from their starts; every hold is a note. The last free
 * parameter is held too when last_may_hold (an earlier stage fitted others), else a
 * singular fit of one parameter is an error. Fitted values and standard errors go into
 * res; nr gets the last solve's quality. */
static int fit_stage(de_fit_result *res, const int *map, int m, const double *y, const double *w, const int *want,
                     int folds, unsigned long seed, int last_may_hold, de_nls_result *nr, de_err *err)
{
    de_fit_params *par = &res->par;
    double start[DE_FIT_MAXP];
    memcpy(start, par->value, sizeof start);
    double *ys = de_calloc((size_t)m + 1, sizeof *ys), *ws = w ? de_calloc((size_t)m + 1, sizeof *ws) : NULL;
    for (int i = 0; i < m; i++) {
        ys[i] = y[map[i]];
        if (ws)
            ws[i] = w[map[i]];
    }
    kind_ctx k = {res, {0}, 0, map};
    int rc = DE_OK;
    for (;;) {
        const char *names[DE_FIT_MAXP];
        double theta0[DE_FIT_MAXP], scale[DE_FIT_MAXP];
        k.n_free = 0;
        for (int j = 0; j < par->n; j++)
            if (want[j] && !res->held[j]) {
                par->value[j] = start[j];
                k.free_idx[k.n_free++] = j;
            }
        for (int j = 0; j < k.n_free; j++) {
            names[j] = par->names[k.free_idx[j]];
            theta0[j] = start[k.free_idx[j]];
            scale[j] = fabs(theta0[j]) > 0 ? fabs(theta0[j]) : 1.0;
        }
        if (par->kind == DE_PROFILE_LC && m <= k.n_free && (k.n_free > 1 || (k.n_free == 1 && last_may_hold))) {
            /* Too few rows (lc cells the profiler found overloaded are not rows): hold one. */
            int q = k.free_idx[k.n_free - 1];
            res->held[q] = 2;
            add_note(res, "%s held at %g: %d rows cannot fit %d free parameters and judge the fit", par->names[q],
                     start[q], m, k.n_free);
            continue;
        }
        de_nls pb = {m, k.n_free, ys, ws, kind_predict, &k, scale, names};
        rc = fit_bounded(&pb, theta0, folds, seed, nr, err);
        /* Noisy rows can stall the solver from one start: try others (the same for
         * every run, so a refit stays reproducible) before giving up on a parameter. */
        static const double retry[] = {0.5, 2.0, 0.2, 5.0};
        int solver_failed = rc && !nr->singular && k.n_free > 0 && m > k.n_free;
        for (size_t a = 0; rc && solver_failed && a < sizeof retry / sizeof *retry; a++) {
            double th[DE_FIT_MAXP];
            scaled_start(theta0, names, k.n_free, retry[a], th);
            de_err e3;
            if (fit_bounded(&pb, th, folds, seed, nr, &e3) == DE_OK) {
                add_note(res, "the solver failed from the first start (%s) and converged from %g x it", err->msg,
                         retry[a]);
                rc = DE_OK;
            }
        }
        /* A fit that ends out of range may have diverged from a poor start (weights of a wide
         * dynamic range): another start that ends in range with no worse a fit wins. */
        for (size_t a = 0; !rc && k.n_free > 0 && !in_range(par, &k, nr->theta) && a < sizeof retry / sizeof *retry;
             a++) {
            double th[DE_FIT_MAXP];
            scaled_start(theta0, names, k.n_free, retry[a], th);
            de_nls_result alt;
            de_err e3;
            if (fit_bounded(&pb, th, folds, seed, &alt, &e3) == DE_OK && in_range(par, &k, alt.theta) &&
                alt.chi2 <= nr->chi2) {
                add_note(res, "the fit from the first start left the range; from %g x it the fit is in range and no "
                         "worse (chi2 %.4g against %.4g)", retry[a], alt.chi2, nr->chi2);
                *nr = alt;
            }
        }
        if (rc && solver_failed && (k.n_free > 1 || (k.n_free == 1 && last_may_hold))) {
            int q = k.free_idx[k.n_free - 1]; /* the later (interference) parameter first */
            res->held[q] = 2;
            add_note(res, "%s held at %g: with it free the solver fails from every start (%s)", par->names[q],
                     start[q], err->msg);
            continue;
        }
        if (rc && nr->singular && (k.n_free > 1 || (k.n_free == 1 && last_may_hold))) {
            int h = -1;
            for (int j = k.n_free - 1; j >= 0 && h < 0; j--) /* the later (interference) parameter first */
                if (nr->weak[j])
                    h = j;
            int q = k.free_idx[h];
            double lo, hi, v = nr->theta[h];
            param_range(par->names[q], &lo, &hi);
            if (v < lo || v > hi) {
                res->held[q] = 1;
                par->value[q] = start[q] = v < lo ? lo : hi;
                /* No value: where it left the range is the solver's path (e.g. -2e-11), not the data's. */
                add_note(res, "%s held at its bound %g (the solver pushed it out of its range, where the "
                         "predictions stop depending on it)", par->names[q], start[q]);
            } else {
                res->held[q] = 2;
                add_note(res, "%s held at %g: these rows cannot identify it (%s)", par->names[q], start[q], err->msg);
            }
            continue;
        }
        if (rc)
            break;
        int again = 0;
        for (int j = 0; j < k.n_free; j++) {
            int q = k.free_idx[j];
            double lo, hi, v = nr->theta[j];
            param_range(par->names[q], &lo, &hi);
            if (!(v >= lo && v <= hi)) {
                res->held[q] = 1;
                par->value[q] = start[q] = v < lo ? lo : hi;
                add_note(res, "%s held at its bound %g (the free fit gave %.6g, outside [%g, %g])", par->names[q],
                         start[q], v, lo, hi);
                again = 1;
            }
        }
        if (again)
            continue;
        for (int j = 0; j < k.n_free; j++) {
            par->value[k.free_idx[j]] = nr->theta[j];
            res->se[k.free_idx[j]] = nr->se[j];
        }
        if (nr->cv_unbounded)
            add_note(res, "cross-validation: %d held-out point%s predicted unbounded (an unstable queue: the rows "
                     "left in that fold do not bound the load there), left out of the CV MAPE", nr->cv_unbounded,
                     nr->cv_unbounded == 1 ? " is" : "s are");
        if (nr->cv_failed)
            add_note(res, "cross-validation: %d of %d folds failed and are left out of the CV MAPE, which is over "
                     "the other %d points (%s)", nr->cv_failed, nr->folds, nr->cv_points, nr->cv_note);
        break;
    }
    free(ys);
    free(ws);
    return rc;
}

/* The interference start of an lc fit must leave every row's queue stable too (the cap on
 * lc_inflation above cannot when the blocking alone overloads a queue, e.g. a start from a
 * catalog fitted on a faster host): the free ones among lc_inflation and
 * blocking_fraction are halved until every row is predicted finite, and set to 0 when 40
 * halvings do not do it (then only the rows alone load the queues, as measured). */
static void lc_stable_start(de_fit_result *res, const int *want)
{
    de_fit_params *par = &res->par;
    for (int it = 0; it <= 40; it++) {
        int unstable = 0;
        for (int i = 0; i < res->n && !unstable; i++)
            unstable = !isfinite(predict_x(par->kind, par->value, res->prof->rows[res->rows[i]].x,
                                           res->train ? &res->train[i] : NULL, &res->budget));
        if (!unstable)
            return;
        for (int j = 2; j <= 3; j++)
            if (want[j] && !res->held[j])
                par->value[j] = it < 40 ? 0.5 * par->value[j] : 0.0;
    }
}

/* A stage of an lc fit from several starts of two of its parameters (a, b), the best fit
 * (least chi2) kept; a start whose chi2 is within 1e-6 of an earlier one's is the same fit
 * reached by another path, and the earlier start stays (a libm rounding elsewhere cannot
 * change which start, and note, wins). Each start is made stable (lc_stable_start). */
static int fit_from_starts(de_fit_result *res, const int *map, int n, const double *y, const double *w, const int *wb,
                           int folds, unsigned long seed, int last_may_hold, const int *want, int a, int b,
                           const double (*starts)[2], int n_starts, de_nls_result *nr, de_err *err)
{
    de_fit_result best;
    de_nls_result best_nr;
    int found = -1, rc = DE_OK;
    for (int k = 0; k < n_starts; k++) {
        de_fit_result trial = *res;
        trial.par.value[a] = starts[k][0];
        trial.par.value[b] = starts[k][1];
        lc_stable_start(&trial, want);
        de_nls_result tnr;
        de_err terr;
        int trc = fit_stage(&trial, map, n, y, w, wb, folds, seed, last_may_hold, &tnr, &terr);
        if (k == 0 && trc) { /* the first start's error, unless another start succeeds */
            rc = trc;
            *err = terr;
        }
        if (!trc && (found < 0 || tnr.chi2 < best_nr.chi2 * (1 - 1e-6))) {
            best = trial;
            best_nr = tnr;
            found = k;
        }
    }
    if (found < 0)
        return rc;
    *res = best;
    *nr = best_nr;
    if (found > 0 && starts[found][0] == starts[0][0]) /* a as given: only b's start says which */
        add_note(res, "started from %s %g: the best of %d starts (least chi2, %.4g)", lc_names[b], starts[found][1],
                 n_starts, best_nr.chi2);
    else if (found > 0)
        add_note(res, "started from %s %g, %s %g: the best of %d starts (least chi2, %.4g)", lc_names[a],
                 starts[found][0], lc_names[b], starts[found][1], n_starts, best_nr.chi2);
    return DE_OK;
}

/* The interference stage of an lc fit from several starts, the best fit (least chi2) kept.
 * Where the two interference parameters both leave their range, which one the solver pushes
 * out first decides which is held, and the rest of the fit follows: on one host's trace the
 * 1-core fit ended at R^2 0.64 (blocking_fraction held) or 0.92 (lc_inflation held) after a
 * 13 % change of the co-located step time. Starts: the given one, each of the two at 0 with
 * the other as given, and the neutral values (1.0, 0.01).
 * Other kinds, or fewer than two interference parameters free: one fit_stage. */
static int lc_multistart(de_fit_result *res, const int *map, int n, const double *y, const double *w, const int *wb,
                         int folds, unsigned long seed, int last_may_hold, const int *want, de_nls_result *nr,
                         de_err *err)
{
    de_fit_params *par = &res->par;
    if (par->kind != DE_PROFILE_LC || !(wb[2] && !res->held[2] && wb[3] && !res->held[3]))
        return fit_stage(res, map, n, y, w, wb, folds, seed, last_may_hold, nr, err);
    const double starts[4][2] = {{par->value[2], par->value[3]}, {0.0, par->value[3]}, {par->value[2], 0.0}, {1.0, 0.01}};
    return fit_from_starts(res, map, n, y, w, wb, folds, seed, last_may_hold, want, 2, 3, starts, 4, nr, err);
}

/* The stages of a fit: for lc with rows alone and with training (n_alone > 0: map[0..n_alone-1]
 * are those alone), service_s and scv from the rows alone, then the interference from all
 * rows (lc_multistart); otherwise one stage over all rows. map is overwritten. *stage names
 * the stage that failed. */
static int lc_stages(de_fit_result *res, int *map, int n, int n_alone, const double *y, const double *w,
                     const int *want, int folds, unsigned long seed, de_nls_result *nr, de_err *e2, const char **stage)
{
    de_fit_params *par = &res->par;
    const de_profile *prof = res->prof;
    int staged = n_alone > 0, rc = DE_OK;
    if (staged) {
        int wa[DE_FIT_MAXP] = {want[0], want[1], 0, 0};
        *stage = "stage 1 (service_s, scv from the rows without training): ";
        rc = fit_stage(res, map, n_alone, y, w, wa, 0, 1, 0, nr, e2);
    }
    if (!rc && prof->kind == DE_PROFILE_LC && want[2] && !res->held[2]) {
        /* Start lc_inflation where every queue next to training is stable (load <= 0.8 over
         * the cycle): from an unstable start the capped predictions give the solver no
         * direction. */
        double s = par->value[0], bf = fmax(par->value[3], 0.0);
        for (int i = 0; i < n; i++) {
            const de_profile_row *row = &prof->rows[res->rows[i]];
            double lam = row->x[0], d = row->x[3];
            if (!(d > 0 && row->x[2] > 0 && lam > 0 && s > 0))
                continue;
            double m = bf * res->train[i].per_sample_s * row->x[2], cap = ((0.8 / lam - d * m) / s - 1) / d;
            if (res->budget.cores > 0) /* the step's queue drains at cores / (1 + lc_inflation) */
                cap = 0.8 * res->budget.cores / (lam * (s + m)) - 1;
            if (par->value[2] > cap)
                par->value[2] = fmax(cap, 0.0);
        }
    }
    if (!rc && prof->kind == DE_PROFILE_LC)
        lc_stable_start(res, want);
    if (!rc) {
        int wb[DE_FIT_MAXP] = {0};
        for (int j = 0; j < par->n; j++)
            wb[j] = want[j] && (!staged || j >= 2);
        for (int i = 0; i < n; i++)
            map[i] = i;
        *stage = staged ? "stage 2 (lc_inflation, blocking_fraction from all rows): " : "";
        rc = lc_multistart(res, map, n, y, w, wb, folds, seed, staged, want, nr, e2);
    }
    return rc;
}

static int fit_model(const de_profile *prof, const char *group, const char *entry, const de_fit_params *start,
                     de_fit_per_sample_fn per_sample, void *ps_ctx, const de_fit_opts *opts, de_fit_result *res,
                     de_err *err)
{
    res->prof = prof;
    res->par = *start;
    if (opts && prof->kind == DE_PROFILE_LC)
        res->budget = opts->budget;
    for (int j = 0; j < DE_FIT_MAXP; j++)
        res->se[j] = NAN;
    if (start->kind != prof->kind)
        return de_err_set(err, DE_EINVAL, "%s: a %s trace cannot be fitted with the %s model", prof->path,
                          de_profile_kind_name(prof->kind), de_profile_kind_name(start->kind));
    res->rows = de_calloc((size_t)prof->n + 1, sizeof *res->rows);
    int n = de_profile_select(prof, group, prof->kind == DE_PROFILE_ALLREDUCE ? NULL : entry, res->rows);
    res->n = n;
    if (n == 0)
        return de_err_set(err, DE_EINVAL, "%s: no rows for %s%s%s", prof->path, group,
                          prof->kind == DE_PROFILE_ALLREDUCE ? "" : " / ", prof->kind == DE_PROFILE_ALLREDUCE ? "" : entry);
    res->group = prof->rows[res->rows[0]].group;
    res->entry = prof->rows[res->rows[0]].entry;
    res->pred = de_calloc((size_t)n, sizeof *res->pred);
    double *y = de_calloc((size_t)n, sizeof *y), *w = NULL;
    int rc = DE_OK, with_sd = 0;
    for (int i = 0; i < n; i++)
        with_sd += prof->rows[res->rows[i]].sd > 0;
    if (with_sd && with_sd < n) {
        for (int i = 0; i < n; i++)
            if (!(prof->rows[res->rows[i]].sd > 0)) {
                rc = de_err_set(err, DE_EINVAL, "%s:%d: sd_s is missing here but given on other rows of %s: the "
                                "weights would be undefined", prof->path, prof->rows[res->rows[i]].line, group);
                break;
            }
    }
    if (!rc && with_sd) {
        w = de_calloc((size_t)n, sizeof *w);
        for (int i = 0; i < n; i++)
            w[i] = 1.0 / (prof->rows[res->rows[i]].sd * prof->rows[res->rows[i]].sd);
    }
    for (int i = 0; i < n; i++)
        y[i] = prof->rows[res->rows[i]].y;
    if (!rc && prof->kind == DE_PROFILE_LC) {
        res->train = de_calloc((size_t)n, sizeof *res->train);
        for (int i = 0; i < n && !rc; i++) {
            const de_profile_row *row = &prof->rows[res->rows[i]];
            if (row->x[3] > 0 && (!per_sample || per_sample(ps_ctx, row->group, row->train_network, &res->train[i])))
                rc = de_err_set(err, DE_EREF, "%s:%d: no per_sample_s known for training '%s' on %s (fit the step "
                                "model of that pair first)", prof->path, row->line, row->train_network, row->group);
        }
    }
    if (!rc)
        rc = decide_free(res, opts ? opts->start_defaults : 0, err);
    if (!rc) {
        de_fit_params *par = &res->par;
        int want[DE_FIT_MAXP] = {0}, *map = de_calloc((size_t)n, sizeof *map), n_alone = 0, n_trained = 0;
        for (int j = 0; j < par->n; j++)
            want[j] = par->free[j] > 0;
        for (int i = 0; i < n; i++) {
            const de_profile_row *row = &prof->rows[res->rows[i]];
            if (prof->kind == DE_PROFILE_LC && !(row->x[3] > 0 && row->x[2] > 0))
                map[n_alone++] = i;
            else
                n_trained++;
        }
        /* lc: service_s / scv from the rows alone first, then the interference. */
        int staged = prof->kind == DE_PROFILE_LC && n_alone > 0 && n_trained > 0 && (want[0] || want[1]) &&
                     (want[2] || want[3]);
        de_nls_result nr;
        de_err e2;
        const char *stage = "";
        int folds = opts && opts->folds ? opts->folds : 5;
        unsigned long seed = opts ? opts->seed : 1;
        if (staged && want[1] && !res->held[1]) {
            /* From one start of scv stage 1 may push it below 0, where it is held, while another
             * finds an interior minimum, and the interference stage follows either. When the
             * fit from scv as given ends with scv held, the whole fit runs from 0.1, 0.5 and 1
             * too, the least chi2 over all rows kept (a start within 1e-6 of an earlier one's
             * is the same fit: the earlier stays). On one host's cells the 1-core fit went from
             * R^2 0.935 (scv held at 0, from the neutral start) to 0.955 (scv 0.155). Only then:
             * each start is a whole fit with its cross-validation (calibrate --quick's fits took
             * 39 s instead of 10 with four starts every time). */
            const double scv0[4] = {par->value[1], 0.1, 0.5, 1.0};
            de_fit_result best;
            de_nls_result bnr;
            int found = -1, *m2 = de_calloc((size_t)n, sizeof *m2);
            for (int k = 0; k < 4; k++) {
                de_fit_result trial = *res;
                trial.par.value[1] = scv0[k];
                memcpy(m2, map, (size_t)n * sizeof *m2);
                de_nls_result tnr;
                de_err terr;
                const char *tstage = "";
                int trc = lc_stages(&trial, m2, n, n_alone, y, w, want, folds, seed, &tnr, &terr, &tstage);
                if (k == 0 && trc) {
                    rc = trc;
                    e2 = terr;
                    stage = tstage;
                }
                if (!trc && (found < 0 || tnr.chi2 < bnr.chi2 * (1 - 1e-6))) {
                    best = trial;
                    bnr = tnr;
                    found = k;
                }
                if (k == 0 && !trc && !trial.held[1])
                    break; /* scv found inside its range */
            }
            free(m2);
            if (found >= 0) {
                rc = DE_OK;
                *res = best;
                nr = bnr;
                if (found > 0)
                    add_note(res, "stage 1 started from scv %g: the best of 4 starts of the whole fit (least chi2, %.4g)",
                             scv0[found], bnr.chi2);
            }
        } else {
            rc = lc_stages(res, map, n, staged ? n_alone : 0, y, w, want, folds, seed, &nr, &e2, &stage);
        }
        int fitted = 0;
        for (int j = 0; j < par->n; j++) {
            par->free[j] = want[j] && !res->held[j];
            fitted += par->free[j];
        }
        if (!rc && fitted == 0) {
            rc = DE_ERANGE;
            snprintf(e2.msg, sizeof e2.msg, "every parameter was held (%s): the data do not support a fit",
                     res->notes);
        }
        free(map);
        if (rc) {
            de_err_set(err, rc, "%s: fit of %s%s%s (%d rows): %s%s", prof->path, group, res->entry[0] ? " / " : "",
                       res->entry, n, stage, e2.msg);
        } else {
            res->n_free = fitted;
            res->dof = n - fitted;
            res->r2 = nr.r2;
            res->mape = nr.mape;
            res->cv_mape = nr.cv_mape;
            res->rmse = nr.rmse;
            res->folds = nr.folds;
            res->iterations = nr.iterations;
            res->cv_failed = nr.cv_failed;
            for (int i = 0; i < n && !rc; i++) {
                res->pred[i] = predict_x(prof->kind, res->par.value, prof->rows[res->rows[i]].x,
                                         res->train ? &res->train[i] : NULL, &res->budget);
                if (!isfinite(res->pred[i]))
                    rc = de_err_set(err, DE_EINVAL, "%s:%d: fit of %s%s%s: the fitted model predicts an unbounded "
                                    "value for this row (an LC queue it makes unstable); the fit is refused",
                                    prof->path, prof->rows[res->rows[i]].line, group, res->entry[0] ? " / " : "",
                                    res->entry);
            }
            if (!rc && res->r2 < -1e-3) /* worse than the rows' weighted mean (beyond rounding and a bound's sliver) */
                rc = de_err_set(err, DE_ERANGE, "%s: fit of %s%s%s (%d rows): R^2 = %.3g, below 0: the fitted model "
                                "explains these rows worse than their mean does (%s); the fit is refused",
                                prof->path, group, res->entry[0] ? " / " : "", res->entry, n, res->r2,
                                res->notes[0] ? res->notes : "no parameter was held");
        }
    }
    static const char *const forms[] = {
        "t(b, u) = (overhead_s + per_sample_s * b) * (1 + colocation_slowdown [u > 0] + train_slowdown * u / (1 - u))",
        ("latency percentile of M/G/1 (gamma approx.), service_s and scv alone, training steps at duty d: "
         "service x (1 + lc_inflation) + blocking_fraction per_sample_s b (de_model_lc_latency_train)"),
        "A = 2 (n - 1) alpha_s + 2 (n - 1) / n * bytes / beta_Bps"};
    if (prof->kind == DE_PROFILE_LC && res->budget.cores > 0)
        snprintf(res->form, sizeof res->form,
                 "latency percentile next to training steps at duty d under a CPU budget of %g core per %g ms: "
                 "CPU work gamma(service_s, scv) (+ U(0, 2 blocking_fraction per_sample_s b) during a step), its wall "
                 "time from a uniform phase of the period with a share 1 / (1 + lc_inflation) of the budget next to "
                 "the trainer, queued requests from where the one before left the period, an M/G/1 wait with an exceptional "
                 "first service (de_model_lc_latency_train)",
                 res->budget.cores, 1e3 * res->budget.period_s);
    else
        snprintf(res->form, sizeof res->form, "%s", forms[prof->kind]);
    free(y);
    free(w);
    return rc;
}

int de_fit_model(const de_profile *prof, const char *group, const char *entry, const de_fit_params *start,
                 de_fit_per_sample_fn per_sample, void *ps_ctx, const de_fit_opts *opts, de_fit_result *res,
                 de_err *err)
{
    memset(res, 0, sizeof *res);
    int rc = fit_model(prof, group, entry, start, per_sample, ps_ctx, opts, res, err);
    if (rc)
        de_fit_result_free(res); /* a failed fit holds nothing */
    return rc;
}

void de_fit_result_free(de_fit_result *r)
{
    if (!r)
        return;
    free(r->rows);
    free(r->pred);
    free(r->train);
    r->rows = NULL;
    r->pred = NULL;
    r->train = NULL;
}

void de_fit_print(const de_fit_result *r, FILE *out)
{
    const de_profile *pf = r->prof;
    fprintf(out, "fit %s %s%s%s: %d points from %s (fnv1a64 %016llx)\n", de_profile_kind_name(pf->kind), r->group,
            r->entry[0] ? " / " : "", r->entry, r->n, pf->path, (unsigned long long)pf->checksum);
    fprintf(out, "  form: %s\n", r->form);
    for (int j = 0; j < r->par.n; j++) {
        if (r->par.free[j])
            fprintf(out, "  %-18s = %-12.6g +- %-10.3g (%.1f%%)\n", r->par.names[j], r->par.value[j], r->se[j],
                    r->par.value[j] != 0 ? 100.0 * r->se[j] / fabs(r->par.value[j]) : INFINITY);
        else
            fprintf(out, "  %-18s = %-12.6g (%s)\n", r->par.names[j], r->par.value[j],
                    r->held[j] == 1 ? "held at its bound" : r->held[j] == 2 ? "held: not identifiable" : "fixed");
    }
    if (r->notes[0])
        fprintf(out, "  note: %s\n", r->notes);
    fprintf(out, "  R^2 = %.6f   MAPE = %.3f%%   CV MAPE (%d-fold) = %.3f%%   RMSE = %.4g s   dof = %d%s\n", r->r2,
            r->mape, r->folds, r->cv_mape, r->rmse, r->dof,
            r->dof < 3 ? "   (few degrees of freedom: the errors are rough)" : "");
    fprintf(out, "  %-6s %-44s %12s %12s %8s\n", "line", "inputs", "measured_s", "fitted_s", "resid%");
    for (int i = 0; i < r->n; i++) {
        const de_profile_row *row = &pf->rows[r->rows[i]];
        char in[64];
        if (pf->kind == DE_PROFILE_STEP)
            snprintf(in, sizeof in, "batch %g, lc_util %g", row->x[0], row->x[1]);
        else if (pf->kind == DE_PROFILE_LC)
            snprintf(in, sizeof in, "p%g at %g rps, duty %g, batch %g", 100 * row->x[1], row->x[0], row->x[3],
                     row->x[2]);
        else
            snprintf(in, sizeof in, "%g bytes over %g devices", row->x[0], row->x[1]);
        fprintf(out, "  %-6d %-44s %12.6g %12.6g %+8.2f\n", row->line, in, row->y, r->pred[i],
                100.0 * (r->pred[i] - row->y) / row->y);
    }
}

/* ---- plot data ---- */

/* The series key of a row (rows with equal keys share a curve) and its x. */
static void series_key(const de_profile *pf, const de_profile_row *row, double key[4], double *x)
{
    memset(key, 0, 4 * sizeof *key);
    switch (pf->kind) {
    case DE_PROFILE_STEP:
        key[0] = row->x[1];
        *x = row->x[0];
        break;
    case DE_PROFILE_LC:
        key[0] = row->x[1], key[1] = row->x[3], key[2] = row->x[2];
        *x = row->x[0];
        break;
    case DE_PROFILE_ALLREDUCE:
        key[0] = row->x[1];
        *x = row->x[0];
        break;
    }
}

static void series_label(const de_profile *pf, const double key[4], const char *tnet, char *buf, size_t n)
{
    if (pf->kind == DE_PROFILE_STEP)
        snprintf(buf, n, "lc_util %g", key[0]);
    else if (pf->kind == DE_PROFILE_LC)
        snprintf(buf, n, key[1] > 0 ? "p%g, %s b=%g duty %g" : "p%g alone", 100 * key[0], tnet, key[2], key[1]);
    else
        snprintf(buf, n, "%g devices", key[0]);
}

int de_fit_plot_data(const de_fit_result *r, const char *data_path, const char *curve_path, int *n_series,
                     const char **xlabel, const char **ylabel, de_err *err)
{
    const de_profile *pf = r->prof;
    static const char *const xl[] = {"local batch (samples)", "request rate (req/s)", "bytes all-reduced"};
    static const char *const yl[] = {"step time (s)", "latency percentile (s)", "all-reduce time (s)"};
    *xlabel = xl[pf->kind];
    *ylabel = yl[pf->kind];
    FILE *fd = fopen(data_path, "w"), *fc = fopen(curve_path, "w");
    if (!fd || !fc) {
        if (fd)
            fclose(fd);
        if (fc)
            fclose(fc);
        return de_err_set(err, DE_EIO, "%s: cannot write plot data", fd ? curve_path : data_path);
    }
    int *done = de_calloc((size_t)r->n, sizeof *done), ns = 0;
    for (int i = 0; i < r->n; i++) {
        if (done[i])
            continue;
        double key[4], x = 0, xmax = 0;
        const de_profile_row *first = &pf->rows[r->rows[i]];
        series_key(pf, first, key, &x);
        char label[128];
        series_label(pf, key, first->train_network ? first->train_network : "", label, sizeof label);
        fprintf(fd, "%s\"%s\" x y fitted resid_pct\n", ns ? "\n\n" : "", label);
        fprintf(fc, "%s\"%s\" x fitted\n", ns ? "\n\n" : "", label);
        const de_fit_train *ps = NULL;
        for (int q = i; q < r->n; q++) {
            double k2[4], xq = 0;
            const de_profile_row *row = &pf->rows[r->rows[q]];
            series_key(pf, row, k2, &xq);
            if (done[q] || memcmp(k2, key, sizeof key) != 0)
                continue;
            done[q] = 1;
            xmax = fmax(xmax, xq);
            if (r->train)
                ps = &r->train[q];
            fprintf(fd, "%.9g %.9g %.9g %.6g\n", xq, row->y, r->pred[q], 100.0 * (r->pred[q] - row->y) / row->y);
        }
        double in[4];
        memcpy(in, first->x, sizeof in);
        int g = 200;
        for (int s = 0; s <= g; s++) {
            double xv = 1.15 * xmax * s / g;
            if (pf->kind == DE_PROFILE_STEP) {
                xv = 1 + floor((1.15 * xmax - 1) * s / g);
                in[0] = xv;
            } else {
                in[0] = xv;
                if (pf->kind == DE_PROFILE_ALLREDUCE && xv <= 0)
                    continue;
            }
            double yv = predict_x(pf->kind, r->par.value, in, ps, &r->budget);
            if (!isfinite(yv))
                break;
            fprintf(fc, "%.9g %.9g\n", xv, yv);
        }
        ns++;
    }
    free(done);
    int bad = ferror(fd) || ferror(fc);
    bad |= fclose(fd) != 0;
    bad |= fclose(fc) != 0;
    if (bad)
        return de_err_set(err, DE_EIO, "%s: write error", data_path);
    *n_series = ns;
    return DE_OK;
}
