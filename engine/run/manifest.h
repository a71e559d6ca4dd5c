/* Experiment manifests: one INI file per table or figure (experiments/NAME.ini).
 *
 *   [experiment]  name, title, task, tiers (comma list), rows, cols (report
 *                 layout), plot (gnuplot script), metric and tolerance (for --check)
 *   [grid]        axis = v1, v2, ...   the jobs are the cartesian product,
 *                 the last axis varying fastest
 *   [settings]    key = value shared by every tier
 *   [tier.NAME]   key = value for one tier; a key that names an axis replaces
 *                 that axis's values for this tier
 *   [paper]       ROW/COL = number   the paper's value for a report cell
 *   [claims]      key = words | test   the paper's claims, tested on the results (claims.h)
 *
 * [experiment] include = FILE, ... (relative to the project root) adds the [settings] and
 * [tier.T] entries of shared files (experiments/common/) that the manifest does not set itself.
 * Settings the runner reads for every task: `skip` ("axis=value ...; ..." cells of the grid not
 * run) and `sample` ("axis=value ...": the cell `uotft run --sample` runs).
 * Settings given on the command line (uf_manifest_set) come first of all.
 * A setting key may end in ".<axis value>" to apply only to jobs with that
 * value (concept.cub = bird). Values may use {key} to substitute an axis value
 * or another setting, and path settings may list alternatives "a | b": the
 * first that exists is used. Relative paths are relative to the project root
 * (the folder above experiments/). */
#ifndef UF_MANIFEST_H
#define UF_MANIFEST_H

#include <stddef.h>

#include "../core/err.h"

#define UF_MAX_AXES 12
/* The most jobs a grid may have (uf_manifest_load refuses more); experiments/ has a few dozen at most. */
#define UF_MAX_JOBS 100000

typedef struct uf_kv {
    char *section, *key, *value;
} uf_kv;

typedef struct uf_axis {
    char *name;
    int n;
    char **values;
} uf_axis;

typedef struct uf_manifest {
    char *path; /* as given */
    char *root; /* project root */
    char *tier; /* the tier being run */
    int nkv;
    uf_kv *kv;
    int naxes;
    uf_axis axes[UF_MAX_AXES];
} uf_manifest;

/* Parses the file and prepares it for `tier` (grid overrides applied). */
int uf_manifest_load(const char *path, const char *tier, uf_manifest *m, uf_err *e);
void uf_manifest_free(uf_manifest *m);

/* Overrides a setting for every job, before [tier.T] and [settings] (uotft run --set KEY=VALUE);
 * KEY naming a grid axis gives it the values listed (--set seed=0: one seed). */
int uf_manifest_set(uf_manifest *m, const char *assignment, uf_err *e);
/* Raw value of section/key, or NULL; key NULL: of the section's first entry (is there a section). */
const char *uf_manifest_raw(const uf_manifest *m, const char *section, const char *key);
/* Index of the grid axis named `name` in m->axes, or -1. */
int uf_manifest_axis(const uf_manifest *m, const char *name);
/* [experiment] key, or def. */
const char *uf_manifest_meta(const uf_manifest *m, const char *key, const char *def);
/* Whether the manifest lists `tier` in [experiment] tiers. */
int uf_manifest_has_tier(const uf_manifest *m, const char *tier);
/* Number of jobs (product of axis sizes, at most UF_MAX_JOBS). */
long uf_manifest_njobs(const uf_manifest *m);
/* coords[a] = index into axes[a].values for job j. */
void uf_manifest_job(const uf_manifest *m, long j, int *coords);

/* A job's view of the settings: axis values, then overrides (".<axis value>" suffixed keys
 * first), then suffixed keys of [tier.T] and [settings], then their plain keys: a value for the
 * job's cell wins over a default, and [tier.T] over [settings] at the same level. Fills buf with the value
 * after {key} substitution; returns 0, or -1 with e set when the key is
 * missing (only if required) or a substitution fails. Returns 1 when an
 * optional key is absent. */
int uf_job_get(const uf_manifest *m, const int *coords, const char *key, int required, char *buf,
               size_t n, uf_err *e);
/* Like uf_job_get for a path: resolves "a | b" alternatives against the root
 * and returns the first that exists (or an error listing them all). */
int uf_job_path(const uf_manifest *m, const int *coords, const char *key, char *buf, size_t n,
                uf_err *e);
int uf_job_double(const uf_manifest *m, const int *coords, const char *key, double def, double *out,
                  uf_err *e);
int uf_job_long(const uf_manifest *m, const int *coords, const char *key, long def, long *out, uf_err *e);

#endif
