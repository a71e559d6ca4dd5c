#define _POSIX_C_SOURCE 200809L
#include "parallel.h"

#include <cblas.h>
#include <omp.h>
#include <time.h>

void uf_set_threads(int n)
{
    if (n <= 0)
        n = omp_get_num_procs();
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
}

int uf_threads(void) { return omp_get_max_threads(); }
int uf_thread_id(void) { return omp_get_thread_num(); }
int uf_team_size(void) { return omp_get_num_threads(); }

double uf_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
