#define _GNU_SOURCE
#include "resnet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "eltwise.h"
#include "linear.h"
#include "pool.h"

/* ---- architecture names ---- */

static const struct {
    const char *name;
    int bottleneck, blocks[4];
} known_archs[] = {
    {"resnet18", 0, {2, 2, 2, 2}},
    {"resnet34", 0, {3, 4, 6, 3}},
    {"resnet50", 1, {3, 4, 6, 3}},
    {"resnet101", 1, {3, 4, 23, 3}},
};

/* "16,32,64" -> v; returns the count, or -1; *end points past the list. */
static int parse_list(const char *s, int *v, int max, const char **end)
{
    int k = 0;
    for (;;) {
        char *stop;
        long x = strtol(s, &stop, 10);
        if (stop == s || x < 1 || x > 4096 || k == max)
            return -1;
        v[k++] = (int)x;
        s = stop;
        if (*s != ',')
            break;
        s++;
    }
    *end = s;
    return k;
}

int uf_arch_parse(const char *s, uf_arch *a, uf_err *e)
{
    memset(a, 0, sizeof *a);
    if (strlen(s) >= sizeof a->name)
        return uf_fail(e, "architecture name too long: %.80s", s);
    strcpy(a->name, s);
    for (size_t i = 0; i < sizeof known_archs / sizeof known_archs[0]; i++)
        if (strcmp(s, known_archs[i].name) == 0) {
            a->bottleneck = known_archs[i].bottleneck;
            a->stages = 4;
            for (int k = 0; k < 4; k++) {
                a->width[k] = 64 << k;
                a->blocks[k] = known_archs[i].blocks[k];
            }
            return 0;
        }
    const char *p = s + 6, *q;
    int nb = 0, nw = 0;
    if (strncmp(s, "small:", 6) == 0 && (nw = parse_list(p, a->width, UF_MAX_STAGES, &q)) > 0 && *q == ':' &&
        (nb = parse_list(q + 1, a->blocks, UF_MAX_STAGES, &q)) == nw &&
        (*q == '\0' || strcmp(q, ":bottleneck") == 0)) {
        a->stages = nw;
        a->small_stem = 1;
        a->bottleneck = *q != '\0';
        return 0;
    }
    return uf_fail(e,
                   "unknown architecture '%s' (resnet18, resnet34, resnet50, resnet101, or "
                   "small:W1,W2,..:B1,B2,..[:bottleneck], e.g. small:16,32,64:2,2,2)",
                   s);
}

int uf_arch_feature_dim(const uf_arch *a) { return a->width[a->stages - 1] * (a->bottleneck ? 4 : 1); }

/* ---- building the parameter table ---- */

/* out = a + b, failing when the name would not fit */
static int join(char *out, const char *a, const char *b, uf_err *e)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la + lb >= UF_NAME_MAX)
        return uf_fail(e, "tensor name too long: %s%s", a, b);
    memcpy(out, a, la);
    memcpy(out + la, b, lb + 1);
    return 0;
}

static int new_conv(uf_model *m, const char *prefix, int cin, int cout, int ks, int stride, int pad, uf_err *e)
{
    if (m->nconv == UF_MAX_CONVS || ks > UF_CONV_MAX_KS)
        return uf_fail(e, "%s: too many layers or a kernel over %d", m->arch.name, UF_CONV_MAX_KS);
    char name[UF_NAME_MAX];
    int64_t shape[4] = {cout, cin, ks, ks};
    uf_conv_layer *L = &m->conv[m->nconv];
    if (join(name, prefix, "weight", e) || (L->w = uf_params_add(&m->p, name, 4, shape, 1, 0, e)) < 0)
        return -1;
    L->cin = cin;
    L->cout = cout;
    L->ks = ks;
    L->stride = stride;
    L->pad = pad;
    return m->nconv++;
}

static int new_bn(uf_model *m, const char *prefix, int c, uf_err *e)
{
    char name[UF_NAME_MAX];
    int64_t shape[1] = {c};
    uf_bn_layer *L = &m->bn[m->nbn];
    L->bn.c = c;
    static const char *const suffix[4] = {"weight", "bias", "running_mean", "running_var"};
    int *idx[4] = {&L->gamma, &L->beta, &L->rmean, &L->rvar};
    for (int k = 0; k < 4; k++) {
        uf_params *table = k < 2 ? &m->p : &m->buf;
        if (join(name, prefix, suffix[k], e) || (*idx[k] = uf_params_add(table, name, 1, shape, 1, 0, e)) < 0)
            return -1;
    }
    return m->nbn++;
}

/* conv + bn named "<prefix>conv<k>." / "<prefix>bn<k>." */
static int conv_bn(uf_model *m, const char *prefix, int k, int cin, int cout, int ks, int stride, int *ci, int *bi,
                   uf_err *e)
{
    char p[UF_NAME_MAX], conv[16], bn[16];
    snprintf(conv, sizeof conv, "conv%d.", k);
    snprintf(bn, sizeof bn, "bn%d.", k);
    if (join(p, prefix, conv, e) || (*ci = new_conv(m, p, cin, cout, ks, stride, ks / 2, e)) < 0)
        return -1;
    return join(p, prefix, bn, e) || (*bi = new_bn(m, p, cout, e)) < 0 ? -1 : 0;
}

static int new_block(uf_model *m, int stage, int index, int cin, int planes, int stride, uf_err *e)
{
    if (m->nblock == UF_MAX_BLOCKS)
        return uf_fail(e, "%s: too many blocks", m->arch.name);
    uf_block *B = &m->block[m->nblock++];
    char prefix[32], p[UF_NAME_MAX];
    snprintf(prefix, sizeof prefix, "layer%d.%d.", stage + 1, index);
    int cout = m->arch.bottleneck ? 4 * planes : planes;
    if (m->arch.bottleneck) {
        B->nconv = 3;
        if (conv_bn(m, prefix, 1, cin, planes, 1, 1, &B->conv[0], &B->bn[0], e) ||
            conv_bn(m, prefix, 2, planes, planes, 3, stride, &B->conv[1], &B->bn[1], e) ||
            conv_bn(m, prefix, 3, planes, cout, 1, 1, &B->conv[2], &B->bn[2], e))
            return -1;
    } else {
        B->nconv = 2;
        if (conv_bn(m, prefix, 1, cin, planes, 3, stride, &B->conv[0], &B->bn[0], e) ||
            conv_bn(m, prefix, 2, planes, planes, 3, 1, &B->conv[1], &B->bn[1], e))
            return -1;
    }
    B->ds_conv = B->ds_bn = -1;
    if (stride != 1 || cin != cout) {
        if (join(p, prefix, "downsample.0.", e) || (B->ds_conv = new_conv(m, p, cin, cout, 1, stride, 0, e)) < 0)
            return -1;
        if (join(p, prefix, "downsample.1.", e) || (B->ds_bn = new_bn(m, p, cout, e)) < 0)
            return -1;
    }
    return 0;
}

static int new_linear(uf_model *m, const char *prefix, int in, int out, int *w, int *b, uf_err *e)
{
    char name[UF_NAME_MAX];
    int64_t ws[2] = {out, in}, bs[1] = {out};
    if (join(name, prefix, ".weight", e) || (*w = uf_params_add(&m->p, name, 2, ws, 1, 1, e)) < 0)
        return -1;
    return join(name, prefix, ".bias", e) || (*b = uf_params_add(&m->p, name, 1, bs, 1, 1, e)) < 0 ? -1 : 0;
}

static int new_head(uf_model *m, const uf_head_spec *s, uf_err *e)
{
    if (m->nhead == UF_MAX_HEADS)
        return uf_fail(e, "at most %d heads", UF_MAX_HEADS);
    if (s->out < 1 || !s->name[0])
        return uf_fail(e, "head '%s': needs a name and at least one output", s->name);
    for (int h = 0; h < m->nhead; h++)
        if (strcmp(m->head[h].s.name, s->name) == 0)
            return uf_fail(e, "two heads named '%s'", s->name);
    uf_head *H = &m->head[m->nhead++];
    H->s = *s;
    H->w2 = H->b2 = -1;
    if (s->kind == UF_HEAD_LINEAR)
        return new_linear(m, s->name, m->feat_dim, s->out, &H->w0, &H->b0, e);
    char p[UF_NAME_MAX];
    if (join(p, s->name, ".0", e) || new_linear(m, p, m->feat_dim, m->feat_dim, &H->w0, &H->b0, e))
        return -1;
    return join(p, s->name, ".2", e) || new_linear(m, p, m->feat_dim, s->out, &H->w2, &H->b2, e);
}

int uf_model_create(uf_model *m, const uf_arch *a, const uf_head_spec *heads, int nheads, uf_err *e)
{
    memset(m, 0, sizeof *m);
    m->arch = *a;
    m->feat_dim = uf_arch_feature_dim(a);
    int stem = a->width[0], ci, bi;
    if (a->small_stem ? (ci = new_conv(m, "conv1.", 3, stem, 3, 1, 1, e)) < 0
                      : (ci = new_conv(m, "conv1.", 3, stem, 7, 2, 3, e)) < 0)
        goto fail;
    if ((bi = new_bn(m, "bn1.", stem, e)) < 0)
        goto fail;
    int cin = stem;
    for (int s = 0; s < a->stages; s++)
        for (int b = 0; b < a->blocks[s]; b++) {
            if (new_block(m, s, b, cin, a->width[s], b == 0 && s > 0 ? 2 : 1, e))
                goto fail;
            cin = a->bottleneck ? 4 * a->width[s] : a->width[s];
        }
    for (int h = 0; h < nheads; h++)
        if (new_head(m, &heads[h], e))
            goto fail;
    if (uf_params_alloc(&m->p, 1, e) || uf_params_alloc(&m->buf, 0, e))
        goto fail;
    size_t channels = 0;
    for (int i = 0; i < m->nbn; i++)
        channels += (size_t)m->bn[i].bn.c;
    if (!(m->stats = uf_calloc(2 * channels, sizeof(float), e)))
        goto fail;
    float *st = m->stats;
    for (int i = 0; i < m->nbn; i++) {
        uf_bn_layer *L = &m->bn[i];
        L->bn.gamma = m->p.w + m->p.d[L->gamma].offset;
        L->bn.beta = m->p.w + m->p.d[L->beta].offset;
        L->bn.rmean = m->buf.w + m->buf.d[L->rmean].offset;
        L->bn.rvar = m->buf.w + m->buf.d[L->rvar].offset;
        L->bn.mean = st;
        L->bn.invstd = st + L->bn.c;
        st += 2 * L->bn.c;
    }
    return 0;
fail:
    uf_model_free(m);
    return -1;
}

void uf_model_free(uf_model *m)
{
    uf_params_free(&m->p);
    uf_params_free(&m->buf);
    free(m->stats);
    free(m->arena);
    for (int k = 0; k < 3; k++)
        free(m->grad[k]);
    free(m->dfeat);
    free(m->dhidden);
    free(m->poolarg);
    uf_ws_free(&m->ws);
    memset(m, 0, sizeof *m);
}

int uf_model_head_find(const uf_model *m, const char *name)
{
    for (int h = 0; h < m->nhead; h++)
        if (strcmp(m->head[h].s.name, name) == 0)
            return h;
    return -1;
}

/* ---- initialisation ---- */

static double normal(uint64_t seed, uint64_t stream, uint64_t i)
{
    double u1 = uf_rng_uniform(seed, stream, 2 * i), u2 = uf_rng_uniform(seed, stream, 2 * i + 1);
    return sqrt(-2 * log(1 - u1)) * cos(2 * M_PI * u2);
}

static float *pw(uf_model *m, int i) { return m->p.w + m->p.d[i].offset; }
static float *pg(uf_model *m, int i) { return m->p.g + m->p.d[i].offset; }

static void init_uniform(uf_model *m, int i, double bound, uint64_t seed)
{
    float *w = pw(m, i);
    for (size_t k = 0; k < m->p.d[i].count; k++)
        w[k] = (float)((2 * uf_rng_uniform(seed, (uint64_t)i, k) - 1) * bound);
}

void uf_model_init_head(uf_model *m, int h, uint64_t seed)
{
    const uf_head *H = &m->head[h];
    double bound = 1 / sqrt((double)m->feat_dim); /* every head layer has fan_in F */
    init_uniform(m, H->w0, bound, seed);
    init_uniform(m, H->b0, bound, seed);
    if (H->w2 >= 0) {
        init_uniform(m, H->w2, bound, seed);
        init_uniform(m, H->b2, bound, seed);
    }
}

void uf_model_init_weights(uf_model *m, uint64_t seed)
{
    for (int c = 0; c < m->nconv; c++) {
        const uf_conv_layer *L = &m->conv[c];
        float *w = pw(m, L->w);
        double std = sqrt(2.0 / ((double)L->cout * L->ks * L->ks));
        for (size_t k = 0; k < m->p.d[L->w].count; k++)
            w[k] = (float)(std * normal(seed, (uint64_t)L->w, k));
    }
    for (int b = 0; b < m->nbn; b++) {
        uf_bn_layer *L = &m->bn[b];
        for (int c = 0; c < L->bn.c; c++) {
            pw(m, L->gamma)[c] = 1;
            pw(m, L->beta)[c] = 0;
            L->bn.rmean[c] = 0;
            L->bn.rvar[c] = 1;
        }
    }
    for (int h = 0; h < m->nhead; h++)
        uf_model_init_head(m, h, seed);
}

/* ---- planning: layer sizes and activation storage for an input size ---- */

static size_t al16(size_t n) { return (n + 15) / 16 * 16; }

typedef struct planner {
    int keep;
    size_t top, base, slot, big;
    size_t pool_hw; /* the stem max pool's output positions per plane */
} planner;

/* Storage for a tensor of n floats: its own region when activations are kept
 * for backward, else rotating slot k of 4. */
static size_t take(planner *pl, size_t n, int k)
{
    pl->big = n > pl->big ? n : pl->big;
    if (!pl->keep)
        return pl->base + (size_t)k * pl->slot;
    size_t o = pl->top;
    pl->top += al16(n);
    return o;
}

static size_t set_conv(uf_model *m, int ci, int bi, int n, int *h, int *w)
{
    uf_conv_layer *L = &m->conv[ci];
    uf_conv_dims_set(&L->d, n, L->cin, *h, *w, L->cout, L->ks, L->stride, L->pad);
    *h = L->d.ho;
    *w = L->d.wo;
    m->bn[bi].bn.m = (size_t)n * L->d.ho * L->d.wo;
    return (size_t)L->cout * n * L->d.ho * L->d.wo;
}

static void plan_walk(uf_model *m, planner *pl, int n, int h, int w)
{
    const int keep = pl->keep;
    pl->top = 0;
    pl->big = 0;
    m->xin = pl->top;
    pl->top += al16((size_t)3 * n * h * w);
    pl->base = pl->top;
    size_t sz = set_conv(m, 0, 0, n, &h, &w);
    m->y0 = take(pl, sz, 0);
    m->r0 = keep ? take(pl, sz, 0) : m->y0;
    int cur = 0; /* slot of the current activation (when not kept) */
    m->p0 = m->r0;
    uf_pool_dims pd;
    if (!m->arch.small_stem) {
        uf_pool_dims_set(&pd, m->conv[0].cout * n, h, w, 3, 2, 1);
        h = pd.ho;
        w = pd.wo;
        pl->pool_hw = (size_t)h * w;
        m->p0 = take(pl, (size_t)pd.planes * h * w, 1);
        cur = 1;
    }
    size_t x = m->p0;
    for (int b = 0; b < m->nblock; b++) {
        uf_block *B = &m->block[b];
        int sa = (cur + 1) % 4, sb = (cur + 2) % 4, sc = (cur + 3) % 4, hb = h, wb = w;
        B->x = x;
        for (int i = 0; i < B->nconv; i++) {
            sz = set_conv(m, B->conv[i], B->bn[i], n, &h, &w);
            B->y[i] = take(pl, sz, i == 1 ? sb : sa);
            if (i < B->nconv - 1)
                B->r[i] = keep ? take(pl, sz, 0) : B->y[i];
        }
        if (B->ds_conv >= 0)
            B->yd = B->zd = take(pl, set_conv(m, B->ds_conv, B->ds_bn, n, &hb, &wb), sc);
        B->out = keep ? take(pl, sz, 0) : B->y[B->nconv - 1];
        if (keep && B->ds_conv >= 0)
            B->zd = B->out; /* the downsample BN writes the output, the block's tail adds onto it */
        x = B->out;
        cur = B->nconv == 2 ? sb : sa;
    }
    if (!keep)
        pl->top = pl->base + 4 * pl->slot;
    m->feat = pl->top;
    pl->top += al16((size_t)n * m->feat_dim);
    for (int k = 0; k < m->nhead; k++) {
        uf_head *H = &m->head[k];
        H->hidden = pl->top;
        if (H->s.kind == UF_HEAD_MLP)
            pl->top += al16((size_t)n * m->feat_dim);
        H->out = pl->top;
        pl->top += al16((size_t)n * H->s.out);
    }
}

static int plan(uf_model *m, int n, int h, int w, int keep, uf_err *e)
{
    if (m->arena && m->n == n && m->h == h && m->w == w && m->keep == keep)
        return 0;
    planner pl = {.keep = keep};
    plan_walk(m, &pl, n, h, w);
    for (int c = 0; c < m->nconv; c++)
        if (m->conv[c].d.ho < 1 || m->conv[c].d.wo < 1)
            return uf_fail(e, "%s: input %d x %d is too small", m->arch.name, h, w);
    if (!keep) { /* second walk with the slot size known */
        pl.slot = al16(pl.big);
        plan_walk(m, &pl, n, h, w);
    }
    m->actmax = pl.big;
    size_t npool = keep && !m->arch.small_stem ? (size_t)m->conv[0].cout * n * pl.pool_hw : 0;
    if (npool > m->poolarg_cap) {
        free(m->poolarg);
        m->poolarg_cap = 0;
        if (!(m->poolarg = uf_alloc(npool, e)))
            return -1;
        m->poolarg_cap = npool;
    }
    if (pl.top > m->arena_cap) {
        free(m->arena);
        m->arena_cap = 0;
        if (!(m->arena = uf_alloc_floats(al16(pl.top), e)))
            return uf_wrap(e, "activations of %s at batch %d, %d x %d (%.1f GiB): ", m->arch.name, n, h, w,
                           (double)pl.top * 4 / (1 << 30));
        m->arena_cap = pl.top;
    }
    m->n = n;
    m->h = h;
    m->w = w;
    m->keep = keep;
    return 0;
}

/* ---- forward ---- */

static int conv_fwd(uf_model *m, int c, size_t x, size_t y, uf_err *e)
{
    return uf_conv_forward(&m->conv[c].d, pw(m, m->conv[c].w), m->arena + x, m->arena + y, &m->ws, e);
}

static void bn_fwd(uf_model *m, int b, size_t y, const float *add, int relu, size_t out)
{
    uf_bn_forward(&m->bn[b].bn, m->arena + y, add, relu, m->arena + out);
}

static int block_forward(uf_model *m, const uf_block *B, uf_err *e)
{
    int last = B->nconv - 1;
    for (int i = 0; i <= last; i++) {
        if (conv_fwd(m, B->conv[i], i ? B->r[i - 1] : B->x, B->y[i], e))
            return -1;
        if (i < last)
            bn_fwd(m, B->bn[i], B->y[i], NULL, 1, B->r[i]);
    }
    const float *add = m->arena + B->x;
    if (B->ds_conv >= 0) {
        if (conv_fwd(m, B->ds_conv, B->x, B->yd, e))
            return -1;
        bn_fwd(m, B->ds_bn, B->yd, NULL, 0, B->zd);
        add = m->arena + B->zd;
    }
    bn_fwd(m, B->bn[last], B->y[last], add, 1, B->out);
    return 0;
}

static const uf_conv_dims *last_dims(const uf_model *m)
{
    const uf_block *B = &m->block[m->nblock - 1];
    return &m->conv[B->conv[B->nconv - 1]].d;
}

int uf_model_forward(uf_model *m, const float *x, int n, int h, int w, int train, int grad, uf_err *e)
{
    if (n < 1 || h < 1 || w < 1)
        return uf_fail(e, "%s: empty input batch", m->arch.name);
    if (plan(m, n, h, w, grad, e))
        return -1;
    for (int b = 0; b < m->nbn; b++) {
        if (train && m->bn[b].bn.m < 2)
            return uf_fail(e, "%s: BatchNorm in training needs more than one value per channel, but a batch of %d "
                              "at %d x %d gives one (as torch refuses too)", m->arch.name, n, h, w);
        m->bn[b].bn.train = train;
    }
    m->train = train;
    m->have_acts = 0;
    float *A = m->arena;
    uf_swap01(n, 3, (size_t)h * w, x, A + m->xin);
    if (conv_fwd(m, 0, m->xin, m->y0, e))
        return -1;
    bn_fwd(m, 0, m->y0, NULL, 1, m->r0);
    if (!m->arch.small_stem) {
        const uf_conv_dims *d = &m->conv[0].d;
        uf_pool_dims pd;
        uf_pool_dims_set(&pd, d->k * n, d->ho, d->wo, 3, 2, 1);
        uf_maxpool_forward(&pd, A + m->r0, A + m->p0, grad ? m->poolarg : NULL);
    }
    for (int b = 0; b < m->nblock; b++)
        if (block_forward(m, &m->block[b], e))
            return -1;
    const uf_conv_dims *d = last_dims(m);
    const int F = m->feat_dim;
    uf_avgpool_forward(F, n, d->ho * d->wo, A + m->block[m->nblock - 1].out, A + m->feat);
    for (int k = 0; k < m->nhead; k++) {
        const uf_head *H = &m->head[k];
        if (H->s.kind == UF_HEAD_LINEAR) {
            uf_linear_forward(n, F, H->s.out, A + m->feat, pw(m, H->w0), pw(m, H->b0), A + H->out);
        } else {
            uf_linear_forward(n, F, F, A + m->feat, pw(m, H->w0), pw(m, H->b0), A + H->hidden);
            uf_relu_forward(A + H->hidden, (size_t)n * F);
            uf_linear_forward(n, F, H->s.out, A + H->hidden, pw(m, H->w2), pw(m, H->b2), A + H->out);
        }
    }
    m->have_acts = grad;
    return 0;
}

const float *uf_model_features(const uf_model *m) { return m->arena + m->feat; }
const float *uf_model_head_out(const uf_model *m, int head) { return m->arena + m->head[head].out; }

/* ---- backward ---- */

static int conv_bwd(uf_model *m, int c, size_t x, const float *dy, float *dx, int acc, uf_err *e)
{
    const uf_conv_layer *L = &m->conv[c];
    return uf_conv_backward(&L->d, pw(m, L->w), m->arena + x, dy, pg(m, L->w), dx, acc, &m->ws, e);
}

static void bn_bwd(uf_model *m, int b, size_t y, const size_t *out, const float *dout, float *dy)
{
    const uf_bn_layer *L = &m->bn[b];
    uf_bn_backward(&L->bn, m->arena + y, out ? m->arena + *out : NULL, out != NULL, dout, dy, pg(m, L->gamma),
                   pg(m, L->beta));
}

/* G[gi] holds the gradient of the block's output; returns the index of the
 * buffer that receives the gradient of its input. Three buffers suffice:
 * with a downsample, its branch finishes before the main one starts. */
static int block_backward(uf_model *m, const uf_block *B, int gi, uf_err *e)
{
    float **G = m->grad;
    const int last = B->nconv - 1;
    const uf_conv_dims *d = &m->conv[B->conv[last]].d;
    uf_relu_backward(G[gi], m->arena + B->out, (size_t)d->k * d->n * d->ho * d->wo);
    int res = gi, f1 = (gi + 1) % 3, f2 = (gi + 2) % 3;
    if (B->ds_conv >= 0) {
        res = f2;
        f2 = gi;
        bn_bwd(m, B->ds_bn, B->yd, NULL, G[gi], G[f1]);
        if (conv_bwd(m, B->ds_conv, B->x, G[f1], G[res], 0, e))
            return -1;
    }
    bn_bwd(m, B->bn[last], B->y[last], NULL, G[gi], G[f1]);
    int cur = f1, nxt = f2;
    for (int i = last; i > 0; i--) {
        if (conv_bwd(m, B->conv[i], B->r[i - 1], G[cur], G[nxt], 0, e))
            return -1;
        bn_bwd(m, B->bn[i - 1], B->y[i - 1], &B->r[i - 1], G[nxt], G[nxt]);
        int t = cur;
        cur = nxt;
        nxt = t;
    }
    if (conv_bwd(m, B->conv[0], B->x, G[cur], G[res], 1, e))
        return -1;
    return res;
}

int uf_model_backward(uf_model *m, const float *const *dlogits, uf_err *e)
{
    if (!m->have_acts)
        return uf_fail(e, "%s: backward needs a forward that kept its activations (grad = 1)", m->arch.name);
    const int n = m->n, F = m->feat_dim;
    if (m->actmax > m->grad_cap) {
        int ok = 1;
        for (int k = 0; k < 3; k++) {
            free(m->grad[k]);
            m->grad[k] = ok ? uf_alloc_floats(al16(m->actmax), e) : NULL;
            ok = ok && m->grad[k];
        }
        free(m->dfeat);
        free(m->dhidden);
        /* (N, F) each; the last block's output, (F, N, h, w), bounds N F whatever the batch */
        m->dfeat = ok ? uf_calloc(m->actmax, sizeof(float), e) : NULL;
        m->dhidden = m->dfeat ? uf_calloc(m->actmax, sizeof(float), e) : NULL;
        m->grad_cap = m->dhidden ? m->actmax : 0;
        if (!m->dhidden)
            return uf_wrap(e, "gradients of %s: ", m->arch.name);
    }
    float *A = m->arena;
    memset(m->dfeat, 0, sizeof(float) * (size_t)n * F);
    for (int k = 0; k < m->nhead; k++) {
        const uf_head *H = &m->head[k];
        if (!dlogits[k])
            continue;
        if (H->s.kind == UF_HEAD_LINEAR) {
            uf_linear_backward(n, F, H->s.out, A + m->feat, pw(m, H->w0), dlogits[k], pg(m, H->w0), pg(m, H->b0),
                               m->dfeat, 1);
            continue;
        }
        /* MLP: out = W2 relu(W0 feat + b0) + b2; the hidden activation kept is the ReLU's output */
        uf_linear_backward(n, F, H->s.out, A + H->hidden, pw(m, H->w2), dlogits[k], pg(m, H->w2), pg(m, H->b2),
                           m->dhidden, 0);
        uf_relu_backward(m->dhidden, A + H->hidden, (size_t)n * F);
        uf_linear_backward(n, F, F, A + m->feat, pw(m, H->w0), m->dhidden, pg(m, H->w0), pg(m, H->b0), m->dfeat, 1);
    }
    const uf_conv_dims *d = last_dims(m);
    uf_avgpool_backward(F, n, d->ho * d->wo, m->dfeat, m->grad[0]);
    int gi = 0;
    for (int b = m->nblock - 1; b >= 0; b--)
        if ((gi = block_backward(m, &m->block[b], gi, e)) < 0)
            return -1;
    if (!m->arch.small_stem) {
        const uf_conv_dims *s = &m->conv[0].d;
        uf_pool_dims pd;
        uf_pool_dims_set(&pd, s->k * n, s->ho, s->wo, 3, 2, 1);
        uf_maxpool_backward(&pd, m->poolarg, m->grad[gi], m->grad[(gi + 1) % 3]);
        gi = (gi + 1) % 3;
    }
    bn_bwd(m, 0, m->y0, &m->r0, m->grad[gi], m->grad[gi]);
    return conv_bwd(m, 0, m->xin, m->grad[gi], NULL, 0, e); /* no gradient for the image */
}

double uf_model_flops(const uf_model *m, int train)
{
    double conv = 0, lin = 0, mlp = 0;
    for (int c = 0; c < m->nconv; c++)
        conv += uf_conv_macs(&m->conv[c].d);
    for (int k = 0; k < m->nhead; k++) {
        const uf_head *H = &m->head[k];
        double macs = (double)m->n * m->feat_dim * H->s.out;
        if (H->s.kind == UF_HEAD_LINEAR)
            lin += macs;
        else
            mlp += macs + (double)m->n * m->feat_dim * m->feat_dim;
    }
    if (!train)
        return 2 * (conv + lin + mlp);
    /* backward: weight and input gradients, except the image's */
    return 2 * (3 * conv - uf_conv_macs(&m->conv[0].d) + 3 * (lin + mlp));
}
