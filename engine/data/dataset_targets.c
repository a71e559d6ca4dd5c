/* Readers for the eight target data sets, each from its archives as published (DATASETS.md 3.2-3.9),
 * with the splits of SPEC section 5. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "dataset.h"
#include "mat.h"

enum { PATH_CAP = 4096 };

/* "<integer> <rest>" with the integer in [1, max]. */
static int id_line(char *line, long max, long *id, char **rest)
{
    char *end;
    *id = strtol(line, &end, 10);
    if (end == line || *id < 1 || *id > max || (*end != ' ' && *end != '\t'))
        return -1;
    while (*end == ' ' || *end == '\t')
        end++;
    *rest = end;
    return 0;
}

static long count_lines(const char *s)
{
    long n = 1;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void free_bufs(char **b, int n)
{
    for (int i = 0; i < n; i++)
        free(b[i]);
}

/* ---- CUB-200-2011: images.txt, image_class_labels.txt, train_test_split.txt, classes.txt ---- */

int uf_ds_cub(uf_dataset *ds, const char *root, int train, uint64_t seed, uf_err *e)
{
    (void)seed;
    static const char *const m[] = {"CUB_200_2011/images.txt", "CUB_200_2011/image_class_labels.txt",
                                    "CUB_200_2011/train_test_split.txt", "CUB_200_2011/classes.txt"};
    char *b[4];
    size_t len[4];
    if (uf_ds_need(root, "CUB_200_2011.tgz", "cub", ds->images, sizeof ds->images, e) ||
        uf_ds_read_members(ds->images, 4, m, b, len, e))
        return -1;
    long n = count_lines(b[0]), ncls = count_lines(b[3]);
    char **path = uf_calloc((size_t)n + 1, sizeof *path, e), **cls = uf_calloc((size_t)ncls + 1, sizeof *cls, e);
    long *label = uf_calloc((size_t)n + 1, sizeof *label, e), *is_train = uf_calloc((size_t)n + 1, sizeof *is_train, e);
    int rc = path && cls && label && is_train ? 0 : -1;
    long id, k = 0, maxcls = 0;
    char *rest, *line;
    for (int f = 0; f < 4 && !rc; f++) {
        char *p = b[f];
        while (!rc && (line = uf_ds_next_line(&p))) {
            if (!*line)
                continue;
            if (id_line(line, f == 3 ? ncls : n, &id, &rest))
                rc = uf_fail(e, "%s: %s: malformed line '%s'", ds->images, m[f], line);
            else if (f == 0)
                path[id] = rest;
            else if (f == 1)
                label[id] = strtol(rest, NULL, 10);
            else if (f == 2)
                is_train[id] = strtol(rest, NULL, 10) == 1 ? 1 : 2;
            else {
                cls[id - 1] = rest;
                maxcls = id > maxcls ? id : maxcls;
            }
        }
    }
    for (k = 0; !rc && k < maxcls; k++)
        if (!cls[k])
            rc = uf_fail(e, "%s: classes.txt lacks class %ld", ds->images, k + 1);
    if (!rc)
        rc = uf_ds_set_classes(ds, (int)maxcls, cls, e);
    char src[PATH_CAP];
    for (id = 1; !rc && id <= n; id++) {
        if (!path[id])
            continue;
        if (!is_train[id] || label[id] < 1 || label[id] > maxcls)
            rc = uf_fail(e, "%s: image %ld has no valid class or split entry", ds->images, id);
        else if (is_train[id] == (train ? 1 : 2)) {
            snprintf(src, sizeof src, "CUB_200_2011/images/%s", path[id]);
            rc = uf_ds_add(ds, src, (int)label[id] - 1, e);
        }
    }
    free(path);
    free(cls);
    free(label);
    free(is_train);
    free_bufs(b, 4);
    return rc;
}

/* ---- Stanford Dogs: lists.tar holds train_list.mat / test_list.mat (file_list, labels) ---- */

int uf_ds_dogs(uf_dataset *ds, const char *root, int train, uint64_t seed, uf_err *e)
{
    (void)seed;
    char lists[PATH_CAP];
    const char *m[] = {train ? "*train_list.mat" : "*test_list.mat"};
    char *b[1];
    size_t len[1];
    if (uf_ds_need(root, "images.tar", "dogs", ds->images, sizeof ds->images, e) ||
        uf_ds_need(root, "lists.tar", "dogs", lists, sizeof lists, e) || uf_ds_read_members(lists, 1, m, b, len, e))
        return -1;
    uf_mat_file mf;
    int rc = uf_mat_parse(b[0], len[0], m[0] + 1, &mf, e);
    free(b[0]);
    if (rc)
        return -1;
    const uf_mat *files = uf_mat_var(&mf, "file_list"), *labels = uf_mat_var(&mf, "labels");
    if (!files || files->kind != UF_MAT_CELL || !labels || labels->kind != UF_MAT_NUM || labels->n != files->n) {
        uf_mat_file_free(&mf);
        return uf_fail(e, "%s: %s lacks file_list (cell) and labels of the same length", lists, m[0] + 1);
    }
    int ncls = 0;
    for (size_t i = 0; i < labels->n; i++) {
        double v = labels->num[i];
        if (!(v >= 1 && v <= 100000) || v != (int)v) { /* Stanford Dogs has 120 classes; NaN fails too */
            uf_mat_file_free(&mf);
            return uf_fail(e, "%s: %s: label %zu is %g, not a class number 1..100000", lists, m[0] + 1, i + 1, v);
        }
        ncls = (int)v > ncls ? (int)v : ncls;
    }
    char **names = uf_calloc((size_t)ncls + 1, sizeof *names, e), src[PATH_CAP];
    rc = names ? 0 : -1;
    for (size_t i = 0; !rc && i < files->n; i++) {
        const char *f = uf_mat_str(files->cell[i]);
        int k = (int)labels->num[i];
        if (!f || k < 1)
            rc = uf_fail(e, "%s: entry %zu is no file name with a label", lists, i + 1);
        else {
            snprintf(src, sizeof src, "Images/%s", f);
            rc = uf_ds_add(ds, src, k - 1, e);
            const char *slash = strchr(f, '/');
            if (!rc && !names[k - 1] && slash && !(names[k - 1] = uf_strndup(f, (size_t)(slash - f), e)))
                rc = -1;
        }
    }
    for (int k = 0; !rc && k < ncls; k++)
        if (!names[k] && !(names[k] = uf_strdup("?", e)))
            rc = -1;
    if (!rc)
        rc = uf_ds_set_classes(ds, ncls, names, e);
    free_bufs(names, ncls);
    free(names);
    uf_mat_file_free(&mf);
    return rc;
}

/* ---- Stanford Cars: devkit .mat files; test labels in cars_test_annos_withlabels.mat ---- */

int uf_ds_cars(uf_dataset *ds, const char *root, int train, uint64_t seed, uf_err *e)
{
    (void)seed;
    char devkit[PATH_CAP], annos_path[PATH_CAP];
    const char *m[] = {"devkit/cars_meta.mat", "devkit/cars_train_annos.mat"};
    char *b[2] = {NULL, NULL};
    size_t len[2];
    uf_mat_file meta, annos;
    if (uf_ds_need(root, train ? "cars_train.tgz" : "cars_test.tgz", "cars", ds->images, sizeof ds->images, e) ||
        uf_ds_need(root, "car_devkit.tgz", "cars", devkit, sizeof devkit, e) ||
        (!train && uf_ds_need(root, "cars_test_annos_withlabels.mat", "cars", annos_path, sizeof annos_path, e)) ||
        uf_ds_read_members(devkit, train ? 2 : 1, m, b, len, e))
        return -1;
    int rc = uf_mat_parse(b[0], len[0], m[0], &meta, e);
    if (!rc) {
        rc = train ? uf_mat_parse(b[1], len[1], m[1], &annos, e) : uf_mat_read(annos_path, &annos, e);
        if (rc)
            uf_mat_file_free(&meta);
    }
    free_bufs(b, 2);
    if (rc)
        return -1;
    const uf_mat *names = uf_mat_var(&meta, "class_names"), *a = uf_mat_var(&annos, "annotations");
    if (!names || names->kind != UF_MAT_CELL || !a || !uf_mat_field(a, 0, "class") || !uf_mat_field(a, 0, "fname"))
        rc = uf_fail(e, "cars: class_names (cell) or annotations with class and fname missing");
    char **cls = NULL, src[PATH_CAP];
    if (!rc && !(cls = uf_calloc(names->n + 1, sizeof *cls, e)))
        rc = -1;
    for (size_t k = 0; !rc && k < names->n; k++)
        if (!(cls[k] = (char *)uf_mat_str(names->cell[k]))) /* an empty or numeric cell in a damaged file */
            rc = uf_fail(e, "%s: class_names{%zu} is not a string", m[0], k + 1);
    if (!rc)
        rc = uf_ds_set_classes(ds, (int)names->n, cls, e);
    for (size_t i = 0; !rc && i < a->n; i++) {
        const char *f = uf_mat_str(uf_mat_field(a, i, "fname"));
        double k = uf_mat_scalar(uf_mat_field(a, i, "class"));
        if (!f || !(k >= 1 && k <= (double)names->n))
            rc = uf_fail(e, "cars: annotation %zu has no file name or a class outside 1..%zu", i + 1, names->n);
        else {
            snprintf(src, sizeof src, "%s/%s", train ? "cars_train" : "cars_test", f);
            rc = uf_ds_add(ds, src, (int)k - 1, e);
        }
    }
    free(cls);
    uf_mat_file_free(&meta);
    uf_mat_file_free(&annos);
    return rc;
}

/* ---- Oxford-IIIT Pet: annotations/{trainval,test}.txt, "<image> <class 1..37> <species> <breed>" ---- */

int uf_ds_pets(uf_dataset *ds, const char *root, int train, uint64_t seed, uf_err *e)
{
    (void)seed;
    char ann[PATH_CAP], src[PATH_CAP];
    const char *m[] = {train ? "annotations/trainval.txt" : "annotations/test.txt"};
    char *b[1];
    size_t len[1];
    if (uf_ds_need(root, "images.tar.gz", "pets", ds->images, sizeof ds->images, e) ||
        uf_ds_need(root, "annotations.tar.gz", "pets", ann, sizeof ann, e) || uf_ds_read_members(ann, 1, m, b, len, e))
        return -1;
    char *names[64] = {0}, *p = b[0], *line;
    int rc = 0, ncls = 0;
    while (!rc && (line = uf_ds_next_line(&p))) {
        if (!*line || line[0] == '#')
            continue;
        char *sp = strchr(line, ' ');
        int k = sp ? atoi(sp + 1) : 0;
        if (!sp || k < 1 || k > 64) {
            rc = uf_fail(e, "%s: %s: malformed line '%s'", ann, m[0], line);
            break;
        }
        *sp = '\0';
        snprintf(src, sizeof src, "images/%s.jpg", line);
        rc = uf_ds_add(ds, src, k - 1, e);
        if (!rc && !names[k - 1]) { /* the breed: the image name without its trailing _<number> */
            char *us = strrchr(line, '_');
            if (!(names[k - 1] = uf_strndup(line, us ? (size_t)(us - line) : strlen(line), e)))
                rc = -1;
        }
        ncls = k > ncls ? k : ncls;
    }
    for (int k = 0; !rc && k < ncls; k++)
        if (!names[k])
            rc = uf_fail(e, "%s: %s has no image of class %d", ann, m[0], k + 1);
    if (!rc)
        rc = uf_ds_set_classes(ds, ncls, names, e);
    free_bufs(names, 64);
    free(b[0]);
    return rc;
}

/* ---- SUN397: Partitions.zip holds ClassName.txt and Training_01.txt / Testing_01.txt ---- */

int uf_ds_sun397(uf_dataset *ds, const char *root, int train, uint64_t seed, uf_err *e)
{
    (void)seed;
    char part[PATH_CAP], src[PATH_CAP];
    const char *m[] = {"*ClassName.txt", train ? "*Training_01.txt" : "*Testing_01.txt"};
    char *b[2];
    size_t len[2];
    if (uf_ds_need(root, "SUN397.tar.gz", "sun397", ds->images, sizeof ds->images, e) ||
        uf_ds_need(root, "Partitions.zip", "sun397", part, sizeof part, e) || uf_ds_read_members(part, 2, m, b, len, e))
        return -1;
    long cap = count_lines(b[0]);
    char **cls = uf_calloc((size_t)cap + 1, sizeof *cls, e), **names = uf_calloc((size_t)cap + 1, sizeof *names, e);
    int rc = cls && names ? 0 : -1, ncls = 0;
    char *p = b[0], *line;
    while (!rc && (line = uf_ds_next_line(&p)))
        if (*line) {
            if (strlen(line) < 4 || line[0] != '/' || line[2] != '/')
                rc = uf_fail(e, "%s: ClassName.txt: malformed class '%s'", part, line);
            cls[ncls] = line;
            names[ncls++] = line + 3; /* torchvision's name: without "/a/" */
        }
    if (!rc)
        rc = uf_ds_set_classes(ds, ncls, names, e);
    p = b[1];
    while (!rc && (line = uf_ds_next_line(&p))) {
        if (!*line)
            continue;
        char *slash = strrchr(line, '/');
        int k = -1;
        for (int c = 0; slash && c < ncls && k < 0; c++)
            if (strlen(cls[c]) == (size_t)(slash - line) && strncmp(cls[c], line, (size_t)(slash - line)) == 0)
                k = c;
        if (k < 0)
            rc = uf_fail(e, "%s: %s: '%s' is in no class of ClassName.txt", part, m[1] + 1, line);
        else {
            snprintf(src, sizeof src, "SUN397%s", line);
            rc = uf_ds_add(ds, src, k, e);
        }
    }
    free(cls);
    free(names);
    free_bufs(b, 2);
    return rc;
}

/* ---- FGVC-Aircraft 2013b: variants.txt and images_variant_{trainval,test}.txt ("<id> <variant>").
 * The 20-pixel copyright banner at the bottom of every image is kept, as torchvision's FGVCAircraft
 * and the paper's ImageFolder copy keep it. ---- */

int uf_ds_aircraft(uf_dataset *ds, const char *root, int train, uint64_t seed, uf_err *e)
{
    (void)seed;
    const char *m[] = {"fgvc-aircraft-2013b/data/variants.txt",
                       train ? "fgvc-aircraft-2013b/data/images_variant_trainval.txt"
                             : "fgvc-aircraft-2013b/data/images_variant_test.txt"};
    char *b[2], src[PATH_CAP];
    size_t len[2];
    if (uf_ds_need(root, "fgvc-aircraft-2013b.tar.gz", "aircraft", ds->images, sizeof ds->images, e) ||
        uf_ds_read_members(ds->images, 2, m, b, len, e))
        return -1;
    long cap = count_lines(b[0]);
    char **names = uf_calloc((size_t)cap + 1, sizeof *names, e), *p = b[0], *line;
    int rc = names ? 0 : -1, ncls = 0;
    while (!rc && (line = uf_ds_next_line(&p)))
        if (*line)
            names[ncls++] = line;
    if (!rc)
        rc = uf_ds_set_classes(ds, ncls, names, e);
    p = b[1];
    while (!rc && (line = uf_ds_next_line(&p))) {
        if (!*line)
            continue;
        char *sp = strchr(line, ' '); /* split at the first space: variant names contain spaces */
        int k = -1;
        for (int c = 0; sp && c < ncls && k < 0; c++)
            if (strcmp(names[c], sp + 1) == 0)
                k = c;
        if (k < 0) {
            rc = uf_fail(e, "%s: %s: '%s' has no variant of variants.txt", ds->images, m[1], line);
            break;
        }
        *sp = '\0';
        snprintf(src, sizeof src, "fgvc-aircraft-2013b/data/images/%s.jpg", line);
        rc = uf_ds_add(ds, src, k, e);
    }
    free(names);
    free_bufs(b, 2);
    return rc;
}

/* ---- DTD r1.0.1: labels/train1.txt + val1.txt for training, test1.txt for testing ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int uf_ds_dtd(uf_dataset *ds, const char *root, int train, uint64_t seed, uf_err *e)
{
    (void)seed;
    const char *m[] = {"dtd/labels/train1.txt", "dtd/labels/val1.txt", "dtd/labels/test1.txt"};
    char *b[3], src[PATH_CAP];
    size_t len[3];
    if (uf_ds_need(root, "dtd-r1.0.1.tar.gz", "dtd", ds->images, sizeof ds->images, e) ||
        uf_ds_read_members(ds->images, 3, m, b, len, e))
        return -1;
    /* classes: the sorted folder names over all three files, so both splits share one index */
    long cap = count_lines(b[0]) + count_lines(b[1]) + count_lines(b[2]);
    char **lines = uf_calloc((size_t)cap + 1, sizeof *lines, e), **cls = uf_calloc((size_t)cap + 1, sizeof *cls, e);
    int rc = lines && cls ? 0 : -1, nl = 0, ncls = 0, first_test = 0;
    for (int f = 0; f < 3 && !rc; f++) {
        char *p = b[f], *line;
        if (f == 2)
            first_test = nl;
        while (!rc && (line = uf_ds_next_line(&p)))
            if (*line) {
                char *slash = strchr(line, '/');
                if (!slash)
                    rc = uf_fail(e, "%s: %s: malformed line '%s'", ds->images, m[f], line);
                lines[nl++] = line;
            }
    }
    for (int i = 0; !rc && i < nl; i++) {
        char *c = uf_strndup(lines[i], (size_t)(strchr(lines[i], '/') - lines[i]), e);
        if (!c) {
            rc = -1;
            break;
        }
        if (bsearch(&c, cls, (size_t)ncls, sizeof *cls, cmp_str)) {
            free(c);
            continue;
        }
        cls[ncls++] = c;
        qsort(cls, (size_t)ncls, sizeof *cls, cmp_str);
    }
    if (!rc)
        rc = uf_ds_set_classes(ds, ncls, cls, e);
    for (int i = train ? 0 : first_test; !rc && i < (train ? first_test : nl); i++) {
        size_t cl = (size_t)(strchr(lines[i], '/') - lines[i]);
        char key[PATH_CAP], *kp = key;
        snprintf(key, sizeof key, "%.*s", (int)cl, lines[i]);
        char **hit = bsearch(&kp, cls, (size_t)ncls, sizeof *cls, cmp_str);
        snprintf(src, sizeof src, "dtd/images/%s", lines[i]);
        rc = uf_ds_add(ds, src, (int)(hit - cls), e);
    }
    free_bufs(cls, ncls);
    free(cls);
    free(lines);
    free_bufs(b, 3);
    return rc;
}

/* ---- Caltech-101: 101_ObjectCategories/<class>/<image>.jpg (in caltech-101.zip, or the tar.gz alone);
 * no official split: 30 images per class for training, drawn with the seed, the rest for testing;
 * BACKGROUND_Google excluded ---- */

typedef struct cal_item {
    char *source, *cls;
    uint64_t key;
} cal_item;

typedef struct cal_ctx {
    cal_item *it;
    int n, cap;
    uint64_t seed;
} cal_ctx;

enum { CALTECH_TRAIN_PER_CLASS = 30, RNG_CALTECH_SPLIT = 0xCA17EC };

static int cal_descend(void *ctx, const char *name)
{
    (void)ctx;
    size_t n = strlen(name), k = strlen("101_ObjectCategories.tar.gz");
    return n >= k && strcmp(name + n - k, "101_ObjectCategories.tar.gz") == 0;
}

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

static int cal_visit(void *ctx, const uf_arc_entry *en, uf_err *e)
{
    cal_ctx *c = ctx;
    const char *p = strstr(en->name, "101_ObjectCategories/");
    if (!p)
        return 0;
    const char *cls = p + strlen("101_ObjectCategories/"), *slash = strchr(cls, '/');
    if (!slash || strchr(slash + 1, '/') || strncmp(cls, "BACKGROUND_Google/", 18) == 0)
        return 0;
    size_t n = strlen(slash);
    if (n < 5 || strcmp(slash + n - 4, ".jpg") != 0)
        return 0;
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 1024;
        cal_item *ni = uf_realloc(c->it, (size_t)cap, sizeof *ni, e);
        if (!ni)
            return -1;
        c->it = ni;
        c->cap = cap;
    }
    cal_item *it = &c->it[c->n];
    it->source = uf_strdup(en->name, e);
    it->cls = it->source ? uf_strndup(cls, (size_t)(slash - cls), e) : NULL;
    if (!it->cls) {
        free(it->source);
        return -1;
    }
    /* the draw: a seeded key per image, independent of the archive's member order */
    it->key = uf_rng_u64(c->seed, RNG_CALTECH_SPLIT, str_hash(slash + 1));
    c->n++;
    return 0;
}

static int cal_by_class_key(const void *a, const void *b)
{
    const cal_item *x = a, *y = b;
    int c = strcmp(x->cls, y->cls);
    if (c)
        return c;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return strcmp(x->source, y->source);
}

static int cal_by_source(const void *a, const void *b)
{
    return strcmp(((const cal_item *)a)->source, ((const cal_item *)b)->source);
}

int uf_ds_caltech101(uf_dataset *ds, const char *root, int train, uint64_t seed, uf_err *e)
{
    uf_err ignore;
    if (uf_ds_need(root, "caltech-101.zip", "caltech101", ds->images, sizeof ds->images, &ignore) &&
        uf_ds_need(root, "101_ObjectCategories.tar.gz", "caltech101", ds->images, sizeof ds->images, &ignore))
        return uf_fail(e, "%s: neither caltech-101.zip nor 101_ObjectCategories.tar.gz (datasets/fetch caltech101, "
                          "or --root pointing at its files)", root);
    cal_ctx c = {NULL, 0, 0, seed};
    int rc = uf_arc_walk(ds->images, cal_descend, cal_visit, &c, e);
    if (!rc && c.n == 0)
        rc = uf_fail(e, "%s: no 101_ObjectCategories/<class>/*.jpg members", ds->images);
    if (!rc) {
        qsort(c.it, (size_t)c.n, sizeof *c.it, cal_by_class_key);
        char **cls = uf_calloc((size_t)c.n, sizeof *cls, e);
        int ncls = 0, *lab = uf_calloc((size_t)c.n, sizeof *lab, e), *keep = uf_calloc((size_t)c.n, sizeof *keep, e);
        rc = cls && lab && keep ? 0 : -1;
        for (int i = 0, rank = 0; !rc && i < c.n; i++, rank++) {
            if (i == 0 || strcmp(c.it[i].cls, c.it[i - 1].cls) != 0) {
                cls[ncls++] = c.it[i].cls;
                rank = 0;
            }
            lab[i] = ncls - 1;
            keep[i] = (rank < CALTECH_TRAIN_PER_CLASS) == (train != 0);
        }
        if (!rc)
            rc = uf_ds_set_classes(ds, ncls, cls, e);
        /* rows of the split in source order, labels carried along */
        int m = 0;
        for (int i = 0; !rc && i < c.n; i++)
            if (keep[i]) {
                cal_item t = c.it[i];
                t.key = (uint64_t)lab[i];
                c.it[i] = c.it[m];
                c.it[m++] = t;
            }
        if (!rc) {
            qsort(c.it, (size_t)m, sizeof *c.it, cal_by_source);
            for (int i = 0; !rc && i < m; i++)
                rc = uf_ds_add(ds, c.it[i].source, (int)c.it[i].key, e);
        }
        free(cls);
        free(lab);
        free(keep);
    }
    for (int i = 0; i < c.n; i++) {
        free(c.it[i].source);
        free(c.it[i].cls);
    }
    free(c.it);
    return rc;
}
