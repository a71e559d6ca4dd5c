/* Row lists (data/rows.h) on data sets built here in memory: per-class counts equal the formulas,
 * outputs are ascending subsets of their input, a seed gives the same rows and another seed other
 * rows, split parts are disjoint with the input as their union, selections read from .tsv files
 * pick exactly the rows of the named classes or clusters, and every bad input fails naming it. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"
#include "data/rows.h"

enum { MAXC = 8 };

static char *names[MAXC] = {"a", "b", "c", "d", "e", "f", "g", "h"};

/* A data set of C classes of the given sizes, rows of the classes mixed in a seeded order. */
static void make_ds(uf_dataset *ds, int C, const int *size)
{
    memset(ds, 0, sizeof *ds);
    strcpy(ds->name, "toy");
    for (int c = 0; c < C; c++)
        ds->n += size[c];
    ds->label = malloc(sizeof(int) * (size_t)ds->n);
    ds->nclasses = C;
    ds->classes = names;
    int k = 0;
    for (int c = 0; c < C; c++)
        for (int i = 0; i < size[c]; i++)
            ds->label[k++] = c;
    for (int i = ds->n - 1; i > 0; i--) {
        int j = (int)(uf_rng_uniform(77, 1, (uint64_t)i) * (i + 1)), t = ds->label[i];
        ds->label[i] = ds->label[j];
        ds->label[j] = t;
    }
}

static void counts(const uf_dataset *ds, const uf_rows *r, int *n)
{
    memset(n, 0, sizeof(int) * MAXC);
    for (int i = 0; i < r->n; i++)
        n[ds->label[r->row[i]]]++;
}

/* a is strictly ascending and every row of a is in b */
static int ascending_subset(const uf_rows *a, const uf_rows *b)
{
    int j = 0;
    for (int i = 0; i < a->n; i++) {
        if (i && a->row[i] <= a->row[i - 1])
            return 0;
        while (j < b->n && b->row[j] < a->row[i])
            j++;
        if (j == b->n || b->row[j] != a->row[i])
            return 0;
    }
    return 1;
}

static int same(const uf_rows *a, const uf_rows *b)
{
    return a->n == b->n && memcmp(a->row, b->row, sizeof(int) * (size_t)a->n) == 0;
}

/* call fails with a message holding every given substring */
#define CHECK_FAILS(call, e, s1, s2)                                                      \
    do {                                                                                  \
        int rc_ = (call);                                                                 \
        CHECK(rc_ == -1);                                                                 \
        if (rc_ == -1 && (!strstr((e).msg, s1) || !strstr((e).msg, s2))) {               \
            fprintf(stderr, "  message was: %s\n", (e).msg);                              \
            CHECK(!"message names the problem");                                          \
        }                                                                                 \
    } while (0)

static const int size1[5] = {10, 7, 4, 13, 2};

static void test_fraction(const uf_dataset *ds, const uf_rows *all)
{
    uf_rows a, b, c, d;
    uf_err e;
    int n[MAXC];
    CHECK_OK(uf_rows_fraction(ds, all, 0.5, 3, &a, &e), e);
    CHECK_OK(uf_rows_fraction(ds, all, 0.5, 3, &b, &e), e);
    CHECK_OK(uf_rows_fraction(ds, all, 0.5, 4, &c, &e), e);
    counts(ds, &a, n);
    CHECK(n[0] == 5 && n[1] == 4 && n[2] == 2 && n[3] == 7 && n[4] == 1); /* round half up */
    CHECK(ascending_subset(&a, all) && same(&a, &b) && !same(&a, &c));
    /* a fraction of a subset counts the subset's rows: 0.2 of {5, 4, 2, 7, 1}, at least one */
    CHECK_OK(uf_rows_fraction(ds, &a, 0.2, 3, &d, &e), e);
    counts(ds, &d, n);
    CHECK(n[0] == 1 && n[1] == 1 && n[2] == 1 && n[3] == 1 && n[4] == 1 && ascending_subset(&d, &a));
    uf_rows_free(&d);
    CHECK_OK(uf_rows_fraction(ds, &a, 1.0, 9, &d, &e), e);
    CHECK(same(&d, &a));
    uf_rows_free(&d);
    CHECK_FAILS(uf_rows_fraction(ds, all, 0, 3, &d, &e), e, "(0, 1]", "not 0");
    CHECK_FAILS(uf_rows_fraction(ds, all, 1.5, 3, &d, &e), e, "(0, 1]", "1.5");
    CHECK_FAILS(uf_rows_fraction(ds, all, NAN, 3, &d, &e), e, "(0, 1]", "nan");
    uf_rows bad = {2, (int[]){5, 5}};
    CHECK_FAILS(uf_rows_fraction(ds, &bad, 0.5, 3, &d, &e), e, "not a row list", "row 5");
    bad.row[1] = ds->n;
    CHECK_FAILS(uf_rows_fraction(ds, &bad, 0.5, 3, &d, &e), e, "not a row list", "row 36");
    uf_rows_free(&a);
    uf_rows_free(&b);
    uf_rows_free(&c);
}

static void test_split(const uf_dataset *ds, const uf_rows *all)
{
    uf_rows tr, va, tr2, va2, tr3, va3;
    uf_err e;
    int nt[MAXC], nv[MAXC];
    CHECK_OK(uf_rows_split(ds, all, 0.2, 1, &tr, &va, &e), e);
    CHECK_OK(uf_rows_split(ds, all, 0.2, 1, &tr2, &va2, &e), e);
    CHECK_OK(uf_rows_split(ds, all, 0.2, 2, &tr3, &va3, &e), e);
    counts(ds, &va, nv);
    counts(ds, &tr, nt);
    int want[5] = {2, 1, 1, 3, 1}; /* min(n - 1, max(1, round(0.2 n))) */
    for (int c = 0; c < 5; c++)
        CHECK(nv[c] == want[c] && nt[c] == size1[c] - want[c]);
    CHECK(ascending_subset(&tr, all) && ascending_subset(&va, all) && tr.n + va.n == all->n);
    char *in = calloc((size_t)ds->n, 1); /* disjoint: with the sizes adding up, the union is `all` */
    for (int i = 0; i < tr.n; i++)
        in[tr.row[i]]++;
    for (int i = 0; i < va.n; i++)
        in[va.row[i]]++;
    for (int i = 0; i < ds->n; i++)
        CHECK(in[i] == 1);
    free(in);
    CHECK(same(&tr, &tr2) && same(&va, &va2) && !same(&va, &va3));
    /* 0.9 of class e's 2 rows would empty its train part: one stays */
    uf_rows_free(&tr2);
    uf_rows_free(&va2);
    CHECK_OK(uf_rows_split(ds, all, 0.9, 1, &tr2, &va2, &e), e);
    counts(ds, &tr2, nt);
    CHECK(nt[4] == 1 && nt[2] == 1 && nt[0] == 1);
    uf_rows_free(&tr3);
    uf_rows_free(&va3);
    CHECK_FAILS(uf_rows_split(ds, all, 1.0, 1, &tr3, &va3, &e), e, "(0, 1)", "not 1");
    CHECK_FAILS(uf_rows_split(ds, all, 0, 1, &tr3, &va3, &e), e, "(0, 1)", "not 0");
    /* the validation part has one row of class b: no split of it */
    CHECK_FAILS(uf_rows_split(ds, &va, 0.5, 1, &tr3, &va3, &e), e, "class 1 ('b') has 1 row", "at least 2");
    uf_rows_free(&tr);
    uf_rows_free(&va);
    uf_rows_free(&tr2);
    uf_rows_free(&va2);
}

static void test_longtail(void)
{
    static const int size[6] = {50, 45, 60, 40, 55, 48};
    uf_dataset ds;
    uf_rows all, a, b, c, d;
    uf_err e;
    int n[MAXC], m[MAXC];
    make_ds(&ds, 6, size);
    CHECK_OK(uf_rows_all(&ds, &all, &e), e);
    CHECK_OK(uf_rows_longtail(&ds, &all, 10, 5, &a, &e), e);
    CHECK_OK(uf_rows_longtail(&ds, &all, 10, 5, &b, &e), e);
    CHECK_OK(uf_rows_longtail(&ds, &all, 10, 6, &c, &e), e);
    CHECK(ascending_subset(&a, &all) && same(&a, &b) && !same(&a, &c));
    /* n_r = max(1, round(40 (r + 1)^(-ln 10 / ln 6))), 40 the smallest class: 40, 16, 10, 7, 5, 4 */
    static const int want[6] = {40, 16, 10, 7, 5, 4};
    counts(&ds, &a, n);
    counts(&ds, &c, m);
    int used[6] = {0}, used2[6] = {0}, moved = 0;
    for (int cl = 0; cl < 6; cl++) {
        int r = 0, r2 = 0;
        while (r < 6 && (want[r] != n[cl] || used[r]))
            r++;
        while (r2 < 6 && (want[r2] != m[cl] || used2[r2]))
            r2++;
        CHECK(r < 6 && r2 < 6); /* every class has one of the sizes, each size once */
        if (r < 6 && r2 < 6) {
            used[r] = used2[r2] = 1;
            moved += r != r2;
        }
    }
    CHECK(moved > 0); /* another seed ranks the classes in another order */
    /* a tail of a subset: its smallest class sets n_max */
    CHECK_OK(uf_rows_fraction(&ds, &all, 0.5, 1, &d, &e), e); /* 25, 23, 30, 20, 28, 24 */
    uf_rows_free(&b);
    CHECK_OK(uf_rows_longtail(&ds, &d, 10, 5, &b, &e), e);
    counts(&ds, &b, n);
    int big = 0, small = 1 << 30;
    for (int cl = 0; cl < 6; cl++) {
        big = n[cl] > big ? n[cl] : big;
        small = n[cl] < small ? n[cl] : small;
    }
    CHECK(big == 20 && small == 2 && ascending_subset(&b, &d));
    uf_rows_free(&b);
    CHECK_FAILS(uf_rows_longtail(&ds, &all, 0.5, 5, &b, &e), e, ">= 1", "0.5");
    d.n = 0;
    CHECK_FAILS(uf_rows_longtail(&ds, &d, 10, 5, &b, &e), e, "class 0 ('a')", "no row");
    uf_rows_free(&a);
    uf_rows_free(&c);
    uf_rows_free(&d);
    uf_rows_free(&all);
    free(ds.label);
}

static void test_check_classes(uf_dataset *ds, const uf_rows *all)
{
    uf_err e;
    CHECK_OK(uf_rows_check_classes(ds, all, "toy train", &e), e);
    uf_rows r = {0, malloc(sizeof(int) * (size_t)all->n)};
    for (int i = 0; i < all->n; i++)
        if (ds->label[i] != 3)
            r.row[r.n++] = i;
    CHECK(uf_rows_check_classes(ds, &r, "toy train", &e) == -1 &&
          strcmp(e.msg, "toy train: class 3 ('d') has no training image") == 0);
    r.row[0] = -1;
    CHECK_FAILS(uf_rows_check_classes(ds, &r, "toy train", &e), e, "toy train", "row -1");
    uf_rows_free(&r);
}

/* The rows whose unit (label, or assign[row]) is in units[0..k). */
static int rows_of_units(const uf_dataset *ds, const int *assign, const int *units, int k, const uf_rows *r)
{
    int n = 0;
    for (int i = 0; i < ds->n; i++) {
        int u = assign ? assign[i] : ds->label[i], hit = 0;
        for (int j = 0; j < k; j++)
            hit |= units[j] == u;
        if (hit && (n >= r->n || r->row[n++] != i))
            return 0;
    }
    return n == r->n;
}

static const char *put(const char *dir, const char *name, const char *text)
{
    const char *p = check_path(dir, name);
    check_write_bytes(p, text, strlen(text));
    return p;
}

static void test_select(const uf_dataset *ds, const char *dir)
{
    uf_rows r;
    uf_err e;
    const char *p = put(dir, "sel.tsv", "rank\tindex\tscore\n1\t3\t0.9\n2\t0\t0.5\n3\t4\t0.1\n");
    CHECK_OK(uf_rows_select(ds, NULL, 0, 5, p, 2, &r, &e), e);
    CHECK(rows_of_units(ds, NULL, (int[]){3, 0}, 2, &r) && r.n == 23);
    uf_rows_free(&r);
    CHECK_OK(uf_rows_select(ds, NULL, 0, 5, p, 0, &r, &e), e);
    CHECK(rows_of_units(ds, NULL, (int[]){3, 0, 4}, 3, &r) && r.n == 25);
    uf_rows_free(&r);
    int *assign = malloc(sizeof(int) * (size_t)ds->n);
    for (int i = 0; i < ds->n; i++)
        assign[i] = i % 5 == 4 ? 0 : i % 5; /* clusters 0..3 of 6: 4 and 5 are empty */
    p = put(dir, "clusters.tsv", "rank\tindex\tscore\n1\t2\t3\n2\t0\t1\n");
    CHECK_OK(uf_rows_select(ds, assign, ds->n, 6, p, -1, &r, &e), e);
    CHECK(rows_of_units(ds, assign, (int[]){2, 0}, 2, &r));
    uf_rows_free(&r);
    CHECK_FAILS(uf_rows_select(ds, assign, ds->n - 1, 6, p, 0, &r, &e), e, "clusters.tsv", "35 cluster assignments");
    CHECK_FAILS(uf_rows_select(ds, NULL, 0, 6, p, 0, &r, &e), e, "clusters.tsv", "6 classes expected");
    CHECK_FAILS(uf_rows_select(ds, assign, ds->n, 6, p, 3, &r, &e), e, "clusters.tsv", "top 3");
    p = put(dir, "empty.tsv", "rank\tindex\tscore\n1\t5\t3\n2\t4\t1\n");
    CHECK_FAILS(uf_rows_select(ds, assign, ds->n, 6, p, 0, &r, &e), e, "empty.tsv", "no rows");
    p = put(dir, "far.tsv", "rank\tindex\tscore\n1\t2\t3\n2\t812\t1\n");
    CHECK_FAILS(uf_rows_select(ds, NULL, 0, 5, p, 0, &r, &e), e, "far.tsv",
                "names class 812, but the source has 5 classes");
    CHECK_FAILS(uf_rows_select(ds, assign, ds->n, 6, p, 0, &r, &e), e, "far.tsv", "cluster 812");
    CHECK_OK(uf_rows_select(ds, NULL, 0, 5, p, 1, &r, &e), e); /* rows past top are not read */
    uf_rows_free(&r);
    p = put(dir, "twice.tsv", "rank\tindex\tscore\n1\t2\t3\n2\t2\t1\n");
    CHECK_FAILS(uf_rows_select(ds, NULL, 0, 5, p, 0, &r, &e), e, "twice.tsv", "class 2 twice");
    p = put(dir, "noindex.tsv", "rank\tidx\tscore\n1\t2\t3\n");
    CHECK_FAILS(uf_rows_select(ds, NULL, 0, 5, p, 0, &r, &e), e, "noindex.tsv", "no 'index' column");
    p = put(dir, "word.tsv", "rank\tindex\tscore\n1\t2x\t3\n");
    CHECK_FAILS(uf_rows_select(ds, NULL, 0, 5, p, 0, &r, &e), e, "word.tsv", "'2x' is not an integer");
    assign[7] = 6;
    p = put(dir, "ok.tsv", "index\n1\n");
    CHECK_FAILS(uf_rows_select(ds, assign, ds->n, 6, p, 0, &r, &e), e, "row 7", "outside [0, 6)");
    CHECK_FAILS(uf_rows_select(ds, NULL, 0, 5, check_path(dir, "missing.tsv"), 0, &r, &e), e, "missing.tsv", "");
    free(assign);
}

int main(void)
{
    uf_dataset ds;
    uf_rows all;
    uf_err e;
    make_ds(&ds, 5, size1);
    CHECK_OK(uf_rows_all(&ds, &all, &e), e);
    CHECK(all.n == 36 && all.row[0] == 0 && all.row[35] == 35);
    test_fraction(&ds, &all);
    test_split(&ds, &all);
    test_longtail();
    test_check_classes(&ds, &all);
    char dir[] = "/tmp/uotft-rows-XXXXXX", cmd[64];
    CHECK(mkdtemp(dir) != NULL);
    test_select(&ds, dir);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    uf_rows_free(&all);
    free(ds.label);
    CHECK_DONE();
}
