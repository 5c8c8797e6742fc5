/* de_dataset.c — Caltech folders -> binary cache (libjpeg-turbo), mmap, batches, synth (see de_dataset.h). */
#define _DEFAULT_SOURCE /* scandir, alphasort, DT_* */
#include "de_dataset.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <jerror.h>

#include "de_net.h"
#include "de_prng.h"
#include "de_util.h"

#define DMAGIC "DEDSET\0\0"
#define DVERSION 2u /* 2: the checksum covers the header too */
#define HDR 64

typedef struct dhdr {
    char magic[8];
    uint32_t version, c, h, w, count, classes, names_bytes, skipped;
    uint64_t checksum;
    char pad[HDR - 8 - 8 * 4 - 8];
} dhdr;

struct de_dataset {
    int c, h, w, count, classes, skipped;
    const uint8_t *img;
    const int32_t *labels;
    char **names;
    void *map;          /* mmap of a cache, or NULL */
    size_t map_len;
    uint8_t *own_img;   /* in-memory datasets */
    int32_t *own_labels;
};

/* ---- synthetic images ---- */

/* One synthetic RGB image of class k at w x h, interleaved (HWC), values 0..255. */
static void synth_image(int k, int classes, int w, int h, uint64_t *rng, uint8_t *rgb)
{
    double theta = 3.14159265358979 * k / classes;
    double f = 2.0 + (k % 3);
    double phase = 6.2832 * de_prng_uniform(rng);
    double col[3];
    for (int j = 0; j < 3; j++)
        col[j] = 0.5 + 0.35 * cos(6.2832 * k / classes + j * 2.0944);
    double ct = cos(theta), st = sin(theta);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double u = ((double)x / w - 0.5) * ct + ((double)y / h - 0.5) * st;
            double s = sin(6.2832 * f * u + phase);
            for (int j = 0; j < 3; j++) {
                double v = 0.6 * col[j] + 0.25 * s * (j == 1 ? -1 : 1) + 0.2 + 0.08 * de_prng_normal(rng);
                v = v < 0 ? 0 : v > 1 ? 1 : v;
                rgb[((size_t)y * w + x) * 3 + j] = (uint8_t)(255.0 * v + 0.5);
            }
        }
}

static int write_jpeg(const char *path, const uint8_t *rgb, int w, int h, de_err *err)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return de_err_set(err, DE_EIO, "%s: cannot create: %s", path, strerror(errno));
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr jerr;
    ci.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&ci);
    jpeg_stdio_dest(&ci, f);
    ci.image_width = (JDIMENSION)w;
    ci.image_height = (JDIMENSION)h;
    ci.input_components = 3;
    ci.in_color_space = JCS_RGB;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, 90, TRUE);
    jpeg_start_compress(&ci, TRUE);
    while (ci.next_scanline < ci.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)ci.next_scanline * w * 3);
        jpeg_write_scanlines(&ci, &row, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    if (fclose(f) != 0)
        return de_err_set(err, DE_EIO, "%s: write failed: %s", path, strerror(errno));
    return 0;
}

int de_dataset_synth_dir(const char *dir, int classes, int per_class, uint64_t seed, de_err *err)
{
    if (classes < 1 || per_class < 1)
        return de_err_set(err, DE_ERANGE, "synth: --classes %d / --per-class %d must be >= 1", classes, per_class);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return de_err_set(err, DE_EIO, "%s: cannot create: %s", dir, strerror(errno));
    uint64_t rng = de_prng_seed(seed, 0x5e7);
    uint8_t *rgb = de_calloc(96 * 96 * 3, 1);
    int rc = 0;
    for (int k = 0; k < classes && !rc; k++) {
        char *cd = de_sprintf("%s/%03d.synth%03d", dir, k + 1, k + 1);
        if (mkdir(cd, 0755) != 0 && errno != EEXIST)
            rc = de_err_set(err, DE_EIO, "%s: cannot create: %s", cd, strerror(errno));
        for (int i = 0; i < per_class && !rc; i++) {
            int w = 64 + (int)de_prng_below(&rng, 33), h = 64 + (int)de_prng_below(&rng, 33);
            synth_image(k, classes, w, h, &rng, rgb);
            char *p = de_sprintf("%s/img_%04d.jpg", cd, i + 1);
            rc = write_jpeg(p, rgb, w, h, err);
            free(p);
        }
        free(cd);
    }
    free(rgb);
    return rc;
}

/* Bilinear resize of an interleaved RGB image so that its shorter side is s, centre crop
 * s x s, written as CHW. */
static void resize_crop(const uint8_t *src, int w, int h, int s, uint8_t *dst)
{
    double scale = (double)s / (w < h ? w : h);
    double nw = w * scale, nh = h * scale;
    double ox = (nw - s) / 2, oy = (nh - s) / 2;
    for (int y = 0; y < s; y++) {
        double sy = (y + oy + 0.5) / scale - 0.5;
        if (sy < 0)
            sy = 0;
        if (sy > h - 1)
            sy = h - 1;
        int y0 = (int)sy, y1 = y0 + 1 < h ? y0 + 1 : y0;
        double fy = sy - y0;
        for (int x = 0; x < s; x++) {
            double sx = (x + ox + 0.5) / scale - 0.5;
            if (sx < 0)
                sx = 0;
            if (sx > w - 1)
                sx = w - 1;
            int x0 = (int)sx, x1 = x0 + 1 < w ? x0 + 1 : x0;
            double fx = sx - x0;
            for (int c = 0; c < 3; c++) {
                double a = src[((size_t)y0 * w + x0) * 3 + c], b = src[((size_t)y0 * w + x1) * 3 + c];
                double cc = src[((size_t)y1 * w + x0) * 3 + c], d = src[((size_t)y1 * w + x1) * 3 + c];
                double v = (a * (1 - fx) + b * fx) * (1 - fy) + (cc * (1 - fx) + d * fx) * fy;
                dst[((size_t)c * s + y) * s + x] = (uint8_t)(v + 0.5);
            }
        }
    }
}

/* ---- JPEG decoding with errors turned into return codes ---- */

typedef struct jerr_mgr {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    int truncated;
    char msg[JMSG_LENGTH_MAX];
} jerr_mgr;

static void jerr_exit(j_common_ptr ci)
{
    jerr_mgr *m = (jerr_mgr *)ci->err;
    (*ci->err->format_message)(ci, m->msg);
    longjmp(m->jb, 1);
}

static void jerr_emit(j_common_ptr ci, int level)
{
    jerr_mgr *m = (jerr_mgr *)ci->err;
    if (level < 0 && ci->err->msg_code == JWRN_JPEG_EOF) {
        m->truncated = 1;
        (*ci->err->format_message)(ci, m->msg);
    }
}

/* Decodes path and stores it resized to s x s CHW in dst; returns 0 or -1 with why. */
static int decode_file(const char *path, int s, uint8_t *dst, char *why, size_t whylen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, whylen, "cannot open: %s", strerror(errno));
        return -1;
    }
    unsigned char magic[3] = {0, 0, 0};
    if (fread(magic, 1, 3, f) != 3 || magic[0] != 0xFF || magic[1] != 0xD8 || magic[2] != 0xFF) {
        fclose(f);
        snprintf(why, whylen, "not a JPEG file (no FF D8 FF signature)");
        return -1;
    }
    rewind(f);
    struct jpeg_decompress_struct ci;
    jerr_mgr jm;
    memset(&jm, 0, sizeof jm);
    ci.err = jpeg_std_error(&jm.pub);
    jm.pub.error_exit = jerr_exit;
    jm.pub.emit_message = jerr_emit;
    uint8_t *volatile rgb = NULL;
    if (setjmp(jm.jb)) {
        jpeg_destroy_decompress(&ci);
        fclose(f);
        free(rgb);
        snprintf(why, whylen, "corrupt JPEG: %s", jm.msg);
        return -1;
    }
    jpeg_create_decompress(&ci);
    jpeg_stdio_src(&ci, f);
    jpeg_read_header(&ci, TRUE);
    ci.out_color_space = JCS_RGB;
    /* decode at the smallest power-of-two reduction that still covers s */
    unsigned mn = ci.image_width < ci.image_height ? ci.image_width : ci.image_height;
    ci.scale_num = 1;
    ci.scale_denom = 1;
    while (ci.scale_denom < 8 && mn / (ci.scale_denom * 2) >= (unsigned)s)
        ci.scale_denom *= 2;
    jpeg_start_decompress(&ci);
    int w = (int)ci.output_width, h = (int)ci.output_height;
    rgb = de_calloc((size_t)w * h * 3, 1);
    while (ci.output_scanline < ci.output_height) {
        JSAMPROW row = rgb + (size_t)ci.output_scanline * w * 3;
        jpeg_read_scanlines(&ci, &row, 1);
    }
    jpeg_finish_decompress(&ci);
    jpeg_destroy_decompress(&ci);
    fclose(f);
    if (jm.truncated) {
        free(rgb);
        snprintf(why, whylen, "truncated JPEG: %s", jm.msg);
        return -1;
    }
    resize_crop(rgb, w, h, s, dst);
    free(rgb);
    return 0;
}

static int visible(const struct dirent *d) { return d->d_name[0] != '.'; }

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int de_dataset_build_cache(const char *dir, const char *cache, int size, de_dataset_skip_fn skip, void *ud,
                           de_dataset_report *rep, de_err *err)
{
    de_dataset_report r = {0, 0, 0, 0};
    if (size < 8 || size > 1024)
        return de_err_set(err, DE_ERANGE, "%s: image size %d not in [8, 1024]", cache, size);
    struct dirent **cls = NULL;
    int ncls = scandir(dir, &cls, visible, alphasort);
    if (ncls < 0)
        return de_err_set(err, DE_EIO, "%s: cannot read the dataset folder: %s", dir, strerror(errno));
    char *tmp = de_sprintf("%s.tmp.%ld", cache, (long)getpid());
    FILE *out = fopen(tmp, "wb");
    int rc = 0;
    if (!out)
        rc = de_err_set(err, DE_EIO, "%s: cannot create the cache: %s", tmp, strerror(errno));
    dhdr h;
    memset(&h, 0, sizeof h);
    if (!rc && fwrite(&h, sizeof h, 1, out) != 1)
        rc = de_err_set(err, DE_EIO, "%s: write failed", tmp);
    size_t isz = (size_t)3 * size * size;
    uint8_t *img = de_calloc(isz, 1);
    int32_t *labels = NULL;
    size_t lcap = 0;
    char *names = NULL;
    size_t nlen = 0;
    uint64_t sum = DE_FNV1A64_INIT;
    char why[JMSG_LENGTH_MAX + 64];
    for (int k = 0; k < ncls && !rc; k++) {
        char *cd = de_path_join(dir, cls[k]->d_name);
        if (!is_dir(cd)) {
            free(cd);
            continue;
        }
        struct dirent **fs = NULL;
        int nf = scandir(cd, &fs, visible, alphasort);
        if (nf < 0) {
            rc = de_err_set(err, DE_EIO, "%s: cannot read class folder: %s", cd, strerror(errno));
            free(cd);
            break;
        }
        int label = r.classes++;
        size_t l = strlen(cls[k]->d_name) + 1;
        names = de_realloc(names, nlen + l);
        memcpy(names + nlen, cls[k]->d_name, l);
        nlen += l;
        for (int i = 0; i < nf; i++) {
            char *fp = de_path_join(cd, fs[i]->d_name);
            if (!rc && !is_dir(fp)) {
                r.files++;
                if (decode_file(fp, size, img, why, sizeof why) != 0) {
                    r.skipped++;
                    if (skip)
                        skip(ud, fp, why);
                } else {
                    if (fwrite(img, isz, 1, out) != 1)
                        rc = de_err_set(err, DE_EIO, "%s: write failed (disk full?)", tmp);
                    sum = de_fnv1a64(img, isz, sum);
                    if ((size_t)r.images == lcap) {
                        lcap = lcap ? 2 * lcap : 1024;
                        labels = de_realloc(labels, lcap * sizeof *labels);
                    }
                    labels[r.images++] = label;
                }
            }
            free(fp);
            free(fs[i]);
        }
        free(fs);
        free(cd);
    }
    for (int k = 0; k < ncls; k++)
        free(cls[k]);
    free(cls);
    if (!rc && r.images == 0)
        rc = de_err_set(err, DE_EMISSING, "%s: no usable JPEG image in any class folder (%d files, %d skipped)", dir,
                        r.files, r.skipped);
    if (!rc) {
        sum = de_fnv1a64(labels, sizeof *labels * (size_t)r.images, sum);
        sum = de_fnv1a64(names, nlen, sum);
        memcpy(h.magic, DMAGIC, 8);
        h.version = DVERSION;
        h.c = 3, h.h = (uint32_t)size, h.w = (uint32_t)size;
        h.count = (uint32_t)r.images;
        h.classes = (uint32_t)r.classes;
        h.names_bytes = (uint32_t)nlen;
        h.skipped = (uint32_t)r.skipped;
        h.checksum = 0;
        h.checksum = de_fnv1a64(&h, sizeof h, sum); /* body, then the header with checksum 0 */
        if (fwrite(labels, sizeof *labels, (size_t)r.images, out) != (size_t)r.images ||
            fwrite(names, 1, nlen, out) != nlen || fseek(out, 0, SEEK_SET) != 0 || fwrite(&h, sizeof h, 1, out) != 1 ||
            fflush(out) != 0 || fsync(fileno(out)) != 0)
            rc = de_err_set(err, DE_EIO, "%s: write failed (disk full?)", tmp);
    }
    if (out && fclose(out) != 0 && !rc)
        rc = de_err_set(err, DE_EIO, "%s: close failed", tmp);
    if (!rc && rename(tmp, cache) != 0)
        rc = de_err_set(err, DE_EIO, "%s: cannot rename the cache into place: %s", cache, strerror(errno));
    if (rc && out)
        unlink(tmp);
    if (!rc)
        de_remove_stale_tmp(cache); /* of builders killed mid-write */
    free(tmp);
    free(img);
    free(labels);
    free(names);
    if (rep)
        *rep = r;
    return rc;
}

uint64_t de_dataset_cache_checksum(const void *cache, size_t len)
{
    dhdr h;
    memcpy(&h, cache, sizeof h);
    h.checksum = 0;
    return de_fnv1a64(&h, sizeof h, de_fnv1a64((const char *)cache + HDR, len - HDR, DE_FNV1A64_INIT));
}

void de_dataset_cache_seal(void *cache, size_t len)
{
    if (len < HDR)
        return;
    uint64_t sum = de_dataset_cache_checksum(cache, len);
    memcpy((char *)cache + offsetof(dhdr, checksum), &sum, sizeof sum);
}

int de_dataset_open(const char *cache, de_dataset **out, de_err *err)
{
    *out = NULL;
    int fd = de_open_regular(cache);
    if (fd < 0)
        return de_err_set(err, DE_EIO, "%s: cannot open the dataset cache: %s", cache, de_file_strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < HDR) {
        close(fd);
        return de_err_set(err, DE_EIO, "%s: not a dataset cache (too short)", cache);
    }
    size_t len = (size_t)st.st_size;
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return de_err_set(err, DE_EIO, "%s: mmap failed: %s", cache, strerror(errno));
    dhdr h;
    memcpy(&h, map, sizeof h);
    int rc = 0;
    size_t isz = (size_t)h.c * h.h * h.w;
    uint64_t want = h.checksum;
    h.checksum = 0;
    if (memcmp(h.magic, DMAGIC, 8) != 0)
        rc = de_err_set(err, DE_EIO, "%s: not a dataset cache (bad magic)", cache);
    else if (h.version != DVERSION)
        rc = de_err_set(err, DE_EVERSION, "%s: cache version %u, this program reads version %u (rebuild it)", cache,
                        h.version, DVERSION);
    else if (h.c == 0 || h.h == 0 || h.w == 0 || h.c > 16 || h.h > 4096 || h.w > 4096 ||
             len != HDR + (size_t)h.count * isz + 4 * (size_t)h.count + h.names_bytes)
        rc = de_err_set(err, DE_EIO, "%s: truncated or inconsistent cache (%zu bytes for %u images of %ux%ux%u)",
                        cache, len, h.count, h.c, h.h, h.w);
    else if (de_dataset_cache_checksum(map, len) != want)
        rc = de_err_set(err, DE_EIO, "%s: checksum mismatch: the cache is corrupted (rebuild it)", cache);
    else if (h.count == 0 || h.count > INT32_MAX)
        rc = de_err_set(err, DE_ERANGE, "%s: header field count: %u images (1 to 2^31 - 1)", cache, h.count);
    else if (h.classes == 0 || h.classes > h.names_bytes || h.classes > h.count)
        rc = de_err_set(err, DE_ERANGE, "%s: header field classes: %u (1 to min(images %u, name bytes %u))", cache,
                        h.classes, h.count, h.names_bytes);
    else if (h.skipped > INT32_MAX)
        rc = de_err_set(err, DE_ERANGE, "%s: header field skipped: %u", cache, h.skipped);
    de_dataset *ds = NULL;
    if (!rc) {
        ds = de_calloc(1, sizeof *ds);
        ds->map = map;
        ds->map_len = len;
        ds->c = (int)h.c, ds->h = (int)h.h, ds->w = (int)h.w;
        ds->count = (int)h.count;
        ds->classes = (int)h.classes;
        ds->skipped = (int)h.skipped;
        ds->img = (const uint8_t *)map + HDR;
        ds->labels = (const int32_t *)(ds->img + (size_t)h.count * isz);
        const char *nm = (const char *)(ds->labels + h.count), *end = nm + h.names_bytes;
        ds->names = de_calloc(h.classes, sizeof *ds->names);
        for (uint32_t k = 0; k < h.classes; k++) {
            const char *z = nm < end ? memchr(nm, '\0', (size_t)(end - nm)) : NULL;
            if (!z) {
                rc = de_err_set(err, DE_EIO, "%s: class names are damaged", cache);
                break;
            }
            ds->names[k] = de_strdup(nm);
            nm = z + 1;
        }
        for (int i = 0; !rc && i < ds->count; i++)
            if (ds->labels[i] < 0 || ds->labels[i] >= ds->classes)
                rc = de_err_set(err, DE_EIO, "%s: label %d of image %d out of range", cache, ds->labels[i], i);
        if (rc) {
            de_dataset_destroy(ds);
            return rc;
        }
    } else {
        munmap(map, len);
        return rc;
    }
    *out = ds;
    return 0;
}

de_dataset *de_dataset_synthetic(int classes, int per_class, int c, int size, uint64_t seed)
{
    de_dataset *ds = de_calloc(1, sizeof *ds);
    ds->c = c, ds->h = size, ds->w = size;
    ds->classes = classes;
    ds->count = classes * per_class;
    size_t isz = (size_t)c * size * size;
    ds->own_img = de_calloc((size_t)ds->count * isz, 1);
    ds->own_labels = de_calloc((size_t)ds->count, sizeof(int32_t));
    ds->names = de_calloc((size_t)classes, sizeof *ds->names);
    uint8_t *rgb = de_calloc((size_t)size * size * 3, 1);
    uint64_t rng = de_prng_seed(seed, 0x5e8);
    for (int k = 0; k < classes; k++)
        ds->names[k] = de_sprintf("synth%03d", k + 1);
    /* interleave classes so that any prefix is balanced */
    for (int i = 0; i < ds->count; i++) {
        int k = i % classes;
        synth_image(k, classes, size, size, &rng, rgb);
        uint8_t *d = ds->own_img + (size_t)i * isz;
        for (int ch = 0; ch < c; ch++)
            for (int p = 0; p < size * size; p++)
                d[(size_t)ch * size * size + p] = rgb[(size_t)p * 3 + (ch % 3)];
        ds->own_labels[i] = k;
    }
    free(rgb);
    ds->img = ds->own_img;
    ds->labels = ds->own_labels;
    return ds;
}

void de_dataset_destroy(de_dataset *ds)
{
    if (!ds)
        return;
    if (ds->map)
        munmap(ds->map, ds->map_len);
    if (ds->names)
        for (int k = 0; k < ds->classes; k++)
            free(ds->names[k]);
    free(ds->names);
    free(ds->own_img);
    free(ds->own_labels);
    free(ds);
}

int de_dataset_count(const de_dataset *ds) { return ds->count; }
int de_dataset_classes(const de_dataset *ds) { return ds->classes; }
int de_dataset_skipped(const de_dataset *ds) { return ds->skipped; }
void de_dataset_shape(const de_dataset *ds, int *c, int *h, int *w) { *c = ds->c, *h = ds->h, *w = ds->w; }
int de_dataset_label(const de_dataset *ds, int i) { return ds->labels[i]; }

const char *de_dataset_class_name(const de_dataset *ds, int k)
{
    return (k >= 0 && k < ds->classes && ds->names[k]) ? ds->names[k] : "?";
}

void de_dataset_split(const de_dataset *ds, double val_frac, uint64_t seed, int *train, int *n_train, int *val,
                      int *n_val)
{
    int n = ds->count;
    int *perm = de_calloc((size_t)n, sizeof *perm);
    for (int i = 0; i < n; i++)
        perm[i] = i;
    uint64_t rng = de_prng_seed(seed, 0x5b17);
    de_prng_shuffle(&rng, perm, n);
    int nv = (int)lround(val_frac * n);
    if (val_frac > 0 && nv < 1 && n > 1)
        nv = 1;
    if (nv >= n)
        nv = n - 1;
    if (nv < 0)
        nv = 0;
    memcpy(val, perm, sizeof *perm * (size_t)nv);
    memcpy(train, perm + nv, sizeof *perm * (size_t)(n - nv));
    *n_val = nv;
    *n_train = n - nv;
    free(perm);
}

void de_dataset_shard(const int *shares, int nranks, int rank, int *offset, int *count)
{
    int off = 0;
    for (int r = 0; r < rank && r < nranks; r++)
        off += shares[r];
    *offset = off;
    *count = (rank >= 0 && rank < nranks) ? shares[rank] : 0;
}

void de_dataset_batch(const de_dataset *ds, const int *idx, int n, int h, int w, int augment, uint64_t *rng, float *x,
                      int *y)
{
    static const float mean3[3] = {0.485f, 0.456f, 0.406f}, std3[3] = {0.229f, 0.224f, 0.225f};
    const int C = ds->c;
    const size_t isz = (size_t)C * ds->h * ds->w;
    for (int i = 0; i < n; i++) {
        const uint8_t *src = ds->img + (size_t)idx[i] * isz;
        int oy = (ds->h - h) / 2, ox = (ds->w - w) / 2, flip = 0;
        if (augment) {
            oy = (int)de_prng_below(rng, (uint32_t)(ds->h - h + 1));
            ox = (int)de_prng_below(rng, (uint32_t)(ds->w - w + 1));
            flip = (int)de_prng_below(rng, 2);
        }
        float *dst = x + (size_t)i * C * h * w;
        for (int c = 0; c < C; c++) {
            float m = C == 3 ? mean3[c] : 0.5f, s = C == 3 ? std3[c] : 0.25f;
            float a = 1.0f / (255.0f * s), b = -m / s;
            for (int yy = 0; yy < h; yy++) {
                const uint8_t *row = src + ((size_t)c * ds->h + (size_t)(yy + oy)) * ds->w + ox;
                float *d = dst + ((size_t)c * h + yy) * w;
                if (flip)
                    for (int xx = 0; xx < w; xx++)
                        d[xx] = a * row[w - 1 - xx] + b;
                else
                    for (int xx = 0; xx < w; xx++)
                        d[xx] = a * row[xx] + b;
            }
        }
        y[i] = ds->labels[idx[i]];
    }
}
