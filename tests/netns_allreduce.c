/* netns_allreduce.c — what the network between MPI ranks delivers: ping-pong latency and
 * bandwidth between ranks 0 and 1, and the time of one MPI_Allreduce of a gradient-sized
 * float array over all ranks (default 454,465 floats = edgenet-s). Used on the namespaced
 * hosts of scripts/netns-hosts.sh to show that the tc shaping is real (tests/netns_test.sh).
 *
 *   mpiexec ... -n 2 netns_allreduce [--floats N] [--reps R] [--max-mbit X]
 *
 * --max-mbit X: exit 1 when the 1 MiB ping-pong bandwidth exceeds X Mbit/s (a shaped link
 * cannot be faster than its rate; a busy machine only makes it slower, so this bound holds).
 * Every rank exits 2 on bad arguments. Medians are printed by rank 0. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Median round-trip time of `reps` ping-pongs of `bytes` between ranks 0 and 1 (others idle). */
static double pingpong(int rank, char *buf, int bytes, int reps, double *t)
{
    MPI_Barrier(MPI_COMM_WORLD);
    for (int r = -1; r < reps; r++) { /* r = -1: warm-up (connection set-up) */
        double t0 = MPI_Wtime();
        if (rank == 0) {
            MPI_Send(buf, bytes, MPI_CHAR, 1, 1, MPI_COMM_WORLD);
            MPI_Recv(buf, bytes, MPI_CHAR, 1, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else if (rank == 1) {
            MPI_Recv(buf, bytes, MPI_CHAR, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Send(buf, bytes, MPI_CHAR, 0, 2, MPI_COMM_WORLD);
        }
        if (r >= 0)
            t[r] = MPI_Wtime() - t0;
    }
    return median(t, reps);
}

static int parse_pos(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v > 0))
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    double floats = 454465, reps_d = 10, max_mbit = 0;
    for (int i = 1; i < argc; i += 2) { /* OPTION VALUE pairs */
        double *dst = !strcmp(argv[i], "--floats")     ? &floats
                      : !strcmp(argv[i], "--reps")     ? &reps_d
                      : !strcmp(argv[i], "--max-mbit") ? &max_mbit
                                                       : NULL;
        if (!dst || i + 1 >= argc || parse_pos(argv[i + 1], dst)) {
            if (rank == 0)
                fprintf(stderr, "netns_allreduce: usage: [--floats N] [--reps R] [--max-mbit X]"
                                " (bad argument '%s')\n", argv[i]);
            MPI_Finalize();
            return 2;
        }
    }
    if (size < 2) {
        if (rank == 0)
            fprintf(stderr, "netns_allreduce: needs at least 2 ranks\n");
        MPI_Finalize();
        return 2;
    }
    int reps = (int)reps_d, n = (int)floats;
    if (reps < 1)
        reps = 1;

    char name[MPI_MAX_PROCESSOR_NAME] = {0};
    int len;
    MPI_Get_processor_name(name, &len);
    char *names = rank == 0 ? malloc((size_t)size * MPI_MAX_PROCESSOR_NAME) : NULL;
    MPI_Gather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, names, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 0,
               MPI_COMM_WORLD);
    if (rank == 0) {
        printf("ranks: %d on", size);
        for (int r = 0; r < size; r++)
            printf(" %s", names + (size_t)r * MPI_MAX_PROCESSOR_NAME);
        printf("\n");
        free(names);
    }

    const int big = 1 << 20, small_reps = 200;
    int tn = reps > small_reps ? reps : small_reps;
    double *t = malloc((size_t)tn * sizeof *t);
    char *buf = calloc((size_t)big, 1);
    float *in = malloc((size_t)n * sizeof *in), *out = malloc((size_t)n * sizeof *out);
    if (!t || !buf || !in || !out) {
        fprintf(stderr, "netns_allreduce: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 3);
    }
    for (int i = 0; i < n; i++)
        in[i] = (float)(rank + 1) * 1e-3f * (float)(i % 97);

    double rtt_small = pingpong(rank, buf, 8, small_reps, t);
    double rtt_big = pingpong(rank, buf, big, reps, t);
    double mbit = 2.0 * big * 8 / rtt_big / 1e6;

    MPI_Allreduce(in, out, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD); /* warm-up */
    for (int r = 0; r < reps; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        MPI_Allreduce(in, out, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        t[r] = MPI_Wtime() - t0;
    }
    double ar = median(t, reps);
    /* Check the sum: every element is (1 + 2 + ... + size) * 1e-3 * (i % 97). */
    int bad = 0;
    for (int i = 0; i < n && !bad; i++) {
        float want = (float)(size * (size + 1) / 2) * 1e-3f * (float)(i % 97);
        bad = out[i] - want > 1e-3f * (want + 1) || want - out[i] > 1e-3f * (want + 1);
    }

    int rc = 0;
    if (rank == 0) {
        printf("pingpong 8 B: median round trip %.1f us\n", rtt_small * 1e6);
        printf("pingpong 1 MiB: median round trip %.2f ms = %.1f Mbit/s\n", rtt_big * 1e3, mbit);
        printf("allreduce %d floats (%.2f MB) over %d ranks: median %.2f ms\n", n, n * 4.0 / 1e6, size,
               ar * 1e3);
        if (bad) {
            fprintf(stderr, "netns_allreduce: allreduce gave a wrong sum\n");
            rc = 1;
        }
        if (max_mbit > 0 && mbit > max_mbit) {
            fprintf(stderr, "netns_allreduce: %.1f Mbit/s exceeds the limit %.1f: the link is not shaped\n",
                    mbit, max_mbit);
            rc = 1;
        }
    }
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    free(t);
    free(buf);
    free(in);
    free(out);
    MPI_Finalize();
    return rc;
}
