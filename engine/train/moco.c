#include "moco.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "nn/loss.h"

enum { RNG_QUEUE = 0x5155455545ULL, RNG_SHUFFLE_BN = 0x534842ULL };

int uf_moco_create(uf_moco *mc, const uf_arch *a, const uf_moco_cfg *c, uf_err *e)
{
    memset(mc, 0, sizeof *mc);
    mc->c = *c;
    if (c->dim < 1 || c->queue < 1 || c->groups < 1 || !(c->m >= 0 && c->m <= 1) || !(c->t > 0))
        return uf_fail(e, "MoCo: needs dim, queue and groups >= 1, momentum in [0, 1], temperature > 0");
    uf_head_spec head = {"fc", c->dim, UF_HEAD_MLP};
    int64_t shape[2] = {c->queue, c->dim};
    if (uf_model_create(&mc->q, a, &head, 1, e))
        return -1;
    if (uf_model_create(&mc->k, a, &head, 1, e) || uf_params_add(&mc->queue, "queue", 2, shape, 0, 0, e) < 0 ||
        uf_params_alloc(&mc->queue, 0, e)) {
        uf_moco_free(mc);
        return -1;
    }
    return 0;
}

void uf_moco_free(uf_moco *mc)
{
    uf_model_free(&mc->q);
    uf_model_free(&mc->k);
    uf_params_free(&mc->queue);
    free(mc->xbuf);
    free(mc->keys);
    free(mc->dz);
    free(mc->perm);
    memset(mc, 0, sizeof *mc);
}

/* Rows of x: (n, d) scaled to unit length (zero rows stay zero). */
static void normalise_rows(float *x, int n, int d)
{
    for (int i = 0; i < n; i++) {
        float *r = x + (size_t)i * d;
        double s = 0;
        for (int j = 0; j < d; j++)
            s += (double)r[j] * r[j];
        double inv = s > 0 ? 1 / sqrt(s) : 0;
        for (int j = 0; j < d; j++)
            r[j] = (float)(r[j] * inv);
    }
}

void uf_moco_init(uf_moco *mc, uint64_t seed)
{
    uf_model_init_weights(&mc->q, seed);
    memcpy(mc->k.p.w, mc->q.p.w, sizeof(float) * mc->q.p.total);
    memcpy(mc->k.buf.w, mc->q.buf.w, sizeof(float) * mc->q.buf.total);
    float *Q = mc->queue.w;
    size_t n = (size_t)mc->c.queue * mc->c.dim;
    for (size_t i = 0; i < n; i++) { /* Box-Muller */
        double u1 = uf_rng_uniform(seed, RNG_QUEUE, 2 * i), u2 = uf_rng_uniform(seed, RNG_QUEUE, 2 * i + 1);
        Q[i] = (float)(sqrt(-2 * log(1 - u1)) * cos(6.283185307179586 * u2));
    }
    normalise_rows(Q, mc->c.queue, mc->c.dim);
}

static int reserve(uf_moco *mc, int n, int hw, uf_err *e)
{
    if ((size_t)n <= mc->cap && hw <= mc->cap_hw)
        return 0;
    free(mc->xbuf);
    free(mc->keys);
    free(mc->dz);
    free(mc->perm);
    mc->xbuf = uf_calloc(3 * (size_t)hw * n, sizeof(float), e);
    mc->keys = uf_calloc((size_t)mc->c.dim * n, sizeof(float), e);
    mc->dz = uf_calloc((size_t)mc->c.dim * n, sizeof(float), e);
    mc->perm = uf_calloc((size_t)n, sizeof(int), e);
    mc->cap = mc->cap_hw = 0;
    if (!mc->xbuf || !mc->keys || !mc->dz || !mc->perm)
        return -1;
    mc->cap = (size_t)n;
    mc->cap_hw = hw;
    return 0;
}

/* Keys of the shuffled batch, group by group, written back in batch order. */
static int compute_keys(uf_moco *mc, const float *xk, int n, int h, int w, uint64_t seed, int64_t step, uf_err *e)
{
    const int G = mc->c.groups, ng = n / G, D = mc->c.dim;
    const size_t per = (size_t)3 * h * w;
    int *perm = mc->perm;
    for (int i = 0; i < n; i++)
        perm[i] = i;
    for (int i = n - 1; G > 1 && i > 0; i--) { /* Fisher-Yates keyed by (seed, step, position) */
        int j = (int)(uf_rng_uniform(seed, RNG_SHUFFLE_BN, ((uint64_t)step << 32) | (uint64_t)i) * (i + 1));
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (int g = 0; g < G; g++) {
        for (int i = 0; i < ng; i++)
            memcpy(mc->xbuf + (size_t)i * per, xk + (size_t)perm[g * ng + i] * per, sizeof(float) * per);
        if (uf_model_forward(&mc->k, mc->xbuf, ng, h, w, 1, 0, e))
            return -1;
        const float *z = uf_model_head_out(&mc->k, 0);
        for (int i = 0; i < ng; i++)
            memcpy(mc->keys + (size_t)perm[g * ng + i] * D, z + (size_t)i * D, sizeof(float) * D);
    }
    normalise_rows(mc->keys, n, D);
    return 0;
}

int uf_moco_step(uf_moco *mc, uf_sgd *opt, const float *xq, const float *xk, int n, int h, int w, uint64_t seed,
                 int64_t step, double *loss, uf_err *e)
{
    const int G = mc->c.groups, D = mc->c.dim, K = mc->c.queue;
    if (n < 1 || n % G != 0 || K % n != 0)
        return uf_fail(e, "MoCo: the batch (%d) must split into %d BatchNorm groups and divide the queue (%d)", n,
                       G, K);
    if (reserve(mc, n, h * w, e))
        return -1;
    /* 1. momentum update of the key encoder's parameters (torch: k * m + q * (1 - m), float32) */
    const float m = (float)mc->c.m, m1 = (float)(1 - mc->c.m);
    const long total = (long)mc->q.p.total;
    float *kw = mc->k.p.w;
    const float *qw = mc->q.p.w;
#pragma omp parallel for simd schedule(static) if (total > 32768)
    for (long i = 0; i < total; i++)
        kw[i] = kw[i] * m + qw[i] * m1;
    /* 2. keys */
    if (compute_keys(mc, xk, n, h, w, seed, step, e))
        return -1;
    /* 3. queries, group by group, gradients summed (each group's loss weighs ng / n) */
    const int ng = n / G;
    const size_t per = (size_t)3 * h * w;
    uf_params_zero_grad(&mc->q.p);
    *loss = 0;
    for (int g = 0; g < G; g++) {
        double lg;
        const float *dl[1] = {mc->dz};
        if (uf_model_forward(&mc->q, xq + (size_t)g * ng * per, ng, h, w, 1, 1, e) ||
            uf_infonce(ng, D, K, uf_model_head_out(&mc->q, 0), mc->keys + (size_t)g * ng * D, mc->queue.w,
                       mc->c.t, (float)ng / (float)n, mc->dz, &lg, e) ||
            uf_model_backward(&mc->q, dl, e))
            return -1;
        *loss += lg * ng / n;
    }
    /* 4. enqueue (after the loss, as in MoCo: this batch's keys are not its own negatives) */
    size_t ptr = (size_t)((step * n) % K);
    memcpy(mc->queue.w + ptr * D, mc->keys, sizeof(float) * (size_t)n * D);
    /* 5. the query encoder's SGD step */
    uf_sgd_step(opt, &mc->q.p);
    return 0;
}
