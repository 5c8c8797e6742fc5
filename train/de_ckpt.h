/* de_ckpt.h — training checkpoints: weights, optimizer state, RNG state, data position.
 *
 * File format "DECKPT\0\0" version 1 (little-endian, this host's float layout):
 *   magic[8] u32 version u32 header_bytes, the de_ckpt_meta record, then n_params
 *   floats of weights, n_params floats of momentum, n_state floats of BN statistics,
 *   and a final u64 FNV-1a of every byte before it.
 * Saving is atomic (temporary file, fsync, rename: de_file_write_atomic), so a crash
 * during a save leaves the previous checkpoint intact. Loading verifies size, magic,
 * version, checksum and that the checkpoint belongs to this architecture before it
 * touches the network: a truncated or corrupted file is refused with a message naming
 * it, and nothing is modified. */
#ifndef DE_CKPT_H
#define DE_CKPT_H

#include <stdint.h>

#include "de_error.h"
#include "de_net.h"

typedef struct de_ckpt_meta {
    uint64_t net_hash;       /* de_net_hash of the architecture (filled by save) */
    uint64_t n_params, n_state;
    uint64_t seed;           /* the run's seed (shuffling, split) */
    uint64_t rng;            /* augmentation generator state (de_prng) */
    int64_t epoch;           /* epoch in progress (0-based) */
    int64_t step;            /* steps done in that epoch */
    int64_t global_step;     /* steps done in the run */
    int64_t batch;           /* global batch the run was started with */
    double lr, momentum, weight_decay;
    /* running sums of the epoch in progress, so a resumed epoch reports the same figures */
    double epoch_loss_sum;
    int64_t epoch_correct, epoch_seen;
} de_ckpt_meta;

/* Saves net's parameters and BN state, momentum (n_params floats) and meta. */
int de_ckpt_save(const char *path, de_net *net, const float *momentum, const de_ckpt_meta *meta, de_err *err);
/* Verifies the file completely, then fills net's parameters and state, momentum and
 * *meta. DE_EIO (unreadable, truncated, checksum), DE_EVERSION, DE_EMISMATCH (other network). */
int de_ckpt_load(const char *path, de_net *net, float *momentum, de_ckpt_meta *meta, de_err *err);

#endif
