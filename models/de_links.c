/* de_links.c — the catalog's measured link classes (see de_links.h). */
#include <stdlib.h>
#include <string.h>

#include "de_links.h"
#include "de_conf.h"
#include "de_util.h"

static const de_key k_file[] = {
    {"link", DE_KEY_GROUP, 1, 0, 0, NULL, "", "the pooled fit as a scenario link (name, bandwidth_mbps, latency_ms)", NULL},
    {"fit", DE_KEY_GROUP, 0, 0, 0, NULL, "", "the pooled fit's record: trace, checksum, quality (not read)", NULL},
    {"per_ranks", DE_KEY_LIST, 0, 0, 0, NULL, "", "alpha and beta fitted at each rank count alone", NULL},
    {"measured_cpu", DE_KEY_STRING, 0, 0, 0, NULL, "", "CPU model of the host it was measured on (plan, sim and run warn on another)", NULL},
    {"measured_cores", DE_KEY_INT, 0, 0, 1e6, "0", "", "online cores of that host (0: not said)", NULL},
};
static const de_key k_link[] = {
    {"name", DE_KEY_STRING, 1, 0, 0, NULL, "", "the class name: the file's name", NULL},
    {"bandwidth_mbps", DE_KEY_FLOAT, 1, 1e-3, 1e9, NULL, "Mbit/s", "beta of the pooled fit", NULL},
    {"latency_ms", DE_KEY_FLOAT, 1, 0, 1e5, NULL, "ms", "alpha / 2 of the pooled fit", NULL},
};
static const de_key k_rank[] = {
    {"ranks", DE_KEY_INT, 1, 2, 65536, NULL, "", "the rank count of this fit", NULL},
    {"alpha_s", DE_KEY_FLOAT, 1, 0, 10, NULL, "s", "per-step latency of the ring at this rank count", NULL},
    {"beta_Bps", DE_KEY_FLOAT, 1, 1, 1e13, NULL, "B/s", "bandwidth of the ring at this rank count", NULL},
    {"stderr", DE_KEY_GROUP, 0, 0, 0, NULL, "", "standard errors (not read)", NULL},
    {"held", DE_KEY_STRING, 0, 0, 0, NULL, "", "parameters held at a bound (not read)", NULL},
    {"points", DE_KEY_INT, 0, 0, 1e9, NULL, "", "fit quality (not read)", NULL},
    {"dof", DE_KEY_INT, 0, -1e9, 1e9, NULL, "", "fit quality (not read)", NULL},
    {"r2", DE_KEY_FLOAT, 0, -1e300, 1e300, NULL, "", "fit quality (not read)", NULL},
    {"mape", DE_KEY_FLOAT, 0, 0, 1e300, NULL, "%", "fit quality (not read)", NULL},
    {"cv_mape", DE_KEY_FLOAT, 0, 0, 1e300, NULL, "%", "fit quality (not read)", NULL},
    {"folds", DE_KEY_INT, 0, 0, 1e9, NULL, "", "fit quality (not read)", NULL},
};

void de_link_class_print_keys(FILE *out)
{
    de_conf_print_table(out, "links/NAME.cfg (top level, optional; deepedge calibrate writes it)", k_file,
                        DE_NKEYS(k_file));
    de_conf_print_table(out, "links/NAME.cfg link", k_link, DE_NKEYS(k_link));
    de_conf_print_table(out, "links/NAME.cfg per_ranks.[i]", k_rank, DE_NKEYS(k_rank));
}

static int cmp_rank(const void *a, const void *b)
{
    return ((const de_link_rank *)a)->ranks - ((const de_link_rank *)b)->ranks;
}

static int load_class_cfg(config_setting_t *root, const char *file, de_link_class *c, de_err *err)
{
    config_setting_t *link, *per;
    const char *name, *mcpu;
    long long mcores;
    int rc = de_conf_check_keys(root, k_file, DE_NKEYS(k_file), err);
    if (rc)
        return rc;
    DE_CONF_GET(setting, root, k_file, "link", &link);
    DE_CONF_GET(setting, root, k_file, "per_ranks", &per);
    DE_CONF_GET(string, root, k_file, "measured_cpu", &mcpu);
    DE_CONF_GET(int, root, k_file, "measured_cores", &mcores);
    if ((rc = de_conf_check_keys(link, k_link, DE_NKEYS(k_link), err)))
        return rc;
    double bw, lat;
    DE_CONF_GET(string, link, k_link, "name", &name);
    DE_CONF_GET(float, link, k_link, "bandwidth_mbps", &bw);
    DE_CONF_GET(float, link, k_link, "latency_ms", &lat);
    size_t len = strlen(file) - 4;
    if (strlen(name) != len || strncmp(name, file, len) != 0) {
        char where[512];
        de_conf_where(config_setting_get_member(link, "name"), where, sizeof where);
        return de_err_set(err, DE_EINVAL, "%s: link.name: '%s' must match the file name '%.*s'", where, name, (int)len,
                          file);
    }
    c->name = de_strdup(name);
    c->measured_cpu = mcpu ? de_strdup(mcpu) : NULL;
    c->measured_cores = (int)mcores;
    c->bandwidth_Bps = bw * 1e6 / 8.0;
    c->latency_s = lat * 1e-3;
    int n = per ? config_setting_length(per) : 0;
    c->per_ranks = de_calloc((size_t)n + 1, sizeof *c->per_ranks);
    for (int i = 0; i < n; i++) {
        config_setting_t *g = config_setting_get_elem(per, (unsigned)i);
        long long ranks;
        de_link_rank *r = &c->per_ranks[i];
        if (!config_setting_is_group(g)) {
            char where[512];
            de_conf_where(g, where, sizeof where);
            return de_err_set(err, DE_ETYPE, "%s: expected a group { ranks = ...; alpha_s = ...; beta_Bps = ...; }",
                              where);
        }
        if ((rc = de_conf_check_keys(g, k_rank, DE_NKEYS(k_rank), err)))
            return rc;
        DE_CONF_GET(int, g, k_rank, "ranks", &ranks);
        DE_CONF_GET(float, g, k_rank, "alpha_s", &r->alpha_s);
        DE_CONF_GET(float, g, k_rank, "beta_Bps", &r->beta_Bps);
        r->ranks = (int)ranks;
        for (int j = 0; j < i; j++)
            if (c->per_ranks[j].ranks == r->ranks) {
                char where[512];
                de_conf_where(config_setting_get_member(g, "ranks"), where, sizeof where);
                return de_err_set(err, DE_EDUP, "%s: ranks: %d has a fit already", where, r->ranks);
            }
        c->n_per_ranks = i + 1;
    }
    if (n > 1)
        qsort(c->per_ranks, (size_t)n, sizeof *c->per_ranks, cmp_rank);
    return DE_OK;
}

int de_link_class_load(const char *path, de_link_class *c, de_err *err)
{
    memset(c, 0, sizeof *c);
    const char *slash = strrchr(path, '/'), *file = slash ? slash + 1 : path;
    size_t len = strlen(file);
    if (len < 5 || strcmp(file + len - 4, ".cfg") != 0)
        return de_err_set(err, DE_EINVAL, "%s: a link-class file is named <class>.cfg", path);
    config_t cfg;
    int rc = de_conf_read(&cfg, path, err);
    if (!rc)
        rc = load_class_cfg(config_root_setting(&cfg), file, c, err);
    config_destroy(&cfg);
    if (rc)
        de_link_class_free(c);
    return rc;
}

void de_link_class_free(de_link_class *c)
{
    free(c->name);
    free(c->per_ranks);
    free(c->measured_cpu);
    memset(c, 0, sizeof *c);
}

int de_link_classes_load(const char *dir, de_link_class **out, int *n_out, char ***paths, de_err *err)
{
    char **names;
    int n = de_dir_names(dir, ".cfg", &names), rc = DE_OK;
    if (n < 0) /* no measured link classes: fine */
        n = 0;
    *out = de_calloc((size_t)n + 1, sizeof **out);
    *paths = de_calloc((size_t)n + 1, sizeof **paths);
    *n_out = 0;
    for (int i = 0; i < n && !rc; i++) {
        (*paths)[i] = de_path_join(dir, names[i]);
        rc = de_link_class_load((*paths)[i], &(*out)[i], err);
        *n_out = i + 1;
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

const de_link_rank *de_link_class_at(const de_link_class *c, int ranks)
{
    for (int i = 0; i < c->n_per_ranks; i++)
        if (c->per_ranks[i].ranks == ranks)
            return &c->per_ranks[i];
    return NULL;
}
