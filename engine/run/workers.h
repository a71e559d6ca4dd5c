/* Parallel fine-tuning for a 2-core (or 64-core) machine: the jobs of a manifest first run in
 * `workers` child processes, `uotft run MANIFEST --shard I/N` each, single-threaded runs being
 * faster per core than one run spread over the cores at the mini tier's small batches; the
 * invocation then runs the manifest itself, where every run is found finished and the tables are
 * written in job order. Children are fresh processes (posix_spawn of this executable), not forks,
 * because OpenMP and OpenBLAS thread pools do not survive a fork. */
#ifndef UF_RUN_WORKERS_H
#define UF_RUN_WORKERS_H

#include "../core/err.h"
#include "runner.h"

/* Runs o->workers shards of the manifest at `path` and waits for them; -1 with e set when one failed. */
int uf_run_workers(const char *path, const uf_run_opts *o, uf_err *e);

#endif
