/* de_plot.h — figures: the one place that runs gnuplot.
 *
 * Every figure of the project is a gnuplot script in plots/ fed with -e variable
 * definitions: the fit plots (plots/fit.gp), the sweep plot (plots/sweep.gp), and the
 * three figures of a run of `sim` or `run` drawn from its output files
 * (plots/sim_timeline.gp, sim_lc_cdf.gp, sim_lc_time.gp; the files are those of
 * record/de_outputs.h). The scripts are found in DEEPEDGE_PLOTS, else in the source
 * tree's plots/ (DE_PLOTS_DIR). */
#ifndef DE_PLOT_H
#define DE_PLOT_H

#include "de_error.h"
#include "de_scenario.h"

/* One -e variable: a string (text != NULL, written quoted) or a number. */
typedef struct de_plot_var {
    const char *name;
    const char *text;
    double num;
} de_plot_var;

/* The folder of the gnuplot scripts. */
const char *de_plot_dir(void);

/* Runs gnuplot on plots/<script> with the variables. DE_EINVAL for a string value
 * with a single quote (gnuplot's -e cannot carry it), DE_EIO when gnuplot cannot be
 * started or fails (the message says how to install it). */
int de_plot_run(const char *script, const de_plot_var *vars, int n, de_err *err);

/* Runs plots/<script> twice, for WIDTHxHEIGHT PNG (pngcairo) and SVG: the variables plus
 * term and ext ("png", "svg"); the script names its output from them. */
int de_plot_both(const char *script, const de_plot_var *vars, int n, int width, int height, de_err *err);

/* The figures of one run of scenario s whose output files are in dir (timeline,
 * LC latency tail against each deadline at its percentile, LC latency over time), as PNG
 * and SVG, drawn from small data files prepared from the run's files in a temporary
 * folder inside dir (removed afterwards);
 * `clock` names the time axis ("simulated", "wall-clock"), `label` goes into every
 * title (scenario and policy). */
int de_plot_run_figures(const de_scenario *s, const char *dir, const char *clock, const char *label, de_err *err);

#endif
