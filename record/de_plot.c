/* de_plot.c — the one gnuplot runner (see de_plot.h). */
#include "de_plot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "de_util.h"

#ifndef DE_PLOTS_DIR
#define DE_PLOTS_DIR "plots"
#endif

const char *de_plot_dir(void)
{
    const char *d = getenv("DEEPEDGE_PLOTS");
    return d && *d ? d : DE_PLOTS_DIR;
}

int de_plot_run(const char *script, const de_plot_var *vars, int n, de_err *err)
{
    char *defs = de_strdup("");
    for (int i = 0; i < n; i++) {
        if (vars[i].text && strchr(vars[i].text, '\'')) {
            free(defs);
            return de_err_set(err, DE_EINVAL, "plot %s: cannot pass %s='%s' to gnuplot (it contains a quote)", script,
                              vars[i].name, vars[i].text);
        }
        char *d2 = vars[i].text ? de_sprintf("%s%s%s='%s'", defs, i ? "; " : "", vars[i].name, vars[i].text)
                                : de_sprintf("%s%s%s=%.17g", defs, i ? "; " : "", vars[i].name, vars[i].num);
        free(defs);
        defs = d2;
    }
    char *path = de_path_join(de_plot_dir(), script);
    int rc = DE_OK;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        rc = de_err_set(err, DE_EIO, "plot %s: cannot start gnuplot: %s", path, strerror(errno));
    } else if (pid == 0) {
        execlp("gnuplot", "gnuplot", "-e", defs, path, (char *)NULL);
        _exit(127);
    } else {
        int status = 0;
        if (waitpid(pid, &status, 0) < 0)
            rc = de_err_set(err, DE_EIO, "plot %s: waitpid: %s", path, strerror(errno));
        else if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
            rc = de_err_set(err, DE_EIO, "plot %s: cannot run gnuplot: install it (Debian: gnuplot-nox) or turn the "
                                         "figures off", path);
        else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            rc = de_err_set(err, DE_EIO, "plot %s: gnuplot failed (status %d)", path,
                            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    free(path);
    free(defs);
    return rc;
}

int de_plot_run_figures(const de_scenario *s, const char *dir, const char *clock, const char *label, de_err *err)
{
    static const char *const scripts[] = {"sim_timeline.gp", "sim_lc_cdf.gp", "sim_lc_time.gp"};
    static const char *const terms[][2] = {{"pngcairo size 1200,700", "png"}, {"svg size 1200,700", "svg"}};
    /* LC task names for gnuplot's word(): space-separated (a name with a space would
     * only mislabel its curve). */
    char *tasks = de_strdup("");
    for (int t = 0; t < s->n_tasks; t++) {
        char *t2 = de_sprintf("%s%s%s", tasks, t ? " " : "", s->tasks[t].name);
        free(tasks);
        tasks = t2;
    }
    int rc = DE_OK;
    for (size_t i = 0; i < sizeof scripts / sizeof scripts[0] && !rc; i++)
        for (int k = 0; k < 2 && !rc; k++) {
            const de_plot_var v[] = {{"dir", dir, 0},          {"term", terms[k][0], 0}, {"ext", terms[k][1], 0},
                                     {"tasks", tasks, 0},      {"clock", clock, 0},      {"label", label, 0}};
            rc = de_plot_run(scripts[i], v, (int)(sizeof v / sizeof v[0]), err);
        }
    free(tasks);
    return rc;
}
