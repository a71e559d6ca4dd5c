#define _POSIX_C_SOURCE 200809L
#include "finetune.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/dist.h"
#include "core/fileio.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "core/sha256.h"
#include "core/tsv.h"
#include "features/extract.h"
#include "ftdata.h"
#include "io/npy.h"
#include "io/torchsave.h"
#include "nn/loss.h"
#include "nn/weights.h"

const char *const uf_recipe_names[4] = {"finetune", "labelled", "unlabelled", "cotuning"};

int uf_recipe_parse(const char *s, uf_recipe *r)
{
    for (int k = 0; k < 4; k++)
        if (strcmp(s, uf_recipe_names[k]) == 0) {
            *r = (uf_recipe)k;
            return 0;
        }
    return -1;
}

void uf_finetune_defaults(uf_finetune_cfg *c, uf_recipe r)
{
    memset(c, 0, sizeof *c);
    c->recipe = r;
    c->source_fraction = c->target_fraction = 1;
    c->size = 224;
    c->epochs = 100;
    c->batch = c->source_batch = 256;
    c->eval_every = 10;
    c->eval_batch = 256;
    c->lr = 0.003;
    c->head_lr_mult = 10;
    c->momentum = 0.9;
    c->nesterov = 1;
    c->weight_decay = 1e-4;
    c->lambda = r == UF_RECIPE_COTUNING ? 2.3 : r == UF_RECIPE_FINETUNE ? 0 : 1;
    c->scale_min = 0.08;
    c->loader_threads = 2;
    c->keep_model = 1;
    c->bn_groups = 1;
}

#define F(field) offsetof(uf_finetune_cfg, field), sizeof(((uf_finetune_cfg *)0)->field)
const uf_ft_setting uf_finetune_settings[] = {
    {"backbone", UF_FT_PATH, F(backbone), 0, 0},         {"arch", UF_FT_NAME, F(arch), 0, 0},
    {"target", UF_FT_NAME, F(target), 0, 0},             {"target-root", UF_FT_PATH, F(target_root), 0, 0},
    {"source", UF_FT_NAME, F(source), 0, 0},             {"source-root", UF_FT_PATH, F(source_root), 0, 0},
    {"select", UF_FT_PATH, F(select), 0, 0},             {"top", UF_FT_INT, F(top), 0, 1e9},
    {"assign", UF_FT_PATH, F(assign), 0, 0},             {"source-fraction", UF_FT_DOUBLE, F(source_fraction), -1e9, 1e9},
    {"target-fraction", UF_FT_DOUBLE, F(target_fraction), -1e9, 1e9},
    {"longtail", UF_FT_DOUBLE, F(longtail), 0, 1e9},     {"val-fraction", UF_FT_DOUBLE, F(val_fraction), -1e9, 1e9},
    {"size", UF_FT_INT, F(size), 8, 4096},               {"epochs", UF_FT_INT, F(epochs), 1, 1e6},
    {"batch", UF_FT_INT, F(batch), 1, 65536},            {"source-batch", UF_FT_INT, F(source_batch), 1, 65536},
    {"eval-every", UF_FT_INT, F(eval_every), 1, 1e6},    {"eval-batch", UF_FT_INT, F(eval_batch), 1, 65536},
    {"lr", UF_FT_DOUBLE, F(lr), 0, 1e3},                 {"head-lr-mult", UF_FT_DOUBLE, F(head_lr_mult), 0, 1e6},
    {"momentum", UF_FT_DOUBLE, F(momentum), 0, 1},       {"wd", UF_FT_DOUBLE, F(weight_decay), 0, 1},
    {"lambda", UF_FT_DOUBLE, F(lambda), -1e9, 1e9},      {"scale-min", UF_FT_DOUBLE, F(scale_min), 1e-6, 1},
    {"nesterov", UF_FT_INT, F(nesterov), 0, 1},          {"no-flip", UF_FT_INT, F(no_flip), 0, 1},
    {"bn-groups", UF_FT_INT, F(bn_groups), 1, 65536},
    {"seed", UF_FT_I64, F(seed), 0, 4.6e18},             {"dump", UF_FT_PATH, F(dump), 0, 0},
    {"loader-threads", UF_FT_INT, F(loader_threads), 1, 256}, {"ckpt-every", UF_FT_INT, F(ckpt_every), 0, 1e9},
    {"stop-after", UF_FT_I64, F(stop_after), 1, 1e15},   {"keep-model", UF_FT_INT, F(keep_model), 0, 1},
};
#undef F
const int uf_finetune_nsettings = sizeof uf_finetune_settings / sizeof uf_finetune_settings[0];

/* A number in the setting's range: integers read exactly (strtoll), others as doubles. */
static int parse_number(const uf_ft_setting *s, const char *value, double *v, long long *i, uf_err *e)
{
    char *end;
    errno = 0;
    if (s->type == UF_FT_DOUBLE)
        *v = strtod(value, &end);
    else
        *v = (double)(*i = strtoll(value, &end, 10));
    if (end == value || *end || errno)
        return uf_fail(e, "--%s: '%s' is not %s", s->name, value, s->type == UF_FT_DOUBLE ? "a number" : "an integer");
    if (!(*v >= s->lo && *v <= s->hi))
        return uf_fail(e, "--%s must be in [%g, %g], not %s", s->name, s->lo, s->hi, value);
    return 0;
}

int uf_finetune_set(uf_finetune_cfg *c, const uf_ft_setting *s, const char *value, uf_err *e)
{
    char *field = (char *)c + s->offset;
    double v;
    long long i = 0;
    if (s->type == UF_FT_PATH) {
        *(const char **)field = value;
        return 0;
    }
    if (s->type == UF_FT_NAME) {
        if (strlen(value) >= s->size)
            return uf_fail(e, "--%s: '%s' is too long", s->name, value);
        strcpy(field, value);
        return 0;
    }
    if (parse_number(s, value, &v, &i, e))
        return -1;
    if (s->type == UF_FT_INT)
        *(int *)field = (int)i;
    else if (s->type == UF_FT_I64)
        *(int64_t *)field = i;
    else
        *(double *)field = v;
    return 0;
}

/* ---- the run ---- */

enum { EVAL_MAX = 4096 };

typedef struct eval_row {
    int epoch, correct, images;
} eval_row;

typedef struct ft {
    const uf_finetune_cfg *c;
    const char *dir;
    uf_ftdata d;
    uf_model m;
    uf_sgd opt;
    int ht, hs;              /* head indices: target, source (-1: none) */
    int kt, ks;              /* their outputs */
    int views;               /* source views in the joint batch: 0, 1 (labelled) or 2 (weak, strong) */
    uf_loader *lt, *lw, *ls; /* target, source weak, source strong */
    int64_t spe, sspe;       /* steps per target epoch; batches per pass over the source subset */
    int64_t src_next;        /* the source stream's next step (-1: not started) */
    int rank, ranks;         /* this process among the MPI job's (0 of 1 without MPI) */
    int groups;              /* BatchNorm groups of a step: the ranks, or bn_groups in one process */
    int ghost;               /* 1: one process trains the groups in turn (bn_groups > 1) */
    int bt, bs;              /* rows of one group: B / groups target, mu B / groups of each source view */
    int n;                   /* rows of one group's joint batch: bt + views * bs */
    float *x;                // (n, 3, S, S): [target | source weak | source strong] of one group
    int *y;                  // (n): target labels, then source labels (-1 without)
    float *wx;               // ghost: the whole joint batch (B + views mu B rows) the groups are cut from
    int *wy;
    float *gsum, *rstat;     // ghost: gradients summed over the groups; group 0's running statistics
    float *dt, *ds;          // (n, kt), (n, ks): gradients of the loss for each head's outputs
    float *soft;             // (n, max(kt, ks)): soft targets
    double *prob;            // (max(kt, ks)): one softmax row
    double *relation;        // (kt, ks): Co-Tuning's p(y_s | y_t)
    eval_row ev[EVAL_MAX];
    int nev;
} ft;

/* ---- settings ---- */

/* BatchNorm groups of one step: the MPI ranks, or --bn-groups in one process. */
static int step_groups(const uf_finetune_cfg *c)
{
    const int p = uf_dist_size();
    return p > 1 ? p : c->bn_groups > 1 ? c->bn_groups : 1;
}

static void note(const uf_finetune_cfg *c, const char *backbone_sum, const char *select_sum, char *buf, size_t n)
{
    snprintf(buf, n,
             "recipe=%s backbone=sha256:%.16s arch=%s target=%s source=%s select=sha256:%.16s top=%d clusters=%d "
             "source_fraction=%.17g target_fraction=%.17g longtail=%.17g val_fraction=%.17g size=%d epochs=%d "
             "batch=%d source_batch=%d eval_every=%d lr=%.17g head_lr_mult=%.17g momentum=%.17g wd=%.17g "
             "lambda=%.17g scale_min=%.17g nesterov=%d no_flip=%d seed=%llu",
             uf_recipe_names[c->recipe], backbone_sum, c->arch, c->target, c->source, select_sum, c->top,
             c->assign != NULL, c->source_fraction, c->target_fraction, c->longtail, c->val_fraction, c->size,
             c->epochs, c->batch, c->source_batch, c->eval_every, c->lr, c->head_lr_mult, c->momentum,
             c->weight_decay, c->lambda, c->scale_min, c->nesterov, c->no_flip, (unsigned long long)c->seed);
    /* only where it is not 1, so the notes (and checkpoints) of runs without groups stay as they were;
     * P ranks and --bn-groups P compute the same thing, so they share a note */
    size_t k = strlen(buf);
    if (step_groups(c) > 1 && k < n)
        snprintf(buf + k, n - k, " bn_groups=%d", step_groups(c));
    uf_trainer_note_threads(buf, n);
}

/* Every group (rank) takes equal shares of the target and the source rows. */
static int check_groups(const uf_finetune_cfg *c, uf_err *e)
{
    const int g = step_groups(c), rank = uf_dist_rank(), src = c->recipe == UF_RECIPE_LABELLED ||
                                                                c->recipe == UF_RECIPE_UNLABELLED;
    if (uf_dist_size() > 1 && c->bn_groups > 1)
        return uf_fail(e, "rank %d: --bn-groups is one process's stand-in for MPI ranks: not under mpirun", rank);
    const char *who = uf_dist_size() > 1 ? "MPI ranks" : "--bn-groups";
    if (g > 1 && c->batch % g)
        return uf_fail(e, "rank %d: --batch %d does not divide into %d equal shares (%s)", rank, c->batch, g, who);
    if (g > 1 && src && c->source_batch % g)
        return uf_fail(e, "rank %d: --source-batch %d does not divide into %d equal shares (%s)", rank,
                       c->source_batch, g, who);
    if (g > 1 && c->dump)
        return uf_fail(e, "rank %d: --dump records one process's whole batches: not with %d BatchNorm groups", rank, g);
    return 0;
}

static int check_cfg(const uf_finetune_cfg *c, uf_err *e)
{
    if (!(c->lambda >= 0))
        return uf_fail(e, "lambda must be >= 0, not %g", c->lambda);
    if (!(c->source_fraction > 0 && c->source_fraction <= 1) || !(c->target_fraction > 0 && c->target_fraction <= 1))
        return uf_fail(e, "fractions must be in (0, 1]: source %g, target %g", c->source_fraction,
                       c->target_fraction);
    if (!(c->val_fraction >= 0 && c->val_fraction < 1) || (c->longtail != 0 && !(c->longtail >= 1)))
        return uf_fail(e, "the validation fraction must be in [0, 1) (%g) and a long tail's ratio >= 1 (%g)",
                       c->val_fraction, c->longtail);
    if (c->epochs < 1 || c->batch < 1 || c->size < 8 || c->eval_every < 1 || c->eval_batch < 1 || !(c->lr > 0))
        return uf_fail(e, "fine-tuning needs epochs, batch, eval_every, eval_batch >= 1, size >= 8 and lr > 0");
    if ((c->recipe == UF_RECIPE_LABELLED || c->recipe == UF_RECIPE_UNLABELLED) && c->source_batch < 1)
        return uf_fail(e, "recipe %s needs a source batch >= 1", uf_recipe_names[c->recipe]);
    return check_groups(c, e);
}

/* ---- the model ---- */

/* The backbone's tensors by name, and its architecture. */
static int backbone_dict(const uf_finetune_cfg *c, uf_arch *a, uf_tensor_dict *d, uf_err *e)
{
    if (uf_ckpt_is(c->backbone)) {
        uf_model pm;
        if (uf_ckpt_load_model(c->backbone, &pm, e))
            return -1;
        *a = pm.arch;
        int rc = uf_model_state_dict(&pm, d, e);
        uf_model_free(&pm);
        return rc;
    }
    if (!c->arch[0])
        return uf_fail(e, "%s: a PyTorch weight file needs its architecture (--arch)", c->backbone);
    return uf_arch_parse(c->arch, a, e) || uf_torch_state_dict(c->backbone, NULL, NULL, d, e) ? -1 : 0;
}

/* The official code's head initialisation: N(0, sqrt(2 / 2048)), bias 0. */
static void init_head(uf_model *m, int h, uint64_t seed)
{
    const uf_head *H = &m->head[h];
    const uf_pdesc *w = &m->p.d[H->w0], *b = &m->p.d[H->b0];
    const double sd = sqrt(2.0 / 2048);
    for (size_t k = 0; k < w->count; k++) {
        double u1 = uf_rng_uniform(seed, 0x48454144 + (uint64_t)h, 2 * k), u2;
        u2 = uf_rng_uniform(seed, 0x48454144 + (uint64_t)h, 2 * k + 1);
        m->p.w[w->offset + k] = (float)(sd * sqrt(-2 * log(1 - u1)) * cos(2 * 3.14159265358979323846 * u2));
    }
    memset(m->p.w + b->offset, 0, sizeof(float) * b->count);
}

/* Co-Tuning's source head is the pre-trained classifier: fc's tensors, trained at the backbone's rate. */
static int copy_classifier(ft *f, const uf_tensor_dict *d, uf_err *e)
{
    const uf_head *H = &f->m.head[f->hs];
    const char *names[2] = {"fc.weight", "fc.bias"};
    const int idx[2] = {H->w0, H->b0};
    for (int k = 0; k < 2; k++) {
        const uf_tensor *t = uf_tensor_dict_get(d, names[k]);
        uf_pdesc *p = &f->m.p.d[idx[k]];
        if (!t || t->a.dtype != UF_F32 || uf_array_count(&t->a) != p->count)
            return uf_fail(e, "%s: %s missing or not float32 of %zu values", f->c->backbone, names[k], p->count);
        memcpy(f->m.p.w + p->offset, t->a.data, sizeof(float) * p->count);
        p->group = 0;
    }
    return 0;
}

/* Source head outputs: the source's classes (labelled), the pre-trained fc's (Co-Tuning). */
static int source_head_size(const ft *f, const uf_tensor_dict *d, uf_err *e)
{
    if (f->c->recipe == UF_RECIPE_LABELLED)
        return f->d.source_classes;
    if (f->c->recipe != UF_RECIPE_COTUNING)
        return 0;
    const uf_tensor *t = uf_tensor_dict_get(d, "fc.weight");
    if (!t || t->a.ndim != 2)
        return uf_fail(e, "%s: Co-Tuning needs the backbone's pre-trained classifier fc (a linear head), which it "
                          "lacks", f->c->backbone);
    return (int)t->a.shape[0];
}

static int build_model(ft *f, uf_err *e)
{
    uf_arch a;
    uf_tensor_dict d = {0};
    if (backbone_dict(f->c, &a, &d, e))
        return -1;
    uf_head_spec heads[2] = {{"fc_target", f->d.target.nclasses, UF_HEAD_LINEAR}, {"fc_source", 0, UF_HEAD_LINEAR}};
    int rc = (heads[1].out = source_head_size(f, &d, e)) < 0 ? -1 : 0;
    f->ht = 0;
    f->hs = heads[1].out > 0 ? 1 : -1;
    if (!rc)
        rc = uf_model_create(&f->m, &a, heads, f->hs < 0 ? 1 : 2, e);
    if (!rc) {
        for (int h = 0; h < f->m.nhead; h++)
            init_head(&f->m, h, f->c->seed);
        rc = uf_model_load_dict(&f->m, &d, f->c->backbone, 0, e);
    }
    if (!rc && f->c->recipe == UF_RECIPE_COTUNING)
        rc = copy_classifier(f, &d, e);
    f->kt = heads[0].out;
    f->ks = heads[1].out;
    uf_tensor_dict_free(&d);
    return rc;
}

/* ---- buffers ---- */

/* The groups of a step and one group's rows (check_groups has checked that they divide). */
static void shares(ft *f)
{
    const uf_finetune_cfg *c = f->c;
    f->views = c->recipe == UF_RECIPE_LABELLED ? 1 : c->recipe == UF_RECIPE_UNLABELLED ? 2 : 0;
    f->rank = uf_dist_rank();
    f->ranks = uf_dist_size();
    f->groups = step_groups(c);
    f->ghost = f->groups > f->ranks;
    f->bt = c->batch / f->groups;
    f->bs = c->source_batch / f->groups;
    f->n = f->bt + f->views * f->bs;
}

/* Ghost BatchNorm's whole batch, gradient sum and saved running statistics. */
static int alloc_ghost(ft *f, uf_err *e)
{
    const size_t img = (size_t)3 * f->c->size * f->c->size, n = (size_t)f->c->batch + f->views * f->c->source_batch;
    if (!(f->wx = uf_calloc(img * n, sizeof(float), e)) || !(f->wy = uf_calloc(n, sizeof(int), e)) ||
        !(f->gsum = uf_calloc(f->m.p.total, sizeof(float), e)) ||
        !(f->rstat = uf_calloc(f->m.buf.total ? f->m.buf.total : 1, sizeof(float), e)))
        return uf_wrap(e, "%d BatchNorm groups", f->groups);
    return 0;
}

static int alloc_buffers(ft *f, uf_err *e)
{
    const uf_finetune_cfg *c = f->c;
    shares(f);
    if (f->ghost && alloc_ghost(f, e))
        return -1;
    size_t img = (size_t)3 * c->size * c->size, kmax = (size_t)(f->kt > f->ks ? f->kt : f->ks);
    if (!(f->x = uf_calloc(img * f->n, sizeof(float), e)) || !(f->y = uf_calloc((size_t)f->n, sizeof(int), e)) ||
        !(f->dt = uf_calloc((size_t)f->n * f->kt, sizeof(float), e)) ||
        (f->ks && !(f->ds = uf_calloc((size_t)f->n * f->ks, sizeof(float), e))) ||
        !(f->soft = uf_calloc((size_t)f->n * kmax, sizeof(float), e)) || !(f->prob = uf_calloc(kmax, sizeof(double), e)))
        return uf_wrap(e, "a joint batch of %d images of %d px", f->n, c->size);
    return 0;
}

static void free_all(ft *f)
{
    uf_loader_close(f->lt);
    uf_loader_close(f->lw);
    uf_loader_close(f->ls);
    uf_model_free(&f->m);
    uf_ftdata_free(&f->d);
    free(f->x), free(f->y), free(f->dt), free(f->ds), free(f->soft), free(f->prob), free(f->relation);
    free(f->wx), free(f->wy), free(f->gsum), free(f->rstat);
}

/* ---- Co-Tuning's relationship ---- */

static void softmax_row(const float *z, int k, double *p)
{
    double m = z[0], s = 0;
    for (int j = 1; j < k; j++)
        m = z[j] > m ? z[j] : m;
    for (int j = 0; j < k; j++)
        s += p[j] = exp(z[j] - m);
    for (int j = 0; j < k; j++)
        p[j] /= s;
}

/* relation[t] = mean over target training rows of class t of softmax(fc(x)), eval mode, test view. */
static int relation_compute(ft *f, uf_err *e)
{
    const uf_finetune_cfg *c = f->c;
    const int n = f->d.train.n, ks = f->ks;
    float *logits = uf_calloc((size_t)n * ks, sizeof(float), e);
    double *p = logits ? uf_calloc((size_t)ks, sizeof(double), e) : NULL;
    int *count = p ? uf_calloc((size_t)f->kt, sizeof(int), e) : NULL;
    uf_extract_cfg xc = {.size = c->size, .batch = c->eval_batch, .loader_threads = c->loader_threads,
                         .head = f->hs, .rows = f->d.train.row, .nrows = n};
    int rc = count ? 0 : -1;
    if (!rc)
        rc = uf_extract(&f->m, &f->d.target, &xc, logits, e);
    for (int i = 0; !rc && i < n; i++) {
        int t = f->d.target.label[f->d.train.row[i]];
        softmax_row(logits + (size_t)i * ks, ks, p);
        for (int j = 0; j < ks; j++)
            f->relation[(size_t)t * ks + j] += p[j];
        count[t]++;
    }
    for (int t = 0; !rc && t < f->kt; t++)
        for (int j = 0; j < ks; j++)
            f->relation[(size_t)t * ks + j] /= count[t];
    if (!rc && c->dump) {
        char path[4200];
        uf_array a = {.dtype = UF_F32, .ndim = 2, .shape = {n, ks}, .data = logits};
        snprintf(path, sizeof path, "%s/relation.logits.npy", c->dump);
        rc = uf_npy_write(path, &a, e);
    }
    free(logits), free(p), free(count);
    return rc;
}

/* relation.npy beside the run: computed from the pre-trained model before the first step, read after. */
static int relation_load(ft *f, uf_trainer_start start, uf_err *e)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/relation.npy", f->dir);
    if (!(f->relation = uf_calloc((size_t)f->kt * f->ks, sizeof(double), e)))
        return -1;
    uf_array a = {.dtype = UF_F64, .ndim = 2, .shape = {f->kt, f->ks}, .data = f->relation};
    if (start == UF_TRAINER_FRESH) /* rank 0 computes and keeps it, the others receive it */
        return (f->rank == 0 && (relation_compute(f, e) || uf_npy_write(path, &a, e))) ||
                       uf_dist_bcast(f->relation, sizeof(double) * (size_t)f->kt * f->ks, e)
                   ? -1
                   : 0;
    uf_array r;
    if (uf_npy_read(path, &r, e))
        return uf_wrap(e, "Co-Tuning's relationship (delete %s to start again): ", f->dir);
    int rc = 0;
    if (r.dtype != UF_F64 || r.ndim != 2 || r.shape[0] != f->kt || r.shape[1] != f->ks)
        rc = uf_fail(e, "%s: not a %d x %d float64 relationship", path, f->kt, f->ks);
    else
        memcpy(f->relation, r.data, sizeof(double) * (size_t)f->kt * f->ks);
    uf_array_free(&r);
    return rc;
}

/* ---- evaluation ---- */

static int eval_write(const ft *f, uf_err *e)
{
    char path[4200];
    uf_out o;
    snprintf(path, sizeof path, "%s/eval.tsv", f->dir);
    if (uf_out_open(&o, path, e))
        return -1;
    fputs("epoch\ttop1\tcorrect\timages\n", o.f);
    for (int i = 0; i < f->nev; i++)
        fprintf(o.f, "%d\t%.4f\t%d\t%d\n", f->ev[i].epoch, 100.0 * f->ev[i].correct / f->ev[i].images,
                f->ev[i].correct, f->ev[i].images);
    return uf_out_commit(&o, e);
}

/* The evaluations of the epochs that ended before `step` (a resumed run drops later ones). */
static int eval_restore(ft *f, int64_t step, uf_err *e)
{
    char path[4200];
    uf_tsv t;
    snprintf(path, sizeof path, "%s/eval.tsv", f->dir);
    f->nev = 0;
    if (!uf_is_file(path))
        return 0;
    if (uf_tsv_read(path, &t, e))
        return -1;
    int rc = t.ncols == 4 ? 0 : uf_fail(e, "%s: not an evaluation log", path);
    for (int r = 0; !rc && r < t.nrows && f->nev < EVAL_MAX; r++) {
        eval_row v = {atoi(uf_tsv_at(&t, r, 0)), atoi(uf_tsv_at(&t, r, 2)), atoi(uf_tsv_at(&t, r, 3))};
        if (v.images < 1)
            rc = uf_fail(e, "%s: row %d has no images", path, r + 1);
        else if ((int64_t)(v.epoch + 1) * f->spe <= step)
            f->ev[f->nev++] = v;
    }
    uf_tsv_free(&t);
    return rc;
}

static int evaluate(ft *f, int epoch, uf_err *e)
{
    const uf_finetune_cfg *c = f->c;
    if (epoch % c->eval_every != 0 && epoch != c->epochs - 1)
        return 0;
    if (f->nev == EVAL_MAX)
        return uf_fail(e, "more than %d evaluations", EVAL_MAX);
    const int n = f->d.eval.n;
    float *logits = uf_calloc((size_t)n * f->kt, sizeof(float), e);
    if (!logits)
        return -1;
    uf_extract_cfg xc = {.size = c->size, .batch = c->eval_batch, .loader_threads = c->loader_threads,
                         .head = f->ht, .rows = f->d.eval.row, .nrows = n};
    int rc = uf_extract(&f->m, f->d.eval_ds, &xc, logits, e), correct = 0;
    for (int i = 0; !rc && i < n; i++) {
        const float *z = logits + (size_t)i * f->kt;
        int best = 0;
        for (int j = 1; j < f->kt; j++)
            best = z[j] > z[best] ? j : best;
        correct += best == f->d.eval_ds->label[f->d.eval.row[i]];
    }
    free(logits);
    if (rc)
        return uf_wrap(e, "evaluating after epoch %d: ", epoch + 1);
    f->ev[f->nev++] = (eval_row){epoch, correct, n};
    return eval_write(f, e);
}

/* Rank 0 evaluates alone (eval mode reads the model, which is the same on every rank). */
static int end_epoch(void *ctx, int epoch, uf_err *e)
{
    ft *f = ctx;
    return f->rank == 0 ? evaluate(f, epoch, e) : 0;
}

/* ---- one step ---- */

static void set_lr(ft *f, int epoch, double *lr)
{
    const int E = f->c->epochs, milestones[2] = {(int)(0.6 * E + 0.5), (int)(0.8 * E + 0.5)};
    *lr = uf_multistep_lr(f->c->lr, epoch, milestones, 2, 0.1);
    for (int g = 0; g < UF_SGD_GROUPS; g++)
        f->opt.lr[g] = g == 1 ? *lr * f->c->head_lr_mult : *lr;
}

/* The next batch of L, whole (a batch shortened by a corrupt image would change the joint batch). */
static const uf_batch *next_full(uf_loader *L, int want, const char *set, uf_err *e)
{
    const uf_batch *b = uf_loader_next(L);
    const char *why = NULL;
    if (b && b->n == want)
        return b;
    if (b)
        uf_loader_skipped(L, &why);
    uf_fail(e, "%s: %s", set, b ? why ? why : "a batch lost images" : "the loader ended an epoch early");
    return NULL;
}

/* Copies batch b into rows [at, at + n) of the joint batch the loaders fill (ghost: the whole one
 * the groups are cut from), with its labels (or -1). */
static void put(ft *f, const uf_batch *b, int at, int labels)
{
    size_t img = (size_t)3 * f->c->size * f->c->size;
    float *x = f->ghost ? f->wx : f->x;
    int *y = f->ghost ? f->wy : f->y;
    memcpy(x + img * at, b->x, sizeof(float) * img * b->n);
    for (int i = 0; i < b->n; i++)
        y[at + i] = labels ? b->label[i] : -1;
}

/* Copies `rows` rows from row `from` of the whole joint batch to row `to` of the group's. */
static void cut(ft *f, int from, int to, int rows)
{
    size_t img = (size_t)3 * f->c->size * f->c->size;
    memcpy(f->x + img * to, f->wx + img * from, sizeof(float) * img * rows);
    memcpy(f->y + to, f->wy + from, sizeof(int) * rows);
}

/* Ghost group g: its share of the target rows, then its share of each source view's, the rows MPI
 * rank g would load. */
static void cut_group(ft *f, int g)
{
    const int B = f->c->batch, mb = f->c->source_batch;
    cut(f, g * f->bt, 0, f->bt);
    for (int v = 0; v < f->views; v++)
        cut(f, B + v * mb + g * f->bs, f->bt + v * f->bs, f->bs);
}

/* The source views for step s from the endless stream: a new pass every sspe steps. */
static int source_views(ft *f, int64_t s, uf_err *e)
{
    /* the loaders' rows: a rank's share, or (one process) the whole batch */
    const int B = f->c->batch / f->ranks, mb = f->c->source_batch / f->ranks;
    uf_loader *L[2] = {f->lw, f->ls};
    if (f->src_next != s || s % f->sspe == 0)
        for (int v = 0; v < f->views; v++)
            uf_loader_start_at(L[v], (int)(s / f->sspe), (int)(s % f->sspe));
    f->src_next = s + 1;
    const uf_batch *b[2] = {NULL, NULL};
    for (int v = 0; v < f->views; v++) {
        if (!(b[v] = next_full(L[v], mb, f->c->source, e)))
            return -1;
        put(f, b[v], B + v * mb, f->c->recipe == UF_RECIPE_LABELLED);
    }
    if (f->views == 2 && memcmp(b[0]->row, b[1]->row, sizeof(int) * (size_t)mb) != 0)
        return uf_fail(e, "the weak and strong source views disagree on their rows");
    return 0;
}

/* The losses of the recipe on the joint batch's head outputs, and their gradients. */
static int losses(ft *f, double *values, uf_err *e)
{
    const uf_finetune_cfg *c = f->c;
    const int B = f->bt, mb = f->bs, kt = f->kt, ks = f->ks; /* one group's */
    const float *zt = uf_model_head_out(&f->m, f->ht), *zs = f->hs >= 0 ? uf_model_head_out(&f->m, f->hs) : NULL;
    const float lam = (float)c->lambda;
    double lt, ls = 0;
    memset(f->dt, 0, sizeof(float) * (size_t)f->n * kt);
    if (f->ds)
        memset(f->ds, 0, sizeof(float) * (size_t)f->n * ks);
    if (uf_xent_hard(B, kt, zt, f->y, 1, f->dt, &lt, e))
        return -1;
    if (c->recipe == UF_RECIPE_LABELLED &&
        uf_xent_hard(mb, ks, zs + (size_t)B * ks, f->y + B, lam, f->ds + (size_t)B * ks, &ls, e))
        return -1;
    if (c->recipe == UF_RECIPE_UNLABELLED) {
        for (int i = 0; i < mb; i++) {
            softmax_row(zt + (size_t)(B + i) * kt, kt, f->prob);
            for (int j = 0; j < kt; j++)
                f->soft[(size_t)i * kt + j] = (float)f->prob[j];
        }
        size_t strong = (size_t)(B + mb) * kt;
        ls = uf_xent_soft(mb, kt, zt + strong, f->soft, lam, f->dt + strong);
    }
    if (c->recipe == UF_RECIPE_COTUNING) {
        for (int i = 0; i < B; i++)
            for (int j = 0; j < ks; j++)
                f->soft[(size_t)i * ks + j] = (float)f->relation[(size_t)f->y[i] * ks + j];
        ls = uf_xent_soft(B, ks, zs, f->soft, lam, f->ds);
    }
    values[0] = lt + c->lambda * ls;
    values[1] = lt;
    values[2] = ls;
    return 0;
}

static int dump_step(const ft *f, int64_t s, uf_err *e)
{
    char path[4200];
    const int S = f->c->size;
    uf_array x = {.dtype = UF_F32, .ndim = 4, .shape = {f->n, 3, S, S}, .data = f->x};
    uf_array y = {.dtype = UF_I32, .ndim = 1, .shape = {f->n}, .data = f->y};
    snprintf(path, sizeof path, "%s/step%04lld.x.npy", f->c->dump, (long long)s + 1);
    if (uf_npy_write(path, &x, e))
        return -1;
    snprintf(path, sizeof path, "%s/step%04lld.y.npy", f->c->dump, (long long)s + 1);
    return uf_npy_write(path, &y, e);
}

static int dump_model(const ft *f, const char *name, uf_err *e)
{
    char path[4200];
    uf_tensor_dict d;
    snprintf(path, sizeof path, "%s/%s", f->c->dump, name);
    if (uf_mkdirs(f->c->dump, e) || uf_model_state_dict(&f->m, &d, e))
        return -1;
    int rc = uf_torch_save(path, &d, e);
    uf_tensor_dict_free(&d);
    return rc;
}

/* forward / losses / zero_grad / backward on one group's joint batch in f->x, f->y */
static int group_grad(ft *f, double *values, uf_err *e)
{
    const int S = f->c->size;
    const float *dlogits[2] = {f->dt, f->ds};
    if (uf_model_forward(&f->m, f->x, f->n, S, S, 1, 1, e) || losses(f, values, e))
        return -1;
    uf_params_zero_grad(&f->m.p);
    return uf_model_backward(&f->m, dlogits, e);
}

/* Ghost BatchNorm: each group in turn as MPI rank g would compute it; then, as the ranks' all-reduce,
 * the gradients' and losses' means (summed in rank order, then scaled: 2 ranks round alike), and
 * group 0's running statistics, as rank 0's broadcast. */
static int ghost_grad(ft *f, double *values, uf_err *e)
{
    const size_t np = f->m.p.total, nb = f->m.buf.total;
    const float k = 1.0f / (float)f->groups;
    double v[3];
    values[0] = values[1] = values[2] = 0;
    for (int g = 0; g < f->groups; g++) {
        cut_group(f, g);
        if (group_grad(f, v, e))
            return uf_wrap(e, "BatchNorm group %d: ", g);
        if (g == 0)
            memcpy(f->rstat, f->m.buf.w, sizeof(float) * nb);
        for (size_t i = 0; i < np; i++)
            f->gsum[i] = g == 0 ? f->m.p.g[i] : f->gsum[i] + f->m.p.g[i];
        for (int j = 0; j < 3; j++)
            values[j] += v[j];
    }
    memcpy(f->m.buf.w, f->rstat, sizeof(float) * nb);
    for (size_t i = 0; i < np; i++)
        f->m.p.g[i] = f->gsum[i] * k;
    for (int j = 0; j < 3; j++)
        values[j] /= f->groups;
    return 0;
}

/* One step on the joint batch: this process's groups, then (MPI) the gradients and losses averaged
 * over the ranks, the same update everywhere and rank 0's running statistics (DDP's broadcast_buffers). */
static int train_step(ft *f, double *values, uf_err *e)
{
    if (f->ghost ? ghost_grad(f, values, e) : group_grad(f, values, e))
        return -1;
    if (f->ranks > 1 && (uf_dist_mean_f32(f->m.p.g, f->m.p.total, e) || uf_dist_mean_f64(values, 3, e)))
        return -1;
    uf_sgd_step(&f->opt, &f->m.p);
    if (f->ranks > 1 && uf_dist_bcast(f->m.buf.w, sizeof(float) * f->m.buf.total, e))
        return -1;
    return 0;
}

static int step(void *ctx, int64_t s, int epoch, double *lr, double *values, uf_err *e)
{
    ft *f = ctx;
    set_lr(f, epoch, lr);
    const uf_batch *bt = next_full(f->lt, f->c->batch / f->ranks, f->c->target, e);
    if (!bt)
        return -1;
    put(f, bt, 0, 1);
    if (f->views && source_views(f, s, e))
        return -1;
    if (f->c->dump && dump_step(f, s, e))
        return -1;
    return train_step(f, values, e);
}

static int begin_epoch(void *ctx, int epoch, int first, uf_err *e)
{
    ft *f = ctx;
    const int P = f->ranks, r = f->rank; /* each rank loads its share of every batch */
    if (!f->lt && (uf_ftdata_target_loader(&f->d, f->c, P, r, &f->lt, e) ||
                   (f->views > 0 && uf_ftdata_source_loader(&f->d, f->c, 0, P, r, &f->lw, e)) ||
                   (f->views > 1 && uf_ftdata_source_loader(&f->d, f->c, 1, P, r, &f->ls, e))))
        return -1;
    uf_loader_start_at(f->lt, epoch, first);
    return 0;
}

/* ---- result ---- */

/* A value a finished run's result.tsv records (seconds, steps). */
static int result_value(const char *path, const char *key, double *value, uf_err *e)
{
    uf_tsv t;
    if (uf_tsv_read(path, &t, e))
        return -1;
    int rc = uf_fail(e, "%s: no %s row", path, key);
    for (int r = 0; r < t.nrows && t.ncols == 2; r++)
        if (strcmp(uf_tsv_at(&t, r, 0), key) == 0) {
            *value = atof(uf_tsv_at(&t, r, 1));
            rc = 0;
        }
    uf_tsv_free(&t);
    return rc;
}

/* Fills r from the evaluations. */
static int result_of_evals(const ft *f, uf_finetune_result *r, uf_err *e)
{
    if (f->nev < 1)
        return uf_fail(e, "%s: no evaluation was recorded", f->dir);
    r->final_top1 = 100.0 * f->ev[f->nev - 1].correct / f->ev[f->nev - 1].images;
    r->best_top1 = -1;
    for (int i = 0; i < f->nev; i++) {
        double t = 100.0 * f->ev[i].correct / f->ev[i].images;
        if (t > r->best_top1) {
            r->best_top1 = t;
            r->best_epoch = f->ev[i].epoch;
        }
    }
    return 0;
}

/* Fills r from the evaluations; writes result.tsv unless keep and it exists (a finished run found
 * again keeps the file, and reports the seconds of the run that made it). */
static int write_result(const ft *f, uf_finetune_result *r, int keep, uf_err *e)
{
    char path[4200];
    uf_out o;
    if (result_of_evals(f, r, e))
        return -1;
    snprintf(path, sizeof path, "%s/result.tsv", f->dir);
    if (keep && uf_is_file(path))
        return result_value(path, "seconds", &r->seconds, e);
    if (uf_out_open(&o, path, e))
        return -1;
    fprintf(o.f, "key\tvalue\nrecipe\t%s\ntarget\t%s\nfinal_top1\t%.4f\nbest_top1\t%.4f\nbest_epoch\t%d\n"
                 "epochs\t%d\nsteps\t%lld\neval_images\t%d\nseconds\t%.1f\n",
            uf_recipe_names[f->c->recipe], f->c->target, r->final_top1, r->best_top1, r->best_epoch + 1, r->epochs,
            (long long)r->steps, f->ev[f->nev - 1].images, r->seconds);
    return uf_out_commit(&o, e);
}

static int settings_file(const ft *f, const char *text, uf_err *e)
{
    char path[4200];
    uf_out o;
    snprintf(path, sizeof path, "%s/settings.txt", f->dir);
    if (uf_out_open(&o, path, e))
        return -1;
    fprintf(o.f, "%s\n", text);
    return uf_out_commit(&o, e);
}

/* ---- entry ---- */

static int file_sum(const char *path, char hex[65], uf_err *e)
{
    if (!path) {
        strcpy(hex, "none");
        return 0;
    }
    return uf_sha256_file(path, hex, e);
}

int uf_finetune_note(const uf_finetune_cfg *c, char *buf, size_t n, uf_err *e)
{
    char bsum[65], ssum[65];
    if (file_sum(c->backbone, bsum, e) || file_sum(c->select, ssum, e))
        return -1;
    note(c, bsum, ssum, buf, n);
    return 0;
}

static int setup(ft *f, uf_trainer_cfg *tc, const char *dir, uf_err *e)
{
    const uf_finetune_cfg *c = f->c;
    if (check_cfg(c, e) || uf_ftdata_open(&f->d, c, e) || build_model(f, e) || alloc_buffers(f, e))
        return -1;
    f->spe = f->d.train.n / c->batch;
    f->sspe = f->views ? f->d.src.n / c->source_batch : 1;
    f->src_next = -1;
    f->opt = (uf_sgd){.momentum = c->momentum, .nesterov = c->nesterov};
    for (int g = 0; g < UF_SGD_GROUPS; g++)
        f->opt.weight_decay[g] = c->weight_decay;
    /* images per step: the global batch; rank 0 alone writes and reports */
    *tc = (uf_trainer_cfg){.dir = dir, .name = "model", .epochs = c->epochs, .steps_per_epoch = f->spe,
                           .images_per_step = c->batch + f->views * c->source_batch, .nvalues = 3,
                           .value_names = {"loss", "loss_target", "loss_source"}, .ckpt_every = c->ckpt_every,
                           .stop_after = c->stop_after, .no_final = !c->keep_model, .read_only = f->rank != 0,
                           .progress = f->rank == 0 ? c->progress : NULL, .progress_ctx = c->progress_ctx};
    return uf_finetune_note(c, tc->note, sizeof tc->note, e);
}

/* MPI: the ranks' models (parameters, running statistics) must be identical; a rank that drifted
 * (a nondeterministic library, a different binary) is reported rather than left in the result. */
static int same_model(const ft *f, uf_err *e)
{
    if (f->ranks == 1)
        return 0;
    char hash[17];
    if (uf_trainer_params_hash(&f->m, hash, e))
        return -1;
    return uf_dist_same(strtoull(hash, NULL, 16), "the trained model", e);
}

/* MPI: every rank has opened the run (rank 0 writes nothing before) and found it at the same step:
 * the run folder is one shared folder. */
static int same_start(const uf_trainer *tr, uf_trainer_start start, uf_err *e)
{
    if (uf_dist_barrier(e) || uf_dist_same((uint64_t)start, "how the run starts (fresh, resumed, done)", e) ||
        uf_dist_same((uint64_t)tr->ts.step, "the step the run resumes at", e))
        return uf_wrap(e, "%s must be one folder every rank reads", tr->c.dir);
    return 0;
}

static int train(ft *f, uf_trainer *tr, uf_trainer_start start, uf_finetune_result *res, uf_err *e)
{
    static const uf_trainer_ops ops = {.begin_epoch = begin_epoch, .step = step, .end_epoch = end_epoch};
    if (start == UF_TRAINER_FRESH && f->rank == 0 &&
        (settings_file(f, tr->c.note, e) || (f->c->dump && dump_model(f, "init.pth", e))))
        return -1;
    if ((f->c->recipe == UF_RECIPE_COTUNING && relation_load(f, start, e)) || eval_restore(f, tr->ts.step, e))
        return -1;
    if (uf_trainer_run(tr, &ops, f, &res->finished, e) || same_model(f, e))
        return -1;
    return f->c->dump ? dump_model(f, "final.pth", e) : 0;
}

/* A finished run found again by its files alone, without opening the data or building the model:
 * result.tsv is there and settings.txt holds these settings (the thread count aside). *found = 1
 * and res filled as the trainer's path would fill it. A result with other settings is an error: the
 * folder belongs to another run. */
static int found_finished(const uf_finetune_cfg *c, const char *dir, uf_finetune_result *res, int *found, uf_err *e)
{
    char path[4200], note[sizeof ((uf_trainer_cfg *)0)->note], *saved = NULL;
    size_t len = 0;
    *found = 0;
    snprintf(path, sizeof path, "%s/result.tsv", dir);
    if (!uf_is_file(path))
        return 0;
    snprintf(path, sizeof path, "%s/settings.txt", dir);
    if (uf_finetune_note(c, note, sizeof note, e) || (uf_is_file(path) && uf_read_file(path, &saved, &len, e)))
        return -1;
    size_t n = uf_trainer_settings_len(note);
    int same = saved && len > n && strncmp(saved, note, n) == 0 && uf_trainer_settings_len(saved) == n;
    free(saved);
    if (!same)
        return uf_fail(e, "%s holds a finished run with other settings (its settings.txt): use another --out", dir);
    ft f = {.c = c, .dir = dir, .spe = 1};
    snprintf(path, sizeof path, "%s/result.tsv", dir);
    double steps;
    if (eval_restore(&f, c->epochs, e) || result_of_evals(&f, res, e) ||
        result_value(path, "seconds", &res->seconds, e) || result_value(path, "steps", &steps, e))
        return -1;
    res->steps = (int64_t)steps;
    res->finished = *found = 1;
    res->epochs = c->epochs;
    return 0;
}

/* Without keep_model the trained model is not kept (the trainer does not write it: no_final): a run
 * is found again by its result (found_finished), and a tier of ResNet-50 runs would otherwise keep
 * 100 MB each. A model.ckpt left by an earlier run with keep_model goes too. */
static void drop_model(const uf_finetune_cfg *c, const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/model.ckpt", dir);
    if (!c->keep_model && uf_dist_rank() == 0) /* rank 0 keeps the run folder */
        remove(path);
}

int uf_finetune(const uf_finetune_cfg *c, const char *dir, uf_finetune_result *res, uf_err *e)
{
    ft f = {.c = c, .dir = dir};
    uf_trainer tr = {0};
    uf_trainer_cfg tc;
    uf_trainer_start start = UF_TRAINER_FRESH;
    const double t0 = uf_now();
    int found;
    memset(res, 0, sizeof *res);
    if (found_finished(c, dir, res, &found, e) || found)
        return found ? (drop_model(c, dir), 0) : -1;
    if (c->find_only)
        return uf_fail(e, "%s: not finished (run it first: uotft run --shard, or without --collect)", dir);
    int rc = setup(&f, &tc, dir, e);
    if (!rc)
        rc = uf_trainer_open(&tr, &tc, &f.m, &f.opt, c->seed, &start, e) || same_start(&tr, start, e) ? -1 : 0;
    if (!rc && start == UF_TRAINER_DONE) {
        res->finished = 1;
        rc = eval_restore(&f, tr.total, e);
    } else if (!rc) {
        rc = train(&f, &tr, start, res, e);
    }
    res->epochs = c->epochs;
    res->steps = tr.ts.step;
    res->seconds = uf_now() - t0;
    if (!rc && res->finished && f.rank == 0) /* the others have no evaluations */
        rc = write_result(&f, res, start == UF_TRAINER_DONE, e);
    uf_trainer_close(&tr);
    if (!rc && res->finished && f.rank == 0)
        drop_model(c, dir);
    free_all(&f);
    return rc;
}

/* ---- speed ---- */

/* This rank's share of a random joint batch (streams 1, 2 on rank 0, as in one process). */
static void random_batch(ft *f)
{
    const size_t pixels = (size_t)f->n * 3 * f->c->size * f->c->size;
    const uint64_t sx = 1 + 2 * (uint64_t)f->rank, sy = sx + 1;
    for (size_t i = 0; i < pixels; i++)
        f->x[i] = (float)(uf_rng_uniform(3, sx, i) * 2 - 1);
    for (int i = 0; i < f->n; i++)
        f->y[i] = (int)(uf_rng_u64(3, sy, (uint64_t)i) % (uint64_t)(i < f->bt ? f->kt : f->ks));
}

int uf_finetune_bench(const uf_finetune_cfg *c, int target_classes, int source_classes, int steps, double *sec,
                      uf_err *e)
{
    ft f = {.c = c, .kt = target_classes, .ks = source_classes, .hs = 1};
    uf_arch a;
    uf_head_spec heads[2] = {{"fc_target", target_classes, UF_HEAD_LINEAR},
                             {"fc_source", source_classes, UF_HEAD_LINEAR}};
    int rc = c->recipe != UF_RECIPE_LABELLED ? uf_fail(e, "the benchmark times the labelled recipe") : 0;
    if (!rc && c->bn_groups > 1)
        rc = uf_fail(e, "the benchmark times MPI ranks, not --bn-groups");
    if (!rc)
        rc = check_groups(c, e);
    if (!rc)
        rc = uf_arch_parse(c->arch, &a, e) || uf_model_create(&f.m, &a, heads, 2, e) || alloc_buffers(&f, e);
    if (!rc) {
        uf_model_init_weights(&f.m, 1);
        random_batch(&f);
        f.opt = (uf_sgd){.momentum = c->momentum, .nesterov = c->nesterov, .lr = {c->lr, c->lr * c->head_lr_mult},
                         .weight_decay = {c->weight_decay, c->weight_decay}};
    }
    double t0 = 0, values[3];
    for (int s = 0; !rc && s <= steps; s++) {
        if (s == 1)
            t0 = uf_now();
        rc = train_step(&f, values, e);
    }
    *sec = (uf_now() - t0) / steps;
    free_all(&f);
    return rc;
}
