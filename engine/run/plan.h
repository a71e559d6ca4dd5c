/* `uotft run --plan`: every job the named manifests would run for a tier, the same run asked for
 * by several jobs or manifests counted once, each with its estimated cost in core-hours and the
 * disk it keeps, from throughputs measured on this machine in the same invocation
 * (train/throughput.h), and the totals. Nothing is trained or prepared. */
#ifndef UF_RUN_PLAN_H
#define UF_RUN_PLAN_H

#include <stdio.h>

#include "runner.h"

/* What a tier's preparation will do (prepare.h): one line of the plan per stage. */
typedef struct uf_plan_stage {
    char what[160];
    char arch[64];      /* the network its images go through (eval mode); "" for none */
    int size;
    double images;      /* through the network */
    double gflop;       /* other work (k-means), at the sgemm rate */
    double disk_bytes;  /* what the stage keeps */
} uf_plan_stage;

int uf_run_plan(char *const *paths, int n, const uf_run_opts *o, FILE *out, uf_err *e);

/* The distinct runs of the manifests' jobs (their plan keys), in the order --plan lists them: what
 * --shard I/N deals out, run k to shard k mod N. */
int uf_run_distinct(char *const *paths, int n, const uf_run_opts *o, uf_run_keys *out, uf_err *e);
/* What uotft slurm sizes its jobs by: the plan's counts and costs in core-seconds, the ones it
 * could not cost left out (unknown > 0 then). */
typedef struct uf_plan_summary {
    int nruns;             /* distinct fine-tuning runs */
    long jobs;             /* every job, the repeated ones included */
    double prepare_core_s; /* the preparation's stages together */
    double run_core_s_max; /* the costliest distinct run */
    int prepare_unknown;   /* stages without a cost */
    int runs_unknown;      /* runs without a cost */
} uf_plan_summary;

/* uf_run_plan, its totals also into *s. */
int uf_run_plan_summary(char *const *paths, int n, const uf_run_opts *o, FILE *out, uf_plan_summary *s, uf_err *e);

#endif
