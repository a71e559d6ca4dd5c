/* The batch scripts of `uotft slurm` (engine/cli/cmd_slurm.c): a tier as four Slurm jobs, each
 * started only when the one before it succeeded (sbatch --dependency=afterok):
 *   prepare.sbatch        array of K tasks: `uotft run --prepare-only --shard I/K`, each task the
 *                         features of its share of ImageNet's rows
 *   prepare-merge.sbatch  `uotft run --prepare-only`: the shards merged, k-means, the rest
 *   runs.sbatch           array of N tasks: `uotft run --shard I/N --jobs 1`, the distinct runs
 *   collect.sbatch        `uotft run --collect`: tables, reports and figures from the finished runs
 * and submit.sh, which submits them in that order. Every `uotft run` line has the same binary,
 * manifests and options (absolute paths), so any task may run on any node of a shared file system. */
#ifndef UF_RUN_SLURM_H
#define UF_RUN_SLURM_H

#include <stdio.h>

#include "../core/err.h"

typedef enum { UF_SLURM_PREPARE, UF_SLURM_MERGE, UF_SLURM_RUNS, UF_SLURM_COLLECT, UF_SLURM_NSTAGES } uf_slurm_stage;

typedef struct uf_slurm_spec {
    const char *exe;      /* the uotft binary, absolute */
    const char *root;     /* the project root: every script works there */
    const char *tier;
    const char *dir;      /* where the scripts go (absolute); their logs go to dir/logs */
    char *const *args;    /* what every `uotft run` line shares after `run`: manifests, --set, --out-root */
    int nargs;
    const char *partition; /* NULL: the cluster's default partition */
    const char *mem;       /* NULL: the partition's default memory */
    int cpus;              /* per task; the runs' --threads */
    int prepare_shards, shards, array_max; /* K, N; array_max 0: no throttle */
    long time_s[UF_SLURM_NSTAGES];         /* each job's (each task's) time limit */
    const char *command;   /* the uotft slurm command line, recorded in each script */
} uf_slurm_spec;

/* "prepare.sbatch", ... */
const char *uf_slurm_script_name(uf_slurm_stage st);

/* Tasks of a stage's job: K, 1, N, 1 (a stage `uotft run` cannot split yet has 1). */
int uf_slurm_tasks(const uf_slurm_spec *s, uf_slurm_stage st);

/* Writes the four scripts and submit.sh into s->dir (made, with dir/logs). */
int uf_slurm_write(const uf_slurm_spec *s, uf_err *e);

/* The sbatch commands that submit the scripts, each after the one before (afterok), as shell lines
 * that print each job's id ("<script>: job <id>"); submit.sh holds the same lines under set -e. */
void uf_slurm_print_submit(FILE *f, const uf_slurm_spec *s);

/* Seconds as Slurm's time limit: [D-]HH:MM:SS. */
void uf_slurm_time(long seconds, char *buf, size_t n);

#endif
