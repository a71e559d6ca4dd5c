/* The loader on the ImageFolder and CUB fixtures of data_fixtures.py: batches are identical for any thread
 * count and prefetch depth, an epoch visits every row once in a per-epoch order, the eval view
 * equals the transforms applied one by one, a corrupt image is skipped and counted, and an
 * abandoned epoch does not disturb the next. With a row list, an epoch visits exactly the listed
 * rows, once each, and the list of every row gives the batches of no list.
 * usage: test_data_loader FIXTURES */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/fileio.h"
#include "data/loader.h"
#include "data/transform.h"

typedef struct run {
    int n, nb; /* rows, batches */
    int rows[64];
    float *x; /* n * per */
} run;

static void epoch_of(const uf_dataset *ds, int threads, int prefetch, uf_view view, int epoch, const int *rows,
                     int nrows, run *r)
{
    uf_loader *L;
    uf_err e;
    uf_loader_cfg cfg = {.batch = 3, .size = 32, .view = view, .shuffle = 1, .threads = threads,
                         .prefetch = prefetch, .seed = 5, .rows = rows, .nrows = nrows};
    size_t per = 3 * 32 * 32;
    r->n = r->nb = 0;
    r->x = malloc(sizeof(float) * per * 64);
    CHECK_OK(uf_loader_open(&L, ds, &cfg, &e), e);
    if (check_failures)
        return;
    uf_loader_start(L, epoch);
    const uf_batch *b;
    while ((b = uf_loader_next(L))) {
        CHECK(b->n <= 3);
        r->nb++;
        for (int i = 0; i < b->n && r->n < 64; i++, r->n++) {
            r->rows[r->n] = b->row[i];
            CHECK(b->label[i] == ds->label[b->row[i]]);
            memcpy(r->x + (size_t)r->n * per, b->x + (size_t)i * per, sizeof(float) * per);
        }
    }
    uf_loader_close(L);
}

static int same(const run *a, const run *b)
{
    return a->n == b->n && memcmp(a->rows, b->rows, sizeof(int) * (size_t)a->n) == 0 &&
           memcmp(a->x, b->x, sizeof(float) * 3 * 32 * 32 * (size_t)a->n) == 0;
}

/* A row list of 7 of the 12 rows, batches of 3: three batches (the last of one row) per epoch, the
 * listed rows once each, the same for any thread count; the list of every row is no list. */
static void test_row_list(const uf_dataset *ds)
{
    int list[7] = {1, 2, 4, 7, 8, 10, 11}, every[12], seen[12] = {0};
    for (int i = 0; i < 12; i++)
        every[i] = i;
    run a, b, c, d, f;
    epoch_of(ds, 1, 1, UF_VIEW_WEAK, 0, list, 7, &a);
    epoch_of(ds, 3, 2, UF_VIEW_WEAK, 0, list, 7, &b);
    epoch_of(ds, 2, 2, UF_VIEW_WEAK, 1, list, 7, &f);
    epoch_of(ds, 2, 3, UF_VIEW_WEAK, 0, every, 12, &c);
    epoch_of(ds, 2, 3, UF_VIEW_WEAK, 0, NULL, 0, &d);
    CHECK(a.n == 7 && a.nb == 3 && same(&a, &b) && same(&c, &d));
    CHECK(f.n == 7 && memcmp(a.rows, f.rows, sizeof(int) * 7) != 0); /* another epoch, another order */
    for (int i = 0; i < a.n; i++)
        seen[a.rows[i]]++;
    for (int i = 0, k = 0; i < 12; i++) {
        int listed = k < 7 && list[k] == i;
        k += listed;
        CHECK(seen[i] == listed);
    }
    free(a.x);
    free(b.x);
    free(c.x);
    free(d.x);
    free(f.x);
    uf_loader *L;
    uf_err e;
    list[3] = 12;
    uf_loader_cfg cfg = {.batch = 3, .size = 32, .threads = 1, .prefetch = 1, .rows = list, .nrows = 7};
    CHECK(uf_loader_open(&L, ds, &cfg, &e) == -1 && strstr(e.msg, "entry 3 is row 12"));
    cfg.nrows = 0;
    CHECK(uf_loader_open(&L, ds, &cfg, &e) == -1 && strstr(e.msg, "no rows in the row list"));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_data_loader FIXTURES\n");
        return 2;
    }
    char root[4096], cmd[8400];
    snprintf(root, sizeof root, "%s/imagefolder", argv[1]);
    uf_dataset ds;
    uf_err e;
    CHECK_OK(uf_dataset_list(&ds, "imagefolder", root, "train", 0, &e), e);
    if (check_failures)
        CHECK_DONE();
    CHECK(ds.n == 12);
    for (uf_view v = UF_VIEW_EVAL; v <= UF_VIEW_STRONG; v++) {
        run a, b, c, d;
        epoch_of(&ds, 1, 1, v, 0, NULL, 0, &a);
        epoch_of(&ds, 3, 2, v, 0, NULL, 0, &b);
        epoch_of(&ds, 2, 4, v, 0, NULL, 0, &c);
        epoch_of(&ds, 2, 2, v, 1, NULL, 0, &d);
        CHECK(a.n == 12 && same(&a, &b) && same(&a, &c)); /* thread count and prefetch change nothing */
        int seen[12] = {0};
        for (int i = 0; i < a.n; i++)
            seen[a.rows[i]]++;
        for (int i = 0; i < 12; i++)
            CHECK(seen[i] == 1);
        CHECK(memcmp(a.rows, d.rows, sizeof(int) * 12) != 0); /* another epoch, another order */
        if (v == UF_VIEW_EVAL) { /* the eval view is Resize(36) + CenterCrop(32) + ToTensor/Normalize */
            uf_image im, r1, r2;
            float *t = malloc(sizeof(float) * 3 * 32 * 32);
            CHECK_OK(uf_dataset_image(&ds, a.rows[4], &im, &e), e);
            CHECK_OK(uf_resize_shorter(&im, 32 * 256 / 224, &r1, &e), e);
            CHECK_OK(uf_center_crop(&r1, 32, &r2, &e), e);
            uf_to_tensor(&r2, uf_imagenet_mean, uf_imagenet_std, t);
            CHECK(memcmp(t, a.x + 4 * 3 * 32 * 32, sizeof(float) * 3 * 32 * 32) == 0);
            uf_image_free(&im);
            uf_image_free(&r1);
            uf_image_free(&r2);
            free(t);
        } else { /* random views differ from epoch to epoch for the same row */
            int r0 = a.rows[0], k = 0;
            while (d.rows[k] != r0)
                k++;
            CHECK(memcmp(a.x, d.x + (size_t)k * 3 * 32 * 32, sizeof(float) * 3 * 32 * 32) != 0);
        }
        free(a.x);
        free(b.x);
        free(c.x);
        free(d.x);
    }
    test_row_list(&ds);
    uf_dataset_free(&ds);

    /* a corrupt image: skipped, counted, named; the other rows still come */
    char tmp[] = "/tmp/uotft-loader-XXXXXX";
    CHECK(mkdtemp(tmp) != NULL);
    snprintf(cmd, sizeof cmd, "cp -r '%s/train' '%s/' && printf 'not a jpeg' > '%s/train/zebra/img1.jpg'", root, tmp, tmp);
    CHECK(system(cmd) == 0);
    CHECK_OK(uf_dataset_list(&ds, "imagefolder", tmp, "train", 0, &e), e);
    uf_loader *L;
    uf_loader_cfg cfg = {.batch = 5, .size = 24, .view = UF_VIEW_WEAK, .shuffle = 0, .threads = 2, .prefetch = 2, .seed = 1};
    CHECK_OK(uf_loader_open(&L, &ds, &cfg, &e), e);
    if (!check_failures) {
        uf_loader_start(L, 0);
        CHECK(uf_loader_next(L) != NULL); /* abandon epoch 0 after one batch */
        uf_loader_start(L, 1);
        int total = 0, nb = 0;
        const uf_batch *b;
        while ((b = uf_loader_next(L))) {
            total += b->n;
            nb++;
        }
        const char *why;
        CHECK(total == 11 && nb == 3);
        CHECK(uf_loader_skipped(L, &why) == 1 && why && strstr(why, "zebra/img1.jpg"));
        uf_loader_close(L);
    }
    uf_dataset_free(&ds);

    /* images in a tgz (CUB): refused until opened, then read through the pack in every batch */
    snprintf(root, sizeof root, "%s/cub", argv[1]);
    CHECK_OK(uf_dataset_list(&ds, "cub", root, "test", 0, &e), e);
    cfg.view = UF_VIEW_EVAL;
    CHECK(uf_loader_open(&L, &ds, &cfg, &e) != 0 && strstr(e.msg, "not opened"));
    CHECK_OK(uf_dataset_open_images(&ds, tmp, &e), e);
    CHECK_OK(uf_loader_open(&L, &ds, &cfg, &e), e);
    if (!check_failures) {
        uf_loader_start(L, 0);
        int total = 0;
        const uf_batch *b;
        while ((b = uf_loader_next(L)))
            total += b->n;
        CHECK(total == ds.n && uf_loader_skipped(L, NULL) == 0);
        uf_loader_close(L);
    }
    uf_dataset_free(&ds);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    CHECK(system(cmd) == 0);
    CHECK_DONE();
}
