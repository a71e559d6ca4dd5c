#define _POSIX_C_SOURCE 200809L
#include "runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <time.h>

#include "../core/fileio.h"
#include "../core/parallel.h"
#include "../core/sha256.h"
#include "prepare.h"
#include "task.h"
#include "workers.h"

static const uf_task *const tasks[] = {&uf_task_recall, &uf_task_selection, &uf_task_probe, &uf_task_finetune};

const uf_task *uf_task_find(const char *name)
{
    for (size_t i = 0; i < sizeof tasks / sizeof tasks[0]; i++)
        if (strcmp(tasks[i]->name, name) == 0)
            return tasks[i];
    return NULL;
}

void uf_run_add_row(uf_run_ctx *ctx, const int *coords, const char *const *values)
{
    const uf_manifest *m = ctx->m;
    const char *row[1 + UF_MAX_AXES + 16];
    int k = 0;
    row[k++] = m->tier;
    for (int a = 0; a < m->naxes; a++)
        row[k++] = m->axes[a].values[coords[a]];
    int ntask = ctx->table.ncols - k - (ctx->overrides[0] != 0);
    for (int c = 0; c < ntask; c++)
        row[k + c] = values[c];
    if (ctx->overrides[0])
        row[k + ntask] = ctx->overrides;
    uf_table_add(&ctx->table, row);
}

/* The first line a shell command prints, or "" */
static void first_line(const char *cmd, char *buf, size_t n)
{
    FILE *p = popen(cmd, "r");
    buf[0] = '\0';
    if (p) {
        if (fgets(buf, (int)n, p))
            buf[strcspn(buf, "\n")] = '\0';
        pclose(p);
    }
}

/* The commit, "-dirty" when tracked files outside results/ and plots/ differ from it: a run
 * rewrites those folders itself, which says nothing about the code that made the numbers. */
static void code_version(const char *root, char *buf, size_t n)
{
    char cmd[4400], dirty[256];
    snprintf(cmd, sizeof cmd, "git -C '%s' rev-parse --short HEAD 2>/dev/null", root);
    first_line(cmd, buf, n);
    if (!buf[0]) {
        snprintf(buf, n, "unknown");
        return;
    }
    snprintf(cmd, sizeof cmd,
             "git -C '%s' status --porcelain --untracked-files=no -- . ':(exclude)results' ':(exclude)plots' "
             "2>/dev/null",
             root);
    first_line(cmd, dirty, sizeof dirty);
    if (dirty[0] && strlen(buf) + 7 < n)
        strcat(buf, "-dirty");
}

static int write_report(const uf_run_ctx *ctx, const uf_task *task, const char *path, const char *csv_name,
                        double wall, uf_err *e)
{
    const uf_manifest *m = ctx->m;
    uf_out o;
    if (uf_out_open(&o, path, e))
        return -1;
    char version[128], when[64];
    code_version(m->root, version, sizeof version);
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    int coords[UF_MAX_AXES] = {0};
    char title[1024];
    if (uf_job_get(m, coords, "title", 0, title, sizeof title, e) != 0) /* the tier's own title, if any */
        snprintf(title, sizeof title, "%s", uf_manifest_meta(m, "title", uf_manifest_meta(m, "name", "")));
    fprintf(o.f, "# %s\n\n", title);
    const char *notes = uf_manifest_meta(m, "notes", NULL);
    if (notes)
        fprintf(o.f, "%s\n", notes);
    if (task->report(ctx, o.f, e)) {
        uf_out_abort(&o);
        return -1;
    }
    /* the manifest as the project names it, whichever way it was given */
    const char *shown = strstr(m->path, "experiments/") ? strstr(m->path, "experiments/") : m->path;
    fprintf(o.f, "\n---\nTier `%s`, manifest `%s`, uotft %s, %d threads, %.1f s, %s. Data: `results/%s/%s.csv`.\n",
            m->tier, shown, version, uf_threads(), wall, when, m->tier, csv_name);
    if (ctx->overrides[0])
        fprintf(o.f, "\n**Not the manifest's own settings:** run with `--set %s`.\n", ctx->overrides);
    return uf_out_commit(&o, e);
}

/* gnuplot writes <tmp>.png and <tmp>.svg, renamed into place only when it succeeded. */
static int draw_plot(const uf_manifest *m, const char *script, const char *csv, const char *summary, const char *base,
                     uf_err *e)
{
    if (strchr(csv, '\'') || strchr(base, '\'') || strchr(script, '\'') || strchr(summary, '\''))
        return uf_fail(e, "%s: paths with quotes are not supported for plotting", script);
    char tmp[4300], cmd[17500], dir[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", base, (long)getpid());
    snprintf(dir, sizeof dir, "%s", base);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        if (uf_mkdirs(dir, e))
            return -1;
    }
    snprintf(cmd, sizeof cmd, "gnuplot -e \"csv='%s'; summary='%s'; out='%s'; tier='%s'\" '%s' 2>&1", csv, summary,
             tmp, m->tier, script);
    FILE *p = popen(cmd, "r");
    if (!p)
        return uf_fail(e, "cannot start gnuplot");
    char line[1024], msg[2048] = "";
    while (fgets(line, sizeof line, p))
        if (strlen(msg) + strlen(line) < sizeof msg)
            strcat(msg, line);
    int status = pclose(p);
    const char *ext[] = {"png", "svg"};
    int rc = 0;
    for (int i = 0; i < 2; i++) {
        char from[4400], to[4400];
        snprintf(from, sizeof from, "%s.%s", tmp, ext[i]);
        snprintf(to, sizeof to, "%s.%s", base, ext[i]);
        if (status != 0 || !uf_is_file(from)) {
            remove(from);
            rc = -1;
        } else if (rename(from, to) != 0) {
            rc = -1;
        }
    }
    if (rc)
        return uf_fail(e, "%s: gnuplot failed (is gnuplot-nox installed?)%s%s", script, msg[0] ? ":\n" : "", msg);
    return 0;
}

/* Keys that say where a tier's inputs and intermediate products live, not what is computed: the
 * products there are verified against the sha256 of their inputs (prepare_*.c), so moving them
 * (--set world=/tmp/mini) leaves the results as they are; and keep_model (a finished run's model kept
 * or not). */
static int is_location(const char *assignment)
{
    static const char *const keys[] = {"world", "pretrain", "committed", "features", "runs",
                                       "downloads", "recipes", "store", "keep_model"};
    size_t n = strcspn(assignment, "=");
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        if (strlen(keys[k]) == n && strncmp(assignment, keys[k], n) == 0)
            return 1;
    return 0;
}

/* The --set assignments that can change results, joined by "; " ("" when none). */
static void result_overrides(const uf_run_opts *o, char *buf, size_t n)
{
    size_t k = 0;
    buf[0] = '\0';
    for (int i = 0; i < o->nset && k < n; i++)
        if (!is_location(o->set[i]))
            k += (size_t)snprintf(buf + k, n - k, "%s%s", k ? "; " : "", o->set[i]);
}

/* <name>, or <name>.set-<hash of the overrides> when they change results and would otherwise
 * replace the manifest's own results in the project. */
static void output_name(const char *name, const char *overrides, const uf_run_opts *o, char *buf, size_t n)
{
    char hex[65];
    if (!overrides[0] || o->out_root || uf_sha256_mem(overrides, strlen(overrides), hex))
        snprintf(buf, n, "%s", name);
    else
        snprintf(buf, n, "%s.set-%.8s", name, hex);
}

enum { MAX_SKIPS = 16 };

/* The jobs a run keeps: those whose axis values equal the `sample` setting's "axis=value ..."
 * (with --sample), and none of the `skip` setting's "axis=value ...; axis=value ..." (cells a grid
 * has but the experiment does not: Co-Tuning needs a classifier head MoCo lacks).
 * want[a] = value index, -1: any. */
typedef struct uf_job_filter {
    int want[UF_MAX_AXES];
    int nskip;
    int skip[MAX_SKIPS][UF_MAX_AXES];
} uf_job_filter;

/* "axis=value axis=value ..." into want[]: want[a] = value index, -1: any. Returns 1 for a skip cell (lenient) that names a value the tier's
 * axis does not have: it matches nothing (a shared skip list names targets some tiers lack). */
static int parse_cell(const uf_manifest *m, const char *key, char *spec, int lenient, int *want, uf_err *e)
{
    char *save = NULL;
    for (int a = 0; a < UF_MAX_AXES; a++)
        want[a] = -1;
    for (char *tok = strtok_r(spec, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
        char *eq = strchr(tok, '=');
        int a = 0, v = 0;
        if (eq)
            *eq = '\0';
        while (a < m->naxes && strcmp(m->axes[a].name, tok) != 0)
            a++;
        if (!eq || a == m->naxes)
            return uf_fail(e, "%s: %s: '%s' is not AXIS=VALUE for an axis of the grid", m->path, key, tok);
        while (v < m->axes[a].n && strcmp(m->axes[a].values[v], eq + 1) != 0)
            v++;
        if (v == m->axes[a].n)
            return lenient ? 1 : uf_fail(e, "%s: %s: %s has no value '%s'", m->path, key, tok, eq + 1);
        want[a] = v;
    }
    return 0;
}

static int job_filter(const uf_manifest *m, int sample, uf_job_filter *f, uf_err *e)
{
    int coords[UF_MAX_AXES] = {0};
    char spec[1024], *save = NULL;
    int rc = sample ? uf_job_get(m, coords, "sample", 1, spec, sizeof spec, e) : 0;
    f->nskip = 0;
    if (rc || parse_cell(m, "sample", sample ? spec : (char[]){""}, 0, f->want, e))
        return -1;
    if ((rc = uf_job_get(m, coords, "skip", 0, spec, sizeof spec, e)) != 0)
        return rc < 0 ? -1 : 0;
    for (char *cell = strtok_r(spec, ";", &save); cell; cell = strtok_r(NULL, ";", &save)) {
        if (cell[strspn(cell, " \t")] == '\0') /* "{skip_{scale}}" may add nothing */
            continue;
        if (f->nskip == MAX_SKIPS)
            return uf_fail(e, "%s: skip: more than %d cells", m->path, MAX_SKIPS);
        char copy[1024];
        snprintf(copy, sizeof copy, "%s", cell);
        int none = parse_cell(m, "skip", copy, 1, f->skip[f->nskip++], e);
        if (none < 0)
            return -1;
        f->nskip -= none;
    }
    return 0;
}

static int cell_matches(const int *want, const int *coords)
{
    for (int a = 0; a < UF_MAX_AXES; a++)
        if (want[a] >= 0 && coords[a] != want[a])
            return 0;
    return 1;
}

static int filter_matches(const uf_job_filter *f, const int *coords)
{
    for (int k = 0; k < f->nskip; k++)
        if (cell_matches(f->skip[k], coords))
            return 0;
    return cell_matches(f->want, coords);
}

static long count_matching(const uf_manifest *m, const uf_job_filter *f)
{
    long n = 0, njobs = uf_manifest_njobs(m);
    int coords[UF_MAX_AXES];
    for (long j = 0; j < njobs; j++) {
        uf_manifest_job(m, j, coords);
        n += filter_matches(f, coords);
    }
    return n;
}

int uf_run_each_job(const uf_manifest *m, int sample, uf_job_fn fn, void *ctx, uf_err *e)
{
    uf_job_filter f;
    int coords[UF_MAX_AXES];
    if (job_filter(m, sample, &f, e))
        return -1;
    for (long j = 0, n = uf_manifest_njobs(m); j < n; j++) {
        uf_manifest_job(m, j, coords);
        if (filter_matches(&f, coords) && fn(ctx, coords, e))
            return -1;
    }
    return 0;
}

/* The manifest for o's tier with o's --set assignments applied. */
static int load_manifest(const char *path, const uf_run_opts *o, uf_manifest *m, uf_err *e)
{
    if (uf_manifest_load(path, o->tier, m, e))
        return -1;
    for (int i = 0; i < o->nset; i++)
        if (uf_manifest_set(m, o->set[i], e)) {
            uf_wrap(e, "--set: ");
            uf_manifest_free(m);
            return -1;
        }
    return 0;
}

long uf_run_count_jobs(const char *path, const uf_run_opts *o, uf_err *e)
{
    uf_manifest m;
    uf_job_filter f;
    if (load_manifest(path, o, &m, e)) /* --set seed=0 or scale=tiny change what runs */
        return -1;
    long n = job_filter(&m, o->sample, &f, e) ? -1 : count_matching(&m, &f);
    uf_manifest_free(&m);
    return n;
}

/* "[name 3/60] axis=value ...  12.0 s, ETA 230 s", and the whole invocation's count and ETA when
 * it runs more than this manifest (a shard counts its workers' jobs as its own times their number).
 * Finished runs found again count as done: the ETA then falls. */
static void progress(const uf_run_opts *o, const char *name, long done, long total, const char *desc, double t0)
{
    double el = uf_now() - t0;
    int k = o->shard_n > 0 ? o->shard_n : 1;
    fprintf(stderr, "[%s", name);
    if (o->shard_n)
        fprintf(stderr, " shard %d/%d", o->shard_i, o->shard_n);
    fprintf(stderr, " %ld/%ld]%s  %.1f s, ETA %.0f s", done, total, desc, el, el / (double)done * (double)(total - done));
    if (o->total_jobs > total * k) {
        long all = o->done_jobs + done * k;
        double el_all = o->elapsed + el;
        all = all < o->total_jobs ? all : o->total_jobs;
        fprintf(stderr, "; all manifests %s%ld/%ld, %.0f s, ETA %.0f s", k > 1 ? "~" : "", all, o->total_jobs, el_all,
                el_all / (double)all * (double)(o->total_jobs - all));
    }
    fputc('\n', stderr);
}

/* Whether a job is this invocation's share (--shard I/N): its run is the k-th distinct run of the
 * invocation (o->keys) and k mod N = I. Jobs without a run of their own (selections, recall) belong
 * to no shard: the invocation that collects computes them. 1, 0, or -1 with e set. */
static int in_shard(uf_run_ctx *ctx, const uf_task *task, const uf_run_opts *o, const int *coords, uf_err *e)
{
    if (!o->shard_n)
        return 1;
    if (!task->plan)
        return 0;
    uf_job_plan jp;
    if (task->plan(ctx, coords, &jp, e))
        return -1;
    int k = o->keys ? uf_run_keys_index(o->keys, jp.key) : -1;
    if (k < 0)
        return uf_fail(e, "%s: run %s is not among the invocation's distinct runs", ctx->m->path, jp.key);
    return k % o->shard_n == o->shard_i;
}

/* The jobs this shard runs, for its progress line. */
static long count_shard(uf_run_ctx *ctx, const uf_task *task, const uf_run_opts *o, const uf_job_filter *f,
                        uf_err *e)
{
    int coords[UF_MAX_AXES];
    long n = 0;
    for (long j = 0, njobs = uf_manifest_njobs(ctx->m); j < njobs; j++) {
        uf_manifest_job(ctx->m, j, coords);
        int mine = filter_matches(f, coords) ? in_shard(ctx, task, o, coords, e) : 0;
        if (mine < 0)
            return -1;
        n += mine;
    }
    return n;
}

static int write_summary(const uf_run_ctx *ctx, const uf_task *task, const char *path, uf_err *e)
{
    uf_out o;
    if (uf_out_open(&o, path, e))
        return -1;
    if (task->summary(ctx, o.f, e)) {
        uf_out_abort(&o);
        return -1;
    }
    return uf_out_commit(&o, e);
}

/* One manifest's run, as uf_run_manifest's stages share it. */
typedef struct manifest_run {
    const char *path, *name;
    const uf_run_opts *o;
    const uf_task *task;
    uf_manifest m;
    uf_run_ctx ctx;  /* ctx.m points at m */
    char plot[4096]; /* the plot script, relative to the project; "" for none */
} manifest_run;

/* The tier's preparation (prepare.h), and the plot script: the tier's own, else the manifest's.
 * The plot setting is read first, so that a malformed one stops the run before its jobs. */
static int prepare_tier(manifest_run *r, uf_err *e)
{
    int coords[UF_MAX_AXES] = {0};
    char prep[64];
    int has_prep = uf_job_get(&r->m, coords, "prepare", 0, prep, sizeof prep, e);
    int has_plot = has_prep < 0 ? -1 : uf_job_get(&r->m, coords, "plot", 0, r->plot, sizeof r->plot, e);
    if (has_prep < 0 || has_plot < 0)
        return -1;
    if (has_plot)
        snprintf(r->plot, sizeof r->plot, "%s", uf_manifest_meta(&r->m, "plot", ""));
    int prep_shard = r->o->prepare_only ? r->o->shard_n : 0; /* the runs' shards need it whole */
    return has_prep == 0 ? uf_prepare(prep, &r->m, r->o->shard_i, prep_shard, e) : 0;
}

/* The results table's columns: tier, the grid's axes, the task's own, and overrides when any. */
static void init_table(manifest_run *r)
{
    const char *cols[1 + UF_MAX_AXES + 16];
    int nc = 0;
    cols[nc++] = "tier";
    for (int a = 0; a < r->m.naxes; a++)
        cols[nc++] = r->m.axes[a].name;
    for (int c = 0; c < r->task->ncols; c++)
        cols[nc++] = r->task->cols[c];
    if (r->ctx.overrides[0])
        cols[nc++] = "overrides";
    uf_table_init(&r->ctx.table, nc, cols);
}

/* Runs the jobs that are this invocation's (the filter, the shard), with a progress line each;
 * *seconds: the wall time, the workers' included. */
static int run_jobs(manifest_run *r, double *seconds, uf_err *e)
{
    const uf_run_opts *o = r->o;
    const uf_manifest *m = &r->m;
    uf_job_filter filter;
    long torun, nrun = 0;
    if (job_filter(m, o->sample, &filter, e) || (torun = count_matching(m, &filter)) < 0)
        return -1;
    double t0 = uf_now(); /* before the workers: the pass after them then shows the manifest's whole time */
    if (o->shard_n && (torun = count_shard(&r->ctx, r->task, o, &filter, e)) < 0)
        return -1;
    if (!o->shard_n && !o->collect && o->workers > 1 && r->task->kept_on_disk && torun > 1 &&
        uf_run_workers(r->path, o, e))
        return -1;
    int coords[UF_MAX_AXES];
    for (long j = 0, njobs = uf_manifest_njobs(m); j < njobs; j++) {
        uf_manifest_job(m, j, coords);
        int mine = filter_matches(&filter, coords) ? in_shard(&r->ctx, r->task, o, coords, e) : 0;
        if (mine < 0)
            return -1;
        if (!mine)
            continue;
        char desc[512] = "";
        for (int a = 0, k = 0; a < m->naxes; a++)
            if (m->axes[a].n > 1)
                k += snprintf(desc + k, sizeof desc - (size_t)k, " %s=%s", m->axes[a].name, m->axes[a].values[coords[a]]);
        if (r->task->run_job(&r->ctx, coords, e))
            return uf_wrap(e, "%s%s%s", r->name, desc[0] ? ", job" : "", desc);
        progress(o, r->name, ++nrun, torun, desc, t0);
    }
    *seconds = uf_now() - t0;
    return 0;
}

/* results/<tier>/<name>.csv, .md and .summary.tsv (when the task has one), then the plot. */
static int write_results(manifest_run *r, double wall, uf_err *e)
{
    const uf_run_opts *o = r->o;
    const uf_task *task = r->task;
    const char *root = o->out_root ? o->out_root : r->m.root;
    char csv[4200], md[4200], summary[4300], out_name[300];
    output_name(r->name, r->ctx.overrides, o, out_name, sizeof out_name);
    snprintf(csv, sizeof csv, "%s/results/%s/%s.csv", root, o->tier, out_name);
    snprintf(md, sizeof md, "%s/results/%s/%s.md", root, o->tier, out_name);
    snprintf(summary, sizeof summary, "%s/results/%s/%s.summary.tsv", root, o->tier, out_name);
    if (uf_table_write_csv(&r->ctx.table, csv, e) || write_report(&r->ctx, task, md, out_name, wall, e) ||
        (task->summary && write_summary(&r->ctx, task, summary, e)))
        return -1;
    fprintf(stderr, "[%s] wrote %s and %s\n", r->name, csv, md);
    if (!r->plot[0] || o->no_plot)
        return 0;
    char script[4200], base[4200];
    snprintf(script, sizeof script, "%s/%s", r->m.root, r->plot);
    /* the features tier's figures are the paper's own: plots/<name>; other tiers get a subfolder */
    if (strcmp(o->tier, "features") == 0)
        snprintf(base, sizeof base, "%s/plots/%s", root, out_name);
    else
        snprintf(base, sizeof base, "%s/plots/%s/%s", root, o->tier, out_name);
    if (draw_plot(&r->m, script, csv, task->summary ? summary : "", base, e))
        return -1;
    fprintf(stderr, "[%s] plotted %s.png and .svg\n", r->name, base);
    return 0;
}

/* --check: the task's comparison with the paper's values. */
static int check_results(manifest_run *r, int *mismatches, uf_err *e)
{
    if (!r->task->check)
        return uf_fail(e, "%s: task '%s' has no paper values to check", r->path, r->task->name);
    return r->task->check(&r->ctx, stdout, mismatches, e);
}

/* The jobs, then the results and --check, unless this is a shard: the invocation that collects
 * every shard writes the tables. */
static int run_and_report(manifest_run *r, int *mismatches, uf_err *e)
{
    r->ctx = (uf_run_ctx){.m = &r->m, .collect = r->o->collect};
    result_overrides(r->o, r->ctx.overrides, sizeof r->ctx.overrides);
    init_table(r);
    double wall = 0;
    int rc = run_jobs(r, &wall, e);
    if (rc == 0 && !r->o->shard_n)
        rc = write_results(r, wall, e) || (r->o->check && check_results(r, mismatches, e)) ? -1 : 0;
    uf_table_free(&r->ctx.table);
    uf_inputs_free(&r->ctx.inputs);
    return rc;
}

int uf_run_manifest(const char *path, const uf_run_opts *o, int *mismatches, uf_err *e)
{
    manifest_run r = {.path = path, .o = o};
    *mismatches = 0;
    if (load_manifest(path, o, &r.m, e))
        return -1;
    r.name = uf_manifest_meta(&r.m, "name", "");
    r.task = uf_task_find(uf_manifest_meta(&r.m, "task", ""));
    int rc = r.task ? prepare_tier(&r, e)
                    : uf_fail(e, "%s: unknown task '%s' (recall, selection, probe, finetune)", path,
                              uf_manifest_meta(&r.m, "task", ""));
    if (rc == 0 && !o->prepare_only)
        rc = run_and_report(&r, mismatches, e);
    uf_manifest_free(&r.m);
    return rc;
}
