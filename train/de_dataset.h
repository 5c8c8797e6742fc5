/* de_dataset.h — image datasets: Caltech folder layouts, a binary cache, synthetic data.
 *
 * Source layout (Caltech-101 / Caltech-256): DIR/CLASS/IMAGE.jpg, one folder per class
 * (classes sorted by name get labels 0..K-1; hidden entries ignored). Every image is
 * decoded with libjpeg-turbo, its shorter side resized (bilinear) to the stored size and
 * centre-cropped to a square, and written ONCE to a binary cache that workers map with
 * mmap. Files that are not JPEGs or fail to decode (including truncated ones) are
 * reported by name through a callback, skipped and counted.
 *
 * Cache format "DEDSET\0\0" version 1: a 64-byte header (magic, version, C, H, W,
 * count, classes, names bytes, skipped, FNV-1a of everything after the header), then
 * count x C x H x W uint8 images (CHW), count int32 labels, then the class names
 * (NUL-separated). Written atomically (temporary file, rename).
 *
 * Batches are cropped to the network input (random crop + horizontal flip when
 * augmenting, centre crop otherwise) and normalised per channel with the ImageNet
 * mean/std (3 channels) or (x/255 - 0.5)/0.25 otherwise, as fp32 NCHW. */
#ifndef DE_DATASET_H
#define DE_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "de_error.h"

typedef struct de_dataset de_dataset;

/* Called for every skipped file: path and reason. */
typedef void (*de_dataset_skip_fn)(void *ud, const char *path, const char *why);

typedef struct de_dataset_report {
    int classes, files, images, skipped;
} de_dataset_report;

/* Writes a Caltech-layout folder: dir/NNN.synthNNN/img_MMMM.jpg, `classes` x `per_class`
 * learnable JPEGs (class-dependent colour and stripe orientation with noise), sizes
 * 64..96 pixels, deterministic in seed. Creates dir if needed. */
int de_dataset_synth_dir(const char *dir, int classes, int per_class, uint64_t seed, de_err *err);

/* Decodes the folder into a cache file at `cache` with images stored at size x size
 * (C = 3). skip (may be NULL) hears about every skipped file; rep (may be NULL) gets
 * the counts. DE_EIO names unreadable folders; DE_EMISSING when no image was usable. */
int de_dataset_build_cache(const char *dir, const char *cache, int size, de_dataset_skip_fn skip, void *ud,
                           de_dataset_report *rep, de_err *err);

/* Maps a cache, verifying magic, version, size and checksum. */
int de_dataset_open(const char *cache, de_dataset **out, de_err *err);
/* The checksum of a cache image of len >= 64 bytes in memory (the body, then the header
 * with its checksum field 0), and the same written into its header (tools and fuzzing:
 * a cache whose fields are changed on purpose, then sealed). */
uint64_t de_dataset_cache_checksum(const void *cache, size_t len);
void de_dataset_cache_seal(void *cache, size_t len);
/* An in-memory dataset with the synthetic generator (no JPEG), images c x size x size. */
de_dataset *de_dataset_synthetic(int classes, int per_class, int c, int size, uint64_t seed);
void de_dataset_destroy(de_dataset *ds); /* NULL is a no-op */

int de_dataset_count(const de_dataset *ds);
int de_dataset_classes(const de_dataset *ds);
void de_dataset_shape(const de_dataset *ds, int *c, int *h, int *w); /* stored shape */
int de_dataset_label(const de_dataset *ds, int i);
const char *de_dataset_class_name(const de_dataset *ds, int k);
int de_dataset_skipped(const de_dataset *ds); /* files skipped when the cache was built */

/* Deterministic split: a permutation drawn from seed; the first round(val_frac*count)
 * samples (at least 1 if val_frac > 0 and count > 1) go to validation. train and val
 * have room for count ints each. */
void de_dataset_split(const de_dataset *ds, double val_frac, uint64_t seed, int *train, int *n_train, int *val,
                      int *n_val);

/* The executor's share of a global batch: ranks 0..nranks-1 take consecutive slices of
 * shares[r] samples (sum = the global batch); *offset and *count are rank's slice. */
void de_dataset_shard(const int *shares, int nranks, int rank, int *offset, int *count);

/* Fills x (n x c x h x w fp32) and y (n labels) from samples idx[0..n). h, w <= stored
 * size. augment != 0 draws crops and flips from *rng (which advances); otherwise centre
 * crops and *rng is untouched (may be NULL). */
void de_dataset_batch(const de_dataset *ds, const int *idx, int n, int h, int w, int augment, uint64_t *rng, float *x,
                      int *y);

#endif
