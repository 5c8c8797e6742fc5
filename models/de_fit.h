/* de_fit.h — fitting the performance models (de_model.h) to measured samples
 * (de_profile.h): weighted nonlinear least squares with GSL's trust-region solver
 * (gsl_multifit_nlinear_trust, Levenberg-Marquardt steps), parameter standard errors
 * from the covariance, R^2, MAPE and a k-fold cross-validated MAPE.
 *
 * Two layers:
 *  - de_fit_nls: a generic problem (n points, p free parameters, a prediction
 *    callback, optional weights). Refuses degenerate fits: n <= p (no degrees of
 *    freedom left to judge the fit), non-finite data or predictions, a singular
 *    Jacobian (parameters the data cannot tell apart: the result's weak[] names
 *    them), a solver that does not converge. p = 0 only evaluates the quality.
 *    A cross-validation fold whose solve fails is reported (cv_failed, cv_note) and
 *    left out of the CV MAPE, and so is a held-out point predicted unbounded
 *    (cv_unbounded); only when every fold fails is the fit refused.
 *  - de_fit_model: the model kinds. `step` fits overhead_s, per_sample_s (and
 *    train_slowdown from rows with lc_util > 0, colocation_slowdown from such rows at
 *    two or more LC loads) of one (device, network); `lc` fits
 *    service_s, scv of one (device, LC model) from latency percentiles without
 *    training, and lc_inflation, blocking_fraction from rows with training co-located
 *    (latency through de_model_lc_latency); `allreduce` fits the ring's alpha_s and
 *    beta_Bps of one link class.
 *    Robust by construction: a parameter whose estimate leaves the catalog's range is
 *    held at the bound it crossed and the others are fitted again; a parameter the data
 *    cannot identify (singular Jacobian) is held at its starting value, unless it is the
 *    only free one; a solve that fails is retried from scaled starts, and if it fails
 *    from every one the stage's last free parameter is held at its start (again not
 *    the only free one); each is said in the result's notes. An lc fit with service_s / scv
 *    and lc_inflation / blocking_fraction free runs in two stages: service_s and scv
 *    from the rows without training, then the interference parameters from all rows
 *    with those held (a joint fit trades them off along a flat valley).
 *
 * Conventions: weights are 1/sd^2 when the trace gives sd_s (every selected row then
 * must), else 1. Standard errors are sqrt(diag((J'WJ)^-1) * chi2/dof): the
 * residual scale is estimated from the fit (as gnuplot and most tools do), so
 * unweighted and relatively weighted data get meaningful errors. R^2 is weighted
 * (1 - sum w r^2 / sum w (y - ybar_w)^2); MAPE is unweighted, in percent. The k-fold
 * CV MAPE assigns points to k = min(folds, n) folds by a seeded shuffle (GSL
 * mt19937), refits on the other folds from the full fit's parameters and predicts
 * the held-out points; if a fold would leave fewer than p points it falls back to
 * leave-one-out. Same inputs and seed, same numbers. */
#ifndef DE_FIT_H
#define DE_FIT_H

#include <stdio.h>

#include "de_error.h"
#include "de_model.h"
#include "de_profile.h"

#define DE_FIT_MAXP 4

/* ---- generic weighted nonlinear least squares ---- */

typedef struct de_nls {
    int n;              /* points */
    int p;              /* free parameters, 1..DE_FIT_MAXP */
    const double *y;    /* [n] observations */
    const double *w;    /* [n] weights (> 0), NULL: all 1 */
    /* Prediction of point i at parameters theta[0..p-1]; non-finite = failure. */
    double (*predict)(const double *theta, int i, void *ctx);
    void *ctx;
    const double *scale;        /* [p] typical magnitudes (> 0) to condition the solver; NULL: 1 */
    const char *const *names;   /* [p] parameter names, for messages; NULL: "p0".. */
} de_nls;

typedef struct de_nls_result {
    double theta[DE_FIT_MAXP];
    double se[DE_FIT_MAXP];     /* standard errors */
    double r2, mape, cv_mape, rmse, chi2;
    int dof, folds, iterations;
    int cv_failed;              /* CV folds whose solve failed (left out of cv_mape) */
    int cv_points;              /* held-out points cv_mape averages over */
    int cv_unbounded;           /* held-out points predicted unbounded (left out of cv_mape) */
    char cv_note[200];          /* which folds failed and why; "" when none */
    int singular;               /* set on a singular-Jacobian refusal */
    int weak[DE_FIT_MAXP];      /* then: 1 for the parameters of the weakest direction */
} de_nls_result;

/* Fits pb from theta0. folds >= 2 asks for the k-fold CV MAPE (folds 0: none, cv_mape
 * NAN). Returns DE_OK, or DE_EINVAL with a message on a degenerate fit. */
int de_fit_nls(const de_nls *pb, const double *theta0, int folds, unsigned long seed, de_nls_result *res,
               de_err *err);

/* ---- the model kinds ---- */

/* All parameters of a kind, in a fixed order:
 *   step:      overhead_s, per_sample_s, train_slowdown, colocation_slowdown
 *   lc:        service_s, scv, lc_inflation, blocking_fraction
 *   allreduce: alpha_s, beta_Bps
 * value: the start of a free parameter, the value of a fixed one.
 * free: 1 free, 0 fixed, -1 decided by the data (see de_fit_model). */
typedef struct de_fit_params {
    de_profile_kind kind;
    int n;
    const char *names[DE_FIT_MAXP];
    double value[DE_FIT_MAXP];
    int free[DE_FIT_MAXP];
} de_fit_params;

/* The kind's parameters with neutral starting values, every one "decided by the data". */
void de_fit_params_init(de_profile_kind kind, de_fit_params *par);
/* Index of a parameter by name; -1 if the kind has none. */
int de_fit_params_index(const de_fit_params *par, const char *name);

typedef struct de_fit_opts {
    int folds;              /* k of the CV (default 5) */
    unsigned long seed;     /* fold assignment (default 1) */
    int start_defaults;     /* 1: free parameters start from de_fit_params_init's values (and
                             * the data), not from start's: the fit is then a function of the
                             * trace and the fixed values only (reproducible refits) */
    de_budget budget;       /* lc: the device type's CPU budget (an emulated type's quota) */
} de_fit_opts;

/* The step model of a training network co-located with LC requests (lc fits). */
typedef struct de_fit_train {
    double overhead_s, per_sample_s, train_slowdown, colocation_slowdown;
} de_fit_train;

typedef struct de_fit_result {
    const de_profile *prof; /* borrowed */
    const char *group;      /* device type / link class (borrowed from prof) */
    const char *entry;      /* network / LC model; "" for allreduce */
    de_fit_params par;      /* fitted (free) and fixed values; free[] is 0/1 (0 for held ones) */
    double se[DE_FIT_MAXP]; /* standard error of free parameters, NAN for fixed */
    int held[DE_FIT_MAXP];  /* meant to be free but held: 1 at a bound of its range, 2 at its
                             * start because the data cannot identify it */
    char notes[1024];       /* what was held and why, CV folds that failed ("; "-separated) */
    int n, dof, n_free, folds, iterations, cv_failed;
    double r2, mape, cv_mape, rmse;
    int *rows;              /* [n] indices of the rows used, into prof->rows */
    double *pred;           /* [n] fitted prediction of each */
    de_fit_train *train;    /* lc: [n] step model of each row's training network (zeros alone) */
    de_budget budget;       /* lc: the CPU budget the rows were measured under (cores 0: none) */
    char form[400];         /* the formula fitted, in words */
} de_fit_result;

/* Fits the rows of (group, entry) of prof (entry ignored for allreduce). start gives
 * starting / fixed values and which parameters are free (-1: free exactly when the
 * rows carry information on it: train_slowdown needs rows with lc_util > 0,
 * colocation_slowdown such rows at two or more LC loads;
 * service_s and scv need rows without training; lc_inflation rows with training,
 * blocking_fraction rows with training at two or more batch sizes; alpha_s and
 * beta_Bps are always free). For lc, per_sample(ctx, device, network) gives the
 * step model of a co-located training network (its per_sample_s makes the blocking
 * term, its step time the length of the training phases); NULL elsewhere. Fitted values
 * outside the catalog's ranges are held at the bound and the others refitted (notes, held);
 * unidentifiable ones are held at their start. A fit whose R^2 ends below -0.001 (the rows'
 * mean explains them better, e.g. when held parameters leave too little free; a fit that is
 * the mean but for a parameter held at a far bound, R^2 -6e-6, is not refused) is refused
 * (DE_ERANGE), as is one that makes a row's LC queue unstable. On success res is filled (free with
 * de_fit_result_free); on failure it holds nothing (freeing it again is harmless). */
typedef int (*de_fit_per_sample_fn)(void *ctx, const char *device, const char *network, de_fit_train *out);
int de_fit_model(const de_profile *prof, const char *group, const char *entry, const de_fit_params *start,
                 de_fit_per_sample_fn per_sample, void *ps_ctx, const de_fit_opts *opts, de_fit_result *res,
                 de_err *err);
void de_fit_result_free(de_fit_result *r);

/* Prediction of the fitted model for row i of res's profile. */
double de_fit_predict_row(const de_fit_result *r, int row, const de_fit_train *train);

/* Prints the fit: parameters with standard errors, R^2, MAPE, CV MAPE, residuals. */
void de_fit_print(const de_fit_result *r, FILE *out);

/* Writes the plot data of a fit: data_path gets one block per series (two blank
 * lines between blocks; a quoted label first) with columns x, y, prediction,
 * residual in %; curve_path the model curve of each series over a fine x grid.
 * *n_series, *xlabel, *ylabel describe them. */
int de_fit_plot_data(const de_fit_result *r, const char *data_path, const char *curve_path, int *n_series,
                     const char **xlabel, const char **ylabel, de_err *err);

#endif
