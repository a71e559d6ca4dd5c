/* Manifest task over fine-tuning: one job is one `uotft finetune` run (train/finetune.h), its
 * settings read from the manifest by the names uotft finetune takes ('_' for '-'), plus `recipe`,
 * `runs` (the folder that holds every run) and, for a computed selection, the selection task's
 * keys (method, top, source_means, ...; task_select.c; method = none: no source data), and
 * `blocks = N`, `block = B` (the B-th of N consecutive blocks of the whole ranking, Figure 4(b)). A run's folder is named by a hash of its
 * settings, so the same run asked for by two manifests (or twice) is computed once, and a run
 * killed half-way resumes where it stopped. The report gives mean +- standard deviation over the
 * `seed` axis, the best seed beside it, the gain over the [experiment] `baseline` column, the
 * paper's number where [paper] has one, and the [claims] evaluated (claims.h). */
#define _DEFAULT_SOURCE /* flock */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/fileio.h"
#include "../core/parallel.h"
#include "../core/sha256.h"
#include "../core/tsv.h"
#include "../nn/ckpt.h"
#include "../train/finetune.h"
#include "claims.h"
#include "task.h"

/* No wall time here: the table must be the same bytes however often a run was interrupted.
 * recall: the share of the [settings] concept's classes in the selection (%), "" without one. */
static const char *const finetune_cols[] = {"final_top1", "best_top1", "best_epoch", "run", "recall"};

enum { MAX_PATHS = 8 };

/* A job's settings: the config and the storage its paths point into. */
typedef struct job_cfg {
    uf_finetune_cfg c;
    char paths[MAX_PATHS][4096];
    char select[4200];
    double recall; /* of the selection's concept classes, %; NAN when there is none */
} job_cfg;

/* The ranks [first, end) the job's selection keeps: the top k, or with `blocks = N` the B-th
 * (`block`, from 1) of N consecutive blocks of the whole ranking. */
static int selected_ranks(const uf_manifest *m, const int *coords, const uf_job_selection *js, int *first, int *end,
                          uf_err *e)
{
    long b, nb;
    *first = 0, *end = js->k;
    int rc = uf_job_long(m, coords, "blocks", 0, &nb, e), n = js->sel.n;
    if (rc || nb == 0)
        return rc;
    if (uf_job_long(m, coords, "block", 0, &b, e))
        return -1;
    if (nb < 1 || nb > n || b < 1 || b > nb)
        return uf_fail(e, "%s: block %ld of %ld: expected 1 <= block <= blocks <= %d (the source's size)", m->path, b,
                       nb, n);
    *first = (int)((long)(b - 1) * n / nb), *end = (int)((long)b * n / nb);
    return 0;
}

/* The job's selection written as runs/select-<hash of its content>.tsv; path "" when the job names
 * no selection method (its `select` setting, if any, is used as given). */
static int selection_file(uf_run_ctx *ctx, const int *coords, const char *runs, job_cfg *j, uf_err *e)
{
    char method[64], hex[65], *path = j->select;
    size_t n = sizeof j->select;
    int rc = uf_job_get(ctx->m, coords, "method", 0, method, sizeof method, e), first, end;
    path[0] = '\0';
    j->recall = NAN;
    if (rc || strcmp(method, "none") == 0) /* method = none: a cell without source data */
        return rc < 0 ? -1 : 0;
    uf_job_selection js;
    char *text = NULL;
    size_t len = 0;
    rc = uf_job_select(ctx, coords, 0, &js, e) || selected_ranks(ctx->m, coords, &js, &first, &end, e) ? -1 : 0;
    size_t cap = (size_t)(end - first) * 48 + 32;
    if (!rc && !(text = uf_alloc(cap, e)))
        rc = -1;
    if (!rc) {
        int hits = 0;
        len += (size_t)snprintf(text, cap, "rank\tindex\tscore\n");
        for (int r = first; r < end; r++) {
            int src = js.sel.order[r];
            hits += js.mask ? js.mask[src] : 0;
            len += (size_t)snprintf(text + len, cap - len, "%d\t%d\t%.17g\n", r + 1, src, js.sel.score[src]);
        }
        if (js.mask)
            j->recall = 100.0 * hits / js.concept_total;
    }
    uf_job_selection_free(&js);
    if (!rc && uf_sha256_mem(text, len, hex))
        rc = uf_fail(e, "sha256 failed");
    if (!rc)
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
    if (read_settings(m, coords, j, e) || selection_file(ctx, coords, runs, j, e))
        return -1;
    /* the file the task wrote holds exactly the selected units; `top` only said how many */
    if (j->select[0])
        j->c.select = j->select, j->c.top = 0;
    else if (!j->c.select)
        j->c.top = 0;
    if (uf_finetune_note(&j->c, note, sizeof note, e))
        return -1;
    /* named by the settings alone: a finished run is found again on any thread count */
    if (uf_sha256_mem(note, uf_trainer_settings_len(note), hex))
        return uf_fail(e, "sha256 failed");
    snprintf(dir, n, "%s/%s-%s-%.16s", runs, recipe, j->c.target, hex);
    return 0;
}

/* Runs the job's fine-tuning under an exclusive lock on <dir>.lock: two workers given the same run
 * (two manifests, or two jobs, asking for the same settings) take turns, and the second finds it
 * finished. The kernel drops the lock of a killed process. With the `threads` setting the run
 * uses that many threads whatever the invocation's count, so its bits do not depend on how the
 * tier was launched (--jobs, --sample, CI). */
static int run_locked(const uf_manifest *m, const int *coords, job_cfg *j, const char *dir, uf_finetune_result *res,
                      uf_err *e)
{
    char lock[4500];
    long threads;
    if (uf_job_long(m, coords, "threads", 0, &threads, e) || uf_mkdirs(dir, e))
        return -1;
    snprintf(lock, sizeof lock, "%s.lock", dir);
    int fd = open(lock, O_RDWR | O_CREAT, 0644);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) {
        if (fd >= 0)
            close(fd);
        return uf_fail(e, "%s: cannot lock: %s", lock, strerror(errno));
    }
    int before = uf_threads();
    if (threads > 0)
        uf_set_threads((int)threads);
    int rc = uf_finetune(&j->c, dir, res, e);
    uf_set_threads(before);
    close(fd);
    return rc;
}

static int finetune_job(uf_run_ctx *ctx, const int *coords, uf_err *e)
{
    job_cfg *j = uf_calloc(1, sizeof *j, e);
    char dir[4400];
    uf_finetune_result res;
    if (!j)
        return -1;
    int rc = job_config(ctx, coords, j, dir, sizeof dir, e);
    j->c.find_only = ctx->collect;
    if (!rc)
        rc = run_locked(ctx->m, coords, j, dir, &res, e);
    char fin[32], best[32], epoch[16], recall[32] = "";
    if (!rc && !isnan(j->recall))
        snprintf(recall, sizeof recall, "%.2f", j->recall);
    free(j);
    if (rc)
        return -1;
    snprintf(fin, sizeof fin, "%.2f", res.final_top1);
    snprintf(best, sizeof best, "%.2f", res.best_top1);
    snprintf(epoch, sizeof epoch, "%d", res.best_epoch + 1);
    const char *slash = strrchr(dir, '/');
    const char *values[] = {fin, best, epoch, slash ? slash + 1 : dir, recall};
    uf_run_add_row(ctx, coords, values);
    return 0;
}

/* ---- report ---- */

enum { MAX_SEEDS = 64 };

/* A cell's final_top1 per seed (every axis but seed fixed by coords): v[s] for the seed axis's s-th
 * value, have[s] = 1 where the table has it. */
typedef struct seeds {
    int n;
    double v[MAX_SEEDS];
    unsigned char have[MAX_SEEDS];
} seeds;

static seeds cell_seeds(const uf_run_ctx *ctx, const int *coords, int seed_axis)
{
    const uf_manifest *m = ctx->m;
    const uf_table *t = &ctx->table;
    seeds out = {.n = seed_axis >= 0 ? m->axes[seed_axis].n : 1};
    for (int r = 0; r < t->nrows; r++) {
        int a = 0, s = 0;
        for (; a < m->naxes; a++) {
            const char *v = uf_table_at(t, r, 1 + a);
            if (a != seed_axis && strcmp(v, m->axes[a].values[coords[a]]) != 0)
                break;
            if (a == seed_axis)
                while (s < out.n && strcmp(v, m->axes[a].values[s]) != 0)
                    s++;
        }
        if (a == m->naxes && s < out.n && s < MAX_SEEDS)
            out.v[s] = atof(uf_table_at(t, r, 1 + m->naxes)), out.have[s] = 1;
    }
    return out;
}

/* Paired difference a - b, seed by seed (only seeds both have). */
static seeds seeds_minus(const seeds *a, const seeds *b)
{
    seeds d = {.n = a->n};
    for (int s = 0; s < a->n && s < MAX_SEEDS; s++)
        if (a->have[s] && b->have[s])
            d.v[s] = a->v[s] - b->v[s], d.have[s] = 1;
    return d;
}

typedef struct stats {
    int n;
    double mean, sd, best;
} stats;

static stats stats_of(const seeds *x)
{
    stats st = {0};
    for (int s = 0; s < x->n && s < MAX_SEEDS; s++)
        if (x->have[s]) {
            st.best = st.n == 0 || x->v[s] > st.best ? x->v[s] : st.best;
            st.mean += x->v[s], st.n++;
        }
    if (st.n == 0)
        return st;
    st.mean /= st.n;
    for (int s = 0; s < x->n && s < MAX_SEEDS; s++)
        if (x->have[s])
            st.sd += (x->v[s] - st.mean) * (x->v[s] - st.mean) / (st.n > 1 ? st.n - 1 : 1);
    st.sd = sqrt(st.sd);
    return st;
}

/* A cell's name: the values of the axes with more than one value (seed excluded), joined by '/';
 * avg_axis's value reads "average" (the average row). */
static void cell_key(const uf_manifest *m, const int *coords, int seed_axis, int avg_axis, char *key, size_t n)
{
    size_t k = 0;
    key[0] = '\0';
    for (int a = 0; a < m->naxes; a++)
        if (a != seed_axis && m->axes[a].n > 1 && k < n)
            k += (size_t)snprintf(key + k, n - k, "%s%s", k ? "/" : "",
                                  a == avg_axis ? "average" : m->axes[a].values[coords[a]]);
}

/* The paper's number for a cell: [paper] key = the cell's name (cell_key). */
static double paper_value(const uf_manifest *m, const int *coords, int seed_axis, int avg_axis)
{
    char key[1024];
    cell_key(m, coords, seed_axis, avg_axis, key, sizeof key);
    const char *v = uf_manifest_raw(m, "paper", key);
    return v ? atof(v) : NAN;
}

/* How the report is laid out: rows and cols axes, the seed axis, the baseline column (-1: none). */
typedef struct layout {
    int rows, cols, seed, baseline, average;
} layout;

/* The seeds of a cell; with avg set, the mean over the rows axis, seed by seed. */
static seeds layout_seeds(const uf_run_ctx *ctx, const layout *l, int *coords, int avg)
{
    if (!avg)
        return cell_seeds(ctx, coords, l->seed);
    int keep = coords[l->rows], nr = ctx->m->axes[l->rows].n;
    seeds sum = {0};
    for (int r = 0; r < nr; r++) {
        coords[l->rows] = r;
        seeds one = cell_seeds(ctx, coords, l->seed);
        sum.n = one.n;
        for (int s = 0; s < one.n && s < MAX_SEEDS; s++) {
            sum.have[s] = (r == 0 || sum.have[s]) && one.have[s];
            sum.v[s] += one.v[s] / nr;
        }
    }
    coords[l->rows] = keep;
    return sum;
}

static void print_cell(FILE *md, const uf_run_ctx *ctx, const layout *l, int *coords, int avg)
{
    const uf_manifest *m = ctx->m;
    seeds v = layout_seeds(ctx, l, coords, avg);
    stats st = stats_of(&v);
    double paper = paper_value(m, coords, l->seed, avg ? l->rows : -1);
    if (st.n == 0) {
        fprintf(md, " – |");
        return;
    }
    fprintf(md, " %.2f ± %.2f (best %.2f)", st.mean, st.sd, st.best);
    if (l->baseline >= 0 && coords[l->cols] != l->baseline) {
        int col = coords[l->cols];
        coords[l->cols] = l->baseline;
        seeds b = layout_seeds(ctx, l, coords, avg);
        double paper_base = paper_value(m, coords, l->seed, avg ? l->rows : -1);
        coords[l->cols] = col;
        seeds d = seeds_minus(&v, &b);
        stats gain = stats_of(&d);
        if (gain.n)
            fprintf(md, "; Δ %+.2f ± %.2f", gain.mean, gain.sd);
        if (!isnan(paper) && !isnan(paper_base))
            fprintf(md, " [paper %.2f, Δ %+.2f]", paper, paper - paper_base);
        else if (!isnan(paper))
            fprintf(md, " [paper %.2f]", paper);
    } else if (!isnan(paper)) {
        fprintf(md, " [paper %.2f]", paper);
    }
    fprintf(md, " |");
}

static void print_table(FILE *md, const uf_run_ctx *ctx, const layout *l, int *coords)
{
    const uf_manifest *m = ctx->m;
    fprintf(md, "| %s \\ %s |", m->axes[l->rows].name, m->axes[l->cols].name);
    for (int c = 0; c < m->axes[l->cols].n; c++)
        fprintf(md, " %s |", m->axes[l->cols].values[c]);
    fprintf(md, "\n|---|");
    for (int c = 0; c < m->axes[l->cols].n; c++)
        fprintf(md, "---:|");
    fprintf(md, "\n");
    for (int r = 0; r < m->axes[l->rows].n + l->average; r++) {
        int avg = r == m->axes[l->rows].n;
        coords[l->rows] = avg ? 0 : r;
        fprintf(md, "| %s%s%s |", avg ? "**" : "", avg ? "average" : m->axes[l->rows].values[r], avg ? "**" : "");
        for (int c = 0; c < m->axes[l->cols].n; c++) {
            coords[l->cols] = c;
            print_cell(md, ctx, l, coords, avg);
        }
        fprintf(md, "\n");
    }
}

static int table_has_data(const uf_run_ctx *ctx, const layout *l, int *coords)
{
    int n = 0;
    for (int r = 0; r < ctx->m->axes[l->rows].n && !n; r++)
        for (int c = 0; c < ctx->m->axes[l->cols].n && !n; c++) {
            coords[l->rows] = r, coords[l->cols] = c;
            seeds v = cell_seeds(ctx, coords, l->seed);
            n = stats_of(&v).n;
        }
    coords[l->rows] = coords[l->cols] = 0;
    return n > 0;
}

static int read_layout(const uf_manifest *m, layout *l, uf_err *e)
{
    l->rows = uf_manifest_axis(m, uf_manifest_meta(m, "rows", ""));
    l->cols = uf_manifest_axis(m, uf_manifest_meta(m, "cols", ""));
    l->seed = uf_manifest_axis(m, "seed");
    l->average = strcmp(uf_manifest_meta(m, "average", "no"), "yes") == 0;
    l->baseline = -1;
    if (l->rows < 0 || l->cols < 0 || l->rows == l->cols || l->rows == l->seed || l->cols == l->seed)
        return uf_fail(e, "%s: [experiment] rows and cols must name two different grid axes other than seed", m->path);
    if (l->seed >= 0 && m->axes[l->seed].n > MAX_SEEDS)
        return uf_fail(e, "%s: at most %d seeds", m->path, MAX_SEEDS);
    const char *base = uf_manifest_meta(m, "baseline", NULL);
    for (int c = 0; base && c < m->axes[l->cols].n; c++)
        if (strcmp(m->axes[l->cols].values[c], base) == 0)
            l->baseline = c;
    if (base && l->baseline < 0)
        return uf_fail(e, "%s: baseline = %s is not a value of the cols axis %s", m->path, base, m->axes[l->cols].name);
    return 0;
}

/* One table per combination of the axes other than rows, cols and seed. */
static int finetune_report(const uf_run_ctx *ctx, FILE *md, uf_err *e)
{
    const uf_manifest *m = ctx->m;
    layout l;
    if (read_layout(m, &l, e))
        return -1;
    int nseeds = l.seed >= 0 ? m->axes[l.seed].n : 1, coords[UF_MAX_AXES];
    fprintf(md, "\nTop-1 accuracy (%%) after the last epoch: mean ± standard deviation over %d seed%s, the best "
                "seed beside it%s%s.\n",
            nseeds, nseeds > 1 ? "s" : "",
            l.baseline >= 0 ? "; Δ: the gain over the baseline column, mean ± sd of the paired seeds' differences" : "",
            uf_manifest_raw(m, "paper", NULL) ? "; the paper's number (and gain) in brackets" : "");
    long njobs = uf_manifest_njobs(m);
    for (long j = 0; j < njobs; j++) {
        uf_manifest_job(m, j, coords);
        if (coords[l.rows] || coords[l.cols] || (l.seed >= 0 && coords[l.seed]) || !table_has_data(ctx, &l, coords))
            continue; /* a table of skipped cells says nothing */
        int heading = 0;
        for (int a = 0; a < m->naxes; a++)
            if (a != l.rows && a != l.cols && a != l.seed && m->axes[a].n > 1) {
                fprintf(md, heading ? ", %s %s" : "\n### %s %s", m->axes[a].name, m->axes[a].values[coords[a]]);
                heading = 1;
            }
        fprintf(md, "\n");
        print_table(md, ctx, &l, coords);
    }
    return uf_claims_report(ctx, "final_top1", md, e);
}

/* A line per cell (every axis but seed): its axis values, n, mean, sd, best, and the paired gain
 * over the baseline column (empty for the baseline and without one): what the figures plot. */
static int finetune_summary(const uf_run_ctx *ctx, FILE *out, uf_err *e)
{
    const uf_manifest *m = ctx->m;
    layout l;
    if (read_layout(m, &l, e))
        return -1;
    int coords[UF_MAX_AXES];
    for (int a = 0; a < m->naxes; a++)
        if (a != l.seed)
            fprintf(out, "%s\t", m->axes[a].name);
    fprintf(out, "n\tmean\tsd\tbest\tgain\tgain_sd\n");
    long njobs = uf_manifest_njobs(m);
    for (long j = 0; j < njobs; j++) {
        uf_manifest_job(m, j, coords);
        if (l.seed >= 0 && coords[l.seed])
            continue;
        for (int a = 0; a < m->naxes; a++)
            if (a != l.seed)
                fprintf(out, "%s\t", m->axes[a].values[coords[a]]);
        seeds v = cell_seeds(ctx, coords, l.seed);
        stats st = stats_of(&v);
        fprintf(out, "%d\t%.4f\t%.4f\t%.2f\t", st.n, st.mean, st.sd, st.best);
        stats g = {0};
        if (l.baseline >= 0 && coords[l.cols] != l.baseline) {
            int col = coords[l.cols];
            coords[l.cols] = l.baseline;
            seeds b = cell_seeds(ctx, coords, l.seed), d = seeds_minus(&v, &b);
            coords[l.cols] = col;
            g = stats_of(&d);
        }
        if (g.n) /* no gain for the baseline itself, nor without a seed both cells have */
            fprintf(out, "%.4f\t%.4f\n", g.mean, g.sd);
        else
            fprintf(out, "\t\n");
    }
    return 0;
}

/* --check: each cell's best seed (the paper reports the best of 3 runs) against its [paper] number,
 * within the tier's `tolerance` setting (points of top-1). A tier without one (the mini tier, whose
 * targets only stand in for the paper's) has nothing to check. [paper] may hold other tiers' cells:
 * only this tier's are compared. */
static int finetune_check(const uf_run_ctx *ctx, FILE *out, int *mismatches, uf_err *e)
{
    const uf_manifest *m = ctx->m;
    int coords[UF_MAX_AXES] = {0}, seed = uf_manifest_axis(m, "seed"), found = 0, bad = 0;
    double tol;
    *mismatches = 0;
    if (uf_job_double(m, coords, "tolerance", NAN, &tol, e))
        return -1;
    if (isnan(tol)) {
        fprintf(out, "%s: tier %s is not the paper's setting (no tolerance): nothing to check\n",
                uf_manifest_meta(m, "name", "?"), m->tier);
        return 0;
    }
    for (long j = 0, n = uf_manifest_njobs(m); j < n; j++) {
        uf_manifest_job(m, j, coords);
        double paper = seed >= 0 && coords[seed] ? NAN : paper_value(m, coords, seed, -1);
        if (isnan(paper))
            continue;
        seeds v = cell_seeds(ctx, coords, seed);
        stats st = stats_of(&v);
        found++;
        if (st.n > 0 && fabs(st.best - paper) <= tol)
            continue;
        char cell[512];
        cell_key(m, coords, seed, -1, cell, sizeof cell);
        fprintf(out, "MISMATCH %s top-1: ours %.2f (best of %d), paper %.2f (tolerance %g)\n", cell, st.best, st.n,
                paper, tol);
        bad++;
    }
    fprintf(out, "%s: %d of %d values match the paper (best seed, tolerance %g points)\n",
            uf_manifest_meta(m, "name", "?"), found - bad, found, tol);
    *mismatches = bad;
    return 0;
}

/* ---- plan ---- */

/* Settings that decide a run besides uotft finetune's own: they go into its plan key. */
static const char *const selection_keys[] = {"method", "units", "blocks", "block", "eps_c",
                                             "eps",    "tau1",  "tau2",   "gamma", "source_means"};
static int listed(const char *name, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(name, names[i]) == 0)
            return 1;
    return 0;
}

/* uotft finetune's settings that only matter with source data */
static int source_only(const char *name)
{
    static const char *const names[] = {"select", "top", "assign", "source-fraction"};
    return listed(name, names, sizeof names / sizeof names[0]);
}

/* ... and those that control how a run goes, not what it computes */
static int run_control(const char *name)
{
    static const char *const names[] = {"dump", "loader-threads", "ckpt-every", "stop-after", "keep-model"};
    return listed(name, names, sizeof names / sizeof names[0]);
}

/* Appends "key=value\n" for a setting the job has; returns -1 on a substitution error. */
static int key_text_add(const uf_manifest *m, const int *coords, const char *key, char *text, size_t cap, size_t *len,
                        char *value, size_t vcap, uf_err *e)
{
    int rc = uf_job_get(m, coords, key, 0, value, vcap, e);
    if (rc == 0 && *len < cap)
        *len += (size_t)snprintf(text + *len, cap - *len, "%s=%s\n", key, value);
    return rc < 0 ? -1 : rc;
}

/* "name=value\n" of a parsed setting: equal settings written differently ("1.0", "1", absent and
 * the default) give the same text. */
static size_t setting_text(const uf_finetune_cfg *c, const uf_ft_setting *s, char *text, size_t cap)
{
    const char *field = (const char *)c + s->offset;
    switch (s->type) {
    case UF_FT_INT: return (size_t)snprintf(text, cap, "%s=%d\n", s->name, *(const int *)field);
    case UF_FT_I64: return (size_t)snprintf(text, cap, "%s=%lld\n", s->name, (long long)*(const int64_t *)field);
    case UF_FT_DOUBLE: return (size_t)snprintf(text, cap, "%s=%.17g\n", s->name, *(const double *)field);
    case UF_FT_NAME: return (size_t)snprintf(text, cap, "%s=%s\n", s->name, field);
    default: return 0;
    }
}

/* The job's settings (inputs need not exist yet) as text for its plan key, parsed into c; the
 * selection's only when the run uses source data. Paths as written. */
static int plan_settings(const uf_manifest *m, const int *coords, int has_source, uf_finetune_cfg *c, char *text,
                         size_t cap, uf_err *e)
{
    size_t len = (size_t)snprintf(text, cap, "recipe=%s\n", uf_recipe_names[c->recipe]);
    char value[4096];
    for (size_t k = 0; has_source && k < sizeof selection_keys / sizeof selection_keys[0]; k++)
        if (key_text_add(m, coords, selection_keys[k], text, cap, &len, value, sizeof value, e) < 0)
            return -1;
    for (int k = 0; k < uf_finetune_nsettings; k++) {
        const uf_ft_setting *s = &uf_finetune_settings[k];
        char key[64];
        if (!has_source && source_only(s->name))
            continue;
        snprintf(key, sizeof key, "%s", s->name);
        for (char *p = key; *p; p++)
            *p = *p == '-' ? '_' : *p;
        int rc = s->type == UF_FT_PATH ? key_text_add(m, coords, key, text, cap, &len, value, sizeof value, e)
                                       : uf_job_get(m, coords, key, 0, value, sizeof value, e);
        if (rc < 0 || (rc == 0 && s->type != UF_FT_PATH && uf_finetune_set(c, s, value, e)))
            return uf_wrap(e, "%s: ", m->path);
        if (s->type != UF_FT_PATH && len < cap && !run_control(s->name))
            len += setting_text(c, s, text + len, cap - len);
    }
    return 0;
}

/* The architecture: the `arch` setting (a .pth backbone), else what the checkpoint names. */
static void plan_arch(const uf_manifest *m, const int *coords, const uf_finetune_cfg *c, char *arch, size_t n)
{
    char path[4096];
    uf_arch a;
    uf_head_spec heads[UF_MAX_HEADS];
    int nheads;
    uf_err ignored; /* no checkpoint yet: the plan says the cost is unknown */
    snprintf(arch, n, "%s", c->arch);
    if (!arch[0] && uf_job_path(m, coords, "backbone", path, sizeof path, &ignored) == 0 &&
        uf_ckpt_read_arch(path, &a, heads, &nheads, &ignored) == 0)
        snprintf(arch, n, "%s", a.name);
}

static int finetune_plan(uf_run_ctx *ctx, const int *coords, uf_job_plan *out, uf_err *e)
{
    const uf_manifest *m = ctx->m;
    char recipe[32], method[64] = "", text[16384], hex[65];
    uf_recipe r;
    uf_finetune_cfg c;
    if (uf_job_get(m, coords, "recipe", 1, recipe, sizeof recipe, e) ||
        uf_job_get(m, coords, "method", 0, method, sizeof method, e) < 0)
        return -1;
    if (uf_recipe_parse(recipe, &r))
        return uf_fail(e, "%s: unknown recipe '%s' (finetune, labelled, unlabelled, cotuning)", m->path, recipe);
    uf_finetune_defaults(&c, r);
    int has_source = (r == UF_RECIPE_LABELLED || r == UF_RECIPE_UNLABELLED) && strcmp(method, "none") != 0;
    if (plan_settings(m, coords, has_source, &c, text, sizeof text, e) || uf_sha256_mem(text, strlen(text), hex))
        return -1;
    memset(out, 0, sizeof *out);
    snprintf(out->key, sizeof out->key, "%.16s", hex);
    plan_arch(m, coords, &c, out->arch, sizeof out->arch);
    if (output_path(m, coords, "target_root", out->target_root, sizeof out->target_root, e))
        return -1;
    snprintf(out->target, sizeof out->target, "%s", c.target);
    out->seed = c.seed, out->size = c.size, out->epochs = c.epochs, out->batch = c.batch;
    out->source_batch = c.source_batch, out->eval_every = c.eval_every;
    out->target_fraction = c.target_fraction, out->val_fraction = c.val_fraction, out->keep_model = c.keep_model;
    out->source_views = has_source ? (r == UF_RECIPE_UNLABELLED ? 2 : 1) : 0;
    return uf_job_long(m, coords, "train_images", -1, &out->train_images, e) ||
                   uf_job_long(m, coords, "test_images", -1, &out->test_images, e)
               ? -1
               : 0;
}

const uf_task uf_task_finetune = {
    .name = "finetune",
    .ncols = 5,
    .cols = finetune_cols,
    .run_job = finetune_job,
    .report = finetune_report,
    .summary = finetune_summary,
    .check = finetune_check,
    .kept_on_disk = 1,
    .plan = finetune_plan,
};
