/* Data parallelism across processes (MPI), as PyTorch's DistributedDataParallel without SyncBN:
 * every process trains on its share of each global batch, gradients are averaged, rank 0's
 * BatchNorm running statistics are broadcast. Built with MPI when CMake's UOTFT_MPI is on; without
 * it (or in a process not started by mpirun) there is one rank and every call is a no-op, so a
 * single process runs exactly the code it always did.
 *
 * Errors: a collective that fails fills e naming this rank. A rank that fails alone would leave the
 * others waiting in the next collective forever, so the CLI ends the whole job (uf_dist_abort). */
#ifndef UF_CORE_DIST_H
#define UF_CORE_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* 1 when this build has MPI. */
int uf_dist_built(void);
/* The number of processes mpirun / mpiexec started this one among (its environment says), 0 when
 * not started by one: before MPI starts, so commands that do not split work can refuse to run P
 * times over the same files, and a build without MPI can say so. */
int uf_dist_launched(void);
/* Starts MPI when the process was launched by mpirun / mpiexec (its environment says so); a plain
 * process stays a single rank without touching MPI. Idempotent; uf_dist_finalize ends it. */
int uf_dist_init(int *argc, char ***argv, uf_err *e);
void uf_dist_finalize(void);
/* Ends every rank of the job with status rc (after this rank's error was printed). */
void uf_dist_abort(int rc);
int uf_dist_rank(void);
int uf_dist_size(void);

/* x (n floats) := the mean of every rank's x. */
int uf_dist_mean_f32(float *x, size_t n, uf_err *e);
/* x (n doubles) := the mean of every rank's x. */
int uf_dist_mean_f64(double *x, size_t n, uf_err *e);
/* x (n bytes) := rank 0's. */
int uf_dist_bcast(void *x, size_t n, uf_err *e);
/* Waits for every rank. */
int uf_dist_barrier(uf_err *e);
/* Fails on every rank unless every rank holds the same v (what: named in the message). */
int uf_dist_same(uint64_t v, const char *what, uf_err *e);

#endif
