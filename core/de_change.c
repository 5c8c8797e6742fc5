/* de_change.c — the table of change kinds, and parsing and naming changes (see de_change.h). */
#include "de_change.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "de_scenario.h"
#include "de_util.h"

typedef struct row {
    const char *name, *help;
    de_target_kind target;
    de_value_kind value;
    int repairable;
} row;

static const row rows[] = {
#define DE_X_ROW(id, name, target, value, repairable, help) {name, help, target, value, repairable},
    DE_CHANGE_TABLE(DE_X_ROW)
#undef DE_X_ROW
};

static const char *const target_names[] = {"device", "link", "LC task", "job"};

const char *de_change_kind_name(de_change_kind k)
{
    return (unsigned)k < DE_CHANGE_COUNT ? rows[k].name : "?";
}

const char *de_change_kind_help(de_change_kind k)
{
    return (unsigned)k < DE_CHANGE_COUNT ? rows[k].help : "?";
}

de_target_kind de_change_target_kind(de_change_kind k)
{
    return (unsigned)k < DE_CHANGE_COUNT ? rows[k].target : DE_TARGET_DEVICE;
}

de_value_kind de_change_value_kind(de_change_kind k)
{
    return (unsigned)k < DE_CHANGE_COUNT ? rows[k].value : DE_VALUE_NONE;
}

int de_change_repairable(de_change_kind k)
{
    return (unsigned)k < DE_CHANGE_COUNT && rows[k].repairable;
}

int de_change_kind_parse(const char *name, de_change_kind *out)
{
    int i = DE_NAMES_FIND(rows, DE_CHANGE_COUNT, name);
    if (i < 0)
        return DE_ERANGE;
    *out = (de_change_kind)i;
    return DE_OK;
}

const char *de_change_kind_list(void)
{
    static char buf[256];
    return DE_NAMES_JOIN(rows, DE_CHANGE_COUNT, buf);
}

void de_change_print_table(FILE *out)
{
    static const char *const values[] = {"-", "factor", "rate"};
    fprintf(out, "%-13s %-8s %-7s %s\n", "change", "target", "value", "what it does");
    for (int i = 0; i < DE_CHANGE_COUNT; i++)
        fprintf(out, "%-13s %-8s %-7s %s\n", rows[i].name, target_names[rows[i].target], values[rows[i].value],
                rows[i].help);
}

void de_change_init(de_change *c, de_change_kind kind, int target, double value, const char *origin)
{
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->target = target;
    c->value = value;
    c->time_s = NAN;
    c->iteration = -1;
    c->ends = -1;
    snprintf(c->origin, sizeof c->origin, "%s", origin ? origin : "");
}

de_change de_change_repair_of(const de_change *c, int index, double repair_s)
{
    de_change r;
    if (c->kind == DE_CHANGE_CRASH)
        de_change_init(&r, DE_CHANGE_REPAIR, c->target, 0, c->origin);
    else
        de_change_init(&r, c->kind, c->target, 1.0, c->origin);
    r.time_s = c->time_s + repair_s;
    r.ends = index;
    return r;
}

const char *de_change_target_name(const de_change *c, const de_scenario *s)
{
    int t = c->target;
    switch (de_change_target_kind(c->kind)) {
    case DE_TARGET_DEVICE: return t >= 0 && t < s->n_devices ? s->devices[t].name : "?";
    case DE_TARGET_LINK: return t >= 0 && t < s->n_links ? s->links[t].name : "?";
    case DE_TARGET_TASK: return t >= 0 && t < s->n_tasks ? s->tasks[t].name : "?";
    case DE_TARGET_JOB: return t >= 0 && t < s->n_jobs ? s->jobs[t].name : "?";
    }
    return "?";
}

void de_change_describe(const de_change *c, const de_scenario *s, char *buf, size_t n)
{
    const char *t = de_change_target_name(c, s);
    switch (c->kind) {
    case DE_CHANGE_CRASH: snprintf(buf, n, "device %s crashes", t); break;
    case DE_CHANGE_REPAIR: snprintf(buf, n, "device %s repaired", t); break;
    case DE_CHANGE_SLOWDOWN:
        if (c->value == 1.0)
            snprintf(buf, n, "device %s back to full speed", t);
        else
            snprintf(buf, n, "device %s at %g x speed", t, c->value);
        break;
    case DE_CHANGE_LINK_DEGRADE:
        if (c->value == 1.0)
            snprintf(buf, n, "link %s back to full bandwidth", t);
        else
            snprintf(buf, n, "link %s at %g x bandwidth", t, c->value);
        break;
    case DE_CHANGE_LC_RATE: snprintf(buf, n, "LC task %s at %g req/s", t, c->value); break;
    case DE_CHANGE_JOB_ARRIVAL: snprintf(buf, n, "job %s arrives", t); break;
    case DE_CHANGE_MODEL: snprintf(buf, n, "the models corrected from measurements (largest change: %s)", t); break;
    default: snprintf(buf, n, "change %d", (int)c->kind); break;
    }
}

/* Index of a name among the scenario's targets of kind tk, -1 if absent. */
static int find_target(const de_scenario *s, de_target_kind tk, const char *name)
{
    switch (tk) {
    case DE_TARGET_DEVICE: return de_strmap_get(s->device_ix, name);
    case DE_TARGET_LINK: return de_strmap_get(s->link_ix, name);
    case DE_TARGET_TASK: return de_strmap_get(s->task_ix, name);
    case DE_TARGET_JOB: return de_strmap_get(s->job_ix, name);
    }
    return -1;
}

int de_change_parse_spec(const char *spec, const de_scenario *s, de_change *out, de_err *err)
{
    static const char *usage = "expected KIND:TARGET@ITERATION or @SECONDSs, with *FACTOR (slowdown, link-degrade) "
                               "or =RATE (lc-rate) after the target";
    const char *colon = strchr(spec, ':'), *at = strrchr(spec, '@');
    if (!colon || !at || at < colon)
        return de_err_set(err, DE_EINVAL, "--inject '%s': %s", spec, usage);
    char kind[32];
    size_t kl = (size_t)(colon - spec);
    if (kl == 0 || kl >= sizeof kind)
        return de_err_set(err, DE_EINVAL, "--inject '%s': %s", spec, usage);
    memcpy(kind, spec, kl);
    kind[kl] = '\0';
    de_change_kind k;
    if (strcmp(kind, "link") == 0)
        k = DE_CHANGE_LINK_DEGRADE;
    else if (de_change_kind_parse(kind, &k))
        return de_err_set(err, DE_EINVAL, "--inject '%s': unknown kind '%s' (known: %s)", spec, kind,
                          de_change_kind_list());
    if (DE_CHANGE_INTERNAL(k))
        return de_err_set(err, DE_EINVAL, "--inject '%s': a %s change is made by the online correction, not injected",
                          spec, kind);
    de_change_init(out, k, -1, 0, "--inject");
    /* when */
    const char *when = at + 1;
    char *end;
    size_t wl = strlen(when);
    if (wl > 1 && when[wl - 1] == 's') {
        double t = strtod(when, &end);
        if (end != when + wl - 1 || !isfinite(t) || t < 0)
            return de_err_set(err, DE_EINVAL, "--inject '%s': '%s' is not a time in seconds (>= 0, like 12.5s)", spec,
                              when);
        out->time_s = t;
    } else {
        long it = strtol(when, &end, 10);
        if (end == when || *end || it < 0)
            return de_err_set(err, DE_EINVAL, "--inject '%s': '%s' is not an iteration (integer >= 0) or a time (12.5s)",
                              spec, when);
        out->iteration = it;
    }
    /* target and value */
    char target[128];
    const char *tg = colon + 1;
    size_t tl = (size_t)(at - tg);
    de_value_kind vk = de_change_value_kind(k);
    if (vk != DE_VALUE_NONE) {
        char sep = vk == DE_VALUE_FACTOR ? '*' : '=';
        const char *mark = memchr(tg, sep, tl);
        if (!mark)
            return de_err_set(err, DE_EINVAL, "--inject '%s': %s needs %s before '@'", spec, de_change_kind_name(k),
                              vk == DE_VALUE_FACTOR ? "*FACTOR" : "=RATE");
        char num[64];
        size_t nl = (size_t)(at - mark - 1);
        if (nl == 0 || nl >= sizeof num)
            return de_err_set(err, DE_EINVAL, "--inject '%s': missing value after '%c'", spec, sep);
        memcpy(num, mark + 1, nl);
        num[nl] = '\0';
        double v = strtod(num, &end);
        int ok = end != num && !*end && isfinite(v) &&
                 (vk == DE_VALUE_FACTOR ? v >= 1e-3 && v <= 1 : v >= 0);
        if (!ok)
            return de_err_set(err, DE_EINVAL, "--inject '%s': '%s' is not %s", spec, num,
                              vk == DE_VALUE_FACTOR ? "a factor in [0.001, 1]" : "a rate >= 0 (req/s)");
        out->value = v;
        tl = (size_t)(mark - tg);
    }
    if (tl == 0 || tl >= sizeof target)
        return de_err_set(err, DE_EINVAL, "--inject '%s': missing %s name", spec,
                          target_names[de_change_target_kind(k)]);
    memcpy(target, tg, tl);
    target[tl] = '\0';
    out->target = find_target(s, de_change_target_kind(k), target);
    if (out->target < 0)
        return de_err_set(err, DE_EREF, "--inject '%s': %s '%s' is not in %s", spec,
                          target_names[de_change_target_kind(k)], target, s->path);
    return DE_OK;
}
