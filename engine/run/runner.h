/* Runs one manifest for one tier: expands the grid into jobs, runs them with
 * progress on stderr, writes <out>/results/<tier>/<name>.csv and .md, draws
 * the manifest's plot with gnuplot, and optionally checks the paper's numbers. */
#ifndef UF_RUNNER_H
#define UF_RUNNER_H

#include "../core/err.h"
#include "manifest.h"

/* Plan keys of distinct runs (plan.h), in order. */
typedef struct uf_run_keys {
    int n;
    char (*key)[17];
} uf_run_keys;
int uf_run_keys_index(const uf_run_keys *k, const char *key); /* -1 when absent */
void uf_run_keys_free(uf_run_keys *k);

typedef struct uf_run_opts {
    const char *tier;
    const char *out_root; /* NULL: the project root of the manifest */
    int check;            /* compare with [paper]; mismatches counted */
    int no_plot;
    int nset;
    char *const *set; /* KEY=VALUE settings overriding the manifest's (uf_manifest_set) */
    int sample;       /* only the jobs the tier's `sample` setting names (CI's regression sample) */
    int workers;      /* > 1: the jobs first run by that many `uotft run --shard` processes (workers.h) */
    /* shard_n > 0: only the distinct runs k with k mod n = i (keys: the invocation's distinct runs,
     * uf_run_distinct), and no tables written */
    int shard_i, shard_n;
    const uf_run_keys *keys;
    int collect;      /* tables from finished runs only: a run not finished is an error, never trained */
    int prepare_only; /* the tiers' preparation alone (with shard_n: shard shard_i of its sharded part) */
    /* progress over the whole invocation: jobs of every manifest to run, those done before this
     * manifest, and the time they took (a shard's worker is told them on its command line) */
    long total_jobs, done_jobs;
    double elapsed;
} uf_run_opts;

/* Calls fn for every job a run of m keeps (its `skip` cells left out; with sample, only the
 * `sample` cell), in the run's order; stops at the first that returns non-zero. */
typedef int (*uf_job_fn)(void *ctx, const int *coords, uf_err *e);
int uf_run_each_job(const uf_manifest *m, int sample, uf_job_fn fn, void *ctx, uf_err *e);

/* How many jobs uf_run_manifest will run for these options (the sample's with o->sample). */
long uf_run_count_jobs(const char *path, const uf_run_opts *o, uf_err *e);

/* Returns 0 when everything was written (and, with check, *mismatches says
 * how many paper values were not reproduced). */
int uf_run_manifest(const char *path, const uf_run_opts *o, int *mismatches, uf_err *e);

#endif
