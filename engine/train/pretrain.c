#define _POSIX_C_SOURCE 200809L
#include "pretrain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/fileio.h"
#include "core/parallel.h"
#include "data/loader.h"
#include "nn/ckpt.h"
#include "nn/loss.h"
#include "trainer.h"

/* The mini tier's choices, sized so that the world, both pre-trainings, the
 * features and k-means fit 15 minutes on 2 cores: a 4-stage ResNet of one
 * BasicBlock per stage (16-128 wide, 128-d pooled feature) at 28 x 28, which
 * Resize(32) + CenterCrop(28) makes the eval view of a 32 x 32 glyph without
 * resampling. Chosen by the linear probe on the pool's held-out images
 * (REPRODUCE.md): MoCo for 6 epochs reached 38.9% with crops only (scale
 * 0.3; 0.2: 38.1%), 49.3% with brightness and contrast jitter 0.4 (0.8:
 * 49.4%), 21-23% with RandAugment and cutout, 37.3% at learning rate 0.12,
 * 38.5% at batch 64 (and slower); supervised for 5 epochs 93.1% with crops,
 * 78.8% with RandAugment. */
void uf_pretrain_defaults(uf_pretrain_cfg *c, uf_pretrain_method method)
{
    memset(c, 0, sizeof *c);
    c->method = method;
    snprintf(c->arch, sizeof c->arch, "small:16,32,64,128:1,1,1,1");
    snprintf(c->data_set, sizeof c->data_set, "mini-pool");
    c->data_root = "data/mini";
    c->size = 28;
    c->batch = 128;
    c->momentum = 0.9;
    c->seed = 0;
    c->loader_threads = 2;
    c->ckpt_every = 100;
    if (method == UF_PRETRAIN_SUPERVISED) {
        c->epochs = 5;
        c->lr = 0.1;
        c->weight_decay = 5e-4;
        c->nesterov = 1;
        c->scale_min = 0.35;
    } else {
        c->epochs = 10;
        c->lr = 0.06;
        c->weight_decay = 1e-4;
        c->scale_min = 0.3;
        c->jitter = 0.4;
        c->moco = (uf_moco_cfg){.dim = 128, .queue = 4096, .m = 0.999, .t = 0.2, .groups = 4};
    }
}

void uf_pretrain_note(const uf_pretrain_cfg *c, char *buf, size_t n)
{
    int k = snprintf(buf, n,
                     "method=%s arch=%s data=%s size=%d epochs=%d batch=%d lr=%.17g momentum=%.17g wd=%.17g "
                     "nesterov=%d scale_min=%.17g strong=%d jitter=%.17g seed=%llu",
                     c->method == UF_PRETRAIN_MOCO ? "moco" : "supervised", c->arch, c->data_set, c->size, c->epochs,
                     c->batch, c->lr, c->momentum, c->weight_decay, c->nesterov, c->scale_min, c->strong, c->jitter,
                     (unsigned long long)c->seed);
    if (c->method == UF_PRETRAIN_MOCO && k > 0 && (size_t)k < n)
        k += snprintf(buf + k, n - (size_t)k, " dim=%d queue=%d key_momentum=%.17g temperature=%.17g bn_groups=%d",
                      c->moco.dim, c->moco.queue, c->moco.m, c->moco.t, c->moco.groups);
    uf_trainer_note_threads(buf, n); /* last: a finished model is the same whatever the thread count */
}

/* One pre-training run: the model (supervised, or MoCo's query and key encoders and queue), its
 * loaders and optimiser; the loop around them is train/trainer.h's. */
typedef struct pretrainer {
    const uf_pretrain_cfg *c;
    uf_dataset ds;
    int have_ds;
    uf_loader *lq, *lk; /* lk: MoCo's key view */
    uf_model sup;
    uf_moco mc;
    uf_model *m;        /* the model being trained: &sup or &mc.q */
    uf_sgd opt;
    int64_t spe, total;
    float *dlogits;     // (batch, classes): the supervised loss's gradient
} pretrainer;

static int open_loader(pretrainer *t, uf_loader **L, uint64_t view_seed, uf_err *e)
{
    const uf_pretrain_cfg *c = t->c;
    uf_loader_cfg lc = {.batch = c->batch, .size = c->size, .view = c->strong ? UF_VIEW_STRONG : UF_VIEW_WEAK,
                        .shuffle = 1, .threads = c->loader_threads > 0 ? c->loader_threads : 1, .prefetch = 3,
                        .seed = c->seed, .scale_min = c->scale_min, .no_flip = 1, .jitter = c->jitter,
                        .view_seed = view_seed};
    return uf_loader_open(L, &t->ds, &lc, e);
}

static int setup(pretrainer *t, uf_err *e)
{
    const uf_pretrain_cfg *c = t->c;
    uf_arch a;
    if (c->epochs < 1 || c->batch < 2 || c->size < 8 || !(c->lr > 0))
        return uf_fail(e, "pretrain: needs epochs >= 1, batch >= 2, size >= 8 and a positive learning rate");
    if (uf_arch_parse(c->arch, &a, e))
        return -1;
    if (uf_dataset_list(&t->ds, c->data_set, c->data_root, "train", c->seed, e))
        return -1;
    t->have_ds = 1;
    t->spe = t->ds.n / c->batch;
    t->total = t->spe * c->epochs;
    if (t->spe < 1)
        return uf_fail(e, "pretrain: %s has %d images, fewer than a batch of %d", c->data_set, t->ds.n, c->batch);
    if (c->method == UF_PRETRAIN_MOCO) {
        if (uf_moco_create(&t->mc, &a, &c->moco, e))
            return -1;
        t->m = &t->mc.q;
        if (c->batch % c->moco.groups || c->moco.queue % c->batch)
            return uf_fail(e, "MoCo: the batch (%d) must split into %d BatchNorm groups and divide the queue (%d)",
                           c->batch, c->moco.groups, c->moco.queue);
    } else {
        uf_head_spec head = {"fc", t->ds.nclasses, UF_HEAD_LINEAR};
        if (uf_model_create(&t->sup, &a, &head, 1, e))
            return -1;
        t->m = &t->sup;
        if (!(t->dlogits = uf_calloc((size_t)c->batch * t->ds.nclasses, sizeof(float), e)))
            return -1;
    }
    t->opt = (uf_sgd){.momentum = c->momentum, .nesterov = c->nesterov};
    for (int g = 0; g < UF_SGD_GROUPS; g++)
        t->opt.weight_decay[g] = c->weight_decay;
    return 0;
}

static void teardown(pretrainer *t)
{
    uf_loader_close(t->lq);
    uf_loader_close(t->lk);
    if (t->c->method == UF_PRETRAIN_MOCO)
        uf_moco_free(&t->mc);
    else
        uf_model_free(&t->sup);
    if (t->have_ds)
        uf_dataset_free(&t->ds);
    free(t->dlogits);
}

static int supervised_step(pretrainer *t, const uf_batch *b, double *loss, uf_err *e)
{
    const int S = t->c->size, K = t->ds.nclasses;
    const float *dl[1] = {t->dlogits};
    if (uf_model_forward(t->m, b->x, b->n, S, S, 1, 1, e) ||
        uf_xent_hard(b->n, K, uf_model_head_out(t->m, 0), b->label, 1, t->dlogits, loss, e))
        return -1;
    uf_params_zero_grad(&t->m->p);
    if (uf_model_backward(t->m, dl, e))
        return -1;
    uf_sgd_step(&t->opt, &t->m->p);
    return 0;
}

/* A batch the loader shortened (a corrupt image) would break the batch size MoCo's queue relies on. */
static const uf_batch *next_full(pretrainer *t, uf_loader *L, uf_err *e)
{
    const uf_batch *b = uf_loader_next(L);
    const char *why = NULL;
    if (b && b->n != t->c->batch) {
        uf_loader_skipped(L, &why);
        uf_fail(e, "%s: a batch lost images (%s)", t->c->data_set, why ? why : "unknown reason");
        return NULL;
    }
    if (!b)
        uf_fail(e, "%s: the loader ended an epoch early", t->c->data_set);
    return b;
}

static int begin_epoch(void *ctx, int epoch, int first, uf_err *e)
{
    pretrainer *t = ctx;
    const int moco = t->c->method == UF_PRETRAIN_MOCO;
    if ((!t->lq && open_loader(t, &t->lq, moco ? 1 : 0, e)) || (moco && !t->lk && open_loader(t, &t->lk, 2, e)))
        return -1;
    uf_loader_start_at(t->lq, epoch, first);
    if (moco)
        uf_loader_start_at(t->lk, epoch, first);
    return 0;
}

static int step(void *ctx, int64_t s, int epoch, double *lr, double *loss, uf_err *e)
{
    pretrainer *t = ctx;
    const uf_pretrain_cfg *c = t->c;
    const int moco = c->method == UF_PRETRAIN_MOCO;
    (void)epoch;
    const uf_batch *bq = next_full(t, t->lq, e), *bk = NULL;
    if (!bq || (moco && !(bk = next_full(t, t->lk, e))))
        return -1;
    if (moco && memcmp(bq->row, bk->row, sizeof(int) * (size_t)bq->n) != 0)
        return uf_fail(e, "MoCo: the two views' loaders disagree on the rows of a batch");
    *lr = uf_cosine_lr(c->lr, s, t->total);
    for (int g = 0; g < UF_SGD_GROUPS; g++)
        t->opt.lr[g] = *lr;
    return moco ? uf_moco_step(&t->mc, &t->opt, bq->x, bk->x, bq->n, c->size, c->size, c->seed, s, loss, e)
                : supervised_step(t, bq, loss, e);
}

static void trainer_cfg(pretrainer *t, const char *dir, const char *name, uf_trainer_cfg *tc)
{
    const uf_pretrain_cfg *c = t->c;
    *tc = (uf_trainer_cfg){.dir = dir, .name = name, .epochs = c->epochs, .steps_per_epoch = t->spe,
                           .images_per_step = c->batch, .nvalues = 1, .value_names = {"loss"},
                           .ckpt_every = c->ckpt_every, .stop_after = c->stop_after, .progress = c->progress,
                           .progress_ctx = c->progress_ctx};
    uf_pretrain_note(c, tc->note, sizeof tc->note);
    if (c->method == UF_PRETRAIN_MOCO) {
        tc->ntables = 3;
        tc->tables[0] = &t->mc.k.p;
        tc->tables[1] = &t->mc.k.buf;
        tc->tables[2] = &t->mc.queue;
    }
}

int uf_pretrain(const uf_pretrain_cfg *c, const char *dir, const char *name, int *finished, uf_err *e)
{
    pretrainer t = {.c = c};
    uf_trainer tr = {0};
    uf_trainer_cfg tc;
    uf_trainer_start start;
    static const uf_trainer_ops ops = {.begin_epoch = begin_epoch, .step = step};
    *finished = 0;
    int rc = setup(&t, e);
    if (rc == 0) {
        trainer_cfg(&t, dir, name, &tc);
        rc = uf_trainer_open(&tr, &tc, t.m, &t.opt, c->seed, &start, e);
    }
    if (rc == 0 && start == UF_TRAINER_DONE) {
        *finished = 1;
    } else if (rc == 0) {
        if (start == UF_TRAINER_FRESH && c->method == UF_PRETRAIN_MOCO)
            uf_moco_init(&t.mc, c->seed);
        else if (start == UF_TRAINER_FRESH)
            uf_model_init_weights(&t.sup, c->seed);
        rc = uf_trainer_run(&tr, &ops, &t, finished, e);
    }
    uf_trainer_close(&tr);
    teardown(&t);
    return rc;
}
