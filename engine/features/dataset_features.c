#define _POSIX_C_SOURCE 200809L
#include "dataset_features.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/fileio.h"
#include "core/parallel.h"
#include "core/sha256.h"
#include "data/loader.h"
#include "io/npy.h"

#define SUM_GRID 0x1p28  /* features are rounded to multiples of 1 / SUM_GRID before they are summed */
#define SUM_LIMIT 0x1p25 /* below 2^(53 - 28), sums of such values are exact doubles */
#define STATE_MAGIC "uotft-features-state 1\n"

/* A checkpoint, or a finished shard: rows [begin, next) of [begin, end) are summed. */
typedef struct fstate {
    char made_from[2048];
    int images, begin, end, next, k, d;
    double *sums;    /* (k, d) per-class sums of the rounded features; one block with counts */
    int64_t *counts; /* (k) images per class */
} fstate;

static int state_alloc(fstate *st, uf_err *e)
{
    st->sums = uf_calloc((size_t)st->k * st->d + (size_t)st->k, sizeof(double), e);
    st->counts = st->sums ? (int64_t *)(st->sums + (size_t)st->k * st->d) : NULL;
    return st->sums ? 0 : -1;
}

static size_t state_payload(const fstate *st)
{
    return ((size_t)st->k * st->d + (size_t)st->k) * sizeof(double);
}

/* Header lines (key, tab, value), a blank line, then the sums and counts as stored in memory. */
static int state_write(const char *path, const fstate *st, uf_err *e)
{
    char hex[65];
    if (uf_sha256_mem(st->sums, state_payload(st), hex))
        return uf_fail(e, "%s: sha256 failed", path);
    uf_out o;
    if (uf_out_open(&o, path, e))
        return -1;
    fprintf(o.f, STATE_MAGIC "made_from\t%s\nimages\t%d\nbegin\t%d\nend\t%d\nnext\t%d\nclasses\t%d\ndim\t%d\n"
            "sha256\t%s\n\n", st->made_from, st->images, st->begin, st->end, st->next, st->k, st->d, hex);
    fwrite(st->sums, 1, state_payload(st), o.f);
    return uf_out_commit(&o, e);
}

/* The header of a state file into st (no arrays); *payload: where the sums start. */
static int state_header(const char *path, char *buf, fstate *st, char hex[65], char **payload, uf_err *e)
{
    char *end = strstr(buf, "\n\n");
    if (strncmp(buf, STATE_MAGIC, strlen(STATE_MAGIC)) != 0 || !end)
        return uf_fail(e, "%s: not a uotft features checkpoint", path);
    *end = '\0';
    *payload = end + 2;
    const struct { const char *key; int *value; } ints[] = {
        {"images", &st->images}, {"begin", &st->begin}, {"end", &st->end}, {"next", &st->next},
        {"classes", &st->k},     {"dim", &st->d}};
    int got = 0;
    for (char *s = NULL, *line = strtok_r(buf + strlen(STATE_MAGIC), "\n", &s); line; line = strtok_r(NULL, "\n", &s)) {
        char *v = strchr(line, '\t');
        if (!v)
            return uf_fail(e, "%s: malformed header line '%.60s'", path, line);
        *v++ = '\0';
        if (!strcmp(line, "made_from"))
            got += snprintf(st->made_from, sizeof st->made_from, "%s", v) >= 0;
        else if (!strcmp(line, "sha256"))
            got += snprintf(hex, 65, "%s", v) >= 0;
        for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
            got += !strcmp(line, ints[i].key) && sscanf(v, "%d", ints[i].value) == 1;
    }
    if (got != 8 || st->k < 1 || st->d < 1 || st->begin < 0 || st->begin > st->next || st->next > st->end ||
        st->end > st->images)
        return uf_fail(e, "%s: incomplete or inconsistent checkpoint header", path);
    return 0;
}

static int state_read(const char *path, fstate *st, uf_err *e)
{
    char *buf, *payload = NULL, hex[65] = "", sum[65];
    size_t len;
    *st = (fstate){0};
    if (uf_read_file(path, &buf, &len, e))
        return -1;
    int rc = state_header(path, buf, st, hex, &payload, e);
    if (rc == 0 && (size_t)(buf + len - payload) != state_payload(st))
        rc = uf_fail(e, "%s: truncated checkpoint (%zu bytes of sums, expected %zu)", path,
                     (size_t)(buf + len - payload), state_payload(st));
    if (rc == 0 && (uf_sha256_mem(payload, state_payload(st), sum) || strcmp(sum, hex) != 0))
        rc = uf_fail(e, "%s: checkpoint checksum mismatch (a corrupt file)", path);
    if (rc == 0 && (rc = state_alloc(st, e)) == 0)
        memcpy(st->sums, payload, state_payload(st));
    free(buf);
    return rc;
}

/* f: (n, d) features of images of classes lab -> added to the sums, rounded to the grid. */
static int add_rows(fstate *st, const float *f, const int *lab, int n, const char *what, uf_err *e)
{
    const int d = st->d;
    for (int i = 0; i < n; i++) {
        double *s = st->sums + (size_t)lab[i] * d;
        int bad = 0;
        for (int j = 0; j < d; j++) {
            s[j] += nearbyint((double)f[(size_t)i * d + j] * SUM_GRID) / SUM_GRID;
            bad |= !(fabs(s[j]) < SUM_LIMIT);
        }
        if (bad)
            return uf_fail(e, "%s: row %d: a feature is not finite, or class %d's sum reached 2^25, beyond exact "
                           "addition", what, st->next + i, lab[i]);
        st->counts[lab[i]]++;
    }
    return 0;
}

/* Where a run keeps and puts its files. */
typedef struct fpaths {
    char base[4400], partial[4500], state[4600], feats[4600];
} fpaths;

static int make_paths(const uf_dsfeat_cfg *c, fpaths *p, uf_err *e)
{
    int n = c->shard ? snprintf(p->base, sizeof p->base, "%s/%s.rows-%d-%d", c->dir, c->name, c->begin, c->end)
                     : snprintf(p->base, sizeof p->base, "%s/%s", c->dir, c->name);
    if (n >= (int)sizeof p->base)
        return uf_fail(e, "%s: path too long", c->dir);
    snprintf(p->partial, sizeof p->partial, "%s.partial", p->base);
    snprintf(p->state, sizeof p->state, "%s/state", p->partial);
    snprintf(p->feats, sizeof p->feats, "%s/features.npy", p->partial);
    return 0;
}

/* The features file of rows [begin, end), holding `have` rows (resumed: cut back to them). */
static FILE *features_open(const char *path, const fstate *st, int have, uf_err *e)
{
    char header[UF_NPY_HEADER_MAX], old[UF_NPY_HEADER_MAX];
    uf_array a = {.dtype = UF_F32, .ndim = 2, .shape = {st->end - st->begin, st->d}};
    int hlen = uf_npy_header(&a, header, sizeof header);
    long want = hlen + (long)have * st->d * (long)sizeof(float);
    FILE *f = have ? fopen(path, "r+b") : fopen(path, "wb");
    if (!f) {
        uf_fail(e, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    if (!have) {
        if (fwrite(header, 1, (size_t)hlen, f) == (size_t)hlen)
            return f;
        uf_fail(e, "%s: write error", path);
    } else if (fread(old, 1, (size_t)hlen, f) != (size_t)hlen || memcmp(old, header, (size_t)hlen) != 0 ||
               fseek(f, 0, SEEK_END) || ftell(f) < want) {
        uf_fail(e, "%s: does not hold the %d feature rows its checkpoint counts", path, have);
    } else if (ftruncate(fileno(f), want) || fseek(f, want, SEEK_SET)) {
        uf_fail(e, "%s: cannot cut back to %d rows: %s", path, have, strerror(errno));
    } else {
        return f;
    }
    fclose(f);
    return NULL;
}

/* The features flushed, then the state: a kill between the two leaves extra rows, cut on resume. */
static int checkpoint(const fpaths *p, const fstate *st, FILE *feats, uf_err *e)
{
    if (feats && fflush(feats))
        return uf_fail(e, "%s: write error: %s", p->feats, strerror(errno));
    return state_write(p->state, st, e);
}

static void progress(const uf_dsfeat_cfg *c, const fstate *st, long done, double t0, double *shown, int last)
{
    double now = uf_now();
    if (!c->progress || (!last && now - *shown < 10))
        return;
    *shown = now;
    double rate = done / (now - t0 > 1e-9 ? now - t0 : 1e-9), left = (st->end - st->next) / (rate > 0 ? rate : 1);
    fprintf(stderr, "[features] %s: %d/%d images (%.1f%%), %.1f images/s, ETA %02d:%02d:%02d\n", c->name,
            st->next - st->begin, st->end - st->begin, 100.0 * (st->next - st->begin) / (st->end - st->begin), rate,
            (int)(left / 3600), (int)fmod(left / 60, 60), (int)fmod(left, 60));
}

/* Batch b must hold the rows from st->next on, in order: the loader skips an unreadable image. */
static int check_batch(uf_loader *L, const uf_batch *b, const fstate *st, int want, const char *what, uf_err *e)
{
    int i = 0;
    while (i < b->n && b->row[i] == st->next + i)
        i++;
    if (i == b->n && i == want)
        return 0;
    const char *why = NULL;
    uf_loader_skipped(L, &why);
    return uf_fail(e, "%s: row %d could not be read (%s)", what, st->next + i, why ? why : "unknown reason");
}

/* Rows st->next .. st->end through m, into st (and feats); 0 done, 1 stopped by stop_after. */
static int run_rows(uf_model *m, const uf_dataset *ds, const uf_dsfeat_cfg *c, const fpaths *p, fstate *st,
                    FILE *feats, uf_err *e)
{
    const int batch = c->ex.batch, nrows = st->end - st->begin;
    int *rows = uf_calloc((size_t)nrows, sizeof *rows, e);
    if (!rows)
        return -1;
    for (int i = 0; i < nrows; i++)
        rows[i] = st->begin + i;
    uf_loader_cfg lc = {.batch = batch, .size = c->ex.size, .view = UF_VIEW_EVAL,
                        .threads = c->ex.loader_threads > 0 ? c->ex.loader_threads : 1, .prefetch = 2,
                        .rows = rows, .nrows = nrows};
    uf_loader *L;
    int rc = uf_loader_open(&L, ds, &lc, e);
    free(rows); /* the loader keeps a copy */
    if (rc)
        return -1;
    uf_loader_start_at(L, 0, (st->next - st->begin) / batch); /* the batches an uninterrupted run makes */
    const uf_batch *b;
    long done = 0, last_ckpt = st->next;
    double t0 = uf_now(), shown = t0;
    while (rc == 0 && (b = uf_loader_next(L))) {
        const int want = st->end - st->next < batch ? st->end - st->next : batch;
        if ((rc = check_batch(L, b, st, want, ds->name, e)) || (rc = uf_model_forward(m, b->x, b->n, c->ex.size,
                                                                                       c->ex.size, 0, 0, e)))
            break;
        const float *f = c->ex.head < 0 ? uf_model_features(m) : uf_model_head_out(m, c->ex.head); /* (n, d) */
        if (feats && fwrite(f, sizeof(float) * st->d, (size_t)b->n, feats) != (size_t)b->n)
            rc = uf_fail(e, "%s: write error: %s", p->feats, strerror(errno));
        if (rc || (rc = add_rows(st, f, b->label, b->n, ds->name, e)))
            break;
        st->next += b->n;
        done += b->n;
        progress(c, st, done, t0, &shown, st->next == st->end);
        if (c->stop_after > 0 && done >= c->stop_after && st->next < st->end)
            rc = checkpoint(p, st, feats, e) ? -1 : 1;
        else if (c->ckpt_every > 0 && st->next - last_ckpt >= c->ckpt_every && st->next < st->end) {
            rc = checkpoint(p, st, feats, e);
            last_ckpt = st->next;
        }
    }
    if (rc == 0 && st->next != st->end)
        rc = check_batch(L, &(uf_batch){0}, st, 1, ds->name, e);
    uf_loader_close(L);
    return rc;
}

/* The labels of rows [begin, end): (rows) int64. */
static int write_labels(const char *path, const uf_dataset *ds, const fstate *st, uf_err *e)
{
    int64_t *lab = uf_calloc((size_t)(st->end - st->begin), sizeof *lab, e);
    if (!lab)
        return -1;
    for (int i = st->begin; i < st->end; i++)
        lab[i - st->begin] = ds->label[i];
    uf_array a = {.dtype = UF_I64, .ndim = 1, .shape = {st->end - st->begin}, .data = lab};
    int rc = uf_npy_write(path, &a, e);
    free(lab);
    return rc;
}

/* means = sums / counts, in place (zero for a class without images), then the released layout. */
static int write_means(const char *dir, const char *name, fstate *st, uf_err *e)
{
    for (int c = 0; c < st->k; c++)
        for (int j = 0; j < st->d && st->counts[c]; j++)
            st->sums[(size_t)c * st->d + j] /= (double)st->counts[c];
    return uf_write_means(dir, name, st->sums, st->counts, st->k, st->d, e);
}

/* The finished run's files (features and labels first, the sums' file last), then no partial folder. */
static int finish(const uf_dataset *ds, const uf_dsfeat_cfg *c, const fpaths *p, fstate *st, FILE *feats, uf_err *e)
{
    char path[4700];
    int rc = 0;
    if (feats) {
        snprintf(path, sizeof path, "%s.features.npy", p->base);
        if (fclose(feats) || rename(p->feats, path))
            rc = uf_fail(e, "%s: cannot write: %s", path, strerror(errno));
        snprintf(path, sizeof path, "%s.labels.npy", p->base);
        rc = rc ? rc : write_labels(path, ds, st, e);
    }
    snprintf(path, sizeof path, "%s.part", p->base);
    if (rc == 0)
        rc = c->shard ? state_write(path, st, e) : write_means(c->dir, c->name, st, e);
    if (rc == 0) {
        remove(p->state);
        rmdir(p->partial);
    }
    return rc;
}

/* A fresh state, or the checkpoint in p->state when it was made from the same (else an error). */
static int state_start(const uf_dsfeat_cfg *c, const fpaths *p, fstate *want, fstate *st, uf_err *e)
{
    if (!uf_is_file(p->state)) {
        *st = *want;
        return state_alloc(st, e);
    }
    if (state_read(p->state, st, e))
        return -1;
    if (strcmp(st->made_from, want->made_from) != 0 || st->images != want->images || st->begin != want->begin ||
        st->end != want->end || st->k != want->k || st->d != want->d)
        return uf_fail(e, "%s: a checkpoint made from %s (rows %d-%d of %d, %d classes, d %d), not from %s (rows "
                       "%d-%d of %d, %d classes, d %d): remove %s to start again", p->state, st->made_from,
                       st->begin, st->end, st->images, st->k, st->d, want->made_from, want->begin, want->end,
                       want->images, want->k, want->d, p->partial);
    if ((st->next - st->begin) % c->ex.batch != 0 && st->next != st->end)
        return uf_fail(e, "%s: stopped at row %d, inside a batch of %d", p->state, st->next, c->ex.batch);
    return 0;
}

int uf_dataset_features(uf_model *m, const uf_dataset *ds, const uf_dsfeat_cfg *c, uf_err *e)
{
    if (c->ex.head >= m->nhead)
        return uf_fail(e, "%s has no head %d", m->arch.name, c->ex.head);
    if (c->begin < 0 || c->begin >= c->end || c->end > ds->n || c->ex.batch < 1)
        return uf_fail(e, "%s: rows %d:%d outside its %d rows", ds->name, c->begin, c->end, ds->n);
    if (c->begin % c->ex.batch || (c->end % c->ex.batch && c->end != ds->n))
        return uf_fail(e, "%s: rows %d:%d: both ends must be multiples of the batch (%d) or the split's end (%d), "
                       "so each image is in the batch a whole run puts it in (its features depend on the batch)",
                       ds->name, c->begin, c->end, c->ex.batch, ds->n);
    fpaths p;
    fstate want = {.images = ds->n, .begin = c->begin, .end = c->end, .next = c->begin, .k = ds->nclasses,
                   .d = uf_extract_dim(m, c->ex.head)}, st = {0};
    if (make_paths(c, &p, e))
        return -1;
    const char *head = c->ex.head < 0 ? "pooled" : m->head[c->ex.head].s.name;
    snprintf(want.made_from, sizeof want.made_from, "%s size=%d head=%s batch=%d threads=%d features=%s",
             c->made_from ? c->made_from : "", c->ex.size, head, c->ex.batch, uf_threads(),
             c->keep_features ? "kept" : "no");
    for (char *q = want.made_from; *q; q++) /* one header line */
        *q = *q == '\n' || *q == '\t' ? ' ' : *q;
    int rc = state_start(c, &p, &want, &st, e);
    FILE *feats = NULL;
    if (rc == 0 && c->keep_features && (uf_mkdirs(p.partial, e) ||
                                        !(feats = features_open(p.feats, &st, st.next - st.begin, e))))
        rc = -1;
    if (rc == 0 && st.next < st.end)
        rc = run_rows(m, ds, c, &p, &st, feats, e);
    if (rc == 0) {
        rc = finish(ds, c, &p, &st, feats, e);
        feats = NULL;
    }
    if (feats)
        fclose(feats);
    free(st.sums);
    return rc;
}

/* Part i must be finished, made from what part 0 was, and start where the one before it ended. */
static int check_part(const char *const *paths, const fstate *parts, const int *order, int i, uf_err *e)
{
    const fstate *a = &parts[order[0]], *p = &parts[order[i]];
    const char *path = paths[order[i]];
    if (p->next != p->end)
        return uf_fail(e, "%s: an unfinished shard (rows %d-%d, done to %d)", path, p->begin, p->end, p->next);
    if (strcmp(p->made_from, a->made_from) || p->images != a->images || p->k != a->k || p->d != a->d)
        return uf_fail(e, "%s: made from %s, not from %s as %s", path, p->made_from, a->made_from, paths[order[0]]);
    int from = i ? parts[order[i - 1]].end : 0;
    if (p->begin != from)
        return uf_fail(e, "%s: rows %d-%d, but the shards so far end at row %d (a gap or an overlap)", path,
                       p->begin, p->end, from);
    return 0;
}

int uf_features_merge(const char *const *paths, int nparts, const char *dir, const char *name, uf_err *e)
{
    fstate *parts = uf_calloc((size_t)nparts, sizeof *parts, e);
    int *order = uf_calloc((size_t)nparts, sizeof *order, e);
    int rc = parts && order && nparts > 0 ? 0 : nparts > 0 ? -1 : uf_fail(e, "no shard to merge");
    for (int i = 0; rc == 0 && i < nparts; i++)
        rc = state_read(paths[i], &parts[i], e);
    for (int i = 0; rc == 0 && i < nparts; i++) { /* by first row: insertion sort, shards are few */
        int j = i;
        for (; j > 0 && parts[order[j - 1]].begin > parts[i].begin; j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    for (int i = 0; rc == 0 && i < nparts; i++)
        rc = check_part(paths, parts, order, i, e);
    fstate *total = rc == 0 ? &parts[order[0]] : NULL;
    if (rc == 0 && total && parts[order[nparts - 1]].end != total->images)
        rc = uf_fail(e, "%s: the shards end at row %d of %d", paths[order[nparts - 1]], parts[order[nparts - 1]].end,
                     total->images);
    for (int i = 1; rc == 0 && i < nparts; i++) { /* exact: any order gives these bits */
        const fstate *p = &parts[order[i]];
        for (size_t j = 0; j < (size_t)p->k * p->d; j++)
            total->sums[j] += p->sums[j];
        for (int c = 0; c < p->k; c++)
            total->counts[c] += p->counts[c];
    }
    if (rc == 0)
        rc = write_means(dir, name, total, e);
    for (int i = 0; parts && i < nparts; i++)
        free(parts[i].sums);
    free(parts);
    free(order);
    return rc;
}
