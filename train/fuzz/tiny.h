/* tiny.h — the network the checkpoint and weight-file fuzz targets read into: small, so
 * that its files (a few hundred bytes) are inputs a fuzzer mutates well, with every kind
 * of stored data (convolution and FC weights, BN scale and shift, BN running statistics). */
#ifndef DE_FUZZ_TINY_H
#define DE_FUZZ_TINY_H

#include "de_fuzz.h"
#include "de_net.h"
#include "de_train.h"
#include "de_util.h"

#include <string.h>

#define DE_FUZZ_TINY "input 2 6 6\nc1: conv 3 3 1 1\nb1: bn\nr1: relu\np1: maxpool 2\nfc: fc 3\n"

static inline de_net *de_fuzz_tiny(void)
{
    de_net *net = NULL;
    de_err err;
    if (de_net_parse("tiny", DE_FUZZ_TINY, &net, &err))
        de_fuzz_die("the tiny network does not parse: %s", err.msg);
    de_net_init(net, 7);
    return net;
}

/* The tiny network and a CPU trainer for it (batch <= 2, one thread): what a target that
 * reads into the network then trains or evaluates with. */
static inline void de_fuzz_tiny_trainer(de_net **net, de_trainer **tr)
{
    *net = de_fuzz_tiny();
    de_train_opts o;
    de_train_opts_default(&o);
    o.max_batch = 2;
    o.threads = 1;
    de_err err;
    if (de_train_create(*net, &o, tr, &err))
        de_fuzz_die("trainer: %s", err.msg);
}

/* Files that end in an FNV-1a of everything before: when the first input byte is odd the
 * target makes the sum right, so that mutations reach the checks after it. Returns the
 * file's bytes (a copy of data + 1; free it). */
static inline unsigned char *de_fuzz_sealed(const uint8_t *data, size_t n, size_t *len)
{
    *len = n ? n - 1 : 0;
    unsigned char *buf = (unsigned char *)de_fuzz_text(n ? data + 1 : data, *len);
    if (n && (data[0] & 1) && *len >= 8) {
        uint64_t sum = de_fnv1a64(buf, *len - 8, DE_FNV1A64_INIT);
        memcpy(buf + *len - 8, &sum, 8);
    }
    return buf;
}

#endif
