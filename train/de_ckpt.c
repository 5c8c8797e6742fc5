/* de_ckpt.c — atomic, checksummed training checkpoints (see de_ckpt.h). */
#include "de_ckpt.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "de_util.h"

#define CMAGIC "DECKPT\0\0"
#define CVERSION 1u

int de_ckpt_save(const char *path, de_net *net, const float *momentum, const de_ckpt_meta *meta, de_err *err)
{
    size_t np = de_net_n_params(net), ns = de_net_n_state(net);
    size_t len = 16 + sizeof(de_ckpt_meta) + 4 * (2 * np + ns) + 8;
    char *buf = de_calloc(len, 1), *p = buf;
    de_ckpt_meta m = *meta;
    m.net_hash = de_net_hash(net);
    m.n_params = np;
    m.n_state = ns;
    memcpy(p, CMAGIC, 8);
    uint32_t v[2] = {CVERSION, (uint32_t)sizeof m};
    memcpy(p + 8, v, 8);
    p += 16;
    memcpy(p, &m, sizeof m);
    p += sizeof m;
    memcpy(p, de_net_params(net), 4 * np);
    p += 4 * np;
    memcpy(p, momentum, 4 * np);
    p += 4 * np;
    memcpy(p, de_net_state(net), 4 * ns);
    p += 4 * ns;
    uint64_t sum = de_fnv1a64(buf, (size_t)(p - buf), DE_FNV1A64_INIT);
    memcpy(p, &sum, 8);
    int rc = de_file_write_atomic(path, buf, len, err);
    free(buf);
    return rc;
}

/* The header's fields, after the checksum vouched for them: what a run can have written. */
static int check_meta(const char *path, const de_ckpt_meta *m, de_err *err)
{
    const char *bad = m->epoch < 0                                              ? "epoch"
                      : m->step < 0                                             ? "step"
                      : m->global_step < 0 || m->global_step < m->step          ? "global_step"
                      : m->batch < 1 || m->batch > 1000000                      ? "batch"
                      : !(m->lr > 0 && m->lr <= 1e3)                            ? "lr"
                      : !(m->momentum >= 0 && m->momentum < 1)                  ? "momentum"
                      : !(m->weight_decay >= 0 && m->weight_decay <= 1)         ? "weight_decay"
                      : m->epoch_seen < 0 || m->epoch_correct < 0 || m->epoch_correct > m->epoch_seen ? "epoch_correct"
                      : !(m->epoch_loss_sum >= 0 && isfinite(m->epoch_loss_sum)) ? "epoch_loss_sum"
                                                                                : NULL;
    return bad ? de_err_set(err, DE_ERANGE, "%s: checkpoint field %s is out of range (a damaged or forged file)", path, bad)
               : DE_OK;
}

int de_ckpt_load(const char *path, de_net *net, float *momentum, de_ckpt_meta *meta, de_err *err)
{
    size_t np = de_net_n_params(net), ns = de_net_n_state(net);
    /* The header first: the size it implies is checked before the file is read whole. */
    char head[16 + sizeof(de_ckpt_meta)];
    de_ckpt_meta m;
    uint32_t v[2];
    struct stat st;
    int fd = de_open_regular(path);
    FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return de_err_set(err, DE_EIO, "%s: cannot read checkpoint: %s", path, de_file_strerror(e));
    }
    size_t got = fread(head, 1, sizeof head, f);
    int sized = fstat(fileno(f), &st) == 0;
    fclose(f);
    if (got < sizeof head || memcmp(head, CMAGIC, 8) != 0)
        return de_err_set(err, DE_EIO, "%s: not a deepedge checkpoint (bad magic or only %zu bytes)", path, got);
    memcpy(v, head + 8, 8);
    if (v[0] != CVERSION || v[1] != sizeof m)
        return de_err_set(err, DE_EVERSION, "%s: checkpoint version %u (header %u bytes); this program reads version %u",
                          path, v[0], v[1], CVERSION);
    memcpy(&m, head + 16, sizeof m);
    if (m.net_hash != de_net_hash(net) || m.n_params != np || m.n_state != ns)
        return de_err_set(err, DE_EMISMATCH, "%s: checkpoint of another network (%llu parameters; %s has %zu)", path,
                          (unsigned long long)m.n_params, de_net_name(net), np);
    size_t want = 16 + sizeof m + 4 * (2 * np + ns) + 8;
    if (!sized || (size_t)st.st_size != want)
        return de_err_set(err, DE_EIO, "%s: truncated or padded checkpoint (%lld bytes, expected %zu)", path,
                          sized ? (long long)st.st_size : -1LL, want);
    size_t len;
    char *buf = de_file_read(path, &len);
    if (!buf)
        return de_err_set(err, DE_EIO, "%s: cannot read checkpoint: %s", path, de_file_strerror(errno));
    int rc = 0;
    uint64_t sum;
    if (len != want) {
        rc = de_err_set(err, DE_EIO, "%s: the checkpoint changed while it was read", path);
        goto out;
    }
    memcpy(&sum, buf + len - 8, 8);
    if (sum != de_fnv1a64(buf, len - 8, DE_FNV1A64_INIT)) {
        rc = de_err_set(err, DE_EIO, "%s: checksum mismatch: the checkpoint is corrupted", path);
        goto out;
    }
    memcpy(&m, buf + 16, sizeof m);
    if ((rc = check_meta(path, &m, err)))
        goto out;
    const char *p = buf + 16 + sizeof m;
    memcpy(de_net_params(net), p, 4 * np);
    memcpy(momentum, p + 4 * np, 4 * np);
    memcpy(de_net_state(net), p + 8 * np, 4 * ns);
    *meta = m;
out:
    free(buf);
    return rc;
}
