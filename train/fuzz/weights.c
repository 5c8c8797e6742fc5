/* weights.c — fuzz target: a weight file (de_net_load_weights, what `train --init` and
 * `run` read) into the network of tiny.h; the first byte's low bit seals the checksum
 * (tiny.h) and its second bit asks for partial loading (layers that do not match are
 * skipped, as for a new head). An accepted file's weights are used for one forward pass. */
#include <stdio.h>
#include <stdlib.h>

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
    de_net_init(net, 7);
    size_t len;
    unsigned char *buf = de_fuzz_sealed(data, n, &len);
    const char *path = de_fuzz_file("weights.bin", buf, len);
    free(buf);
    int loaded;
    de_err err;
    int rc = de_net_load_weights(net, path, n && (data[0] & 2), &loaded, &err);
    de_fuzz_verdict(rc, &err);
    if (rc == DE_OK && de_train_push(tr, &err) == DE_OK) {
        float x[2 * 2 * 6 * 6] = {0};
        int y[2] = {0, 2};
        double loss;
        de_train_eval(tr, x, y, 2, &loss, NULL, NULL, &err);
    }
    return 0;
}

/* Seeds: the tiny network's weights (sealed, whole and partial), and those of a network
 * with another head (partial loading keeps the body). */
int de_fuzz_write_seeds(const char *dir)
{
    static const char *const descs[] = {DE_FUZZ_TINY, "input 2 6 6\nc1: conv 3 3 1 1\nb1: bn\nr1: relu\np1: maxpool 2\nfc: fc 5\n"};
    static const int flags[] = {1, 3};
    for (int k = 0; k < 2; k++) {
        de_net *w = NULL;
        de_err err;
        char path[4096];
        snprintf(path, sizeof path, "%s/weights-%d.tmp", dir, k);
        if (de_net_parse("tiny", descs[k], &w, &err) || (de_net_init(w, 3), de_net_save_weights(w, path, &err))) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        de_net_destroy(w);
        char seed[4096];
        snprintf(seed, sizeof seed, "%s/weights-%d", dir, k);
        if (de_fuzz_seed_from(path, flags[k], seed))
            return 1;
    }
    return 0;
}
