#include "conv_direct.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/parallel.h"
#include "par.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define AVX512 __attribute__((target("avx512f")))
#define HAVE_AVX512_BUILD 1
/* register blocks: the accumulator arrays stay in registers only when their loops are unrolled */
#define UNROLL _Pragma("GCC unroll 16")
#else
#define HAVE_AVX512_BUILD 0
#endif

int uf_conv_direct_ok(const uf_conv_dims *d)
{
    const char *s = getenv("UOTFT_CONV");
    if (!s || strcmp(s, "direct") != 0 || d->stride != 1 || d->ho != d->h || d->wo != d->w)
        return 0;
#if HAVE_AVX512_BUILD
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

#if HAVE_AVX512_BUILD

#define MR 8         /* forward: output channels per register block */
#define NV 3         /* forward: 16-position vectors per register block */
#define NP (16 * NV) /* forward: positions per tile */
#define WR 4         /* weight gradient: output channels per register block */
#define WQ 6         /* weight gradient: columns c*ntap + l per register block */

/* The implicit GEMM's inner dimension: column q = c*ntap + l reads channel c
 * shifted by tap l, i.e. x[qoff[q] + p] where bit p of tap l's mask row is set. */
typedef struct plan {
    size_t P, nv;    /* positions N*H*W; 16-position vectors (padded to whole forward tiles) */
    int nq;          /* C*ntap */
    long *qoff;      /* (nq) c*P + (i - pad) W + (j - pad) */
    uint16_t **qm;   /* (nq) the mask row of column q's tap */
    uint16_t *bits;  /* (ntap, nv): bit b of word v is 1 when position 16v+b < P reads the image */
} plan;

/* Bytes the plan needs after its float part. */
static size_t plan_bytes(const uf_conv_dims *d, size_t nv)
{
    size_t nq = (size_t)d->c * d->ntap;
    return nq * (sizeof(long) + sizeof(uint16_t *)) + (size_t)d->ntap * nv * sizeof(uint16_t);
}

// ok: (ntap, H*W) bytes, 1 where an image position reads tap l inside the image
static void tap_ok(const uf_conv_dims *d, unsigned char *ok)
{
    for (int l = 0; l < d->ntap; l++) {
        int di = d->tap[l] / d->ks - d->pad, dj = d->tap[l] % d->ks - d->pad;
        for (int r = 0; r < d->h; r++)
            for (int c = 0; c < d->w; c++)
                *ok++ = r + di >= 0 && r + di < d->h && c + dj >= 0 && c + dj < d->w;
    }
}

/* Builds the plan in mem (plan_bytes of it) and ok (ntap*H*W bytes of scratch). */
static void plan_set(const uf_conv_dims *d, size_t nv, unsigned char *mem, unsigned char *ok, plan *pl)
{
    const int hw = d->h * d->w, nt = d->ntap;
    pl->P = (size_t)d->n * hw;
    pl->nv = nv;
    pl->nq = d->c * nt;
    pl->qoff = (long *)mem;
    pl->qm = (uint16_t **)(mem + pl->nq * sizeof(long));
    pl->bits = (uint16_t *)(mem + pl->nq * (sizeof(long) + sizeof(uint16_t *)));
    tap_ok(d, ok);
    /* the words repeat with a period of lcm(H*W, 16) positions: build one period, copy it on */
    size_t g = 16, r = (size_t)hw;
    while (r) {
        size_t t = g % r;
        g = r;
        r = t;
    }
    const size_t period = (size_t)hw / g, build = period < nv ? period : nv;
    for (int l = 0; l < nt; l++) {
        uint16_t *bl = pl->bits + (size_t)l * nv;
        int q = 0; /* position inside the image */
        for (size_t v = 0; v < build; v++) {
            unsigned w = 0;
            for (int b = 0; b < 16; b++) {
                w |= (unsigned)ok[l * hw + q] << b;
                q = q + 1 == hw ? 0 : q + 1;
            }
            bl[v] = (uint16_t)w;
        }
        for (size_t v = build; v < nv; v++)
            bl[v] = bl[v - period];
        for (size_t v = pl->P / 16; v < nv; v++) /* nothing at or past P */
            bl[v] &= (uint16_t)(16 * v < pl->P ? (1u << (pl->P - 16 * v)) - 1 : 0);
    }
    for (int q = 0; q < pl->nq; q++) {
        int c = q / nt, l = q % nt, i = d->tap[l] / d->ks, j = d->tap[l] % d->ks;
        pl->qoff[q] = (long)c * (long)pl->P + (long)(i - d->pad) * d->w + (j - d->pad);
        pl->qm[q] = pl->bits + (size_t)l * nv;
    }
}

/* Workspace: `floats` floats first, then the plan and its scratch. */
static int plan_alloc(const uf_conv_dims *d, size_t nv, size_t floats, uf_ws *ws, float **f, plan *pl, uf_err *e)
{
    size_t okb = (size_t)d->ntap * d->h * d->w, bytes = plan_bytes(d, nv) + okb;
    float *p = uf_ws_get(ws, floats + (bytes + sizeof(float) - 1) / sizeof(float) + 16, e);
    if (!p)
        return -1;
    *f = p;
    unsigned char *mem = (unsigned char *)(p + (floats + 15) / 16 * 16);
    plan_set(d, nv, mem, mem + plan_bytes(d, nv), pl);
    return 0;
}

/* lanes of 16-position vector v that lie below P */
static inline __mmask16 AVX512 tail_mask(const plan *pl, size_t v)
{
    size_t left = pl->P - 16 * v;
    return left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
}

/* ---- forward ---- */

// w: (K, C, ks, ks) -> wp: (ceil(K/MR), nq, MR), the live taps, rows past K zero
static void pack_weights(const uf_conv_dims *d, const float *w, float *wp)
{
    const int nt = d->ntap, kk = d->ks * d->ks, nq = d->c * nt, nkb = (d->k + MR - 1) / MR;
    for (int kb = 0; kb < nkb; kb++)
        for (int q = 0; q < nq; q++)
            for (int r = 0; r < MR; r++) {
                int k = kb * MR + r;
                *wp++ = k < d->k ? w[((size_t)k * d->c + q / nt) * kk + d->tap[q % nt]] : 0.0f;
            }
}

/* y[0:rows, v0*16 : v0*16 + NP] (row stride P) = wp (nq, MR) x xcol (nq, NP) + beta y,
 * xcol[q] read at x + qoff[q] + 16 v0 under column q's mask */
static void AVX512 fwd_block(const plan *pl, const float *wp, const float *x, size_t v0, float *y, int rows,
                             float beta)
{
    __m512 acc[MR][NV];
    UNROLL
    for (int r = 0; r < MR; r++)
        UNROLL
        for (int v = 0; v < NV; v++)
            acc[r][v] = _mm512_setzero_ps();
    const float *xs = x + 16 * v0;
    for (int q = 0; q < pl->nq; q++, wp += MR) {
        const float *xq = xs + pl->qoff[q];
        const uint16_t *m = pl->qm[q] + v0;
        __m512 b[NV];
        UNROLL
        for (int v = 0; v < NV; v++)
            b[v] = _mm512_maskz_loadu_ps(m[v], xq + 16 * v);
        UNROLL
        for (int r = 0; r < MR; r++) {
            __m512 a = _mm512_set1_ps(wp[r]);
            UNROLL
            for (int v = 0; v < NV; v++)
                acc[r][v] = _mm512_fmadd_ps(a, b[v], acc[r][v]);
        }
    }
    const __m512 vb = _mm512_set1_ps(beta);
    UNROLL
    for (int v = 0; v < NV; v++) {
        __mmask16 t = 16 * (v0 + v) < pl->P ? tail_mask(pl, v0 + v) : 0;
        UNROLL
        for (int r = 0; r < MR; r++) {
            float *yr = y + (size_t)r * pl->P + 16 * (v0 + v);
            __mmask16 tr = r < rows ? t : 0;
            __m512 o = beta != 0 ? _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(tr, yr), acc[r][v]) : acc[r][v];
            _mm512_mask_storeu_ps(yr, tr, o);
        }
    }
}

/* tiles [t0, t1): every output-channel block, the tiles' x slab staying in cache */
static void fwd_chunk(const uf_conv_dims *d, const plan *pl, const float *wp, const float *x, float *y, float beta,
                      int t0, int t1)
{
    const int nkb = (d->k + MR - 1) / MR;
    for (int kb = 0; kb < nkb; kb++) {
        int rows = d->k - kb * MR < MR ? d->k - kb * MR : MR;
        for (int t = t0; t < t1; t++)
            fwd_block(pl, wp + (size_t)kb * pl->nq * MR, x, (size_t)t * NV, y + (size_t)kb * MR * pl->P, rows, beta);
    }
}

int uf_conv_direct_forward(const uf_conv_dims *d, const float *w, const float *x, float *y, float beta, uf_ws *ws,
                           uf_err *e)
{
    const size_t P = (size_t)d->n * d->h * d->w, nt = (P + NP - 1) / NP, nwp = (size_t)(d->k + MR - 1) / MR * MR * d->c * d->ntap;
    float *wp;
    plan pl;
    if (plan_alloc(d, nt * NV, nwp, ws, &wp, &pl, e))
        return -1;
    pack_weights(d, w, wp);
    /* chunks of tiles whose x slab (C rows of the chunk's positions) is about 128 KB, two per thread at least */
    size_t per = 32768 / ((size_t)d->c * NP), fair = (nt + 2 * uf_threads() - 1) / (2 * uf_threads());
    per = per < 1 ? 1 : per > fair ? fair : per;
    const int nch = (int)((nt + per - 1) / per);
#pragma omp parallel for schedule(static) if ((double)P * d->k * pl.nq > UF_PAR_MIN)
    for (int ch = 0; ch < nch; ch++) {
        int t0 = (int)(ch * per), t1 = (size_t)(ch + 1) * per < nt ? (int)((ch + 1) * per) : (int)nt;
        fwd_chunk(d, &pl, wp, x, y, beta, t0, t1);
    }
    return 0;
}

/* ---- weight gradient ---- */

/* out[r][j] = sum over vectors [v0, v1) of dy row r times column q[j] (masked, shifted x) */
static void AVX512 wgrad_block(const plan *pl, const float *x, const float *const dy[WR], const int q[WQ], size_t v0,
                               size_t v1, float out[WR][WQ])
{
    __m512 acc[WR][WQ];
    UNROLL
    for (int r = 0; r < WR; r++)
        UNROLL
        for (int j = 0; j < WQ; j++)
            acc[r][j] = _mm512_setzero_ps();
    const float *xq[WQ];
    const uint16_t *mq[WQ];
    UNROLL
    for (int j = 0; j < WQ; j++) {
        xq[j] = x + pl->qoff[q[j]];
        mq[j] = pl->qm[q[j]];
    }
    for (size_t v = v0; v < v1; v++) {
        __mmask16 t = tail_mask(pl, v);
        __m512 a[WR];
        UNROLL
        for (int r = 0; r < WR; r++)
            a[r] = _mm512_maskz_loadu_ps(t, dy[r] + 16 * v);
        UNROLL
        for (int j = 0; j < WQ; j++) {
            __m512 b = _mm512_maskz_loadu_ps(mq[j][v], xq[j] + 16 * v);
            UNROLL
            for (int r = 0; r < WR; r++)
                acc[r][j] = _mm512_fmadd_ps(a[r], b, acc[r][j]);
        }
    }
    UNROLL
    for (int r = 0; r < WR; r++)
        UNROLL
        for (int j = 0; j < WQ; j++)
            out[r][j] = _mm512_reduce_add_ps(acc[r][j]);
}

/* part: (K, nq) += the gradient over vectors [v0, v1); blocks past K or nq
 * repeat the last row or column and are dropped */
static void wgrad_chunk(const uf_conv_dims *d, const plan *pl, const float *x, const float *dy, float *part, size_t v0,
                        size_t v1)
{
    for (int k0 = 0; k0 < d->k; k0 += WR)
        for (int q0 = 0; q0 < pl->nq; q0 += WQ) {
            const float *rows[WR];
            int q[WQ];
            float out[WR][WQ];
            for (int r = 0; r < WR; r++)
                rows[r] = dy + (size_t)(k0 + r < d->k ? k0 + r : d->k - 1) * pl->P;
            for (int j = 0; j < WQ; j++)
                q[j] = q0 + j < pl->nq ? q0 + j : pl->nq - 1;
            wgrad_block(pl, x, rows, q, v0, v1, out);
            for (int r = 0; r < WR && k0 + r < d->k; r++)
                for (int j = 0; j < WQ && q0 + j < pl->nq; j++)
                    part[(size_t)(k0 + r) * pl->nq + q0 + j] += out[r][j];
        }
}

int uf_conv_direct_wgrad(const uf_conv_dims *d, const float *x, const float *dy, float *dw, uf_ws *ws, uf_err *e)
{
    const size_t P = (size_t)d->n * d->h * d->w, nv = (P + 15) / 16, nq = (size_t)d->c * d->ntap;
    const size_t wsize = (size_t)d->k * nq;
    const int thr = (double)P * d->k * nq > UF_PAR_MIN ? uf_threads() : 1;
    float *parts;
    plan pl;
    if (plan_alloc(d, nv, wsize * thr, ws, &parts, &pl, e))
        return -1;
    memset(parts, 0, sizeof(float) * wsize * thr);
    /* chunks whose dy and x rows (K + C rows) are about 1 MB, at least 64 vectors
     * (a register block's sums are reduced once per chunk), one per thread at most */
    size_t per = 262144 / (16 * ((size_t)d->k + d->c)), fair = (nv + thr - 1) / thr;
    per = per < 64 ? 64 : per;
    per = per > fair ? fair : per;
    const long nch = (long)((nv + per - 1) / per);
#pragma omp parallel for schedule(static) num_threads(thr) if (thr > 1)
    for (long ch = 0; ch < nch; ch++) {
        size_t v0 = (size_t)ch * per, v1 = v0 + per < nv ? v0 + per : nv;
        wgrad_chunk(d, &pl, x, dy, parts + (size_t)uf_thread_id() * wsize, v0, v1);
    }
    const int kk = d->ks * d->ks, nt = d->ntap;
    for (int t = 0; t < thr; t++) /* the threads' partial sums, in a fixed order, onto the live taps */
        for (size_t kq = 0; kq < wsize; kq++) {
            size_t k = kq / nq, c = kq % nq / nt;
            dw[(k * d->c + c) * kk + d->tap[kq % nt]] += parts[t * wsize + kq];
        }
    return 0;
}

#else /* no AVX-512 build: uf_conv_direct_ok() is 0, so these never run */

int uf_conv_direct_forward(const uf_conv_dims *d, const float *w, const float *x, float *y, float beta, uf_ws *ws,
                           uf_err *e)
{
    (void)d, (void)w, (void)x, (void)y, (void)beta, (void)ws;
    return uf_fail(e, "direct convolution needs an x86-64 build with AVX-512");
}

int uf_conv_direct_wgrad(const uf_conv_dims *d, const float *x, const float *dy, float *dw, uf_ws *ws, uf_err *e)
{
    (void)d, (void)x, (void)dy, (void)dw, (void)ws;
    return uf_fail(e, "direct convolution needs an x86-64 build with AVX-512");
}

#endif
