/* de_worker.c — a training rank of `deepedge run` (see de_worker.h). */
#include "de_worker.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "de_ckpt.h"
#include "de_dataset.h"
#include "de_dp.h"
#include "de_emulate.h"
#include "de_exec_net.h"
#include "de_plan.h"
#include "de_prng.h"
#include "de_scenario.h"
#include "de_stage.h"
#include "de_train.h"
#include "de_util.h"
#include "de_wire.h"
#ifdef DE_HAVE_CUDA
#include "de_layers_cuda.h"
#endif

void de_worker_opts_default(de_worker_opts *o)
{
    memset(o, 0, sizeof *o);
    o->crash_iter = -1;
}

typedef struct worker {
    const de_worker_opts *o;
    int rank, size, fd;
    de_wire_reader rd;         /* the coordinator's control lines */
    de_scenario *scen;
    de_plan plan;
    int have_plan;
    const de_job *job;
    const char *device;        /* this rank's device */
    int dev;
    de_dataset *ds;
    de_net *net;
    de_trainer *tr;
    de_dp *dp;
    int *train, *val, n_train, n_val, *perm, perm_epoch;
    int C, H, W;
    float *x;
    int *y;
    int *reshare;              /* rank 0: the batches the coordinator asked for (NULL: none pending) */
} worker;

/* rank 0: a `reshare batches=b0,b1,...` line (de_wire.h): the new local batches, checked
 * against the global batch and each rank's capacity (only rank 0's is known here; the
 * coordinator checks every rank's with DE_WORKER_CAPACITY). */
static void take_reshare(worker *w, const char *line)
{
    char list[2048];
    if (!de_wire_get(line, "batches", list, sizeof list))
        return;
    int *b = de_calloc((size_t)w->size + 1, sizeof(int)), n = 0, sum = 0;
    for (char *p = list, *e; *p && n <= w->size; p = *e ? e + 1 : e) {
        long v = strtol(p, &e, 10);
        if (e == p || (*e && *e != ',') || v < 1 || v > 1000000)
            break;
        b[n++] = (int)v;
        sum += (int)v;
    }
    if (n != w->size || sum != w->job->global_batch) {
        free(b); /* not this plan's: ignored, as any line a worker does not take */
        return;
    }
    free(w->reshare);
    w->reshare = b;
}

/* Every rank, after a synchronisation whose control word asked for it: rank 0's new
 * batches to all, the data-parallel group and this rank's slice reconfigured. */
static int apply_reshare(worker *w, int *off, int *cnt, de_err *err)
{
    int *b = de_calloc((size_t)w->size + 1, sizeof(int));
    if (w->rank == 0)
        memcpy(b, w->reshare, (size_t)w->size * sizeof(int));
    MPI_Bcast(b, w->size, MPI_INT, 0, MPI_COMM_WORLD);
    int rc = b[w->rank] > DE_WORKER_CAPACITY(w->plan.shares[w->rank].batch)
                 ? de_err_set(err, DE_ERANGE, "reshare: batch %d over this worker's capacity %d", b[w->rank],
                              DE_WORKER_CAPACITY(w->plan.shares[w->rank].batch))
                 : de_dp_set_shares(w->dp, b, w->size, err);
    if (!rc) {
        *off = de_dp_offset(w->dp);
        *cnt = de_dp_local_batch(w->dp);
    }
    free(b);
    free(w->reshare);
    w->reshare = NULL;
    return rc;
}

static void report_error(worker *w, const de_err *err)
{
    char t[1024];
    de_wire_text(err->msg, t, sizeof t);
    de_wire_send(w->fd, DE_MSG_ERROR, "rank=%d dev=%s msg=%s", w->rank, w->device ? w->device : "?", t);
}

/* The rank's slice of global step g: samples perm[k*B + off ..], each augmented with its
 * own generator (seed, g, position), so the data does not depend on the plan. */
static void local_batch(worker *w, long g, int spe, int B, int off, int cnt)
{
    const de_exec_spec *e = &w->scen->exec;
    int epoch = (int)(g / spe), k = (int)(g % spe);
    if (epoch != w->perm_epoch) {
        memcpy(w->perm, w->train, (size_t)w->n_train * sizeof(int));
        uint64_t r = de_prng_seed(e->seed, 0xe90c0000ull + (uint64_t)epoch);
        de_prng_shuffle(&r, w->perm, w->n_train);
        w->perm_epoch = epoch;
    }
    size_t px = (size_t)w->C * w->H * w->W;
    for (int j = 0; j < cnt; j++) {
        int pos = off + j;
        uint64_t r = de_prng_seed(e->seed ^ 0xa06e000000000000ull, (uint64_t)g * (uint64_t)B + (uint64_t)pos);
        de_dataset_batch(w->ds, &w->perm[k * B + pos], 1, w->H, w->W, e->augment, &r, w->x + (size_t)j * px,
                         w->y + j);
    }
}

static int save_ckpt(worker *w, long g, int spe, int B, double lr, de_err *err)
{
    de_ckpt_meta m;
    memset(&m, 0, sizeof m);
    m.seed = w->scen->exec.seed;
    m.epoch = g / spe;
    m.step = g % spe;
    m.global_step = g;
    m.batch = B;
    m.lr = lr;
    m.momentum = de_train_options(w->tr)->momentum;
    m.weight_decay = de_train_options(w->tr)->weight_decay;
    int rc = de_train_pull(w->tr, err);
    char *p = de_path_join(w->o->out_dir, DE_RUN_CKPT);
    if (!rc)
        rc = de_ckpt_save(p, w->net, de_train_momentum(w->tr), &m, err);
    if (!rc && w->o->stage_dir) /* to the coordinator, before it is reported */
        rc = de_stage_put(w->o->report, p, DE_RUN_CKPT, g, err);
    free(p);
    return rc;
}

static int setup(worker *w, de_err *err)
{
    const de_worker_opts *o = w->o;
    int rc = de_scenario_load(o->scenario, o->catalog_dir, &w->scen, err);
    if (rc)
        return rc;
    const de_scenario *s = w->scen;
    if (!s->exec.present || s->n_jobs < 1)
        return de_err_set(err, DE_EMISSING, "%s: run needs an `exec` group and a job", o->scenario);
    de_plan_init(&w->plan);
    w->have_plan = 1;
    if ((rc = de_plan_read(o->plan, s, &w->plan, err)))
        return rc;
    if (w->plan.n_shares != w->size)
        return de_err_set(err, DE_EMISMATCH, "%s: the plan has %d devices but MPI started %d ranks", o->plan,
                          w->plan.n_shares, w->size);
    w->job = &s->jobs[w->plan.job];
    w->dev = w->plan.shares[w->rank].device;
    w->device = s->devices[w->dev].name;
    char host[256] = "?";
    gethostname(host, sizeof host);
    de_wire_send(w->fd, DE_MSG_HELLO, "rank=%d dev=%s pid=%ld host=%s batch=%d", w->rank, w->device, (long)getpid(), host,
                 w->plan.shares[w->rank].batch);
    if (o->cgroup_dir) {
        char *g = de_path_join(o->cgroup_dir, w->device);
        rc = de_cgroup_join(g, getpid(), err);
        free(g);
        if (rc)
            return rc;
    }
    if ((rc = de_dataset_open(o->cache, &w->ds, err)))
        return rc;
    if ((rc = de_exec_network(&s->catalog->networks[w->job->network], de_dataset_classes(w->ds), &w->net, err)))
        return de_err_set(err, rc, "%s: job '%s': %s", o->scenario, w->job->name, err->msg);
    de_net_init(w->net, s->exec.seed);
    if (s->exec.weights && (rc = de_exec_load_weights(w->net, s->exec.weights, err)))
        return rc;
    de_net_input(w->net, &w->C, &w->H, &w->W);
    int n = de_dataset_count(w->ds);
    w->train = de_calloc((size_t)n, sizeof(int));
    w->val = de_calloc((size_t)n, sizeof(int));
    w->perm = de_calloc((size_t)n, sizeof(int));
    w->perm_epoch = -1;
    de_dataset_split(w->ds, s->exec.val_frac, s->exec.seed, w->train, &w->n_train, w->val, &w->n_val);
    if (w->n_train < w->job->global_batch)
        return de_err_set(err, DE_ERANGE, "%s: %d training samples, fewer than the global batch %d", o->cache,
                          w->n_train, w->job->global_batch);
    int local = w->plan.shares[w->rank].batch;
    de_train_opts to;
    de_train_opts_default(&to);
    to.max_batch = DE_WORKER_CAPACITY(local); /* evaluation runs in chunks of 64; a reshare up to it */
    to.threads = s->exec.threads;
    /* The backend: CUDA on a physical GPU device (auto) or when asked (cuda). */
    const de_device_type *ty = &s->catalog->types[s->devices[w->dev].type];
    int gpu_type = strcmp(ty->kind, "cpu") != 0 && !(ty->emulation_cpu_cores > 0);
    int have_gpu = 0;
#ifdef DE_HAVE_CUDA
    have_gpu = de_cuda_device_count() > 0;
#endif
    if (strcmp(s->exec.backend, "cuda") == 0 || (strcmp(s->exec.backend, "auto") == 0 && gpu_type && have_gpu))
        to.device = DE_BACKEND_CUDA;
    de_wire_send(w->fd, DE_MSG_BACKEND, "rank=%d dev=%s backend=%s", w->rank, w->device,
                 to.device == DE_BACKEND_CUDA ? "cuda" : "cpu");
    if ((rc = de_train_create(w->net, &to, &w->tr, err)))
        return rc;
    int *shares = de_calloc((size_t)w->size, sizeof(int));
    for (int r = 0; r < w->size; r++)
        shares[r] = w->plan.shares[r].batch;
    rc = de_dp_create(w->tr, de_net_n_params(w->net), MPI_COMM_WORLD, shares, w->size, &w->dp, err);
    free(shares);
    w->x = de_calloc((size_t)to.max_batch * w->C * w->H * w->W, sizeof(float));
    w->y = de_calloc((size_t)to.max_batch, sizeof(int));
    return rc;
}

/* Validation accuracy and loss (rank 0, after training). */
static int evaluate(worker *w, double *loss, double *acc, de_err *err)
{
    double lsum = 0;
    long hits = 0;
    for (int i = 0; i < w->n_val; i += 64) {
        int n = w->n_val - i < 64 ? w->n_val - i : 64;
        de_dataset_batch(w->ds, w->val + i, n, w->H, w->W, 0, NULL, w->x, w->y);
        double l;
        int c;
        int rc = de_train_eval(w->tr, w->x, w->y, n, &l, &c, NULL, err);
        if (rc)
            return rc;
        lsum += l * n;
        hits += c;
    }
    *loss = w->n_val ? lsum / w->n_val : NAN;
    *acc = w->n_val ? (double)hits / w->n_val : NAN;
    return DE_OK;
}

static int train(worker *w, de_err *err)
{
    const de_worker_opts *o = w->o;
    const de_scenario *s = w->scen;
    const int B = w->job->global_batch, spe = w->n_train / B;
    const long total = (long)w->job->epochs * spe;
    const double lr = s->exec.lr;
    long g = 0;
    int rc;
    if (o->resume) {
        de_ckpt_meta m;
        if ((rc = de_ckpt_load(o->resume, w->net, de_train_momentum(w->tr), &m, err)))
            return rc;
        if (m.batch != B || m.seed != s->exec.seed)
            return de_err_set(err, DE_EMISMATCH, "%s: checkpoint of a run with batch %lld seed %llu, not batch %d seed %llu",
                              o->resume, (long long)m.batch, (unsigned long long)m.seed, B,
                              (unsigned long long)s->exec.seed);
        if ((rc = de_train_push(w->tr, err)))
            return rc;
        g = m.global_step;
    }
    double pad_to = w->size > 1 ? o->pad_s : 0; /* link emulation by padding (the coordinator's figure) */
    const de_device_type *type = &s->catalog->types[s->devices[w->dev].type];
    de_throttle thr = {o->duty_throttle ? type->emulation_cpu_cores : 0, 0};
    int off = de_dp_offset(w->dp), cnt = de_dp_local_batch(w->dp);
    int stopped = 0;
    for (; g < total; g++) {
        if (o->crash_device && strcmp(o->crash_device, w->device) == 0 && g == o->crash_iter) {
            de_wire_send(w->fd, DE_MSG_CRASH, "rank=%d dev=%s g=%ld", w->rank, w->device, g);
            raise(SIGKILL);
        }
        int control = 0;
        if (w->fd >= 0) { /* the coordinator's control lines (de_wire.h) */
            char *line;
            de_msg m;
            double v;
            int r;
            while ((r = de_wire_next(&w->rd, w->fd, &line)) == DE_WIRE_LINE || r == DE_WIRE_LONG) {
                if (r == DE_WIRE_LINE && w->rank == 0 && de_wire_msg(line) == DE_MSG_RESHARE) {
                    take_reshare(w, line); /* taken at the end of this iteration, on every rank */
                    continue;
                }
                if (r == DE_WIRE_LONG || de_wire_control(line, &m, &v))
                    continue; /* not a control line: ignored */
                if (m == DE_MSG_STOP && w->rank == 0)
                    control = 1;
                else if (m == DE_MSG_PAD && o->pad_s > 0 && w->size > 1)
                    pad_to = v; /* a link changed under the running plan */
                else if (m == DE_MSG_CORES && v > 0 && thr.cores > 0)
                    thr.cores = v; /* a slowdown under duty-cycle throttling */
            }
            if (r == DE_WIRE_CLOSED && w->rank == 0)
                control = 1; /* the coordinator is gone: checkpoint and stop */
        }
        if (o->stop_after > 0 && g + 1 >= o->stop_after && w->rank == 0)
            control = 1;
        if (!control && w->reshare && g + 1 < total)
            control = 2; /* rank 0: every rank takes the new batches after this iteration */
        double t0 = de_now_s();
        local_batch(w, g, spe, B, off, cnt);
        double local_loss;
        if ((rc = de_train_grad(w->tr, w->x, w->y, cnt, &local_loss, NULL, err)))
            return rc;
        double t1 = de_now_s();
        double slept0 = thr.slept_s;
        de_throttle_after(&thr, t1 - t0);
        double t2 = de_now_s();
        double loss, mpi_s;
        int ctl;
        if ((rc = de_dp_sync(w->dp, local_loss, control, lr, &loss, &ctl, &mpi_s, err)))
            return rc;
        double t3 = de_now_s(), pad = 0;
        if (pad_to > mpi_s) {
            pad = pad_to - mpi_s;
            de_sleep_s(pad, NULL);
        }
        double t4 = de_now_s();
        de_wire_send(w->fd,
                     DE_MSG_ITER, "rank=%d dev=%s g=%ld total=%ld epoch=%ld batch=%d compute=%.6f throttle=%.6f sync=%.6f "
                     "mpi=%.6f pad=%.6f step=%.6f loss=%.6f cpu_s=%.3f rss_kb=%ld",
                     w->rank, w->device, g + 1, total, g / spe, cnt, t1 - t0, thr.slept_s - slept0, t3 - t2, mpi_s,
                     pad, t4 - t0, loss, de_proc_cpu_s(), de_proc_rss_kb());
        int ckpt_now = (g + 1) % w->job->checkpoint_interval == 0 || ctl == 1;
        if (ckpt_now && g + 1 < total && w->rank == 0) {
            double c0 = de_now_s();
            if ((rc = save_ckpt(w, g + 1, spe, B, lr, err)))
                return rc;
            de_wire_send(w->fd, DE_MSG_CKPT, "g=%ld s=%.6f", g + 1, de_now_s() - c0);
        }
        if (ctl == 1) {
            stopped = 1;
            g++;
            break;
        }
        if (ctl == 2) { /* in place: same ranks, new slices from the next iteration on */
            if ((rc = apply_reshare(w, &off, &cnt, err)))
                return rc;
            if (w->rank == 0) /* the first iteration (1-based, as in iter lines) on the new batches */
                de_wire_send(w->fd, DE_MSG_RESHARED, "g=%ld batch=%d", g + 2, cnt);
        }
    }
    if (w->rank == 0) {
        double vl = NAN, va = NAN;
        if (!stopped) {
            if ((rc = save_ckpt(w, g, spe, B, lr, err)))
                return rc;
            char *p = de_path_join(o->out_dir, DE_RUN_WEIGHTS);
            rc = de_train_pull(w->tr, err);
            if (!rc)
                rc = de_net_save_weights(w->net, p, err);
            if (!rc && o->stage_dir)
                rc = de_stage_put(o->report, p, DE_RUN_WEIGHTS, g, err);
            free(p);
            if (!rc)
                rc = evaluate(w, &vl, &va, err);
            if (rc)
                return rc;
        }
        de_wire_send(w->fd, DE_MSG_DONE, "g=%ld total=%ld stopped=%d val_loss=%.6f val_acc=%.6f", g, total, stopped, vl, va);
    }
    return DE_OK;
}

/* --stage: the first rank of each host fetches the files (de_stage.h) while the others
 * wait; then every rank reads its host's copies. *lo: o with the paths of the copies. */
static int stage(const de_worker_opts *o, MPI_Comm comm, de_worker_opts *lo, char *owned[6], de_err *err)
{
    *lo = *o;
    if (!o->stage_dir)
        return DE_OK;
    if (!o->report)
        return de_err_set(err, DE_EINVAL, "--stage needs --report (the coordinator serves the files)");
    MPI_Comm node;
    int local, rc = DE_OK;
    MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &local);
    if (local == 0) {
        int n;
        long long bytes;
        rc = de_stage_sync(o->report, o->stage_dir, &n, &bytes, err);
    }
    char msg[sizeof err->msg];
    snprintf(msg, sizeof msg, "%s", rc ? err->msg : "");
    MPI_Bcast(&rc, 1, MPI_INT, 0, node);
    MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, 0, node);
    MPI_Comm_free(&node);
    if (rc)
        return de_err_set(err, rc, "%s", msg);
    const char **paths[] = {&lo->scenario, &lo->plan, &lo->cache, &lo->out_dir, &lo->resume, &lo->catalog_dir};
    for (int i = 0; i < 6; i++)
        if (*paths[i])
            *paths[i] = owned[i] = de_stage_local(o->stage_dir, *paths[i]);
    if (de_mkdir_p(lo->out_dir) != 0)
        return de_err_set(err, DE_EIO, "%s: cannot make the stage's output folder", lo->out_dir);
    return DE_OK;
}

int de_worker_run(const de_worker_opts *opts, MPI_Comm comm, de_err *err)
{
    worker w;
    memset(&w, 0, sizeof w);
    de_worker_opts staged;
    char *owned[6] = {0};
    const de_worker_opts *o = &staged;
    w.o = o;
    w.fd = -1;
    de_wire_reader_init(&w.rd);
    MPI_Comm_rank(comm, &w.rank);
    MPI_Comm_size(comm, &w.size);
    int rc = DE_OK;
    if (opts->report)
        rc = de_wire_connect(opts->report, &w.fd, err);
    if (!rc)
        rc = stage(opts, comm, &staged, owned, err);
    else
        staged = *opts;
    if (!rc)
        rc = setup(&w, err);
    if (!rc)
        rc = train(&w, err);
    if (rc)
        report_error(&w, err);
    else
        de_wire_send(w.fd, DE_MSG_BYE, "rank=%d dev=%s", w.rank, w.device);
    if (w.fd >= 0)
        close(w.fd);
    free(w.x);
    free(w.y);
    free(w.reshare);
    free(w.train);
    free(w.val);
    free(w.perm);
    de_dp_destroy(w.dp);
    de_train_destroy(w.tr);
    de_net_destroy(w.net);
    de_dataset_destroy(w.ds);
    if (w.have_plan)
        de_plan_free(&w.plan);
    de_scenario_destroy(w.scen);
    for (int i = 0; i < 6; i++)
        free(owned[i]);
    return rc;
}
