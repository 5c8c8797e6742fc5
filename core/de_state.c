/* de_state.c — the changing cluster state (see de_state.h). */
#include "de_state.h"

#include <stdlib.h>
#include <string.h>

#include "de_util.h"

void de_state_init(de_state *st, const de_scenario *scen, double time_s)
{
    st->scen = scen;
    st->up = de_calloc((size_t)scen->n_devices + 1, 1);
    st->speed = de_calloc((size_t)scen->n_devices + 1, sizeof(double));
    st->link_factor = de_calloc((size_t)scen->n_links + 1, sizeof(double));
    st->rate = de_calloc((size_t)scen->n_tasks + 1, sizeof(double));
    st->samples_done = de_calloc((size_t)scen->n_jobs + 1, sizeof(double));
    st->step_corr = de_calloc((size_t)scen->n_devices + 1, sizeof(double));
    st->lc_corr = de_calloc((size_t)scen->n_tasks + 1, sizeof(double));
    st->lc_corr_duty = de_calloc((size_t)scen->n_tasks + 1, sizeof(double));
    st->link_corr = de_calloc((size_t)scen->n_links + 1, sizeof(double));
    for (int d = 0; d < scen->n_devices; d++) {
        st->up[d] = 1;
        st->speed[d] = 1.0;
        st->step_corr[d] = 1.0;
    }
    for (int l = 0; l < scen->n_links; l++)
        st->link_factor[l] = st->link_corr[l] = 1.0;
    for (int t = 0; t < scen->n_tasks; t++) {
        st->rate[t] = scen->tasks[t].rate;
        st->lc_corr[t] = 1.0;
    }
    de_state_set_time(st, time_s);
}

void de_state_free(de_state *st)
{
    if (!st)
        return;
    free(st->up);
    free(st->speed);
    free(st->link_factor);
    free(st->rate);
    free(st->samples_done);
    free(st->step_corr);
    free(st->lc_corr);
    free(st->lc_corr_duty);
    free(st->link_corr);
    st->up = NULL;
    st->speed = st->link_factor = st->rate = st->samples_done = NULL;
    st->step_corr = st->lc_corr = st->lc_corr_duty = st->link_corr = NULL;
}

void de_state_copy(de_state *dst, const de_state *src)
{
    const de_scenario *s = src->scen;
    size_t nd = (size_t)s->n_devices, nl = (size_t)s->n_links, nt = (size_t)s->n_tasks;
    dst->scen = s;
    dst->time_s = src->time_s;
    memcpy(dst->up, src->up, nd);
    memcpy(dst->speed, src->speed, nd * sizeof(double));
    memcpy(dst->link_factor, src->link_factor, nl * sizeof(double));
    memcpy(dst->rate, src->rate, nt * sizeof(double));
    memcpy(dst->samples_done, src->samples_done, (size_t)s->n_jobs * sizeof(double));
    memcpy(dst->step_corr, src->step_corr, nd * sizeof(double));
    memcpy(dst->lc_corr, src->lc_corr, nt * sizeof(double));
    memcpy(dst->lc_corr_duty, src->lc_corr_duty, nt * sizeof(double));
    memcpy(dst->link_corr, src->link_corr, nl * sizeof(double));
}

void de_state_set_time(de_state *st, double time_s)
{
    st->time_s = time_s;
    for (int t = 0; t < st->scen->n_tasks; t++)
        if (st->scen->tasks[t].trace)
            st->rate[t] = de_rate_trace_at(st->scen->tasks[t].trace, time_s);
}

double de_state_lc_factor(const de_state *st, int t, double duty)
{
    double f = st->lc_corr[t] + st->lc_corr_duty[t] * duty;
    return f > 0.05 ? f : 0.05;
}

int de_state_n_up(const de_state *st)
{
    int n = 0;
    for (int d = 0; d < st->scen->n_devices; d++)
        n += st->up[d] != 0;
    return n;
}
