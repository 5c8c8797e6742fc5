/* de_net.c — network descriptions, shapes, parameters and weight files (see de_net.h). */
#include "de_net.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "de_prng.h"
#include "de_util.h"

struct de_net {
    char *name;
    int c, h, w;
    int n, cap;
    de_layer *layers;
    size_t n_params, n_state;
    float *params;
    float *state;
};

static const char EDGENET_S[] =
    "# edgenet-s: 4 x (conv3x3 pad 1 + ReLU), 2x2 max-pool after the first three, GAP, FC\n"
    "input 3 64 64\n"
    "conv1: conv 32 3 1 1\nrelu1: relu\npool1: maxpool 2\n"
    "conv2: conv 64 3 1 1\nrelu2: relu\npool2: maxpool 2\n"
    "conv3: conv 128 3 1 1\nrelu3: relu\npool3: maxpool 2\n"
    "conv4: conv 256 3 1 1\nrelu4: relu\n"
    "gap: gap\nfc: fc 257\n";

/* Appends printf output to a description buffer (static storage, large enough for the
 * built-ins below: resnet50 is about 9 KB). */
typedef struct desc_buf {
    char *p;
    size_t left;
} desc_buf;

static void emit(desc_buf *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(desc_buf *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(d->p, d->left, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= d->left)
        abort(); /* a built-in outgrew its buffer: a programming error */
    d->p += k;
    d->left -= (size_t)k;
}

static char resnet18_desc[4096];

/* ResNet-18 as the engine first built it: convolutions WITH biases (kept so that its
 * weight files and checkpoints stay valid). */
static const char *resnet18(void)
{
    if (resnet18_desc[0])
        return resnet18_desc;
    desc_buf d = {resnet18_desc, sizeof resnet18_desc};
    emit(&d, "# resnet18: ResNet-18 (He et al. 2016) with batch norm, 3x224x224\n"
             "input 3 224 224\nconv1: conv 64 7 2 3\nbn1: bn\nrelu1: relu\npool1: maxpool 3 2 1\n");
    const int ch[4] = {64, 128, 256, 512};
    char prev[32] = "pool1";
    for (int s = 0; s < 4; s++)
        for (int b = 0; b < 2; b++) {
            int down = s > 0 && b == 0;
            char n[16];
            snprintf(n, sizeof n, "l%d.%d", s + 1, b);
            emit(&d, "%s.conv1: conv %d 3 %d 1 from=%s\n%s.bn1: bn\n%s.relu1: relu\n", n, ch[s], down ? 2 : 1, prev, n,
                 n);
            emit(&d, "%s.conv2: conv %d 3 1 1\n%s.bn2: bn\n", n, ch[s], n);
            if (down) {
                emit(&d, "%s.down: conv %d 1 2 0 from=%s\n%s.downbn: bn\n", n, ch[s], prev, n);
                emit(&d, "%s.add: add %s.bn2\n", n, n);
            } else {
                emit(&d, "%s.add: add %s\n", n, prev);
            }
            emit(&d, "%s.relu: relu\n", n);
            snprintf(prev, sizeof prev, "%s.relu", n);
        }
    emit(&d, "gap: gap\nfc: fc 257\n");
    return resnet18_desc;
}

static char resnet50_desc[16384];

/* ResNet-50 as torchvision builds it (v1.5: the stride sits in each bottleneck's 3x3
 * convolution; convolutions without biases, each followed by batch norm), 3x224x224, a
 * 257-class head (Caltech-256 with its clutter class). Parameters: 23,508,032 in the
 * backbone + 2048x257 + 257 = 24,034,625, the catalog's resnet50-ft (models/networks.cfg);
 * 4.09 G multiply-adds per image forward. Blocks are l<stage>.<block>; stage 4 is
 * l4.0..l4.2, so `upto:l3.5.relu` freezes everything but the last stage and the head. */
static const char *resnet50(void)
{
    if (resnet50_desc[0])
        return resnet50_desc;
    desc_buf d = {resnet50_desc, sizeof resnet50_desc};
    emit(&d, "# resnet50: ResNet-50 (He et al. 2016), torchvision v1.5, with batch norm, 3x224x224\n"
             "input 3 224 224\nconv1: conv 64 7 2 3 nobias\nbn1: bn\nrelu1: relu\npool1: maxpool 3 2 1\n");
    const int width[4] = {64, 128, 256, 512}, blocks[4] = {3, 4, 6, 3};
    char prev[32] = "pool1";
    for (int s = 0; s < 4; s++)
        for (int b = 0; b < blocks[s]; b++) {
            int stride = s > 0 && b == 0 ? 2 : 1, w = width[s];
            char n[16];
            snprintf(n, sizeof n, "l%d.%d", s + 1, b);
            emit(&d, "%s.conv1: conv %d 1 1 0 nobias from=%s\n%s.bn1: bn\n%s.relu1: relu\n", n, w, prev, n, n);
            emit(&d, "%s.conv2: conv %d 3 %d 1 nobias\n%s.bn2: bn\n%s.relu2: relu\n", n, w, stride, n, n);
            emit(&d, "%s.conv3: conv %d 1 1 0 nobias\n%s.bn3: bn\n", n, 4 * w, n);
            if (b == 0) { /* the shortcut changes width (and, past stage 1, resolution) */
                emit(&d, "%s.down: conv %d 1 %d 0 nobias from=%s\n%s.downbn: bn\n", n, 4 * w, stride, prev, n);
                emit(&d, "%s.add: add %s.bn3\n", n, n);
            } else {
                emit(&d, "%s.add: add %s\n", n, prev);
            }
            emit(&d, "%s.relu: relu\n", n);
            snprintf(prev, sizeof prev, "%s.relu", n);
        }
    emit(&d, "gap: gap\nfc: fc 257\n");
    return resnet50_desc;
}

static char mobilenet_v2_desc[16384];

/* MobileNet-v2 as torchvision builds it (Sandler et al. 2018; width 1.0): inverted residual
 * blocks (1x1 expansion by t, 3x3 depthwise with the stride, 1x1 linear projection; a
 * residual where the stride is 1 and the width stays), convolutions without biases, each
 * followed by batch norm, ReLU6, 3x224x224, a 257-class head (dropout is not applied: the
 * engine serves it in inference). Parameters: 2,223,872 in the features + 1280 x 257 + 257
 * = 2,553,089 (torchvision's 3,504,872 with 1,000 classes); 0.2998 G multiply-adds. */
static const char *mobilenet_v2(void)
{
    if (mobilenet_v2_desc[0])
        return mobilenet_v2_desc;
    desc_buf d = {mobilenet_v2_desc, sizeof mobilenet_v2_desc};
    emit(&d, "# mobilenet-v2: MobileNet-v2 (Sandler et al. 2018), torchvision, with batch norm, 3x224x224\n"
             "input 3 224 224\nconv0: conv 32 3 2 1 nobias\nbn0: bn\nrelu0: relu6\n");
    /* expansion t, output width c, repeats n, first stride s (the paper's Table 2) */
    static const int cfg[7][4] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2},  {6, 64, 4, 2},
                                  {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
    char prev[32] = "relu0";
    int in = 32, blk = 0;
    for (int g = 0; g < 7; g++)
        for (int r = 0; r < cfg[g][2]; r++, blk++) {
            int t = cfg[g][0], out = cfg[g][1], stride = r == 0 ? cfg[g][3] : 1, hid = in * t;
            char n[16];
            snprintf(n, sizeof n, "b%d", blk);
            if (t != 1)
                emit(&d, "%s.expand: conv %d 1 1 0 nobias from=%s\n%s.bn1: bn\n%s.relu1: relu6\n", n, hid, prev, n,
                     n);
            emit(&d, "%s.dw: dwconv 3 %d 1 nobias%s%s\n%s.bn2: bn\n%s.relu2: relu6\n", n, stride,
                 t != 1 ? "" : " from=", t != 1 ? "" : prev, n, n);
            emit(&d, "%s.project: conv %d 1 1 0 nobias\n%s.bn3: bn\n", n, out, n);
            if (stride == 1 && in == out) {
                emit(&d, "%s.add: add %s\n", n, prev);
                snprintf(prev, sizeof prev, "%s.add", n);
            } else {
                snprintf(prev, sizeof prev, "%s.bn3", n);
            }
            in = out;
        }
    emit(&d, "head: conv 1280 1 1 0 nobias from=%s\nhead.bn: bn\nhead.relu: relu6\ngap: gap\nfc: fc 257\n", prev);
    return mobilenet_v2_desc;
}

/* The built-ins, by the names the catalog uses (models/networks.cfg: training networks
 * and LC models); the executor trains and serves exactly these. */
static const struct {
    const char *name;
    const char *(*desc)(void);
} BUILTINS[] = {
    {"edgenet-s", NULL},
    {"resnet18", resnet18},
    {"resnet50", resnet50},    /* the LC model (inference at batch 1) */
    {"resnet50-ft", resnet50}, /* the case study's training network */
    {"mobilenet-v2", mobilenet_v2},
};

const char *de_net_builtin_desc(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof BUILTINS / sizeof BUILTINS[0]; i++)
        if (strcmp(name, BUILTINS[i].name) == 0)
            return BUILTINS[i].desc ? BUILTINS[i].desc() : EDGENET_S;
    return NULL;
}

const char *de_net_builtin_list(void) { return "edgenet-s, resnet18, resnet50, resnet50-ft, mobilenet-v2"; }

void de_net_destroy(de_net *net)
{
    if (!net)
        return;
    free(net->name);
    free(net->layers);
    free(net->params);
    free(net->state);
    free(net);
}

static int lookup(const de_net *net, const char *name)
{
    if (strcmp(name, "input") == 0)
        return -1;
    for (int i = net->n - 1; i >= 0; i--)
        if (strcmp(net->layers[i].name, name) == 0)
            return i;
    return -2;
}

int de_net_find(const de_net *net, const char *name)
{
    int i = lookup(net, name);
    return i < 0 ? -1 : i;
}

static void shape_of(const de_net *net, int idx, int *c, int *h, int *w)
{
    if (idx < 0) {
        *c = net->c, *h = net->h, *w = net->w;
    } else {
        *c = net->layers[idx].oc, *h = net->layers[idx].oh, *w = net->layers[idx].ow;
    }
}

/* Parses one integer token; -1 on error. */
static int parse_int(const char *tok, int min, int max, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(tok, &end, 10);
    if (errno || end == tok || *end || v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

/* A parsed network's trainable parameters at most: 2^28 floats, 1 GiB of weights (ResNet-50
 * has 25.6 million, VGG-16 138 million). A description over it is refused before anything
 * is allocated. */
#define DE_NET_MAX_PARAMS ((size_t)1 << 28)

#define MAXTOK 12

static int parse_line(de_net *net, const char *ctx, int lineno, char *line, de_err *err)
{
    char *tok[MAXTOK];
    int nt = 0;
    for (char *save = NULL, *t = strtok_r(line, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
        if (nt == MAXTOK)
            return de_err_set(err, DE_ESYNTAX, "%s:%d: too many words", ctx, lineno);
        tok[nt++] = t;
    }
    if (nt == 0)
        return 0;
    if (strcmp(tok[0], "input") == 0) {
        if (net->c)
            return de_err_set(err, DE_ESYNTAX, "%s:%d: input: given twice", ctx, lineno);
        if (nt != 4 || parse_int(tok[1], 1, 4096, &net->c) || parse_int(tok[2], 1, 8192, &net->h) ||
            parse_int(tok[3], 1, 8192, &net->w))
            return de_err_set(err, DE_ESYNTAX, "%s:%d: input: expected 'input C H W' (1..4096, 1..8192, 1..8192)",
                              ctx, lineno);
        return 0;
    }
    if (!net->c)
        return de_err_set(err, DE_EMISSING, "%s:%d: the first layer must be 'input C H W'", ctx, lineno);
    de_layer L;
    memset(&L, 0, sizeof L);
    int t0 = 0;
    size_t l0 = strlen(tok[0]);
    if (l0 > 1 && tok[0][l0 - 1] == ':') {
        if (l0 - 1 >= sizeof L.name)
            return de_err_set(err, DE_ERANGE, "%s:%d: layer name '%s' longer than %zu characters", ctx, lineno,
                              tok[0], sizeof L.name - 1);
        memcpy(L.name, tok[0], l0 - 1);
        if (lookup(net, L.name) != -2 || strcmp(L.name, "input") == 0)
            return de_err_set(err, DE_EDUP, "%s:%d: layer name '%s' used twice", ctx, lineno, L.name);
        t0 = 1;
    } else {
        snprintf(L.name, sizeof L.name, "L%d", net->n);
    }
    if (t0 >= nt)
        return de_err_set(err, DE_ESYNTAX, "%s:%d: layer '%s' has no kind", ctx, lineno, L.name);
    L.in = net->n - 1;
    L.in2 = -1;
    if (nt - 1 > t0 && strncmp(tok[nt - 1], "from=", 5) == 0) {
        L.in = lookup(net, tok[nt - 1] + 5);
        if (L.in == -2)
            return de_err_set(err, DE_EREF, "%s:%d: from=%s: no earlier layer of that name", ctx, lineno,
                              tok[nt - 1] + 5);
        nt--;
    }
    const char *kind = tok[t0];
    int nobias = 0;
    if ((strcmp(kind, "conv") == 0 || strcmp(kind, "dwconv") == 0) && nt - 1 > t0 && strcmp(tok[nt - 1], "nobias") == 0) {
        nobias = 1; /* a convolution followed by batch norm needs no bias (torchvision's ResNets) */
        nt--;
    }
    int na = nt - t0 - 1;
    char **a = tok + t0 + 1;
    shape_of(net, L.in, &L.c, &L.h, &L.w);
    L.oc = L.c, L.oh = L.h, L.ow = L.w;
    if (strcmp(kind, "conv") == 0 || strcmp(kind, "dwconv") == 0 || strcmp(kind, "maxpool") == 0 ||
        strcmp(kind, "avgpool") == 0) {
        int conv = kind[0] == 'c', dw = kind[0] == 'd';
        L.kind = conv ? DE_LAYER_CONV : dw ? DE_LAYER_DWCONV : kind[0] == 'm' ? DE_LAYER_MAXPOOL : DE_LAYER_AVGPOOL;
        int base = conv ? 1 : 0;
        if (na < base + 1 || na > base + 3)
            return de_err_set(err, DE_ESYNTAX, "%s:%d: %s: expected '%s' arguments", ctx, lineno, kind,
                              conv ? "conv OUT K [STRIDE [PAD]] [nobias]"
                              : dw ? "dwconv K [STRIDE [PAD]] [nobias]"
                                   : "K [STRIDE [PAD]]");
        if (conv && parse_int(a[0], 1, 65536, &L.oc))
            return de_err_set(err, DE_ERANGE, "%s:%d: conv OUT '%s' not in [1, 65536]", ctx, lineno, a[0]);
        if (parse_int(a[base], 1, 64, &L.k))
            return de_err_set(err, DE_ERANGE, "%s:%d: %s K '%s' not in [1, 64]", ctx, lineno, kind, a[base]);
        L.stride = conv || dw ? 1 : L.k;
        if (na > base + 1 && parse_int(a[base + 1], 1, 64, &L.stride))
            return de_err_set(err, DE_ERANGE, "%s:%d: %s STRIDE '%s' not in [1, 64]", ctx, lineno, kind, a[base + 1]);
        if (na > base + 2 && parse_int(a[base + 2], 0, L.k - 1, &L.pad))
            return de_err_set(err, DE_ERANGE, "%s:%d: %s PAD '%s' not in [0, K-1]", ctx, lineno, kind, a[base + 2]);
        if (L.h + 2 * L.pad < L.k || L.w + 2 * L.pad < L.k)
            return de_err_set(err, DE_ERANGE, "%s:%d: %s: kernel %d larger than the padded input %dx%d", ctx, lineno,
                              kind, L.k, L.h + 2 * L.pad, L.w + 2 * L.pad);
        L.oh = (L.h + 2 * L.pad - L.k) / L.stride + 1;
        L.ow = (L.w + 2 * L.pad - L.k) / L.stride + 1;
        if (conv) {
            L.w_n = (size_t)L.oc * L.c * L.k * L.k;
            L.b_n = nobias ? 0 : (size_t)L.oc;
        } else if (dw) { /* one K x K filter per channel */
            L.w_n = (size_t)L.c * L.k * L.k;
            L.b_n = nobias ? 0 : (size_t)L.c;
        }
    } else if (strcmp(kind, "relu") == 0 || strcmp(kind, "relu6") == 0 || strcmp(kind, "gap") == 0 ||
               strcmp(kind, "bn") == 0) {
        if (na)
            return de_err_set(err, DE_ESYNTAX, "%s:%d: %s takes no arguments", ctx, lineno, kind);
        L.kind = strcmp(kind, "relu6") == 0 ? DE_LAYER_RELU6
                 : kind[0] == 'r'           ? DE_LAYER_RELU
                 : kind[0] == 'g'           ? DE_LAYER_GAP
                                            : DE_LAYER_BN;
        if (L.kind == DE_LAYER_GAP)
            L.oh = L.ow = 1;
        if (L.kind == DE_LAYER_BN) {
            L.w_n = L.b_n = (size_t)L.c;
            L.s_off = net->n_state;
            net->n_state += 2 * (size_t)L.c;
        }
    } else if (strcmp(kind, "fc") == 0) {
        L.kind = DE_LAYER_FC;
        if (na != 1 || parse_int(a[0], 1, 1 << 20, &L.oc))
            return de_err_set(err, DE_ESYNTAX, "%s:%d: fc: expected 'fc OUT' with OUT in [1, 1048576]", ctx, lineno);
        L.oh = L.ow = 1;
        L.w_n = (size_t)L.oc * L.c * L.h * L.w;
        L.b_n = (size_t)L.oc;
    } else if (strcmp(kind, "add") == 0) {
        L.kind = DE_LAYER_ADD;
        if (na != 1)
            return de_err_set(err, DE_ESYNTAX, "%s:%d: add: expected 'add OTHER'", ctx, lineno);
        L.in2 = lookup(net, a[0]);
        if (L.in2 == -2)
            return de_err_set(err, DE_EREF, "%s:%d: add %s: no earlier layer of that name", ctx, lineno, a[0]);
        int c2, h2, w2;
        shape_of(net, L.in2, &c2, &h2, &w2);
        if (c2 != L.c || h2 != L.h || w2 != L.w)
            return de_err_set(err, DE_EMISMATCH, "%s:%d: add %s: shapes differ (%dx%dx%d vs %dx%dx%d)", ctx, lineno,
                              a[0], L.c, L.h, L.w, c2, h2, w2);
    } else {
        return de_err_set(err, DE_ESYNTAX,
                          "%s:%d: unknown layer kind '%s' (conv, dwconv, relu, relu6, maxpool, avgpool, gap, fc, bn, add)", ctx,
                          lineno, kind);
    }
    if (L.w_n + L.b_n > DE_NET_MAX_PARAMS - net->n_params)
        return de_err_set(err, DE_ERANGE,
                          "%s:%d: %s: the network would have %zu trainable parameters, over the limit of %zu (1 GiB "
                          "of weights; VGG-16 has 138 million)",
                          ctx, lineno, L.name, net->n_params + L.w_n + L.b_n, (size_t)DE_NET_MAX_PARAMS);
    L.w_off = net->n_params;
    L.b_off = L.w_off + L.w_n;
    net->n_params += L.w_n + L.b_n;
    if (net->n == net->cap) {
        net->cap = net->cap ? 2 * net->cap : 16;
        net->layers = de_realloc(net->layers, (size_t)net->cap * sizeof *net->layers);
    }
    net->layers[net->n++] = L;
    return 0;
}

int de_net_parse(const char *name, const char *desc, de_net **out, de_err *err)
{
    *out = NULL;
    de_net *net = de_calloc(1, sizeof *net);
    net->name = de_strdup(name ? name : "custom");
    char *text = de_strdup(desc ? desc : "");
    int rc = 0, lineno = 0;
    char *save = NULL;
    /* Lines are split on '\n' and ';' (both count as a new line for messages). */
    for (char *line = strtok_r(text, "\n;", &save); line && !rc; line = strtok_r(NULL, "\n;", &save)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        rc = parse_line(net, net->name, lineno, line, err);
    }
    free(text);
    if (!rc && net->n == 0)
        rc = de_err_set(err, DE_EMISSING, "%s: no layers", net->name);
    if (rc) {
        de_net_destroy(net);
        return rc;
    }
    net->params = de_calloc(net->n_params ? net->n_params : 1, sizeof(float));
    net->state = de_calloc(net->n_state ? net->n_state : 1, sizeof(float));
    for (int i = 0; i < net->n; i++)
        if (net->layers[i].kind == DE_LAYER_BN)
            for (int c = 0; c < net->layers[i].c; c++)
                net->state[net->layers[i].s_off + (size_t)net->layers[i].c + (size_t)c] = 1.0f;
    *out = net;
    return 0;
}

int de_net_builtin(const char *name, int classes, de_net **out, de_err *err)
{
    *out = NULL;
    const char *d = de_net_builtin_desc(name);
    if (!d)
        return de_err_set(err, DE_EREF, "--net %s: unknown network (built-ins: %s)",
                          name ? name : "(null)", de_net_builtin_list());
    if (classes <= 0)
        return de_net_parse(name, d, out, err);
    /* Replace the head's width: the description ends with "fc 257\n". */
    char *text = de_strdup(d);
    char *fc = strstr(text, "fc: fc 257");
    if (!fc) {
        free(text);
        return de_err_set(err, DE_EINVAL, "%s: built-in has no 'fc: fc 257' head", name);
    }
    *fc = '\0';
    char *d2 = de_sprintf("%sfc: fc %d\n", text, classes);
    free(text);
    int rc = de_net_parse(name, d2, out, err);
    free(d2);
    return rc;
}

de_net *de_net_clone(const de_net *net)
{
    de_net *c = de_calloc(1, sizeof *c);
    *c = *net;
    c->name = de_strdup(net->name);
    c->cap = net->n;
    c->layers = de_calloc((size_t)net->n, sizeof *c->layers);
    memcpy(c->layers, net->layers, (size_t)net->n * sizeof *c->layers);
    c->params = de_calloc(net->n_params ? net->n_params : 1, sizeof(float));
    memcpy(c->params, net->params, net->n_params * sizeof(float));
    c->state = de_calloc(net->n_state ? net->n_state : 1, sizeof(float));
    memcpy(c->state, net->state, net->n_state * sizeof(float));
    return c;
}

void de_net_init(de_net *net, uint64_t seed)
{
    uint64_t rng = de_prng_seed(seed, 0x1417);
    for (int i = 0; i < net->n; i++) {
        de_layer *L = &net->layers[i];
        float *w = net->params + L->w_off, *b = net->params + L->b_off;
        if (de_layer_is_conv(L) || L->kind == DE_LAYER_FC) {
            double fan_in = (double)L->w_n / (double)L->oc;
            double sd = sqrt(2.0 / fan_in);
            for (size_t j = 0; j < L->w_n; j++)
                w[j] = (float)(sd * de_prng_normal(&rng));
            memset(b, 0, L->b_n * sizeof(float));
        } else if (L->kind == DE_LAYER_BN) {
            for (int c = 0; c < L->c; c++) {
                w[c] = 1.0f;
                b[c] = 0.0f;
                net->state[L->s_off + (size_t)c] = 0.0f;
                net->state[L->s_off + (size_t)L->c + (size_t)c] = 1.0f;
            }
        }
    }
}

const char *de_net_name(const de_net *net) { return net->name; }
int de_net_n_layers(const de_net *net) { return net->n; }
const de_layer *de_net_layer(const de_net *net, int i) { return (i >= 0 && i < net->n) ? &net->layers[i] : NULL; }
void de_net_input(const de_net *net, int *c, int *h, int *w) { *c = net->c, *h = net->h, *w = net->w; }
size_t de_net_n_params(const de_net *net) { return net->n_params; }
float *de_net_params(de_net *net) { return net->params; }
size_t de_net_n_state(const de_net *net) { return net->n_state; }
float *de_net_state(de_net *net) { return net->state; }

int de_net_classes(const de_net *net)
{
    const de_layer *L = &net->layers[net->n - 1];
    return L->oc * L->oh * L->ow;
}

int de_net_has_bn(const de_net *net)
{
    for (int i = 0; i < net->n; i++)
        if (net->layers[i].kind == DE_LAYER_BN)
            return 1;
    return 0;
}

double de_net_flops(const de_net *net)
{
    double f = 0;
    for (int i = 0; i < net->n; i++) {
        const de_layer *L = &net->layers[i];
        if (de_layer_is_conv(L) || L->kind == DE_LAYER_FC)
            f += 2.0 * (double)L->w_n * (de_layer_is_conv(L) ? (double)L->oh * L->ow : 1.0);
    }
    return f;
}

uint64_t de_net_hash(const de_net *net)
{
    uint64_t h = DE_FNV1A64_INIT;
    int in[3] = {net->c, net->h, net->w};
    h = de_fnv1a64(in, sizeof in, h);
    for (int i = 0; i < net->n; i++) {
        const de_layer *L = &net->layers[i];
        int kind = (int)L->kind + (de_layer_is_conv(L) && L->b_n == 0 ? 64 : 0); /* nobias */
        int v[11] = {kind, L->in, L->in2, L->c, L->h, L->w, L->oc, L->oh, L->ow, L->k * 4096 + L->stride,
                     L->pad};
        h = de_fnv1a64(v, sizeof v, h);
    }
    return h;
}

int de_net_freeze(de_net *net, const char *spec, de_err *err)
{
    if (!spec || !*spec)
        return 0;
    if (strncmp(spec, "upto:", 5) == 0) {
        int last = de_net_find(net, spec + 5);
        if (last < 0)
            return de_err_set(err, DE_EREF, "--freeze %s: no layer called '%s'", spec, spec + 5);
        for (int i = 0; i <= last; i++)
            net->layers[i].frozen = 1;
        return 0;
    }
    char *s = de_strdup(spec);
    int rc = 0;
    char *save = NULL;
    for (char *t = strtok_r(s, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save)) {
        int i = de_net_find(net, t);
        if (i < 0)
            rc = de_err_set(err, DE_EREF, "--freeze: no layer called '%s'", t);
        else
            net->layers[i].frozen = 1;
    }
    free(s);
    return rc;
}

size_t de_net_n_trainable(const de_net *net)
{
    size_t n = 0;
    for (int i = 0; i < net->n; i++)
        if (!net->layers[i].frozen)
            n += net->layers[i].w_n + net->layers[i].b_n;
    return n;
}

/* ---- atomic writes ---- */

/* ---- weight files ----
 * "DEWGHT\0\0" u32 version u32 n_layers, then per parameterised layer:
 * char name[32] u32 kind u32 reserved u64 w_n u64 b_n u64 s_n, floats w, b, s;
 * finally u64 FNV-1a of every byte before it. */

#define WMAGIC "DEWGHT\0\0"
#define WVERSION 1u

typedef struct wrec {
    char name[32];
    uint32_t kind, reserved;
    uint64_t w_n, b_n, s_n;
} wrec;

static size_t state_n(const de_layer *L) { return L->kind == DE_LAYER_BN ? 2 * (size_t)L->c : 0; }

int de_net_save_weights(de_net *net, const char *path, de_err *err)
{
    size_t cap = 16 + 8;
    uint32_t nl = 0;
    for (int i = 0; i < net->n; i++)
        if (net->layers[i].w_n + net->layers[i].b_n) {
            nl++;
            cap += sizeof(wrec) + 4 * (net->layers[i].w_n + net->layers[i].b_n + state_n(&net->layers[i]));
        }
    char *buf = de_calloc(cap, 1), *p = buf;
    memcpy(p, WMAGIC, 8);
    uint32_t v[2] = {WVERSION, nl};
    memcpy(p + 8, v, 8);
    p += 16;
    for (int i = 0; i < net->n; i++) {
        const de_layer *L = &net->layers[i];
        if (!(L->w_n + L->b_n))
            continue;
        wrec r;
        memset(&r, 0, sizeof r);
        memcpy(r.name, L->name, sizeof r.name);
        r.kind = (uint32_t)L->kind;
        r.w_n = L->w_n, r.b_n = L->b_n, r.s_n = state_n(L);
        memcpy(p, &r, sizeof r);
        p += sizeof r;
        memcpy(p, net->params + L->w_off, 4 * (L->w_n + L->b_n));
        p += 4 * (L->w_n + L->b_n);
        if (r.s_n) {
            memcpy(p, net->state + L->s_off, 4 * r.s_n);
            p += 4 * r.s_n;
        }
    }
    uint64_t sum = de_fnv1a64(buf, (size_t)(p - buf), DE_FNV1A64_INIT);
    memcpy(p, &sum, 8);
    p += 8;
    int rc = de_file_write_atomic(path, buf, (size_t)(p - buf), err);
    free(buf);
    return rc;
}

int de_net_load_weights(de_net *net, const char *path, int partial, int *loaded, de_err *err)
{
    size_t len;
    struct stat sb;
    if (loaded)
        *loaded = 0;
    /* Weights of a layer of this network or of another one (partial loading): never more
     * than 4 GiB for the networks the engine builds (ResNet-18: 45 MB), refused unread. */
    if (stat(path, &sb) == 0 && sb.st_size > (1LL << 32))
        return de_err_set(err, DE_ERANGE, "%s: %lld bytes: not a weight file of a network this engine builds", path,
                          (long long)sb.st_size);
    char *buf = de_file_read(path, &len);
    if (!buf)
        return de_err_set(err, DE_EIO, "%s: cannot read: %s", path, de_file_strerror(errno));
    int rc = 0, nload = 0;
    if (len < 24 || memcmp(buf, WMAGIC, 8) != 0) {
        rc = de_err_set(err, DE_EIO, "%s: not a deepedge weight file (bad magic or too short)", path);
        goto out;
    }
    uint32_t v[2];
    memcpy(v, buf + 8, 8);
    if (v[0] != WVERSION) {
        rc = de_err_set(err, DE_EVERSION, "%s: weight file version %u, this program reads version %u", path, v[0],
                        WVERSION);
        goto out;
    }
    uint64_t sum;
    memcpy(&sum, buf + len - 8, 8);
    if (sum != de_fnv1a64(buf, len - 8, DE_FNV1A64_INIT)) {
        rc = de_err_set(err, DE_EIO, "%s: checksum mismatch (truncated or corrupted weight file)", path);
        goto out;
    }
    const char *p = buf + 16, *end = buf + len - 8;
    for (uint32_t k = 0; k < v[1]; k++) {
        wrec r;
        if ((size_t)(end - p) < sizeof r) {
            rc = de_err_set(err, DE_EIO, "%s: truncated at layer record %u", path, k);
            goto out;
        }
        memcpy(&r, p, sizeof r);
        p += sizeof r;
        r.name[sizeof r.name - 1] = '\0';
        uint64_t nf = r.w_n + r.b_n + r.s_n;
        if (nf > (uint64_t)(end - p) / 4) {
            rc = de_err_set(err, DE_EIO, "%s: layer '%s': sizes exceed the file", path, r.name);
            goto out;
        }
        int i = de_net_find(net, r.name);
        const de_layer *L = i >= 0 ? &net->layers[i] : NULL;
        if (!L || (uint32_t)L->kind != r.kind || L->w_n != r.w_n || L->b_n != r.b_n || state_n(L) != r.s_n) {
            if (!partial) {
                rc = de_err_set(err, DE_EMISMATCH,
                                "%s: layer '%s' (%llu weights, %llu biases) %s in network %s (use partial loading "
                                "to keep a new head)",
                                path, r.name, (unsigned long long)r.w_n, (unsigned long long)r.b_n,
                                L ? "has other sizes" : "does not exist", net->name);
                goto out;
            }
        } else {
            memcpy(net->params + L->w_off, p, 4 * (L->w_n + L->b_n));
            if (r.s_n)
                memcpy(net->state + L->s_off, p + 4 * (L->w_n + L->b_n), 4 * r.s_n);
            nload++;
        }
        p += 4 * nf;
    }
out:
    free(buf);
    if (loaded)
        *loaded = nload;
    return rc;
}
