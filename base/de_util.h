/* de_util.h — small shared utilities: allocation, paths, checksums, clocks, name tables.
 *
 * Allocation failure is fatal (message + abort), as in Redis's zmalloc: every other
 * error is a return code, but out-of-memory on a planning host is not recoverable
 * in any useful way, and checking every small allocation would bury the logic. */
#ifndef DE_UTIL_H
#define DE_UTIL_H

#include <stddef.h>
#include <stdint.h>

struct de_err;

void *de_calloc(size_t n, size_t size);
void *de_realloc(void *p, size_t size);
char *de_strdup(const char *s);                 /* NULL → NULL */
char *de_sprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "a" + "b" → "a/b"; an absolute b is returned as is. Caller frees. */
char *de_path_join(const char *a, const char *b);
/* Directory part of a path ("x/y.cfg" → "x", "y.cfg" → "."). Caller frees. */
char *de_path_dirname(const char *path);
/* mkdir -p: creates path and its missing parents (mode 0777 & umask); 0 or -1 with errno. */
int de_mkdir_p(const char *path);
/* The names of the files in folder dir that end in suffix (not hidden ones), sorted; -1 when
 * dir cannot be opened. *names (and each name) is the caller's to free. */
int de_dir_names(const char *dir, const char *suffix, char ***names);

/* 64-bit FNV-1a of a byte string, for file checksums in plans and checkpoints. */
uint64_t de_fnv1a64(const void *data, size_t n, uint64_t seed);
#define DE_FNV1A64_INIT 0xcbf29ce484222325ULL
/* FNV-1a of a whole file; returns 0 (DE_OK) or DE_EIO. */
int de_file_checksum(const char *path, uint64_t *out);

/* Reads a whole regular file of at most DE_FILE_MAX_BYTES into a NUL-terminated buffer;
 * NULL on error with errno set: fopen's, EINVAL for anything but a regular file (a
 * device such as /dev/zero, a FIFO, a folder: they could be read forever), EFBIG over
 * the limit. de_file_strerror says which in words. */
#define DE_FILE_MAX_BYTES (4LL << 30)
char *de_file_read(const char *path, size_t *len);
/* Opens a regular file for reading (a FIFO does not block the call); -1 with errno set,
 * EINVAL for anything but a regular file. */
int de_open_regular(const char *path);
const char *de_file_strerror(int e);

/* A name -> index map (open addressing, FNV-1a). Keys are borrowed: they must
 * outlive the map. */
/* 1 when process pid exists (it may belong to another user). */
int de_pid_alive(long pid);

/* Writes the n bytes of data to path atomically (checkpoints, weight files, plan files,
 * summaries): to path.tmp.PID, fsynced, renamed over path, the folder fsynced; the
 * temporaries of writers that died are removed. The previous file at path stays intact
 * on any failure, and a reader never sees half a file. */
int de_file_write_atomic(const char *path, const void *data, size_t n, struct de_err *err);

/* Removes the temporary files "<path>.tmp.<pid>" of writers of path whose process is gone
 * (a writer killed between creating and renaming its temporary file); returns how many. */
int de_remove_stale_tmp(const char *path);

/* Name tables: an array of n records, each holding a `const char *` name at the same
 * offset, `stride` bytes apart (first: the address of the first record's name), as the
 * policy, change-kind and message tables are. de_names_find returns the index of name,
 * -1 if absent; de_names_join writes "a, b, c" into buf (cut with "..." when full). */
int de_names_find(const void *first, size_t stride, int n, const char *name);
const char *de_names_join(const void *first, size_t stride, int n, char *buf, size_t len);
#define DE_NAMES_FIND(arr, n, name) de_names_find(&(arr)[0].name, sizeof((arr)[0]), (n), (name))
#define DE_NAMES_JOIN(arr, n, buf) de_names_join(&(arr)[0].name, sizeof((arr)[0]), (n), (buf), sizeof(buf))

typedef struct de_strmap de_strmap;
de_strmap *de_strmap_create(size_t expected);
void de_strmap_destroy(de_strmap *m);               /* NULL is a no-op */
/* Inserts key -> value (>= 0) unless key is present; returns the existing value, or -1 if inserted. */
int de_strmap_put(de_strmap *m, const char *key, int value);
/* The value of key, or -1. */
int de_strmap_get(const de_strmap *m, const char *key);

/* Monotonic wall clock in seconds. */
double de_now_s(void);

/* This host's CPU model name (/proc/cpuinfo "model name"; "unknown CPU" without one) and
 * its online cores: what `deepedge profile` records and the catalog's measured_cpu /
 * measured_cores are compared with. */
void de_host_cpu(char *out, size_t n);
int de_host_cores(void);

#endif
