/* cli_sweep.c — the grid of `deepedge sweep`, one run's row and the output files, shared
 * by deepedge (cmd_sweep.c) and deepedge-exec's MPI sweep (cmd_sweep_mpi.c); see
 * cli_sweep.h. */
#include "cli_sweep.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "de_plot.h"
#include "de_scenario.h"
#include "de_sim_report.h"
#include "de_util.h"

/* The most runs a sweep takes (grid points x seeds x policies). */
#define MAX_RUNS 10000000LL

void de_sweep_usage(FILE *out)
{
    fprintf(out,
            "usage: deepedge sweep SCENARIO --vary KEY=V1,V2,... [--link KEY=W1,W2,...] [--vary ...]\n"
            "                      [--seeds N] [-j N] [--policy P|all] [--until T] [--out DIR] [sim options]\n\n"
            "Runs the simulation on every point of a grid and every seed 1..N, and writes one CSV row\n"
            "per run (DIR/sweep.csv), the mean, min and max over the seeds per point and policy\n"
            "(DIR/sweep_summary.csv) and, for one numeric axis, a plot of both (DIR/sweep.png, .svg).\n\n"
            "The grid:\n"
            "  --vary KEY=V1,V2,...   an axis: KEY takes each value in turn. KEY is a scenario key as\n"
            "                         `deepedge scenario keys` lists them, with list elements:\n"
            "                         jobs.[0].global_batch, lc_tasks.[2].rate, planner.safety_margin;\n"
            "                         [*] is every element of the list (lc_tasks.[*].rate: every task's\n"
            "                         rate, each set to the value). A key left at its default is added.\n"
            "  --vary KEY*=F1,F2,...  an axis of factors: KEY takes its value in the file (or its\n"
            "                         default) times each factor, element by element with [*]:\n"
            "                         --vary 'lc_tasks.[*].rate*=0.5,1,2' (every rate halved, as is, doubled)\n"
            "  --link KEY=W1,W2,...   (or KEY*=...) moves with the --vary before it, value for value (as\n"
            "                         many values): --vary lc_tasks.[0].rate=10,20 --link lc_tasks.[1].rate=5,10\n"
            "                         is 2 points, not 4. Axes combine: every combination of their values.\n"
            "Each varied key is one column of sweep.csv, named as given (KEY, or KEY* for factors).\n"
            "Every key and every grid point is checked against the scenario's key tables (type, range,\n"
            "list length) and loaded before anything runs; an error names the file and line, the key,\n"
            "the option that gave the value and the range the key takes.\n\n"
            "options:\n"
            "  --seeds N          seeds 1..N for every point (default 1)\n"
            "  -j, --jobs N       runs at a time, in processes (default 2; 1 to 1024)\n"
            "  --policy P|all     the policy (default: each point's planner.policy); all: every policy\n"
            "                     on every point and seed, one column value each (a policy that does not\n"
            "                     take a cluster that large is skipped: no row)\n"
            "  --until T          simulate [0, T) seconds (default: until every job is done)\n"
            "  --out DIR          output folder (default out/sweep)\n"
            "  --no-plots         do not run gnuplot\n"
            "  --mpi              spread the runs over the ranks of mpiexec (implied when started by\n"
            "                     mpiexec: OMPI_COMM_WORLD_SIZE or PMI_SIZE above 1); rank 0 writes the\n"
            "                     same files as -j N: mpiexec -n 3 -hostfile HOSTS deepedge sweep ...\n"
            "  --window S, --step-cv X, --replan-cost S, --restart-cost S, --switch-gain X,\n"
            "  --inject CHANGE, --catalog DIR: as for sim (deepedge sim --help), on every run\n"
            "  -h, --help         this text\n\n"
            "While it runs, rows are appended to DIR/sweep.partial.csv as runs finish (in that\n"
            "order); sweep.csv is written, in grid order, only when every run is done (a temporary file\n"
            "renamed over it): a failed or killed sweep leaves the previous sweep.csv as it was.\n\n"
            "Exit status: 0 every run done and the files written (missed deadlines are results, in\n"
            "the CSV), 1 error: a bad option, key, value or grid point (nothing run), or a run that\n"
            "failed (sweep.csv unchanged).\n");
}

/* ---- building a grid point's configuration ---- */

static const char *type_word(const de_key *k)
{
    switch (k->type) {
    case DE_KEY_INT: return "an integer";
    case DE_KEY_FLOAT: return "a number";
    case DE_KEY_STRING: return "a string";
    case DE_KEY_BOOL: return "true or false";
    case DE_KEY_GROUP: return "a group";
    default: return "a list";
    }
}

/* What the key takes, for messages: "a number in [0, 1e+06] req/s". */
static void takes(const de_key *k, char *buf, size_t n)
{
    if (k->type == DE_KEY_INT)
        snprintf(buf, n, "an integer in [%.0f, %.0f]%s%s", k->min, k->max, k->unit[0] ? " " : "", k->unit);
    else if (k->type == DE_KEY_FLOAT)
        snprintf(buf, n, "a number in [%g, %g]%s%s", k->min, k->max, k->unit[0] ? " " : "", k->unit);
    else
        snprintf(buf, n, "%s", type_word(k));
}

/* "sweep: FILE:LINE: KEY (--vary 'SPEC'): MESSAGE"; returns -1. */
static int point_fail(const config_setting_t *at, const de_sweep_member *m, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int point_fail(const config_setting_t *at, const de_sweep_member *m, const char *key, const char *fmt, ...)
{
    char where[512], msg[1024];
    de_conf_where(at, where, sizeof where);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    de_cli_fail("sweep: %s: %s (%s '%s'): %s", where, key, m->opt, m->spec, msg);
    return -1;
}

/* The deepest setting of cfg on key's path; *rest: the part of key not found ("" when the
 * whole path is there). */
static config_setting_t *deepest(config_t *cfg, const char *key, const char **rest)
{
    config_setting_t *s = config_root_setting(cfg);
    const char *p = key;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        char part[256];
        if (len == 0 || len >= sizeof part)
            break;
        memcpy(part, p, len);
        part[len] = '\0';
        config_setting_t *m = NULL;
        if (part[0] == '[') {
            char *end;
            long i = strtol(part + 1, &end, 10);
            if (end != part + 1 && end[0] == ']' && end[1] == '\0' && i >= 0 &&
                (config_setting_is_list(s) || config_setting_is_array(s)) && i < config_setting_length(s))
                m = config_setting_get_elem(s, (unsigned)i);
        } else if (config_setting_is_group(s)) {
            m = config_setting_get_member(s, part);
        }
        if (!m)
            break;
        s = m;
        p = dot ? dot + 1 : p + len;
    }
    *rest = p;
    return s;
}

/* A setting of libconfig type `type` replacing st (same name, same file and line). */
static config_setting_t *retype(config_setting_t *st, int type)
{
    config_setting_t *parent = config_setting_parent(st);
    unsigned int line = st->line;
    const char *file = st->file;
    char *name = de_strdup(config_setting_name(st));
    config_setting_remove(parent, name);
    st = config_setting_add(parent, name, type);
    free(name);
    st->line = line;
    st->file = file;
    return st;
}

static int conf_type(const de_key *k)
{
    switch (k->type) {
    case DE_KEY_INT: return CONFIG_TYPE_INT64;
    case DE_KEY_FLOAT: return CONFIG_TYPE_FLOAT;
    case DE_KEY_BOOL: return CONFIG_TYPE_BOOL;
    default: return CONFIG_TYPE_STRING;
    }
}

/* Sets one key (list indices all concrete) to value, or to its value times the factor. */
static int set_one(config_t *cfg, const de_sweep_member *m, const char *key, const char *value)
{
    const de_key *k = m->k;
    const char *rest;
    config_setting_t *st = deepest(cfg, key, &rest);
    int added = 0;
    if (*rest) {
        char prefix[512];
        snprintf(prefix, sizeof prefix, "%.*s", (int)(rest - key > 0 ? rest - key - 1 : 0), key);
        if (rest[0] == '[') {
            if (config_setting_is_list(st) || config_setting_is_array(st)) {
                int n = config_setting_length(st);
                return n ? point_fail(st, m, key, "%s has %d element%s, [0] to [%d]", prefix, n, n == 1 ? "" : "s",
                                      n - 1)
                         : point_fail(st, m, key, "%s is empty", prefix);
            }
            return point_fail(st, m, key, "%s is not a list in the file", prefix[0] ? prefix : "(top level)");
        }
        if (strchr(rest, '[') || !config_setting_is_group(st))
            return point_fail(st, m, key, "%s is not in the file as a group of keys", prefix[0] ? prefix : "(top level)");
        /* a key left at its default (and the groups above it): added */
        char *copy = de_strdup(rest), *save = NULL;
        for (char *part = strtok_r(copy, ".", &save); part && st; part = strtok_r(NULL, ".", &save)) {
            const char *next = save && *save ? save : NULL;
            config_setting_t *g = config_setting_add(st, part, next ? CONFIG_TYPE_GROUP : conf_type(k));
            st = g;
        }
        free(copy);
        if (!st)
            return de_cli_fail("sweep: %s (%s '%s'): cannot be added to the scenario", key, m->opt, m->spec);
        added = 1;
    }
    char range[160], *end;
    takes(k, range, sizeof range);
    if (k->type == DE_KEY_GROUP || k->type == DE_KEY_LIST)
        return point_fail(st, m, key, "is %s; vary one of its keys", type_word(k));
    if (k->type == DE_KEY_STRING) {
        if (config_setting_type(st) != CONFIG_TYPE_STRING)
            st = retype(st, CONFIG_TYPE_STRING);
        config_setting_set_string(st, value);
        return 0;
    }
    if (k->type == DE_KEY_BOOL) {
        if (strcmp(value, "true") && strcmp(value, "false"))
            return point_fail(st, m, key, "'%s' is not true or false", value);
        if (config_setting_type(st) != CONFIG_TYPE_BOOL)
            st = retype(st, CONFIG_TYPE_BOOL);
        config_setting_set_bool(st, strcmp(value, "true") == 0);
        return 0;
    }
    /* a number */
    double x;
    char shown[256];
    if (m->scale) {
        double f = strtod(value, &end), cur;
        if (end == value || *end || !isfinite(f))
            return point_fail(st, m, key, "the factor '%s' is not a number", value);
        int t = config_setting_type(st);
        if (added) {
            if (!k->def || (cur = strtod(k->def, &end), *end != '\0' || end == k->def))
                return point_fail(st, m, key, "is not in the file and has no default, so it has no value to scale");
        } else if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
            cur = (double)config_setting_get_int64(st);
        } else if (t == CONFIG_TYPE_FLOAT) {
            cur = config_setting_get_float(st);
        } else {
            return point_fail(st, m, key, "is not a number in the file, so it has no value to scale");
        }
        x = f * cur;
        snprintf(shown, sizeof shown, "%s x %.17g = %.17g", value, cur, x);
    } else {
        x = strtod(value, &end);
        if (end == value || *end || !isfinite(x))
            return point_fail(st, m, key, "'%s' is not a number; it takes %s", value, range);
        snprintf(shown, sizeof shown, "%s", value);
    }
    if (k->type == DE_KEY_INT && (fabs(x) > 9e15 || x != floor(x)))
        return point_fail(st, m, key, "%s is not an integer; it takes %s", shown, range);
    if (!(x >= k->min && x <= k->max))
        return point_fail(st, m, key, "%s is out of range; it takes %s", shown, range);
    if (config_setting_type(st) != conf_type(k))
        st = retype(st, conf_type(k));
    if (k->type == DE_KEY_INT)
        config_setting_set_int64(st, (long long)x);
    else
        config_setting_set_float(st, x);
    return 0;
}

/* Sets key to value; each [*] of key stands for every element of its list. */
static int set_key(config_t *cfg, const de_sweep_member *m, const char *key, const char *value)
{
    const char *star = strstr(key, "[*]");
    if (!star)
        return set_one(cfg, m, key, value);
    size_t plen = (size_t)(star - key);
    char *prefix = de_sprintf("%.*s", (int)(plen && key[plen - 1] == '.' ? plen - 1 : plen), key);
    const char *rest;
    config_setting_t *list = deepest(cfg, prefix, &rest);
    int rc = 0;
    if (*rest || !(config_setting_is_list(list) || config_setting_is_array(list)))
        rc = point_fail(list, m, key, "%s is not a list in the file, so [*] names nothing", prefix);
    else if (config_setting_length(list) == 0)
        rc = point_fail(list, m, key, "%s is empty, so [*] names nothing", prefix);
    for (int i = 0; !rc && i < config_setting_length(list); i++) {
        char *k = de_sprintf("%s.[%d]%s", prefix, i, star + 3);
        rc = set_key(cfg, m, k, value);
        free(k);
    }
    free(prefix);
    return rc;
}

/* The value index of each axis at a grid point (the last axis moves fastest). */
static void point_index(const de_sweep *sw, long long point, int *idx)
{
    for (int k = sw->n_axes - 1; k >= 0; k--) {
        idx[k] = (int)(point % sw->ax[k].n);
        point /= sw->ax[k].n;
    }
}

/* "KEY=V, KEY2*=F" of a grid point, for messages. */
static char *point_name(const de_sweep *sw, const int *idx)
{
    char *s = de_strdup("");
    for (int k = 0; k < sw->n_axes; k++)
        for (int j = 0; j < sw->ax[k].n_members; j++) {
            const de_sweep_member *m = &sw->ax[k].m[j];
            char *t = de_sprintf("%s%s%s%s=%s", s, s[0] ? ", " : "", m->key, m->scale ? "*" : "", m->values[idx[k]]);
            free(s);
            s = t;
        }
    return s;
}

/* The scenario of a grid point, loaded from the file with the point's values set; NULL
 * after a message. */
static de_scenario *point_scenario(const de_sweep *sw, long long point)
{
    int *idx = de_calloc((size_t)sw->n_axes + 1, sizeof *idx);
    point_index(sw, point, idx);
    config_t cfg;
    de_err err;
    de_scenario *s = NULL;
    int bad = 0;
    if (de_conf_read(&cfg, sw->path, &err)) {
        de_cli_fail("sweep: %s", err.msg);
        bad = 1;
    }
    for (int k = 0; k < sw->n_axes && !bad; k++)
        for (int j = 0; j < sw->ax[k].n_members && !bad; j++) {
            const de_sweep_member *m = &sw->ax[k].m[j];
            bad = set_key(&cfg, m, m->key, m->values[idx[k]]) != 0;
        }
    if (!bad && de_scenario_load_config(&cfg, sw->path, sw->a->catalog, &s, &err)) {
        char *name = point_name(sw, idx);
        de_cli_fail("sweep: the grid point %s makes an invalid scenario: %s", name, err.msg);
        free(name);
    }
    config_destroy(&cfg);
    free(idx);
    return s;
}

/* ---- the grid ---- */

/* Reads one --vary/--link spec into m: how many values, or -1 after a message. */
static int parse_member(de_sweep_member *m, const de_cli_vary *v)
{
    m->spec = v->spec;
    m->opt = v->link ? "--link" : "--vary";
    const char *eq = strchr(v->spec, '=');
    if (!eq || eq == v->spec || !eq[1])
        return -de_cli_fail("%s '%s': expected KEY=V1,V2,... or KEY*=F1,F2,...", m->opt, v->spec);
    size_t klen = (size_t)(eq - v->spec);
    m->scale = v->spec[klen - 1] == '*';
    m->key = de_sprintf("%.*s", (int)(klen - (size_t)m->scale), v->spec);
    int n = 0;
    for (const char *p = eq + 1;; p++) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len == 0)
            return -de_cli_fail("%s '%s': an empty value", m->opt, v->spec);
        m->values = de_realloc(m->values, (size_t)(n + 1) * sizeof *m->values);
        m->values[n++] = de_sprintf("%.*s", (int)len, p);
        m->n_values = n;
        if (!c)
            break;
        p = c;
    }
    const de_key *table;
    size_t tn;
    m->k = de_scenario_key(m->key, &table, &tn);
    if (!m->k) {
        char known[2048] = "";
        for (size_t i = 0; i < tn; i++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "", table[i].name);
        return -de_cli_fail("%s '%s': a scenario has no key '%s'%s%s%s (deepedge scenario keys lists them; a list "
                           "element is [N] or [*]: lc_tasks.[0].rate)",
                           m->opt, v->spec, m->key, tn ? " (there: " : "", known, tn ? ")" : "");
    }
    if (m->k->type == DE_KEY_GROUP || m->k->type == DE_KEY_LIST)
        return -de_cli_fail("%s '%s': %s is %s; vary one of its keys", m->opt, v->spec, m->key, type_word(m->k));
    if (m->scale && m->k->type != DE_KEY_INT && m->k->type != DE_KEY_FLOAT)
        return -de_cli_fail("%s '%s': %s is %s: only a number can be scaled (KEY*=F)", m->opt, v->spec, m->key,
                           type_word(m->k));
    return n;
}

int de_sweep_init(de_sweep *sw, const de_cli_sim_args *a, const char *path)
{
    memset(sw, 0, sizeof *sw);
    sw->a = a;
    sw->path = path;
    if (a->n_vary == 0)
        return de_cli_fail("sweep: at least one --vary KEY=V1,V2,... is required (deepedge sweep --help)");
    sw->ax = de_calloc((size_t)a->n_vary, sizeof *sw->ax);
    for (int i = 0; i < a->n_vary; i++) {
        if (!a->vary[i].link)
            sw->n_axes++;
        de_sweep_axis *x = &sw->ax[sw->n_axes - 1];
        x->m = de_realloc(x->m, (size_t)(x->n_members + 1) * sizeof *x->m);
        de_sweep_member *m = &x->m[x->n_members++];
        memset(m, 0, sizeof *m);
        int n = parse_member(m, &a->vary[i]);
        if (n < 0)
            return DE_EXIT_ERROR;
        if (x->n_members == 1)
            x->n = n;
        else if (n != x->n)
            return de_cli_fail("--link '%s' has %d value%s; the --vary '%s' it moves with has %d", m->spec, n,
                               n == 1 ? "" : "s", x->m[0].spec, x->n);
    }
    for (int k = 0; k < sw->n_axes; k++) /* one key, one column */
        for (int j = 0; j < sw->ax[k].n_members; j++)
            for (int k2 = 0; k2 <= k; k2++)
                for (int j2 = 0; j2 < (k2 == k ? j : sw->ax[k2].n_members); j2++)
                    if (strcmp(sw->ax[k].m[j].key, sw->ax[k2].m[j2].key) == 0)
                        return de_cli_fail("sweep: %s is varied twice ('%s' and '%s')", sw->ax[k].m[j].key,
                                           sw->ax[k2].m[j2].spec, sw->ax[k].m[j].spec);
    if (a->all)
        for (int p = 0; p < DE_POLICY_COUNT; p++)
            sw->pol[sw->n_pol++] = p;
    else
        sw->pol[sw->n_pol++] = a->o.policy;
    sw->n_points = 1;
    for (int k = 0; k < sw->n_axes; k++) {
        sw->n_points *= sw->ax[k].n;
        if (sw->n_points * a->seeds * sw->n_pol > MAX_RUNS)
            return de_cli_fail("sweep: more than %lld runs (grid points x seeds x policies)", MAX_RUNS);
    }
    sw->n_runs = sw->n_points * a->seeds * sw->n_pol;
    /* Every grid point is built and loaded (and its --inject parsed) before anything runs. */
    for (long long p = 0; p < sw->n_points; p++) {
        de_scenario *s = point_scenario(sw, p);
        if (!s)
            return DE_EXIT_ERROR;
        de_err err;
        de_change c;
        for (int i = 0; i < a->n_inject; i++)
            if (de_change_parse_spec(a->inject[i], s, &c, &err)) {
                de_scenario_destroy(s);
                return de_cli_fail("%s", err.msg);
            }
        if (!sw->name)
            sw->name = de_strdup(s->name);
        de_scenario_destroy(s);
    }
    char *h = de_strdup("");
    for (int k = 0; k < sw->n_axes; k++)
        for (int j = 0; j < sw->ax[k].n_members; j++) {
            char *t = de_sprintf("%s%s%s,", h, sw->ax[k].m[j].key, sw->ax[k].m[j].scale ? "*" : "");
            free(h);
            h = t;
        }
    sw->header = de_sprintf("%sseed,policy,finished,retraining_s,iteration_s,lost_iterations,lc_tasks_missed,"
                            "lc_violation_rate\n",
                            h);
    free(h);
    return DE_EXIT_OK;
}

void de_sweep_free(de_sweep *sw)
{
    for (int k = 0; k < sw->n_axes; k++) {
        for (int j = 0; j < sw->ax[k].n_members; j++) {
            de_sweep_member *m = &sw->ax[k].m[j];
            free(m->key);
            for (int v = 0; v < m->n_values; v++)
                free(m->values[v]);
            free(m->values);
        }
        free(sw->ax[k].m);
    }
    free(sw->ax);
    free(sw->header);
    free(sw->name);
    memset(sw, 0, sizeof *sw);
}

/* ---- one run ---- */

int de_sweep_run(const de_sweep *sw, long long r, char **row)
{
    *row = NULL;
    long long per_point = sw->a->seeds * sw->n_pol;
    long long point = r / per_point, rest = r % per_point;
    long long seed = 1 + rest / sw->n_pol;
    int pol = sw->pol[rest % sw->n_pol];
    de_scenario *s = point_scenario(sw, point);
    if (!s)
        return DE_EXIT_ERROR;
    if (pol < 0)
        pol = (int)s->planner.policy;
    if (!de_policy_accepts((de_policy)pol, s->n_devices)) {
        de_scenario_destroy(s);
        return DE_EXIT_OK; /* skipped: larger than the policy takes */
    }
    de_err err;
    de_sim_opts o = sw->a->o;
    de_change inject[64];
    for (int k = 0; k < sw->a->n_inject; k++)
        if (de_change_parse_spec(sw->a->inject[k], s, &inject[k], &err)) {
            de_scenario_destroy(s);
            return de_cli_fail("%s", err.msg);
        }
    o.inject = inject;
    o.n_inject = sw->a->n_inject;
    o.seed = (unsigned long)seed;
    o.policy = pol;
    o.out_dir = NULL;
    o.progress = NULL;
    de_sim_result res;
    if (de_sim_run(s, &o, &res, &err)) {
        de_scenario_destroy(s);
        return de_cli_fail("sweep: run %lld (seed %lld, %s): %s", r, seed, de_policy_name((de_policy)pol), err.msg);
    }
    double rt = 0, it = 0, lost = 0; /* lost: iterations redone after losses */
    int fin = 1;
    for (int j = 0; j < res.n_jobs; j++) {
        const de_sim_job *J = &res.jobs[j];
        fin &= J->finished;
        rt += J->finished ? J->end_s - J->arrival_s : 0;
        it += J->iterations ? (J->compute_s + J->allreduce_s) / (double)J->iterations : 0;
        lost += (double)J->lost_iterations;
    }
    int idx[64];
    int *ix = sw->n_axes <= 64 ? idx : de_calloc((size_t)sw->n_axes, sizeof *ix);
    point_index(sw, point, ix);
    char *line = NULL;
    size_t ll = 0;
    FILE *f = open_memstream(&line, &ll);
    for (int k = 0; k < sw->n_axes; k++)
        for (int j = 0; j < sw->ax[k].n_members; j++)
            fprintf(f, "%s,", sw->ax[k].m[j].values[ix[k]]);
    fprintf(f, "%lld,%s,%d,%.6f,%.6f,%.0f,%d,%.6f\n", seed, de_policy_name((de_policy)pol), fin, fin ? rt : NAN,
            res.n_jobs ? it / res.n_jobs : 0.0, lost, de_report_tasks_missed(&res), de_report_violation_rate(&res));
    fclose(f);
    if (ix != idx)
        free(ix);
    de_sim_result_free(&res);
    de_scenario_destroy(s);
    *row = line;
    return DE_EXIT_OK;
}

/* ---- the output ---- */

char *de_sweep_out_dir(const de_sweep *sw)
{
    char *out;
    if (sw->a->out) {
        out = de_strdup(sw->a->out);
    } else {
        if (mkdir("out", 0777) != 0 && errno != EEXIST) {
            de_cli_fail("sweep: out: cannot create: %s", strerror(errno));
            return NULL;
        }
        out = de_strdup("out/sweep");
    }
    if (mkdir(out, 0777) != 0 && errno != EEXIST) {
        de_cli_fail("sweep: %s: cannot create: %s", out, strerror(errno));
        free(out);
        return NULL;
    }
    return out;
}

/* The columns of a row that follow the varied keys. */
enum { C_SEED, C_POLICY, C_FINISHED, C_RETRAIN, C_ITER, C_LOST, C_MISSED, C_VIOL, N_COLS };

/* Splits a row into its fields (in place); returns how many. */
static int split(char *row, char **f, int max)
{
    int n = 0;
    for (char *p = row; n < max;) {
        f[n++] = p;
        char *c = strpbrk(p, ",\n");
        if (!c || *c == '\n') {
            if (c)
                *c = '\0';
            break;
        }
        *c = '\0';
        p = c + 1;
    }
    return n;
}

typedef struct stat3 {
    double sum, min, max;
    int n, nan;
} stat3;

static void stat_add(stat3 *s, double x)
{
    if (isnan(x)) {
        s->nan++;
        return;
    }
    s->min = s->n ? fmin(s->min, x) : x;
    s->max = s->n ? fmax(s->max, x) : x;
    s->sum += x;
    s->n++;
}

/* mean,min,max; nan when a seed's value is nan (a job that did not finish). */
static void stat_print(FILE *f, const stat3 *s)
{
    if (s->nan || !s->n)
        fputs(",nan,nan,nan", f);
    else
        fprintf(f, ",%.6f,%.6f,%.6f", s->sum / s->n, s->min, s->max);
}

/* sweep_summary.csv's text: per policy and grid point, over the seeds. Sets *finite_rt
 * when some mean re-training time is a number. */
static char *summary_text(const de_sweep *sw, char *const *rows, int *finite_rt)
{
    int nkeys = 0;
    for (int k = 0; k < sw->n_axes; k++)
        nkeys += sw->ax[k].n_members;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    char *cut = strstr(sw->header, "seed,");
    fprintf(f, "%.*spolicy,seeds,finished,retraining_s_mean,retraining_s_min,retraining_s_max,iteration_s_mean,"
               "iteration_s_min,iteration_s_max,lc_violation_rate_mean,lc_violation_rate_min,lc_violation_rate_max\n",
            (int)(cut - sw->header), sw->header);
    *finite_rt = 0;
    char **fld = de_calloc((size_t)nkeys + N_COLS, sizeof *fld);
    for (int q = 0; q < sw->n_pol; q++) /* policy by policy: a line each in the plot */
        for (long long p = 0; p < sw->n_points; p++) {
            stat3 rt = {0}, it = {0}, viol = {0};
            int seeds = 0, fin = 0;
            char *keys = NULL, *pname = NULL;
            for (long long sd = 0; sd < sw->a->seeds; sd++) {
                const char *row = rows[(p * sw->a->seeds + sd) * sw->n_pol + q];
                if (!row)
                    continue;
                char *copy = de_strdup(row);
                if (split(copy, fld, nkeys + N_COLS) == nkeys + N_COLS) {
                    if (!keys) {
                        keys = de_strdup(row);
                        char *c = keys;
                        for (int i = 0; i < nkeys; i++)
                            c = strchr(c, ',') + 1;
                        *c = '\0';
                        pname = de_strdup(fld[nkeys + C_POLICY]);
                    }
                    seeds++;
                    fin += atoi(fld[nkeys + C_FINISHED]);
                    stat_add(&rt, strtod(fld[nkeys + C_RETRAIN], NULL));
                    stat_add(&it, strtod(fld[nkeys + C_ITER], NULL));
                    stat_add(&viol, strtod(fld[nkeys + C_VIOL], NULL));
                }
                free(copy);
            }
            if (seeds) {
                fprintf(f, "%s%s,%d,%d", keys, pname, seeds, fin);
                stat_print(f, &rt);
                stat_print(f, &it);
                stat_print(f, &viol);
                fputc('\n', f);
                *finite_rt |= !rt.nan && rt.n;
            }
            free(keys);
            free(pname);
        }
    free(fld);
    fclose(f);
    return text;
}

static int is_number(const char *s)
{
    char *end;
    double x = strtod(s, &end);
    return end != s && *end == '\0' && isfinite(x);
}

static int plot(const de_sweep *sw, char *const *rows, const char *dir, int finite_rt)
{
    const de_sweep_axis *x = &sw->ax[0];
    const de_sweep_member *m0 = &x->m[0];
    /* the policies that have rows, in table order */
    char policies[512] = "";
    for (int q = 0; q < sw->n_pol; q++) {
        int found = 0;
        for (long long r = q; r < sw->n_runs && !found; r += sw->n_pol)
            if (rows[r]) {
                char *copy = de_strdup(rows[r]), *f[N_COLS + 256];
                int n = split(copy, f, N_COLS + 256);
                if (n >= N_COLS) {
                    snprintf(policies + strlen(policies), sizeof policies - strlen(policies), "%s%s",
                             policies[0] ? " " : "", f[n - N_COLS + C_POLICY]);
                    found = 1;
                }
                free(copy);
            }
    }
    if (!policies[0])
        return DE_EXIT_OK; /* nothing ran */
    char *xlabel = m0->scale ? de_sprintf("%s: factor on the value in the file", m0->key)
                             : de_sprintf("%s%s%s%s", m0->key, m0->k->unit[0] ? " (" : "", m0->k->unit,
                                          m0->k->unit[0] ? ")" : "");
    for (int j = 1; j < x->n_members; j++) {
        char *t = de_sprintf("%s, with %s%s", xlabel, x->m[j].key, x->m[j].scale ? " (factor)" : "");
        free(xlabel);
        xlabel = t;
    }
    char *title = de_sprintf("sweep of %s over %s%s: mean and min-max over %lld seed%s", sw->name, m0->key,
                             m0->scale ? " (factor)" : "", sw->a->seeds, sw->a->seeds == 1 ? "" : "s");
    int pcol = x->n_members + 1; /* summary columns: keys, policy, seeds, finished, then the statistics */
    double ycol = finite_rt ? pcol + 3 : pcol + 6, vcol = pcol + 9;
    int rc = DE_EXIT_OK;
    for (int k = 0; k < 2 && !rc; k++) {
        const de_plot_var v[] = {{"dir", dir, 0},
                                 {"xlabel", xlabel, 0},
                                 {"title", title, 0},
                                 {"policies", policies, 0},
                                 {"pcol", NULL, pcol},
                                 {"ycol", NULL, ycol},
                                 {"vcol", NULL, vcol},
                                 {"ylabel", finite_rt ? "re-training time (s)" : "mean iteration time (s)", 0},
                                 {"term", k ? "svg size 1000,800" : "pngcairo size 1000,800", 0},
                                 {"ext", k ? "svg" : "png", 0}};
        de_err perr;
        if (de_plot_run("sweep.gp", v, (int)(sizeof v / sizeof v[0]), &perr))
            rc = de_cli_fail("sweep: %s", perr.msg);
    }
    free(xlabel);
    free(title);
    if (!rc)
        printf("plot: %s/sweep.png, %s/sweep.svg\n", dir, dir);
    return rc;
}

int de_sweep_write(const de_sweep *sw, char *const *rows, const char *dir)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    fputs(sw->header, f);
    for (long long r = 0; r < sw->n_runs; r++)
        if (rows[r]) {
            fputs(rows[r], f);
            fputs(rows[r], stdout);
        }
    fclose(f);
    de_err err;
    char *csv = de_path_join(dir, "sweep.csv"), *sum = de_path_join(dir, "sweep_summary.csv");
    int rc = DE_EXIT_OK, finite_rt = 0;
    if (de_file_write_atomic(csv, text, len, &err))
        rc = de_cli_fail("sweep: %s", err.msg);
    free(text);
    if (!rc) {
        text = summary_text(sw, rows, &finite_rt);
        if (de_file_write_atomic(sum, text, strlen(text), &err))
            rc = de_cli_fail("sweep: %s", err.msg);
        free(text);
    }
    if (!rc)
        printf("\n%lld runs; results in %s (mean, min, max over the seeds: %s)\n", sw->n_runs, csv, sum);
    int numeric = sw->n_axes == 1;
    for (int v = 0; numeric && v < sw->ax[0].n; v++)
        numeric = is_number(sw->ax[0].m[0].values[v]);
    if (!rc && numeric && sw->a->plots)
        rc = plot(sw, rows, dir, finite_rt);
    free(csv);
    free(sum);
    return rc;
}
