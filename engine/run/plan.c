/* uotft run --plan (plan.h). */
#include "plan.h"

#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/fileio.h"
#include "../core/parallel.h"
#include "../data/dataset.h"
#include "../train/throughput.h"
#include "prepare.h"
#include "task.h"

enum { MAX_STAGES = 64 };

typedef struct plan_run {
    uf_job_plan p;
    char manifest[64], cell[512];
    double train_images, eval_images; /* through a training step, through evaluation */
} plan_run;

typedef struct rate {
    char arch[64];
    int size, train;
    uf_throughput t;
} rate;

typedef struct split_sizes {
    char target[32], root[4096];
    uint64_t seed;
    long train, test; /* -1: not there to be listed */
} split_sizes;

typedef struct plan {
    plan_run *runs;
    int nruns;
    long jobs; /* every job, the repeated ones included */
    rate *rates;
    int nrates;
    split_sizes *sizes;
    int nsizes;
    uf_plan_stage stages[MAX_STAGES];
    int nstages;
    char prepared[8][32]; /* preparations already listed */
    int nprepared;
    int keys_only; /* the runs' keys alone: no preparation stages */
    /* the manifest being read */
    uf_run_ctx *ctx;
    const uf_task *task;
} plan;

/* ---- collecting the jobs ---- */

static void cell_of(const uf_manifest *m, const int *coords, char *buf, size_t n)
{
    size_t k = 0;
    buf[0] = '\0';
    for (int a = 0; a < m->naxes && k < n; a++)
        if (m->axes[a].n > 1)
            k += (size_t)snprintf(buf + k, n - k, "%s%s=%s", k ? " " : "", m->axes[a].name,
                                  m->axes[a].values[coords[a]]);
}

static int add_job(void *vp, const int *coords, uf_err *e)
{
    plan *pl = vp;
    uf_job_plan jp;
    pl->jobs++;
    if (pl->task->plan(pl->ctx, coords, &jp, e))
        return -1;
    for (int i = 0; i < pl->nruns; i++)
        if (strcmp(pl->runs[i].p.key, jp.key) == 0)
            return 0;
    plan_run *grown = uf_realloc(pl->runs, (size_t)pl->nruns + 1, sizeof *pl->runs, e);
    if (!grown)
        return -1;
    pl->runs = grown;
    plan_run *r = &pl->runs[pl->nruns++];
    memset(r, 0, sizeof *r);
    r->p = jp;
    snprintf(r->manifest, sizeof r->manifest, "%s", uf_manifest_meta(pl->ctx->m, "name", ""));
    cell_of(pl->ctx->m, coords, r->cell, sizeof r->cell);
    return 0;
}

/* The tier's preparation, once per plan. */
static int add_preparation(plan *pl, const uf_manifest *m, uf_err *e)
{
    int coords[UF_MAX_AXES] = {0};
    char name[32];
    int rc = uf_job_get(m, coords, "prepare", 0, name, sizeof name, e);
    if (rc)
        return rc < 0 ? -1 : 0;
    for (int i = 0; i < pl->nprepared; i++)
        if (strcmp(pl->prepared[i], name) == 0)
            return 0;
    if (pl->nprepared < 8)
        snprintf(pl->prepared[pl->nprepared++], sizeof pl->prepared[0], "%s", name);
    int n = 0;
    if (uf_prepare_plan(name, m, pl->stages + pl->nstages, MAX_STAGES - pl->nstages, &n, e))
        return -1;
    pl->nstages += n;
    return 0;
}

static int add_manifest(plan *pl, const char *path, const uf_run_opts *o, uf_err *e)
{
    uf_manifest m;
    if (uf_manifest_load(path, o->tier, &m, e))
        return -1;
    int rc = 0;
    for (int i = 0; i < o->nset && !rc; i++)
        rc = uf_manifest_set(&m, o->set[i], e);
    uf_run_ctx ctx = {.m = &m};
    pl->ctx = &ctx;
    pl->task = uf_task_find(uf_manifest_meta(&m, "task", ""));
    if (!rc && !pl->keys_only)
        rc = add_preparation(pl, &m, e);
    if (!rc && pl->task && pl->task->plan)
        rc = uf_run_each_job(&m, o->sample, add_job, pl, e);
    uf_inputs_free(&ctx.inputs);
    uf_manifest_free(&m);
    return rc;
}

/* ---- costs ---- */

/* Images per second of arch at size (train or eval), measured once per plan; NULL if unknown. */
static const rate *rate_of(plan *pl, const char *arch_name, int size, int train, uf_err *e)
{
    for (int i = 0; i < pl->nrates; i++)
        if (strcmp(pl->rates[i].arch, arch_name) == 0 && pl->rates[i].size == size && pl->rates[i].train == train)
            return &pl->rates[i];
    uf_arch a;
    rate *grown = uf_realloc(pl->rates, (size_t)pl->nrates + 1, sizeof *pl->rates, e);
    if (!grown || uf_arch_parse(arch_name, &a, e))
        return NULL;
    pl->rates = grown;
    rate *r = &pl->rates[pl->nrates];
    snprintf(r->arch, sizeof r->arch, "%s", arch_name);
    r->size = size, r->train = train;
    /* a few small batches: the rate per image changes little with the batch, and a 224 px
     * ResNet-50 step of the paper's 512 images would take minutes here */
    int batch = size >= 160 ? 4 : size >= 64 ? 16 : 64;
    fprintf(stderr, "[plan] measuring %s %s at %d px, batch %d, %d threads\n", train ? "training" : "inference",
            arch_name, size, batch, uf_threads());
    if (uf_measure_throughput(&a, train, batch, size, 2, &r->t, e))
        return NULL;
    pl->nrates++;
    return r;
}

/* Train and test split sizes of a target (listed once per plan). */
static const split_sizes *sizes_of(plan *pl, const uf_job_plan *jp, uf_err *e)
{
    uint64_t seed = strcmp(jp->target, "caltech101") == 0 ? jp->seed : 0; /* the only drawn split */
    for (int i = 0; i < pl->nsizes; i++) {
        const split_sizes *s = &pl->sizes[i];
        if (strcmp(s->target, jp->target) == 0 && strcmp(s->root, jp->target_root) == 0 && s->seed == seed)
            return s;
    }
    split_sizes *grown = uf_realloc(pl->sizes, (size_t)pl->nsizes + 1, sizeof *pl->sizes, e);
    if (!grown)
        return NULL;
    pl->sizes = grown;
    split_sizes *s = &pl->sizes[pl->nsizes++];
    snprintf(s->target, sizeof s->target, "%s", jp->target);
    snprintf(s->root, sizeof s->root, "%s", jp->target_root);
    s->seed = seed;
    /* -1, not there yet: the manifest's train_images / test_images stand in */
    s->train = uf_dataset_count(jp->target, jp->target_root, "train", seed);
    s->test = s->train < 0 ? -1 : uf_dataset_count(jp->target, jp->target_root, "test", seed);
    return s;
}

/* Images through training and evaluation; 0 when the split sizes are unknown. */
static void run_images(plan_run *r, long train, long test)
{
    const uf_job_plan *p = &r->p;
    double n = (double)train * (p->target_fraction > 0 ? p->target_fraction : 1);
    double evaluated = test;
    if (p->val_fraction > 0)
        evaluated = n * p->val_fraction, n -= evaluated;
    long steps = (long)(n / p->batch);
    int evals = (p->epochs - 1) / p->eval_every + 1 + ((p->epochs - 1) % p->eval_every != 0);
    r->train_images = (double)p->epochs * (double)steps * (p->batch + p->source_batch * p->source_views);
    r->eval_images = (double)evals * evaluated;
}

/* Core-seconds of images through arch at size, or -1 when unknown. */
static double core_seconds(plan *pl, const char *arch, int size, int train, double images, uf_err *e)
{
    if (!arch[0] || images <= 0)
        return images <= 0 ? 0 : -1;
    const rate *r = rate_of(pl, arch, size, train, e);
    return r ? images / r->t.images_per_s * uf_threads() : -2;
}

/* ---- printing ---- */

static void print_bytes(FILE *out, double b)
{
    if (b <= 0)
        fprintf(out, "%9s", "-");
    else if (b < 1e9)
        fprintf(out, "%6.0f MB", b / 1e6);
    else
        fprintf(out, "%6.1f GB", b / 1e9);
}

static void print_row(FILE *out, const char *what, const char *cell, const char *arch, int size, double images,
                      double core_s, double disk)
{
    fprintf(out, "%-12s %-46s %-10s %4d %12.0f ", what, cell, arch[0] ? arch : "?", size, images);
    if (core_s < 0)
        fprintf(out, "%10s ", "?");
    else
        fprintf(out, "%10.3f ", core_s / 3600);
    print_bytes(out, disk);
    fputc('\n', out);
}

typedef struct totals {
    double core_s, disk;
    int unknown;
    double prepare_core_s, run_core_s_max; /* for uotft slurm's time limits */
    int prepare_unknown;
} totals;

static int print_stages(plan *pl, FILE *out, totals *t, uf_err *e)
{
    double sgemm = pl->nstages ? uf_sgemm_gflops() : 0;
    for (int i = 0; i < pl->nstages; i++) {
        const uf_plan_stage *s = &pl->stages[i];
        double cs = core_seconds(pl, s->arch, s->size, 0, s->images, e);
        if (cs < -1.5)
            return -1;
        if (cs >= 0 && s->gflop > 0)
            cs += sgemm > 0 ? s->gflop / sgemm * uf_threads() : 0;
        print_row(out, "prepare", s->what, s->arch, s->size, s->images, cs, s->disk_bytes);
        t->unknown += cs < 0;
        t->core_s += cs > 0 ? cs : 0, t->disk += s->disk_bytes;
        t->prepare_core_s += cs > 0 ? cs : 0, t->prepare_unknown += cs < 0;
    }
    return 0;
}

static int print_runs(plan *pl, FILE *out, totals *t, uf_err *e)
{
    for (int i = 0; i < pl->nruns; i++) {
        plan_run *r = &pl->runs[i];
        const split_sizes *s = sizes_of(pl, &r->p, e);
        if (!s)
            return -1;
        long train = s->train >= 0 ? s->train : r->p.train_images, test = s->test >= 0 ? s->test : r->p.test_images;
        double cs = -1, disk = 0;
        if (train >= 0 && test >= 0) {
            run_images(r, train, test);
            double a = core_seconds(pl, r->p.arch, r->p.size, 1, r->train_images, e);
            double b = a < 0 ? 0 : core_seconds(pl, r->p.arch, r->p.size, 0, r->eval_images, e);
            if (a < -1.5 || b < -1.5)
                return -1;
            cs = a < 0 || b < 0 ? -1 : a + b;
        }
        const rate *rt = r->p.arch[0] ? rate_of(pl, r->p.arch, r->p.size, 1, e) : NULL;
        if (r->p.arch[0] && !rt)
            return -1;
        disk = rt && r->p.keep_model ? (double)rt->t.params * 4 : 0; /* the trained model (model.ckpt) */
        char what[600];
        snprintf(what, sizeof what, "%s %s", r->p.key, r->cell);
        print_row(out, r->manifest, what, r->p.arch, r->p.size, r->train_images + r->eval_images, cs, disk);
        t->unknown += cs < 0;
        t->core_s += cs > 0 ? cs : 0, t->disk += disk;
        t->run_core_s_max = cs > t->run_core_s_max ? cs : t->run_core_s_max;
    }
    return 0;
}

static void print_totals(const plan *pl, const totals *t, FILE *out)
{
    fprintf(out, "# total: %d preparation stages and %d distinct runs (%ld jobs): %.1f core-hours, ", pl->nstages,
            pl->nruns, pl->jobs, t->core_s / 3600);
    print_bytes(out, t->disk);
    fprintf(out, " kept%s\n", t->unknown ? "; some costs unknown (?): not counted" : "");
    static const int cores[] = {2, 16, 64, 256};
    fprintf(out, "# wall time if the work spread perfectly:");
    for (int i = 0; i < 4; i++)
        fprintf(out, " %d cores %.1f h%s", cores[i], t->core_s / 3600 / cores[i], i < 3 ? "," : "\n");
    fprintf(out, "# rates measured here at %d threads (core-hours = seconds x threads):\n", uf_threads());
    for (int i = 0; i < pl->nrates; i++)
        fprintf(out, "#   %s %-10s %4d px  %9.1f images/s  %7.1f GFLOP/s\n", pl->rates[i].train ? "train" : "infer",
                pl->rates[i].arch, pl->rates[i].size, pl->rates[i].t.images_per_s, pl->rates[i].t.gflops);
}

int uf_run_plan(char *const *paths, int n, const uf_run_opts *o, FILE *out, uf_err *e)
{
    return uf_run_plan_summary(paths, n, o, out, NULL, e);
}

int uf_run_plan_summary(char *const *paths, int n, const uf_run_opts *o, FILE *out, uf_plan_summary *s, uf_err *e)
{
    plan pl;
    memset(&pl, 0, sizeof pl);
    int rc = 0;
    for (int i = 0; i < n && !rc; i++)
        rc = add_manifest(&pl, paths[i], o, e);
    totals t = {0};
    if (!rc) {
        fprintf(out, "# uotft run --plan, tier %s\n", o->tier);
        fprintf(out, "%-12s %-46s %-10s %4s %12s %10s %9s\n", "# stage", "what (run: its settings' hash, cell)", "arch",
                "px", "images", "core-h", "disk");
        rc = print_stages(&pl, out, &t, e) || print_runs(&pl, out, &t, e) ? -1 : 0;
    }
    if (!rc)
        print_totals(&pl, &t, out);
    if (!rc && s)
        *s = (uf_plan_summary){.nruns = pl.nruns, .jobs = pl.jobs, .prepare_core_s = t.prepare_core_s,
                               .run_core_s_max = t.run_core_s_max, .prepare_unknown = t.prepare_unknown,
                               .runs_unknown = t.unknown - t.prepare_unknown};
    free(pl.runs), free(pl.rates), free(pl.sizes);
    return rc;
}

int uf_run_distinct(char *const *paths, int n, const uf_run_opts *o, uf_run_keys *out, uf_err *e)
{
    plan pl;
    memset(&pl, 0, sizeof pl);
    pl.keys_only = 1;
    memset(out, 0, sizeof *out);
    int rc = 0;
    for (int i = 0; i < n && !rc; i++)
        rc = add_manifest(&pl, paths[i], o, e);
    if (!rc && pl.nruns && !(out->key = uf_calloc((size_t)pl.nruns, sizeof *out->key, e)))
        rc = -1;
    for (int i = 0; !rc && i < pl.nruns; i++)
        memcpy(out->key[i], pl.runs[i].p.key, sizeof out->key[i]);
    out->n = rc ? 0 : pl.nruns;
    free(pl.runs);
    return rc;
}

int uf_run_keys_index(const uf_run_keys *k, const char *key)
{
    for (int i = 0; i < k->n; i++)
        if (strcmp(k->key[i], key) == 0)
            return i;
    return -1;
}

void uf_run_keys_free(uf_run_keys *k)
{
    free(k->key);
    k->key = NULL;
    k->n = 0;
}
