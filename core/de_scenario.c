/* de_scenario.c — scenario loading and validation (see de_scenario.h). */
#include "de_scenario.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "de_util.h"

/* ---- key tables: the scenario format (scenarios/README.md shows them too) ---- */

static const de_key k_top[] = {
    {"name", DE_KEY_STRING, 1, 0, 0, NULL, "", "scenario name", NULL},
    {"description", DE_KEY_STRING, 0, 0, 0, "", "", "free text", NULL},
    {"catalog", DE_KEY_STRING, 0, 0, 0, NULL, "path", "device catalog directory, relative to this file (default: built-in models/)", NULL},
    {"links", DE_KEY_LIST, 1, 0, 0, NULL, "", "network links, each device attaches to one", NULL},
    {"devices", DE_KEY_LIST, 1, 0, 0, NULL, "", "edge devices", NULL},
    {"lc_tasks", DE_KEY_LIST, 0, 0, 0, NULL, "", "latency-critical applications", NULL},
    {"jobs", DE_KEY_LIST, 1, 0, 0, NULL, "", "model-update (re-training) jobs", NULL},
    {"planner", DE_KEY_GROUP, 0, 0, 0, NULL, "", "planner options", NULL},
    {"faults", DE_KEY_LIST, 0, 0, 0, NULL, "", "faults and load changes at their times or iterations (sim and run)", NULL},
    {"fault_trace", DE_KEY_STRING, 0, 0, 0, NULL, "path", "CSV of faults (time_s,device,kind,repair_s,factor), relative to this file; added to faults", NULL},
    {"exec", DE_KEY_GROUP, 0, 0, 0, NULL, "", "how deepedge run executes the first job (dataset, optimizer)", NULL},
    {"model_error", DE_KEY_LIST, 0, 0, 0, NULL, "", "sim: how far the true world is from the catalog the planner believes (what-if)", NULL},
};
static const de_key k_model_error[] = {
    {"device", DE_KEY_STRING, 0, 0, 0, NULL, "", "the device it applies to (or type, or link)", NULL},
    {"type", DE_KEY_STRING, 0, 0, 0, NULL, "", "every device of this catalog type", NULL},
    {"link", DE_KEY_STRING, 0, 0, 0, NULL, "", "the link it applies to (bandwidth only)", NULL},
    {"step", DE_KEY_FLOAT, 0, 0.01, 100, "1", "", "true step time = the catalog's x this", NULL},
    {"lc", DE_KEY_FLOAT, 0, 0.01, 100, "1", "", "true LC service time = the catalog's x this", NULL},
    {"bandwidth", DE_KEY_FLOAT, 0, 0.001, 100, "1", "", "true link bandwidth = the scenario's x this", NULL},
    {"drift_per_h", DE_KEY_FLOAT, 0, -0.99, 100, "0", "1/h", "each factor x (1 + drift_per_h x hours since the start)", NULL},
};
static const de_key k_link[] = {
    {"name", DE_KEY_STRING, 1, 0, 0, NULL, "", "unique link name", NULL},
    {"bandwidth_mbps", DE_KEY_FLOAT, 0, 1e-3, 1e7, NULL, "Mbit/s", "bandwidth device<->switch (required without class)", NULL},
    {"latency_ms", DE_KEY_FLOAT, 0, 0, 1e5, NULL, "ms", "one-way latency device<->switch (required without class)", NULL},
    {"class", DE_KEY_STRING, 0, 0, 0, NULL, "", "a measured link class of the catalog (links/CLASS.cfg, deepedge calibrate), instead of bandwidth_mbps and latency_ms: its fit at each rank count", NULL},
};
static const de_key k_device[] = {
    {"name", DE_KEY_STRING, 1, 0, 0, NULL, "", "unique device name", NULL},
    {"type", DE_KEY_STRING, 1, 0, 0, NULL, "", "device type from the catalog", NULL},
    {"link", DE_KEY_STRING, 1, 0, 0, NULL, "", "link name", NULL},
    {"host", DE_KEY_STRING, 0, 0, 0, NULL, "", "host name of the device for `deepedge run --hosts` (as mpiexec reaches it)", NULL},
};
static const de_key k_task[] = {
    {"name", DE_KEY_STRING, 1, 0, 0, NULL, "", "unique task name", NULL},
    {"device", DE_KEY_STRING, 1, 0, 0, NULL, "", "device it runs on", NULL},
    {"model", DE_KEY_STRING, 1, 0, 0, NULL, "", "LC inference model (catalog)", NULL},
    {"rate", DE_KEY_FLOAT, 0, 0, 1e6, NULL, "req/s", "constant Poisson request rate (or rate_trace)", NULL},
    {"rate_trace", DE_KEY_STRING, 0, 0, 0, NULL, "path", "CSV time_s,rate_rps, relative to this file (or rate)", NULL},
    {"deadline_ms", DE_KEY_FLOAT, 1, 1e-3, 1e7, NULL, "ms", "latency deadline at the percentile", NULL},
    {"percentile", DE_KEY_FLOAT, 0, 1, 99.999, "95", "%", "latency percentile the deadline applies to", NULL},
    {"service", DE_KEY_GROUP, 0, 0, 0, NULL, "", "deepedge run: observe an existing service instead of serving the model (the planner still predicts it as the model)", NULL},
};
static const de_key k_service[] = {
    {"probe", DE_KEY_STRING, 0, 0, 0, NULL, "", "http | tcp: deepedge sends the task's requests (open loop, at its rate) to address and times each reply", NULL},
    {"address", DE_KEY_STRING, 0, 0, 0, NULL, "HOST:PORT", "probe: where the service listens", NULL},
    {"path", DE_KEY_STRING, 0, 0, 0, "/", "", "probe http: the path requested (GET; a reply not 2xx counts as a failed request)", NULL},
    {"request", DE_KEY_STRING, 0, 0, 0, "ping", "", "probe tcp: the line sent; the reply is one line back", NULL},
    {"log", DE_KEY_STRING, 0, 0, 0, NULL, "path", "a latency log the service appends to, one request per line, relative to this file", NULL},
    {"column", DE_KEY_INT, 0, 1, 64, "1", "", "log: the whitespace-separated column holding the latency", NULL},
    {"metrics", DE_KEY_STRING, 0, 0, 0, NULL, "URL", "a Prometheus endpoint (http://HOST:PORT/PATH) with the service's latency histogram", NULL},
    {"histogram", DE_KEY_STRING, 0, 0, 0, NULL, "", "metrics: the histogram's name (its _bucket series, le in seconds)", NULL},
    {"unit", DE_KEY_STRING, 0, 0, 0, "ms", "", "log: unit of the latencies, s | ms | us", NULL},
    {"interval_s", DE_KEY_FLOAT, 0, 0.05, 3600, "1", "s", "metrics: scrape period; log: how often the file is read", NULL},
    {"pid_file", DE_KEY_STRING, 0, 0, 0, NULL, "path", "a file holding the service's pid: under cgroup emulation the service joins its device's CPU budget", NULL},
};
static const de_key k_job[] = {
    {"name", DE_KEY_STRING, 1, 0, 0, NULL, "", "unique job name", NULL},
    {"network", DE_KEY_STRING, 1, 0, 0, NULL, "", "network to re-train (catalog)", NULL},
    {"dataset_size", DE_KEY_INT, 1, 1, 1e12, NULL, "samples", "training samples per epoch", NULL},
    {"epochs", DE_KEY_INT, 1, 1, 1e6, NULL, "", "epochs", NULL},
    {"global_batch", DE_KEY_INT, 1, 1, 1e6, NULL, "samples", "global batch B (fixed; split among devices)", NULL},
    {"arrival_s", DE_KEY_FLOAT, 0, 0, 1e9, "0", "s", "time the job arrives", NULL},
    {"checkpoint_interval", DE_KEY_INT, 0, 1, 1e9, "100", "iterations", "iterations between checkpoints", NULL},
    {"checkpoint_cost_s", DE_KEY_FLOAT, 0, 0, 1e5, "1", "s", "time to write one checkpoint", NULL},
};
static const de_key k_planner[] = {
    {"policy", DE_KEY_STRING, 0, 0, 0, "deep-edge", "", "planning policy (`deepedge plan --policy list`; ext:COMMAND: a program, policies/README.md)", de_policy_list},
    {"safety_margin", DE_KEY_FLOAT, 0, 0, 0.9, "0.1", "", "LC latency must stay <= deadline * (1 - margin)", NULL},
    {"fastest_k", DE_KEY_INT, 0, 0, 1e6, "0", "devices", "k for fastest-k (0: the best k)", NULL},
    {"switch_gain", DE_KEY_FLOAT, 0, 0, 1, "0.05", "", "re-plan rule: switch plans when the new one is predicted this fraction faster, costs included", NULL},
    {"replan_cost_s", DE_KEY_FLOAT, 0, 0, 1e6, "0.5", "s", "re-plan rule: time to compute and distribute a plan", NULL},
    {"restart_cost_s", DE_KEY_FLOAT, 0, -1, 1e6, "-1", "s", "re-plan rule: time to restart the workers from a checkpoint (-1: the job's checkpoint_cost_s)", NULL},
    {"ext_timeout_s", DE_KEY_FLOAT, 0, 0.001, 86400, "5", "s", "an external policy (ext:COMMAND): longest wait for each of its messages", NULL},
    {"correction", DE_KEY_BOOL, 0, 0, 0, "false", "", "online correction: fit the models to what is measured while a plan runs, re-plan when they move (sim and run)", NULL},
    {"correction_forget", DE_KEY_FLOAT, 0, 0.01, 1, "0.95", "", "online correction: weight of the past per observation (recursive least squares)", NULL},
    {"correction_threshold", DE_KEY_FLOAT, 0, 0.001, 10, "0.1", "", "online correction: a factor that moved by this fraction is applied, and the plan reconsidered", NULL},
};
static const de_key k_fault[] = {
    {"kind", DE_KEY_STRING, 1, 0, 0, NULL, "", "what happens (`deepedge sim --inject list`)", de_change_kind_list},
    {"device", DE_KEY_STRING, 0, 0, 0, NULL, "", "device hit: crash, repair, slowdown (link-degrade: its link)", NULL},
    {"link", DE_KEY_STRING, 0, 0, 0, NULL, "", "link-degrade: the link (or device)", NULL},
    {"task", DE_KEY_STRING, 0, 0, 0, NULL, "", "lc-rate: the LC task", NULL},
    {"time_s", DE_KEY_FLOAT, 0, 0, 1e12, NULL, "s", "when (sim: simulated time; run: since training began); or iteration", NULL},
    {"iteration", DE_KEY_INT, 0, 0, 1e12, NULL, "", "when: once the running job has done this many iterations (instead of time_s)", NULL},
    {"repair_s", DE_KEY_FLOAT, 0, 0, 1e12, "inf", "s", "crash, slowdown, link-degrade at time_s: undone this long after (absent: never)", NULL},
    {"factor", DE_KEY_FLOAT, 0, 1e-3, 1, NULL, "", "slowdown: speed multiplier; link-degrade: bandwidth multiplier", NULL},
    {"rate", DE_KEY_FLOAT, 0, 0, 1e6, NULL, "req/s", "lc-rate: the new request rate", NULL},
};
static const de_key k_exec[] = {
    {"dataset", DE_KEY_STRING, 1, 0, 0, NULL, "path", "Caltech-layout folder (CLASS/IMAGE.jpg), relative to this file", NULL},
    {"synthesize", DE_KEY_BOOL, 0, 0, 0, "false", "", "generate a synthetic Caltech-layout folder there if it does not exist", NULL},
    {"synth_classes", DE_KEY_INT, 0, 2, 1000, "6", "", "synthesize: classes", NULL},
    {"synth_per_class", DE_KEY_INT, 0, 1, 100000, "60", "", "synthesize: images per class", NULL},
    {"image_size", DE_KEY_INT, 0, 0, 4096, "0", "pixels", "stored image size (0: 9/8 of the network input)", NULL},
    {"val_frac", DE_KEY_FLOAT, 0, 0, 0.9, "0.2", "", "fraction held out for validation", NULL},
    {"lr", DE_KEY_FLOAT, 0, 1e-9, 10, "0.05", "", "SGD learning rate (momentum and weight decay: the training engine's, train/de_train.h)", NULL},
    {"seed", DE_KEY_INT, 0, 0, 4294967295.0, "1", "", "initial weights, split, shuffling, augmentation, LC arrivals", NULL},
    {"augment", DE_KEY_BOOL, 0, 0, 0, "true", "", "random crop + horizontal flip", NULL},
    {"threads", DE_KEY_INT, 0, 1, 256, "1", "", "kernel threads of each worker and LC service", NULL},
    {"backend", DE_KEY_STRING, 0, 0, 0, "auto", "", "auto (CUDA on physical gpu/jetson devices when available) | cpu | cuda", NULL},
    {"weights", DE_KEY_STRING, 0, 0, 0, NULL, "path", "initial weights (`deepedge train --save-weights`), relative to this file: every layer of the file whose name and sizes match is loaded, the others (a new head) keep their start from seed (absent: all from seed)", NULL},
};

void de_scenario_print_keys(FILE *out)
{
    de_conf_print_table(out, "scenario (top level)", k_top, DE_NKEYS(k_top));
    de_conf_print_table(out, "links.[i]", k_link, DE_NKEYS(k_link));
    de_conf_print_table(out, "devices.[i]", k_device, DE_NKEYS(k_device));
    de_conf_print_table(out, "lc_tasks.[i]", k_task, DE_NKEYS(k_task));
    de_conf_print_table(out, "lc_tasks.[i].service", k_service, DE_NKEYS(k_service));
    de_conf_print_table(out, "jobs.[i]", k_job, DE_NKEYS(k_job));
    de_conf_print_table(out, "planner", k_planner, DE_NKEYS(k_planner));
    de_conf_print_table(out, "faults.[i]", k_fault, DE_NKEYS(k_fault));
    de_conf_print_table(out, "exec", k_exec, DE_NKEYS(k_exec));
    de_conf_print_table(out, "model_error.[i]", k_model_error, DE_NKEYS(k_model_error));
}

/* Which table a group or a list's elements follow: parent table, key, child table. */
static const struct {
    const de_key *parent;
    const char *name;
    const de_key *child;
    size_t n;
} k_nest[] = {
    {k_top, "links", k_link, DE_NKEYS(k_link)},         {k_top, "devices", k_device, DE_NKEYS(k_device)},
    {k_top, "lc_tasks", k_task, DE_NKEYS(k_task)},      {k_top, "jobs", k_job, DE_NKEYS(k_job)},
    {k_top, "planner", k_planner, DE_NKEYS(k_planner)}, {k_top, "faults", k_fault, DE_NKEYS(k_fault)},
    {k_top, "exec", k_exec, DE_NKEYS(k_exec)},          {k_task, "service", k_service, DE_NKEYS(k_service)},
    {k_top, "model_error", k_model_error, DE_NKEYS(k_model_error)},
};

const de_key *de_scenario_key(const char *path, const de_key **table, size_t *n)
{
    const de_key *t = k_top, *key = NULL;
    size_t tn = DE_NKEYS(k_top);
    int want_index = 0; /* the previous part was a list: an element [N] or [*] comes next */
    char *copy = de_strdup(path), *save = NULL;
    for (char *part = strtok_r(copy, ".", &save); part; part = strtok_r(NULL, ".", &save)) {
        int is_index = part[0] == '[';
        if (is_index != want_index) {
            key = NULL;
            t = NULL;
            break;
        }
        if (is_index) {
            want_index = 0;
            key = NULL; /* an element of a list: a group, not a key */
            continue;
        }
        if (!t || !(key = de_conf_key(t, tn, part))) {
            key = NULL;
            break;
        }
        const de_key *parent = t;
        t = NULL;
        tn = 0;
        for (size_t i = 0; i < DE_NKEYS(k_nest); i++)
            if (k_nest[i].parent == parent && strcmp(k_nest[i].name, part) == 0) {
                t = k_nest[i].child;
                tn = k_nest[i].n;
            }
        want_index = key->type == DE_KEY_LIST;
    }
    free(copy);
    if (table)
        *table = t;
    if (n)
        *n = t ? tn : 0;
    return key;
}

double de_scenario_restart_cost(const de_scenario *s, const de_planner_opts *o, int job)
{
    return o->restart_cost_s >= 0 ? o->restart_cost_s : s->jobs[job].checkpoint_cost_s;
}

/* "FILE:LINE: PATH" of a setting's member (or the setting itself when member is NULL). */
static void where_key(const config_setting_t *g, const char *member, char *buf, size_t n)
{
    const config_setting_t *m = member ? config_setting_get_member(g, member) : NULL;
    char where[512], path[512];
    de_conf_where(m ? m : g, where, sizeof where);
    de_conf_path(m ? m : g, path, sizeof path);
    if (member && !m)
        snprintf(buf, n, "%s: %s%s%s", where, path, path[0] ? "." : "", member);
    else
        snprintf(buf, n, "%s: %s", where, path);
}

static int ref_error(const config_setting_t *g, const char *member, const char *what, const char *name,
                     const char *known, de_err *err)
{
    char loc[1024];
    where_key(g, member, loc, sizeof loc);
    return de_err_set(err, DE_EREF, "%s: unknown %s '%s'%s%s%s", loc, what, name, known ? " (known: " : "",
                      known ? known : "", known ? ")" : "");
}

/* Comma-separated names for messages; static buffer. */
static char names_buf[512];
#define NAMES(arr, n) DE_NAMES_JOIN(arr, n, names_buf)

/* Fails with DE_EDUP when name is already in the index. */
static int unique(const config_setting_t *g, const char *what, const char *name, const de_strmap *ix, de_err *err)
{
    if (de_strmap_get(ix, name) < 0)
        return DE_OK;
    char loc[1024];
    where_key(g, "name", loc, sizeof loc);
    return de_err_set(err, DE_EDUP, "%s: %s '%s' is defined twice", loc, what, name);
}

static int load_links(de_scenario *s, config_setting_t *list, de_err *err)
{
    int n = config_setting_length(list);
    s->links = de_calloc((size_t)n + 1, sizeof *s->links);
    for (int i = 0; i < n; i++) {
        config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        const char *name, *cls;
        double bw, lat;
        int rc = de_conf_check_keys(g, k_link, DE_NKEYS(k_link), err);
        if (rc)
            return rc;
        DE_CONF_GET(string, g, k_link, "name", &name);
        DE_CONF_GET(float, g, k_link, "bandwidth_mbps", &bw);
        DE_CONF_GET(float, g, k_link, "latency_ms", &lat);
        DE_CONF_GET(string, g, k_link, "class", &cls);
        if ((rc = unique(g, "link", name, s->link_ix, err)))
            return rc;
        int has_bw = config_setting_get_member(g, "bandwidth_mbps") != NULL,
            has_lat = config_setting_get_member(g, "latency_ms") != NULL, c = -1;
        char loc[1024];
        if (cls) {
            if (has_bw || has_lat) {
                where_key(g, has_bw ? "bandwidth_mbps" : "latency_ms", loc, sizeof loc);
                return de_err_set(err, DE_EINVAL, "%s: link '%s' has a class ('%s'): its bandwidth and latency are the "
                                  "class's fit, not given here", loc, name, cls);
            }
            if ((c = de_catalog_link_class(s->catalog, cls)) < 0) {
                where_key(g, "class", loc, sizeof loc);
                return de_err_set(err, DE_EREF, "%s: '%s' is not a link class of the catalog %s (links/%s.cfg: "
                                  "deepedge calibrate writes it)", loc, cls, s->catalog->dir, cls);
            }
            bw = s->catalog->link_classes[c].bandwidth_Bps * 8.0 / 1e6;
            lat = s->catalog->link_classes[c].latency_s * 1e3;
        } else if (!has_bw || !has_lat) {
            where_key(g, has_bw ? "latency_ms" : "bandwidth_mbps", loc, sizeof loc);
            return de_err_set(err, DE_EMISSING, "%s: missing required key (link '%s' has no class: it needs "
                              "bandwidth_mbps and latency_ms)", loc, name);
        }
        s->links[i].name = de_strdup(name);
        de_strmap_put(s->link_ix, s->links[i].name, i);
        s->links[i].bandwidth_Bps = bw * 1e6 / 8.0;
        s->links[i].latency_s = lat * 1e-3;
        s->links[i].cls = c;
        s->n_links = i + 1;
    }
    return DE_OK;
}

static int load_devices(de_scenario *s, config_setting_t *list, de_err *err)
{
    const de_catalog *cat = s->catalog;
    int n = config_setting_length(list);
    s->devices = de_calloc((size_t)n + 1, sizeof *s->devices);
    for (int i = 0; i < n; i++) {
        config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        const char *name, *type, *link, *host;
        int rc = de_conf_check_keys(g, k_device, DE_NKEYS(k_device), err);
        if (rc)
            return rc;
        DE_CONF_GET(string, g, k_device, "name", &name);
        DE_CONF_GET(string, g, k_device, "type", &type);
        DE_CONF_GET(string, g, k_device, "link", &link);
        DE_CONF_GET(string, g, k_device, "host", &host);
        if ((rc = unique(g, "device", name, s->device_ix, err)))
            return rc;
        de_device *d = &s->devices[i];
        d->type = de_catalog_type(cat, type);
        if (d->type < 0)
            return ref_error(g, "type", "device type", type, NAMES(cat->types, cat->n_types), err);
        d->link = de_strmap_get(s->link_ix, link);
        if (d->link < 0)
            return ref_error(g, "link", "link", link, NAMES(s->links, s->n_links), err);
        d->name = de_strdup(name);
        d->host = de_strdup(host);
        de_strmap_put(s->device_ix, d->name, i);
        s->n_devices = i + 1;
    }
    return DE_OK;
}

static const char *const SERVICE_KINDS[] = {"", "probe http", "probe tcp", "log", "metrics"};

const char *de_lc_service_kind_name(de_lc_service_kind k)
{
    return (unsigned)k < sizeof SERVICE_KINDS / sizeof SERVICE_KINDS[0] ? SERVICE_KINDS[k] : "?";
}

/* An observed service (lc_tasks.[i].service): exactly one of probe, log and metrics, with
 * what that kind needs; paths resolved against the scenario's folder. */
static int load_service(config_setting_t *g, de_lc_service *v, const char *dir, de_err *err)
{
    memset(v, 0, sizeof *v);
    if (!g)
        return DE_OK;
    char loc[1024];
    const char *probe, *address, *path, *request, *log, *metrics, *histogram, *unit, *pid_file;
    long long column;
    int rc = de_conf_check_keys(g, k_service, DE_NKEYS(k_service), err);
    if (rc)
        return rc;
    DE_CONF_GET(string, g, k_service, "probe", &probe);
    DE_CONF_GET(string, g, k_service, "address", &address);
    DE_CONF_GET(string, g, k_service, "path", &path);
    DE_CONF_GET(string, g, k_service, "request", &request);
    DE_CONF_GET(string, g, k_service, "log", &log);
    DE_CONF_GET(int, g, k_service, "column", &column);
    DE_CONF_GET(string, g, k_service, "metrics", &metrics);
    DE_CONF_GET(string, g, k_service, "histogram", &histogram);
    DE_CONF_GET(string, g, k_service, "unit", &unit);
    DE_CONF_GET(float, g, k_service, "interval_s", &v->interval_s);
    DE_CONF_GET(string, g, k_service, "pid_file", &pid_file);
    if (!!probe + !!log + !!metrics != 1) {
        where_key(g, NULL, loc, sizeof loc);
        return de_err_set(err, DE_EMISSING, "%s: exactly one of 'probe' (http | tcp), 'log' (path) and 'metrics' (URL)",
                          loc);
    }
    if (probe) {
        if (strcmp(probe, "http") && strcmp(probe, "tcp")) {
            where_key(g, "probe", loc, sizeof loc);
            return de_err_set(err, DE_ERANGE, "%s: '%s' is not http or tcp", loc, probe);
        }
        if (!address || !strchr(address, ':')) {
            where_key(g, address ? "address" : NULL, loc, sizeof loc);
            return de_err_set(err, DE_EMISSING, "%s: probe %s needs address = \"HOST:PORT\"", loc, probe);
        }
        v->kind = probe[0] == 'h' ? DE_LC_SVC_HTTP : DE_LC_SVC_TCP;
    } else if (log) {
        double scale = strcmp(unit, "s") == 0 ? 1 : strcmp(unit, "ms") == 0 ? 1e-3 : strcmp(unit, "us") == 0 ? 1e-6 : 0;
        if (!scale) {
            where_key(g, "unit", loc, sizeof loc);
            return de_err_set(err, DE_ERANGE, "%s: '%s' is not s, ms or us", loc, unit);
        }
        v->kind = DE_LC_SVC_LOG;
        v->log = de_path_join(dir, log);
        v->column = (int)column;
        v->unit_s = scale;
    } else {
        if (strncmp(metrics, "http://", 7) != 0 || !histogram || !*histogram) {
            where_key(g, histogram ? "metrics" : NULL, loc, sizeof loc);
            return de_err_set(err, DE_EINVAL, "%s: metrics needs an http:// URL and histogram = \"NAME\"", loc);
        }
        v->kind = DE_LC_SVC_METRICS;
        v->histogram = de_strdup(histogram);
    }
    v->address = address ? de_strdup(address) : NULL;
    v->path = de_strdup(metrics ? metrics : path);
    v->request = de_strdup(request);
    v->pid_file = pid_file ? de_path_join(dir, pid_file) : NULL;
    return DE_OK;
}

/* A file the scenario reads (path owned by the list). */
static void add_input(de_scenario *s, char *path)
{
    s->inputs = de_realloc(s->inputs, (size_t)(s->n_inputs + 1) * sizeof *s->inputs);
    s->inputs[s->n_inputs++] = path;
}

static int load_task(de_scenario *s, config_setting_t *g, de_lc_task *t, const char *dir, de_err *err)
{
    const de_catalog *cat = s->catalog;
    const char *name, *dev, *model, *trace;
    double deadline_ms, pct;
    char loc[1024];
    int rc = de_conf_check_keys(g, k_task, DE_NKEYS(k_task), err);
    if (rc)
        return rc;
    DE_CONF_GET(string, g, k_task, "name", &name);
    DE_CONF_GET(string, g, k_task, "device", &dev);
    DE_CONF_GET(string, g, k_task, "model", &model);
    DE_CONF_GET(float, g, k_task, "rate", &t->rate);
    DE_CONF_GET(string, g, k_task, "rate_trace", &trace);
    DE_CONF_GET(float, g, k_task, "deadline_ms", &deadline_ms);
    DE_CONF_GET(float, g, k_task, "percentile", &pct);
    int has_rate = config_setting_get_member(g, "rate") != NULL;
    if (has_rate == (trace != NULL)) {
        where_key(g, NULL, loc, sizeof loc);
        return de_err_set(err, DE_EMISSING, "%s: exactly one of 'rate' (req/s) and 'rate_trace' (CSV path) is required",
                          loc);
    }
    t->device = de_strmap_get(s->device_ix, dev);
    if (t->device < 0)
        return ref_error(g, "device", "device", dev, NAMES(s->devices, s->n_devices), err);
    t->model = de_catalog_lc_model(cat, model);
    if (t->model < 0)
        return ref_error(g, "model", "LC model", model, NAMES(cat->lc_models, cat->n_lc_models), err);
    int type = s->devices[t->device].type;
    if (!de_catalog_infer(cat, type, t->model)) {
        where_key(g, "model", loc, sizeof loc);
        return de_err_set(err, DE_EREF, "%s: device type '%s' (of device '%s') has no inference model for '%s' in %s",
                          loc, cat->types[type].name, dev, model, cat->types[type].file);
    }
    if (trace) {
        char *p = de_path_join(dir, trace);
        de_err terr;
        rc = de_rate_trace_load(p, &t->trace, &terr);
        add_input(s, p);
        if (rc) {
            where_key(g, "rate_trace", loc, sizeof loc);
            return de_err_set(err, rc, "%s: %s", loc, terr.msg);
        }
    }
    t->name = de_strdup(name);
    t->deadline_s = deadline_ms * 1e-3;
    t->percentile = pct / 100.0;
    return load_service(config_setting_get_member(g, "service"), &t->svc, dir, err);
}

static int load_tasks(de_scenario *s, config_setting_t *list, const char *dir, de_err *err)
{
    int n = list ? config_setting_length(list) : 0;
    s->tasks = de_calloc((size_t)n + 1, sizeof *s->tasks);
    for (int i = 0; i < n; i++) {
        config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        const char *name = NULL;
        if (config_setting_lookup_string(g, "name", &name) == CONFIG_TRUE) {
            int rc = unique(g, "LC task", name, s->task_ix, err);
            if (rc)
                return rc;
        }
        s->n_tasks = i + 1; /* fields start zeroed: destroy copes with a partial entry */
        int rc = load_task(s, g, &s->tasks[i], dir, err);
        if (rc)
            return rc;
        de_strmap_put(s->task_ix, s->tasks[i].name, i);
    }
    /* Per-device index (CSR). */
    s->dev_task_start = de_calloc((size_t)s->n_devices + 1, sizeof(int));
    s->dev_tasks = de_calloc((size_t)s->n_tasks + 1, sizeof(int));
    for (int i = 0; i < s->n_tasks; i++)
        s->dev_task_start[s->tasks[i].device + 1]++;
    for (int d = 0; d < s->n_devices; d++)
        s->dev_task_start[d + 1] += s->dev_task_start[d];
    int *fill = de_calloc((size_t)s->n_devices + 1, sizeof(int));
    for (int i = 0; i < s->n_tasks; i++) {
        int d = s->tasks[i].device;
        s->dev_tasks[s->dev_task_start[d] + fill[d]++] = i;
    }
    free(fill);
    return DE_OK;
}

static int load_jobs(de_scenario *s, config_setting_t *list, de_err *err)
{
    const de_catalog *cat = s->catalog;
    int n = config_setting_length(list);
    if (n == 0) {
        char loc[1024];
        where_key(list, NULL, loc, sizeof loc);
        return de_err_set(err, DE_EMISSING, "%s: at least one job is required", loc);
    }
    s->jobs = de_calloc((size_t)n + 1, sizeof *s->jobs);
    for (int i = 0; i < n; i++) {
        config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        de_job *j = &s->jobs[i];
        const char *name, *net;
        long long ds, ep, gb, ci;
        int rc = de_conf_check_keys(g, k_job, DE_NKEYS(k_job), err);
        if (rc)
            return rc;
        DE_CONF_GET(string, g, k_job, "name", &name);
        DE_CONF_GET(string, g, k_job, "network", &net);
        DE_CONF_GET(int, g, k_job, "dataset_size", &ds);
        DE_CONF_GET(int, g, k_job, "epochs", &ep);
        DE_CONF_GET(int, g, k_job, "global_batch", &gb);
        DE_CONF_GET(float, g, k_job, "arrival_s", &j->arrival_s);
        DE_CONF_GET(int, g, k_job, "checkpoint_interval", &ci);
        DE_CONF_GET(float, g, k_job, "checkpoint_cost_s", &j->checkpoint_cost_s);
        if ((rc = unique(g, "job", name, s->job_ix, err)))
            return rc;
        j->network = de_catalog_network(cat, net);
        if (j->network < 0)
            return ref_error(g, "network", "network", net, NAMES(cat->networks, cat->n_networks), err);
        if (gb > ds) {
            char loc[1024];
            where_key(g, "global_batch", loc, sizeof loc);
            return de_err_set(err, DE_ERANGE, "%s: %lld exceeds dataset_size %lld", loc, gb, ds);
        }
        for (int d = 0; d < s->n_devices; d++) {
            int type = s->devices[d].type;
            if (!de_catalog_train(cat, type, j->network)) {
                char loc[1024];
                where_key(g, "network", loc, sizeof loc);
                return de_err_set(err, DE_EREF,
                                  "%s: device '%s' (type '%s') has no training model for network '%s' in %s", loc,
                                  s->devices[d].name, cat->types[type].name, net, cat->types[type].file);
            }
        }
        j->name = de_strdup(name);
        de_strmap_put(s->job_ix, j->name, i);
        j->dataset_size = ds;
        j->epochs = (int)ep;
        j->global_batch = (int)gb;
        j->checkpoint_interval = (int)ci;
        s->n_jobs = i + 1;
    }
    return DE_OK;
}

static int load_planner(de_scenario *s, config_setting_t *g, de_err *err)
{
    const char *policy;
    long long k;
    if (!g) {
        /* Defaults from the table. */
        de_policy_parse(DE_CONF_KEY(k_planner, "policy")->def, &s->planner.policy);
        s->planner.safety_margin = strtod(DE_CONF_KEY(k_planner, "safety_margin")->def, NULL);
        s->planner.fastest_k = 0;
        s->planner.switch_gain = strtod(DE_CONF_KEY(k_planner, "switch_gain")->def, NULL);
        s->planner.replan_cost_s = strtod(DE_CONF_KEY(k_planner, "replan_cost_s")->def, NULL);
        s->planner.restart_cost_s = strtod(DE_CONF_KEY(k_planner, "restart_cost_s")->def, NULL);
        s->planner.ext_timeout_s = strtod(DE_CONF_KEY(k_planner, "ext_timeout_s")->def, NULL);
        s->planner.correction = 0;
        s->planner.correction_forget = strtod(DE_CONF_KEY(k_planner, "correction_forget")->def, NULL);
        s->planner.correction_threshold = strtod(DE_CONF_KEY(k_planner, "correction_threshold")->def, NULL);
        return DE_OK;
    }
    int rc = de_conf_check_keys(g, k_planner, DE_NKEYS(k_planner), err);
    if (rc)
        return rc;
    /* Read without the fixed names: ext:COMMAND is not one; de_policy_parse checks it. */
    de_key policy_key = *DE_CONF_KEY(k_planner, "policy");
    policy_key.choices = NULL;
    rc = de_conf_get_string(g, &policy_key, &policy, err);
    if (rc)
        return rc;
    DE_CONF_GET(float, g, k_planner, "safety_margin", &s->planner.safety_margin);
    DE_CONF_GET(int, g, k_planner, "fastest_k", &k);
    DE_CONF_GET(float, g, k_planner, "switch_gain", &s->planner.switch_gain);
    DE_CONF_GET(float, g, k_planner, "replan_cost_s", &s->planner.replan_cost_s);
    DE_CONF_GET(float, g, k_planner, "restart_cost_s", &s->planner.restart_cost_s);
    DE_CONF_GET(float, g, k_planner, "ext_timeout_s", &s->planner.ext_timeout_s);
    DE_CONF_GET(bool, g, k_planner, "correction", &s->planner.correction);
    DE_CONF_GET(float, g, k_planner, "correction_forget", &s->planner.correction_forget);
    DE_CONF_GET(float, g, k_planner, "correction_threshold", &s->planner.correction_threshold);
    if ((rc = de_policy_parse(policy, &s->planner.policy))) {
        char loc[1024];
        where_key(g, "policy", loc, sizeof loc);
        if (rc == DE_ERANGE)
            return de_err_set(err, DE_ERANGE, "%s: '%s': more than %d external policies in this process", loc, policy,
                              DE_POLICY_EXT_MAX);
        return de_err_set(err, DE_ERANGE, "%s: unknown policy '%s' (known: %s)", loc, policy, de_policy_list());
    }
    s->planner.fastest_k = (int)k;
    return DE_OK;
}

/* Appends a change (and the repair that undoes it after repair_s, when finite). */
static void add_change(de_scenario *s, const de_change *c, double repair_s)
{
    s->changes = de_realloc(s->changes, (size_t)(s->n_changes + 2) * sizeof *s->changes);
    int at = s->n_changes;
    s->changes[s->n_changes++] = *c;
    if (isfinite(repair_s))
        s->changes[s->n_changes++] = de_change_repair_of(c, at, repair_s);
}

/* One entry of `faults`: its kind decides which target key and which value it takes. */
static int load_fault(de_scenario *s, config_setting_t *g, int i, de_err *err)
{
    const char *kind_s, *dev, *link, *task;
    double time_s, repair_s, factor, rate;
    long long iter;
    char loc[1024];
    int rc = de_conf_check_keys(g, k_fault, DE_NKEYS(k_fault), err);
    if (rc)
        return rc;
    DE_CONF_GET(string, g, k_fault, "kind", &kind_s);
    DE_CONF_GET(string, g, k_fault, "device", &dev);
    DE_CONF_GET(string, g, k_fault, "link", &link);
    DE_CONF_GET(string, g, k_fault, "task", &task);
    DE_CONF_GET(float, g, k_fault, "repair_s", &repair_s);
    de_change_kind kind;
    de_change_kind_parse(kind_s, &kind); /* the key's choices checked it */
    de_target_kind tk = de_change_target_kind(kind);
    de_value_kind vk = de_change_value_kind(kind);
    int has_time = config_setting_get_member(g, "time_s") != NULL;
    int has_iter = config_setting_get_member(g, "iteration") != NULL;
    int has_factor = config_setting_get_member(g, "factor") != NULL;
    int has_rate = config_setting_get_member(g, "rate") != NULL;
    int has_repair = config_setting_get_member(g, "repair_s") != NULL;
    if (kind == DE_CHANGE_JOB_ARRIVAL) {
        where_key(g, "kind", loc, sizeof loc);
        return de_err_set(err, DE_EINVAL, "%s: jobs arrive at their jobs.[i].arrival_s, not as a fault", loc);
    }
    if (DE_CHANGE_INTERNAL(kind)) {
        where_key(g, "kind", loc, sizeof loc);
        return de_err_set(err, DE_EINVAL, "%s: a %s change is made by the online correction, not a fault", loc, kind_s);
    }
    if (has_time == has_iter) {
        where_key(g, has_time ? "iteration" : "time_s", loc, sizeof loc);
        return de_err_set(err, has_time ? DE_EINVAL : DE_EMISSING, "%s: %s", loc,
                          has_time ? "give time_s or iteration, not both" : "missing required key (or iteration)");
    }
    /* the target */
    int target = -1;
    if (tk == DE_TARGET_TASK) {
        if (!task) {
            where_key(g, "task", loc, sizeof loc);
            return de_err_set(err, DE_EMISSING, "%s: an %s change needs the LC task", loc, kind_s);
        }
        if ((target = de_strmap_get(s->task_ix, task)) < 0)
            return ref_error(g, "task", "LC task", task, NAMES(s->tasks, s->n_tasks), err);
    } else if (tk == DE_TARGET_LINK && link) {
        if ((target = de_strmap_get(s->link_ix, link)) < 0)
            return ref_error(g, "link", "link", link, NAMES(s->links, s->n_links), err);
    } else if (dev) {
        if ((target = de_strmap_get(s->device_ix, dev)) < 0)
            return ref_error(g, "device", "device", dev, NAMES(s->devices, s->n_devices), err);
        if (tk == DE_TARGET_LINK)
            target = s->devices[target].link;
    } else {
        where_key(g, "device", loc, sizeof loc);
        return de_err_set(err, DE_EMISSING, "%s: a %s fault needs the %s", loc, kind_s,
                          tk == DE_TARGET_LINK ? "link (or a device on it)" : "device");
    }
    const char *stray = (tk != DE_TARGET_TASK && task) ? "task"
                        : (tk == DE_TARGET_TASK && dev) ? "device"
                        : (tk != DE_TARGET_LINK && link) ? "link"
                        : (tk == DE_TARGET_LINK && link && dev) ? "device" : NULL;
    if (stray) {
        where_key(g, stray, loc, sizeof loc);
        return de_err_set(err, DE_EINVAL, "%s: a %s fault takes no %s", loc, kind_s, stray);
    }
    /* the value */
    if (vk != DE_VALUE_FACTOR && has_factor) {
        where_key(g, "factor", loc, sizeof loc);
        return de_err_set(err, DE_EINVAL, "%s: a%s %s takes no factor", loc, kind == DE_CHANGE_LC_RATE ? "n" : "",
                          kind_s);
    }
    if (vk != DE_VALUE_RATE && has_rate) {
        where_key(g, "rate", loc, sizeof loc);
        return de_err_set(err, DE_EINVAL, "%s: a %s takes no rate", loc, kind_s);
    }
    if ((vk == DE_VALUE_FACTOR && !has_factor) || (vk == DE_VALUE_RATE && !has_rate)) {
        where_key(g, NULL, loc, sizeof loc);
        return de_err_set(err, DE_EMISSING, "%s.%s: a %s fault needs a %s", loc, vk == DE_VALUE_RATE ? "rate" : "factor",
                          kind_s, vk == DE_VALUE_RATE ? "rate in req/s" : "factor in [0.001, 1]");
    }
    DE_CONF_GET(float, g, k_fault, "factor", &factor);
    DE_CONF_GET(float, g, k_fault, "rate", &rate);
    if (has_repair && (!de_change_repairable(kind) || !has_time)) {
        where_key(g, "repair_s", loc, sizeof loc);
        return de_err_set(err, DE_EINVAL, "%s: %s", loc,
                          has_time ? "this kind is not undone by a repair_s (write a change that undoes it)"
                                   : "repair_s goes with time_s (with iteration, add a repair at a later iteration)");
    }
    de_change c;
    char origin[48];
    snprintf(origin, sizeof origin, "faults.[%d]", i);
    de_change_init(&c, kind, target, vk == DE_VALUE_FACTOR ? factor : vk == DE_VALUE_RATE ? rate : 0, origin);
    if (has_time) {
        DE_CONF_GET(float, g, k_fault, "time_s", &time_s);
        c.time_s = time_s;
    } else {
        DE_CONF_GET(int, g, k_fault, "iteration", &iter);
        c.iteration = (long)iter;
    }
    add_change(s, &c, repair_s);
    return DE_OK;
}

/* The rows of a fault trace (de_trace.h) as changes. */
static int load_fault_trace(de_scenario *s, config_setting_t *root, const char *file, const char *dir, de_err *err)
{
    char *path = de_path_join(dir, file);
    de_fault_trace *t = NULL;
    de_err terr;
    int rc = de_fault_trace_load(path, &t, &terr);
    add_input(s, de_strdup(path));
    if (rc) {
        char loc[1024];
        where_key(root, "fault_trace", loc, sizeof loc);
        rc = de_err_set(err, rc, "%s: %s", loc, terr.msg);
    }
    for (int i = 0; !rc && i < t->n; i++) {
        const de_fault_event *e = &t->events[i];
        int d = de_strmap_get(s->device_ix, e->device);
        if (d < 0) {
            char loc[1024];
            where_key(root, "fault_trace", loc, sizeof loc);
            rc = de_err_set(err, DE_EREF, "%s:%d: device: unknown device '%s' (in %s)", path, e->line, e->device, loc);
            break;
        }
        de_change c;
        char origin[48];
        snprintf(origin, sizeof origin, "fault_trace:%d", e->line);
        int link = de_change_target_kind(e->kind) == DE_TARGET_LINK;
        de_change_init(&c, e->kind, link ? s->devices[d].link : d, e->factor, origin);
        c.time_s = e->time_s;
        add_change(s, &c, e->repair_s);
    }
    de_fault_trace_destroy(t);
    free(path);
    return rc;
}

static int load_faults(de_scenario *s, config_setting_t *root, config_setting_t *list, const char *trace,
                       const char *dir, de_err *err)
{
    int n = list ? config_setting_length(list) : 0;
    s->changes = de_calloc(1, sizeof *s->changes);
    for (int i = 0; i < n; i++) {
        int rc = load_fault(s, config_setting_get_elem(list, (unsigned)i), i, err);
        if (rc)
            return rc;
    }
    return trace ? load_fault_trace(s, root, trace, dir, err) : DE_OK;
}

/* model_error.[i]: what it applies to (exactly one of device, type, link) and its factors. */
static int load_model_error(de_scenario *s, config_setting_t *g, de_model_error *e, de_err *err)
{
    const char *dev, *type, *link;
    int rc = de_conf_check_keys(g, k_model_error, DE_NKEYS(k_model_error), err);
    if (rc)
        return rc;
    DE_CONF_GET(string, g, k_model_error, "device", &dev);
    DE_CONF_GET(string, g, k_model_error, "type", &type);
    DE_CONF_GET(string, g, k_model_error, "link", &link);
    DE_CONF_GET(float, g, k_model_error, "step", &e->step);
    DE_CONF_GET(float, g, k_model_error, "lc", &e->lc);
    DE_CONF_GET(float, g, k_model_error, "bandwidth", &e->bandwidth);
    DE_CONF_GET(float, g, k_model_error, "drift_per_h", &e->drift_per_h);
    e->device = e->type = e->link = -1;
    char loc[1024];
    if ((dev != NULL) + (type != NULL) + (link != NULL) != 1) {
        where_key(g, NULL, loc, sizeof loc);
        return de_err_set(err, DE_EMISSING, "%s: name exactly one of device, type or link", loc);
    }
    if (dev && (e->device = de_strmap_get(s->device_ix, dev)) < 0)
        return ref_error(g, "device", "device", dev, NULL, err);
    if (type && (e->type = de_catalog_type(s->catalog, type)) < 0)
        return ref_error(g, "type", "device type", type, NULL, err);
    if (link && (e->link = de_strmap_get(s->link_ix, link)) < 0)
        return ref_error(g, "link", "link", link, NULL, err);
    if (link && (config_setting_get_member(g, "step") || config_setting_get_member(g, "lc"))) {
        where_key(g, config_setting_get_member(g, "step") ? "step" : "lc", loc, sizeof loc);
        return de_err_set(err, DE_EINVAL, "%s: a link's model error is its bandwidth only", loc);
    }
    if (!link && config_setting_get_member(g, "bandwidth")) {
        where_key(g, "bandwidth", loc, sizeof loc);
        return de_err_set(err, DE_EINVAL, "%s: bandwidth is a link's (name the link)", loc);
    }
    return DE_OK;
}

static int load_model_errors(de_scenario *s, config_setting_t *list, de_err *err)
{
    int n = list ? config_setting_length(list) : 0;
    s->model_errors = de_calloc((size_t)n + 1, sizeof *s->model_errors);
    for (int i = 0; i < n; i++) {
        int rc = load_model_error(s, config_setting_get_elem(list, (unsigned)i), &s->model_errors[i], err);
        if (rc)
            return rc;
        s->n_model_errors = i + 1;
    }
    return DE_OK;
}

static int load_exec(de_scenario *s, config_setting_t *g, const char *dir, de_err *err)
{
    de_exec_spec *e = &s->exec;
    if (!g)
        return DE_OK;
    const char *ds, *weights;
    long long classes, per_class, size, seed, threads;
    int rc = de_conf_check_keys(g, k_exec, DE_NKEYS(k_exec), err);
    if (rc)
        return rc;
    DE_CONF_GET(string, g, k_exec, "dataset", &ds);
    DE_CONF_GET(bool, g, k_exec, "synthesize", &e->synthesize);
    DE_CONF_GET(int, g, k_exec, "synth_classes", &classes);
    DE_CONF_GET(int, g, k_exec, "synth_per_class", &per_class);
    DE_CONF_GET(int, g, k_exec, "image_size", &size);
    DE_CONF_GET(float, g, k_exec, "val_frac", &e->val_frac);
    DE_CONF_GET(float, g, k_exec, "lr", &e->lr);
    DE_CONF_GET(int, g, k_exec, "seed", &seed);
    DE_CONF_GET(bool, g, k_exec, "augment", &e->augment);
    DE_CONF_GET(int, g, k_exec, "threads", &threads);
    DE_CONF_GET(string, g, k_exec, "weights", &weights);
    const char *backend;
    DE_CONF_GET(string, g, k_exec, "backend", &backend);
    if (strcmp(backend, "auto") && strcmp(backend, "cpu") && strcmp(backend, "cuda")) {
        char loc[1024];
        where_key(g, "backend", loc, sizeof loc);
        return de_err_set(err, DE_ERANGE, "%s: '%s' is not auto, cpu or cuda", loc, backend);
    }
    snprintf(e->backend, sizeof e->backend, "%s", backend);
    e->present = 1;
    e->dataset = de_path_join(dir, ds);
    e->weights = weights ? de_path_join(dir, weights) : NULL;
    if (e->weights)
        add_input(s, de_strdup(e->weights));
    e->synth_classes = (int)classes;
    e->synth_per_class = (int)per_class;
    e->image_size = (int)size;
    e->seed = (uint64_t)seed;
    e->threads = (int)threads;
    return DE_OK;
}

static int load_root(de_scenario *s, config_setting_t *root, const char *catalog_dir, de_err *err)
{
    const char *name, *desc, *catalog, *fault_trace;
    config_setting_t *links, *devices, *tasks, *jobs, *planner, *faults, *exec, *model_error;
    int rc = de_conf_check_keys(root, k_top, DE_NKEYS(k_top), err);
    if (rc)
        return rc;
    DE_CONF_GET(string, root, k_top, "name", &name);
    DE_CONF_GET(string, root, k_top, "description", &desc);
    DE_CONF_GET(string, root, k_top, "catalog", &catalog);
    DE_CONF_GET(setting, root, k_top, "links", &links);
    DE_CONF_GET(setting, root, k_top, "devices", &devices);
    DE_CONF_GET(setting, root, k_top, "lc_tasks", &tasks);
    DE_CONF_GET(setting, root, k_top, "jobs", &jobs);
    DE_CONF_GET(setting, root, k_top, "planner", &planner);
    DE_CONF_GET(setting, root, k_top, "faults", &faults);
    DE_CONF_GET(string, root, k_top, "fault_trace", &fault_trace);
    DE_CONF_GET(setting, root, k_top, "exec", &exec);
    DE_CONF_GET(setting, root, k_top, "model_error", &model_error);
    s->name = de_strdup(name);
    s->description = de_strdup(desc);

    char *dir = de_path_dirname(s->path);
    if (catalog_dir)
        s->catalog_dir = de_strdup(catalog_dir);
    else if (catalog)
        s->catalog_dir = de_path_join(dir, catalog);
    else
        s->catalog_dir = de_strdup(DE_DEFAULT_CATALOG);
    de_err cerr;
    rc = de_catalog_load(s->catalog_dir, &s->catalog, &cerr);
    if (rc) {
        char loc[1024];
        where_key(root, "catalog", loc, sizeof loc);
        rc = de_err_set(err, rc, "%s: catalog %s: %s", loc, s->catalog_dir, cerr.msg);
    }
    if (!rc)
        rc = load_links(s, links, err);
    if (!rc)
        rc = load_devices(s, devices, err);
    if (!rc)
        rc = load_tasks(s, tasks, dir, err);
    if (!rc)
        rc = load_jobs(s, jobs, err);
    if (!rc)
        rc = load_planner(s, planner, err);
    if (!rc)
        rc = load_faults(s, root, faults, fault_trace, dir, err);
    if (!rc)
        rc = load_exec(s, exec, dir, err);
    if (!rc)
        rc = load_model_errors(s, model_error, err);
    free(dir);
    if (!rc && s->n_devices == 0) {
        char loc[1024];
        where_key(root, "devices", loc, sizeof loc);
        rc = de_err_set(err, DE_EMISSING, "%s: at least one device is required", loc);
    }
    return rc;
}

/* Loads from a file (text NULL) or from text standing for file `path`. */
static int load(const char *path, const char *text, const char *catalog_dir, de_scenario **out, de_err *err)
{
    *out = NULL;
    de_scenario *s = de_calloc(1, sizeof *s);
    s->path = de_strdup(path);
    if (!text)
        add_input(s, de_strdup(path));
    s->link_ix = de_strmap_create(16);
    s->device_ix = de_strmap_create(64);
    s->task_ix = de_strmap_create(64);
    s->job_ix = de_strmap_create(4);
    config_t cfg;
    int rc = text ? de_conf_read_string(&cfg, text, s->path, err) : de_conf_read(&cfg, path, err);
    if (!rc)
        rc = load_root(s, config_root_setting(&cfg), catalog_dir, err);
    config_destroy(&cfg);
    if (!rc && text)
        s->checksum = de_fnv1a64(text, strlen(text), DE_FNV1A64_INIT);
    else if (!rc && de_file_checksum(path, &s->checksum))
        rc = de_err_set(err, DE_EIO, "%s: cannot read", path);
    if (rc) {
        de_scenario_destroy(s);
        return rc;
    }
    *out = s;
    return DE_OK;
}

int de_scenario_load(const char *path, const char *catalog_dir, de_scenario **out, de_err *err)
{
    return load(path, NULL, catalog_dir, out, err);
}

int de_scenario_load_text(const char *text, const char *name, const char *catalog_dir, de_scenario **out, de_err *err)
{
    return load(name, text, catalog_dir, out, err);
}

int de_scenario_load_config(config_t *cfg, const char *name, const char *catalog_dir, de_scenario **out, de_err *err)
{
    *out = NULL;
    de_scenario *s = de_calloc(1, sizeof *s);
    s->path = de_strdup(name);
    s->link_ix = de_strmap_create(16);
    s->device_ix = de_strmap_create(64);
    s->task_ix = de_strmap_create(64);
    s->job_ix = de_strmap_create(4);
    int rc = load_root(s, config_root_setting(cfg), catalog_dir, err);
    if (!rc) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        rc = f ? de_conf_write(f, config_root_setting(cfg)) : DE_EIO;
        if (f)
            fclose(f);
        if (rc)
            de_err_set(err, rc, "%s: cannot write the configuration out for its checksum", name);
        else
            s->checksum = de_fnv1a64(text, len, DE_FNV1A64_INIT);
        free(text);
    }
    if (rc) {
        de_scenario_destroy(s);
        return rc;
    }
    *out = s;
    return DE_OK;
}

void de_scenario_destroy(de_scenario *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n_links; i++)
        free(s->links[i].name);
    for (int i = 0; i < s->n_devices; i++) {
        free(s->devices[i].name);
        free(s->devices[i].host);
    }
    for (int i = 0; i < s->n_tasks; i++) {
        free(s->tasks[i].name);
        de_rate_trace_destroy(s->tasks[i].trace);
        de_lc_service *v = &s->tasks[i].svc;
        free(v->address), free(v->path), free(v->request), free(v->log), free(v->histogram), free(v->pid_file);
    }
    for (int i = 0; i < s->n_jobs; i++)
        free(s->jobs[i].name);
    free(s->links);
    free(s->devices);
    free(s->tasks);
    free(s->dev_task_start);
    free(s->dev_tasks);
    free(s->jobs);
    free(s->changes);
    free(s->model_errors);
    de_catalog_destroy(s->catalog);
    de_strmap_destroy(s->link_ix);
    de_strmap_destroy(s->device_ix);
    de_strmap_destroy(s->task_ix);
    de_strmap_destroy(s->job_ix);
    free(s->path);
    free(s->name);
    free(s->description);
    free(s->catalog_dir);
    free(s->exec.dataset);
    free(s->exec.weights);
    for (int i = 0; i < s->n_inputs; i++)
        free(s->inputs[i]);
    free(s->inputs);
    free(s);
}

int de_scenario_device(const de_scenario *s, const char *name)
{
    return de_strmap_get(s->device_ix, name);
}

int de_scenario_job(const de_scenario *s, const char *name)
{
    return de_strmap_get(s->job_ix, name);
}

void de_scenario_print(const de_scenario *s, FILE *out)
{
    const de_catalog *cat = s->catalog;
    fprintf(out, "scenario  %s  (%s, checksum %016llx)\n", s->name, s->path, (unsigned long long)s->checksum);
    if (s->description && s->description[0])
        fprintf(out, "          %s\n", s->description);
    fprintf(out, "catalog   %s (%d device types)\n", s->catalog_dir, cat->n_types);
    fprintf(out, "planner   policy=%s safety_margin=%g fastest_k=%d switch_gain=%g replan_cost_s=%g restart_cost_s=%g "
                 "ext_timeout_s=%g\n",
            de_policy_name(s->planner.policy), s->planner.safety_margin, s->planner.fastest_k, s->planner.switch_gain,
            s->planner.replan_cost_s, s->planner.restart_cost_s, s->planner.ext_timeout_s);
    fprintf(out, "\nlinks (%d)\n", s->n_links);
    for (int i = 0; i < s->n_links; i++)
        fprintf(out, "  %-16s bandwidth %10.1f Mbit/s  latency %8.3f ms\n", s->links[i].name,
                s->links[i].bandwidth_Bps * 8e-6, s->links[i].latency_s * 1e3);
    fprintf(out, "\ndevices (%d)\n", s->n_devices);
    for (int i = 0; i < s->n_devices; i++)
        fprintf(out, "  %-16s type %-18s link %s%s%s\n", s->devices[i].name, cat->types[s->devices[i].type].name,
                s->links[s->devices[i].link].name, s->devices[i].host ? "  host " : "",
                s->devices[i].host ? s->devices[i].host : "");
    fprintf(out, "\nLC tasks (%d)\n", s->n_tasks);
    for (int i = 0; i < s->n_tasks; i++) {
        const de_lc_task *t = &s->tasks[i];
        char rate[600];
        if (t->trace)
            snprintf(rate, sizeof rate, "trace %s (%d rows, peak %.2f req/s)", t->trace->path, t->trace->n,
                     de_rate_trace_peak(t->trace));
        else
            snprintf(rate, sizeof rate, "%.3f req/s", t->rate);
        fprintf(out, "  %-16s on %-14s model %-12s deadline %8.2f ms at p%g  rate %s\n", t->name,
                s->devices[t->device].name, cat->lc_models[t->model].name, t->deadline_s * 1e3,
                t->percentile * 100, rate);
    }
    fprintf(out, "\njobs (%d)\n", s->n_jobs);
    for (int i = 0; i < s->n_jobs; i++) {
        const de_job *j = &s->jobs[i];
        fprintf(out,
                "  %-16s network %-12s dataset %lld samples x %d epochs, global batch %d, arrival %g s, "
                "checkpoint every %d it (%g s)\n",
                j->name, cat->networks[j->network].name, j->dataset_size, j->epochs, j->global_batch, j->arrival_s,
                j->checkpoint_interval, j->checkpoint_cost_s);
    }
    fprintf(out, "\nfaults and load changes (%d)\n", s->n_changes);
    for (int i = 0; i < s->n_changes; i++) {
        const de_change *c = &s->changes[i];
        char what[256], when[64];
        de_change_describe(c, s, what, sizeof what);
        if (c->iteration >= 0)
            snprintf(when, sizeof when, "after iteration %ld", c->iteration);
        else
            snprintf(when, sizeof when, "at %.1f s", c->time_s);
        fprintf(out, "  %-40s %-22s (%s%s)\n", what, when, c->origin, c->ends >= 0 ? ", its repair_s" : "");
    }
    const de_exec_spec *e = &s->exec;
    if (e->present)
        fprintf(out,
                "\nexec      dataset %s%s (synthetic %d x %d), image size %d, val %.2f, lr %g, seed %llu, "
                "augment %s, %d thread(s), backend %s\n",
                e->dataset, e->synthesize ? " (synthesized if missing)" : "", e->synth_classes, e->synth_per_class,
                e->image_size, e->val_frac, e->lr, (unsigned long long)e->seed, e->augment ? "yes" : "no",
                e->threads, e->backend);
    if (e->present && e->weights)
        fprintf(out, "          initial weights %s\n", e->weights);
}
