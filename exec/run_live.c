/* run_live.c — what `deepedge run` shows while it runs: the progress display on stderr
 * and the Prometheus endpoint (--metrics-port); run_internal.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "run_internal.h"

/* The progress bar and one line per device: its batch, compute, sync, duty cycle, and
 * each LC task's p95 against its deadline. Redrawn in place on a terminal. */
void run_draw(run *r)
{
    if (r->o->quiet)
        return;
    double now = run_rel(r);
    if (now < r->next_draw)
        return;
    r->next_draw = now + (r->tty ? 0.5 : 5.0);
    long total = r->g_total > 0 ? r->g_total : 1;
    double frac = (double)r->g_done / (double)total;
    char bar[31];
    int fill = (int)lround(frac * 30);
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '-';
    bar[30] = '\0';
    double el = isnan(r->train_start_t) ? 0 : now - r->train_start_t;
    double eta = r->g_done > r->g_launch && frac > 0 ? el / frac - el : NAN;
    if (r->tty)
        fputs("\r\033[J", stderr);
    fprintf(stderr, "[%s] %5.1f%%  it %ld/%ld  %.0f s  ETA %s%.0f s  loss %.3f  restarts %d\n", bar, 100 * frac,
            r->g_done, r->g_total, el, isnan(eta) ? "?" : "", isnan(eta) ? 0.0 : eta, r->last_loss, r->restarts);
    int lines = 1;
    for (int d = 0; d < r->s->n_devices; d++) {
        const run_dev *D = &r->devs[d];
        fprintf(stderr, "  %-12s", r->s->devices[d].name);
        if (r->waiting && isnan(D->down_since))
            fprintf(stderr, " waiting for a plan                          ");
        else if (!isnan(D->down_since))
            fprintf(stderr, " down                                       ");
        else if (D->rank >= 0)
            fprintf(stderr, " b=%-4d compute %6.1f ms sync %6.1f ms duty %.2f", D->batch,
                    1e3 * (D->compute + D->throttle), 1e3 * D->sync, D->step > 0 ? (D->compute + D->throttle) / D->step : 0);
        else
            fprintf(stderr, " not training                               ");
        for (int k = r->s->dev_task_start[d]; k < r->s->dev_task_start[d + 1]; k++) {
            int ti = r->s->dev_tasks[k];
            const run_task *T = &r->tasks[ti];
            const de_lc_task *t = &r->s->tasks[ti];
            double q = T->all.n ? de_hist_quantile(&T->all, t->percentile) : NAN;
            fprintf(stderr, " | %s p%g %.1f/%.0f ms n=%ld late %ld", t->name, 100 * t->percentile, 1e3 * q,
                    1e3 * t->deadline_s, T->n, T->late);
        }
        fputc('\n', stderr);
        lines++;
    }
    if (r->tty)
        fprintf(stderr, "\033[%dA", lines);
    fflush(stderr);
}

/* Answers one scrape of the Prometheus endpoint: the current metrics in the text
 * exposition format (version 0.0.4), whatever the request path. */
void run_serve_metrics(run *r)
{
    int fd = accept(r->mfd, NULL, NULL);
    if (fd < 0)
        return;
    struct timeval tv = {0, 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char req[2048];
    ssize_t got = recv(fd, req, sizeof req - 1, 0); /* the request line is enough */
    (void)got;
    char *body = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&body, &len);
    if (!f) {
        close(fd);
        return;
    }
    const de_scenario *s = r->s;
    fprintf(f, "# HELP deepedge_iterations Global iterations done and in total.\n# TYPE deepedge_iterations gauge\n");
    fprintf(f, "deepedge_iterations{state=\"done\"} %ld\ndeepedge_iterations{state=\"total\"} %ld\n", r->g_done,
            r->g_total);
    fprintf(f, "# TYPE deepedge_restarts_total counter\ndeepedge_restarts_total %d\n", r->restarts);
    fprintf(f, "# TYPE deepedge_loss gauge\ndeepedge_loss %.6g\n", r->last_loss);
    fprintf(f, "# TYPE deepedge_device_batch gauge\n# TYPE deepedge_device_compute_seconds gauge\n"
               "# TYPE deepedge_device_sync_seconds gauge\n# TYPE deepedge_device_cpu_seconds_total counter\n"
               "# TYPE deepedge_device_resident_bytes gauge\n# TYPE deepedge_device_up gauge\n");
    for (int d = 0; d < s->n_devices; d++) {
        const run_dev *D = &r->devs[d];
        const char *n = s->devices[d].name;
        fprintf(f, "deepedge_device_up{device=\"%s\"} %d\n", n, isnan(D->down_since));
        if (D->rank < 0 || !D->iters)
            continue;
        fprintf(f, "deepedge_device_batch{device=\"%s\"} %d\n", n, D->batch);
        fprintf(f, "deepedge_device_compute_seconds{device=\"%s\"} %.6g\n", n, D->compute + D->throttle);
        fprintf(f, "deepedge_device_sync_seconds{device=\"%s\"} %.6g\n", n, D->sync);
        fprintf(f, "deepedge_device_cpu_seconds_total{device=\"%s\"} %.3f\n", n, D->cpu_s);
        fprintf(f, "deepedge_device_resident_bytes{device=\"%s\"} %ld\n", n, D->rss_kb * 1024);
    }
    fprintf(f, "# HELP deepedge_lc_latency_seconds LC request latency (arrival to completion) since training began.\n"
               "# TYPE deepedge_lc_latency_seconds summary\n");
    const double ps[3] = {0.5, 0.95, 0.99};
    for (int t = 0; t < s->n_tasks; t++) {
        const run_task *T = &r->tasks[t];
        double q[3] = {NAN, NAN, NAN};
        if (T->all.n)
            de_hist_quantiles(&T->all, ps, 3, q);
        for (int k = 0; k < 3; k++)
            fprintf(f, "deepedge_lc_latency_seconds{task=\"%s\",quantile=\"%g\"} %.6g\n", s->tasks[t].name, ps[k], q[k]);
        fprintf(f, "deepedge_lc_latency_seconds_sum{task=\"%s\"} %.6g\n", s->tasks[t].name, T->all.sum);
        fprintf(f, "deepedge_lc_latency_seconds_count{task=\"%s\"} %llu\n", s->tasks[t].name,
                (unsigned long long)T->all.n);
    }
    fprintf(f, "# TYPE deepedge_lc_deadline_seconds gauge\n# TYPE deepedge_lc_over_deadline_total counter\n");
    for (int t = 0; t < s->n_tasks; t++) {
        fprintf(f, "deepedge_lc_deadline_seconds{task=\"%s\"} %.6g\n", s->tasks[t].name, s->tasks[t].deadline_s);
        fprintf(f, "deepedge_lc_over_deadline_total{task=\"%s\"} %ld\n", s->tasks[t].name, r->tasks[t].late);
    }
    fclose(f);
    char head[256];
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\n\r\n",
                      len);
    if (send(fd, head, (size_t)hl, MSG_NOSIGNAL) == hl)
        send(fd, body, len, MSG_NOSIGNAL);
    free(body);
    close(fd);
}
