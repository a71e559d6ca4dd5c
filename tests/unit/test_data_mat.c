/* The MAT-file reader against scipy.io.loadmat (dumps written by tests/oracle/data_mat_fixtures.py)
 * on scipy-written fixtures and on the real ImageNet devkit and Stanford Cars files, plus the facts
 * DATASETS.md states about them, and corrupt or truncated input.
 * usage: test_data_mat FIXTURE_DIR REF */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/fileio.h"
#include "core/tsv.h"
#include "data/mat.h"

typedef struct sbuf {
    char *s;
    size_t len, cap;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->cap = b->cap * 2 + (size_t)n + 64;
        b->s = realloc(b->s, b->cap);
    }
}

static void end_line(sbuf *b) /* the oracle strips a trailing " =" from lines without values */
{
    while (b->len && (b->s[b->len - 1] == ' ' || b->s[b->len - 1] == '='))
        b->len--;
    put(b, "\n");
}

static void dims(sbuf *b, const uf_mat *v)
{
    for (int d = 0; d < v->ndim; d++)
        put(b, d ? "x%lld" : "%lld", (long long)v->dims[d]);
}

/* The canonical form of dump() in tests/oracle/data_mat_fixtures.py. */
static void dump(sbuf *b, const char *path, const uf_mat *v)
{
    char sub[512];
    switch (v->kind) {
    case UF_MAT_STRUCT:
        put(b, "%s struct ", path);
        dims(b, v);
        put(b, " fields=");
        for (int f = 0; f < v->nfields; f++)
            put(b, f ? ",%s" : "%s", v->fields[f]);
        end_line(b);
        for (size_t i = 0; i < v->n; i++)
            for (int f = 0; f < v->nfields; f++) {
                snprintf(sub, sizeof sub, "%s(%zu).%s", path, i + 1, v->fields[f]);
                dump(b, sub, v->field[i * (size_t)v->nfields + (size_t)f]);
            }
        break;
    case UF_MAT_CELL:
        put(b, "%s cell ", path);
        dims(b, v);
        end_line(b);
        for (size_t i = 0; i < v->n; i++) {
            snprintf(sub, sizeof sub, "%s{%zu}", path, i + 1);
            dump(b, sub, v->cell[i]);
        }
        break;
    case UF_MAT_CHAR:
        put(b, "%s char ", path);
        dims(b, v);
        put(b, " =");
        for (int64_t r = 0; r < v->dims[0]; r++)
            put(b, " \"%s\"", v->rows[r]);
        end_line(b);
        break;
    case UF_MAT_NUM:
        put(b, "%s num c%d ", path, v->mxclass);
        dims(b, v);
        put(b, " =");
        for (size_t i = 0; i < v->n; i++)
            put(b, " %.17g", v->num[i]);
        end_line(b);
        break;
    }
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp((*(uf_mat *const *)a)->name, (*(uf_mat *const *)b)->name);
}

/* Reads a MAT-file and compares its dump, variables in name order, with scipy's. */
static void check_against_scipy(const char *mat, const char *expect)
{
    uf_err e;
    uf_mat_file f;
    char *want;
    size_t wlen;
    CHECK_OK(uf_mat_read(mat, &f, &e), e);
    CHECK_OK(uf_read_file(expect, &want, &wlen, &e), e);
    if (check_failures)
        return;
    qsort(f.vars, (size_t)f.nvars, sizeof *f.vars, cmp_name);
    sbuf b = {0};
    put(&b, "%s", "");
    for (int i = 0; i < f.nvars; i++)
        dump(&b, f.vars[i]->name, f.vars[i]);
    if (b.len != wlen || memcmp(b.s, want, wlen) != 0) {
        size_t k = 0;
        while (k < b.len && k < wlen && b.s[k] == want[k])
            k++;
        size_t ls = k;
        while (ls && want[ls - 1] != '\n')
            ls--;
        fprintf(stderr, "%s: differs from scipy at byte %zu:\n  scipy: %.160s\n  ours:  %.160s\n", mat, k, want + ls,
                b.s + ls);
        check_failures++;
    }
    free(b.s);
    free(want);
    uf_mat_file_free(&f);
}

static void check_imagenet_meta(const char *ref)
{
    char path[4096];
    uf_err e;
    uf_mat_file f;
    snprintf(path, sizeof path, "%s/dataset-metadata/imagenet-devkit/meta.mat", ref);
    CHECK_OK(uf_mat_read(path, &f, &e), e);
    const uf_mat *s = uf_mat_var(&f, "synsets");
    CHECK(s && s->kind == UF_MAT_STRUCT && s->n == 1860 && s->dims[0] == 1860 && s->dims[1] == 1);
    CHECK(strstr(f.header, "MATLAB 5.0 MAT-file") == f.header);
    if (!s || s->n != 1860)
        return;
    /* 1000 leaves (num_children == 0), exactly ILSVRC2012_ID 1..1000 in order, 1281167 train images */
    int leaves = 0, in_order = 1;
    double images = 0;
    char wnid[1000][16];
    for (size_t i = 0; i < s->n; i++) {
        if (uf_mat_scalar(uf_mat_field(s, i, "num_children")) != 0)
            continue;
        in_order &= uf_mat_scalar(uf_mat_field(s, i, "ILSVRC2012_ID")) == (double)(leaves + 1);
        images += uf_mat_scalar(uf_mat_field(s, i, "num_train_images"));
        if (leaves < 1000)
            snprintf(wnid[leaves], sizeof wnid[0], "%s", uf_mat_str(uf_mat_field(s, i, "WNID")));
        leaves++;
    }
    CHECK(leaves == 1000);
    CHECK(in_order);
    CHECK(images == 1281167);
    CHECK(strcmp(wnid[0], "n02119789") == 0); /* ID 1 = kit fox */
    CHECK(strcmp(uf_mat_str(uf_mat_field(s, 1000, "WNID")), "n00001740") == 0); /* row 1001 = entity */
    /* sorted, the leaves are the released class list's WNIDs in index order */
    qsort(wnid, 1000, sizeof wnid[0], (int (*)(const void *, const void *))strcmp);
    uf_tsv t;
    snprintf(path, sizeof path, "%s/released-class-means/imagenet-classes.tsv", ref);
    CHECK_OK(uf_tsv_read(path, &t, &e), e);
    int col = uf_tsv_col(&t, "wnid"), same = t.nrows == 1000 && col >= 0;
    for (int i = 0; same && i < 1000; i++)
        same = strcmp(uf_tsv_at(&t, i, col), wnid[i]) == 0;
    CHECK(same);
    uf_tsv_free(&t);
    uf_mat_file_free(&f);
}

static void check_cars(const char *ref)
{
    char path[4096];
    uf_err e;
    uf_mat_file f;
    snprintf(path, sizeof path, "%s/dataset-metadata/stanford-cars-devkit/cars_meta.mat", ref);
    CHECK_OK(uf_mat_read(path, &f, &e), e);
    const uf_mat *c = uf_mat_var(&f, "class_names");
    CHECK(c && c->kind == UF_MAT_CELL && c->n == 196 && c->dims[0] == 1);
    if (c && c->n == 196)
        CHECK(strcmp(uf_mat_str(c->cell[0]), "AM General Hummer SUV 2000") == 0);
    uf_mat_file_free(&f);

    snprintf(path, sizeof path, "%s/dataset-metadata/stanford-cars-devkit/cars_train_annos.mat", ref);
    CHECK_OK(uf_mat_read(path, &f, &e), e);
    const uf_mat *a = uf_mat_var(&f, "annotations");
    CHECK(a && a->kind == UF_MAT_STRUCT && a->n == 8144 && a->nfields == 6);
    int seen[197] = {0}, ok = a != NULL;
    for (size_t i = 0; a && i < a->n; i++) {
        double k = uf_mat_scalar(uf_mat_field(a, i, "class"));
        double x1 = uf_mat_scalar(uf_mat_field(a, i, "bbox_x1")), x2 = uf_mat_scalar(uf_mat_field(a, i, "bbox_x2"));
        double y1 = uf_mat_scalar(uf_mat_field(a, i, "bbox_y1")), y2 = uf_mat_scalar(uf_mat_field(a, i, "bbox_y2"));
        ok &= k >= 1 && k <= 196 && x1 < x2 && y1 < y2;
        if (k >= 1 && k <= 196)
            seen[(int)k] = 1;
        char want[32];
        snprintf(want, sizeof want, "%05zu.jpg", i + 1);
        const char *fn = uf_mat_str(uf_mat_field(a, i, "fname"));
        ok &= fn && strcmp(fn, want) == 0;
    }
    int all = 1;
    for (int k = 1; k <= 196; k++)
        all &= seen[k];
    CHECK(ok);
    CHECK(all);
    uf_mat_file_free(&f);

    snprintf(path, sizeof path, "%s/dataset-metadata/stanford-cars-devkit/cars_test_annos.mat", ref);
    CHECK_OK(uf_mat_read(path, &f, &e), e);
    a = uf_mat_var(&f, "annotations");
    CHECK(a && a->n == 8041 && a->nfields == 5 && !uf_mat_field(a, 0, "class") && uf_mat_field(a, 0, "fname"));
    uf_mat_file_free(&f);
}

/* Truncations and byte flips must give an error or a parse, never a crash or a hang. */
static void check_corrupt(const char *path)
{
    char *buf;
    size_t len;
    uf_err e;
    uf_mat_file f;
    CHECK_OK(uf_read_file(path, &buf, &len, &e), e);
    if (check_failures)
        return;
    int errors = 0;
    for (size_t cut = 0; cut < len; cut += len / 97 + 1) {
        if (uf_mat_parse(buf, cut, "cut", &f, &e) == 0)
            uf_mat_file_free(&f);
        else
            errors++;
    }
    CHECK(errors > 90); /* nearly every truncation is reported */
    CHECK(uf_mat_parse("MATLAB 7.3 MAT-file", 19, "x", &f, &e) != 0);
    char *copy = malloc(len);
    for (unsigned k = 0; k < 2000; k++) {
        memcpy(copy, buf, len);
        size_t at = 128 + (k * 2654435761u) % (len - 128);
        copy[at] = (char)(copy[at] ^ (1 << (k % 8)));
        if (uf_mat_parse(copy, len, "flip", &f, &e) == 0)
            uf_mat_file_free(&f);
    }
    free(copy);
    free(buf);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_data_mat FIXTURE_DIR REF\n");
        return 2;
    }
    const char *fx = argv[1], *ref = argv[2];
    char mat[4096], expect[4096];
    static const char *const fixtures[] = {"fix_z", "fix_plain"};
    for (int i = 0; i < 2; i++) {
        snprintf(mat, sizeof mat, "%s/%s.mat", fx, fixtures[i]);
        snprintf(expect, sizeof expect, "%s/%s.expect", fx, fixtures[i]);
        check_against_scipy(mat, expect);
    }
    static const char *const real[][2] = {{"imagenet-devkit/meta.mat", "meta"},
                                          {"stanford-cars-devkit/cars_meta.mat", "cars_meta"},
                                          {"stanford-cars-devkit/cars_train_annos.mat", "cars_train_annos"},
                                          {"stanford-cars-devkit/cars_test_annos.mat", "cars_test_annos"}};
    for (int i = 0; i < 4; i++) {
        snprintf(mat, sizeof mat, "%s/dataset-metadata/%s", ref, real[i][0]);
        snprintf(expect, sizeof expect, "%s/%s.expect", fx, real[i][1]);
        check_against_scipy(mat, expect);
    }
    check_imagenet_meta(ref);
    check_cars(ref);
    snprintf(mat, sizeof mat, "%s/fix_plain.mat", fx);
    check_corrupt(mat);
    snprintf(mat, sizeof mat, "%s/dataset-metadata/stanford-cars-devkit/cars_meta.mat", ref);
    check_corrupt(mat);
    CHECK_DONE();
}
