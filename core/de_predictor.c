/* de_predictor.c — the model-based predictor (see de_predictor.h). */
#include "de_predictor.h"

#include <math.h>
#include <stdlib.h>

#include "de_model.h"
#include "de_util.h"

/* Utilisation of device dev by its LC tasks running alone. */
static double lc_util(const de_state *st, int dev)
{
    const de_scenario *s = st->scen;
    const de_catalog *cat = s->catalog;
    int type = s->devices[dev].type;
    double u = 0.0;
    for (int k = s->dev_task_start[dev]; k < s->dev_task_start[dev + 1]; k++) {
        const de_lc_task *t = &s->tasks[s->dev_tasks[k]];
        int ti = s->dev_tasks[k];
        u += st->rate[ti] * de_catalog_infer(cat, type, t->model)->service_s * st->lc_corr[ti] / st->speed[dev];
    }
    return u;
}

static double model_step_time(void *ctx, const de_state *st, int dev, int network, int batch)
{
    (void)ctx;
    const de_scenario *s = st->scen;
    int type = s->devices[dev].type;
    const de_train_params *p = de_catalog_train(s->catalog, type, network);
    const de_interference *in = &s->catalog->types[type].interference;
    return de_model_step_time(p->overhead_s, p->per_sample_s, in->train_slowdown, in->colocation_slowdown, batch,
                              lc_util(st, dev)) *
           st->step_corr[dev] / st->speed[dev];
}

/* The LC classes of device dev (their service alone) and what training `network`
 * with `batch` at `duty` does to them; the LC factors of st when corrected. An emulated
 * type's requests are CPU work under its budget (emulation_cpu_cores x the device's
 * speed per DE_EMU_PERIOD_S, as deepedge run's cgroup quota): a slowdown shrinks the
 * budget, not the work. */
static int lc_classes(const de_state *st, int dev, int network, int batch, double duty, int corrected,
                      de_lc_class *cls, de_lc_training *tr)
{
    const de_scenario *s = st->scen;
    const de_catalog *cat = s->catalog;
    int type = s->devices[dev].type;
    const de_interference *in = &cat->types[type].interference;
    const de_train_params *tp = de_catalog_train(cat, type, network);
    int first = s->dev_task_start[dev], n = s->dev_task_start[dev + 1] - first;
    double speed = st->speed[dev], cores = cat->types[type].emulation_cpu_cores;
    double work_speed = cores > 0 ? 1.0 : speed;
    for (int k = 0; k < n; k++) {
        int ti = s->dev_tasks[first + k];
        const de_infer_params *ip = de_catalog_infer(cat, type, s->tasks[ti].model);
        cls[k].rate = st->rate[ti];
        cls[k].service_s =
            ip->service_s * (corrected ? de_state_lc_factor(st, ti, batch > 0 ? duty : 0.0) : 1.0) / work_speed;
        cls[k].scv = ip->scv;
        cls[k].percentile = s->tasks[ti].percentile;
    }
    tr->duty = batch > 0 ? duty : 0.0;
    tr->step_s = batch > 0 ? model_step_time(NULL, st, dev, network, batch) : 0.0;
    tr->lc_inflation = in->lc_inflation;
    tr->blocking_s = tp ? in->blocking_fraction * tp->per_sample_s * st->step_corr[dev] / speed * batch : 0.0;
    tr->budget.cores = cores > 0 ? cores * speed : 0.0;
    tr->budget.period_s = cores > 0 ? DE_EMU_PERIOD_S : 0.0;
    return n;
}

#define STACK_CLASSES 16

double de_predictor_lc_service_mean(const de_state *st, int ti, int network, int batch, double duty, int corrected)
{
    const de_scenario *s = st->scen;
    int dev = s->tasks[ti].device, n = s->dev_task_start[dev + 1] - s->dev_task_start[dev];
    de_lc_class stack[STACK_CLASSES], *cls = n <= STACK_CLASSES ? stack : de_calloc((size_t)n, sizeof *cls);
    de_lc_training tr;
    n = lc_classes(st, dev, network, batch, duty, corrected, cls, &tr);
    int k = 0;
    while (k < n - 1 && s->dev_tasks[s->dev_task_start[dev] + k] != ti)
        k++;
    double m = de_model_lc_service_wall(&cls[k], &tr);
    if (cls != stack)
        free(cls);
    return m;
}

static void model_lc_latency(void *ctx, const de_state *st, int dev, int network, int batch, double duty, double *out)
{
    (void)ctx;
    int n = st->scen->dev_task_start[dev + 1] - st->scen->dev_task_start[dev];
    de_lc_class stack[STACK_CLASSES], *cls = n <= STACK_CLASSES ? stack : de_calloc((size_t)n, sizeof *cls);
    de_lc_training tr;
    n = lc_classes(st, dev, network, batch, duty, 1, cls, &tr);
    de_model_lc_latency_train(cls, n, &tr, out);
    if (cls != stack)
        free(cls);
}

static void model_lc_within(void *ctx, const de_state *st, int dev, int network, int batch, double duty,
                            const double *limit, double *prob)
{
    (void)ctx;
    int n = st->scen->dev_task_start[dev + 1] - st->scen->dev_task_start[dev];
    de_lc_class stack[STACK_CLASSES], *cls = n <= STACK_CLASSES ? stack : de_calloc((size_t)n, sizeof *cls);
    de_lc_training tr;
    n = lc_classes(st, dev, network, batch, duty, 1, cls, &tr);
    de_model_lc_within_train(cls, n, &tr, limit, prob);
    if (cls != stack)
        free(cls);
}

void de_predictor_ring_params(const de_state *st, const int *devs, int n, double *alpha_s, double *beta_Bps)
{
    const de_scenario *s = st->scen;
    double l1 = 0.0, l2 = 0.0, bw = INFINITY;
    for (int i = 0; i < n; i++) {
        int li = s->devices[devs[i]].link;
        double lat = s->links[li].latency_s, b = s->links[li].bandwidth_Bps * st->link_factor[li] * st->link_corr[li];
        if (lat > l1) {
            l2 = l1;
            l1 = lat;
        } else if (lat > l2) {
            l2 = lat;
        }
        if (b < bw)
            bw = b;
    }
    *alpha_s = l1 + l2;
    *beta_Bps = bw;
    int cls = n > 0 ? s->links[s->devices[devs[0]].link].cls : -1;
    double factor = INFINITY;
    for (int i = 0; i < n && cls >= 0; i++) {
        int li = s->devices[devs[i]].link;
        if (s->links[li].cls != cls)
            cls = -1;
        factor = fmin(factor, st->link_factor[li] * st->link_corr[li]);
    }
    const de_link_rank *r = cls >= 0 ? de_link_class_at(&s->catalog->link_classes[cls], n) : NULL;
    if (r) {
        *alpha_s = r->alpha_s;
        *beta_Bps = r->beta_Bps * factor;
    }
}

static double model_allreduce(void *ctx, const de_state *st, const int *devs, int n, double bytes)
{
    (void)ctx;
    if (n <= 1)
        return 0.0;
    double alpha, beta;
    de_predictor_ring_params(st, devs, n, &alpha, &beta);
    return de_model_allreduce(n, alpha, beta, bytes);
}

static const de_predictor_ops model_ops = {
    .name = "model",
    .step_time = model_step_time,
    .lc_latency = model_lc_latency,
    .allreduce_time = model_allreduce,
    .lc_within = model_lc_within,
};

de_predictor de_predictor_model(void)
{
    de_predictor p = {&model_ops, NULL};
    return p;
}
