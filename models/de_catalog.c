/* de_catalog.c — loads and validates the device catalog (see de_catalog.h). */
#include "de_catalog.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "de_util.h"

/* ---- key tables (also printed by `deepedge scenario keys`) ---- */

static const de_key k_networks_file[] = {
    {"networks", DE_KEY_LIST, 1, 0, 0, NULL, "", "training networks", NULL},
    {"lc_models", DE_KEY_LIST, 1, 0, 0, NULL, "", "LC inference models", NULL},
};
static const de_key k_network[] = {
    {"name", DE_KEY_STRING, 1, 0, 0, NULL, "", "unique name", NULL},
    {"description", DE_KEY_STRING, 1, 0, 0, NULL, "", "what it is", NULL},
    {"parameters", DE_KEY_FLOAT, 1, 1, 1e12, NULL, "count", "all parameters", NULL},
    {"trainable_parameters", DE_KEY_FLOAT, 1, 1, 1e12, NULL, "count", "parameters updated (all-reduced)", NULL},
    {"forward_gflop", DE_KEY_FLOAT, 0, 0, 1e6, "0", "GFLOP",
     "one image's forward pass, 2 FLOP per multiply-add (0: not stated; the executor's network is checked against it)",
     NULL},
    {"architecture", DE_KEY_STRING, 0, 0, 0, NULL, "",
     "the executor's built-in network (train/de_net.h) that deepedge run trains (absent: the name)", NULL},
    {"freeze", DE_KEY_STRING, 0, 0, 0, "", "",
     "layers the executor does not update: `upto:LAYER` or comma-separated names (trainable_parameters counts the rest)",
     NULL},
    {"source", DE_KEY_STRING, 1, 0, 0, NULL, "", "where the counts come from", NULL},
};
static const de_key k_lc_model[] = {
    {"name", DE_KEY_STRING, 1, 0, 0, NULL, "", "unique name", NULL},
    {"description", DE_KEY_STRING, 1, 0, 0, NULL, "", "what it is", NULL},
    {"forward_gflop", DE_KEY_FLOAT, 0, 0, 1e6, "0", "GFLOP", "one request's forward pass at batch 1 (0: not stated)",
     NULL},
    {"architecture", DE_KEY_STRING, 0, 0, 0, NULL, "",
     "the executor's built-in network (train/de_net.h) that its LC service runs (absent: the name)", NULL},
};
static const de_key k_type[] = {
    {"name", DE_KEY_STRING, 1, 0, 0, NULL, "", "unique name (= file name without .cfg)", NULL},
    {"description", DE_KEY_STRING, 1, 0, 0, NULL, "", "hardware summary", NULL},
    {"kind", DE_KEY_STRING, 1, 0, 0, NULL, "", "jetson | gpu | cpu", NULL},
    {"memory_gb", DE_KEY_FLOAT, 1, 1e-3, 4096, NULL, "GB", "device memory", NULL},
    {"emulation_cpu_cores", DE_KEY_FLOAT, 0, 0, 4096, "0", "cores",
     "deepedge run on one host: CPU budget of an emulated device of this type (0: a physical device, no budget)", NULL},
    {"source", DE_KEY_STRING, 1, 0, 0, NULL, "", "source of the hardware facts", NULL},
    {"measured_cpu", DE_KEY_STRING, 0, 0, 0, NULL, "",
     "the CPU (model name) of the host its fitted entries were measured on (written by deepedge fit from the trace)", NULL},
    {"measured_cores", DE_KEY_INT, 0, 0, 1e6, "0", "cores", "that host's online cores (0: not known)", NULL},
    {"interference", DE_KEY_GROUP, 1, 0, 0, NULL, "", "training/LC interference coefficients", NULL},
    {"train", DE_KEY_LIST, 1, 0, 0, NULL, "", "training step-time parameters per network", NULL},
    {"infer", DE_KEY_LIST, 1, 0, 0, NULL, "", "LC service-time parameters per model", NULL},
};
static const de_key k_interference[] = {
    {"lc_inflation", DE_KEY_FLOAT, 1, 0, 10, NULL, "", "LC service time x (1 + lc_inflation * duty)", NULL},
    {"blocking_fraction", DE_KEY_FLOAT, 1, 0, 1, NULL, "", "LC wait on a training kernel, as a fraction of per_sample_s * b", NULL},
    {"train_slowdown", DE_KEY_FLOAT, 1, 0, 10, NULL, "", "step time x (1 + colocation_slowdown + train_slowdown * u/(1-u))", NULL},
    {"colocation_slowdown", DE_KEY_FLOAT, 0, 0, 10, "0", "",
     "step time x (1 + colocation_slowdown + ...) while an LC task is served (u > 0), at any load", NULL},
    {"source", DE_KEY_STRING, 1, 0, 0, NULL, "", "where the coefficients come from", NULL},
    {"fit", DE_KEY_GROUP, 0, 0, 0, NULL, "", "optional: the lc fit lc_inflation / blocking_fraction come from", NULL},
    {"slowdown_fit", DE_KEY_GROUP, 0, 0, 0, NULL, "", "optional: the step fit train_slowdown and colocation_slowdown come from", NULL},
};
/* The record of a fit (deepedge fit), inside the entry it produced. */
static const de_key k_fit[] = {
    {"trace", DE_KEY_STRING, 1, 0, 0, NULL, "path", "the trace fitted (as given to deepedge fit)", NULL},
    {"checksum", DE_KEY_STRING, 1, 0, 0, NULL, "", "fnv1a64:<16 hex digits> of the trace file's bytes", NULL},
    {"kind", DE_KEY_STRING, 1, 0, 0, NULL, "", "model kind: step | lc", NULL},
    {"form", DE_KEY_STRING, 1, 0, 0, NULL, "", "the formula fitted", NULL},
    {"params", DE_KEY_STRING, 1, 0, 0, NULL, "", "the parameters fitted (space-separated); the others were fixed", NULL},
    {"points", DE_KEY_INT, 1, 2, 1e9, NULL, "", "rows of the trace used", NULL},
    {"dof", DE_KEY_INT, 1, 1, 1e9, NULL, "", "degrees of freedom (points - parameters)", NULL},
    {"r2", DE_KEY_FLOAT, 1, -1e12, 1, NULL, "", "coefficient of determination (weighted)", NULL},
    {"mape", DE_KEY_FLOAT, 1, 0, 1e9, NULL, "%", "mean absolute percentage error of the fit", NULL},
    {"cv_mape", DE_KEY_FLOAT, 1, 0, 1e9, NULL, "%", "k-fold cross-validated MAPE", NULL},
    {"folds", DE_KEY_INT, 1, 2, 1e9, NULL, "", "k of the cross-validation", NULL},
    {"stderr", DE_KEY_GROUP, 1, 0, 0, NULL, "", "standard error of each fitted parameter (same names)", NULL},
    {"date", DE_KEY_STRING, 1, 0, 0, NULL, "YYYY-MM-DD", "when the fit was made (SOURCE_DATE_EPOCH if set)", NULL},
    {"prior_source", DE_KEY_STRING, 1, 0, 0, NULL, "", "the entry's source before it was first fitted", NULL},
};
static const de_key k_stderr[] = {
    {"overhead_s", DE_KEY_FLOAT, 0, 0, 1e12, NULL, "s", "", NULL},
    {"per_sample_s", DE_KEY_FLOAT, 0, 0, 1e12, NULL, "s", "", NULL},
    {"train_slowdown", DE_KEY_FLOAT, 0, 0, 1e12, NULL, "", "", NULL},
    {"colocation_slowdown", DE_KEY_FLOAT, 0, 0, 1e12, NULL, "", "", NULL},
    {"service_s", DE_KEY_FLOAT, 0, 0, 1e12, NULL, "s", "", NULL},
    {"scv", DE_KEY_FLOAT, 0, 0, 1e12, NULL, "", "", NULL},
    {"lc_inflation", DE_KEY_FLOAT, 0, 0, 1e12, NULL, "", "", NULL},
    {"blocking_fraction", DE_KEY_FLOAT, 0, 0, 1e12, NULL, "", "", NULL},
};
static const de_key k_train[] = {
    {"network", DE_KEY_STRING, 1, 0, 0, NULL, "", "network name (networks.cfg)", NULL},
    {"overhead_s", DE_KEY_FLOAT, 1, 0, 100, NULL, "s", "fixed cost per training step", NULL},
    {"per_sample_s", DE_KEY_FLOAT, 1, 1e-9, 100, NULL, "s", "cost per sample of the local batch", NULL},
    {"max_batch", DE_KEY_INT, 1, 1, 65536, NULL, "samples", "largest local batch that fits in memory", NULL},
    {"source", DE_KEY_STRING, 1, 0, 0, NULL, "", "paper/benchmark, or estimate: derivation", NULL},
    {"fit", DE_KEY_GROUP, 0, 0, 0, NULL, "", "optional: the step fit overhead_s / per_sample_s come from", NULL},
};
static const de_key k_infer[] = {
    {"model", DE_KEY_STRING, 1, 0, 0, NULL, "", "LC model name (networks.cfg)", NULL},
    {"service_s", DE_KEY_FLOAT, 1, 1e-7, 10, NULL, "s", "mean batch-1 service time, alone", NULL},
    {"scv", DE_KEY_FLOAT, 1, 0, 10, NULL, "", "squared coefficient of variation of the service time", NULL},
    {"source", DE_KEY_STRING, 1, 0, 0, NULL, "", "paper/benchmark, or estimate: derivation", NULL},
    {"fit", DE_KEY_GROUP, 0, 0, 0, NULL, "", "optional: the lc fit service_s / scv come from", NULL},
};


void de_catalog_print_keys(FILE *out)
{
    de_conf_print_table(out, "networks.cfg (top level)", k_networks_file, DE_NKEYS(k_networks_file));
    de_conf_print_table(out, "networks.cfg networks.[i]", k_network, DE_NKEYS(k_network));
    de_conf_print_table(out, "networks.cfg lc_models.[i]", k_lc_model, DE_NKEYS(k_lc_model));
    de_conf_print_table(out, "devices/TYPE.cfg (top level)", k_type, DE_NKEYS(k_type));
    de_conf_print_table(out, "devices/TYPE.cfg interference", k_interference, DE_NKEYS(k_interference));
    de_conf_print_table(out, "devices/TYPE.cfg train.[i]", k_train, DE_NKEYS(k_train));
    de_conf_print_table(out, "devices/TYPE.cfg infer.[i]", k_infer, DE_NKEYS(k_infer));
    de_conf_print_table(out, "devices/TYPE.cfg ...fit (optional, written by deepedge fit)", k_fit, DE_NKEYS(k_fit));
    de_conf_print_table(out, "devices/TYPE.cfg ...fit.stderr", k_stderr, DE_NKEYS(k_stderr));
    de_link_class_print_keys(out);
}

int de_catalog_param_range(const char *name, double *min, double *max)
{
    static const struct {
        const de_key *t;
        size_t n;
    } tables[] = {{k_train, DE_NKEYS(k_train)}, {k_infer, DE_NKEYS(k_infer)}, {k_interference, DE_NKEYS(k_interference)}};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        const de_key *k = de_conf_key(tables[i].t, tables[i].n, name);
        if (k && k->type == DE_KEY_FLOAT) {
            *min = k->min;
            *max = k->max;
            return DE_OK;
        }
    }
    return DE_EINVAL;
}

/* Number of space-separated words in s. */
static long long count_words(const char *s)
{
    long long n = 0;
    for (const char *p = s; *p; p++)
        n += *p != ' ' && (p == s || p[-1] == ' ');
    return n;
}

/* Validates an optional fit record g (NULL: none); *quality gets its figures. */
static int load_fit(const config_setting_t *g, de_fit_quality *q, de_err *err)
{
    q->points = 0;
    q->r2 = q->cv_mape = NAN;
    if (!g)
        return DE_OK;
    const char *trace, *sum, *kind, *form, *params, *date, *prior;
    long long pts, dof, folds;
    double mape;
    config_setting_t *se;
    int rc = de_conf_check_keys(g, k_fit, DE_NKEYS(k_fit), err);
    if (rc)
        return rc;
    DE_CONF_GET(string, g, k_fit, "trace", &trace);
    DE_CONF_GET(string, g, k_fit, "checksum", &sum);
    DE_CONF_GET(string, g, k_fit, "kind", &kind);
    DE_CONF_GET(string, g, k_fit, "form", &form);
    DE_CONF_GET(string, g, k_fit, "params", &params);
    DE_CONF_GET(int, g, k_fit, "points", &pts);
    DE_CONF_GET(int, g, k_fit, "dof", &dof);
    DE_CONF_GET(float, g, k_fit, "r2", &q->r2);
    DE_CONF_GET(float, g, k_fit, "mape", &mape);
    DE_CONF_GET(float, g, k_fit, "cv_mape", &q->cv_mape);
    DE_CONF_GET(int, g, k_fit, "folds", &folds);
    DE_CONF_GET(setting, g, k_fit, "stderr", &se);
    DE_CONF_GET(string, g, k_fit, "date", &date);
    DE_CONF_GET(string, g, k_fit, "prior_source", &prior);
    char where[512], path[512];
    de_conf_where(g, where, sizeof where);
    de_conf_path(g, path, sizeof path);
    size_t hex = strspn(sum + (strncmp(sum, "fnv1a64:", 8) ? 0 : 8), "0123456789abcdef");
    if (strncmp(sum, "fnv1a64:", 8) != 0 || hex != 16 || sum[24] != '\0')
        return de_err_set(err, DE_ERANGE, "%s: %s.checksum: '%s' is not fnv1a64:<16 lower-case hex digits>", where,
                          path, sum);
    if (strcmp(kind, "step") && strcmp(kind, "lc"))
        return de_err_set(err, DE_ERANGE, "%s: %s.kind: '%s' is not step or lc", where, path, kind);
    int y, mo, d;
    char tail;
    if (sscanf(date, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) != 3 || strlen(date) != 10 || mo < 1 || mo > 12 || d < 1 ||
        d > 31)
        return de_err_set(err, DE_ERANGE, "%s: %s.date: '%s' is not YYYY-MM-DD", where, path, date);
    if (dof != pts - count_words(params))
        return de_err_set(err, DE_ERANGE, "%s: %s.dof: %lld is not points (%lld) minus the fitted parameters '%s'",
                          where, path, dof, pts, params);
    if ((rc = de_conf_check_keys(se, k_stderr, DE_NKEYS(k_stderr), err)))
        return rc;
    for (size_t i = 0; i < DE_NKEYS(k_stderr); i++) {
        double v;
        if ((rc = de_conf_get_float(se, &k_stderr[i], &v, err)))
            return rc;
    }
    (void)mape;
    (void)folds;
    q->points = (int)pts;
    return DE_OK;
}

/* Error for a name that refers to nothing, listing what is known. */
static int unknown_name(const config_setting_t *s, const char *what, const char *name, de_err *err)
{
    char where[512], path[512];
    de_conf_where(s, where, sizeof where);
    de_conf_path(s, path, sizeof path);
    return de_err_set(err, DE_EREF, "%s: %s: unknown %s '%s'", where, path, what, name);
}

static int dup_name(const config_setting_t *s, const char *what, const char *name, de_err *err)
{
    char where[512], path[512];
    de_conf_where(s, where, sizeof where);
    de_conf_path(s, path, sizeof path);
    return de_err_set(err, DE_EDUP, "%s: %s: %s '%s' is defined twice", where, path, what, name);
}

static int load_networks(de_catalog *cat, const char *path, de_err *err)
{
    config_t cfg;
    int rc = de_conf_read(&cfg, path, err);
    if (rc)
        goto out;
    config_setting_t *root = config_root_setting(&cfg), *nets, *lcs;
    if ((rc = de_conf_check_keys(root, k_networks_file, DE_NKEYS(k_networks_file), err)) ||
        (rc = de_conf_get_setting(root, DE_CONF_KEY(k_networks_file, "networks"), &nets, err)) ||
        (rc = de_conf_get_setting(root, DE_CONF_KEY(k_networks_file, "lc_models"), &lcs, err)))
        goto out;
    int nn = config_setting_length(nets), nl = config_setting_length(lcs);
    cat->networks = de_calloc((size_t)nn + 1, sizeof *cat->networks);
    cat->lc_models = de_calloc((size_t)nl + 1, sizeof *cat->lc_models);
    for (int i = 0; i < nn; i++) {
        config_setting_t *g = config_setting_get_elem(nets, (unsigned)i);
        de_network *n = &cat->networks[i];
        const char *name, *desc, *src, *arch = NULL, *freeze = "";
        double gflop;
        if ((rc = de_conf_check_keys(g, k_network, DE_NKEYS(k_network), err)) ||
            (rc = de_conf_get_string(g, DE_CONF_KEY(k_network, "name"), &name, err)) ||
            (rc = de_conf_get_string(g, DE_CONF_KEY(k_network, "description"), &desc, err)) ||
            (rc = de_conf_get_float(g, DE_CONF_KEY(k_network, "parameters"), &n->parameters, err)) ||
            (rc = de_conf_get_float(g, DE_CONF_KEY(k_network, "trainable_parameters"), &n->trainable_parameters, err)) ||
            (rc = de_conf_get_float(g, DE_CONF_KEY(k_network, "forward_gflop"), &gflop, err)) ||
            (rc = de_conf_get_string(g, DE_CONF_KEY(k_network, "architecture"), &arch, err)) ||
            (rc = de_conf_get_string(g, DE_CONF_KEY(k_network, "freeze"), &freeze, err)) ||
            (rc = de_conf_get_string(g, DE_CONF_KEY(k_network, "source"), &src, err)))
            goto out;
        if (de_catalog_network(cat, name) >= 0) {
            rc = dup_name(g, "network", name, err);
            goto out;
        }
        if (n->trainable_parameters > n->parameters) {
            char where[512];
            de_conf_where(g, where, sizeof where);
            rc = de_err_set(err, DE_ERANGE, "%s: networks.[%d].trainable_parameters: %g exceeds parameters %g",
                            where, i, n->trainable_parameters, n->parameters);
            goto out;
        }
        n->name = de_strdup(name);
        n->description = de_strdup(desc);
        n->architecture = de_strdup(arch ? arch : name);
        n->freeze = de_strdup(freeze ? freeze : "");
        n->forward_flops = 1e9 * gflop;
        n->source = de_strdup(src);
        n->gradient_bytes = 4.0 * n->trainable_parameters;
        n->checkpoint_bytes = 4.0 * (n->parameters + n->trainable_parameters);
        cat->n_networks = i + 1;
    }
    for (int i = 0; i < nl; i++) {
        config_setting_t *g = config_setting_get_elem(lcs, (unsigned)i);
        const char *name, *desc, *arch = NULL;
        double gflop;
        if ((rc = de_conf_check_keys(g, k_lc_model, DE_NKEYS(k_lc_model), err)) ||
            (rc = de_conf_get_string(g, DE_CONF_KEY(k_lc_model, "name"), &name, err)) ||
            (rc = de_conf_get_string(g, DE_CONF_KEY(k_lc_model, "description"), &desc, err)) ||
            (rc = de_conf_get_float(g, DE_CONF_KEY(k_lc_model, "forward_gflop"), &gflop, err)) ||
            (rc = de_conf_get_string(g, DE_CONF_KEY(k_lc_model, "architecture"), &arch, err)))
            goto out;
        if (de_catalog_lc_model(cat, name) >= 0) {
            rc = dup_name(g, "LC model", name, err);
            goto out;
        }
        cat->lc_models[i].name = de_strdup(name);
        cat->lc_models[i].description = de_strdup(desc);
        cat->lc_models[i].architecture = de_strdup(arch ? arch : name);
        cat->lc_models[i].forward_flops = 1e9 * gflop;
        cat->n_lc_models = i + 1;
    }
out:
    config_destroy(&cfg);
    return rc;
}

static int load_interference(config_setting_t *g, de_interference *in, de_err *err)
{
    const char *src;
    int rc = de_conf_check_keys(g, k_interference, DE_NKEYS(k_interference), err);
    if (rc)
        return rc;
    DE_CONF_GET(float, g, k_interference, "lc_inflation", &in->lc_inflation);
    DE_CONF_GET(float, g, k_interference, "blocking_fraction", &in->blocking_fraction);
    DE_CONF_GET(float, g, k_interference, "train_slowdown", &in->train_slowdown);
    DE_CONF_GET(float, g, k_interference, "colocation_slowdown", &in->colocation_slowdown);
    DE_CONF_GET(string, g, k_interference, "source", &src);
    if ((rc = load_fit(config_setting_get_member(g, "fit"), &in->fit, err)) ||
        (rc = load_fit(config_setting_get_member(g, "slowdown_fit"), &in->slowdown_fit, err)))
        return rc;
    in->source = de_strdup(src);
    return DE_OK;
}

static int load_train(const de_catalog *cat, config_setting_t *list, de_device_type *t, de_err *err)
{
    int n = config_setting_length(list);
    t->train = de_calloc((size_t)n + 1, sizeof *t->train);
    for (int i = 0; i < n; i++) {
        config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        de_train_params *p = &t->train[i];
        const char *net, *src;
        long long mb;
        int rc = de_conf_check_keys(g, k_train, DE_NKEYS(k_train), err);
        if (rc)
            return rc;
        DE_CONF_GET(string, g, k_train, "network", &net);
        DE_CONF_GET(float, g, k_train, "overhead_s", &p->overhead_s);
        DE_CONF_GET(float, g, k_train, "per_sample_s", &p->per_sample_s);
        DE_CONF_GET(int, g, k_train, "max_batch", &mb);
        DE_CONF_GET(string, g, k_train, "source", &src);
        p->network = de_catalog_network(cat, net);
        if (p->network < 0)
            return unknown_name(config_setting_get_member(g, "network"), "network", net, err);
        for (int j = 0; j < i; j++)
            if (t->train[j].network == p->network)
                return dup_name(g, "train entry for network", net, err);
        p->max_batch = (int)mb;
        if ((rc = load_fit(config_setting_get_member(g, "fit"), &p->fit, err)))
            return rc;
        p->source = de_strdup(src);
        t->n_train = i + 1;
    }
    return DE_OK;
}

static int load_infer(const de_catalog *cat, config_setting_t *list, de_device_type *t, de_err *err)
{
    int n = config_setting_length(list);
    t->infer = de_calloc((size_t)n + 1, sizeof *t->infer);
    for (int i = 0; i < n; i++) {
        config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        de_infer_params *p = &t->infer[i];
        const char *model, *src;
        int rc = de_conf_check_keys(g, k_infer, DE_NKEYS(k_infer), err);
        if (rc)
            return rc;
        DE_CONF_GET(string, g, k_infer, "model", &model);
        DE_CONF_GET(float, g, k_infer, "service_s", &p->service_s);
        DE_CONF_GET(float, g, k_infer, "scv", &p->scv);
        DE_CONF_GET(string, g, k_infer, "source", &src);
        p->model = de_catalog_lc_model(cat, model);
        if (p->model < 0)
            return unknown_name(config_setting_get_member(g, "model"), "LC model", model, err);
        for (int j = 0; j < i; j++)
            if (t->infer[j].model == p->model)
                return dup_name(g, "infer entry for model", model, err);
        if ((rc = load_fit(config_setting_get_member(g, "fit"), &p->fit, err)))
            return rc;
        p->source = de_strdup(src);
        t->n_infer = i + 1;
    }
    return DE_OK;
}

static int load_type_cfg(const de_catalog *cat, config_setting_t *root, de_device_type *t, de_err *err)
{
    const char *name, *desc, *kind, *src;
    config_setting_t *inter, *train, *infer;
    int rc = de_conf_check_keys(root, k_type, DE_NKEYS(k_type), err);
    if (rc)
        return rc;
    DE_CONF_GET(string, root, k_type, "name", &name);
    DE_CONF_GET(string, root, k_type, "description", &desc);
    DE_CONF_GET(string, root, k_type, "kind", &kind);
    DE_CONF_GET(float, root, k_type, "memory_gb", &t->memory_gb);
    DE_CONF_GET(float, root, k_type, "emulation_cpu_cores", &t->emulation_cpu_cores);
    DE_CONF_GET(string, root, k_type, "source", &src);
    const char *mcpu;
    long long mcores;
    DE_CONF_GET(string, root, k_type, "measured_cpu", &mcpu);
    DE_CONF_GET(int, root, k_type, "measured_cores", &mcores);
    DE_CONF_GET(setting, root, k_type, "interference", &inter);
    DE_CONF_GET(setting, root, k_type, "train", &train);
    DE_CONF_GET(setting, root, k_type, "infer", &infer);
    if (strcmp(kind, "jetson") && strcmp(kind, "gpu") && strcmp(kind, "cpu")) {
        char where[512];
        de_conf_where(config_setting_get_member(root, "kind"), where, sizeof where);
        return de_err_set(err, DE_ERANGE, "%s: kind: '%s' is not one of jetson, gpu, cpu", where, kind);
    }
    t->name = de_strdup(name);
    t->description = de_strdup(desc);
    t->kind = de_strdup(kind);
    t->source = de_strdup(src);
    t->measured_cpu = mcpu ? de_strdup(mcpu) : NULL;
    t->measured_cores = (int)mcores;
    if ((rc = load_interference(inter, &t->interference, err)) || (rc = load_train(cat, train, t, err)) ||
        (rc = load_infer(cat, infer, t, err)))
        return rc;
    return DE_OK;
}

/* Loads devices/<file> (file = "<name>.cfg"). */
static int load_type(const de_catalog *cat, const char *path, const char *file, de_device_type *t, de_err *err)
{
    config_t cfg;
    int rc = de_conf_read(&cfg, path, err);
    if (!rc)
        rc = load_type_cfg(cat, config_root_setting(&cfg), t, err);
    size_t len = strlen(file) - 4;
    if (!rc && (strlen(t->name) != len || strncmp(t->name, file, len) != 0)) {
        char where[512];
        de_conf_where(config_setting_get_member(config_root_setting(&cfg), "name"), where, sizeof where);
        rc = de_err_set(err, DE_EINVAL, "%s: name: '%s' must match the file name '%.*s'", where, t->name, (int)len,
                        file);
    }
    t->file = de_strdup(path);
    config_destroy(&cfg);
    return rc;
}

static void free_type(de_device_type *t)
{
    free(t->name);
    free(t->description);
    free(t->kind);
    free(t->source);
    free(t->measured_cpu);
    free(t->file);
    free(t->interference.source);
    for (int j = 0; j < t->n_train; j++)
        free(t->train[j].source);
    for (int j = 0; j < t->n_infer; j++)
        free(t->infer[j].source);
    free(t->train);
    free(t->infer);
}

int de_catalog_load_type(const de_catalog *cat, const char *path, de_device_type **out, de_err *err)
{
    *out = NULL;
    const char *slash = strrchr(path, '/'), *file = slash ? slash + 1 : path;
    size_t len = strlen(file);
    if (len < 5 || strcmp(file + len - 4, ".cfg") != 0)
        return de_err_set(err, DE_EINVAL, "%s: a device-type file is named <type>.cfg", path);
    de_device_type *t = de_calloc(1, sizeof *t);
    int rc = load_type(cat, path, file, t, err);
    if (rc) {
        de_catalog_type_destroy(t);
        return rc;
    }
    *out = t;
    return DE_OK;
}

void de_catalog_type_destroy(de_device_type *t)
{
    if (!t)
        return;
    free_type(t);
    free(t);
}


int de_catalog_load(const char *dir, de_catalog **out, de_err *err)
{
    *out = NULL;
    de_catalog *cat = de_calloc(1, sizeof *cat);
    cat->dir = de_strdup(dir);
    char *path = de_path_join(dir, "networks.cfg");
    int rc = load_networks(cat, path, err);
    if (rc) {
        free(path);
        goto fail;
    }

    char *ddir = de_path_join(dir, "devices");
    char **names;
    int n = de_dir_names(ddir, ".cfg", &names);
    if (n < 0) {
        rc = de_err_set(err, DE_EIO, "%s: cannot open the device-type directory of the catalog", ddir);
        free(ddir);
        free(path);
        goto fail;
    }
    cat->types = de_calloc((size_t)n + 1, sizeof *cat->types);
    cat->files = de_calloc((size_t)n + 1, sizeof *cat->files);
    cat->files[cat->n_files++] = path;
    for (int i = 0; i < n && !rc; i++) {
        char *p = de_path_join(ddir, names[i]);
        de_device_type *t = &cat->types[i];
        rc = load_type(cat, p, names[i], t, err);
        cat->n_types = i + 1;
        cat->files[cat->n_files++] = p;
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (!rc && n == 0)
        rc = de_err_set(err, DE_EIO, "%s: no device types (*.cfg) in the catalog", ddir);
    free(ddir);
    if (!rc) { /* links/: the measured link classes, each file listed with the others */
        char *ldir = de_path_join(dir, "links"), **paths;
        rc = de_link_classes_load(ldir, &cat->link_classes, &cat->n_link_classes, &paths, err);
        cat->files = de_realloc(cat->files, ((size_t)cat->n_files + (size_t)cat->n_link_classes + 1) *
                                                sizeof *cat->files);
        for (int i = 0; i < cat->n_link_classes; i++)
            cat->files[cat->n_files++] = paths[i];
        free(paths);
        free(ldir);
    }
    if (rc)
        goto fail;
    *out = cat;
    return DE_OK;
fail:
    de_catalog_destroy(cat);
    return rc;
}

void de_catalog_destroy(de_catalog *cat)
{
    if (!cat)
        return;
    for (int i = 0; i < cat->n_networks; i++) {
        free(cat->networks[i].name);
        free(cat->networks[i].description);
        free(cat->networks[i].architecture);
        free(cat->networks[i].freeze);
        free(cat->networks[i].source);
    }
    for (int i = 0; i < cat->n_lc_models; i++) {
        free(cat->lc_models[i].name);
        free(cat->lc_models[i].description);
        free(cat->lc_models[i].architecture);
    }
    for (int i = 0; i < cat->n_types; i++)
        free_type(&cat->types[i]);
    for (int i = 0; i < cat->n_link_classes; i++)
        de_link_class_free(&cat->link_classes[i]);
    free(cat->link_classes);
    for (int i = 0; i < cat->n_files; i++)
        free(cat->files[i]);
    free(cat->files);
    free(cat->networks);
    free(cat->lc_models);
    free(cat->types);
    free(cat->dir);
    free(cat);
}

int de_catalog_network(const de_catalog *cat, const char *name)
{
    for (int i = 0; i < cat->n_networks; i++)
        if (strcmp(cat->networks[i].name, name) == 0)
            return i;
    return -1;
}

int de_catalog_lc_model(const de_catalog *cat, const char *name)
{
    for (int i = 0; i < cat->n_lc_models; i++)
        if (strcmp(cat->lc_models[i].name, name) == 0)
            return i;
    return -1;
}

int de_catalog_link_class(const de_catalog *cat, const char *name)
{
    for (int i = 0; i < cat->n_link_classes; i++)
        if (cat->link_classes[i].name && strcmp(cat->link_classes[i].name, name) == 0)
            return i;
    return -1;
}

int de_catalog_type(const de_catalog *cat, const char *name)
{
    for (int i = 0; i < cat->n_types; i++)
        if (cat->types[i].name && strcmp(cat->types[i].name, name) == 0)
            return i;
    return -1;
}

const de_train_params *de_catalog_train(const de_catalog *cat, int type, int network)
{
    const de_device_type *t = &cat->types[type];
    for (int i = 0; i < t->n_train; i++)
        if (t->train[i].network == network)
            return &t->train[i];
    return NULL;
}

const de_infer_params *de_catalog_infer(const de_catalog *cat, int type, int model)
{
    const de_device_type *t = &cat->types[type];
    for (int i = 0; i < t->n_infer; i++)
        if (t->infer[i].model == model)
            return &t->infer[i];
    return NULL;
}

void de_catalog_print(const de_catalog *cat, FILE *out)
{
    fprintf(out, "catalog %s: %d device types, %d networks, %d LC models\n\n", cat->dir, cat->n_types,
            cat->n_networks, cat->n_lc_models);
    fprintf(out, "%-18s %-12s %10s %12s %9s  %s\n", "type", "network", "overhead_s", "per_sample_s", "max_batch",
            "source");
    for (int i = 0; i < cat->n_types; i++)
        for (int j = 0; j < cat->types[i].n_train; j++) {
            const de_train_params *p = &cat->types[i].train[j];
            fprintf(out, "%-18s %-12s %10.4f %12.5f %9d  %s\n", cat->types[i].name, cat->networks[p->network].name,
                    p->overhead_s, p->per_sample_s, p->max_batch, p->source);
        }
    fprintf(out, "\n%-18s %-12s %10s %6s  %s\n", "type", "LC model", "service_s", "scv", "source");
    for (int i = 0; i < cat->n_types; i++)
        for (int j = 0; j < cat->types[i].n_infer; j++) {
            const de_infer_params *p = &cat->types[i].infer[j];
            fprintf(out, "%-18s %-12s %10.4f %6.3f  %s\n", cat->types[i].name, cat->lc_models[p->model].name,
                    p->service_s, p->scv, p->source);
        }
    fprintf(out, "\n%-18s %12s %17s %14s %19s  %s\n", "type", "lc_inflation", "blocking_fraction", "train_slowdown",
            "colocation_slowdown", "source");
    for (int i = 0; i < cat->n_types; i++) {
        const de_interference *in = &cat->types[i].interference;
        fprintf(out, "%-18s %12.3f %17.4f %14.3f %19.3f  %s\n", cat->types[i].name, in->lc_inflation,
                in->blocking_fraction, in->train_slowdown, in->colocation_slowdown, in->source);
    }
    if (cat->n_link_classes)
        fprintf(out, "\n%-18s %14s %11s  %s\n", "link class", "bandwidth_mbps", "latency_ms",
                "per rank count: alpha_s, beta_Bps (a scenario link uses it with class = \"NAME\")");
    for (int i = 0; i < cat->n_link_classes; i++) {
        const de_link_class *c = &cat->link_classes[i];
        fprintf(out, "%-18s %14.6g %11.6g ", c->name, c->bandwidth_Bps * 8.0 / 1e6, c->latency_s * 1e3);
        for (int k = 0; k < c->n_per_ranks; k++)
            fprintf(out, " %d: %.3g s, %.3g B/s;", c->per_ranks[k].ranks, c->per_ranks[k].alpha_s,
                    c->per_ranks[k].beta_Bps);
        fputc('\n', out);
    }
}

/* ---- merging a fit into a device-type file ---- */

/* The member `name` of group g, created with type t when absent; an existing member
 * of another type is replaced (and moves to the end). */
static config_setting_t *member_of_type(config_setting_t *g, const char *name, int t)
{
    config_setting_t *m = config_setting_get_member(g, name);
    if (m && config_setting_type(m) != t) {
        config_setting_remove(g, name);
        m = NULL;
    }
    return m ? m : config_setting_add(g, name, t);
}

static void set_float(config_setting_t *g, const char *name, double v)
{
    config_setting_set_float(member_of_type(g, name, CONFIG_TYPE_FLOAT), v);
}

static void set_string(config_setting_t *g, const char *name, const char *v)
{
    config_setting_set_string(member_of_type(g, name, CONFIG_TYPE_STRING), v);
}

/* Element of list whose string member key equals value; NULL if none. */
static config_setting_t *find_entry(config_setting_t *list, const char *key, const char *value)
{
    for (int i = 0; i < config_setting_length(list); i++) {
        config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
        const char *v;
        if (config_setting_is_group(e) && config_setting_lookup_string(e, key, &v) && strcmp(v, value) == 0)
            return e;
    }
    return NULL;
}

/* Writes the record `rec` (fit / slowdown_fit) of the parameters in [lo, hi) into
 * entry g and rewrites its source. Returns 1 when one of them was fitted. */
static int record_fit(config_setting_t *g, const char *rec, const de_catalog_fit *f, int lo, int hi)
{
    /* The record describes the whole fit (all its parameters, so that dof = points -
     * parameters); the entry gets the values of [lo, hi). */
    int any = 0;
    for (int j = lo; j < hi; j++)
        any |= f->free[j] != 0;
    if (!any)
        return 0;
    char params[128] = "";
    size_t len = 0;
    for (int j = 0; j < f->n; j++)
        if (f->free[j] == 1) {
            int w = snprintf(params + len, sizeof params - len, "%s%s", len ? " " : "", f->names[j]);
            if (w > 0 && (size_t)w < sizeof params - len)
                len += (size_t)w;
        }
    for (int j = lo; j < hi; j++)
        if (f->free[j])
            set_float(g, f->names[j], f->value[j]);
    /* The source before the first fit survives every refit. */
    const char *prior = NULL, *src = NULL;
    config_setting_t *old = config_setting_get_member(g, rec);
    if (!(old && config_setting_lookup_string(old, "prior_source", &prior)))
        prior = config_setting_lookup_string(g, "source", &src) ? src : "none";
    char *prior_copy = de_strdup(prior);
    if (old)
        config_setting_remove(g, rec);
    char *source = de_sprintf("deepedge fit (%s model) of %s to %d points of %s (R^2 %.4f, MAPE %.2f%%, %d-fold CV "
                              "MAPE %.2f%%, %d degrees of freedom); data: %s. Before the fit: %s",
                              f->kind, params, f->points, f->trace, f->r2, f->mape, f->folds, f->cv_mape, f->dof,
                              f->data, prior_copy);
    set_string(g, "source", source);
    free(source);
    config_setting_t *r = config_setting_add(g, rec, CONFIG_TYPE_GROUP);
    char sum[32];
    snprintf(sum, sizeof sum, "fnv1a64:%016llx", f->checksum);
    set_string(r, "trace", f->trace);
    set_string(r, "checksum", sum);
    set_string(r, "kind", f->kind);
    set_string(r, "form", f->form);
    set_string(r, "params", params);
    config_setting_set_int(config_setting_add(r, "points", CONFIG_TYPE_INT), f->points);
    config_setting_set_int(config_setting_add(r, "dof", CONFIG_TYPE_INT), f->dof);
    /* Quality figures as reported (6 significant digits). */
    char buf[32];
    snprintf(buf, sizeof buf, "%.6g", f->r2);
    set_float(r, "r2", strtod(buf, NULL));
    snprintf(buf, sizeof buf, "%.6g", f->mape);
    set_float(r, "mape", strtod(buf, NULL));
    snprintf(buf, sizeof buf, "%.6g", f->cv_mape);
    set_float(r, "cv_mape", strtod(buf, NULL));
    config_setting_set_int(config_setting_add(r, "folds", CONFIG_TYPE_INT), f->folds);
    config_setting_t *se = config_setting_add(r, "stderr", CONFIG_TYPE_GROUP);
    for (int j = 0; j < f->n; j++)
        if (f->free[j] == 1) {
            snprintf(buf, sizeof buf, "%.4g", f->se[j]);
            set_float(se, f->names[j], strtod(buf, NULL));
        }
    set_string(r, "date", f->date);
    set_string(r, "prior_source", prior_copy);
    free(prior_copy);
    return 1;
}

/* The leading block of '#' comment and blank lines of a file (caller frees). */
static char *leading_comments(const char *path)
{
    size_t len;
    char *text = de_file_read(path, &len);
    if (!text)
        return de_strdup("");
    char *p = text;
    while (*p == '#' || *p == '\n') {
        char *nl = strchr(p, '\n');
        if (!nl) {
            p += strlen(p);
            break;
        }
        p = nl + 1;
    }
    /* Drop trailing blank lines of the block. */
    while (p > text + 1 && p[-1] == '\n' && p[-2] == '\n')
        p--;
    *p = '\0';
    return text;
}

int de_catalog_merge_fit(const char *in_path, const char *out_path, const de_catalog_fit *f, de_err *err)
{
    config_t cfg;
    int rc = de_conf_read(&cfg, in_path, err);
    if (rc) {
        config_destroy(&cfg);
        return rc;
    }
    config_setting_t *root = config_root_setting(&cfg);
    if (f->host_cpu && *f->host_cpu) { /* where the trace was measured: the type's provenance */
        config_setting_t *c = config_setting_get_member(root, "measured_cpu");
        if (!c)
            c = config_setting_add(root, "measured_cpu", CONFIG_TYPE_STRING);
        config_setting_set_string(c, f->host_cpu);
        config_setting_t *k = config_setting_get_member(root, "measured_cores");
        if (!k)
            k = config_setting_add(root, "measured_cores", CONFIG_TYPE_INT);
        config_setting_set_int(k, f->host_cores);
    }
    config_setting_t *inter = config_setting_get_member(root, "interference");
    int step = strcmp(f->kind, "step") == 0;
    config_setting_t *list = config_setting_get_member(root, step ? "train" : "infer");
    if (!inter || !config_setting_is_group(inter) || !list || !config_setting_is_list(list)) {
        config_destroy(&cfg);
        return de_err_set(err, DE_EMISSING, "%s: not a device-type file (needs interference = { ... } and %s = ( ... ))",
                          in_path, step ? "train" : "infer");
    }
    const char *key = step ? "network" : "model";
    config_setting_t *e = find_entry(list, key, f->entry);
    /* Parameters [0, split) belong to the entry, [split, n) to the interference group. */
    int split = 2, entry_fitted = 0; /* step: overhead_s per_sample_s; lc: service_s scv */
    for (int j = 0; j < split; j++)
        entry_fitted |= f->free[j];
    if (!e && entry_fitted) {
        e = config_setting_add(list, NULL, CONFIG_TYPE_GROUP);
        set_string(e, key, f->entry);
        for (int j = 0; j < split; j++)
            set_float(e, f->names[j], f->value[j]);
        if (step)
            config_setting_set_int(config_setting_add(e, "max_batch", CONFIG_TYPE_INT), f->max_batch);
        set_string(e, "source", "none: entry added by deepedge fit");
    }
    if (e)
        record_fit(e, "fit", f, 0, split);
    record_fit(inter, step ? "slowdown_fit" : "fit", f, split, f->n);

    char *head = leading_comments(in_path);
    char *tmp = de_sprintf("%s.tmp", out_path);
    FILE *out = fopen(tmp, "w");
    if (!out) {
        rc = de_err_set(err, DE_EIO, "%s: cannot write: %s", tmp, strerror(errno));
    } else {
        if (head[0])
            fprintf(out, "%s\n", head);
        rc = de_conf_write(out, root);
        if (fclose(out) != 0 || rc)
            rc = de_err_set(err, DE_EIO, "%s: write error", tmp);
        else if (rename(tmp, out_path) != 0)
            rc = de_err_set(err, DE_EIO, "%s: cannot rename to %s: %s", tmp, out_path, strerror(errno));
        if (rc)
            remove(tmp);
    }
    free(tmp);
    free(head);
    config_destroy(&cfg);
    return rc;
}
