/* cli_calib.h — what `deepedge calibrate` (cmd_calibrate.c, in deepedge-exec) uses of
 * `fit` (cmd_fit.c) and `profile` (cmd_profile.c): one fit merged into a device-type
 * file, and the profiler's progress hook. */
#ifndef DE_CLI_CALIB_H
#define DE_CLI_CALIB_H

#include <stdio.h>

#include "de_catalog.h"
#include "de_fit.h"
#include "de_profile.h"

/* One fit as `deepedge fit TRACE --model MODEL --device DEVICE --entry ENTRY -o OUT_CFG`. */
typedef struct de_cli_fit_job {
    const char *trace;          /* path read */
    const char *trace_name;     /* path as recorded in the fit record */
    const char *model;          /* step | lc | allreduce */
    const char *device, *entry; /* NULL: the only one of the trace */
    const char *free_list;      /* "a,b": fit these; NULL: decided by the data */
    const char *base_cfg;       /* device-type file the fit starts from; NULL: out_cfg if it exists, else the
                                 * catalog's */
    const char *out_cfg;        /* device-type file written (allreduce: a link cfg); NULL: nothing written */
    const char *date;           /* YYYY-MM-DD of the record */
    const char *plot_dir;       /* NULL: no plot */
    int folds;                  /* 0: 5 */
    unsigned long seed;
    int start_defaults;         /* free parameters start from the kind's neutral values */
    FILE *log;                  /* the fit's table; NULL: stdout */
} de_cli_fit_job;

/* Runs the job; errors are printed (de_cli_fail) and return DE_EXIT_ERROR. res (free with
 * de_fit_result_free) and *prof (de_profile_destroy) are set as far as the fit got. */
int de_cli_fit_job_run(const de_catalog *cat, const de_cli_fit_job *job, de_fit_result *res, de_profile **prof);

/* `deepedge calibrate` (cmd_calibrate.c). */
int de_cmd_calibrate(int argc, char **argv);

/* Called by `profile` before each measurement (a step series, an lc cell, an all-reduce
 * rank count) with what it is about to measure; NULL: none. */
extern void (*de_profile_progress)(void *ud, const char *what);
extern void *de_profile_progress_ud;

#endif
