/* Manifest task `probe`: the linear probe of a backbone's frozen features
 * (train/probe.h) on the files `uotft features` writes, one job per model:
 * settings probe_dir (the features folder), probe_set (default pool), C,
 * max_iter and tol (the probe's defaults when absent). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../train/probe.h"
#include "task.h"

static const char *const probe_cols[] = {"metric", "value"};

static int probe_job(uf_run_ctx *ctx, const int *coords, uf_err *e)
{
    const uf_manifest *m = ctx->m;
    char dir[4096], set[64];
    uf_probe_params p;
    uf_probe_defaults(&p);
    long iters;
    int rc = uf_job_get(m, coords, "probe_set", 0, set, sizeof set, e);
    if (rc < 0 || uf_job_path(m, coords, "probe_dir", dir, sizeof dir, e) ||
        uf_job_double(m, coords, "C", p.C, &p.C, e) || uf_job_long(m, coords, "max_iter", p.max_iter, &iters, e) ||
        uf_job_double(m, coords, "tol", p.tol, &p.tol, e))
        return -1;
    p.max_iter = (int)iters;
    uf_probe_result r;
    if (uf_probe_files(dir, rc == 0 ? set : "pool", &p, &r, e))
        return -1;
    char v[7][32];
    snprintf(v[0], 32, "%.2f", 100 * r.test_acc);
    snprintf(v[1], 32, "%.2f", 100 * r.train_acc);
    snprintf(v[2], 32, "%.2f", 100.0 / r.k);
    snprintf(v[3], 32, "%d", r.k);
    snprintf(v[4], 32, "%d", r.d);
    snprintf(v[5], 32, "%d", r.info.iterations);
    snprintf(v[6], 32, "%d", r.info.converged);
    const char *names[7] = {"test_accuracy", "train_accuracy", "chance", "classes", "dims", "iterations", "converged"};
    for (int k = 0; k < 7; k++) {
        const char *vals[2] = {names[k], v[k]};
        uf_run_add_row(ctx, coords, vals);
    }
    return 0;
}

/* The value of metric for the table's model row r0.., or "–". */
static const char *value_of(const uf_table *t, int r0, int cm, const char *metric)
{
    for (int r = r0; r < t->nrows && strcmp(uf_table_at(t, r, 1), uf_table_at(t, r0, 1)) == 0; r++)
        if (strcmp(uf_table_at(t, r, cm), metric) == 0)
            return uf_table_at(t, r, cm + 1);
    return "–";
}

static int probe_report(const uf_run_ctx *ctx, FILE *md, uf_err *e)
{
    const uf_table *t = &ctx->table;
    const int cm = 1 + ctx->m->naxes;
    fprintf(md, "| backbone | held-out accuracy (%%) | training accuracy (%%) | features | L-BFGS iterations |\n"
                "|---|---:|---:|---:|---:|\n");
    const char *chance = "–", *classes = "–";
    for (int r = 0; r < t->nrows; r++) {
        if (r > 0 && strcmp(uf_table_at(t, r, 1), uf_table_at(t, r - 1, 1)) == 0)
            continue;
        fprintf(md, "| %s | %s | %s | %s | %s%s |\n", uf_table_at(t, r, 1), value_of(t, r, cm, "test_accuracy"),
                value_of(t, r, cm, "train_accuracy"), value_of(t, r, cm, "dims"), value_of(t, r, cm, "iterations"),
                strcmp(value_of(t, r, cm, "converged"), "1") == 0 ? "" : " (limit)");
        chance = value_of(t, r, cm, "chance");
        classes = value_of(t, r, cm, "classes");
    }
    char set[64] = "pool";
    int coords[UF_MAX_AXES] = {0};
    if (uf_job_get(ctx->m, coords, "probe_set", 0, set, sizeof set, e) < 0)
        return -1;
    fprintf(md, "\nChance is %s%% (%s classes). Multinomial logistic regression on the pooled features of the "
                "%s's training images, each standardised with the training mean and deviation, evaluated on "
                "its held-out images (engine/train/probe.h).\n",
            chance, classes, set);
    return 0;
}

const uf_task uf_task_probe = {
    .name = "probe",
    .ncols = 2,
    .cols = probe_cols,
    .run_job = probe_job,
    .report = probe_report,
    .check = NULL,
};
