/* de_stage.h — files staged between the coordinator and hosts that share no storage with
 * it (`deepedge run --stage DIR`).
 *
 * Without shared storage, the processes the coordinator starts on the device hosts
 * cannot read its scenario, plan, dataset cache or checkpoint, and rank 0's checkpoints
 * would stay on its own host, lost with it. With --stage DIR:
 *   - the coordinator keeps a manifest of every file its processes read: the scenario
 *     and what it reads (de_scenario.inputs), the catalog's files, the plan of the
 *     launch, the dataset cache, the checkpoint it resumes from. Each entry is the file's
 *     absolute path on the coordinator, its size and its SHA-256.
 *   - a process on a host first fetches the manifest, then every file it does not hold
 *     yet with that checksum, into DIR + the coordinator's path (DIR/home/u/s.cfg for
 *     /home/u/s.cfg), so that the scenario's relative paths resolve there as they do on
 *     the coordinator. A file is written to a temporary name, its size and SHA-256
 *     checked, then renamed: a copy is whole or absent. Ranks on one host share it.
 *   - rank 0 sends each checkpoint, and the final weights, back to the coordinator,
 *     which checks the SHA-256, writes it atomically into its output folder and only
 *     then answers; rank 0 reports the checkpoint after that answer, so a checkpoint
 *     the coordinator counts on is one it holds.
 * The transfers use the run's authenticated control plane (de_wire.h): one connection
 * per file, `fetch` or `put` its only line after the handshake, the bytes after the
 * header line. The coordinator serves each transfer from a child process, so a large
 * file never holds its loop. */
#ifndef DE_STAGE_H
#define DE_STAGE_H

#include "de_error.h"
#include "de_wire.h"

/* path made absolute (against the working directory) and normalised without following
 * links: no ".", "..", or repeated '/'. Owned by the caller. */
char *de_stage_abs(const char *path);
/* Where a host keeps the coordinator's file path under root: root + de_stage_abs(path). */
char *de_stage_local(const char *root, const char *path);

/* SHA-256 of a file, as 64 hex digits; *size its length. */
int de_stage_sha256_file(const char *path, char hex[65], long long *size, de_err *err);

/* ---- the coordinator's manifest ---- */
typedef struct de_stage_entry {
    char *path;          /* absolute (de_stage_abs) */
    long long size;
    long long mtime_ns;  /* when it was hashed: a file unchanged since is not hashed again */
    char sha[65];
    int listed;          /* in the current manifest */
} de_stage_entry;

typedef struct de_stage {
    de_stage_entry *e;
    int n;
    char *text;          /* the current manifest: "sha size path" lines */
    char text_sha[65];
} de_stage;

void de_stage_init(de_stage *m);
void de_stage_free(de_stage *m);
/* Starts a new manifest (every entry unlisted; hashes kept). */
void de_stage_begin(de_stage *m);
/* Lists a file (hashed unless unchanged since its last hash). */
int de_stage_add(de_stage *m, const char *path, de_err *err);
/* Writes the manifest's text (after the adds). */
void de_stage_end(de_stage *m);
/* The listed entry with that SHA-256, NULL when none. */
const de_stage_entry *de_stage_find(const de_stage *m, const char *sha);

/* The coordinator's side of one transfer, in the child process that owns the
 * connection fd (blocking) and its reader rd (which may hold bytes after the line).
 * A fetch line (`fetch what=manifest` or `fetch sha=H`) is answered with `file sha size`
 * and the bytes, or `file why=...`. A put line (`put name=N g=G size=S sha=H`) has its
 * bytes read into dir/N (through a temporary file, checked, renamed) and is answered
 * `stored sha=H`, or `stored why=...`. Returns 0 when the transfer completed. */
int de_stage_serve_fetch(const de_stage *m, int fd, const char *line, de_err *err);
int de_stage_serve_put(int fd, de_wire_reader *rd, const char *line, const char *dir, de_err *err);

/* The names rank 0 may put: the checkpoint and the final weights (de_worker.h). */
int de_stage_put_name_ok(const char *name);

/* ---- a host's side ----
 * Fetches the manifest from the coordinator at report (HOST:PORT) and every file of it
 * that root does not hold with its checksum. *fetched, *bytes: what was copied. */
int de_stage_sync(const char *report, const char *root, int *fetched, long long *bytes, de_err *err);
/* Sends the file path to the coordinator as name (de_stage_put_name_ok) of global step g,
 * and waits until it is stored there. */
int de_stage_put(const char *report, const char *path, const char *name, long g, de_err *err);

#endif
