/* policy_ext.c — external policies: `--policy ext:COMMAND`, a program in any language
 * that plans over newline-delimited JSON on its stdin and stdout.
 *
 * The protocol (version DE_EXT_PROTOCOL) is documented message by message in
 * policies/README.md; policies/example_policy.py is a policy in Python. In short:
 *   deepedge -> policy   {"type":"hello","protocol":1,...}           once, at start
 *   policy -> deepedge   {"type":"hello","protocol":1,"name":...}
 *   deepedge -> policy   {"type":"plan_request","request":N,...}      each plan: the state
 *   policy -> deepedge   {"type":"query","id":..,"query":"step_time",...}   any number,
 *   deepedge -> policy   {"type":"answer","id":..,...}                each answered
 *   policy -> deepedge   {"type":"plan","shares":[{"device":..,"batch":..},...]}
 * The program is started at the policy's first plan and kept for every later one (one
 * per command and process); the answers come from the planner's predictor, so the
 * program plans with the same fitted models as the C policies. Its plan is checked as
 * strictly as a plan file: every device known, up and named once, every batch an
 * integer in [1, the device's memory limit], the batches summing to the global batch.
 * Anything else — a line that is not JSON, a message of an unknown type or with a
 * missing or wrong field, a query about a device or task that does not exist, a plan
 * that breaks a rule, no line within planner.ext_timeout_s, the program exiting —
 * fails the plan with a message naming the message and quoting the line; the program
 * is stopped, and the policy's later plans fail with the same message. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "de_child.h"
#include "de_planner.h"
#include "de_util.h"

#define DE_EXT_PROTOCOL 1
/* The default wait for a message when the options have none (planner.ext_timeout_s). */
#define DE_EXT_TIMEOUT_S 5.0
/* How much of a bad line a message quotes. */
#define DE_EXT_QUOTE 200

typedef struct ext_proc {
    de_child ch;
    int started;        /* ch runs and has said hello */
    int failed;         /* a failure: every later plan fails with msg */
    int code;
    char msg[sizeof(((de_err *)0)->msg)];
    long requests;      /* plan requests sent */
} ext_proc;

static ext_proc procs[DE_POLICY_EXT_MAX];
static int exit_hook;

/* One plan's conversation. */
typedef struct conv {
    ext_proc *p;
    const de_policy_call *c;
    const de_scenario *s;
    const char *cmd;
    double timeout_s;
    const char *line;   /* the line being handled (quoted in messages) */
    const char *what;   /* the message being handled, for messages ("the plan", "query 3") */
    de_state isolated;  /* c->st without LC load, for queries with "lc_load": false */
    int have_isolated;
    int *devs, *batches;
} conv;

void de_policy_ext_shutdown(void)
{
    for (int k = 0; k < DE_POLICY_EXT_MAX; k++)
        if (procs[k].started) {
            de_child_close(&procs[k].ch, 2.0);
            procs[k].started = 0;
        }
}

/* The line, cut to DE_EXT_QUOTE characters, control characters escaped. */
static void quote(const char *line, char *buf, size_t n)
{
    size_t o = 0;
    buf[0] = '\0';
    if (!line)
        return;
    size_t i = 0;
    for (; line[i] && i < DE_EXT_QUOTE && o + 6 < n; i++) {
        unsigned char ch = (unsigned char)line[i];
        if (ch < 0x20 || ch == 0x7f)
            o += (size_t)snprintf(buf + o, n - o, "\\x%02x", ch);
        else
            buf[o++] = (char)ch;
    }
    buf[o] = '\0';
    if (line[i] && o + 4 < n)
        snprintf(buf + o, n - o, "...");
}

/* Records the failure (sticky), stops the program, sets the call's error. */
static void failv(conv *x, int code, const char *fmt, va_list ap)
{
    char what[640], q[4 * DE_EXT_QUOTE + 8];
    vsnprintf(what, sizeof what, fmt, ap);
    ext_proc *p = x->p;
    const char *sep = x->what ? ": " : "";
    if (x->line) {
        quote(x->line, q, sizeof q);
        snprintf(p->msg, sizeof p->msg, "policy 'ext:%s': %s%s%s; the line was '%s'", x->cmd, x->what ? x->what : "", sep,
                 what, q);
    } else {
        snprintf(p->msg, sizeof p->msg, "policy 'ext:%s': %s%s%s", x->cmd, x->what ? x->what : "", sep, what);
    }
    p->failed = 1;
    p->code = code;
    if (p->ch.command) { /* started (the line quoted above lived in its buffer) */
        de_child_close(&p->ch, 0);
        p->started = 0;
    }
    de_err_set(x->c->err, code, "%s", p->msg);
}

static int fail(conv *x, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(conv *x, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    failv(x, code, fmt, ap);
    va_end(ap);
    return code;
}

/* ---------------------------------------------------------------- sending */

static int send_json(conv *x, cJSON *o)
{
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    size_t n = strlen(text);
    text = de_realloc(text, n + 2);
    text[n] = '\n';
    text[n + 1] = '\0';
    de_err e;
    int rc = de_child_write(&x->p->ch, text, n + 1, x->timeout_s, &e);
    free(text);
    if (rc) {
        x->line = NULL;
        return fail(x, DE_EIO, "%s", e.msg);
    }
    return DE_OK;
}

/* A number, or null when it is not finite (JSON has no infinity). */
static void add_num(cJSON *o, const char *k, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

static cJSON *change_json(const de_change *ch, const de_scenario *s)
{
    if (!ch)
        return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    char desc[256];
    de_change_describe(ch, s, desc, sizeof desc);
    cJSON_AddStringToObject(o, "kind", de_change_kind_name(ch->kind));
    cJSON_AddStringToObject(o, "target", de_change_target_name(ch, s));
    if (de_change_value_kind(ch->kind) == DE_VALUE_NONE)
        cJSON_AddNullToObject(o, "value");
    else
        add_num(o, "value", ch->value);
    if (ch->iteration >= 0)
        cJSON_AddNumberToObject(o, "iteration", (double)ch->iteration);
    else
        cJSON_AddNullToObject(o, "iteration");
    add_num(o, "time_s", ch->time_s);
    cJSON_AddStringToObject(o, "origin", ch->origin);
    cJSON_AddStringToObject(o, "description", desc);
    return o;
}

static cJSON *request_json(conv *x)
{
    const de_state *st = x->c->st;
    const de_scenario *s = x->s;
    const de_catalog *cat = s->catalog;
    const de_job *J = &s->jobs[x->c->job];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "plan_request");
    cJSON_AddNumberToObject(o, "request", (double)x->p->requests);
    add_num(o, "time_s", st->time_s);
    cJSON_AddNumberToObject(o, "safety_margin", x->c->opt->safety_margin);

    cJSON *job = cJSON_AddObjectToObject(o, "job");
    double total = (double)J->dataset_size * J->epochs, done = st->samples_done[x->c->job];
    long long done_it = (long long)floor(done / J->global_batch);
    double left = total - done > 0 ? total - done : 0;
    cJSON_AddStringToObject(job, "name", J->name);
    cJSON_AddStringToObject(job, "network", cat->networks[J->network].name);
    cJSON_AddNumberToObject(job, "global_batch", J->global_batch);
    cJSON_AddNumberToObject(job, "gradient_bytes", cat->networks[J->network].gradient_bytes);
    cJSON_AddNumberToObject(job, "dataset_size", (double)J->dataset_size);
    cJSON_AddNumberToObject(job, "epochs", J->epochs);
    cJSON_AddNumberToObject(job, "samples_done", done);
    cJSON_AddNumberToObject(job, "iterations_done", (double)done_it);
    cJSON_AddNumberToObject(job, "iterations_left", ceil(left / J->global_batch));
    cJSON_AddNumberToObject(job, "checkpoint_interval", J->checkpoint_interval);
    cJSON_AddNumberToObject(job, "checkpoint_cost_s", J->checkpoint_cost_s);

    cJSON *devs = cJSON_AddArrayToObject(o, "devices");
    for (int d = 0; d < s->n_devices; d++) {
        const de_device *D = &s->devices[d];
        const de_device_type *T = &cat->types[D->type];
        const de_train_params *tp = de_catalog_train(cat, D->type, J->network);
        cJSON *v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "name", D->name);
        cJSON_AddStringToObject(v, "type", T->name);
        cJSON_AddStringToObject(v, "kind", T->kind ? T->kind : "");
        cJSON_AddBoolToObject(v, "up", st->up[d] != 0);
        cJSON_AddNumberToObject(v, "speed", st->speed[d]);
        cJSON_AddStringToObject(v, "link", s->links[D->link].name);
        cJSON_AddNumberToObject(v, "memory_gb", T->memory_gb);
        cJSON_AddNumberToObject(v, "cores", T->emulation_cpu_cores);
        cJSON_AddNumberToObject(v, "max_batch", tp ? tp->max_batch : 0);
        cJSON *tasks = cJSON_AddArrayToObject(v, "lc_tasks");
        for (int i = s->dev_task_start[d]; i < s->dev_task_start[d + 1]; i++)
            cJSON_AddItemToArray(tasks, cJSON_CreateString(s->tasks[s->dev_tasks[i]].name));
        cJSON_AddItemToArray(devs, v);
    }
    cJSON *links = cJSON_AddArrayToObject(o, "links");
    for (int l = 0; l < s->n_links; l++) {
        cJSON *v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "name", s->links[l].name);
        cJSON_AddNumberToObject(v, "bandwidth_Bps", s->links[l].bandwidth_Bps);
        cJSON_AddNumberToObject(v, "factor", st->link_factor[l]);
        cJSON_AddNumberToObject(v, "latency_s", s->links[l].latency_s);
        cJSON_AddItemToArray(links, v);
    }
    cJSON *tasks = cJSON_AddArrayToObject(o, "lc_tasks");
    for (int t = 0; t < s->n_tasks; t++) {
        const de_lc_task *T = &s->tasks[t];
        cJSON *v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "name", T->name);
        cJSON_AddStringToObject(v, "device", s->devices[T->device].name);
        cJSON_AddStringToObject(v, "model", cat->lc_models[T->model].name);
        cJSON_AddNumberToObject(v, "rate", st->rate[t]);
        cJSON_AddNumberToObject(v, "deadline_s", T->deadline_s);
        cJSON_AddNumberToObject(v, "percentile", T->percentile);
        cJSON_AddItemToArray(tasks, v);
    }
    cJSON_AddItemToObject(o, "change", change_json(x->c->change, s));
    return o;
}

/* ---------------------------------------------------------------- reading */

/* The next message: a JSON object with a string "type". */
static int receive(conv *x, cJSON **msg, const char **type)
{
    char *line;
    de_err e;
    *msg = NULL;
    x->line = NULL;
    if (de_child_read_line(&x->p->ch, &line, x->timeout_s, &e))
        return fail(x, DE_EIO, "%s", e.msg);
    x->line = line;
    const char *end = NULL;
    cJSON *m = cJSON_ParseWithOpts(line, &end, 1);
    if (!m) {
        size_t at = end && end >= line ? (size_t)(end - line) : 0;
        return fail(x, DE_ESYNTAX, "not JSON (at character %zu)", at + 1);
    }
    cJSON *t = cJSON_GetObjectItemCaseSensitive(m, "type");
    if (!cJSON_IsObject(m) || !cJSON_IsString(t)) {
        cJSON_Delete(m);
        return fail(x, DE_ESYNTAX, "not a message: a JSON object with a string \"type\" was expected");
    }
    *msg = m;
    *type = t->valuestring;
    return DE_OK;
}

/* Integer field in [lo, hi]; absent: def when has_def, else an error. */
static int get_int(conv *x, const cJSON *m, const char *k, long lo, long hi, int has_def, long def, long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, k);
    if (!v) {
        if (has_def) {
            *out = def;
            return DE_OK;
        }
        return fail(x, DE_ESYNTAX, "no \"%s\"", k);
    }
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < (double)lo ||
        v->valuedouble > (double)hi)
        return fail(x, DE_ESYNTAX, "\"%s\" must be an integer in [%ld, %ld]", k, lo, hi);
    *out = (long)v->valuedouble;
    return DE_OK;
}

static int get_num(conv *x, const cJSON *m, const char *k, double lo, double hi, int has_def, double def, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, k);
    if (!v) {
        if (has_def) {
            *out = def;
            return DE_OK;
        }
        return fail(x, DE_ESYNTAX, "no \"%s\"", k);
    }
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi))
        return fail(x, DE_ESYNTAX, "\"%s\" must be a number in [%g, %g]", k, lo, hi);
    *out = v->valuedouble;
    return DE_OK;
}

/* A device named by field k; must_be_up: a plan's device. */
static int get_device(conv *x, const cJSON *m, const char *k, int *dev)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, k);
    if (!cJSON_IsString(v))
        return fail(x, DE_ESYNTAX, "\"%s\" must be a device name (a string)", k);
    *dev = de_scenario_device(x->s, v->valuestring);
    if (*dev < 0)
        return fail(x, DE_ESYNTAX, "unknown device '%s'", v->valuestring);
    return DE_OK;
}

/* Shares of a plan (or of an evaluate query): every rule a plan must keep. */
static int get_shares(conv *x, const cJSON *m, int *n_out)
{
    const de_scenario *s = x->s;
    const de_job *J = &s->jobs[x->c->job];
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(m, "shares");
    if (!cJSON_IsArray(arr))
        return fail(x, DE_ESYNTAX, "\"shares\" must be a list of {\"device\": NAME, \"batch\": N}");
    int n = cJSON_GetArraySize(arr);
    if (n > s->n_devices)
        return fail(x, DE_EINVAL, "%d shares for %d devices", n, s->n_devices);
    long sum = 0;
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        char field[32];
        snprintf(field, sizeof field, "share %d", i + 1);
        if (!cJSON_IsObject(e))
            return fail(x, DE_ESYNTAX, "%s: not an object {\"device\": NAME, \"batch\": N}", field);
        int d = -1; /* set by get_device (gcc -O3 cannot tell) */
        long b = 0;
        if (get_device(x, e, "device", &d))
            return x->c->err->code;
        const char *name = s->devices[d].name;
        for (int k = 0; k < i; k++)
            if (x->devs[k] == d)
                return fail(x, DE_EINVAL, "%s: device '%s' has a share already", field, name);
        if (!x->c->st->up[d])
            return fail(x, DE_EINVAL, "%s: device '%s' is down", field, name);
        const de_train_params *tp = de_catalog_train(s->catalog, s->devices[d].type, J->network);
        int maxb = tp ? tp->max_batch : 0;
        const cJSON *bv = cJSON_GetObjectItemCaseSensitive(e, "batch");
        if (!cJSON_IsNumber(bv) || bv->valuedouble != floor(bv->valuedouble) || bv->valuedouble < 1 ||
            bv->valuedouble > (double)J->global_batch)
            return fail(x, DE_ESYNTAX, "%s (device '%s'): \"batch\" must be an integer in [1, %d] (the global batch)",
                        field, name, J->global_batch);
        b = (long)bv->valuedouble;
        if (b > maxb)
            return fail(x, DE_EINVAL, "%s: batch %ld on device '%s' exceeds its memory limit of %d for %s", field, b,
                        name, maxb, s->catalog->networks[J->network].name);
        x->devs[i] = d;
        x->batches[i] = (int)b;
        sum += b;
        i++;
    }
    if (n > 0 && sum != J->global_batch)
        return fail(x, DE_EINVAL, "the batches sum to %ld, not to the global batch %d of job '%s'", sum,
                    J->global_batch, J->name);
    *n_out = n;
    return DE_OK;
}

/* ---------------------------------------------------------------- queries */

static const de_state *query_state(conv *x, const cJSON *q)
{
    const cJSON *lc = cJSON_GetObjectItemCaseSensitive(q, "lc_load");
    if (!lc || cJSON_IsTrue(lc))
        return x->c->st;
    if (!x->have_isolated) {
        x->isolated = *x->c->st;
        x->isolated.rate = de_calloc((size_t)x->s->n_tasks + 1, sizeof(double));
        x->have_isolated = 1;
    }
    return &x->isolated;
}

static int query(conv *x, const cJSON *q)
{
    const de_scenario *s = x->s;
    const de_predictor *pred = x->c->pred;
    int net = s->jobs[x->c->job].network;
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(q, "query");
    const cJSON *lc = cJSON_GetObjectItemCaseSensitive(q, "lc_load");
    if (lc && !cJSON_IsBool(lc))
        return fail(x, DE_ESYNTAX, "\"lc_load\" must be true or false");
    if (!cJSON_IsString(kind))
        return fail(x, DE_ESYNTAX, "no \"query\" (step_time, lc_latency, allreduce or evaluate)");
    const de_state *st = query_state(x, q);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(q, "id");
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "type", "answer");
    cJSON_AddItemToObject(a, "id", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
    if (strcmp(kind->valuestring, "step_time") == 0) {
        int d = -1; /* set by get_device (gcc -O3 cannot tell) */
        long b = 0;
        if (get_device(x, q, "device", &d) || get_int(x, q, "batch", 1, 1000000, 0, 0, &b))
            goto bad;
        add_num(a, "step_time_s", pred->ops->step_time(pred->ctx, st, d, net, (int)b));
    } else if (strcmp(kind->valuestring, "lc_latency") == 0) {
        const cJSON *tv = cJSON_GetObjectItemCaseSensitive(q, "task");
        int t = -1;
        if (cJSON_IsString(tv))
            for (int i = 0; i < s->n_tasks && t < 0; i++)
                if (strcmp(s->tasks[i].name, tv->valuestring) == 0)
                    t = i;
        if (!cJSON_IsString(tv)) {
            fail(x, DE_ESYNTAX, "\"task\" must be an LC task's name (a string)");
            goto bad;
        }
        if (t < 0) {
            fail(x, DE_ESYNTAX, "unknown LC task '%s'", tv->valuestring);
            goto bad;
        }
        long b = 0;
        double duty = 0;
        if (get_int(x, q, "batch", 0, 1000000, 0, 0, &b) || get_num(x, q, "duty", 0, 1, 0, 0, &duty))
            goto bad;
        int d = s->tasks[t].device, first = s->dev_task_start[d], n = s->dev_task_start[d + 1] - first;
        double *lat = de_calloc((size_t)n + 1, sizeof(double));
        pred->ops->lc_latency(pred->ctx, st, d, net, (int)b, duty, lat);
        for (int k = 0; k < n; k++)
            if (s->dev_tasks[first + k] == t)
                add_num(a, "latency_s", lat[k]);
        free(lat);
    } else if (strcmp(kind->valuestring, "allreduce") == 0) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(q, "devices");
        if (!cJSON_IsArray(arr)) {
            fail(x, DE_ESYNTAX, "\"devices\" must be a list of device names");
            goto bad;
        }
        int n = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, arr)
        {
            int d = cJSON_IsString(e) ? de_scenario_device(s, e->valuestring) : -1;
            if (d < 0) {
                fail(x, DE_ESYNTAX, "\"devices\": item %d is not a device's name", n + 1);
                goto bad;
            }
            for (int k = 0; k < n; k++)
                if (x->devs[k] == d) {
                    fail(x, DE_ESYNTAX, "\"devices\": '%s' twice", e->valuestring);
                    goto bad;
                }
            x->devs[n++] = d;
        }
        double bytes = 0;
        if (get_num(x, q, "bytes", 0, 1e18, 1, s->catalog->networks[net].gradient_bytes, &bytes))
            goto bad;
        add_num(a, "time_s", pred->ops->allreduce_time(pred->ctx, st, x->devs, n, bytes));
    } else if (strcmp(kind->valuestring, "evaluate") == 0) {
        int n;
        if (get_shares(x, q, &n))
            goto bad;
        if (n == 0) {
            fail(x, DE_ESYNTAX, "\"shares\" is empty: nothing to evaluate");
            goto bad;
        }
        de_plan p;
        de_plan_init(&p);
        p.job = x->c->job;
        de_plan_set_shares(&p, x->devs, x->batches, n);
        de_plan_evaluate(&p, st, pred, x->c->opt->safety_margin);
        add_num(a, "compute_time_s", p.compute_time_s);
        add_num(a, "allreduce_time_s", p.allreduce_time_s);
        add_num(a, "iteration_time_s", p.iteration_time_s);
        add_num(a, "retraining_time_s", p.retraining_time_s);
        cJSON_AddBoolToObject(a, "feasible", p.feasible != 0);
        cJSON_AddNumberToObject(a, "violations", p.violations);
        cJSON_AddNumberToObject(a, "over_margin", p.over_margin);
        cJSON *tasks = cJSON_AddArrayToObject(a, "lc_tasks");
        for (int i = 0; i < p.n_tasks; i++) {
            cJSON *t = cJSON_CreateObject();
            cJSON_AddStringToObject(t, "task", s->tasks[p.tasks[i].task].name);
            add_num(t, "latency_s", p.tasks[i].latency_s);
            cJSON_AddNumberToObject(t, "limit_s", p.tasks[i].limit_s);
            cJSON_AddItemToArray(tasks, t);
        }
        de_plan_free(&p);
    } else {
        fail(x, DE_ESYNTAX, "unknown query '%s' (step_time, lc_latency, allreduce or evaluate)", kind->valuestring);
        goto bad;
    }
    return send_json(x, a);
bad:
    cJSON_Delete(a);
    return x->c->err->code;
}

/* ---------------------------------------------------------------- the policy */

static int start(conv *x)
{
    ext_proc *p = x->p;
    de_err e;
    x->what = "start";
    if (de_child_start(&p->ch, x->cmd, &e))
        return fail(x, DE_EIO, "%s", e.msg);
    if (!exit_hook) {
        atexit(de_policy_ext_shutdown);
        exit_hook = 1;
    }
    x->what = "hello";
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "type", "hello");
    cJSON_AddNumberToObject(h, "protocol", DE_EXT_PROTOCOL);
    cJSON_AddStringToObject(h, "program", "deepedge");
    cJSON_AddStringToObject(h, "version", DE_VERSION);
    if (send_json(x, h))
        return x->c->err->code;
    cJSON *m;
    const char *type;
    x->what = "its hello (the reply to deepedge's)";
    if (receive(x, &m, &type))
        return x->c->err->code;
    long proto = -1;
    int rc = DE_OK;
    if (strcmp(type, "hello") != 0)
        rc = fail(x, DE_ESYNTAX, "a message of type 'hello' was expected, not '%s'", type);
    else if (!get_int(x, m, "protocol", 0, 1000000, 0, 0, &proto) && proto != DE_EXT_PROTOCOL)
        rc = fail(x, DE_EVERSION, "it speaks protocol %ld; deepedge speaks protocol %d", proto, DE_EXT_PROTOCOL);
    else if (x->c->err->code)
        rc = x->c->err->code;
    cJSON_Delete(m);
    if (rc == DE_OK)
        p->started = 1;
    return rc;
}

static void conversation(conv *x, de_plan *out)
{
    ext_proc *p = x->p;
    if (p->started && p->ch.owner != getpid()) { /* a fork of the process that started it */
        de_child_close(&p->ch, 0);                /* (closes our copies of the pipes only) */
        p->started = 0;
    }
    if (!p->started && start(x))
        return;
    char what[96];
    p->requests++;
    snprintf(what, sizeof what, "plan request %ld", p->requests);
    x->what = what;
    x->line = NULL;
    if (send_json(x, request_json(x)))
        return;
    for (long n_msg = 1;; n_msg++) {
        cJSON *m;
        const char *type;
        snprintf(what, sizeof what, "plan request %ld, reply message %ld", p->requests, n_msg);
        if (receive(x, &m, &type))
            return;
        if (strcmp(type, "query") == 0) {
            snprintf(what, sizeof what, "plan request %ld, query (message %ld)", p->requests, n_msg);
            int rc = query(x, m);
            cJSON_Delete(m);
            if (rc)
                return;
            continue;
        }
        if (strcmp(type, "plan") != 0) {
            fail(x, DE_ESYNTAX, "unknown message type '%s' (a 'query' or a 'plan' was expected)", type);
            cJSON_Delete(m);
            return;
        }
        snprintf(what, sizeof what, "plan request %ld, the plan (message %ld)", p->requests, n_msg);
        int n;
        const cJSON *note = cJSON_GetObjectItemCaseSensitive(m, "note");
        if (note && !cJSON_IsString(note)) {
            fail(x, DE_ESYNTAX, "\"note\" must be a string");
        } else if (!get_shares(x, m, &n)) {
            if (n == 0 && !note) {
                fail(x, DE_EINVAL, "no shares and no \"note\" saying why");
            } else {
                de_plan_set_shares(out, x->devs, x->batches, n);
                if (note && note->valuestring[0])
                    de_plan_note(out, "%s", note->valuestring);
            }
        }
        cJSON_Delete(m);
        return;
    }
}

void de_policy_external(const de_policy_call *c, de_plan *out)
{
    de_policy pol = out->policy;
    if (!de_policy_is_external(pol)) {
        de_err_set(c->err, DE_EINVAL, "de_policy_external: policy %d is not external", (int)pol);
        return;
    }
    ext_proc *p = &procs[pol - DE_POLICY_COUNT];
    if (p->failed) {
        de_err_set(c->err, p->code, "%s", p->msg);
        return;
    }
    conv x;
    memset(&x, 0, sizeof x);
    x.p = p;
    x.c = c;
    x.s = c->st->scen;
    x.cmd = de_policy_ext_command(pol);
    x.timeout_s = c->opt->ext_timeout_s > 0 ? c->opt->ext_timeout_s : DE_EXT_TIMEOUT_S;
    x.devs = de_calloc((size_t)x.s->n_devices + 1, sizeof(int));
    x.batches = de_calloc((size_t)x.s->n_devices + 1, sizeof(int));
    conversation(&x, out);
    if (x.have_isolated)
        free(x.isolated.rate);
    free(x.devs);
    free(x.batches);
}
