/* The loader options MoCo needs, on a small mini set written here (mini-tiny, 40 random 32 x 32
 * images): loaders that differ only in view_seed give the same rows in the same order with
 * different augmentations, and identical ones for the same view_seed whatever the worker count;
 * view_seed 0 keeps the draws keyed by the seed alone; uf_loader_start_at(e, b) gives the
 * batches of uf_loader_start(e) from batch b on; the brightness and contrast jitter changes about 80%
 * of the images (each factor drawn in [0.6, 1.4]) and nothing else, the same way for any worker count;
 * parts (an MPI rank's share): part p of 2 gives rows [3p, 3p + 3) of every batch of 6, the same rows
 * and pixels, of the last partial batch (4 rows) the ones it has, also from a mid-epoch start. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"
#include "data/loader.h"
#include "data/miniset.h"

#define N 40
#define B 6
#define S 24
#define PER (3 * S * S)

typedef struct epoch_run {
    int nb, n[16], rows[N];
    float *x; /* N * PER */
} epoch_run;

static double jitter;    /* the loader's brightness and contrast jitter for run_epoch */
static int parts, part; /* the loader's share of each batch for run_epoch */

static void run_epoch(const uf_dataset *ds, uint64_t view_seed, int threads, int epoch, int first, epoch_run *r)
{
    uf_loader *L;
    uf_err e;
    uf_loader_cfg cfg = {.batch = B, .size = S, .view = UF_VIEW_STRONG, .shuffle = 1, .threads = threads,
                         .prefetch = 2, .seed = 9, .scale_min = 0.3, .no_flip = 1, .view_seed = view_seed,
                         .jitter = jitter, .parts = parts, .part = part};
    memset(r, 0, sizeof *r);
    r->x = calloc((size_t)N * PER, sizeof(float));
    CHECK_OK(uf_loader_open(&L, ds, &cfg, &e), e);
    if (check_failures)
        return;
    uf_loader_start_at(L, epoch, first);
    const uf_batch *b;
    int k = 0;
    while ((b = uf_loader_next(L)) && r->nb < 16) {
        r->n[r->nb++] = b->n;
        memcpy(r->rows + k, b->row, sizeof(int) * (size_t)b->n);
        memcpy(r->x + (size_t)k * PER, b->x, sizeof(float) * PER * (size_t)b->n);
        k += b->n;
    }
    uf_loader_close(L);
}

/* Parts 0 and 1 of 2 against the whole batches of `whole` (view seed 1, epoch 1), from batch `first` on. */
static void check_parts(const uf_dataset *ds, const epoch_run *whole, int first)
{
    const int bp = B / 2, nb = (N + B - 1) / B;
    parts = 2;
    for (part = 0; part < 2; part++) {
        epoch_run r;
        run_epoch(ds, 1, 2, 1, first, &r);
        int k = 0;
        for (int b = first; b < nb; b++) {
            int from = b * B + part * bp, n = N - from < bp ? N - from : bp;
            n = n < 0 ? 0 : n;
            CHECK(k + n <= N && memcmp(r.rows + k, whole->rows + from, sizeof(int) * (size_t)n) == 0);
            CHECK(memcmp(r.x + (size_t)k * PER, whole->x + (size_t)from * PER, sizeof(float) * PER * (size_t)n) == 0);
            k += n;
        }
        CHECK(r.nb == (k + bp - 1) / bp && r.nb >= nb - first - 1);
        free(r.x);
    }
    parts = part = 0;
}

int main(void)
{
    char dir[] = "/tmp/uotft-mini-loader-XXXXXX", path[256];
    uf_err e;
    CHECK(mkdtemp(dir) != NULL);
    uf_miniset ms;
    CHECK_OK(uf_miniset_alloc(&ms, N, 32, 32, 4, &e), e);
    for (int i = 0; i < N; i++) {
        ms.labels[i] = (uint16_t)(i % 4);
        for (int p = 0; p < 32 * 32; p++)
            ms.pixels[i * 32 * 32 + p] = (uint8_t)(uf_rng_u64(1, (uint64_t)i, (uint64_t)p) & 255);
    }
    snprintf(path, sizeof path, "%s/tiny-train.mset", dir);
    CHECK_OK(uf_miniset_write(path, &ms, &e), e);
    uf_miniset_free(&ms);
    snprintf(path, sizeof path, "%s/tiny-classes.tsv", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("label\tname\n0\ta\n1\tb\n2\tc\n3\td\n", f);
        fclose(f);
    }
    uf_dataset ds;
    CHECK_OK(uf_dataset_list(&ds, "mini-tiny", dir, "train", 0, &e), e);
    if (check_failures)
        CHECK_DONE();

    epoch_run plain, v1, v2, v1b, late;
    run_epoch(&ds, 0, 2, 1, 0, &plain);
    run_epoch(&ds, 1, 1, 1, 0, &v1);
    run_epoch(&ds, 2, 2, 1, 0, &v2);
    run_epoch(&ds, 1, 3, 1, 0, &v1b);
    CHECK(v1.nb == (N + B - 1) / B);
    /* same rows in the same order for every view seed */
    CHECK(memcmp(plain.rows, v1.rows, sizeof(int) * N) == 0 && memcmp(v1.rows, v2.rows, sizeof(int) * N) == 0);
    /* the same view seed: the same pixels, for any worker count */
    CHECK(memcmp(v1.x, v1b.x, sizeof(float) * N * PER) == 0);
    /* other view seeds: every row augmented differently */
    int differ12 = 0, differ01 = 0;
    for (int i = 0; i < N; i++) {
        differ12 += memcmp(v1.x + (size_t)i * PER, v2.x + (size_t)i * PER, sizeof(float) * PER) != 0;
        differ01 += memcmp(plain.x + (size_t)i * PER, v1.x + (size_t)i * PER, sizeof(float) * PER) != 0;
    }
    CHECK(differ12 == N && differ01 == N);
    /* view seed 0: the draws keyed by the seed, as before the option existed (same seed -> same view) */
    epoch_run plain2;
    run_epoch(&ds, 0, 1, 1, 0, &plain2);
    CHECK(memcmp(plain.x, plain2.x, sizeof(float) * N * PER) == 0);
    /* resuming at batch 3 of epoch 1: the rest of the epoch, unchanged */
    run_epoch(&ds, 1, 2, 1, 3, &late);
    CHECK(late.nb == v1.nb - 3);
    CHECK(memcmp(late.rows, v1.rows + 3 * B, sizeof(int) * (N - 3 * B)) == 0);
    CHECK(memcmp(late.x, v1.x + (size_t)3 * B * PER, sizeof(float) * (N - 3 * B) * PER) == 0);
    /* past the end: an empty epoch */
    epoch_run none;
    run_epoch(&ds, 1, 2, 1, 99, &none);
    CHECK(none.nb == 0);
    /* an MPI rank's share of every batch: the whole batches' rows and pixels */
    check_parts(&ds, &v1, 0);
    check_parts(&ds, &v1, 3);
    /* jitter: the same rows, most images changed, deterministic */
    epoch_run j1, j2;
    jitter = 0.4;
    run_epoch(&ds, 1, 1, 1, 0, &j1);
    run_epoch(&ds, 1, 3, 1, 0, &j2);
    int changed = 0;
    for (int i = 0; i < N; i++)
        changed += memcmp(v1.x + (size_t)i * PER, j1.x + (size_t)i * PER, sizeof(float) * PER) != 0;
    CHECK(memcmp(j1.rows, v1.rows, sizeof(int) * N) == 0 && memcmp(j1.x, j2.x, sizeof(float) * N * PER) == 0);
    CHECK(changed >= N / 2 && changed < N); /* p = 0.8 of 40: about 32 */
    free(j1.x), free(j2.x);
    free(plain.x), free(v1.x), free(v2.x), free(v1b.x), free(late.x), free(plain2.x), free(none.x);
    uf_dataset_free(&ds);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    CHECK_DONE();
}
