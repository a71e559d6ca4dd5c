/* Features of a data set split through a backbone, and what selection reads
 * from them: per-class (or per-cluster) means and counts, in the layout of the
 * released class means (<dir>/<model>/<set>.means.npy float64 (classes, d),
 * <set>.counts.npy int64 (classes)). */
#ifndef UF_FEATURES_EXTRACT_H
#define UF_FEATURES_EXTRACT_H

#include <stdint.h>

#include "data/dataset.h"
#include "nn/resnet.h"

typedef struct uf_extract_cfg {
    int size;           /* eval view: Resize(size * 256 / 224) + CenterCrop(size) */
    int batch;
    int loader_threads;
    int head;           /* -1: the pooled feature; h: head h's output (MoCo's MLP) */
    const int *rows;    /* ascending data set rows to extract (data/rows.h); NULL: every row */
    int nrows;
} uf_extract_cfg;

/* Width of what uf_extract writes per image. */
int uf_extract_dim(const uf_model *m, int head);

/* X: (ds->n, d) float32, rows in the data set's order, or (c->nrows, d) in
 * the list's order; the model in eval mode (running statistics). */
int uf_extract(uf_model *m, const uf_dataset *ds, const uf_extract_cfg *c, float *X, uf_err *e);

/* means: (k, d) the mean of the rows of each label (zero for a label without
 * rows), summed in double; counts: (k) rows per label. Labels in [0, k). */
void uf_group_means(const float *X, const int *labels, int n, int d, int k, double *means, int64_t *counts);

/* Writes dir/<set>.means.npy and dir/<set>.counts.npy. */
int uf_write_means(const char *dir, const char *set, const double *means, const int64_t *counts, int k, int d,
                   uf_err *e);

/* Mini set `set` (data set mini-<set> in root), split "train" or "test", through m:
 * dir/<set>-<split>.features.npy (float32 (n, d)) and dir/<set>-<split>.labels.npy
 * (int64 (n)); for the train split also dir/<set>.means.npy and .counts.npy. */
int uf_features_mini(uf_model *m, const char *root, const char *set, const char *split, const uf_extract_cfg *c,
                     const char *dir, uf_err *e);

#endif
