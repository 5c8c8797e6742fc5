/* de_net.h — a CNN described as a list of layers: shapes, parameters, weight files.
 *
 * A network is parsed from a small text description (or taken from the built-ins
 * `edgenet-s`, `resnet18`, `resnet50`, `resnet50-ft` and `mobilenet-v2`), its shapes are inferred, and every trainable tensor
 * gets an offset into ONE contiguous float array of parameters, so that a gradient
 * or an optimizer state is one array of the same length (what the executor
 * all-reduces). Activations are NCHW, fp32. The loss (softmax cross-entropy) is
 * applied to the output of the last layer, whose size is the number of classes.
 *
 * Description: one layer per line (or separated by ';'), '#' starts a comment:
 *     input C H W                       (first line, once)
 *     [NAME:] conv OUT K [STRIDE [PAD]] [nobias]
 *                                       (K x K convolution with bias unless nobias; stride 1, pad 0)
 *     [NAME:] dwconv K [STRIDE [PAD]] [nobias]
 *                                       (depthwise: one K x K filter per channel, C -> C)
 *     [NAME:] relu
 *     [NAME:] relu6                     (min(max(x, 0), 6), MobileNet's)
 *     [NAME:] maxpool K [STRIDE [PAD]]  (stride defaults to K; padding never wins)
 *     [NAME:] avgpool K [STRIDE [PAD]]  (averages the taps inside the image only)
 *     [NAME:] gap                       (global average pool -> C x 1 x 1)
 *     [NAME:] fc OUT                    (fully connected with bias, flattens its input)
 *     [NAME:] bn                        (batch normalisation, per channel)
 *     [NAME:] add OTHER                 (output of the previous layer + output of OTHER)
 * Any layer may end with `from=OTHER` to read OTHER's output instead of the previous
 * layer's; OTHER is a layer name or `input`. Unnamed layers are called L<index>.
 *
 * Batch normalisation uses the statistics of the local batch in training: it breaks
 * the exact equivalence of data-parallel training with weighted gradient averaging
 * (README.md, "The planning problem"); networks without BN keep it. */
#ifndef DE_NET_H
#define DE_NET_H

#include <stddef.h>
#include <stdint.h>

#include "de_error.h"

typedef enum de_layer_kind {
    DE_LAYER_CONV,
    DE_LAYER_RELU,
    DE_LAYER_MAXPOOL,
    DE_LAYER_AVGPOOL,
    DE_LAYER_GAP,
    DE_LAYER_FC,
    DE_LAYER_BN,
    DE_LAYER_ADD,
    DE_LAYER_DWCONV, /* depthwise convolution (groups = channels) */
    DE_LAYER_RELU6
} de_layer_kind;

/* One layer, shapes per image. Read-only for users of a net. */
typedef struct de_layer {
    de_layer_kind kind;
    char name[32];
    int in, in2;         /* producer layers (-1: the network input); in2 only for ADD */
    int c, h, w;         /* input shape */
    int oc, oh, ow;      /* output shape */
    int k, stride, pad;  /* CONV, DWCONV, MAXPOOL, AVGPOOL */
    size_t w_off, w_n;   /* weights in the parameter array: CONV OC*C*K*K, DWCONV C*K*K, FC OUT*IN, BN gamma C */
    size_t b_off, b_n;   /* biases: CONV OC, FC OUT, BN beta C */
    size_t s_off;        /* BN: running mean (C) then running variance (C) in the state array */
    int frozen;          /* 1: its parameters are not updated (no gradient is computed) */
} de_layer;

/* A convolution of either kind (weights OC x C/groups x K x K, optional biases). */
static inline int de_layer_is_conv(const de_layer *L) { return L->kind == DE_LAYER_CONV || L->kind == DE_LAYER_DWCONV; }

typedef struct de_net de_net;

/* Parses a description (see above). name is copied (NULL: "custom"). On error *out is
 * NULL and err names the line. Parameters are zero until de_net_init. */
int de_net_parse(const char *name, const char *desc, de_net **out, de_err *err);
/* A built-in network, by its catalog name (models/networks.cfg): "edgenet-s" (3x64x64,
 * 257 classes, 454,465 parameters), "resnet18" (ResNet-18 with BN, 3x224x224, 257 classes),
 * "resnet50" and "resnet50-ft" (torchvision's ResNet-50 with BN, 3x224x224, 257 classes,
 * 24,034,625 parameters: the LC model and the case study's training network),
 * "mobilenet-v2" (torchvision's, 257 classes, 2,553,089 parameters); classes > 0
 * replaces the number of classes. DE_EREF for an unknown name (the message lists them). */
int de_net_builtin(const char *name, int classes, de_net **out, de_err *err);
/* The description text of a built-in (static storage), NULL if unknown. */
const char *de_net_builtin_desc(const char *name);
/* The built-ins' names, comma-separated (for messages). */
const char *de_net_builtin_list(void);
void de_net_destroy(de_net *net);  /* NULL is a no-op */
/* A deep copy (parameters, state, frozen flags). */
de_net *de_net_clone(const de_net *net);

/* He-normal weights (std sqrt(2/fan_in)), zero biases, BN gamma 1 / beta 0, running
 * mean 0 / variance 1; deterministic in seed. */
void de_net_init(de_net *net, uint64_t seed);

const char *de_net_name(const de_net *net);
int de_net_n_layers(const de_net *net);
const de_layer *de_net_layer(const de_net *net, int i);
/* Index of the layer called name, -1 if none. */
int de_net_find(const de_net *net, const char *name);
void de_net_input(const de_net *net, int *c, int *h, int *w);
int de_net_classes(const de_net *net);
size_t de_net_n_params(const de_net *net);
float *de_net_params(de_net *net);            /* n_params floats, owned by the net */
size_t de_net_n_state(const de_net *net);     /* BN running statistics */
float *de_net_state(de_net *net);
int de_net_has_bn(const de_net *net);
/* Floating-point operations of one image's forward pass (2 per multiply-add, convs and FCs). */
double de_net_flops(const de_net *net);
/* A hash of the architecture (kinds, shapes, links): checkpoints and weight files refer to it. */
uint64_t de_net_hash(const de_net *net);

/* Freezes layers: spec is a comma-separated list of layer names, or "upto:NAME" for
 * every parameterised layer up to and including NAME. DE_EREF names an unknown layer. */
int de_net_freeze(de_net *net, const char *spec, de_err *err);
/* Number of trainable parameters (those of layers not frozen). */
size_t de_net_n_trainable(const de_net *net);

/* Weight files (our format "DEWGHT", version 1: per layer name, kind, sizes, then the
 * floats; BN statistics included; FNV-1a checksum at the end). Saving is atomic
 * (temporary file, fsync, rename). Loading copies every layer of the file whose name,
 * kind and sizes match a layer of net; with partial = 0 any mismatch is an error,
 * with partial != 0 mismatching or missing layers keep their values (a new head on a
 * pre-trained feature extractor). *loaded (may be NULL) gets the number of layers
 * loaded. A truncated or corrupted file is refused (DE_EIO / DE_EVERSION). */
int de_net_save_weights(de_net *net, const char *path, de_err *err);
int de_net_load_weights(de_net *net, const char *path, int partial, int *loaded, de_err *err);

#endif
