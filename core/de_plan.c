/* de_plan.c — plan type, evaluation, printing and the plan file (see de_plan.h). */
#include "de_plan.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "de_conf.h"
#include "de_util.h"

void de_plan_init(de_plan *p)
{
    memset(p, 0, sizeof *p);
}

void de_plan_free(de_plan *p)
{
    if (!p)
        return;
    free(p->shares);
    free(p->tasks);
    free(p->verdict);
    de_plan_init(p);
}

void de_plan_copy(de_plan *dst, const de_plan *src)
{
    de_plan_free(dst);
    *dst = *src;
    dst->shares = de_calloc((size_t)src->n_shares + 1, sizeof *dst->shares);
    if (src->n_shares)
        memcpy(dst->shares, src->shares, (size_t)src->n_shares * sizeof *dst->shares);
    dst->tasks = de_calloc((size_t)src->n_tasks + 1, sizeof *dst->tasks);
    if (src->n_tasks)
        memcpy(dst->tasks, src->tasks, (size_t)src->n_tasks * sizeof *dst->tasks);
    dst->verdict = de_strdup(src->verdict);
}

static int cmp_share(const void *a, const void *b)
{
    const de_plan_share *x = a, *y = b;
    return (x->device > y->device) - (x->device < y->device);
}

void de_plan_set_shares(de_plan *p, const int *devices, const int *batches, int n)
{
    free(p->shares);
    p->shares = de_calloc((size_t)n + 1, sizeof *p->shares);
    p->n_shares = 0;
    for (int i = 0; i < n; i++)
        if (batches[i] > 0) {
            p->shares[p->n_shares].device = devices[i];
            p->shares[p->n_shares].batch = batches[i];
            p->n_shares++;
        }
    qsort(p->shares, (size_t)p->n_shares, sizeof *p->shares, cmp_share);
}

void de_plan_note(de_plan *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    size_t old = p->verdict ? strlen(p->verdict) : 0;
    p->verdict = de_realloc(p->verdict, old + (size_t)n + 2);
    if (old)
        p->verdict[old++] = '\n';
    va_start(ap, fmt);
    vsnprintf(p->verdict + old, (size_t)n + 1, fmt, ap);
    va_end(ap);
}

void de_plan_evaluate(de_plan *p, const de_state *st, const de_predictor *pred, double margin)
{
    const de_scenario *s = st->scen;
    const de_job *job = &s->jobs[p->job];
    const de_network *net = &s->catalog->networks[job->network];
    p->global_batch = job->global_batch;

    int *devs = de_calloc((size_t)p->n_shares + 1, sizeof(int));
    int sum = 0;
    double tmax = 0.0;
    for (int i = 0; i < p->n_shares; i++) {
        de_plan_share *sh = &p->shares[i];
        devs[i] = sh->device;
        sh->step_time_s = pred->ops->step_time(pred->ctx, st, sh->device, job->network, sh->batch);
        if (sh->step_time_s > tmax)
            tmax = sh->step_time_s;
        sum += sh->batch;
    }
    p->compute_time_s = tmax;
    p->allreduce_time_s = pred->ops->allreduce_time(pred->ctx, st, devs, p->n_shares, net->gradient_bytes);
    p->iteration_time_s = p->n_shares ? tmax + p->allreduce_time_s : INFINITY;
    for (int i = 0; i < p->n_shares; i++) /* a step that never ends computes all the time */
        p->shares[i].duty_cycle =
            isfinite(p->shares[i].step_time_s) ? p->shares[i].step_time_s / p->iteration_time_s : 1.0;

    double total = (double)job->dataset_size * job->epochs;
    double left = total - st->samples_done[p->job];
    if (left < 0)
        left = 0;
    p->iterations = (long long)ceil(left / job->global_batch);
    /* Checkpoints at the job's iterations k = K, 2K, ... strictly between the one done
     * and the last (after the last the job is done): floor((n-1)/K) - floor(done/K). */
    long long done_it = (long long)floor(st->samples_done[p->job] / job->global_batch);
    long long n_it = done_it + p->iterations, K = job->checkpoint_interval;
    long long ckpts = n_it > 0 ? (n_it - 1) / K - done_it / K : 0;
    if (ckpts < 0)
        ckpts = 0;
    p->retraining_time_s = p->n_shares ? (double)p->iterations * p->iteration_time_s + (double)ckpts * job->checkpoint_cost_s
                                       : INFINITY;

    /* LC tasks: every device, training or not. */
    free(p->tasks);
    p->n_tasks = s->n_tasks;
    p->tasks = de_calloc((size_t)s->n_tasks + 1, sizeof *p->tasks);
    double *lat = de_calloc((size_t)s->n_tasks + 1, sizeof(double));
    p->violations = 0;
    p->over_margin = 0;
    for (int d = 0; d < s->n_devices; d++) {
        int first = s->dev_task_start[d], n = s->dev_task_start[d + 1] - first;
        if (n == 0)
            continue;
        int batch = 0;
        double duty = 0.0;
        for (int i = 0; i < p->n_shares; i++)
            if (p->shares[i].device == d) {
                batch = p->shares[i].batch;
                duty = p->shares[i].duty_cycle;
            }
        pred->ops->lc_latency(pred->ctx, st, d, job->network, batch, duty, lat);
        for (int k = 0; k < n; k++) {
            int ti = s->dev_tasks[first + k];
            de_plan_task *pt = &p->tasks[ti];
            pt->task = ti;
            pt->device = d;
            pt->rate = st->rate[ti];
            pt->latency_s = lat[k];
            pt->deadline_s = s->tasks[ti].deadline_s;
            pt->limit_s = pt->deadline_s * (1.0 - margin);
            pt->slack_s = pt->deadline_s - pt->latency_s;
            pt->violated = !(pt->latency_s <= pt->deadline_s);
            pt->over_margin = !(pt->latency_s <= pt->limit_s);
            p->violations += pt->violated;
            p->over_margin += pt->over_margin;
        }
    }
    free(lat);
    free(devs);
    p->feasible = p->n_shares > 0 && sum == job->global_batch && p->over_margin == 0;
}

static void fmt_time(char *buf, size_t n, double s)
{
    if (!isfinite(s))
        snprintf(buf, n, "inf");
    else if (s >= 3600)
        snprintf(buf, n, "%.2f h", s / 3600);
    else if (s >= 60)
        snprintf(buf, n, "%.1f min", s / 60);
    else if (s >= 1)
        snprintf(buf, n, "%.3f s", s);
    else
        snprintf(buf, n, "%.1f ms", s * 1e3);
}

void de_plan_print(const de_plan *p, const de_state *st, FILE *out)
{
    const de_scenario *s = st->scen;
    const de_catalog *cat = s->catalog;
    const de_job *job = &s->jobs[p->job];
    fprintf(out, "plan  policy %s  job %s (%s, B=%d, %lld samples x %d epochs)\n", de_policy_name(p->policy), job->name,
            cat->networks[job->network].name, job->global_batch, job->dataset_size, job->epochs);
    fprintf(out, "%-14s %-18s %6s %6s %10s %6s  %-14s %10s %10s %9s\n", "device", "type", "batch", "share", "step",
            "duty", "LC task", "latency", "deadline", "slack");
    for (int d = 0; d < s->n_devices; d++) {
        const de_plan_share *sh = NULL;
        for (int i = 0; i < p->n_shares; i++)
            if (p->shares[i].device == d)
                sh = &p->shares[i];
        char step[32] = "-", duty[16] = "-", batch[16] = "-", share[16] = "-";
        if (sh) {
            fmt_time(step, sizeof step, sh->step_time_s);
            snprintf(duty, sizeof duty, "%.2f", sh->duty_cycle);
            snprintf(batch, sizeof batch, "%d", sh->batch);
            snprintf(share, sizeof share, "%.1f%%", 100.0 * sh->batch / p->global_batch);
        } else if (!st->up[d]) {
            snprintf(batch, sizeof batch, "down");
        }
        int first = s->dev_task_start[d], n = s->dev_task_start[d + 1] - first;
        for (int k = 0; k < (n ? n : 1); k++) {
            const char *tn = "", *flag = "";
            char lat[32] = "", dl[32] = "", slack[32] = "";
            if (n) {
                const de_plan_task *pt = &p->tasks[s->dev_tasks[first + k]];
                tn = s->tasks[pt->task].name;
                fmt_time(lat, sizeof lat, pt->latency_s);
                fmt_time(dl, sizeof dl, pt->deadline_s);
                if (isfinite(pt->slack_s))
                    snprintf(slack, sizeof slack, "%+.1f ms", pt->slack_s * 1e3);
                else
                    snprintf(slack, sizeof slack, "-inf");
                flag = pt->violated ? "  VIOLATED" : (pt->over_margin ? "  (inside margin)" : "");
            }
            if (k == 0)
                fprintf(out, "%-14s %-18s %6s %6s %10s %6s  %-14s %10s %10s %9s%s\n", s->devices[d].name,
                        cat->types[s->devices[d].type].name, batch, share, step, duty, tn, lat, dl, slack, flag);
            else
                fprintf(out, "%-14s %-18s %6s %6s %10s %6s  %-14s %10s %10s %9s%s\n", "", "", "", "", "", "", tn, lat,
                        dl, slack, flag);
        }
    }
    char it[32], comp[32], ar[32], rt[32];
    fmt_time(it, sizeof it, p->iteration_time_s);
    fmt_time(comp, sizeof comp, p->compute_time_s);
    fmt_time(ar, sizeof ar, p->allreduce_time_s);
    fmt_time(rt, sizeof rt, p->retraining_time_s);
    fprintf(out, "devices %d of %d   iteration %s (compute %s + all-reduce %s)   %lld iterations   re-training %s\n",
            p->n_shares, s->n_devices, it, comp, ar, p->iterations, rt);
    fprintf(out, "LC violations %d (over deadline), %d over deadline - margin   %s\n", p->violations, p->over_margin,
            p->feasible ? "FEASIBLE: every LC task within its deadline and margin" : "NOT FEASIBLE");
    if (p->verdict)
        fprintf(out, "%s\n", p->verdict);
}


/* The checksum of what decides a plan: FNV-1a 64 of one canonical line of the version,
 * the scenario's checksum, the job, the policy, the global batch and the shares in order.
 * The writer and the reader compute it alike, from the values, not from the text. */
static uint64_t plan_digest(const char *scen_sum, const char *job, const char *policy, long long gb,
                            const char *const *devs, const long long *batches, int n)
{
    char head[512];
    int k = snprintf(head, sizeof head, "deepedge plan %d|%s|%s|%s|%lld", DE_PLAN_VERSION, scen_sum, job, policy, gb);
    uint64_t h = de_fnv1a64(head, (size_t)(k < (int)sizeof head ? k : (int)sizeof head - 1), DE_FNV1A64_INIT);
    for (int i = 0; i < n; i++) {
        char b[32];
        int m = snprintf(b, sizeof b, ":%lld", batches[i]);
        h = de_fnv1a64("|", 1, h);
        h = de_fnv1a64(devs[i], strlen(devs[i]), h);
        h = de_fnv1a64(b, (size_t)m, h);
    }
    return h;
}

int de_plan_write(const de_plan *p, const de_state *st, const char *path, de_err *err)
{
    const de_scenario *s = st->scen;
    config_t cfg;
    config_init(&cfg);
    config_setting_t *root = config_root_setting(&cfg);
    config_setting_t *g = config_setting_add(root, "plan", CONFIG_TYPE_GROUP);
    char sum[32];
    snprintf(sum, sizeof sum, "%016" PRIx64, s->checksum);
    config_setting_set_int(config_setting_add(g, "version", CONFIG_TYPE_INT), DE_PLAN_VERSION);
    config_setting_set_string(config_setting_add(g, "scenario", CONFIG_TYPE_STRING), s->path);
    config_setting_set_string(config_setting_add(g, "scenario_name", CONFIG_TYPE_STRING), s->name);
    config_setting_set_string(config_setting_add(g, "scenario_checksum", CONFIG_TYPE_STRING), sum);
    config_setting_set_string(config_setting_add(g, "job", CONFIG_TYPE_STRING), s->jobs[p->job].name);
    config_setting_set_string(config_setting_add(g, "policy", CONFIG_TYPE_STRING), de_policy_name(p->policy));
    config_setting_set_int(config_setting_add(g, "global_batch", CONFIG_TYPE_INT), p->global_batch);
    config_setting_t *shares = config_setting_add(g, "shares", CONFIG_TYPE_LIST);
    for (int i = 0; i < p->n_shares; i++) {
        config_setting_t *e = config_setting_add(shares, NULL, CONFIG_TYPE_GROUP);
        config_setting_set_string(config_setting_add(e, "device", CONFIG_TYPE_STRING), s->devices[p->shares[i].device].name);
        config_setting_set_int(config_setting_add(e, "batch", CONFIG_TYPE_INT), p->shares[i].batch);
    }
    const char **names = de_calloc((size_t)p->n_shares + 1, sizeof *names);
    long long *batches = de_calloc((size_t)p->n_shares + 1, sizeof *batches);
    for (int i = 0; i < p->n_shares; i++) {
        names[i] = s->devices[p->shares[i].device].name;
        batches[i] = p->shares[i].batch;
    }
    char digest[40];
    snprintf(digest, sizeof digest, "fnv1a64:%016" PRIx64,
             plan_digest(sum, s->jobs[p->job].name, de_policy_name(p->policy), p->global_batch, names, batches,
                         p->n_shares));
    free(names);
    free(batches);
    config_setting_set_string(config_setting_add(g, "checksum", CONFIG_TYPE_STRING), digest);
    config_setting_t *pr = config_setting_add(g, "predicted", CONFIG_TYPE_GROUP);
    config_setting_set_bool(config_setting_add(pr, "feasible", CONFIG_TYPE_BOOL), p->feasible);
    config_setting_set_int(config_setting_add(pr, "violations", CONFIG_TYPE_INT), p->violations);
    config_setting_set_float(config_setting_add(pr, "iteration_time_s", CONFIG_TYPE_FLOAT),
                             isfinite(p->iteration_time_s) ? p->iteration_time_s : -1.0);
    config_setting_set_float(config_setting_add(pr, "retraining_time_s", CONFIG_TYPE_FLOAT),
                             isfinite(p->retraining_time_s) ? p->retraining_time_s : -1.0);

    /* The text in memory, then one atomic write (a reader never sees half a plan). */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    int rc = DE_OK;
    if (!f) {
        rc = de_err_set(err, DE_EIO, "%s: cannot write plan file: out of memory", path);
    } else {
        fprintf(f, "# deepedge plan (version %d): written by `deepedge plan`, loaded unchanged by sim and run.\n"
                   "# Only `shares` decides the plan; `predicted` is recomputed by every reader. `checksum`\n"
                   "# covers what decides it: a damaged file is refused; after an edit by hand, delete it.\n",
                DE_PLAN_VERSION);
        config_write(&cfg, f);
        if (fclose(f) != 0)
            rc = de_err_set(err, DE_EIO, "%s: cannot write plan file: out of memory", path);
        else
            rc = de_file_write_atomic(path, text, len, err);
    }
    free(text);
    config_destroy(&cfg);
    return rc;
}

static const de_key k_plan_top[] = {
    {"plan", DE_KEY_GROUP, 1, 0, 0, NULL, "", "the plan", NULL},
};
static const de_key k_plan[] = {
    {"version", DE_KEY_INT, 1, 1, 1e6, NULL, "", "plan format version", NULL},
    {"scenario", DE_KEY_STRING, 1, 0, 0, NULL, "path", "scenario it was made for", NULL},
    {"scenario_name", DE_KEY_STRING, 1, 0, 0, NULL, "", "its name", NULL},
    {"scenario_checksum", DE_KEY_STRING, 1, 0, 0, NULL, "hex", "FNV-1a 64 of the scenario file", NULL},
    {"job", DE_KEY_STRING, 1, 0, 0, NULL, "", "job name", NULL},
    {"policy", DE_KEY_STRING, 1, 0, 0, NULL, "", "policy that made it", de_policy_list},
    {"global_batch", DE_KEY_INT, 1, 1, 1e6, NULL, "samples", "B", NULL},
    {"shares", DE_KEY_LIST, 1, 0, 0, NULL, "", "device/batch pairs", NULL},
    {"checksum", DE_KEY_STRING, 0, 0, 0, NULL, "fnv1a64:hex",
     "of the version, scenario checksum, job, policy, global batch and shares (absent: not checked, a plan "
     "written or edited by hand)", NULL},
    {"predicted", DE_KEY_GROUP, 0, 0, 0, NULL, "", "informational predictions", NULL},
};
static const de_key k_share[] = {
    {"device", DE_KEY_STRING, 1, 0, 0, NULL, "", "device name", NULL},
    {"batch", DE_KEY_INT, 1, 1, 1e6, NULL, "samples", "local batch", NULL},
};

static int plan_err(const config_setting_t *g, const char *member, int code, const char *what, de_err *err)
{
    const config_setting_t *m = member ? config_setting_get_member(g, member) : NULL;
    char where[512], path[512];
    de_conf_where(m ? m : g, where, sizeof where);
    de_conf_path(m ? m : g, path, sizeof path);
    return de_err_set(err, code, "%s: %s: %s", where, path, what);
}

static int read_plan(config_setting_t *root, const de_scenario *s, de_plan *p, de_err *err)
{
    config_setting_t *g, *shares;
    long long version, gb;
    const char *sum, *job, *policy, *sname;
    const char *scen_path;
    int rc;
    de_key policy_key = *DE_CONF_KEY(k_plan, "policy");
    policy_key.choices = NULL; /* ext:COMMAND is not one of the fixed names: de_policy_parse checks it */
    if ((rc = de_conf_check_keys(root, k_plan_top, DE_NKEYS(k_plan_top), err)) ||
        (rc = de_conf_get_setting(root, DE_CONF_KEY(k_plan_top, "plan"), &g, err)) ||
        (rc = de_conf_check_keys(g, k_plan, DE_NKEYS(k_plan), err)) ||
        (rc = de_conf_get_int(g, DE_CONF_KEY(k_plan, "version"), &version, err)))
        return rc;
    if (version != DE_PLAN_VERSION)
        return plan_err(g, "version", DE_EVERSION, "unsupported plan version (this program reads version 1)", err);
    if ((rc = de_conf_get_string(g, DE_CONF_KEY(k_plan, "scenario"), &scen_path, err)) ||
        (rc = de_conf_get_string(g, DE_CONF_KEY(k_plan, "scenario_name"), &sname, err)) ||
        (rc = de_conf_get_string(g, DE_CONF_KEY(k_plan, "scenario_checksum"), &sum, err)) ||
        (rc = de_conf_get_string(g, DE_CONF_KEY(k_plan, "job"), &job, err)) ||
        (rc = de_conf_get_string(g, &policy_key, &policy, err)) ||
        (rc = de_conf_get_int(g, DE_CONF_KEY(k_plan, "global_batch"), &gb, err)) ||
        (rc = de_conf_get_setting(g, DE_CONF_KEY(k_plan, "shares"), &shares, err)))
        return rc;
    char want[32];
    snprintf(want, sizeof want, "%016" PRIx64, s->checksum);
    if (strcmp(sum, want) != 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "plan was made for scenario '%s' (%s, checksum %s), not for %s (checksum %s)", sname,
                 scen_path, sum, s->path, want);
        return plan_err(g, "scenario_checksum", DE_EMISMATCH, msg, err);
    }
    if (de_policy_parse(policy, &p->policy))
        return plan_err(g, "policy", DE_ERANGE, "unknown policy", err);
    p->job = de_scenario_job(s, job);
    if (p->job < 0)
        return plan_err(g, "job", DE_EMISMATCH, "no such job in the scenario", err);
    if (gb != s->jobs[p->job].global_batch)
        return plan_err(g, "global_batch", DE_EMISMATCH, "differs from the job's global_batch", err);
    int n = config_setting_length(shares);
    int *devs = de_calloc((size_t)n + 1, sizeof(int)), *bs = de_calloc((size_t)n + 1, sizeof(int));
    const char **names = de_calloc((size_t)n + 1, sizeof *names);
    long long *batches = de_calloc((size_t)n + 1, sizeof *batches);
    long long sumb = 0;
    for (int i = 0; i < n && !rc; i++) {
        config_setting_t *e = config_setting_get_elem(shares, (unsigned)i);
        const char *dev;
        long long b;
        if ((rc = de_conf_check_keys(e, k_share, DE_NKEYS(k_share), err)) ||
            (rc = de_conf_get_string(e, DE_CONF_KEY(k_share, "device"), &dev, err)) ||
            (rc = de_conf_get_int(e, DE_CONF_KEY(k_share, "batch"), &b, err)))
            break;
        devs[i] = de_scenario_device(s, dev);
        bs[i] = (int)b;
        names[i] = dev;
        batches[i] = b;
        sumb += b;
        if (devs[i] < 0)
            rc = plan_err(e, "device", DE_EMISMATCH, "no such device in the scenario", err);
        for (int j = 0; j < i && !rc; j++)
            if (devs[j] == devs[i])
                rc = plan_err(e, "device", DE_EDUP, "device appears twice in the plan", err);
    }
    if (!rc && (n == 0 || sumb != gb)) {
        char msg[128];
        snprintf(msg, sizeof msg, "local batches sum to %lld, must equal global_batch %lld", sumb, gb);
        rc = plan_err(g, "shares", DE_ERANGE, msg, err);
    }
    const char *digest = NULL;
    if (!rc)
        rc = de_conf_get_string(g, DE_CONF_KEY(k_plan, "checksum"), &digest, err);
    if (!rc && digest) {
        char got[40];
        snprintf(got, sizeof got, "fnv1a64:%016" PRIx64, plan_digest(sum, job, policy, gb, names, batches, n));
        if (strcmp(digest, got) != 0)
            rc = plan_err(g, "checksum", DE_EIO,
                          "does not match the plan's job, policy and shares: a damaged file, or one edited by hand "
                          "(delete the checksum line to accept an edit)", err);
    }
    if (!rc) {
        p->global_batch = (int)gb;
        de_plan_set_shares(p, devs, bs, n);
    }
    free(devs);
    free(bs);
    free(names);
    free(batches);
    return rc;
}

int de_plan_read(const char *path, const de_scenario *s, de_plan *p, de_err *err)
{
    config_t cfg;
    de_plan_init(p);
    int rc = de_conf_read(&cfg, path, err);
    if (!rc)
        rc = read_plan(config_root_setting(&cfg), s, p, err);
    config_destroy(&cfg);
    if (rc)
        de_plan_free(p);
    return rc;
}
