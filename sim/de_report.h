/* de_report.h — what a simulation run reports: the summary table, the JSON summary
 * (the field names of `deepedge plan --json` where they mean the same thing), the
 * policy comparison, and the gnuplot figures drawn from the run's CSV files. */
#ifndef DE_REPORT_H
#define DE_REPORT_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "de_sim.h"

/* Summary tables: jobs, LC tasks, devices. */
void de_report_print(const de_sim_result *r, FILE *out);

/* JSON summary; caller frees (cJSON_Delete). */
cJSON *de_report_json(const de_sim_result *r);

/* One line per run, for comparing policies: header then rows. */
void de_report_compare_header(FILE *out);
void de_report_compare_row(const de_sim_result *r, FILE *out);

/* Renders the figures of a run whose CSV files are in dir (timeline, LC latency
 * CDF against the deadline, LC latency over time), PNG and SVG, with the gnuplot
 * scripts in plots_dir. DE_EIO with a message when gnuplot fails or is missing. */
int de_report_plots(const de_sim_result *r, const char *dir, const char *plots_dir, de_err *err);
/* The same figures from the CSV files in dir of any run of scenario s (the executor
 * writes the simulator's files); clock names the time axis ("simulated", "wall-clock"). */
int de_report_render(const de_scenario *s, const char *dir, const char *plots_dir, const char *clock, de_err *err);

#endif
