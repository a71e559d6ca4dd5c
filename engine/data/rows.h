/* Row lists: the subsets of a listed data set split that fine-tuning reads (the selected source
 * classes or clusters, a per-class fraction, a long tail, a validation split). A list holds row
 * indices into ds->label / ds->source, strictly ascending, so a result never depends on the order it
 * was computed in; inputs must be such lists too (every function here makes one). Random draws are
 * pure functions of (seed, a purpose constant per function, class, position) through core/rng.h, so
 * the same seed gives the same rows and the functions' draws are independent of each other.
 * "round(x)" below is half up: floor(x + 0.5). */
#ifndef UF_DATA_ROWS_H
#define UF_DATA_ROWS_H

#include <stdint.h>

#include "core/err.h"
#include "dataset.h"

typedef struct uf_rows {
    int n;
    int *row; /* n, ascending */
} uf_rows;

/* Every row of ds. */
int uf_rows_all(const uf_dataset *ds, uf_rows *out, uf_err *e);
void uf_rows_free(uf_rows *r);

/* The source subset of a selection written by `uotft select` (a TSV with an `index` column, best
 * first): the rows whose unit is among the file's first `top` rows (top <= 0: all of them). Units
 * are classes when assign is NULL (ds->label[row], nunits == ds->nclasses) or k-means clusters
 * (assign[row] in [0, nunits), nassign == ds->n). Errors name the file: no `index` column, an index
 * that is not an integer in [0, nunits), a repeated index, top beyond the file's rows, no row
 * selected, nassign != ds->n. */
int uf_rows_select(const uf_dataset *ds, const int *assign, int nassign, int nunits, const char *tsv, int top,
                   uf_rows *out, uf_err *e);

/* A seeded fraction of every class (the paper's 50% of each ImageNet class; Figure 3(b)'s 20..100%
 * of each target class): class c's n_c rows of `in` keep max(1, round(frac * n_c)) of them (none when
 * n_c = 0), drawn without replacement. frac in (0, 1]; frac = 1 gives `in`. */
int uf_rows_fraction(const uf_dataset *ds, const uf_rows *in, double frac, uint64_t seed, uf_rows *out,
                     uf_err *e);

/* A long-tailed copy of `in` (Table 3). The paper says only "sampling images from classes with a
 * Pareto distribution [Newman 2005] as in [Cui et al. 2019], where the number of images in the
 * largest class is 10 times that in the smallest class"; the official code has no such script. So:
 * the C classes are put in a seeded random order and the class of rank r (0..C-1) keeps
 *     n_r = max(1, floor(n_max * (r + 1)^(-a) + 0.5)),   a = ln(ratio) / ln(C)  (a = 0 when C = 1),
 * a power law with n_0 / n_{C-1} = ratio (before rounding), where n_max is the smallest class size
 * in `in`, so every class can supply its share; rows drawn without replacement. Every class must
 * have a row in `in`; ratio >= 1. */
int uf_rows_longtail(const uf_dataset *ds, const uf_rows *in, double ratio, uint64_t seed, uf_rows *out,
                     uf_err *e);

/* A seeded per-class validation split carved from `in` (for the hyper-parameter grid): class c's
 * n_c rows send min(n_c - 1, max(1, round(frac * n_c))) rows to val and the rest to train, so each
 * part has every class. A class with fewer than 2 rows is an error naming it; frac in (0, 1). */
int uf_rows_split(const uf_dataset *ds, const uf_rows *in, double frac, uint64_t seed, uf_rows *train,
                  uf_rows *val, uf_err *e);

/* Every class of ds has a row in r, else an error naming the first empty class by index and name,
 * prefixed by `what` ("digits train: class 7 ('7') has no training image"). */
int uf_rows_check_classes(const uf_dataset *ds, const uf_rows *r, const char *what, uf_err *e);

#endif
