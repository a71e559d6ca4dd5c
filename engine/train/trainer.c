#define _POSIX_C_SOURCE 200809L
#include "trainer.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/fileio.h"
#include "core/parallel.h"
#include "core/sha256.h"
#include "core/tsv.h"

void uf_trainer_note_threads(char *note, size_t n)
{
    size_t k = strlen(note);
    if (k < n)
        snprintf(note + k, n - k, " threads=%d", uf_threads());
}

size_t uf_trainer_settings_len(const char *note)
{
    const char *t = strstr(note, " threads=");
    return t ? (size_t)(t - note) : strlen(note);
}

int uf_trainer_params_hash(const uf_model *m, char out[17], uf_err *e)
{
    /* the parameters, then the buffers (running statistics), as one stream */
    const void *pieces[2] = {m->p.w, m->buf.w};
    const size_t sizes[2] = {sizeof(float) * m->p.total, sizeof(float) * m->buf.total};
    char hex[65];
    if (uf_sha256_pieces(pieces, sizes, 2, hex))
        return uf_fail(e, "sha256 failed");
    memcpy(out, hex, 16);
    out[16] = '\0';
    return 0;
}

static int rows_append(uf_trainer *t, const char *row, uf_err *e)
{
    size_t n = strlen(row);
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 1 << 16;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *r = uf_realloc(t->rows, cap, 1, e);
        if (!r)
            return -1;
        t->rows = r;
        t->cap = cap;
    }
    memcpy(t->rows + t->len, row, n + 1);
    t->len += n;
    return 0;
}

static int log_add(uf_trainer *t, double lr, const double *values, uf_err *e)
{
    int64_t s = t->ts.step;
    char hash[17] = "", row[512];
    if (((s & (s - 1)) == 0 || s == t->total) && uf_trainer_params_hash(t->m, hash, e))
        return -1;
    int k = snprintf(row, sizeof row, "%lld\t%lld\t%.9g", (long long)s, (long long)t->ts.epoch, lr);
    for (int v = 0; v < t->c.nvalues; v++)
        k += snprintf(row + k, sizeof row - (size_t)k, "\t%.9g", values[v]);
    snprintf(row + k, sizeof row - (size_t)k, "\t%s\n", hash);
    return rows_append(t, row, e);
}

static int log_write(const uf_trainer *t, uf_err *e)
{
    uf_out o;
    if (uf_out_open(&o, t->log, e))
        return -1;
    fputs("step\tepoch\tlr", o.f);
    for (int v = 0; v < t->c.nvalues; v++)
        fprintf(o.f, "\t%s", t->c.value_names[v]);
    fputs("\tparams\n", o.f);
    fwrite(t->rows, 1, t->len, o.f);
    return uf_out_commit(&o, e);
}

/* Keeps the log's rows of steps 1..step (a run killed after writing its log
 * but before its checkpoint has rows beyond it). */
static int log_restore(uf_trainer *t, int64_t step, uf_err *e)
{
    uf_tsv tsv;
    if (uf_tsv_read(t->log, &tsv, e))
        return uf_wrap(e, "resuming from %s: ", t->state);
    const int ncols = 4 + t->c.nvalues;
    int rc = 0;
    if (tsv.ncols != ncols || strcmp(tsv.header[0], "step") != 0 || tsv.nrows < step)
        rc = uf_fail(e, "%s: has %d rows of %d columns, but %s is at step %lld", t->log, tsv.nrows, tsv.ncols,
                     t->state, (long long)step);
    for (int64_t r = 0; !rc && r < step; r++) {
        if (atoll(uf_tsv_at(&tsv, (int)r, 0)) != r + 1) {
            rc = uf_fail(e, "%s: row %lld is not step %lld", t->log, (long long)r + 1, (long long)r + 1);
            break;
        }
        char row[512];
        size_t k = 0;
        for (int c = 0; c < ncols; c++)
            k += (size_t)snprintf(row + k, sizeof row - k, "%s%s", uf_tsv_at(&tsv, (int)r, c),
                                  c + 1 < ncols ? "\t" : "\n");
        rc = rows_append(t, row, e);
    }
    uf_tsv_free(&tsv);
    return rc;
}

static uf_ckpt_extra extras(const uf_trainer *t)
{
    uf_ckpt_extra x = {.ntables = t->c.ntables};
    snprintf(x.note, sizeof x.note, "%s", t->c.note);
    for (int i = 0; i < t->c.ntables; i++)
        x.tables[i] = t->c.tables[i];
    return x;
}

static int save_state(uf_trainer *t, uf_err *e)
{
    if (t->c.read_only)
        return 0;
    uf_ckpt_extra x = extras(t);
    return log_write(t, e) || uf_ckpt_save_ex(t->state, t->m, t->opt, &t->ts, &x, e) ? -1 : 0;
}

static int load_state(uf_trainer *t, uf_err *e)
{
    uf_ckpt_extra x = extras(t);
    if (uf_ckpt_load_ex(t->state, t->m, t->opt, &t->ts, &x, e))
        return uf_wrap(e, "resuming: ");
    if (strcmp(x.note, t->c.note) != 0)
        return uf_fail(e, "%s: made with other settings; delete it to start again, or resume with them.\n"
                          "  file: %s\n  now:  %s", t->state, x.note, t->c.note);
    if (t->ts.step < 0 || t->ts.step > t->total || t->opt->steps != t->ts.step)
        return uf_fail(e, "%s: inconsistent step counts (%lld, optimiser %lld, of %lld)", t->state,
                       (long long)t->ts.step, (long long)t->opt->steps, (long long)t->total);
    return log_restore(t, t->ts.step, e);
}

/* The model alone: no momentum (an optimiser without steps), the settings as note; with
 * no_final only the state checkpoint goes. */
static int save_final(uf_trainer *t, uf_err *e)
{
    if (t->c.read_only)
        return 0;
    if (t->c.no_final) {
        remove(t->state);
        return 0;
    }
    uf_sgd none = *t->opt;
    none.steps = 0;
    uf_ckpt_extra x = {0};
    snprintf(x.note, sizeof x.note, "%s", t->c.note);
    if (uf_ckpt_save_ex(t->final, t->m, &none, &t->ts, &x, e))
        return -1;
    remove(t->state);
    return 0;
}

/* 1 when NAME.ckpt exists with this run's settings (made on any thread count), 0 when absent,
 * -1 (error) otherwise. */
static int final_done(uf_trainer *t, uf_err *e)
{
    if (!uf_is_file(t->final))
        return 0;
    uf_ckpt_extra x = {0};
    const char *want = t->c.note;
    if (uf_ckpt_load_ex(t->final, t->m, NULL, &t->ts, &x, e))
        return -1;
    size_t n = uf_trainer_settings_len(want);
    if (uf_trainer_settings_len(x.note) != n || strncmp(x.note, want, n) != 0)
        return uf_fail(e, "%s: made with other settings; delete it to train again.\n  file: %s\n  now:  %s",
                       t->final, x.note, want);
    return 1;
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

int uf_trainer_open(uf_trainer *t, const uf_trainer_cfg *c, uf_model *m, uf_sgd *opt, uint64_t seed,
                    uf_trainer_start *start, uf_err *e)
{
    memset(t, 0, sizeof *t);
    t->c = *c;
    t->m = m;
    t->opt = opt;
    t->ts = (uf_train_state){.seed = seed};
    t->total = c->steps_per_epoch * c->epochs;
    if (c->nvalues < 1 || c->nvalues > UF_TRAINER_VALUES || c->ntables < 0 || c->ntables > UF_CKPT_MAX_EXTRA)
        return uf_fail(e, "trainer: %d values and %d extra tables per step are not supported", c->nvalues,
                       c->ntables);
    if (c->steps_per_epoch < 1 || c->epochs < 1)
        return uf_fail(e, "trainer: %lld steps per epoch and %d epochs leave nothing to train",
                       (long long)c->steps_per_epoch, c->epochs);
    snprintf(t->state, sizeof t->state, "%s/%s.state.ckpt", c->dir, c->name);
    snprintf(t->log, sizeof t->log, "%s/%s.log.tsv", c->dir, c->name);
    snprintf(t->final, sizeof t->final, "%s/%s.ckpt", c->dir, c->name);
    if (!c->read_only)
        remove_temporaries(c->dir, c->name);
    int done = final_done(t, e);
    if (done < 0)
        return -1;
    if (done) {
        *start = UF_TRAINER_DONE;
        return 0;
    }
    if (uf_is_file(t->state)) {
        *start = UF_TRAINER_RESUMED;
        return load_state(t, e);
    }
    *start = UF_TRAINER_FRESH;
    return c->read_only ? 0 : uf_mkdirs(c->dir, e);
}

static void report(const uf_trainer *t, int64_t start, int64_t end, double t0, double lr, double loss)
{
    const uf_trainer_cfg *c = &t->c;
    double el = uf_now() - t0;
    int64_t done = t->ts.step - start;
    uf_train_progress p = {.step = t->ts.step, .total = t->total, .epoch = (int)t->ts.epoch, .epochs = c->epochs,
                           .loss = loss, .lr = lr, .elapsed = el,
                           .eta = el / (double)done * (double)(end - t->ts.step),
                           .images_per_s = (double)done * c->images_per_step / el, .done = t->ts.step == end};
    c->progress(c->progress_ctx, &p);
}

/* Steps from t->ts.step to the end of its epoch or to `end`. */
static int run_epoch(uf_trainer *t, const uf_trainer_ops *ops, void *ctx, int64_t start, int64_t end, double t0,
                     uf_err *e)
{
    const uf_trainer_cfg *c = &t->c;
    const int64_t spe = c->steps_per_epoch;
    const int epoch = (int)(t->ts.step / spe);
    if (ops->begin_epoch && ops->begin_epoch(ctx, epoch, (int)(t->ts.step % spe), e))
        return -1;
    do {
        double lr, values[UF_TRAINER_VALUES] = {0};
        if (ops->step(ctx, t->ts.step, epoch, &lr, values, e))
            return uf_wrap(e, "step %lld: ", (long long)t->ts.step + 1);
        t->ts.step++;
        t->ts.epoch = epoch;
        if (log_add(t, lr, values, e))
            return -1;
        int epoch_end = t->ts.step % spe == 0;
        if (epoch_end && ops->end_epoch && ops->end_epoch(ctx, epoch, e))
            return -1;
        if ((c->ckpt_every > 0 && t->ts.step % c->ckpt_every == 0) || epoch_end || t->ts.step == end)
            if (t->ts.step < t->total && save_state(t, e))
                return -1;
        if (c->progress)
            report(t, start, end, t0, lr, values[0]);
    } while (t->ts.step < end && t->ts.step % spe != 0);
    return 0;
}

int uf_trainer_run(uf_trainer *t, const uf_trainer_ops *ops, void *ctx, int *finished, uf_err *e)
{
    const int64_t start = t->ts.step;
    const int64_t end = t->c.stop_after > 0 && t->c.stop_after < t->total ? t->c.stop_after : t->total;
    const double t0 = uf_now();
    *finished = 0;
    while (t->ts.step < end)
        if (run_epoch(t, ops, ctx, start, end, t0, e))
            return -1;
    if (t->ts.step < t->total)
        return 0;
    if ((!t->c.read_only && log_write(t, e)) || save_final(t, e))
        return -1;
    *finished = 1;
    return 0;
}

void uf_trainer_close(uf_trainer *t)
{
    free(t->rows);
    t->rows = NULL;
    t->len = t->cap = 0;
}
