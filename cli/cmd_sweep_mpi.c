/* cmd_sweep_mpi.c — deepedge-exec's `_sweep-mpi`: `deepedge sweep` started by mpiexec (or
 * with --mpi) is handed here (cmd_sweep.c). Every rank builds and checks the same grid
 * (only rank 0 says what is wrong), runs the runs whose index is its rank modulo the
 * ranks, in this process, one after the other, with the function -j uses (de_sweep_run),
 * and sends its rows to rank 0 (MPI_Gatherv), which puts them in run order and writes the
 * files as -j does (de_sweep_write): the same sweep.csv byte for byte. */
#include <fcntl.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_exec.h"
#include "cli_sweep.h"
#include "de_util.h"

/* One row on the wire: run index (int64), length (int64), the bytes. */
static void put_row(char **buf, size_t *len, long long r, const char *row)
{
    int64_t head[2] = {r, (int64_t)strlen(row)};
    *buf = de_realloc(*buf, *len + sizeof head + (size_t)head[1]);
    memcpy(*buf + *len, head, sizeof head);
    memcpy(*buf + *len + sizeof head, row, (size_t)head[1]);
    *len += sizeof head + (size_t)head[1];
}

/* Rank 0: the rows of every rank into rows[] by run index. -1 on a malformed buffer. */
static int take_rows(const char *buf, size_t len, char **rows, long long n_runs)
{
    size_t off = 0;
    while (off < len) {
        int64_t head[2];
        if (len - off < sizeof head)
            return -1;
        memcpy(head, buf + off, sizeof head);
        off += sizeof head;
        if (head[0] < 0 || head[0] >= n_runs || head[1] < 0 || (uint64_t)head[1] > len - off || rows[head[0]])
            return -1;
        rows[head[0]] = de_sprintf("%.*s", (int)head[1], buf + off);
        off += (size_t)head[1];
    }
    return 0;
}

int de_cmd_sweep_mpi(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    /* Every rank checks the same grid; only rank 0 says what is wrong (or prints --help). */
    int saved[2] = {-1, -1};
    if (rank != 0) {
        fflush(NULL);
        int null = open("/dev/null", O_WRONLY);
        for (int fd = 1; fd <= 2 && null >= 0; fd++) {
            saved[fd - 1] = dup(fd);
            dup2(null, fd);
        }
        if (null >= 0)
            close(null);
    }
    de_cli_sim_args a;
    memset(&a, 0, sizeof a);
    int i = de_cli_sim_parse(argc, argv, &a, "sweep", 1, de_sweep_usage);
    de_sweep sw;
    memset(&sw, 0, sizeof sw);
    int rc = i < 0 ? DE_EXIT_ERROR : i == 0 ? DE_EXIT_OK : de_sweep_init(&sw, &a, argv[i]);
    char *out = NULL;
    if (i > 0 && !rc && rank == 0 && !(out = de_sweep_out_dir(&sw)))
        rc = DE_EXIT_ERROR;
    fflush(NULL);
    for (int fd = 1; fd <= 2; fd++)
        if (saved[fd - 1] >= 0) {
            dup2(saved[fd - 1], fd);
            close(saved[fd - 1]);
        }
    int any = rc;
    MPI_Allreduce(&rc, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    char *buf = NULL;
    size_t len = 0;
    if (i > 0 && !any) {
        /* this rank's runs: r = rank, rank + size, ... */
        for (long long r = rank; r < sw.n_runs && !rc; r += size) {
            char *row;
            rc = de_sweep_run(&sw, r, &row);
            if (!rc && row)
                put_row(&buf, &len, r, row);
            free(row);
        }
        long long mine = (long long)len, total = 0;
        MPI_Allreduce(&rc, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        MPI_Allreduce(&mine, &total, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
        if (any && rank == 0)
            fprintf(stderr, "deepedge: sweep: a run failed (its rank said why); %s/sweep.csv is as it was\n", out);
        else if (!any && total > INT32_MAX)
            any = de_cli_fail("sweep: more than 2 GiB of rows to gather (MPI counts are ints)");
    }
    if (i > 0 && !any) {
        int n = (int)len, *lens = rank == 0 ? de_calloc((size_t)size, sizeof *lens) : NULL;
        int *displs = rank == 0 ? de_calloc((size_t)size, sizeof *displs) : NULL;
        MPI_Gather(&n, 1, MPI_INT, lens, 1, MPI_INT, 0, MPI_COMM_WORLD);
        size_t total = 0;
        for (int k = 0; rank == 0 && k < size; k++) {
            displs[k] = (int)total;
            total += (size_t)lens[k];
        }
        char *all = rank == 0 ? de_calloc(total + 1, 1) : NULL;
        MPI_Gatherv(buf, n, MPI_BYTE, all, lens, displs, MPI_BYTE, 0, MPI_COMM_WORLD);
        if (rank == 0) {
            char **rows = de_calloc((size_t)sw.n_runs + 1, sizeof *rows);
            if (take_rows(all, total, rows, sw.n_runs))
                rc = de_cli_fail("sweep: the rows gathered from the ranks are malformed");
            else
                rc = de_sweep_write(&sw, rows, out);
            for (long long r = 0; r < sw.n_runs; r++)
                free(rows[r]);
            free(rows);
        }
        free(all);
        free(lens);
        free(displs);
        MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
        any = rc;
    }
    free(buf);
    free(out);
    de_sweep_free(&sw);
    de_cli_sim_args_free(&a);
    MPI_Finalize();
    return any ? DE_EXIT_ERROR : DE_EXIT_OK; /* i == 0: --help or a listing, done */
}
