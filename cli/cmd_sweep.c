/* cmd_sweep.c — `deepedge sweep SCENARIO --vary KEY=V1,V2,...`: the grid's runs in forked
 * processes, -j at a time (the grid, a run and the output files: cli_sweep.c). Started by
 * mpiexec (or with --mpi) it hands itself to deepedge-exec, whose ranks share the runs
 * (cmd_sweep_mpi.c): deepedge itself does not link MPI. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "cli_sweep.h"
#include "de_util.h"

/* 1 when this process is a rank of an mpiexec of more than one (Open MPI, MPICH/Hydra). */
static int under_mpiexec(void)
{
    static const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && atoi(v) > 1)
            return 1;
    }
    return 0;
}

/* Reads all a child wrote to fd (its row) into a malloc'd string; NULL when empty. */
static char *read_all(int fd)
{
    char *buf = NULL;
    size_t len = 0;
    for (;;) {
        buf = de_realloc(buf, len + 4097);
        ssize_t n = read(fd, buf + len, 4096);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    if (len == 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Runs every run of the grid, jobs at a time, each in a child process that writes its row
 * to a pipe; rows[r] gets run r's row (NULL: skipped). Rows are appended to progress (when
 * not NULL) as they come. */
static int run_all(const de_sweep *sw, long long jobs, char **rows, FILE *progress)
{
    int rc = DE_EXIT_OK;
    long long next = 0, done = 0, running = 0;
    int *fds = de_calloc((size_t)jobs, sizeof *fds);
    pid_t *pids = de_calloc((size_t)jobs, sizeof *pids);
    long long *slot_run = de_calloc((size_t)jobs, sizeof *slot_run);
    for (long long j = 0; j < jobs; j++)
        pids[j] = -1;
    while (!rc && done < sw->n_runs) {
        while (running < jobs && next < sw->n_runs) {
            long long r = next++;
            int fd[2];
            if (pipe(fd)) {
                rc = de_cli_fail("sweep: pipe: %s", strerror(errno));
                break;
            }
            fflush(NULL);
            pid_t pid = fork();
            if (pid < 0) {
                close(fd[0]);
                close(fd[1]);
                rc = de_cli_fail("sweep: fork: %s", strerror(errno));
                break;
            }
            if (pid == 0) {
                close(fd[0]);
                char *row;
                if (de_sweep_run(sw, r, &row))
                    _exit(1);
                size_t n = row ? strlen(row) : 0;
                ssize_t w = n ? write(fd[1], row, n) : 0;
                _exit(w == (ssize_t)n ? 0 : 1);
            }
            close(fd[1]);
            long long j = 0;
            while (pids[j] != -1)
                j++;
            pids[j] = pid;
            fds[j] = fd[0];
            slot_run[j] = r;
            running++;
        }
        if (rc || running == 0)
            break;
        /* any child that is done: its row, then its slot */
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            rc = de_cli_fail("sweep: wait: %s", strerror(errno));
            break;
        }
        long long j = 0;
        while (j < jobs && pids[j] != pid)
            j++;
        if (j == jobs)
            continue; /* not one of the runs */
        char *row = read_all(fds[j]);
        close(fds[j]);
        pids[j] = -1;
        running--;
        done++;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            free(row);
            rc = de_cli_fail("sweep: run %lld failed (%s %d)", slot_run[j],
                             WIFEXITED(status) ? "exit status" : "signal",
                             WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
            break;
        }
        rows[slot_run[j]] = row;
        if (row && progress) {
            fputs(row, progress);
            fflush(progress);
        }
        if (isatty(2))
            fprintf(stderr, "\rsweep: %lld of %lld runs", done, sw->n_runs);
    }
    if (isatty(2) && sw->n_runs)
        fputc('\n', stderr);
    for (long long j = 0; j < jobs; j++) /* on an error: stop what is still running */
        if (pids[j] != -1) {
            kill(pids[j], SIGTERM);
            waitpid(pids[j], NULL, 0);
            close(fds[j]);
        }
    free(slot_run);
    free(fds);
    free(pids);
    return rc;
}

int de_cmd_sweep(int argc, char **argv)
{
    de_cli_sim_args a;
    memset(&a, 0, sizeof a);
    int i = de_cli_sim_parse(argc, argv, &a, "sweep", 1, de_sweep_usage);
    if (i <= 0) {
        de_cli_sim_args_free(&a);
        return i == 0 ? DE_EXIT_OK : DE_EXIT_ERROR;
    }
    if (a.mpi || under_mpiexec()) {
        de_cli_sim_args_free(&a);
        return de_cli_companion(argc, argv, "_sweep-mpi");
    }
    de_sweep sw;
    int rc = de_sweep_init(&sw, &a, argv[i]);
    char *out = rc ? NULL : de_sweep_out_dir(&sw);
    if (!rc && !out)
        rc = DE_EXIT_ERROR;
    char *partial = out ? de_path_join(out, "sweep.partial.csv") : NULL;
    FILE *progress = NULL;
    if (!rc && !(progress = fopen(partial, "w")))
        rc = de_cli_fail("sweep: %s: cannot write: %s", partial, strerror(errno));
    char **rows = rc ? NULL : de_calloc((size_t)sw.n_runs + 1, sizeof *rows);
    if (!rc) {
        fputs(sw.header, progress);
        fflush(progress);
        rc = run_all(&sw, a.jobs, rows, progress);
    }
    if (progress && fclose(progress) && !rc)
        rc = de_cli_fail("sweep: %s: write failed", partial);
    int ran = !rc;
    if (ran)
        rc = de_sweep_write(&sw, rows, out);
    if (ran)
        unlink(partial);
    else if (rows)
        fprintf(stderr, "deepedge: sweep: the runs that finished are in %s; %s/sweep.csv is as it was\n", partial,
                out);
    for (long long r = 0; rows && r < sw.n_runs; r++)
        free(rows[r]);
    free(rows);
    free(partial);
    free(out);
    de_sweep_free(&sw);
    de_cli_sim_args_free(&a);
    return rc;
}
