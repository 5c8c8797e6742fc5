/* de_lcwatch.c — observing an existing LC application (de_lcwatch.h). */
#include "de_lcwatch.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "de_emulate.h"
#include "de_hist.h"
#include "de_prng.h"
#include "de_util.h"
#include "de_wire.h"

#define MAX_OUTSTANDING 512
#define PROBE_TIMEOUT_S 60.0
#define FAILED_LAT_S 1e6 /* what a failed request counts as: later than any deadline */

typedef struct watch {
    const de_lc_watch_opts *o;
    de_lc_serve_stats *st;
    de_hist all;
    double lat_sum;
    double t_start, last_stat;
    long seen_since_stat; /* requests reported since the last lcstat (log, metrics: the rate seen) */
    double rate;
    int stopped;
    de_wire_reader rd;
} watch;

static void report(watch *w, double lat, int fail)
{
    de_lc_serve_stats *st = w->st;
    if (fail)
        lat = FAILED_LAT_S;
    de_hist_add(&w->all, lat);
    w->lat_sum += lat;
    st->requests++;
    st->violations += lat > w->o->deadline_s;
    st->max_s = fmax(st->max_s, lat);
    w->seen_since_stat++;
    if (w->o->fd >= 0)
        de_wire_send(w->o->fd, DE_MSG_LCREQ, "task=%s lat=%.6f svc=%.6f fail=%d", w->o->task, lat, lat, fail);
}

/* Control lines (rate, stop) and the once-a-second lcstat. Returns 1 when it must stop. */
static int housekeeping(watch *w, int probes)
{
    const de_lc_watch_opts *o = w->o;
    if (o->stop && *o->stop)
        return 1;
    if (o->fd >= 0) {
        char *line;
        de_msg m;
        double v;
        int r;
        while ((r = de_wire_next(&w->rd, o->fd, &line)) == DE_WIRE_LINE || r == DE_WIRE_LONG) {
            if (r == DE_WIRE_LONG || de_wire_control(line, &m, &v))
                continue;
            if (m == DE_MSG_RATE && probes && !o->trace)
                w->rate = v;
            else if (m == DE_MSG_STOP)
                w->stopped = 1;
        }
        if (r == DE_WIRE_CLOSED)
            w->stopped = 1;
    }
    double now = de_now_s();
    if (now - w->last_stat >= 1.0 && o->fd >= 0) {
        double seen = (double)w->seen_since_stat / (now - w->last_stat);
        de_wire_send(o->fd, DE_MSG_LCSTAT, "task=%s n=%ld cpu_s=%.3f rss_kb=%ld rate=%.4g", o->task, w->st->requests,
                     de_proc_cpu_s(), de_proc_rss_kb(), probes ? w->rate : seen);
        w->last_stat = now;
        w->seen_since_stat = 0;
    }
    return w->stopped || (o->duration_s > 0 && now - w->t_start >= o->duration_s);
}

/* ---- probes ---- */

typedef struct probe {
    int fd;          /* -1: free */
    double arrival;  /* scheduled arrival (monotonic s) */
    int sent;        /* the request is written */
    char head[64];   /* the reply's first bytes (status line) */
    size_t got;
} probe;

static int resolve(const char *hostport, struct sockaddr_storage *sa, socklen_t *len, de_err *err)
{
    struct addrinfo *res = NULL;
    int rc = de_wire_resolve(hostport, &res, err);
    if (rc)
        return rc;
    memcpy(sa, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return DE_OK;
}

static int open_conn(const struct sockaddr_storage *sa, socklen_t len)
{
    int fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)sa, len) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

static void finish(watch *w, probe *p, int fail)
{
    report(w, de_now_s() - p->arrival, fail);
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
}

/* The reply so far is complete: http at EOF with a 2xx status; tcp at its first newline. */
static void on_readable(watch *w, probe *p, int http)
{
    char buf[4096];
    for (;;) {
        ssize_t k = recv(p->fd, buf, sizeof buf, 0);
        if (k > 0) {
            size_t room = sizeof p->head - 1 - p->got, take = (size_t)k < room ? (size_t)k : room;
            memcpy(p->head + p->got, buf, take);
            p->got += take;
            p->head[p->got] = '\0';
            if (!http && memchr(buf, '\n', (size_t)k)) {
                finish(w, p, 0);
                return;
            }
            continue;
        }
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (k < 0 && errno == EINTR)
            continue;
        /* EOF or an error: http is complete when the status is 2xx; tcp never got its line */
        int ok = http && k == 0 && strncmp(p->head, "HTTP/1.", 7) == 0 && p->got >= 12 && p->head[9] == '2';
        finish(w, p, !ok);
        return;
    }
}

static int run_probes(watch *w, de_err *err)
{
    const de_lc_watch_opts *o = w->o;
    const de_lc_service *v = o->svc;
    int http = v->kind == DE_LC_SVC_HTTP;
    struct sockaddr_storage sa;
    socklen_t salen;
    int rc = resolve(v->address, &sa, &salen, err);
    if (rc)
        return de_err_set(err, rc, "LC task '%s': service address: %s", o->task, err->msg);
    char req[1024];
    int reqlen = http ? snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n", v->path,
                                 v->address)
                      : snprintf(req, sizeof req, "%s\n", v->request);
    if (reqlen <= 0 || (size_t)reqlen >= sizeof req)
        return de_err_set(err, DE_ERANGE, "LC task '%s': the request is longer than %zu bytes", o->task, sizeof req);
    probe *ps = de_calloc(MAX_OUTSTANDING, sizeof *ps);
    for (int i = 0; i < MAX_OUTSTANDING; i++)
        ps[i].fd = -1;
    uint64_t rng = de_prng_seed(o->seed, 0x9b0be);
    double next = de_lc_next_arrival(o->trace, o->trace_t0_s, &rng, w->rate, w->t_start, w->t_start);
    double rate_was = w->rate;
    struct pollfd pf[MAX_OUTSTANDING];
    int map[MAX_OUTSTANDING];
    while (!housekeeping(w, 1)) {
        double now = de_now_s();
        if (w->rate != rate_was) { /* a new rate: the next gap is drawn at it */
            rate_was = w->rate;
            next = de_lc_next_arrival(o->trace, o->trace_t0_s, &rng, w->rate, now, w->t_start);
        }
        while (next <= now) { /* every request due: a new connection each (open loop) */
            int slot = -1;
            for (int i = 0; i < MAX_OUTSTANDING && slot < 0; i++)
                if (ps[i].fd < 0)
                    slot = i;
            probe tmp = {-1, next, 0, "", 0};
            probe *p = slot >= 0 ? &ps[slot] : &tmp;
            *p = tmp;
            p->fd = slot >= 0 ? open_conn(&sa, salen) : -1;
            if (p->fd < 0)
                finish(w, p, 1); /* refused at once, or too many outstanding */
            next = de_lc_next_arrival(o->trace, o->trace_t0_s, &rng, w->rate, next, w->t_start);
        }
        int n = 0;
        for (int i = 0; i < MAX_OUTSTANDING; i++) {
            if (ps[i].fd < 0)
                continue;
            if (now - ps[i].arrival > PROBE_TIMEOUT_S) {
                finish(w, &ps[i], 1);
                continue;
            }
            pf[n].fd = ps[i].fd;
            pf[n].events = ps[i].sent ? POLLIN : POLLOUT;
            pf[n].revents = 0;
            map[n++] = i;
        }
        double wait = fmin(fmin(next - now, 0.02), 1.0);
        if (poll(pf, (nfds_t)n, wait > 0 ? (int)ceil(wait * 1000) : 0) <= 0)
            continue;
        for (int k = 0; k < n; k++) {
            probe *p = &ps[map[k]];
            if (!pf[k].revents || p->fd < 0)
                continue;
            if (!p->sent) {
                int e = 0;
                socklen_t el = sizeof e;
                getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &e, &el);
                if (e || send(p->fd, req, (size_t)reqlen, MSG_NOSIGNAL) != reqlen) {
                    finish(w, p, 1); /* refused, or a reply-less peer */
                    continue;
                }
                p->sent = 1;
                if (http)
                    shutdown(p->fd, SHUT_WR);
            } else {
                on_readable(w, p, http);
            }
        }
    }
    for (int i = 0; i < MAX_OUTSTANDING; i++)
        if (ps[i].fd >= 0)
            close(ps[i].fd); /* in flight at the end: not counted */
    free(ps);
    return DE_OK;
}

/* ---- a latency log ---- */

/* The column'th whitespace-separated field of line as a number, NAN when absent. */
static double column_of(char *line, int column)
{
    char *save = NULL, *t = strtok_r(line, " \t\r,", &save);
    for (int i = 1; t && i < column; i++)
        t = strtok_r(NULL, " \t\r,", &save);
    if (!t)
        return NAN;
    char *end;
    double v = strtod(t, &end);
    return end != t && *end == '\0' ? v : NAN;
}

static int run_log(watch *w, de_err *err)
{
    const de_lc_service *v = w->o->svc;
    FILE *f = NULL;
    ino_t ino = 0;
    long long pos = -1; /* -1: start at the end of the file as it is now */
    char line[8192];
    size_t have = 0;
    long bad = 0;
    double next_read = 0;
    while (!housekeeping(w, 0)) {
        double now = de_now_s();
        if (now < next_read) {
            de_sleep_s(fmin(next_read - now, 0.05), w->o->stop);
            continue;
        }
        next_read = now + v->interval_s;
        struct stat sb;
        if (stat(v->log, &sb) != 0) {
            if (!f && now - w->t_start > 30)
                return de_err_set(err, DE_EIO, "LC task '%s': service log %s: %s (for 30 s)", w->o->task, v->log,
                                  strerror(errno));
            continue; /* not there yet, or being rotated */
        }
        if (f && (sb.st_ino != ino || sb.st_size < pos)) { /* rotated or truncated: read the new one whole */
            fclose(f);
            f = NULL;
            pos = 0;
            have = 0;
        }
        if (!f) {
            if (!(f = fopen(v->log, "r")))
                continue;
            ino = sb.st_ino;
            if (pos < 0)
                pos = sb.st_size;
        }
        if (fseeko(f, (off_t)pos, SEEK_SET) != 0)
            continue;
        int ch;
        while ((ch = fgetc(f)) != EOF) {
            pos++;
            if (ch != '\n') {
                if (have < sizeof line - 1)
                    line[have++] = (char)ch;
                continue;
            }
            line[have] = '\0';
            have = 0;
            double x = column_of(line, v->column);
            if (isfinite(x) && x >= 0)
                report(w, x * v->unit_s, 0);
            else if (bad++ < 3 && w->o->fd >= 0) {
                char m[256];
                snprintf(m, sizeof m, "service log %s: a line without a latency in column %d (skipped)", v->log,
                         v->column);
                de_wire_text(m, line, sizeof line);
                de_wire_send(w->o->fd, DE_MSG_LCERROR, "task=%s msg=%s", w->o->task, line);
            }
        }
        clearerr(f);
    }
    if (f)
        fclose(f);
    return DE_OK;
}

/* ---- a Prometheus histogram ---- */

int de_prom_histogram(const char *text, const char *name, double *le, double *count, int max)
{
    int n = 0;
    size_t nl = strlen(name);
    for (const char *p = text; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > nl + 7 && strncmp(p, name, nl) == 0 && strncmp(p + nl, "_bucket", 7) == 0 &&
            (p[nl + 7] == '{' || p[nl + 7] == ' ')) {
            char buf[1024];
            size_t l = len < sizeof buf - 1 ? len : sizeof buf - 1;
            memcpy(buf, p, l);
            buf[l] = '\0';
            char *lp = strstr(buf, "le=\"");
            char *close = strrchr(buf, '}');
            if (lp && close) {
                char *end;
                double b = strncmp(lp + 4, "+Inf\"", 5) == 0 ? INFINITY : strtod(lp + 4, &end);
                double c = strtod(close + 1, &end);
                if (!isnan(b) && isfinite(c) && c >= 0) {
                    int k = 0;
                    while (k < n && le[k] != b)
                        k++;
                    if (k == n && n < max) {
                        le[n] = b;
                        count[n++] = 0;
                    }
                    if (k < n)
                        count[k] += c;
                }
            }
        }
        p = eol ? eol + 1 : NULL;
    }
    for (int i = 1; i < n; i++) /* ascending bounds (few: insertion sort) */
        for (int j = i; j > 0 && le[j] < le[j - 1]; j--) {
            double t = le[j];
            le[j] = le[j - 1], le[j - 1] = t;
            t = count[j];
            count[j] = count[j - 1], count[j - 1] = t;
        }
    return n;
}

/* GET url (http://HOST[:PORT]/PATH) within 2 s: the body (malloc'd), NULL on failure. */
static char *http_get(const char *url, char *why, size_t wn)
{
    const char *h = url + 7, *slash = strchr(h, '/');
    char hostport[300];
    size_t hl = slash ? (size_t)(slash - h) : strlen(h);
    if (hl == 0 || hl >= sizeof hostport - 4) {
        snprintf(why, wn, "no host in the URL");
        return NULL;
    }
    memcpy(hostport, h, hl);
    hostport[hl] = '\0';
    if (!strchr(hostport, ':'))
        strcat(hostport, ":80");
    struct sockaddr_storage sa;
    socklen_t len;
    de_err err;
    if (resolve(hostport, &sa, &len, &err)) {
        snprintf(why, wn, "%s", err.msg);
        return NULL;
    }
    int fd = open_conn(&sa, len);
    char req[1200];
    snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n", slash ? slash : "/",
             hostport);
    size_t cap = 1 << 16, got = 0, sent = 0, reqlen = strlen(req);
    char *buf = de_calloc(cap, 1);
    double end = de_now_s() + 2.0;
    while (fd >= 0) {
        struct pollfd pf = {fd, sent < reqlen ? POLLOUT : POLLIN, 0};
        double left = end - de_now_s();
        if (left <= 0 || poll(&pf, 1, (int)(left * 1000) + 1) <= 0) {
            snprintf(why, wn, "no answer within 2 s");
            break;
        }
        if (sent < reqlen) {
            ssize_t k = send(fd, req + sent, reqlen - sent, MSG_NOSIGNAL);
            if (k <= 0) {
                snprintf(why, wn, "connection refused or reset");
                break;
            }
            sent += (size_t)k;
            continue;
        }
        if (got + 1 >= cap) {
            if (cap >= (1u << 26)) {
                snprintf(why, wn, "over 64 MiB");
                break;
            }
            cap *= 2;
            buf = de_realloc(buf, cap);
        }
        ssize_t k = recv(fd, buf + got, cap - 1 - got, 0);
        if (k > 0) {
            got += (size_t)k;
            continue;
        }
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        buf[got] = '\0';
        close(fd);
        char *body = strstr(buf, "\r\n\r\n");
        if (strncmp(buf, "HTTP/1.", 7) != 0 || got < 12 || buf[9] != '2' || !body) {
            snprintf(why, wn, "not a 2xx HTTP reply");
            free(buf);
            return NULL;
        }
        memmove(buf, body + 4, strlen(body + 4) + 1);
        return buf;
    }
    if (fd < 0)
        snprintf(why, wn, "cannot connect");
    else
        close(fd);
    free(buf);
    return NULL;
}

#define MAX_BUCKETS 128

static int run_metrics(watch *w, de_err *err)
{
    const de_lc_service *v = w->o->svc;
    double le[MAX_BUCKETS], cnt[MAX_BUCKETS], prev_le[MAX_BUCKETS], prev[MAX_BUCKETS];
    int np = -1; /* -1: no baseline yet */
    double next_scrape = 0, first_ok = NAN;
    int failing = 0; /* inside a run of failed scrapes (reported once) */
    while (!housekeeping(w, 0)) {
        double now = de_now_s();
        if (now < next_scrape) {
            de_sleep_s(fmin(next_scrape - now, 0.05), w->o->stop);
            continue;
        }
        next_scrape = now + v->interval_s;
        char why[300];
        char *text = http_get(v->path, why, sizeof why);
        int got = text != NULL, n = got ? de_prom_histogram(text, v->histogram, le, cnt, MAX_BUCKETS) : 0;
        free(text);
        if (n == 0) {
            const char *what = got ? "no such histogram" : why;
            if (isnan(first_ok) && now - w->t_start > 30)
                return de_err_set(err, DE_EIO, "LC task '%s': %s: %s for 30 s", w->o->task, v->path, what);
            if (!isnan(first_ok) && !failing++ && w->o->fd >= 0) {
                /* the counters are cumulative: what happens meanwhile is counted at the next good scrape */
                char m[600], t[600];
                snprintf(m, sizeof m, "scraping %s failed (%s); requests are counted at the next scrape", v->path,
                         what);
                de_wire_text(m, t, sizeof t);
                de_wire_send(w->o->fd, DE_MSG_LCERROR, "task=%s msg=%s", w->o->task, t);
            }
            continue;
        }
        failing = 0;
        if (isnan(first_ok))
            first_ok = now;
        int same = np == n;
        for (int i = 0; same && i < n; i++)
            same = prev_le[i] == le[i] && cnt[i] >= prev[i];
        if (same) /* the requests since the last scrape, each at its bucket's upper bound */
            for (int i = 0; i < n; i++) {
                double d = (cnt[i] - prev[i]) - (i ? cnt[i - 1] - prev[i - 1] : 0);
                for (long k = 0; k < (long)d && k < 1000000; k++)
                    report(w, isfinite(le[i]) ? le[i] : FAILED_LAT_S, !isfinite(le[i]));
            }
        /* else: a first scrape, a restarted application or new buckets: a new baseline */
        memcpy(prev_le, le, sizeof le[0] * (size_t)n);
        memcpy(prev, cnt, sizeof cnt[0] * (size_t)n);
        np = n;
    }
    return DE_OK;
}

int de_lc_watch(const de_lc_watch_opts *o, de_lc_serve_stats *st, de_err *err)
{
    memset(st, 0, sizeof *st);
    watch w;
    memset(&w, 0, sizeof w);
    w.o = o;
    w.st = st;
    w.rate = o->rate;
    w.t_start = w.last_stat = de_now_s();
    de_hist_init(&w.all);
    de_wire_reader_init(&w.rd);
    int rc;
    switch (o->svc->kind) {
    case DE_LC_SVC_HTTP:
    case DE_LC_SVC_TCP: rc = run_probes(&w, err); break;
    case DE_LC_SVC_LOG: rc = run_log(&w, err); break;
    case DE_LC_SVC_METRICS: rc = run_metrics(&w, err); break;
    default: rc = de_err_set(err, DE_EINVAL, "LC task '%s': no service to observe", o->task);
    }
    st->elapsed_s = de_now_s() - w.t_start;
    if (st->requests) {
        const double ps[3] = {0.5, 0.95, 0.99};
        double q[3];
        de_hist_quantiles(&w.all, ps, 3, q);
        st->p50_s = q[0];
        st->p95_s = q[1];
        st->p99_s = q[2];
        st->mean_s = w.lat_sum / (double)st->requests;
        st->service_mean_s = st->mean_s;
    }
    de_hist_free(&w.all);
    return rc;
}
