#include "loader.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "transform.h"

enum { RNG_SHUFFLE = 0x5348554655ULL, RNG_VIEW = 0x56494557ULL };

typedef struct slot {
    uf_batch b;
    int done;  /* rows finished (kept or skipped) */
    char *ok;  /* per position: kept */
    int batch; /* which batch of the epoch the slot holds, -1 when free */
} slot;

struct uf_loader {
    const uf_dataset *ds;
    uf_loader_cfg cfg;
    int *list;          /* cfg.rows copied, or NULL: every row */
    int nrows;          /* rows an epoch visits */
    int nitems;         /* of them, the rows of this part (all of them without parts) */
    int full;           /* rows per batch without parts (cfg.batch is the part's) */
    int *order;         /* the epoch's rows in visiting order */
    int nbatch, epoch;
    long next_item;     /* next (batch, position) item for a worker: batch * cfg.batch + position */
    int consumed;       /* batches handed out; the slot of batch consumed - 1 is in use by the consumer */
    int stop;
    int inflight;       /* items taken by workers and not finished */
    slot *slots;        /* cfg.prefetch + 1 */
    pthread_t *workers;
    int nworkers;
    pthread_mutex_t mu;
    pthread_cond_t work, ready;
    long skipped;
    uf_err first;
};

static int items(const uf_loader *L)
{
    return L->nitems;
}

/* The rows and batches of an epoch: a part takes rows [part bp, (part + 1) bp) of every batch of
 * `full` rows, bp = full / parts (of the last, partial batch, those it has). */
static void part_sizes(uf_loader *L)
{
    const int n = L->nrows, parts = L->cfg.parts > 1 ? L->cfg.parts : 1;
    L->full = L->cfg.batch;
    L->cfg.batch /= parts;
    const int bp = L->cfg.batch, tail = n % L->full - L->cfg.part * bp;
    L->nitems = n / L->full * bp + (parts == 1 ? n % L->full : tail < 0 ? 0 : tail > bp ? bp : tail);
    L->nbatch = (L->nitems + bp - 1) / bp;
}

typedef struct crop_ctx {
    uf_draw d;
    double scale_min;
    uf_rrc p;
} crop_ctx;

/* RandomResizedCrop's parameters need only the size: sampled between header and pixels, so only
 * the crop is decoded. */
static void crop_region(void *ctx, int W, int H, uf_region *r)
{
    crop_ctx *c = ctx;
    uf_rrc_sample(W, H, c->scale_min, 1.0, 3.0 / 4, 4.0 / 3, c->d, &c->p);
    *r = (uf_region){.top = c->p.top, .rows = c->p.h, .left = c->p.left, .cols = c->p.w};
}

/* Row `row` (epoch e) -> dst: (3, S, S) */
static int make_sample(const uf_loader *L, int row, float *dst, uf_err *e)
{
    uf_image im, a = {0}, b = {0};
    int S = L->cfg.size, rc;
    uint64_t seed = L->cfg.view_seed ? uf_rng_u64(L->cfg.seed, RNG_VIEW, L->cfg.view_seed) : L->cfg.seed;
    crop_ctx c = {{seed, (uint64_t)L->epoch, (uint64_t)row}, L->cfg.scale_min > 0 ? L->cfg.scale_min : 0.08, {0}};
    if (L->cfg.view == UF_VIEW_EVAL) {
        if (uf_dataset_image(L->ds, row, &im, e))
            return -1;
        rc = uf_resize_shorter(&im, S * 256 / 224, &a, e) || uf_center_crop(&a, S, &b, e);
    } else {
        if (uf_dataset_image_region(L->ds, row, crop_region, &c, &im, e))
            return -1;
        rc = uf_resize(&im, S, S, &b, e);
        if (!rc && uf_flip_sample(c.d) && !L->cfg.no_flip)
            uf_hflip(&b);
        if (!rc && L->cfg.jitter > 0) {
            uf_jitter j;
            uf_jitter_sample(L->cfg.jitter, 0.8, c.d, &j);
            uf_jitter_apply(&b, &j);
        }
        if (!rc && L->cfg.view == UF_VIEW_STRONG) {
            uf_randaug ra;
            uf_randaug_sample(S, S, 2, 10, S / 2, c.d, &ra);
            rc = uf_randaug_apply(&b, &ra, e);
        }
    }
    if (!rc)
        uf_to_tensor(&b, uf_imagenet_mean, uf_imagenet_std, dst);
    uf_image_free(&im);
    uf_image_free(&a);
    uf_image_free(&b);
    return rc;
}

static slot *slot_of(uf_loader *L, int batch)
{
    return &L->slots[batch % (L->cfg.prefetch + 1)];
}

static void *worker(void *arg)
{
    uf_loader *L = arg;
    size_t per = (size_t)3 * (size_t)L->cfg.size * (size_t)L->cfg.size;
    pthread_mutex_lock(&L->mu);
    for (;;) {
        /* an item may start once its batch is within the prefetch window */
        while (!L->stop && !(L->next_item < items(L) && L->next_item / L->cfg.batch < L->consumed + L->cfg.prefetch))
            pthread_cond_wait(&L->work, &L->mu);
        if (L->stop)
            break;
        long k = L->next_item++;
        L->inflight++;
        int bi = (int)(k / L->cfg.batch), pos = (int)(k % L->cfg.batch), row = L->order[k];
        slot *s = slot_of(L, bi);
        if (s->batch != bi) { /* first item of this batch claims the slot */
            s->batch = bi;
            s->done = 0;
        }
        pthread_mutex_unlock(&L->mu);
        uf_err e;
        int rc = make_sample(L, row, s->b.x + (size_t)pos * per, &e);
        pthread_mutex_lock(&L->mu);
        s->ok[pos] = rc == 0;
        s->b.label[pos] = L->ds->label[row];
        s->b.row[pos] = row;
        if (rc && L->skipped++ == 0)
            L->first = e;
        L->inflight--;
        if (++s->done == (bi == L->nbatch - 1 ? items(L) - bi * L->cfg.batch : L->cfg.batch) || !L->inflight)
            pthread_cond_broadcast(&L->ready);
    }
    pthread_mutex_unlock(&L->mu);
    return NULL;
}

int uf_loader_open(uf_loader **out, const uf_dataset *ds, const uf_loader_cfg *cfg, uf_err *e)
{
    if (cfg->batch < 1 || cfg->size < 8 || cfg->threads < 1 || cfg->prefetch < 1)
        return uf_fail(e, "loader: batch, size, threads and prefetch must be positive");
    if (cfg->parts > 1 && (cfg->batch % cfg->parts || cfg->part < 0 || cfg->part >= cfg->parts))
        return uf_fail(e, "loader: part %d of %d of batches of %d rows", cfg->part, cfg->parts, cfg->batch);
    int n = cfg->rows ? cfg->nrows : ds->n;
    if (n < 1)
        return uf_fail(e, "loader: %s has no rows%s", ds->name, cfg->rows ? " in the row list" : "");
    for (int i = 0; cfg->rows && i < n; i++)
        if (cfg->rows[i] < 0 || cfg->rows[i] >= ds->n)
            return uf_fail(e, "loader: row list entry %d is row %d, but %s has rows 0..%d", i, cfg->rows[i], ds->name,
                           ds->n - 1);
    if (ds->kind == UF_DS_ARCHIVE && !ds->store_open) /* else every image would stream the archive */
        return uf_fail(e, "loader: %s: images not opened for random access (uf_dataset_open_images)", ds->name);
    uf_loader *L = uf_calloc(1, sizeof *L, e);
    if (!L)
        return -1;
    L->ds = ds;
    L->cfg = *cfg;
    L->nrows = n;
    part_sizes(L);
    L->order = uf_calloc((size_t)n, sizeof *L->order, e);
    L->list = cfg->rows ? uf_calloc((size_t)n, sizeof *L->list, e) : NULL;
    L->cfg.rows = L->list; /* the caller's array may go once the loader is open */
    L->slots = uf_calloc((size_t)cfg->prefetch + 1, sizeof *L->slots, e);
    L->workers = uf_calloc((size_t)cfg->threads, sizeof *L->workers, e);
    size_t per = (size_t)3 * (size_t)cfg->size * (size_t)cfg->size;
    int ok = L->order && L->slots && L->workers && (L->list || !cfg->rows);
    if (L->list)
        memcpy(L->list, cfg->rows, sizeof *L->list * (size_t)n);
    for (int i = 0; ok && i <= cfg->prefetch; i++) { /* a part's batches are L->cfg.batch rows */
        slot *s = &L->slots[i];
        s->batch = -1;
        s->b.x = uf_calloc(per * (size_t)L->cfg.batch, sizeof(float), e);
        s->b.label = uf_calloc((size_t)L->cfg.batch, sizeof(int), e);
        s->b.row = uf_calloc((size_t)L->cfg.batch, sizeof(int), e);
        s->ok = uf_calloc((size_t)L->cfg.batch, sizeof *s->ok, e);
        ok = s->b.x && s->b.label && s->b.row && s->ok;
    }
    pthread_mutex_init(&L->mu, NULL);
    pthread_cond_init(&L->work, NULL);
    pthread_cond_init(&L->ready, NULL);
    L->next_item = n; /* idle until an epoch starts */
    int started = ok; /* a failed allocation has filled e already; a failed thread has not */
    for (int t = 0; started && t < cfg->threads; t++)
        started = pthread_create(&L->workers[t], NULL, worker, L) == 0 && ++L->nworkers;
    if (!started) {
        uf_loader_close(L);
        return ok ? uf_fail(e, "loader: cannot start its worker threads") : -1;
    }
    *out = L;
    return 0;
}

void uf_loader_start(uf_loader *L, int epoch) { uf_loader_start_at(L, epoch, 0); }

/* Keeps this part's rows of every batch of the epoch's order (in place: a kept row never moves back). */
static void keep_part(uf_loader *L)
{
    const int bp = L->cfg.batch;
    for (int i = 0; L->full != bp && i < L->nitems; i++)
        L->order[i] = L->order[i / bp * L->full + L->cfg.part * bp + i % bp];
}

void uf_loader_start_at(uf_loader *L, int epoch, int first)
{
    pthread_mutex_lock(&L->mu);
    /* abandon what is left of the previous epoch and wait for the items in flight */
    L->next_item = items(L);
    while (L->inflight > 0)
        pthread_cond_wait(&L->ready, &L->mu);
    for (int i = 0; i <= L->cfg.prefetch; i++)
        L->slots[i].batch = -1;
    L->epoch = epoch;
    L->skipped = 0;
    int n = L->nrows;
    for (int i = 0; i < n; i++)
        L->order[i] = L->list ? L->list[i] : i;
    /* Fisher-Yates driven by (seed, epoch, position) */
    for (int i = n - 1; L->cfg.shuffle && i > 0; i--) {
        int j = (int)(uf_rng_uniform(L->cfg.seed, RNG_SHUFFLE, ((uint64_t)epoch << 32) | (uint64_t)i) * (i + 1));
        int t = L->order[i];
        L->order[i] = L->order[j];
        L->order[j] = t;
    }
    keep_part(L);
    first = first < 0 ? 0 : first > L->nbatch ? L->nbatch : first;
    L->consumed = first;
    L->next_item = (long)first * L->cfg.batch;
    pthread_cond_broadcast(&L->work);
    pthread_mutex_unlock(&L->mu);
}

const uf_batch *uf_loader_next(uf_loader *L)
{
    pthread_mutex_lock(&L->mu);
    if (L->consumed >= L->nbatch) {
        pthread_mutex_unlock(&L->mu);
        return NULL;
    }
    int bi = L->consumed;
    int want = bi == L->nbatch - 1 ? items(L) - bi * L->cfg.batch : L->cfg.batch;
    slot *s = slot_of(L, bi);
    while (!(s->batch == bi && s->done == want))
        pthread_cond_wait(&L->ready, &L->mu);
    L->consumed++; /* frees the slot of batch bi - 1 for batch bi + prefetch */
    pthread_cond_broadcast(&L->work);
    pthread_mutex_unlock(&L->mu);
    /* drop skipped rows, keeping order */
    size_t per = (size_t)3 * (size_t)L->cfg.size * (size_t)L->cfg.size;
    int n = 0;
    for (int p = 0; p < want; p++) {
        if (!s->ok[p])
            continue;
        if (n != p) {
            memmove(s->b.x + (size_t)n * per, s->b.x + (size_t)p * per, sizeof(float) * per);
            s->b.label[n] = s->b.label[p];
            s->b.row[n] = s->b.row[p];
        }
        n++;
    }
    s->b.n = n;
    return &s->b;
}

long uf_loader_skipped(const uf_loader *L, const char **first_error)
{
    if (first_error)
        *first_error = L->skipped ? L->first.msg : NULL;
    return L->skipped;
}

void uf_loader_close(uf_loader *L)
{
    if (!L)
        return;
    pthread_mutex_lock(&L->mu);
    L->stop = 1;
    pthread_cond_broadcast(&L->work);
    pthread_mutex_unlock(&L->mu);
    for (int t = 0; t < L->nworkers; t++)
        pthread_join(L->workers[t], NULL);
    for (int i = 0; L->slots && i <= L->cfg.prefetch; i++) {
        free(L->slots[i].b.x);
        free(L->slots[i].b.label);
        free(L->slots[i].b.row);
        free(L->slots[i].ok);
    }
    pthread_mutex_destroy(&L->mu);
    pthread_cond_destroy(&L->work);
    pthread_cond_destroy(&L->ready);
    free(L->slots);
    free(L->workers);
    free(L->list);
    free(L->order);
    free(L);
}
