#include "ftdata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "io/npy.h"

/* Seeds of the run's random streams, derived so that they are independent of each other. */
enum { SEED_TAIL = 1, SEED_FRACTION, SEED_VAL, SEED_SOURCE_FRACTION, SEED_TARGET_LOADER, SEED_SOURCE_LOADER };

static uint64_t sub_seed(const uf_finetune_cfg *c, uint64_t which) { return uf_rng_u64(c->seed, 0x46544e45, which); }

static int replace_rows(uf_rows *rows, uf_rows *next)
{
    uf_rows_free(rows);
    *rows = *next;
    return 0;
}

/* Long tail, then fraction, then the validation split, as the settings ask. */
static int target_rows(uf_ftdata *d, const uf_finetune_cfg *c, uf_err *e)
{
    uf_rows next = {0}, val = {0};
    if (uf_rows_all(&d->target, &d->train, e))
        return -1;
    if (c->longtail > 0 && (uf_rows_longtail(&d->target, &d->train, c->longtail, sub_seed(c, SEED_TAIL), &next, e) ||
                            replace_rows(&d->train, &next)))
        return -1;
    if (c->target_fraction != 1 &&
        (uf_rows_fraction(&d->target, &d->train, c->target_fraction, sub_seed(c, SEED_FRACTION), &next, e) ||
         replace_rows(&d->train, &next)))
        return -1;
    if (c->val_fraction > 0) {
        if (uf_rows_split(&d->target, &d->train, c->val_fraction, sub_seed(c, SEED_VAL), &next, &val, e))
            return -1;
        replace_rows(&d->train, &next);
        d->eval = val;
        d->eval_ds = &d->target;
    }
    char what[64];
    snprintf(what, sizeof what, "%s train", c->target);
    return uf_rows_check_classes(&d->target, &d->train, what, e);
}

/* The k-means cluster of every source row (the selection names clusters). */
static int read_assign(const char *path, int n, int **assign, int *k, uf_err *e)
{
    uf_array a;
    if (uf_npy_read(path, &a, e))
        return -1;
    int rc = 0;
    if (a.ndim != 1 || a.shape[0] != n)
        rc = uf_fail(e, "%s: %lld cluster assignments for a source of %d images", path,
                     a.ndim == 1 ? (long long)a.shape[0] : -1LL, n);
    else if (!(*assign = uf_calloc((size_t)n, sizeof(int), e)))
        rc = -1;
    *k = 0;
    for (int i = 0; !rc && i < n; i++) {
        double v = uf_array_get(&a, (size_t)i);
        if (!(v >= 0 && v < 1e9))
            rc = uf_fail(e, "%s: assignment %d is %g", path, i, v);
        else
            (*assign)[i] = (int)v;
        *k = rc || (*assign)[i] < *k ? *k : (*assign)[i] + 1;
    }
    uf_array_free(&a);
    return rc;
}

static int source_rows(uf_ftdata *d, const uf_finetune_cfg *c, uf_err *e)
{
    int *assign = NULL, k = d->source.nclasses, rc = 0;
    uf_rows next = {0};
    if (!c->select)
        return uf_fail(e, "recipe %s needs a selection of source classes (--select)", uf_recipe_names[c->recipe]);
    if (c->assign && read_assign(c->assign, d->source.n, &assign, &k, e))
        return -1;
    rc = uf_rows_select(&d->source, assign, assign ? d->source.n : 0, k, c->select, c->top, &d->src, e);
    free(assign);
    if (!rc && c->source_fraction != 1)
        rc = uf_rows_fraction(&d->source, &d->src, c->source_fraction, sub_seed(c, SEED_SOURCE_FRACTION), &next, e) ||
             replace_rows(&d->src, &next);
    if (!rc && d->src.n < c->source_batch)
        rc = uf_fail(e, "the source subset has %d images, fewer than a source batch of %d", d->src.n,
                     c->source_batch);
    d->source_classes = d->source.nclasses;
    return rc;
}

static int open_set(uf_dataset *ds, int *have, const char *name, const char *root, const char *split,
                    const uf_finetune_cfg *c, uf_err *e)
{
    if (uf_dataset_list(ds, name, root, split, c->seed, e))
        return -1;
    *have = 1;
    return uf_dataset_open_images(ds, NULL, e);
}

int uf_ftdata_open(uf_ftdata *d, const uf_finetune_cfg *c, uf_err *e)
{
    memset(d, 0, sizeof *d);
    const int uses_source = c->recipe == UF_RECIPE_LABELLED || c->recipe == UF_RECIPE_UNLABELLED;
    if (open_set(&d->target, &d->have[0], c->target, c->target_root, "train", c, e) || target_rows(d, c, e))
        return -1;
    if (c->val_fraction <= 0) {
        if (open_set(&d->test, &d->have[1], c->target, c->target_root, "test", c, e) || uf_rows_all(&d->test, &d->eval, e))
            return -1;
        d->eval_ds = &d->test;
    }
    if (d->train.n < c->batch)
        return uf_fail(e, "%s: %d training images, fewer than a batch of %d", c->target, d->train.n, c->batch);
    if (!uses_source)
        return 0;
    return open_set(&d->source, &d->have[2], c->source, c->source_root, "train", c, e) || source_rows(d, c, e);
}

void uf_ftdata_free(uf_ftdata *d)
{
    uf_dataset *sets[3] = {&d->target, &d->test, &d->source};
    for (int s = 0; s < 3; s++)
        if (d->have[s])
            uf_dataset_free(sets[s]);
    uf_rows_free(&d->train);
    uf_rows_free(&d->eval);
    uf_rows_free(&d->src);
}

static uf_loader_cfg train_view(const uf_finetune_cfg *c, int batch, uint64_t seed)
{
    return (uf_loader_cfg){.batch = batch, .size = c->size, .view = UF_VIEW_WEAK, .shuffle = 1,
                           .threads = c->loader_threads > 0 ? c->loader_threads : 1, .prefetch = 3, .seed = seed,
                           .scale_min = c->scale_min, .no_flip = c->no_flip};
}

int uf_ftdata_target_loader(const uf_ftdata *d, const uf_finetune_cfg *c, int parts, int part, uf_loader **L,
                            uf_err *e)
{
    uf_loader_cfg lc = train_view(c, c->batch, sub_seed(c, SEED_TARGET_LOADER));
    lc.parts = parts;
    lc.part = part;
    lc.rows = d->train.row;
    lc.nrows = d->train.n;
    return uf_loader_open(L, &d->target, &lc, e);
}

int uf_ftdata_source_loader(const uf_ftdata *d, const uf_finetune_cfg *c, int strong, int parts, int part,
                            uf_loader **L, uf_err *e)
{
    uf_loader_cfg lc = train_view(c, c->source_batch, sub_seed(c, SEED_SOURCE_LOADER));
    lc.parts = parts;
    lc.part = part;
    lc.rows = d->src.row;
    lc.nrows = d->src.n;
    lc.view = strong ? UF_VIEW_STRONG : UF_VIEW_WEAK;
    lc.view_seed = strong ? 2 : 1;
    return uf_loader_open(L, &d->source, &lc, e);
}
