/* de_train.c — trainer (CPU graph executor, CUDA dispatch) and the training loop (see de_train.h). */
#include "de_train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "de_ckpt.h"
#include "de_layers_cpu.h"
#include "de_prng.h"
#include "de_util.h"
#ifdef DE_HAVE_CUDA
#include "de_layers_cuda.h"
#endif

struct de_trainer {
    de_net *net;
    de_train_opts o;
    int nl;
    size_t *osz;      /* output floats per image, per layer */
    float **act;      /* per layer, max_batch x osz */
    float **dact;     /* gradients of the outputs (NULL where never needed) */
    int *needs;       /* the gradient of layer i's output is needed */
    int *fused;       /* CPU: 1 for a conv whose output only feeds the ReLU after it (the conv writes
                       * the ReLU's output; its own act/dact are not stored), 2 for that ReLU */
    int *fresh;       /* CPU backward: dact[i] not written yet in this pass */
    float *bnsave;    /* per BN layer 2C: batch mean, 1/std */
    size_t *bn_off;
    float *ws;
    size_t ws_n;
    float *grad, *mom, *dlogits;
    const float *x;   /* input of the last forward (borrowed during a call) */
    int last_n;
#ifdef DE_HAVE_CUDA
    de_cuda_net *cu;
#endif
};

void de_train_opts_default(de_train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_batch = 32;
    o->device = DE_BACKEND_CPU;
    o->momentum = 0.9;
    o->weight_decay = 5e-4;
}

void de_train_run_opts_default(de_train_run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->batch = 32;
    o->epochs = 1;
    o->lr = 0.01;
    o->seed = 1;
    o->val_frac = 0.2;
    o->augment = 1;
}

static int trainable(const de_layer *L) { return !L->frozen && (L->w_n + L->b_n) > 0; }
/* A layer's biases in P, NULL for a convolution without them (`conv ... nobias`). */
static const float *bias_of(const de_layer *L, const float *P) { return L->b_n ? P + L->b_off : NULL; }

int de_train_create(de_net *net, const de_train_opts *o, de_trainer **out, de_err *err)
{
    *out = NULL;
    if (o->max_batch < 1 || o->max_batch > 65536)
        return de_err_set(err, DE_ERANGE, "batch %d not in [1, 65536]", o->max_batch);
    de_trainer *tr = de_calloc(1, sizeof *tr);
    tr->net = net;
    tr->o = *o;
    size_t np = de_net_n_params(net);
    tr->grad = de_calloc(np ? np : 1, sizeof(float));
    tr->mom = de_calloc(np ? np : 1, sizeof(float));
    if (o->device == DE_BACKEND_CUDA) {
#ifdef DE_HAVE_CUDA
        int rc = de_cuda_create(net, o->max_batch, &tr->cu, err);
        if (rc) {
            de_train_destroy(tr);
            return rc;
        }
        *out = tr;
        return 0;
#else
        de_train_destroy(tr);
        return de_err_set(err, DE_EINVAL, "--device cuda: this deepedge was built without CUDA (no nvcc at build time)");
#endif
    }
    if (o->threads > 0)
        de_layers_cpu_threads(o->threads);
    int nl = tr->nl = de_net_n_layers(net);
    int B = o->max_batch;
    tr->osz = de_calloc((size_t)nl, sizeof *tr->osz);
    tr->act = de_calloc((size_t)nl, sizeof *tr->act);
    tr->dact = de_calloc((size_t)nl, sizeof *tr->dact);
    tr->needs = de_calloc((size_t)nl, sizeof *tr->needs);
    tr->bn_off = de_calloc((size_t)nl, sizeof *tr->bn_off);
    tr->fused = de_calloc((size_t)nl, sizeof *tr->fused);
    tr->fresh = de_calloc((size_t)nl, sizeof *tr->fresh);
    for (int i = 0; i + 1 < nl; i++) {
        const de_layer *L = de_net_layer(net, i), *R = de_net_layer(net, i + 1);
        int readers = 0;
        for (int j = i + 1; j < nl; j++) {
            const de_layer *M = de_net_layer(net, j);
            readers += (M->in == i) + (M->in2 == i);
        }
        if (L->kind == DE_LAYER_CONV && R->kind == DE_LAYER_RELU && R->in == i && readers == 1)
            tr->fused[i] = 1, tr->fused[i + 1] = 2;
    }
    size_t bn = 0;
    /* conv scratch: cache-sized chunks per thread (de_layers_cpu_conv_ws) */
    size_t ws = 1;
    for (int i = 0; i < nl; i++) {
        const de_layer *L = de_net_layer(net, i);
        tr->osz[i] = (size_t)L->oc * L->oh * L->ow;
        if (tr->fused[i] != 1)
            tr->act[i] = de_calloc((size_t)B * tr->osz[i], sizeof(float));
        tr->needs[i] = trainable(L) || (L->in >= 0 && tr->needs[L->in]) || (L->in2 >= 0 && tr->needs[L->in2]);
        if (L->kind == DE_LAYER_BN) {
            tr->bn_off[i] = bn;
            bn += 2 * (size_t)L->c;
        }
        if (L->kind == DE_LAYER_CONV) {
            size_t want = de_layers_cpu_conv_ws(L, B);
            if (want > ws)
                ws = want;
        }
    }
    for (int i = 0; i < nl; i++)
        if (tr->needs[i] && tr->fused[i] != 1)
            tr->dact[i] = de_calloc((size_t)B * tr->osz[i], sizeof(float));
    tr->bnsave = de_calloc(bn ? bn : 1, sizeof(float));
    tr->ws_n = ws;
    tr->ws = de_calloc(ws, sizeof(float));
    tr->dlogits = de_calloc((size_t)B * (size_t)de_net_classes(net), sizeof(float));
    *out = tr;
    return 0;
}

void de_train_destroy(de_trainer *tr)
{
    if (!tr)
        return;
#ifdef DE_HAVE_CUDA
    de_cuda_destroy(tr->cu);
#endif
    for (int i = 0; i < tr->nl; i++) {
        free(tr->act[i]);
        free(tr->dact[i]);
    }
    free(tr->act);
    free(tr->dact);
    free(tr->osz);
    free(tr->needs);
    free(tr->fused);
    free(tr->fresh);
    free(tr->bn_off);
    free(tr->bnsave);
    free(tr->ws);
    free(tr->grad);
    free(tr->mom);
    free(tr->dlogits);
    free(tr);
}

de_backend de_train_backend(const de_trainer *tr) { return tr->o.device; }

static const float *input_of(const de_trainer *tr, int idx) { return idx < 0 ? tr->x : tr->act[idx]; }

static void cpu_forward(de_trainer *tr, const float *x, int n, int train)
{
    de_net *net = tr->net;
    float *P = de_net_params(net), *S = de_net_state(net);
    tr->x = x;
    tr->last_n = n;
    for (int i = 0; i < tr->nl; i++) {
        const de_layer *L = de_net_layer(net, i);
        const float *in = input_of(tr, L->in);
        float *y = tr->act[i];
        size_t cnt = (size_t)n * tr->osz[i];
        if (tr->fused[i] == 2)
            continue; /* written by the conv before it */
        switch (L->kind) {
        case DE_LAYER_CONV:
            if (tr->fused[i])
                de_layers_cpu_conv_fwd_ex(L, n, in, P + L->w_off, bias_of(L, P), tr->act[i + 1], tr->ws, tr->ws_n,
                                          DE_CPU_RELU);
            else
                de_layers_cpu_conv_fwd(L, n, in, P + L->w_off, bias_of(L, P), y, tr->ws, tr->ws_n);
            break;
        case DE_LAYER_DWCONV:
            de_layers_cpu_dwconv_fwd(L, n, in, P + L->w_off, bias_of(L, P), y);
            break;
        case DE_LAYER_FC:
            de_layers_cpu_fc_fwd(L, n, in, P + L->w_off, P + L->b_off, y);
            break;
        case DE_LAYER_RELU:
            de_layers_cpu_relu_fwd(cnt, in, y);
            break;
        case DE_LAYER_RELU6:
            de_layers_cpu_relu6_fwd(cnt, in, y);
            break;
        case DE_LAYER_MAXPOOL:
        case DE_LAYER_AVGPOOL:
        case DE_LAYER_GAP:
            de_layers_cpu_pool_fwd(L, n, in, y);
            break;
        case DE_LAYER_BN:
            de_layers_cpu_bn_fwd(L, n, in, P + L->w_off, P + L->b_off, y, tr->bnsave + tr->bn_off[i], S + L->s_off,
                                 train);
            break;
        case DE_LAYER_ADD:
            de_layers_cpu_add_fwd(cnt, in, input_of(tr, L->in2), y);
            break;
        }
    }
}

/* dact[j] is about to receive an input gradient from a kernel that can overwrite (returns
 * DE_CPU_SET for the first write of this pass) or, with can_set == 0, only accumulate (it is
 * zeroed before the first write). */
static int first_write(de_trainer *tr, int j, size_t count, int can_set)
{
    if (j < 0 || !tr->fresh[j])
        return 0;
    tr->fresh[j] = 0;
    if (can_set)
        return DE_CPU_SET;
    memset(tr->dact[j], 0, count * sizeof(float));
    return 0;
}

static void cpu_backward(de_trainer *tr, int n)
{
    de_net *net = tr->net;
    float *P = de_net_params(net);
    int last = tr->nl - 1;
    for (int i = 0; i < last; i++)
        tr->fresh[i] = tr->dact[i] != NULL;
    memset(tr->grad, 0, de_net_n_params(net) * sizeof(float));
    if (!tr->needs[last])
        return;
    memcpy(tr->dact[last], tr->dlogits, (size_t)n * tr->osz[last] * sizeof(float));
    for (int i = last; i >= 0; i--) {
        if (!tr->needs[i] || tr->fused[i] == 2)
            continue; /* a fused ReLU's backward is done by its conv */
        const de_layer *L = de_net_layer(net, i);
        const float *in = input_of(tr, L->in);
        int out = tr->fused[i] ? i + 1 : i; /* whose output gradient this layer reads */
        first_write(tr, out, (size_t)n * tr->osz[out], 0); /* no consumer wrote it: zero */
        const float *dy = tr->dact[out];
        float *dx = L->in >= 0 ? tr->dact[L->in] : NULL;
        size_t nin = L->in >= 0 ? (size_t)n * tr->osz[L->in] : 0;
        float *dw = trainable(L) ? tr->grad + L->w_off : NULL;
        float *db = trainable(L) && L->b_n ? tr->grad + L->b_off : NULL;
        size_t cnt = (size_t)n * tr->osz[i];
        switch (L->kind) {
        case DE_LAYER_CONV:
            de_layers_cpu_conv_bwd_ex(L, n, in, P + L->w_off, tr->act[out], dy, dx, dw, db, tr->ws, tr->ws_n,
                                      (tr->fused[i] ? DE_CPU_RELU : 0) | (dx ? first_write(tr, L->in, nin, 1) : 0));
            break;
        case DE_LAYER_FC:
            if (dx)
                first_write(tr, L->in, nin, 0);
            de_layers_cpu_fc_bwd(L, n, in, P + L->w_off, dy, dx, dw, db);
            break;
        case DE_LAYER_DWCONV:
            if (dx)
                first_write(tr, L->in, nin, 0);
            de_layers_cpu_dwconv_bwd(L, n, in, P + L->w_off, dy, dx, dw, db);
            break;
        case DE_LAYER_RELU:
        case DE_LAYER_RELU6:
            if (dx) {
                first_write(tr, L->in, nin, 0);
                if (L->kind == DE_LAYER_RELU)
                    de_layers_cpu_relu_bwd(cnt, tr->act[i], dy, dx);
                else
                    de_layers_cpu_relu6_bwd(cnt, tr->act[i], dy, dx);
            }
            break;
        case DE_LAYER_MAXPOOL:
        case DE_LAYER_AVGPOOL:
        case DE_LAYER_GAP:
            if (dx)
                de_layers_cpu_pool_bwd_ex(L, n, in, dy, dx, first_write(tr, L->in, nin, 1));
            break;
        case DE_LAYER_BN:
            if (dx)
                first_write(tr, L->in, nin, 0);
            de_layers_cpu_bn_bwd(L, n, in, P + L->w_off, tr->bnsave + tr->bn_off[i], dy, dx, dw, db);
            break;
        case DE_LAYER_ADD: {
            float *dx2 = L->in2 >= 0 ? tr->dact[L->in2] : NULL;
            if (dx)
                first_write(tr, L->in, nin, 0);
            if (dx2)
                first_write(tr, L->in2, (size_t)n * tr->osz[L->in2], 0);
            de_layers_cpu_add_bwd(cnt, dy, dx, dx2);
            break;
        }
        }
    }
}

static int check_batch(const de_trainer *tr, int n, const int *labels, de_err *err)
{
    if (n < 1 || n > tr->o.max_batch)
        return de_err_set(err, DE_ERANGE, "batch of %d samples not in [1, %d] (the trainer's max_batch)", n,
                          tr->o.max_batch);
    int k = de_net_classes(tr->net);
    for (int i = 0; labels && i < n; i++)
        if (labels[i] < 0 || labels[i] >= k)
            return de_err_set(err, DE_ERANGE, "label %d of sample %d not in [0, %d)", labels[i], i, k);
    return 0;
}

int de_train_grad(de_trainer *tr, const float *x, const int *labels, int n, double *loss, int *correct, de_err *err)
{
    int rc = check_batch(tr, n, labels, err);
    if (rc)
        return rc;
    double l;
    int ok;
#ifdef DE_HAVE_CUDA
    if (tr->cu) {
        rc = de_cuda_grad(tr->cu, x, labels, n, &l, &ok, tr->grad, err);
        if (rc)
            return rc;
        goto done;
    }
#endif
    cpu_forward(tr, x, n, 1);
    l = de_layers_cpu_xent(n, de_net_classes(tr->net), tr->act[tr->nl - 1], labels, tr->dlogits, 1.0f / (float)n, &ok);
    cpu_backward(tr, n);
#ifdef DE_HAVE_CUDA
done:
#endif
    if (loss)
        *loss = l;
    if (correct)
        *correct = ok;
    return 0;
}

const float *de_train_gradient(de_trainer *tr) { return tr->grad; }

int de_train_step(de_trainer *tr, const float *grad, double lr, de_err *err)
{
    if (!(lr >= 0) || !isfinite(lr))
        return de_err_set(err, DE_ERANGE, "learning rate %g must be finite and >= 0", lr);
#ifdef DE_HAVE_CUDA
    if (tr->cu)
        return de_cuda_step(tr->cu, grad, lr, tr->o.momentum, tr->o.weight_decay, err);
#endif
    const float *g = grad ? grad : tr->grad;
    float *w = de_net_params(tr->net), *v = tr->mom;
    const float mu = (float)tr->o.momentum, wd = (float)tr->o.weight_decay, a = (float)lr;
    const int nt = de_layers_cpu_get_threads();
    for (int i = 0; i < tr->nl; i++) {
        const de_layer *L = de_net_layer(tr->net, i);
        if (!trainable(L))
            continue;
        size_t j0 = L->w_off, j1 = L->b_off + L->b_n;
#pragma omp parallel for num_threads(nt) if (j1 - j0 >= 65536) schedule(static)
        for (size_t j = j0; j < j1; j++) {
            float gj = g[j] + wd * w[j];
            v[j] = mu * v[j] + gj;
            w[j] -= a * v[j];
        }
    }
    return 0;
}

int de_train_eval(de_trainer *tr, const float *x, const int *labels, int n, double *loss, int *correct, float *logits,
                  de_err *err)
{
    int rc = check_batch(tr, n, labels, err);
    if (rc)
        return rc;
    int k = de_net_classes(tr->net);
    const float *z;
    float *tmp = NULL;
#ifdef DE_HAVE_CUDA
    if (tr->cu) {
        tmp = logits ? logits : de_calloc((size_t)n * k, sizeof(float));
        rc = de_cuda_forward(tr->cu, x, n, 0, tmp, err);
        if (rc) {
            if (tmp != logits)
                free(tmp);
            return rc;
        }
        z = tmp;
        goto scored;
    }
#endif
    cpu_forward(tr, x, n, 0);
    z = tr->act[tr->nl - 1];
    if (logits)
        memcpy(logits, z, (size_t)n * k * sizeof(float));
#ifdef DE_HAVE_CUDA
scored:
#endif
    if (labels) {
        int ok;
        double l = de_layers_cpu_xent(n, k, z, labels, NULL, 0.0f, &ok);
        if (loss)
            *loss = l;
        if (correct)
            *correct = ok;
    }
    if (tmp != logits)
        free(tmp);
    return 0;
}

int de_train_activation(de_trainer *tr, int layer, int n, float *out, de_err *err)
{
    if (layer < 0 || layer >= de_net_n_layers(tr->net))
        return de_err_set(err, DE_ERANGE, "layer %d out of range", layer);
#ifdef DE_HAVE_CUDA
    if (tr->cu)
        return de_cuda_activation(tr->cu, layer, n, out, err);
#endif
    if (tr->fused[layer] == 1) {
        /* a conv fused with its ReLU keeps only the ReLU's output: recompute its own */
        const de_layer *L = de_net_layer(tr->net, layer);
        float *P = de_net_params(tr->net);
        de_layers_cpu_conv_fwd(L, n, input_of(tr, L->in), P + L->w_off, bias_of(L, P), out, tr->ws, tr->ws_n);
        return 0;
    }
    memcpy(out, tr->act[layer], (size_t)n * tr->osz[layer] * sizeof(float));
    return 0;
}

float *de_train_momentum(de_trainer *tr) { return tr->mom; }

const de_train_opts *de_train_options(const de_trainer *tr) { return &tr->o; }

int de_train_pull(de_trainer *tr, de_err *err)
{
#ifdef DE_HAVE_CUDA
    if (tr->cu)
        return de_cuda_pull(tr->cu, de_net_params(tr->net), de_net_state(tr->net), tr->mom, err);
#endif
    (void)tr;
    (void)err;
    return 0;
}

int de_train_push(de_trainer *tr, de_err *err)
{
#ifdef DE_HAVE_CUDA
    if (tr->cu)
        return de_cuda_push(tr->cu, de_net_params(tr->net), de_net_state(tr->net), tr->mom, err);
#endif
    (void)tr;
    (void)err;
    return 0;
}

/* ---- the loop ---- */

static int save_ckpt(de_trainer *tr, const char *path, const de_ckpt_meta *m, de_err *err)
{
    int rc = de_train_pull(tr, err);
    return rc ? rc : de_ckpt_save(path, tr->net, tr->mom, m, err);
}

int de_train_run(de_trainer *tr, const de_dataset *ds, const de_train_run_opts *o, de_train_result *res, de_err *err)
{
    memset(res, 0, sizeof *res);
    de_net *net = tr->net;
    int C, H, W, dc, dh, dw;
    de_net_input(net, &C, &H, &W);
    de_dataset_shape(ds, &dc, &dh, &dw);
    if (dc != C || dh < H || dw < W)
        return de_err_set(err, DE_EMISMATCH, "dataset images %dx%dx%d do not fit network %s's input %dx%dx%d", dc, dh,
                          dw, de_net_name(net), C, H, W);
    if (de_dataset_classes(ds) > de_net_classes(net))
        return de_err_set(err, DE_EMISMATCH, "dataset has %d classes, network %s only %d outputs",
                          de_dataset_classes(ds), de_net_name(net), de_net_classes(net));
    if (o->batch < 1 || o->batch > tr->o.max_batch)
        return de_err_set(err, DE_ERANGE, "--batch %d not in [1, %d]", o->batch, tr->o.max_batch);
    if (o->epochs < 1)
        return de_err_set(err, DE_ERANGE, "--epochs %d must be >= 1", o->epochs);
    de_ckpt_meta m;
    memset(&m, 0, sizeof m);
    m.seed = o->seed;
    m.rng = de_prng_seed(o->seed, 0xa06);
    m.batch = o->batch;
    m.lr = o->lr;
    m.momentum = tr->o.momentum;
    m.weight_decay = tr->o.weight_decay;
    int rc = 0;
    if (o->resume) {
        rc = de_ckpt_load(o->resume, net, tr->mom, &m, err);
        if (!rc && m.batch != o->batch)
            rc = de_err_set(err, DE_EMISMATCH, "%s: checkpoint of a run with batch %lld, not %d", o->resume,
                            (long long)m.batch, o->batch);
        if (!rc)
            rc = de_train_push(tr, err);
        if (rc)
            return rc;
    }
    int n = de_dataset_count(ds);
    int *train = de_calloc((size_t)n, sizeof *train), *val = de_calloc((size_t)n, sizeof *val);
    int n_train, n_val;
    de_dataset_split(ds, o->val_frac, m.seed, train, &n_train, val, &n_val);
    int *perm = de_calloc((size_t)n_train, sizeof *perm);
    float *x = de_calloc((size_t)tr->o.max_batch * C * H * W, sizeof(float));
    int *y = de_calloc((size_t)tr->o.max_batch, sizeof *y);
    int steps = (n_train + o->batch - 1) / o->batch;
    double t_run = de_now_s();
    for (int ep = (int)m.epoch; ep < o->epochs && !rc && !res->stopped; ep++) {
        double t0 = de_now_s();
        memcpy(perm, train, sizeof *perm * (size_t)n_train);
        uint64_t srng = de_prng_seed(m.seed, 1000 + (uint64_t)ep);
        de_prng_shuffle(&srng, perm, n_train);
        long images = 0;
        for (int s = (int)m.step; s < steps && !rc; s++) {
            int nb = n_train - s * o->batch < o->batch ? n_train - s * o->batch : o->batch;
            de_dataset_batch(ds, perm + (size_t)s * o->batch, nb, H, W, o->augment, &m.rng, x, y);
            double loss;
            int ok;
            rc = de_train_grad(tr, x, y, nb, &loss, &ok, err);
            if (!rc)
                rc = de_train_step(tr, NULL, o->lr, err);
            if (rc)
                break;
            if (!isfinite(loss)) {
                rc = de_err_set(err, DE_ERANGE, "loss is %g at epoch %d step %d: diverged (lower --lr)", loss, ep + 1,
                                s + 1);
                break;
            }
            images += nb;
            m.epoch_loss_sum += loss * nb;
            m.epoch_correct += ok;
            m.epoch_seen += nb;
            m.step = s + 1;
            m.global_step++;
            res->steps++;
            if (o->progress)
                o->progress(o->ud, ep + 1, s + 1, steps, m.epoch_loss_sum / (double)m.epoch_seen,
                            (double)m.epoch_correct / (double)m.epoch_seen);
            int stop = o->stop_after > 0 && m.global_step >= o->stop_after;
            if (o->checkpoint && ((o->ckpt_every > 0 && m.global_step % o->ckpt_every == 0) || stop) && s + 1 < steps)
                rc = save_ckpt(tr, o->checkpoint, &m, err);
            if (stop && s + 1 < steps) {
                res->stopped = 1;
                break;
            }
        }
        if (rc || res->stopped)
            break;
        de_train_epoch e;
        e.epoch = ep + 1;
        e.train_loss = m.epoch_seen ? m.epoch_loss_sum / (double)m.epoch_seen : NAN;
        e.train_acc = m.epoch_seen ? (double)m.epoch_correct / (double)m.epoch_seen : NAN;
        e.val_loss = e.val_acc = NAN;
        if (n_val > 0) {
            double ls = 0;
            long ok_sum = 0;
            for (int v0 = 0; v0 < n_val && !rc; v0 += tr->o.max_batch) {
                int nb = n_val - v0 < tr->o.max_batch ? n_val - v0 : tr->o.max_batch;
                de_dataset_batch(ds, val + v0, nb, H, W, 0, NULL, x, y);
                double loss;
                int ok;
                rc = de_train_eval(tr, x, y, nb, &loss, &ok, NULL, err);
                ls += loss * nb;
                ok_sum += ok;
            }
            e.val_loss = ls / n_val;
            e.val_acc = (double)ok_sum / n_val;
        }
        e.seconds = de_now_s() - t0;
        e.images_per_s = e.seconds > 0 ? images / e.seconds : 0;
        res->last = e;
        res->epochs_done = ep + 1;
        m.epoch = ep + 1;
        m.step = 0;
        m.epoch_loss_sum = 0;
        m.epoch_correct = m.epoch_seen = 0;
        if (!rc && o->on_epoch)
            o->on_epoch(o->ud, &e);
        if (!rc && o->checkpoint)
            rc = save_ckpt(tr, o->checkpoint, &m, err);
        if (!rc && o->stop_after > 0 && m.global_step >= o->stop_after && ep + 1 < o->epochs)
            res->stopped = 1;
    }
    if (!rc)
        rc = de_train_pull(tr, err);
    res->seconds = de_now_s() - t_run;
    free(train);
    free(val);
    free(perm);
    free(x);
    free(y);
    return rc;
}
