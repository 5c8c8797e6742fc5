/* checkpoint.c — fuzz target: a training checkpoint (de_ckpt_load) into the network of
 * tiny.h; the first byte's low bit seals the file's checksum (tiny.h). An accepted
 * checkpoint's weights are used for one training step, as a resumed run would. */
#include <stdio.h>
#include <stdlib.h>

#include "de_ckpt.h"
#include "de_train.h"
#include "tiny.h"

static de_net *net;
static de_trainer *tr;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    de_fuzz_tiny_trainer(&net, &tr);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    de_net_init(net, 7); /* each input from the same start: a step below changes the weights */
    size_t len;
    unsigned char *buf = de_fuzz_sealed(data, n, &len);
    const char *path = de_fuzz_file("ckpt.bin", buf, len);
    free(buf);
    de_ckpt_meta meta;
    de_err err;
    int rc = de_ckpt_load(path, net, de_train_momentum(tr), &meta, &err);
    de_fuzz_verdict(rc, &err);
    if (rc == DE_OK && de_train_push(tr, &err) == DE_OK) {
        float x[2 * 2 * 6 * 6] = {0};
        int y[2] = {0, 2};
        double loss;
        if (de_train_grad(tr, x, y, 2, &loss, NULL, &err) == DE_OK)
            de_train_step(tr, NULL, meta.lr, &err);
    }
    return 0;
}

/* Seeds: checkpoints of the tiny network at a few points of a run. */
int de_fuzz_write_seeds(const char *dir)
{
    for (int k = 0; k < 3; k++) {
        de_ckpt_meta m = {0};
        m.epoch = k;
        m.step = 3 * k;
        m.global_step = 10 * k + m.step;
        m.batch = 16 << k;
        m.lr = 0.01;
        m.momentum = 0.9;
        m.weight_decay = 5e-4;
        m.epoch_seen = 40 * k;
        m.epoch_correct = 10 * k;
        m.epoch_loss_sum = 1.5 * k;
        de_net_init(net, (uint64_t)k + 1);
        float *mom = de_train_momentum(tr);
        for (size_t i = 0; i < de_net_n_params(net); i++)
            mom[i] = 0.001f * (float)(i % 7) * (float)k;
        char path[4096];
        snprintf(path, sizeof path, "%s/ckpt-%d.tmp", dir, k);
        de_err err;
        if (de_ckpt_save(path, net, mom, &m, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        char seed[4096];
        snprintf(seed, sizeof seed, "%s/ckpt-%d", dir, k);
        if (de_fuzz_seed_from(path, 1, seed))
            return 1;
    }
    return 0;
}
