/* de_worker.h — one rank of `deepedge run`: the training worker of one plan device.
 *
 * Every rank loads the same scenario and plan file (rank r trains the plan's r-th share,
 * shares sorted by device index, exactly as sim reads the plan), maps the dataset
 * cache, builds the job's network with the same initial weights (exec.seed), and runs
 * data-parallel SGD (de_dp.h) from global step 0 or from a checkpoint. The data of
 * global step g does not depend on the plan: the epoch's permutation of the training
 * split (seed, epoch) and, within the global batch of B samples, the augmentation of
 * position p (seed, g, p). A plan only decides which rank computes which slice; so a
 * run restarted from a checkpoint with another plan trains on exactly the same samples.
 *
 * Rank 0 writes atomic checkpoints every job.checkpoint_interval iterations (and when
 * stopped), the final checkpoint and weights, and evaluates on the validation split.
 * Each rank reports every iteration to the coordinator (de_wire.h). With a stage folder
 * (hosts without shared storage, de_stage.h), the first rank of each host fetches the
 * files from the coordinator before anything is read, and rank 0 sends each checkpoint
 * and the final weights back before it reports them. */
#ifndef DE_WORKER_H
#define DE_WORKER_H

#include <mpi.h>

#include "de_error.h"

typedef struct de_worker_opts {
    const char *scenario;     /* scenario file */
    const char *plan;         /* plan file for it */
    const char *cache;        /* dataset cache (de_dataset_build_cache) */
    const char *out_dir;      /* checkpoints and final weights (rank 0) */
    const char *report;       /* coordinator HOST:PORT (NULL: no reports) */
    const char *resume;       /* checkpoint to start from (NULL: fresh) */
    const char *cgroup_dir;   /* run's cgroup directory: rank joins <dir>/<device> (NULL: none) */
    int duty_throttle;        /* throttle to the type's emulation_cpu_cores by sleeping */
    double pad_s;             /* > 0: pad each all-reduce to this many seconds, the link model's time for the
                               * plan (one host, no netns); 0: none; the coordinator may change it (de_wire.h) */
    const char *crash_device; /* fault injection: this device's rank dies (SIGKILL) ... */
    long crash_iter;          /* ... before global step crash_iter */
    long stop_after;          /* checkpoint and stop after this many global steps (0: never) */
    const char *stage_dir;    /* --stage (de_stage.h): the files above are the coordinator's; they are fetched
                               * into this folder of the host first, and rank 0 sends its checkpoints back */
    const char *catalog_dir;  /* the coordinator's catalog (NULL: the scenario's) */
} de_worker_opts;

void de_worker_opts_default(de_worker_opts *o);

/* Runs the rank's part of the job on comm (every rank of comm calls it). */
int de_worker_run(const de_worker_opts *o, MPI_Comm comm, de_err *err);

/* The largest local batch a worker can take in place (a reshare, de_wire.h) without a
 * restart: what it allocated for, its first batch or the evaluation chunk of 64. */
#define DE_WORKER_CAPACITY(first_batch) ((first_batch) > 64 ? (first_batch) : 64)

/* The file names under out_dir. */
#define DE_RUN_CKPT "checkpoint.deckpt"
#define DE_RUN_WEIGHTS "model.weights"

#endif
