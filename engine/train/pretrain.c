#define _POSIX_C_SOURCE 200809L
#include "pretrain.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/parallel.h"
#include "core/sha256.h"
#include "core/tsv.h"
#include "data/loader.h"
#include "nn/ckpt.h"
#include "nn/loss.h"

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
    if (k > 0 && (size_t)k < n) /* last: a finished model is the same whatever the thread count (final_done) */
        snprintf(buf + k, n - (size_t)k, " threads=%d", uf_threads());
}

/* The note without its thread count. */
static size_t settings_len(const char *note)
{
    const char *t = strstr(note, " threads=");
    return t ? (size_t)(t - note) : strlen(note);
}

typedef struct trainer {
    const uf_pretrain_cfg *c;
    uf_dataset ds;
    int have_ds;
    uf_loader *lq, *lk; /* lk: MoCo's key view */
    uf_model sup;
    uf_moco mc;
    uf_model *m;        /* the model being trained: &sup or &mc.q */
    uf_sgd opt;
    uf_train_state ts;
    uf_ckpt_extra x;
    int64_t spe, total;
    float *dlogits;
    char state[4200], log[4200], final[4200];
    char *rows;         /* the log's rows so far */
    size_t len, cap;
} trainer;

static const char *const log_header = "step\tepoch\tlr\tloss\tparams\n";

/* First 16 hex digits of the sha256 of the parameters and running statistics. */
static int params_hash(const uf_model *m, char out[17], uf_err *e)
{
    size_t np = m->p.total, nb = m->buf.total;
    float *all = malloc(sizeof(float) * (np + nb));
    char hex[65];
    if (!all)
        return uf_fail(e, "out of memory");
    memcpy(all, m->p.w, sizeof(float) * np);
    memcpy(all + np, m->buf.w, sizeof(float) * nb);
    int rc = uf_sha256_mem(all, sizeof(float) * (np + nb), hex);
    free(all);
    if (rc)
        return uf_fail(e, "sha256 failed");
    memcpy(out, hex, 16);
    out[16] = '\0';
    return 0;
}

static int rows_append(trainer *t, const char *row, uf_err *e)
{
    size_t n = strlen(row);
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 1 << 16;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *r = realloc(t->rows, cap);
        if (!r)
            return uf_fail(e, "out of memory");
        t->rows = r;
        t->cap = cap;
    }
    memcpy(t->rows + t->len, row, n + 1);
    t->len += n;
    return 0;
}

static int log_add(trainer *t, double lr, double loss, uf_err *e)
{
    int64_t s = t->ts.step;
    char hash[17] = "", row[256];
    if (((s & (s - 1)) == 0 || s == t->total) && params_hash(t->m, hash, e))
        return -1;
    snprintf(row, sizeof row, "%lld\t%lld\t%.9g\t%.9g\t%s\n", (long long)s, (long long)t->ts.epoch, lr, loss, hash);
    return rows_append(t, row, e);
}

static int log_write(const trainer *t, uf_err *e)
{
    uf_out o;
    if (uf_out_open(&o, t->log, e))
        return -1;
    fputs(log_header, o.f);
    fwrite(t->rows, 1, t->len, o.f);
    return uf_out_commit(&o, e);
}

/* Keeps the log's rows of steps 1..step (a run killed after writing its log
 * but before its checkpoint has rows beyond it). */
static int log_restore(trainer *t, int64_t step, uf_err *e)
{
    uf_tsv tsv;
    if (uf_tsv_read(t->log, &tsv, e))
        return uf_wrap(e, "resuming from %s: ", t->state);
    int rc = 0;
    if (tsv.ncols != 5 || strcmp(tsv.header[0], "step") != 0 || tsv.nrows < step)
        rc = uf_fail(e, "%s: has %d rows of %d columns, but %s is at step %lld", t->log, tsv.nrows, tsv.ncols,
                     t->state, (long long)step);
    for (int64_t r = 0; !rc && r < step; r++) {
        if (atoll(uf_tsv_at(&tsv, (int)r, 0)) != r + 1) {
            rc = uf_fail(e, "%s: row %lld is not step %lld", t->log, (long long)r + 1, (long long)r + 1);
            break;
        }
        char row[256];
        snprintf(row, sizeof row, "%s\t%s\t%s\t%s\t%s\n", uf_tsv_at(&tsv, (int)r, 0), uf_tsv_at(&tsv, (int)r, 1),
                 uf_tsv_at(&tsv, (int)r, 2), uf_tsv_at(&tsv, (int)r, 3), uf_tsv_at(&tsv, (int)r, 4));
        rc = rows_append(t, row, e);
    }
    uf_tsv_free(&tsv);
    return rc;
}

/* The extras a state file carries: the settings, and MoCo's key encoder and queue. */
static void state_extra(trainer *t)
{
    memset(&t->x, 0, sizeof t->x);
    uf_pretrain_note(t->c, t->x.note, sizeof t->x.note);
    if (t->c->method == UF_PRETRAIN_MOCO) {
        t->x.ntables = 3;
        t->x.tables[0] = &t->mc.k.p;
        t->x.tables[1] = &t->mc.k.buf;
        t->x.tables[2] = &t->mc.queue;
    }
}

static int save_state(trainer *t, uf_err *e)
{
    state_extra(t);
    return log_write(t, e) || uf_ckpt_save_ex(t->state, t->m, &t->opt, &t->ts, &t->x, e) ? -1 : 0;
}

static int load_state(trainer *t, uf_err *e)
{
    char want[sizeof t->x.note];
    uf_pretrain_note(t->c, want, sizeof want);
    state_extra(t);
    if (uf_ckpt_load_ex(t->state, t->m, &t->opt, &t->ts, &t->x, e))
        return uf_wrap(e, "resuming: ");
    if (strcmp(t->x.note, want) != 0)
        return uf_fail(e, "%s: made with other settings; delete it to start again, or resume with them.\n"
                          "  file: %s\n  now:  %s", t->state, t->x.note, want);
    if (t->ts.step < 0 || t->ts.step > t->total || t->opt.steps != t->ts.step)
        return uf_fail(e, "%s: inconsistent step counts (%lld, optimiser %lld, of %lld)", t->state,
                       (long long)t->ts.step, (long long)t->opt.steps, (long long)t->total);
    return log_restore(t, t->ts.step, e);
}

/* The model alone: no momentum (an optimiser without steps), the settings as note. */
static int save_final(trainer *t, uf_err *e)
{
    uf_sgd none = t->opt;
    none.steps = 0;
    uf_ckpt_extra x = {0};
    uf_pretrain_note(t->c, x.note, sizeof x.note);
    if (uf_ckpt_save_ex(t->final, t->m, &none, &t->ts, &x, e))
        return -1;
    remove(t->state);
    return 0;
}

/* 1 when NAME.ckpt exists with this run's settings (made on any thread count), 0 when absent,
 * -1 (error) otherwise. */
static int final_done(trainer *t, uf_err *e)
{
    if (!uf_is_file(t->final))
        return 0;
    uf_ckpt_extra x = {0};
    char want[sizeof x.note];
    uf_pretrain_note(t->c, want, sizeof want);
    if (uf_ckpt_load_ex(t->final, t->m, NULL, NULL, &x, e))
        return -1;
    if (settings_len(x.note) != settings_len(want) || strncmp(x.note, want, settings_len(want)) != 0)
        return uf_fail(e, "%s: made with other settings; delete it to train again.\n  file: %s\n  now:  %s",
                       t->final, x.note, want);
    return 1;
}

static int open_loader(trainer *t, uf_loader **L, uint64_t view_seed, uf_err *e)
{
    const uf_pretrain_cfg *c = t->c;
    uf_loader_cfg lc = {.batch = c->batch, .size = c->size, .view = c->strong ? UF_VIEW_STRONG : UF_VIEW_WEAK,
                        .shuffle = 1, .threads = c->loader_threads > 0 ? c->loader_threads : 1, .prefetch = 3,
                        .seed = c->seed, .scale_min = c->scale_min, .no_flip = 1, .jitter = c->jitter,
                        .view_seed = view_seed};
    return uf_loader_open(L, &t->ds, &lc, e);
}

static int setup(trainer *t, uf_err *e)
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
        if (!(t->dlogits = malloc(sizeof(float) * (size_t)c->batch * t->ds.nclasses)))
            return uf_fail(e, "out of memory");
    }
    t->opt = (uf_sgd){.momentum = c->momentum, .nesterov = c->nesterov};
    for (int g = 0; g < UF_SGD_GROUPS; g++)
        t->opt.weight_decay[g] = c->weight_decay;
    t->ts = (uf_train_state){.seed = c->seed};
    return 0;
}

static void teardown(trainer *t)
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
    free(t->rows);
}

static int supervised_step(trainer *t, const uf_batch *b, double *loss, uf_err *e)
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
static const uf_batch *next_full(trainer *t, uf_loader *L, uf_err *e)
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

static int train(trainer *t, int *finished, uf_err *e)
{
    const uf_pretrain_cfg *c = t->c;
    const int moco = c->method == UF_PRETRAIN_MOCO;
    if (open_loader(t, &t->lq, moco ? 1 : 0, e) || (moco && open_loader(t, &t->lk, 2, e)))
        return -1;
    const int64_t start = t->ts.step, end = c->stop_after > 0 && c->stop_after < t->total ? c->stop_after : t->total;
    const double t0 = uf_now();
    uf_pretrain_progress p = {.total = t->total, .epochs = c->epochs};
    while (t->ts.step < end) {
        int epoch = (int)(t->ts.step / t->spe);
        uf_loader_start_at(t->lq, epoch, (int)(t->ts.step % t->spe));
        if (moco)
            uf_loader_start_at(t->lk, epoch, (int)(t->ts.step % t->spe));
        do {
            const uf_batch *bq = next_full(t, t->lq, e), *bk = NULL;
            if (!bq || (moco && !(bk = next_full(t, t->lk, e))))
                return -1;
            if (moco && memcmp(bq->row, bk->row, sizeof(int) * (size_t)bq->n) != 0)
                return uf_fail(e, "MoCo: the two views' loaders disagree on the rows of a batch");
            double lr = uf_cosine_lr(c->lr, t->ts.step, t->total), loss;
            for (int g = 0; g < UF_SGD_GROUPS; g++)
                t->opt.lr[g] = lr;
            if (moco ? uf_moco_step(&t->mc, &t->opt, bq->x, bk->x, bq->n, c->size, c->size, c->seed, t->ts.step,
                                    &loss, e)
                     : supervised_step(t, bq, &loss, e))
                return uf_wrap(e, "step %lld: ", (long long)t->ts.step + 1);
            t->ts.step++;
            t->ts.epoch = epoch;
            if (log_add(t, lr, loss, e))
                return -1;
            int epoch_end = t->ts.step % t->spe == 0;
            if ((c->ckpt_every > 0 && t->ts.step % c->ckpt_every == 0) || epoch_end || t->ts.step == end)
                if (t->ts.step < t->total && save_state(t, e))
                    return -1;
            if (c->progress) {
                double el = uf_now() - t0;
                int64_t done = t->ts.step - start;
                p.step = t->ts.step;
                p.epoch = epoch;
                p.loss = loss;
                p.lr = lr;
                p.elapsed = el;
                p.eta = el / (double)done * (double)(end - t->ts.step);
                p.images_per_s = (double)done * c->batch / el;
                p.done = t->ts.step == end;
                c->progress(c->progress_ctx, &p);
            }
        } while (t->ts.step < end && t->ts.step % t->spe != 0);
    }
    if (t->ts.step < t->total)
        return 0;
    if (log_write(t, e) || save_final(t, e))
        return -1;
    *finished = 1;
    return 0;
}

/* A run killed while writing leaves NAME.*.tmp.<pid> (fileio.h): removed before starting again. */
static void remove_temporaries(const char *dir, const char *name)
{
    char pattern[4200];
    glob_t g;
    snprintf(pattern, sizeof pattern, "%s/%s.*.tmp.*", dir, name);
    if (glob(pattern, 0, NULL, &g) == 0)
        for (size_t i = 0; i < g.gl_pathc; i++)
            remove(g.gl_pathv[i]);
    globfree(&g);
}

int uf_pretrain(const uf_pretrain_cfg *c, const char *dir, const char *name, int *finished, uf_err *e)
{
    trainer t = {.c = c};
    *finished = 0;
    snprintf(t.state, sizeof t.state, "%s/%s.state.ckpt", dir, name);
    snprintf(t.log, sizeof t.log, "%s/%s.log.tsv", dir, name);
    snprintf(t.final, sizeof t.final, "%s/%s.ckpt", dir, name);
    remove_temporaries(dir, name);
    int rc = setup(&t, e);
    if (rc == 0 && (rc = final_done(&t, e)) == 1) {
        *finished = 1;
        rc = 0;
    } else if (rc == 0) {
        if (uf_is_file(t.state)) {
            rc = load_state(&t, e);
        } else {
            if (c->method == UF_PRETRAIN_MOCO)
                uf_moco_init(&t.mc, c->seed);
            else
                uf_model_init_weights(&t.sup, c->seed);
            rc = uf_mkdirs(dir, e);
        }
        if (rc == 0)
            rc = train(&t, finished, e);
    }
    teardown(&t);
    return rc;
}
