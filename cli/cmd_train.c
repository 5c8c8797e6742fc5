/* cmd_train.c — `deepedge train` (the CNN trainer on a Caltech folder, a cache or synthetic
 * data) and `deepedge dataset synth|cache` (Caltech-layout folders and binary caches). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_exec.h"
#include "de_dataset.h"
#include "de_layers_cpu.h"
#include "de_net.h"
#include "de_train.h"
#include "de_util.h"

static void train_help(FILE *out)
{
    fprintf(out,
            "usage: deepedge train (--data DIR|CACHE | --synthetic [--classes N] [--per-class M])\n"
            "                      [--net edgenet-s|resnet18 | --net-file F] [--batch B] [--epochs E] [--lr LR]\n"
            "                      [--momentum M] [--wd WD] [--seed S] [--val-frac F] [--no-augment]\n"
            "                      [--checkpoint F [--checkpoint-every N]] [--resume F] [--stop-after STEPS]\n"
            "                      [--weights F [--partial]] [--freeze NAMES|upto:NAME] [--save-weights F]\n"
            "                      [--device cpu|cuda] [--threads T] [--cache F] [--json] [--quiet]\n\n"
            "Trains a CNN with SGD (momentum 0.9, weight decay 5e-4 by default) and prints the loss and\n"
            "accuracy of every epoch (training and validation), then a summary (--json: one object).\n"
            "--data DIR is a Caltech-101/256 folder (one sub-folder of JPEGs per class): it is decoded once\n"
            "into a cache (--cache, default DIR.SIZE.decache) that later runs map directly; corrupt and\n"
            "non-JPEG files are reported by name and skipped. --synthetic generates a learnable in-memory\n"
            "dataset (default 10 classes x 100 images). The network's head is sized to the dataset's classes.\n"
            "Images are stored at 9/8 of the network input and cropped (random crop + flip when augmenting).\n"
            "Checkpoints are atomic and checksummed; --resume continues bit-identically on the same backend.\n");
}

static void dataset_help(FILE *out)
{
    fprintf(out, "usage: deepedge dataset synth DIR [--classes N] [--per-class M] [--seed S]\n"
                 "       deepedge dataset cache DIR -o CACHE [--size S]\n\n"
                 "synth writes a Caltech-layout folder of generated, learnable JPEGs (class-dependent colour\n"
                 "and stripes with noise). cache decodes a Caltech folder into a binary cache of SxS images\n"
                 "(default 72), reporting and counting the files it skips.\n");
}

int de_cli_backend(const char *s, de_backend *out)
{
    if (strcmp(s, "cpu") == 0)
        *out = DE_BACKEND_CPU;
    else if (strcmp(s, "cuda") == 0)
        *out = DE_BACKEND_CUDA;
    else {
        de_cli_fail("--device: '%s' is not cpu or cuda", s);
        return -1;
    }
    return 0;
}

static void skip_report(void *ud, const char *path, const char *why)
{
    (void)ud;
    fprintf(stderr, "deepedge: skipped %s: %s\n", path, why);
}

typedef struct tctx {
    int quiet, json, epochs;
    int tty;
} tctx;

static void progress(void *ud, int epoch, int step, int steps, double loss, double acc)
{
    tctx *t = ud;
    if (t->quiet || !t->tty)
        return;
    int w = 30, fill = (int)((double)w * step / steps);
    char bar[31];
    for (int i = 0; i < w; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[w] = '\0';
    fprintf(stderr, "\r[%s] epoch %d/%d step %d/%d loss %.4f acc %5.1f%%", bar, epoch, t->epochs, step, steps, loss,
            100 * acc);
    if (step == steps)
        fputs("\r\033[K", stderr);
    fflush(stderr);
}

static void on_epoch(void *ud, const de_train_epoch *e)
{
    tctx *t = ud;
    if (t->json)
        return;
    printf("epoch %3d/%d  train loss %.4f acc %5.1f%%  val loss %.4f acc %5.1f%%  %6.1f s  %7.1f img/s\n", e->epoch,
           t->epochs, e->train_loss, 100 * e->train_acc, e->val_loss, 100 * e->val_acc, e->seconds, e->images_per_s);
    fflush(stdout);
}

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static void json_num(const char *k, double v, int comma)
{
    if (isfinite(v))
        printf("  \"%s\": %.6g%s\n", k, v, comma ? "," : "");
    else
        printf("  \"%s\": null%s\n", k, comma ? "," : "");
}

int de_cmd_train(int argc, char **argv)
{
    enum { O_SYN = 256, O_CLASSES, O_PER, O_NETFILE, O_MOM, O_WD, O_VAL, O_NOAUG, O_CKEVERY, O_STOP, O_WEIGHTS,
           O_PARTIAL, O_FREEZE, O_SAVEW, O_DEVICE, O_THREADS, O_CACHE, O_JSON, O_QUIET, O_RESUME, O_CKPT };
    static const struct option opts[] = {
        {"data", required_argument, 0, 'd'},      {"synthetic", no_argument, 0, O_SYN},
        {"classes", required_argument, 0, O_CLASSES}, {"per-class", required_argument, 0, O_PER},
        {"net", required_argument, 0, 'n'},       {"net-file", required_argument, 0, O_NETFILE},
        {"batch", required_argument, 0, 'b'},     {"epochs", required_argument, 0, 'e'},
        {"lr", required_argument, 0, 'l'},        {"momentum", required_argument, 0, O_MOM},
        {"wd", required_argument, 0, O_WD},       {"seed", required_argument, 0, 's'},
        {"val-frac", required_argument, 0, O_VAL}, {"no-augment", no_argument, 0, O_NOAUG},
        {"checkpoint", required_argument, 0, O_CKPT}, {"checkpoint-every", required_argument, 0, O_CKEVERY},
        {"resume", required_argument, 0, O_RESUME}, {"stop-after", required_argument, 0, O_STOP},
        {"weights", required_argument, 0, O_WEIGHTS}, {"partial", no_argument, 0, O_PARTIAL},
        {"freeze", required_argument, 0, O_FREEZE}, {"save-weights", required_argument, 0, O_SAVEW},
        {"device", required_argument, 0, O_DEVICE}, {"threads", required_argument, 0, O_THREADS},
        {"cache", required_argument, 0, O_CACHE}, {"json", no_argument, 0, O_JSON},
        {"quiet", no_argument, 0, O_QUIET},       {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *data = NULL, *netname = "edgenet-s", *netfile = NULL, *weights = NULL, *freeze = NULL,
               *savew = NULL, *cache = NULL;
    int synthetic = 0, partial = 0;
    long long classes = 10, per = 100, batch = 32, epochs = 1, seed = 1, ckevery = 0, stop = 0, threads = 0;
    double lr = 0.01, mom = 0.9, wd = 5e-4, valf = 0.2;
    de_backend dev = DE_BACKEND_CPU;
    tctx t = {0, 0, 0, isatty(2)};
    de_train_run_opts ro;
    de_train_run_opts_default(&ro);
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "d:n:b:e:l:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case O_SYN: synthetic = 1; break;
        case O_CLASSES: if (de_cli_int("--classes", optarg, 2, 100000, &classes)) return DE_EXIT_ERROR; break;
        case O_PER: if (de_cli_int("--per-class", optarg, 1, 1000000, &per)) return DE_EXIT_ERROR; break;
        case 'n': netname = optarg; break;
        case O_NETFILE: netfile = optarg; break;
        case 'b': if (de_cli_int("--batch", optarg, 1, 4096, &batch)) return DE_EXIT_ERROR; break;
        case 'e': if (de_cli_int("--epochs", optarg, 1, 100000, &epochs)) return DE_EXIT_ERROR; break;
        case 'l': if (de_cli_float("--lr", optarg, 0, 100, &lr)) return DE_EXIT_ERROR; break;
        case O_MOM: if (de_cli_float("--momentum", optarg, 0, 0.999, &mom)) return DE_EXIT_ERROR; break;
        case O_WD: if (de_cli_float("--wd", optarg, 0, 1, &wd)) return DE_EXIT_ERROR; break;
        case 's': if (de_cli_int("--seed", optarg, 0, (long long)1 << 62, &seed)) return DE_EXIT_ERROR; break;
        case O_VAL: if (de_cli_float("--val-frac", optarg, 0, 0.9, &valf)) return DE_EXIT_ERROR; break;
        case O_NOAUG: ro.augment = 0; break;
        case O_CKPT: ro.checkpoint = optarg; break;
        case O_CKEVERY: if (de_cli_int("--checkpoint-every", optarg, 1, 1LL << 40, &ckevery)) return DE_EXIT_ERROR; break;
        case O_RESUME: ro.resume = optarg; break;
        case O_STOP: if (de_cli_int("--stop-after", optarg, 1, 1LL << 40, &stop)) return DE_EXIT_ERROR; break;
        case O_WEIGHTS: weights = optarg; break;
        case O_PARTIAL: partial = 1; break;
        case O_FREEZE: freeze = optarg; break;
        case O_SAVEW: savew = optarg; break;
        case O_DEVICE: if (de_cli_backend(optarg, &dev)) return DE_EXIT_ERROR; break;
        case O_THREADS: if (de_cli_int("--threads", optarg, 1, 256, &threads)) return DE_EXIT_ERROR; break;
        case O_CACHE: cache = optarg; break;
        case O_JSON: t.json = 1; break;
        case O_QUIET: t.quiet = 1; break;
        case 'h': train_help(stdout); return DE_EXIT_OK;
        default: train_help(stderr); return DE_EXIT_ERROR;
        }
    }
    if (optind < argc)
        return de_cli_fail("train: unexpected argument '%s'", argv[optind]);
    if (!!data + synthetic != 1) {
        train_help(stderr);
        return de_cli_fail("train: give exactly one of --data DIR and --synthetic");
    }
    de_err err;
    de_err_clear(&err);
    de_net *net = NULL;
    de_dataset *ds = NULL;
    de_trainer *tr = NULL;
    int rc = DE_EXIT_OK;
    /* the network first (its input size decides the stored image size) */
    const char *desc = de_net_builtin_desc(netname);
    char *ftext = NULL;
    if (netfile) {
        ftext = de_file_read(netfile, NULL);
        if (!ftext)
            return de_cli_fail("%s: cannot read the network description: %s", netfile, de_file_strerror(errno));
        desc = ftext;
        netname = netfile;
    } else if (!desc) {
        return de_cli_fail("--net %s: unknown network (built-ins: %s; or --net-file F)", netname, de_net_builtin_list());
    }
    de_net *probe = NULL;
    if (de_net_parse(netname, desc, &probe, &err)) {
        free(ftext);
        return de_cli_fail("%s", err.msg);
    }
    int C, H, W;
    de_net_input(probe, &C, &H, &W);
    de_net_destroy(probe);
    int store = H + H / 8;
    double synth_gib = (double)classes * (double)per * C * store * store / 1073741824.0;
    if (synthetic && (classes * per > 2000000000LL || synth_gib > 8)) {
        free(ftext);
        return de_cli_fail("--synthetic: %lld x %lld images of %dx%dx%d would take %.1f GiB of memory (at most 8 GiB "
                           "and 2e9 images in memory: use `dataset synth` and --data for more)",
                           classes, per, C, store, store, synth_gib);
    }
    if (synthetic) {
        ds = de_dataset_synthetic((int)classes, (int)per, C, store, (uint64_t)seed);
    } else {
        char *cpath = cache ? de_strdup(cache) : NULL;
        if (is_file(data)) {
            free(cpath);
            cpath = de_strdup(data);
        } else {
            if (!cpath)
                cpath = de_sprintf("%s.%d.decache", data, store);
            de_dataset *old = NULL;
            int stale = is_file(cpath) && de_dataset_open(cpath, &old, &err) == DE_EVERSION;
            de_dataset_destroy(old);
            if (!is_file(cpath) || stale) { /* none yet, or one of an older format: decoded again */
                de_dataset_report rep;
                if (!t.json)
                    fprintf(stderr, "deepedge: decoding %s into %s (%dx%d)\n", data, cpath, store, store);
                if (de_dataset_build_cache(data, cpath, store, skip_report, NULL, &rep, &err)) {
                    free(cpath);
                    free(ftext);
                    return de_cli_fail("%s", err.msg);
                }
                if (!t.json)
                    fprintf(stderr, "deepedge: %d classes, %d images, %d files skipped\n", rep.classes, rep.images,
                            rep.skipped);
            }
        }
        int orc = de_dataset_open(cpath, &ds, &err);
        free(cpath);
        if (orc) {
            free(ftext);
            return de_cli_fail("%s", err.msg);
        }
    }
    /* the head is sized to the dataset */
    char *d2 = NULL;
    const char *fc = strstr(desc, "fc: fc ");
    if (!netfile && fc) {
        d2 = de_strdup(desc);
        d2[fc - desc] = '\0';
        char *full = de_sprintf("%sfc: fc %d\n", d2, de_dataset_classes(ds));
        free(d2);
        d2 = full;
    }
    if (de_net_parse(netname, d2 ? d2 : desc, &net, &err)) {
        rc = de_cli_fail("%s", err.msg);
        goto out;
    }
    de_net_init(net, (uint64_t)seed);
    if (weights) {
        int loaded;
        if (de_net_load_weights(net, weights, partial, &loaded, &err)) {
            rc = de_cli_fail("%s", err.msg);
            goto out;
        }
        if (!t.json)
            fprintf(stderr, "deepedge: %d layers loaded from %s\n", loaded, weights);
    }
    if (freeze && de_net_freeze(net, freeze, &err)) {
        rc = de_cli_fail("%s", err.msg);
        goto out;
    }
    de_train_opts to;
    de_train_opts_default(&to);
    to.max_batch = (int)batch;
    to.device = dev;
    to.threads = (int)threads;
    to.momentum = mom;
    to.weight_decay = wd;
    if (de_train_create(net, &to, &tr, &err)) {
        rc = de_cli_fail("%s", err.msg);
        goto out;
    }
    ro.batch = (int)batch;
    ro.epochs = (int)epochs;
    ro.lr = lr;
    ro.seed = (uint64_t)seed;
    ro.val_frac = valf;
    ro.ckpt_every = (int)ckevery;
    ro.stop_after = stop;
    ro.progress = progress;
    ro.on_epoch = on_epoch;
    ro.ud = &t;
    t.epochs = (int)epochs;
    if (!t.json)
        printf("train %s: %d images, %d classes, %zu parameters (%zu trainable), batch %lld, lr %g, %s%s\n",
               de_net_name(net), de_dataset_count(ds), de_dataset_classes(ds), de_net_n_params(net),
               de_net_n_trainable(net), batch, lr, dev == DE_BACKEND_CUDA ? "cuda" : "cpu",
               ro.resume ? ", resumed" : "");
    de_train_result res;
    if (de_train_run(tr, ds, &ro, &res, &err)) {
        rc = de_cli_fail("%s", err.msg);
        goto out;
    }
    if (savew && de_net_save_weights(net, savew, &err)) {
        rc = de_cli_fail("%s", err.msg);
        goto out;
    }
    if (t.json) {
        printf("{\n  \"net\": \"%s\",\n  \"device\": \"%s\",\n  \"images\": %d,\n  \"classes\": %d,\n",
               de_net_name(net), dev == DE_BACKEND_CUDA ? "cuda" : "cpu", de_dataset_count(ds), de_dataset_classes(ds));
        printf("  \"parameters\": %zu,\n  \"batch\": %lld,\n  \"epochs\": %d,\n  \"steps\": %ld,\n  \"stopped\": %s,\n",
               de_net_n_params(net), batch, res.epochs_done, res.steps, res.stopped ? "true" : "false");
        json_num("train_loss", res.last.train_loss, 1);
        json_num("train_acc", res.last.train_acc, 1);
        json_num("val_loss", res.last.val_loss, 1);
        json_num("val_acc", res.last.val_acc, 1);
        json_num("images_per_s", res.last.images_per_s, 1);
        json_num("seconds", res.seconds, 0);
        printf("}\n");
    } else if (res.stopped) {
        printf("stopped after %ld steps (checkpoint %s)\n", res.steps, ro.checkpoint ? ro.checkpoint : "none");
    } else {
        printf("done: %d epochs, %ld steps in %.1f s; final train acc %.1f%%, val acc %.1f%%\n", res.epochs_done,
               res.steps, res.seconds, 100 * res.last.train_acc, 100 * res.last.val_acc);
    }
out:
    de_train_destroy(tr);
    de_net_destroy(net);
    de_dataset_destroy(ds);
    free(d2);
    free(ftext);
    return rc;
}

int de_cmd_dataset(int argc, char **argv)
{
    const char *sub = argc >= 2 ? argv[1] : "";
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        dataset_help(stdout);
        return DE_EXIT_OK;
    }
    if (strcmp(sub, "synth") != 0 && strcmp(sub, "cache") != 0) {
        dataset_help(stderr);
        return de_cli_fail("dataset: which action? synth or cache");
    }
    static const struct option opts[] = {{"classes", required_argument, 0, 'c'}, {"per-class", required_argument, 0, 'm'},
                                         {"seed", required_argument, 0, 's'},    {"size", required_argument, 0, 'z'},
                                         {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    long long classes = 10, per = 20, seed = 1, size = 72;
    const char *out = NULL;
    optind = 1;
    int c;
    while ((c = getopt_long(argc - 1, argv + 1, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': if (de_cli_int("--classes", optarg, 1, 100000, &classes)) return DE_EXIT_ERROR; break;
        case 'm': if (de_cli_int("--per-class", optarg, 1, 1000000, &per)) return DE_EXIT_ERROR; break;
        case 's': if (de_cli_int("--seed", optarg, 0, 1LL << 62, &seed)) return DE_EXIT_ERROR; break;
        case 'z': if (de_cli_int("--size", optarg, 8, 1024, &size)) return DE_EXIT_ERROR; break;
        case 'o': out = optarg; break;
        case 'h': dataset_help(stdout); return DE_EXIT_OK;
        default: dataset_help(stderr); return DE_EXIT_ERROR;
        }
    }
    if (optind + 1 != argc - 1) {
        dataset_help(stderr);
        return de_cli_fail("dataset %s: expected one folder", sub);
    }
    const char *dir = argv[optind + 1];
    de_err err;
    if (strcmp(sub, "synth") == 0) {
        if (de_dataset_synth_dir(dir, (int)classes, (int)per, (uint64_t)seed, &err))
            return de_cli_fail("%s", err.msg);
        printf("wrote %lld classes x %lld JPEGs to %s\n", classes, per, dir);
        return DE_EXIT_OK;
    }
    if (!out)
        return de_cli_fail("dataset cache: -o CACHE is required");
    de_dataset_report rep;
    if (de_dataset_build_cache(dir, out, (int)size, skip_report, NULL, &rep, &err))
        return de_cli_fail("%s", err.msg);
    printf("%s: %d classes, %d images (%dx%d), %d of %d files skipped\n", out, rep.classes, rep.images, (int)size,
           (int)size, rep.skipped, rep.files);
    return DE_EXIT_OK;
}
