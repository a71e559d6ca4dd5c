#include "extract.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "data/loader.h"
#include "io/npy.h"

int uf_extract_dim(const uf_model *m, int head) { return head < 0 ? m->feat_dim : m->head[head].s.out; }

/* Where data set row `row` goes in X: itself, or its place in the ascending row list. */
static int position(const uf_extract_cfg *c, int row)
{
    if (!c->rows)
        return row;
    int lo = 0, hi = c->nrows - 1;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (c->rows[mid] < row)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int uf_extract(uf_model *m, const uf_dataset *ds, const uf_extract_cfg *c, float *X, uf_err *e)
{
    if (c->head >= m->nhead)
        return uf_fail(e, "%s has no head %d", m->arch.name, c->head);
    uf_loader_cfg lc = {.batch = c->batch, .size = c->size, .view = UF_VIEW_EVAL, .shuffle = 0,
                        .threads = c->loader_threads > 0 ? c->loader_threads : 1, .prefetch = 2,
                        .rows = c->rows, .nrows = c->nrows};
    uf_loader *L;
    if (uf_loader_open(&L, ds, &lc, e))
        return -1;
    const int d = uf_extract_dim(m, c->head);
    int rc = 0, got = 0;
    const uf_batch *b;
    uf_loader_start(L, 0);
    while (!rc && (b = uf_loader_next(L))) {
        if ((rc = uf_model_forward(m, b->x, b->n, c->size, c->size, 0, 0, e)))
            break;
        const float *f = c->head < 0 ? uf_model_features(m) : uf_model_head_out(m, c->head);
        for (int i = 0; i < b->n; i++)
            memcpy(X + (size_t)position(c, b->row[i]) * d, f + (size_t)i * d, sizeof(float) * d);
        got += b->n;
    }
    const char *why = NULL;
    const int want = c->rows ? c->nrows : ds->n;
    if (!rc && got != want) {
        uf_loader_skipped(L, &why);
        rc = uf_fail(e, "%s: %d of %d images could not be read (%s)", ds->name, want - got, want,
                     why ? why : "unknown reason");
    }
    uf_loader_close(L);
    return rc;
}

void uf_group_means(const float *X, const int *labels, int n, int d, int k, double *means, int64_t *counts)
{
    memset(means, 0, sizeof(double) * (size_t)k * d);
    memset(counts, 0, sizeof(int64_t) * (size_t)k);
    for (int i = 0; i < n; i++) {
        double *m = means + (size_t)labels[i] * d;
        for (int j = 0; j < d; j++)
            m[j] += X[(size_t)i * d + j];
        counts[labels[i]]++;
    }
    for (int c = 0; c < k; c++)
        for (int j = 0; j < d && counts[c]; j++)
            means[(size_t)c * d + j] /= (double)counts[c];
}

int uf_write_means(const char *dir, const char *set, const double *means, const int64_t *counts, int k, int d,
                   uf_err *e)
{
    char path[4200];
    uf_array a = {.dtype = UF_F64, .ndim = 2, .shape = {k, d}, .data = (void *)means};
    snprintf(path, sizeof path, "%s/%s.means.npy", dir, set);
    if (uf_npy_write(path, &a, e))
        return -1;
    uf_array c = {.dtype = UF_I64, .ndim = 1, .shape = {k}, .data = (void *)counts};
    snprintf(path, sizeof path, "%s/%s.counts.npy", dir, set);
    return uf_npy_write(path, &c, e);
}

int uf_features_mini(uf_model *m, const char *root, const char *set, const char *split, const uf_extract_cfg *c,
                     const char *dir, uf_err *e)
{
    char name[64], path[4200];
    if (snprintf(name, sizeof name, "mini-%s", set) >= (int)sizeof name)
        return uf_fail(e, "mini set name too long: %s", set);
    uf_dataset ds;
    if (uf_dataset_list(&ds, name, root, split, 0, e))
        return -1;
    const int n = ds.n, d = uf_extract_dim(m, c->head), k = ds.nclasses;
    float *X = uf_calloc((size_t)n * d, sizeof(float), e);
    int64_t *lab = uf_calloc((size_t)n, sizeof(int64_t), e), *counts = uf_calloc((size_t)k, sizeof(int64_t), e);
    double *means = uf_calloc((size_t)k * d, sizeof(double), e);
    int rc = X && lab && counts && means ? 0 : -1;
    if (rc == 0)
        rc = uf_extract(m, &ds, c, X, e);
    for (int i = 0; rc == 0 && i < n; i++)
        lab[i] = ds.label[i];
    uf_array xa = {.dtype = UF_F32, .ndim = 2, .shape = {n, d}, .data = X};
    uf_array la = {.dtype = UF_I64, .ndim = 1, .shape = {n}, .data = lab};
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/%s-%s.features.npy", dir, set, split);
        rc = uf_npy_write(path, &xa, e);
    }
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/%s-%s.labels.npy", dir, set, split);
        rc = uf_npy_write(path, &la, e);
    }
    if (rc == 0 && strcmp(split, "train") == 0) {
        uf_group_means(X, ds.label, n, d, k, means, counts);
        rc = uf_write_means(dir, set, means, counts, k, d, e);
    }
    free(X);
    free(lab);
    free(counts);
    free(means);
    uf_dataset_free(&ds);
    return rc;
}
