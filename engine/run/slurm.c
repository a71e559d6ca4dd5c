/* uotft slurm's batch scripts (slurm.h). */
#include "slurm.h"

#include <string.h>

#include "../core/fileio.h"

/* The one place that follows `uotft run`'s options: what each stage adds to the shared line (%K and
 * %N stand for the task counts) and whether its job is an array. --prepare-only --shard I/K extracts
 * ImageNet's rows of shard I and nothing else; --prepare-only merges them and does the rest of the
 * preparation; --shard I/N runs the distinct runs k with k mod N = I; --collect writes the tables from
 * the finished runs (were one missing, it fails rather than train it in this job's cores). */
static const struct {
    const char *name, *args, *what;
    int array;
} stages[UF_SLURM_NSTAGES] = {
    [UF_SLURM_PREPARE] = {"prepare", "--prepare-only --shard \"$SLURM_ARRAY_TASK_ID/%K\"", "the preparation's shards",
                          1},
    [UF_SLURM_MERGE] = {"prepare-merge", "--prepare-only", "the rest of the preparation", 0},
    [UF_SLURM_RUNS] = {"runs", "--shard \"$SLURM_ARRAY_TASK_ID/%N\" --jobs 1", "the runs, one share per array task", 1},
    [UF_SLURM_COLLECT] = {"collect", "--collect", "tables, reports and figures", 0},
};

const char *uf_slurm_script_name(uf_slurm_stage st)
{
    static const char *const names[UF_SLURM_NSTAGES] = {"prepare.sbatch", "prepare-merge.sbatch", "runs.sbatch",
                                                        "collect.sbatch"};
    return names[st];
}

int uf_slurm_tasks(const uf_slurm_spec *s, uf_slurm_stage st)
{
    if (!stages[st].array)
        return 1;
    return st == UF_SLURM_PREPARE ? s->prepare_shards : s->shards;
}

void uf_slurm_time(long seconds, char *buf, size_t n)
{
    long d = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60, sec = seconds % 60;
    if (d)
        snprintf(buf, n, "%ld-%02ld:%02ld:%02ld", d, h, m, sec);
    else
        snprintf(buf, n, "%02ld:%02ld:%02ld", h, m, sec);
}

/* One shell word: as it is when every character is safe, else in single quotes. */
static void sh_word(FILE *f, const char *w)
{
    if (*w && strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./=:,+-@%") == strlen(w)) {
        fputs(w, f);
        return;
    }
    fputc('\'', f);
    for (; *w; w++)
        if (*w == '\'')
            fputs("'\\''", f);
        else
            fputc(*w, f);
    fputc('\'', f);
}

/* A stage's own options, %K and %N replaced by the task counts. */
static void stage_args(FILE *f, const uf_slurm_spec *s, uf_slurm_stage st)
{
    for (const char *p = stages[st].args; *p; p++) {
        if (p[0] == '%' && (p[1] == 'K' || p[1] == 'N')) {
            fprintf(f, "%d", *++p == 'K' ? s->prepare_shards : s->shards);
            continue;
        }
        fputc(*p, f);
    }
}

static void write_header(FILE *f, const uf_slurm_spec *s, uf_slurm_stage st)
{
    char t[32];
    uf_slurm_time(s->time_s[st], t, sizeof t);
    fprintf(f, "#!/bin/bash\n#SBATCH --job-name=uotft-%s-%s\n", s->tier, stages[st].name);
    if (stages[st].array) {
        fprintf(f, "#SBATCH --array=0-%d", uf_slurm_tasks(s, st) - 1);
        fprintf(f, s->array_max > 0 ? "%%%d\n" : "\n", s->array_max);
    }
    fprintf(f, "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=%d\n#SBATCH --time=%s\n", s->cpus, t);
    if (s->mem)
        fprintf(f, "#SBATCH --mem=%s\n", s->mem);
    if (s->partition)
        fprintf(f, "#SBATCH --partition=%s\n", s->partition);
    /* Slurm does not make the log folder: uf_slurm_write does */
    fprintf(f, "#SBATCH --output=%s/logs/%s-%s.log\n", s->dir, stages[st].name, stages[st].array ? "%A_%a" : "%j");
}

static void write_script(FILE *f, const uf_slurm_spec *s, uf_slurm_stage st)
{
    write_header(f, s, st);
    fprintf(f, "# %s of uotft's tier %s, written by:\n#   %s\n", stages[st].what, s->tier, s->command);
    fputs("set -eu\ncd ", f);
    sh_word(f, s->root);
    fputs("\nexec ", f);
    sh_word(f, s->exe);
    fputs(" run", f);
    for (int i = 0; i < s->nargs; i++)
        fputc(' ', f), sh_word(f, s->args[i]);
    fputc(' ', f);
    stage_args(f, s, st);
    fputs(" --threads \"$SLURM_CPUS_PER_TASK\"\n", f);
}

void uf_slurm_print_submit(FILE *f, const uf_slurm_spec *s)
{
    for (int st = 0; st < UF_SLURM_NSTAGES; st++) {
        fprintf(f, "j%d=$(sbatch --parsable", st);
        if (st > 0) /* --parsable prints "id" or "id;cluster" */
            fprintf(f, " --dependency=afterok:${j%d%%%%;*}", st - 1);
        fputc(' ', f);
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", s->dir, uf_slurm_script_name(st));
        sh_word(f, path);
        /* the echo on a line of its own: under set -e a failed sbatch then stops the chain */
        fprintf(f, ")\necho \"%s: job ${j%d%%%%;*}\"\n", uf_slurm_script_name(st), st);
    }
}

static int write_file(const uf_slurm_spec *s, const char *name, int st, uf_err *e)
{
    char path[4200];
    uf_out o;
    snprintf(path, sizeof path, "%s/%s", s->dir, name);
    if (uf_out_open(&o, path, e))
        return -1;
    if (st >= 0) {
        write_script(o.f, s, st);
    } else {
        fprintf(o.f, "#!/bin/sh\n# Submits uotft's tier %s, each job after the one before succeeded. "
                     "Written by:\n#   %s\nset -e\n", s->tier, s->command);
        uf_slurm_print_submit(o.f, s);
    }
    return uf_out_commit(&o, e);
}

int uf_slurm_write(const uf_slurm_spec *s, uf_err *e)
{
    char logs[4200];
    snprintf(logs, sizeof logs, "%s/logs", s->dir);
    if (uf_mkdirs(logs, e))
        return -1;
    for (int st = 0; st < UF_SLURM_NSTAGES; st++)
        if (write_file(s, uf_slurm_script_name(st), st, e))
            return -1;
    return write_file(s, "submit.sh", -1, e);
}
