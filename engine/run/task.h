/* What one manifest job does. A task appends rows to the run's long-format
 * table (tier and grid coordinates first, then its own columns) and writes
 * the Markdown report from that table. */
#ifndef UF_TASK_H
#define UF_TASK_H

#include <stdint.h>
#include <stdio.h>

#include "../select/select.h"
#include "inputs.h"
#include "manifest.h"
#include "table.h"

typedef struct uf_run_ctx {
    const uf_manifest *m;
    uf_table table;
    uf_inputs inputs;
    char overrides[1024]; /* --set assignments that can change results ("" when none): a last CSV column */
    int collect;          /* runs are only found, never trained (uotft run --collect) */
} uf_run_ctx;

/* What `uotft run --plan` needs to know of a job that trains a network (plan.h). */
typedef struct uf_job_plan {
    char key[17];             /* a hash of the job's settings as written: equal keys are one run */
    char arch[64];            /* "" when unknown (a checkpoint not made yet) */
    char target[32], target_root[4096];
    uint64_t seed;            /* caltech101's drawn split */
    int size, epochs, batch, source_batch, eval_every;
    int source_views;         /* source images per step: source_batch times this (0: no source) */
    double target_fraction, val_fraction;
    int keep_model;           /* the trained model kept once the run is done (its disk) */
    long train_images, test_images; /* the `train_images` / `test_images` settings, -1 when absent: the
                                       split sizes when the data set is not there to be listed */
} uf_job_plan;

typedef struct uf_task {
    const char *name;
    int ncols;
    const char *const *cols; /* the task's own columns, after tier and axes */
    int (*run_job)(uf_run_ctx *ctx, const int *coords, uf_err *e);
    /* Markdown body after the title; returns 0 or -1. */
    int (*report)(const uf_run_ctx *ctx, FILE *md, uf_err *e);
    /* Compares with the paper ([paper] section); NULL if the task has nothing to check. */
    int (*check)(const uf_run_ctx *ctx, FILE *out, int *mismatches, uf_err *e);
    /* A TSV of the table summarised per cell (results/<tier>/<name>.summary.tsv, what the plots
     * read); NULL if the task has none. */
    int (*summary)(const uf_run_ctx *ctx, FILE *out, uf_err *e);
    /* 1 when a job keeps its result on disk (a run folder), so worker processes can compute the
     * jobs first and the table be read back from them (workers.h) */
    int kept_on_disk;
    /* Fills the plan of a job without running it (or reading its inputs); NULL if its cost is nil. */
    int (*plan)(uf_run_ctx *ctx, const int *coords, uf_job_plan *out, uf_err *e);
} uf_task;

const uf_task *uf_task_find(const char *name);
/* Appends a row: tier, the job's axis values, then the task's values. */
void uf_run_add_row(uf_run_ctx *ctx, const int *coords, const char *const *values);

/* Tasks, one file each. */
extern const uf_task uf_task_recall;    /* task_select.c: concept recall of a selection */
extern const uf_task uf_task_selection; /* task_select.c: what was picked, per target */
extern const uf_task uf_task_probe;     /* task_probe.c: linear probe of a backbone's features */
extern const uf_task uf_task_finetune;  /* task_finetune.c: a fine-tuning run's accuracy */

/* A job's selection (task_select.c): its inputs loaded, its method run. */
typedef struct uf_job_selection {
    uf_selection sel;
    uf_sel_params p;
    const uf_classes *classes; /* NULL when the manifest gives none */
    unsigned char *mask;       /* concept mask, NULL without a concept */
    int concept_total;
    int k;                     /* how many are selected */
} uf_job_selection;
int uf_job_select(uf_run_ctx *ctx, const int *coords, int need_concept, uf_job_selection *out, uf_err *e);
void uf_job_selection_free(uf_job_selection *j);

/* Reports shared by tasks whose rows are (metric, value, paper, diff). */
int uf_report_pivot(const uf_run_ctx *ctx, FILE *md, uf_err *e);
int uf_check_paper(const uf_run_ctx *ctx, FILE *out, int *mismatches, uf_err *e);
/* The paper's value for the job's cell, from [paper] "<varying axis values joined by />"; NAN if none. */
double uf_paper_value(const uf_manifest *m, const int *coords);

#endif
