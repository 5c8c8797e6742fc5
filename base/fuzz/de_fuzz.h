/* de_fuzz.h — what the fuzz targets share (tests/fuzz/README.md).
 *
 * A fuzz target is one file, next to the code it exercises (LAYER/fuzz/NAME.c), that
 * defines LLVMFuzzerTestOneInput: it hands one input to one reader of outside input
 * and, when the reader accepts it, uses what was read as a program would. The same
 * file links with libFuzzer (a DE_FUZZ build, `make fuzz`) or with base/fuzz/replay.c
 * (every other build: ctest replays tests/fuzz/NAME/, the seeds and every input that
 * once crashed, under ASan and UBSan in the sanitizer build).
 *
 * A target may also define de_fuzz_write_seeds(dir): `fuzz_NAME --write-seeds DIR`
 * then writes the seeds it knows how to make (binary formats) into DIR. */
#ifndef DE_FUZZ_H
#define DE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* This process's scratch folder ($TMPDIR or /tmp, de-fuzz-PID), made on first use and
 * removed with its files at exit. */
const char *de_fuzz_dir(void);
/* Writes n bytes to NAME in the scratch folder; returns its path (static storage of
 * this call, valid until the next). Aborts when the file cannot be written. */
const char *de_fuzz_file(const char *name, const void *data, size_t n);
/* The input as a NUL-terminated string (NULs inside stay: readers see a shorter text). */
char *de_fuzz_text(const uint8_t *data, size_t n);
/* A FILE that discards what is written (for the printers readers' results go to). */
void *de_fuzz_null(void);
/* What the reader said of the input, on stderr when DE_FUZZ_VERBOSE is set (triage:
 * `DE_FUZZ_VERBOSE=1 build/fuzz_NAME INPUT`): "accepted", or the error message. */
struct de_err;
void de_fuzz_verdict(int rc, const struct de_err *err);
/* Dies with a message naming the target: for a broken harness, never for an input. */
void de_fuzz_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* A seed of a binary format: the flag byte the target reads first, then the bytes of
 * file `made` (removed), written to `seed`. 0, or -1 with a message on stderr. */
int de_fuzz_seed_from(const char *made, int flag, const char *seed);

/* Seeds of a binary format: a target's optional hook (see above). */
int de_fuzz_write_seeds(const char *dir) __attribute__((weak));

#endif
