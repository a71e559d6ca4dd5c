/* Manifest task over fine-tuning: one job is one `uotft finetune` run (train/finetune.h), its
 * settings read from the manifest by the names uotft finetune takes ('_' for '-'), plus `recipe`,
 * `runs` (the folder that holds every run) and, for a computed selection, the selection task's
 * keys (method, top, source_means, ...; task_select.c). A run's folder is named by a hash of its
 * settings, so the same run asked for by two manifests (or twice) is computed once, and a run
 * killed half-way resumes where it stopped. The report gives mean +- standard deviation over the
 * `seed` axis, the best seed beside it, and the paper's number where [paper] has one. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/fileio.h"
#include "../core/sha256.h"
#include "../core/tsv.h"
#include "../train/finetune.h"
#include "task.h"

/* No wall time here: the table must be the same bytes however often a run was interrupted. */
static const char *const finetune_cols[] = {"final_top1", "best_top1", "best_epoch", "run"};

enum { MAX_PATHS = 8 };

/* A job's settings: the config and the storage its paths point into. */
typedef struct job_cfg {
    uf_finetune_cfg c;
    char paths[MAX_PATHS][4096];
    char select[4200];
} job_cfg;

/* The job's selection written as runs/select-<hash of its content>.tsv; path "" when the job names
 * no selection method (its `select` setting, if any, is used as given). */
static int selection_file(uf_run_ctx *ctx, const int *coords, const char *runs, char *path, size_t n, uf_err *e)
{
    char method[64], hex[65];
    int rc = uf_job_get(ctx->m, coords, "method", 0, method, sizeof method, e);
    path[0] = '\0';
    if (rc)
        return rc < 0 ? -1 : 0;
    uf_job_selection js;
    if (uf_job_select(ctx, coords, 0, &js, e)) {
        uf_job_selection_free(&js);
        return -1;
    }
    size_t cap = (size_t)js.k * 48 + 32, len = 0;
    char *text = uf_alloc(cap, e);
    if (!text) {
        uf_job_selection_free(&js);
        return -1;
    }
    len += (size_t)snprintf(text, cap, "rank\tindex\tscore\n");
    for (int r = 0; r < js.k; r++)
        len += (size_t)snprintf(text + len, cap - len, "%d\t%d\t%.17g\n", r + 1, js.sel.order[r],
                                js.sel.score[js.sel.order[r]]);
    uf_job_selection_free(&js);
    rc = uf_sha256_mem(text, len, hex) ? uf_fail(e, "sha256 failed") : 0;
    snprintf(path, n, "%s/select-%.16s.tsv", runs, hex);
    uf_out o;
    if (!rc && !uf_is_file(path) && !(rc = uf_mkdirs(runs, e)) && !(rc = uf_out_open(&o, path, e))) {
        fwrite(text, 1, len, o.f);
        rc = uf_out_commit(&o, e);
    }
    free(text);
    return rc;
}

/* A folder the job writes (it need not exist yet), relative to the project root. */
static int output_path(const uf_manifest *m, const int *coords, const char *key, char *buf, size_t n, uf_err *e)
{
    char v[4096];
    if (uf_job_get(m, coords, key, 1, v, sizeof v, e))
        return -1;
    int w = snprintf(buf, n, "%s%s%s", v[0] == '/' ? "" : m->root, v[0] == '/' ? "" : "/", v);
    return w >= 0 && (size_t)w < n ? 0 : uf_fail(e, "%s: %s: the path is too long", m->path, key);
}

/* Every setting of uf_finetune_settings the job's manifest view has; input paths must exist. */
static int read_settings(const uf_manifest *m, const int *coords, job_cfg *j, uf_err *e)
{
    int np = 0;
    for (int k = 0; k < uf_finetune_nsettings; k++) {
        const uf_ft_setting *s = &uf_finetune_settings[k];
        char key[64], value[4096];
        snprintf(key, sizeof key, "%s", s->name);
        for (char *c = key; *c; c++)
            *c = *c == '-' ? '_' : *c;
        int rc = uf_job_get(m, coords, key, 0, value, sizeof value, e);
        if (rc < 0)
            return -1;
        if (rc == 1)
            continue;
        const char *v = value;
        if (s->type == UF_FT_PATH) {
            int output = strcmp(key, "dump") == 0;
            if (np == MAX_PATHS)
                return uf_fail(e, "too many path settings");
            if (output ? output_path(m, coords, key, j->paths[np], sizeof j->paths[np], e)
                       : uf_job_path(m, coords, key, j->paths[np], sizeof j->paths[np], e))
                return -1;
            v = j->paths[np++];
        }
        if (uf_finetune_set(&j->c, s, v, e))
            return uf_wrap(e, "%s: ", m->path);
    }
    return 0;
}

static int job_config(uf_run_ctx *ctx, const int *coords, job_cfg *j, char *dir, size_t n, uf_err *e)
{
    const uf_manifest *m = ctx->m;
    char recipe[32], runs[4096], note[1024], hex[65];
    uf_recipe r;
    if (uf_job_get(m, coords, "recipe", 1, recipe, sizeof recipe, e) || output_path(m, coords, "runs", runs, sizeof runs, e))
        return -1;
    if (uf_recipe_parse(recipe, &r))
        return uf_fail(e, "%s: unknown recipe '%s' (finetune, labelled, unlabelled, cotuning)", m->path, recipe);
    uf_finetune_defaults(&j->c, r);
    if (read_settings(m, coords, j, e) || selection_file(ctx, coords, runs, j->select, sizeof j->select, e))
        return -1;
    if (j->select[0])
        j->c.select = j->select;
    if (uf_finetune_note(&j->c, note, sizeof note, e))
        return -1;
    /* named by the settings alone: a finished run is found again on any thread count */
    if (uf_sha256_mem(note, uf_trainer_settings_len(note), hex))
        return uf_fail(e, "sha256 failed");
    snprintf(dir, n, "%s/%s-%s-%.16s", runs, recipe, j->c.target, hex);
    return 0;
}

static int finetune_job(uf_run_ctx *ctx, const int *coords, uf_err *e)
{
    job_cfg *j = uf_calloc(1, sizeof *j, e);
    char dir[4400];
    uf_finetune_result res;
    if (!j)
        return -1;
    int rc = job_config(ctx, coords, j, dir, sizeof dir, e);
    if (!rc)
        rc = uf_finetune(&j->c, dir, &res, e);
    free(j);
    if (rc)
        return -1;
    char fin[32], best[32], epoch[16];
    snprintf(fin, sizeof fin, "%.2f", res.final_top1);
    snprintf(best, sizeof best, "%.2f", res.best_top1);
    snprintf(epoch, sizeof epoch, "%d", res.best_epoch + 1);
    const char *slash = strrchr(dir, '/');
    const char *values[] = {fin, best, epoch, slash ? slash + 1 : dir};
    uf_run_add_row(ctx, coords, values);
    return 0;
}

/* ---- report ---- */

static int axis_named(const uf_manifest *m, const char *name)
{
    for (int a = 0; a < m->naxes; a++)
        if (strcmp(m->axes[a].name, name) == 0)
            return a;
    return -1;
}

/* final_top1 over the seeds of a cell (every axis but seed fixed by coords). */
static int cell_values(const uf_run_ctx *ctx, const int *coords, int seed_axis, double *v, int max)
{
    const uf_manifest *m = ctx->m;
    const uf_table *t = &ctx->table;
    int n = 0, cv = 1 + m->naxes;
    for (int r = 0; r < t->nrows && n < max; r++) {
        int a = 0;
        while (a < m->naxes && (a == seed_axis || strcmp(uf_table_at(t, r, 1 + a), m->axes[a].values[coords[a]]) == 0))
            a++;
        if (a == m->naxes)
            v[n++] = atof(uf_table_at(t, r, cv));
    }
    return n;
}

/* The paper's number for a cell: [paper] key = the values of the axes with more than one value
 * (seed excluded), joined by '/'. */
static double paper_value(const uf_manifest *m, const int *coords, int seed_axis)
{
    char key[1024] = "";
    size_t k = 0;
    for (int a = 0; a < m->naxes; a++)
        if (a != seed_axis && m->axes[a].n > 1 && k < sizeof key)
            k += (size_t)snprintf(key + k, sizeof key - k, "%s%s", k ? "/" : "", m->axes[a].values[coords[a]]);
    const char *v = uf_manifest_raw(m, "paper", key);
    return v ? atof(v) : NAN;
}

static void print_cell(FILE *md, const double *v, int n, double paper)
{
    if (n == 0) {
        fprintf(md, " – |");
        return;
    }
    double mean = 0, var = 0, best = v[0];
    for (int i = 0; i < n; i++) {
        mean += v[i] / n;
        best = v[i] > best ? v[i] : best;
    }
    for (int i = 0; i < n; i++)
        var += (v[i] - mean) * (v[i] - mean) / (n > 1 ? n - 1 : 1);
    fprintf(md, " %.2f ± %.2f (best %.2f)", mean, sqrt(var), best);
    if (!isnan(paper))
        fprintf(md, " [paper %.2f]", paper);
    fprintf(md, " |");
}

static int finetune_report(const uf_run_ctx *ctx, FILE *md, uf_err *e)
{
    const uf_manifest *m = ctx->m;
    int ra = axis_named(m, uf_manifest_meta(m, "rows", "")), ca = axis_named(m, uf_manifest_meta(m, "cols", ""));
    int sa = axis_named(m, "seed"), coords[UF_MAX_AXES] = {0};
    if (ra < 0 || ca < 0 || ra == ca)
        return uf_fail(e, "%s: [experiment] rows and cols must name two different grid axes", m->path);
    int nseeds = sa >= 0 ? m->axes[sa].n : 1;
    fprintf(md, "\nTop-1 accuracy (%%) after the last epoch: mean ± standard deviation over %d seed%s, the best "
                "seed beside it%s.\n\n| %s \\ %s |",
            nseeds, nseeds > 1 ? "s" : "", uf_manifest_raw(m, "paper", NULL) ? ", the paper's number in brackets" : "",
            m->axes[ra].name, m->axes[ca].name);
    for (int c = 0; c < m->axes[ca].n; c++)
        fprintf(md, " %s |", m->axes[ca].values[c]);
    fprintf(md, "\n|---|");
    for (int c = 0; c < m->axes[ca].n; c++)
        fprintf(md, "---:|");
    fprintf(md, "\n");
    double v[256];
    for (int r = 0; r < m->axes[ra].n; r++) {
        coords[ra] = r;
        fprintf(md, "| %s |", m->axes[ra].values[r]);
        for (int c = 0; c < m->axes[ca].n; c++) {
            coords[ca] = c;
            print_cell(md, v, cell_values(ctx, coords, sa, v, 256), paper_value(m, coords, sa));
        }
        fprintf(md, "\n");
    }
    return 0;
}

const uf_task uf_task_finetune = {"finetune", 4, finetune_cols, finetune_job, finetune_report, NULL};
