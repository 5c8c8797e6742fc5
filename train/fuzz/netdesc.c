/* netdesc.c — fuzz target: a network description (`deepedge train --net-file`,
 * de_net_parse); an accepted network of at most 10^5 parameters and inputs of at most
 * 4096 values is initialised and trained for one step on a batch of 2, as training does. */
#include <stdio.h>
#include <stdlib.h>

#include "de_fuzz.h"
#include "de_net.h"
#include "de_train.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    char *text = de_fuzz_text(data, n);
    de_net *net = NULL;
    de_err err;
    int rc = de_net_parse("fuzz", text, &net, &err);
    de_fuzz_verdict(rc, &err);
    if (rc == DE_OK) {
        int c, h, w;
        de_net_input(net, &c, &h, &w);
        if (de_net_n_params(net) <= 100000 && (size_t)c * h * w <= 4096) {
            de_net_init(net, 1);
            de_train_opts o;
            de_train_opts_default(&o);
            o.max_batch = 2;
            o.threads = 1;
            de_trainer *tr = NULL;
            if (de_train_create(net, &o, &tr, &err) == DE_OK) {
                float *x = calloc(2 * (size_t)c * h * w, sizeof *x);
                int k = de_net_classes(net), y[2] = {0, k > 1 ? k - 1 : 0};
                double loss;
                if (de_train_grad(tr, x, y, 2, &loss, NULL, &err) == DE_OK)
                    de_train_step(tr, NULL, 0.01, &err);
                free(x);
            }
            de_train_destroy(tr);
        }
    }
    de_net_destroy(net);
    free(text);
    return 0;
}

/* Seeds: the built-in networks and small ones with every layer kind. */
int de_fuzz_write_seeds(const char *dir)
{
    static const char *const small[] = {
        "input 3 8 8\nconv 4 3 1 1\nrelu\nmaxpool 2\nfc 3\n",
        "input 1 8 8; c1: conv 2 3 1 1; b1: bn; r1: relu; c2: conv 2 3 1 1; s: add r1; avgpool 2; gap; fc 2",
        "# a comment\ninput 2 5 7\nconv 3 3 2 1\nmaxpool 2 1\navgpool 1\nfc 4\n",
    };
    const char *texts[5] = {de_net_builtin_desc("edgenet-s"), de_net_builtin_desc("resnet18"), small[0], small[1],
                            small[2]};
    for (int k = 0; k < 5; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/net-%d", dir, k);
        FILE *f = fopen(path, "w");
        if (!f || fputs(texts[k], f) == EOF || fclose(f)) {
            fprintf(stderr, "%s: cannot write\n", path);
            return 1;
        }
    }
    return 0;
}
