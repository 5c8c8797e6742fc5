/* de_sim_report.h — what a simulation run reports: the summary table, the JSON summary
 * (the schema shared with `plan` and `run`, record/de_summary.h), and the policy
 * comparison. The figures are drawn by record/de_plot.h from the run's CSV files. */
#ifndef DE_SIM_REPORT_H
#define DE_SIM_REPORT_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "de_sim.h"

/* Summary tables: jobs, LC tasks, devices. */
void de_report_print(const de_sim_result *r, FILE *out);

/* The JSON summary (record/de_summary.h, command "sim"); caller frees (cJSON_Delete). */
cJSON *de_report_json(const de_sim_result *r);

/* LC tasks whose latency at their percentile exceeded the deadline; the fraction of
 * requests served over the deadline or dropped. */
int de_report_tasks_missed(const de_sim_result *r);
double de_report_violation_rate(const de_sim_result *r);

/* One line per run, for comparing policies: header then rows. */
void de_report_compare_header(FILE *out);
void de_report_compare_row(const de_sim_result *r, FILE *out);

#endif
