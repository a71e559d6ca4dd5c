#include "dist.h"

#include <limits.h>
#include <stdlib.h>

#ifdef UOTFT_MPI
#include <mpi.h>
#endif

/* The job's size as mpirun (Open MPI), Hydra (MPICH) or a PMI launcher tells it; 0: not launched. */
int uf_dist_launched(void)
{
    const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MPI_LOCALNRANKS"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && atoi(v) > 0)
            return atoi(v);
    }
    return getenv("PMIX_RANK") ? 1 : 0;
}

#ifndef UOTFT_MPI

int uf_dist_built(void) { return 0; }
int uf_dist_init(int *argc, char ***argv, uf_err *e) { return (void)argc, (void)argv, (void)e, 0; }
void uf_dist_finalize(void) {}
void uf_dist_abort(int rc) { exit(rc); }
int uf_dist_rank(void) { return 0; }
int uf_dist_size(void) { return 1; }
int uf_dist_mean_f32(float *x, size_t n, uf_err *e) { return (void)x, (void)n, (void)e, 0; }
int uf_dist_mean_f64(double *x, size_t n, uf_err *e) { return (void)x, (void)n, (void)e, 0; }
int uf_dist_bcast(void *x, size_t n, uf_err *e) { return (void)x, (void)n, (void)e, 0; }
int uf_dist_barrier(uf_err *e) { return (void)e, 0; }
int uf_dist_same(uint64_t v, const char *what, uf_err *e) { return (void)v, (void)what, (void)e, 0; }

#else

static int started, rank, size = 1;

int uf_dist_built(void) { return 1; }

int uf_dist_init(int *argc, char ***argv, uf_err *e)
{
    if (started || !uf_dist_launched())
        return 0;
    int provided;
    /* FUNNELED: only the main thread calls MPI (the loader's threads and OpenMP's never do) */
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return uf_fail(e, "MPI_Init_thread failed");
    started = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    return 0;
}

void uf_dist_finalize(void)
{
    if (started)
        MPI_Finalize();
    started = 0;
}

void uf_dist_abort(int rc)
{
    if (started && size > 1)
        MPI_Abort(MPI_COMM_WORLD, rc);
    exit(rc);
}

int uf_dist_rank(void) { return rank; }
int uf_dist_size(void) { return size; }

/* MPI counts are ints: a buffer of more than INT_MAX elements goes in pieces. */
static int allreduce_sum(void *x, size_t n, MPI_Datatype t, size_t elem, uf_err *e)
{
    for (size_t at = 0; size > 1 && at < n; at += INT_MAX) {
        int k = n - at > INT_MAX ? INT_MAX : (int)(n - at);
        if (MPI_Allreduce(MPI_IN_PLACE, (char *)x + at * elem, k, t, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
            return uf_fail(e, "rank %d: MPI_Allreduce of %zu values failed", rank, n);
    }
    return 0;
}

/* The sum over the ranks, then x 1/size: floats scaled by the float 1/size, as --bn-groups does
 * (finetune.c's ghost BatchNorm), so 2 ranks round as 2 groups do. */
static int mean(void *x, size_t n, int f64, uf_err *e)
{
    if (size == 1)
        return 0;
    if (allreduce_sum(x, n, f64 ? MPI_DOUBLE : MPI_FLOAT, f64 ? sizeof(double) : sizeof(float), e))
        return -1;
    const float k = 1.0f / (float)size;
    for (size_t i = 0; i < n; i++)
        if (f64)
            ((double *)x)[i] /= size;
        else
            ((float *)x)[i] *= k;
    return 0;
}

int uf_dist_mean_f32(float *x, size_t n, uf_err *e) { return mean(x, n, 0, e); }
int uf_dist_mean_f64(double *x, size_t n, uf_err *e) { return mean(x, n, 1, e); }

int uf_dist_bcast(void *x, size_t n, uf_err *e)
{
    for (size_t at = 0; size > 1 && at < n; at += INT_MAX) {
        int k = n - at > INT_MAX ? INT_MAX : (int)(n - at);
        if (MPI_Bcast((char *)x + at, k, MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
            return uf_fail(e, "rank %d: MPI_Bcast of %zu bytes failed", rank, n);
    }
    return 0;
}

int uf_dist_barrier(uf_err *e)
{
    if (size > 1 && MPI_Barrier(MPI_COMM_WORLD) != MPI_SUCCESS)
        return uf_fail(e, "rank %d: MPI_Barrier failed", rank);
    return 0;
}

int uf_dist_same(uint64_t v, const char *what, uf_err *e)
{
    if (size == 1)
        return 0;
    uint64_t lo = v, hi = v;
    if (MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS ||
        MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS)
        return uf_fail(e, "rank %d: MPI_Allreduce failed", rank);
    if (lo != hi)
        return uf_fail(e, "rank %d: the ranks disagree on %s (this rank %llu; range %llu..%llu)", rank, what,
                       (unsigned long long)v, (unsigned long long)lo, (unsigned long long)hi);
    return 0;
}

#endif
