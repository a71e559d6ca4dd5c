/* The engine owns its threads: OpenMP for its own loops, and OpenBLAS told
 * to use the same count so the two never oversubscribe the cores. */
#ifndef UF_PARALLEL_H
#define UF_PARALLEL_H

/* Sets both OpenMP's and OpenBLAS's thread counts; n <= 0 means all cores. */
void uf_set_threads(int n);
int uf_threads(void);
/* Index of the calling thread inside a parallel region (0 outside). */
int uf_thread_id(void);
/* Threads in the current parallel region's team (1 outside). */
int uf_team_size(void);
/* Monotonic wall-clock seconds. */
double uf_now(void);

#endif
