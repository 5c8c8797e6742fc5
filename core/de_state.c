/* de_state.c — the changing cluster state (see de_state.h). */
#include "de_state.h"

#include <stdlib.h>

#include "de_util.h"

void de_state_init(de_state *st, const de_scenario *scen, double time_s)
{
    st->scen = scen;
    st->up = de_calloc((size_t)scen->n_devices + 1, 1);
    st->speed = de_calloc((size_t)scen->n_devices + 1, sizeof(double));
    st->link_factor = de_calloc((size_t)scen->n_links + 1, sizeof(double));
    st->rate = de_calloc((size_t)scen->n_tasks + 1, sizeof(double));
    st->samples_done = de_calloc((size_t)scen->n_jobs + 1, sizeof(double));
    for (int d = 0; d < scen->n_devices; d++) {
        st->up[d] = 1;
        st->speed[d] = 1.0;
    }
    for (int l = 0; l < scen->n_links; l++)
        st->link_factor[l] = 1.0;
    for (int t = 0; t < scen->n_tasks; t++)
        st->rate[t] = scen->tasks[t].rate;
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
    st->up = NULL;
    st->speed = st->link_factor = st->rate = st->samples_done = NULL;
}

void de_state_set_time(de_state *st, double time_s)
{
    st->time_s = time_s;
    for (int t = 0; t < st->scen->n_tasks; t++)
        if (st->scen->tasks[t].trace)
            st->rate[t] = de_rate_trace_at(st->scen->tasks[t].trace, time_s);
}

int de_state_n_up(const de_state *st)
{
    int n = 0;
    for (int d = 0; d < st->scen->n_devices; d++)
        n += st->up[d] != 0;
    return n;
}
