/* Runs one manifest for one tier: expands the grid into jobs, runs them with
 * progress on stderr, writes <out>/results/<tier>/<name>.csv and .md, draws
 * the manifest's plot with gnuplot, and optionally checks the paper's numbers. */
#ifndef UF_RUNNER_H
#define UF_RUNNER_H

#include "../core/err.h"

typedef struct uf_run_opts {
    const char *tier;
    const char *out_root; /* NULL: the project root of the manifest */
    int check;            /* compare with [paper]; mismatches counted */
    int no_plot;
    int nset;
    char *const *set; /* KEY=VALUE settings overriding the manifest's (uf_manifest_set) */
} uf_run_opts;

/* Returns 0 when everything was written (and, with check, *mismatches says
 * how many paper values were not reproduced). */
int uf_run_manifest(const char *path, const uf_run_opts *o, int *mismatches, uf_err *e);

#endif
