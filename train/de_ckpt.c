/* de_ckpt.c — atomic, checksummed training checkpoints (see de_ckpt.h). */
#include "de_ckpt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
    int rc = de_net_write_atomic(path, buf, len, err);
    free(buf);
    return rc;
}

int de_ckpt_load(const char *path, de_net *net, float *momentum, de_ckpt_meta *meta, de_err *err)
{
    size_t len;
    char *buf = de_file_read(path, &len);
    if (!buf)
        return de_err_set(err, DE_EIO, "%s: cannot read checkpoint: %s", path, strerror(errno));
    int rc = 0;
    size_t np = de_net_n_params(net), ns = de_net_n_state(net);
    de_ckpt_meta m;
    uint32_t v[2];
    if (len < 16 + sizeof m + 8 || memcmp(buf, CMAGIC, 8) != 0) {
        rc = de_err_set(err, DE_EIO, "%s: not a deepedge checkpoint (bad magic or only %zu bytes)", path, len);
        goto out;
    }
    memcpy(v, buf + 8, 8);
    if (v[0] != CVERSION || v[1] != sizeof m) {
        rc = de_err_set(err, DE_EVERSION, "%s: checkpoint version %u (header %u bytes); this program reads version %u",
                        path, v[0], v[1], CVERSION);
        goto out;
    }
    memcpy(&m, buf + 16, sizeof m);
    size_t want = 16 + sizeof m + 4 * (2 * (size_t)m.n_params + (size_t)m.n_state) + 8;
    if (m.n_params > (1ull << 36) || m.n_state > (1ull << 36) || len != want) {
        rc = de_err_set(err, DE_EIO, "%s: truncated or padded checkpoint (%zu bytes, expected %zu)", path, len, want);
        goto out;
    }
    uint64_t sum;
    memcpy(&sum, buf + len - 8, 8);
    if (sum != de_fnv1a64(buf, len - 8, DE_FNV1A64_INIT)) {
        rc = de_err_set(err, DE_EIO, "%s: checksum mismatch: the checkpoint is corrupted", path);
        goto out;
    }
    if (m.net_hash != de_net_hash(net) || m.n_params != np || m.n_state != ns) {
        rc = de_err_set(err, DE_EMISMATCH, "%s: checkpoint of another network (%llu parameters; %s has %zu)", path,
                        (unsigned long long)m.n_params, de_net_name(net), np);
        goto out;
    }
    const char *p = buf + 16 + sizeof m;
    memcpy(de_net_params(net), p, 4 * np);
    memcpy(momentum, p + 4 * np, 4 * np);
    memcpy(de_net_state(net), p + 8 * np, 4 * ns);
    *meta = m;
out:
    free(buf);
    return rc;
}
