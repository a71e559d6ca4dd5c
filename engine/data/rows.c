#include "rows.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "core/tsv.h"

/* One random stream per function, so a fraction and a split drawn with the same seed are independent. */
enum { RNG_FRACTION = 0x46524143, RNG_TAIL_ORDER = 0x5441494f, RNG_TAIL_DRAW = 0x5441494c, RNG_SPLIT = 0x53504c54 };

void uf_rows_free(uf_rows *r)
{
    free(r->row);
    r->row = NULL;
    r->n = 0;
}

static int *alloc_ints(int n, uf_err *e)
{
    return uf_calloc((size_t)(n > 0 ? n : 1), sizeof(int), e);
}

int uf_rows_all(const uf_dataset *ds, uf_rows *out, uf_err *e)
{
    out->row = alloc_ints(ds->n, e);
    out->n = out->row ? ds->n : 0;
    if (!out->row)
        return -1;
    for (int i = 0; i < ds->n; i++)
        out->row[i] = i;
    return 0;
}

/* The i in [0, n) with mask[i] == v, ascending: building lists from a mask keeps them sorted
 * whatever order the rows were picked in. */
static int rows_where(const char *mask, int n, char v, uf_rows *out, uf_err *e)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        k += mask[i] == v;
    out->row = alloc_ints(k, e);
    out->n = out->row ? k : 0;
    if (!out->row)
        return -1;
    k = 0;
    for (int i = 0; i < n; i++)
        if (mask[i] == v)
            out->row[k++] = i;
    return 0;
}

static const char *class_name(const uf_dataset *ds, int c)
{
    return ds->classes && ds->classes[c] ? ds->classes[c] : "?";
}

/* ---- selections ---- */

/* chosen[u] = 1 for the units named by the first `top` rows (top <= 0: all) of a selection file. */
static int read_selection(const char *path, int top, int nunits, int clusters, char *chosen, uf_err *e)
{
    const char *unit = clusters ? "cluster" : "class", *units = clusters ? "clusters" : "classes";
    uf_tsv t;
    if (uf_tsv_read(path, &t, e))
        return -1;
    int col = uf_tsv_col(&t, "index"), rc = 0;
    if (col < 0)
        rc = uf_fail(e, "selection %s: no 'index' column in the header", path);
    else if (top > t.nrows)
        rc = uf_fail(e, "selection %s: the top %d asked for, but it lists only %d %s", path, top, t.nrows, units);
    int k = top > 0 ? top : t.nrows;
    for (int r = 0; !rc && r < k; r++) {
        const char *s = uf_tsv_at(&t, r, col);
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s || *end || errno)
            rc = uf_fail(e, "selection %s: data row %d: index '%s' is not an integer", path, r + 1, s);
        else if (v < 0 || v >= nunits)
            rc = uf_fail(e, "selection %s names %s %ld, but the source has %d %s", path, unit, v, nunits, units);
        else if (chosen[v])
            rc = uf_fail(e, "selection %s names %s %ld twice (data row %d)", path, unit, v, r + 1);
        else
            chosen[v] = 1;
    }
    uf_tsv_free(&t);
    return rc;
}

/* mask[row] = 1 for the rows whose unit is chosen. */
static int mark_units(const uf_dataset *ds, const int *assign, int nunits, const char *chosen, const char *path,
                      char *mask, uf_err *e)
{
    for (int r = 0; r < ds->n; r++) {
        int u = assign ? assign[r] : ds->label[r]; /* labels are in range: the readers' contract */
        if (assign && (u < 0 || u >= nunits))
            return uf_fail(e, "selection %s: row %d of %s is in cluster %d, outside [0, %d)", path, r, ds->name, u,
                           nunits);
        mask[r] = chosen[u];
    }
    return 0;
}

int uf_rows_select(const uf_dataset *ds, const int *assign, int nassign, int nunits, const char *tsv, int top,
                   uf_rows *out, uf_err *e)
{
    *out = (uf_rows){0};
    if (assign && nassign != ds->n)
        return uf_fail(e, "selection %s: %d cluster assignments for the %d rows of %s", tsv, nassign, ds->n, ds->name);
    if (!assign && nunits != ds->nclasses)
        return uf_fail(e, "selection %s: %d classes expected, but %s has %d", tsv, nunits, ds->name, ds->nclasses);
    char *chosen = uf_calloc((size_t)(nunits > 0 ? nunits : 1), 1, e);
    char *mask = uf_calloc((size_t)(ds->n > 0 ? ds->n : 1), 1, e);
    int rc = -1;
    if (chosen && mask && !read_selection(tsv, top, nunits, assign != NULL, chosen, e) &&
        !mark_units(ds, assign, nunits, chosen, tsv, mask, e) && !rows_where(mask, ds->n, 1, out, e))
        rc = out->n ? 0 : uf_fail(e, "selection %s: its %s have no rows in %s", tsv, assign ? "clusters" : "classes",
                                  ds->name);
    if (rc)
        uf_rows_free(out);
    free(chosen);
    free(mask);
    return rc;
}

/* ---- seeded per-class draws ---- */

/* `in`'s rows by class: class c's are row[start[c] .. start[c + 1]), ascending. */
typedef struct groups {
    int *start; /* nclasses + 2 (the last is scratch) */
    int *row;
} groups;

static void groups_free(groups *g)
{
    free(g->start);
    free(g->row);
}

static int group_rows(const uf_dataset *ds, const uf_rows *in, groups *g, uf_err *e)
{
    for (int i = 0; i < in->n; i++)
        if (in->row[i] < 0 || in->row[i] >= ds->n || (i && in->row[i] <= in->row[i - 1]))
            return uf_fail(e, "%s: not a row list (rows ascending in [0, %d)): position %d holds row %d", ds->name,
                           ds->n, i, in->row[i]);
    int C = ds->nclasses;
    g->start = uf_calloc((size_t)C + 2, sizeof *g->start, e);
    g->row = alloc_ints(in->n, e);
    if (!g->start || !g->row)
        return -1;
    /* counting sort, stable, so each class's rows stay ascending */
    for (int i = 0; i < in->n; i++)
        g->start[ds->label[in->row[i]] + 2]++;
    for (int c = 0; c < C; c++)
        g->start[c + 2] += g->start[c + 1];
    for (int i = 0; i < in->n; i++)
        g->row[g->start[ds->label[in->row[i]] + 1]++] = in->row[i];
    return 0;
}

/* Moves a seeded choice of k of the n rows in r to the front: the first k steps of a Fisher-Yates
 * shuffle keyed by (seed, purpose, class, step), so a class's pick depends on its own rows only. */
static void draw(int *r, int n, int k, uint64_t seed, uint64_t purpose, int c)
{
    for (int i = 0; i < k; i++) {
        int j = i + (int)(uf_rng_uniform(seed, purpose, ((uint64_t)c << 32) | (uint64_t)i) * (n - i));
        int t = r[i];
        r[i] = r[j];
        r[j] = t;
    }
}

static int round_half_up(double x)
{
    return (int)floor(x + 0.5);
}

/* Rows to draw from each class, given each class's count in `in`. */
typedef int (*keep_fn)(const uf_dataset *ds, const int *count, const void *ctx, int *keep, uf_err *e);

/* Draws keep[c] rows of each class c of `in` into kept; the others of `in` go to rest (if not NULL). */
static int sample(const uf_dataset *ds, const uf_rows *in, keep_fn f, const void *ctx, uint64_t seed,
                  uint64_t purpose, uf_rows *kept, uf_rows *rest, uf_err *e)
{
    int C = ds->nclasses, rc = -1;
    groups g = {0};
    int *count = alloc_ints(C, e), *keep = alloc_ints(C, e);
    char *mask = uf_calloc((size_t)(ds->n > 0 ? ds->n : 1), 1, e);
    *kept = (uf_rows){0};
    if (rest)
        *rest = (uf_rows){0};
    if (count && keep && mask && !group_rows(ds, in, &g, e)) {
        for (int c = 0; c < C; c++)
            count[c] = g.start[c + 1] - g.start[c];
        rc = f(ds, count, ctx, keep, e);
    }
    for (int c = 0; !rc && c < C; c++) {
        int *r = g.row + g.start[c];
        draw(r, count[c], keep[c], seed, purpose, c);
        for (int i = 0; i < count[c]; i++)
            mask[r[i]] = i < keep[c] ? 2 : 1;
    }
    if (!rc)
        rc = rows_where(mask, ds->n, 2, kept, e) || (rest && rows_where(mask, ds->n, 1, rest, e)) ? -1 : 0;
    if (rc) {
        uf_rows_free(kept);
        if (rest)
            uf_rows_free(rest);
    }
    groups_free(&g);
    free(count);
    free(keep);
    free(mask);
    return rc;
}

static int keep_fraction(const uf_dataset *ds, const int *count, const void *ctx, int *keep, uf_err *e)
{
    (void)e;
    double frac = *(const double *)ctx;
    for (int c = 0; c < ds->nclasses; c++) {
        int k = round_half_up(frac * count[c]);
        keep[c] = count[c] == 0 ? 0 : k < 1 ? 1 : k;
    }
    return 0;
}

int uf_rows_fraction(const uf_dataset *ds, const uf_rows *in, double frac, uint64_t seed, uf_rows *out,
                     uf_err *e)
{
    if (!(frac > 0 && frac <= 1))
        return uf_fail(e, "%s: a fraction of every class must be in (0, 1], not %g", ds->name, frac);
    return sample(ds, in, keep_fraction, &frac, seed, RNG_FRACTION, out, NULL, e);
}

typedef struct tail {
    double ratio;
    uint64_t seed;
} tail;

static int keep_longtail(const uf_dataset *ds, const int *count, const void *ctx, int *keep, uf_err *e)
{
    const tail *t = ctx;
    int C = ds->nclasses, nmax = INT_MAX;
    for (int c = 0; c < C; c++) {
        if (count[c] == 0)
            return uf_fail(e, "%s long tail: class %d ('%s') has no row to draw from", ds->name, c, class_name(ds, c));
        nmax = count[c] < nmax ? count[c] : nmax;
    }
    int *order = alloc_ints(C, e);
    if (!order)
        return -1;
    for (int c = 0; c < C; c++)
        order[c] = c;
    draw(order, C, C, t->seed, RNG_TAIL_ORDER, 0); /* the classes' ranks: a whole seeded shuffle */
    double a = C > 1 ? log(t->ratio) / log(C) : 0;
    for (int r = 0; r < C; r++) {
        int k = round_half_up(nmax * pow(r + 1, -a));
        keep[order[r]] = k < 1 ? 1 : k;
    }
    free(order);
    return 0;
}

int uf_rows_longtail(const uf_dataset *ds, const uf_rows *in, double ratio, uint64_t seed, uf_rows *out,
                     uf_err *e)
{
    if (!(ratio >= 1 && ratio < INFINITY))
        return uf_fail(e, "%s long tail: the largest / smallest class ratio must be >= 1, not %g", ds->name, ratio);
    tail t = {ratio, seed};
    return sample(ds, in, keep_longtail, &t, seed, RNG_TAIL_DRAW, out, NULL, e);
}

static int keep_split(const uf_dataset *ds, const int *count, const void *ctx, int *keep, uf_err *e)
{
    double frac = *(const double *)ctx;
    for (int c = 0; c < ds->nclasses; c++) {
        if (count[c] < 2)
            return uf_fail(e, "%s validation split: class %d ('%s') has %d row(s), at least 2 needed", ds->name, c,
                           class_name(ds, c), count[c]);
        int k = round_half_up(frac * count[c]);
        keep[c] = k < 1 ? 1 : k > count[c] - 1 ? count[c] - 1 : k;
    }
    return 0;
}

int uf_rows_split(const uf_dataset *ds, const uf_rows *in, double frac, uint64_t seed, uf_rows *train,
                  uf_rows *val, uf_err *e)
{
    if (!(frac > 0 && frac < 1))
        return uf_fail(e, "%s validation split: the fraction must be in (0, 1), not %g", ds->name, frac);
    return sample(ds, in, keep_split, &frac, seed, RNG_SPLIT, val, train, e);
}

int uf_rows_check_classes(const uf_dataset *ds, const uf_rows *r, const char *what, uf_err *e)
{
    char *seen = uf_calloc((size_t)(ds->nclasses > 0 ? ds->nclasses : 1), 1, e);
    if (!seen)
        return -1;
    for (int i = 0; i < r->n; i++) {
        if (r->row[i] < 0 || r->row[i] >= ds->n) {
            free(seen);
            return uf_fail(e, "%s: row %d is not a row of %s (%d rows)", what, r->row[i], ds->name, ds->n);
        }
        seen[ds->label[r->row[i]]] = 1;
    }
    int c = 0;
    while (c < ds->nclasses && seen[c])
        c++;
    free(seen);
    if (c < ds->nclasses)
        return uf_fail(e, "%s: class %d ('%s') has no training image", what, c, class_name(ds, c));
    return 0;
}
