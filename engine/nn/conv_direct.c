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

/* same-size stride-1 convs; stride-2 convs of kernel size 3 or more whose output
 * grid holds each input phase (row and column parity) whole: Ho >= ceil(H/2) */
static int direct_shape(const uf_conv_dims *d)
{
    if (d->stride == 1)
        return d->ho == d->h && d->wo == d->w;
    return d->stride == 2 && d->ks >= 3 && 2 * d->ho >= d->h && 2 * d->wo >= d->w;
}

const char *uf_conv_path(void)
{
    uf_conv_dims probe;
    uf_conv_dims_set(&probe, 1, 1, 4, 4, 1, 3, 1, 1); /* a same-size 3x3 conv: direct wherever it can be */
    return uf_conv_direct_ok(&probe) ? "direct" : "im2col";
}

int uf_conv_direct_ok(const uf_conv_dims *d)
{
    const char *s = getenv("UOTFT_CONV");
    if ((s && strcmp(s, "im2col") == 0) || !direct_shape(d))
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
#define MAXT (UF_CONV_MAX_KS * UF_CONV_MAX_KS)

/* A conv as shifted reads on one position grid (N, H, W), P = N*H*W: column
 * q = c*ntap + l of the implicit GEMM's inner dimension reads source row
 * plane[l]*C + c at position p + di[l]*W + dj[l], zero where that leaves the
 * image; tap[l] is its kernel tap i*ks + j. A stride-2 conv runs on its
 * output grid with four source planes, the input's phases (row, column
 * parity); its input gradient is four such convs, one per phase. */
typedef struct tapset {
    int n, h, w, c, ntap;
    signed char plane[MAXT], di[MAXT], dj[MAXT];
    unsigned char tap[MAXT];
} tapset;

/* The forward's taps on the output grid; for stride 2, tap (i, j) reads
 * input row 2 oh + i - pad = 2 (oh + di) + a: phase plane 2a + b, shifted by (di, dj). */
static void fwd_taps(const uf_conv_dims *d, tapset *t)
{
    *t = (tapset){.n = d->n, .h = d->ho, .w = d->wo, .c = d->c, .ntap = d->ntap};
    for (int l = 0; l < d->ntap; l++) {
        int ti = d->tap[l] / d->ks - d->pad, tj = d->tap[l] % d->ks - d->pad, a = 0, b = 0;
        if (d->stride == 2) {
            a = ti & 1, b = tj & 1;
            ti = (ti - a) / 2, tj = (tj - b) / 2;
        }
        t->plane[l] = (signed char)(2 * a + b);
        t->di[l] = (signed char)ti;
        t->dj[l] = (signed char)tj;
        t->tap[l] = d->tap[l];
    }
}

/* The input gradient of phase plane ph (the only one at stride 1): the
 * forward's taps that read it, shifts negated, on dy's K channels. */
static void dgrad_taps(const uf_conv_dims *d, int ph, tapset *t)
{
    tapset f;
    fwd_taps(d, &f);
    *t = (tapset){.n = f.n, .h = f.h, .w = f.w, .c = d->k};
    for (int l = 0; l < f.ntap; l++)
        if (f.plane[l] == ph) {
            t->di[t->ntap] = (signed char)-f.di[l];
            t->dj[t->ntap] = (signed char)-f.dj[l];
            t->tap[t->ntap++] = f.tap[l];
        }
}

/* The columns' source offsets and padding masks. */
typedef struct plan {
    size_t P, nv;   /* positions; 16-position vectors (padded to whole forward tiles) */
    int nq;         /* C*ntap */
    long *qoff;     /* (nq) (plane*C + c) P + di W + dj */
    uint16_t **qm;  /* (nq) the mask row of column q's tap */
    uint16_t *bits; /* (ntap, nv): bit b of word v is 1 when position 16v+b < P reads inside the image */
} plan;

/* floats for n bytes, in whole 64-byte lines */
static size_t fl(size_t bytes) { return (bytes + 63) / 64 * 16; }

/* workspace floats of a plan with up to `ntap` taps and `nq` columns */
static size_t plan_floats(const tapset *t, int ntap, size_t nq, size_t nv)
{
    return 2 * fl(nq * sizeof(long)) + fl((size_t)ntap * nv * sizeof(uint16_t)) + fl((size_t)ntap * t->h * t->w);
}

// ok: (ntap, H*W) bytes, 1 where an image position reads tap l inside the image
static void tap_ok(const tapset *t, unsigned char *ok)
{
    for (int l = 0; l < t->ntap; l++)
        for (int r = 0; r < t->h; r++)
            for (int c = 0; c < t->w; c++)
                *ok++ = r + t->di[l] >= 0 && r + t->di[l] < t->h && c + t->dj[l] >= 0 && c + t->dj[l] < t->w;
}

// bits: (ntap, nv) from ok; the words repeat every lcm(H*W, 16) positions: one period is built, then copied
static void tap_bits(const tapset *t, const plan *pl, const unsigned char *ok)
{
    const size_t hw = (size_t)t->h * t->w, nv = pl->nv;
    size_t g = 16, r = hw;
    while (r) {
        size_t m = g % r;
        g = r;
        r = m;
    }
    const size_t period = hw / g, build = period < nv ? period : nv;
    for (int l = 0; l < t->ntap; l++) {
        uint16_t *bl = pl->bits + (size_t)l * nv;
        size_t q = 0; /* position inside the image */
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
}

/* The plan of t in mem (plan_floats of it). */
static void plan_set(const tapset *t, size_t nv, float *mem, plan *pl)
{
    const int nt = t->ntap;
    pl->P = (size_t)t->n * t->h * t->w;
    pl->nv = nv;
    pl->nq = t->c * nt;
    pl->qoff = (long *)mem;
    pl->qm = (uint16_t **)(mem + fl(pl->nq * sizeof(long)));
    pl->bits = (uint16_t *)(mem + 2 * fl(pl->nq * sizeof(long)));
    unsigned char *ok = (unsigned char *)(mem + 2 * fl(pl->nq * sizeof(long)) + fl((size_t)nt * nv * sizeof(uint16_t)));
    tap_ok(t, ok);
    tap_bits(t, pl, ok);
    for (int q = 0; q < pl->nq; q++) {
        int c = q / nt, l = q % nt;
        pl->qoff[q] = ((long)t->plane[l] * t->c + c) * (long)pl->P + (long)t->di[l] * t->w + t->dj[l];
        pl->qm[q] = pl->bits + (size_t)l * nv;
    }
}

/* lanes of 16-position vector v that lie below P */
static inline __mmask16 AVX512 tail_mask(const plan *pl, size_t v)
{
    size_t left = pl->P - 16 * v;
    return left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
}

/* ---- the implicit GEMM, output rows over positions ---- */

/* The implicit GEMM's weights, packed: wp (ceil(rows/MR), C'*ntap, MR) with
 * entry (row, q = c'*ntap + l) = w[row*rs + c'*cs + tap[l]], rows past `rows`
 * zero. The forward's rows are output channels (rs = C*kk, cs = kk); the input
 * gradient's are input channels read through the transposed kernel (rs = kk,
 * cs = C*kk). Block by block on the threads: at 512 x 4608 a serial pack kept
 * the second core waiting. */
static void pack_weights(const float *w, int rows, int nq, const tapset *t, size_t rs, size_t cs, float *wp)
{
    const int nb = (rows + MR - 1) / MR, nt = t->ntap;
#pragma omp parallel for schedule(static) if ((double)nb * MR * nq > UF_PAR_MIN)
    for (int kb = 0; kb < nb; kb++) {
        float *out = wp + (size_t)kb * nq * MR;
        for (int q = 0; q < nq; q++) {
            const float *col = w + (size_t)(q / nt) * cs + t->tap[q % nt];
            for (int r = 0; r < MR; r++)
                *out++ = kb * MR + r < rows ? col[(size_t)(kb * MR + r) * rs] : 0.0f;
        }
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

/* tiles [t0, t1) of output-row blocks [kb0, kb1), the tiles' x slab staying in cache */
static void fwd_chunk(int k, const plan *pl, const float *wp, const float *x, float *y, float beta, int t0, int t1,
                      int kb0, int kb1)
{
    for (int kb = kb0; kb < kb1; kb++) {
        int rows = k - kb * MR < MR ? k - kb * MR : MR;
        for (int t = t0; t < t1; t++)
            fwd_block(pl, wp + (size_t)kb * pl->nq * MR, x, (size_t)t * NV, y + (size_t)kb * MR * pl->P, rows, beta);
    }
}

/* y: (K, P) = wp x the columns of x + beta y. Work items are chunks of tiles
 * times groups of output-row blocks, chunk-major so that a thread's items share
 * x slabs. Small maps (ResNet-18's last stage at 112 px has 11 tiles) are split
 * over the row blocks too, or one thread would wait for the other's extra tile;
 * every output is summed in the same order however the work is split. */
static void run_gemm(int k, const plan *pl, const float *wp, const float *x, float *y, float beta)
{
    const size_t nt = (pl->P + NP - 1) / NP;
    const int nkb = (k + MR - 1) / MR, want = 16 * uf_threads();
    /* chunks whose x slab (C rows of the chunk's positions) is about 128 KB, two per thread at least */
    const size_t rows = pl->nq ? (size_t)pl->nq : 1;
    size_t per = 294912 / (rows * NP), fair = (nt + 2 * uf_threads() - 1) / (2 * uf_threads());
    per = per < 1 ? 1 : per > fair ? fair : per;
    const int nch = (int)((nt + per - 1) / per);
    int groups = nch >= want ? 1 : (want + nch - 1) / nch;
    groups = groups > nkb ? nkb : groups;
#pragma omp parallel for schedule(static) if ((double)pl->P * k * pl->nq > UF_PAR_MIN)
    for (int item = 0; item < nch * groups; item++) {
        const int ch = item / groups, g = item % groups;
        int t0 = (int)(ch * per), t1 = (size_t)(ch + 1) * per < nt ? (int)((ch + 1) * per) : (int)nt;
        fwd_chunk(k, pl, wp, x, y, beta, t0, t1, g * nkb / groups, (g + 1) * nkb / groups);
    }
}

/* ---- stride-2 phases ---- */

/* One image plane and one phase (a, b): the phase's rows and columns of
 * x: (H, W) <-> ph: (Ho, Wo), zero past the map; to_phase picks the direction,
 * add the accumulation into x. */
static void phase_plane(const uf_conv_dims *d, int a, int b, float *x, float *ph, int to_phase, int add)
{
    const int rows = (d->h - a + 1) / 2, cols = (d->w - b + 1) / 2; /* rows 2r + a < H, columns 2s + b < W */
    for (int r = 0; r < d->ho; r++, ph += d->wo) {
        float *xr = x + (size_t)(2 * r + a) * d->w + b;
        if (r >= rows) {
            if (to_phase)
                memset(ph, 0, sizeof(float) * (size_t)d->wo);
            continue;
        }
        if (to_phase) {
            for (int s = 0; s < cols; s++)
                ph[s] = xr[2 * s];
            for (int s = cols; s < d->wo; s++)
                ph[s] = 0;
        } else if (add) {
            for (int s = 0; s < cols; s++)
                xr[2 * s] += ph[s];
        } else {
            for (int s = 0; s < cols; s++)
                xr[2 * s] = ph[s];
        }
    }
}

/* x: (C, N, H, W) <-> ph: (4, C, N, Ho, Wo), plane 2a + b holding x[., ., 2 h + a, 2 w + b], zero past the
 * map; from the phases every entry of x lies in one of them, so it is overwritten or (add) added to */
static void phases(const uf_conv_dims *d, float *x, float *ph, int to_phase, int add)
{
    const size_t cp = (size_t)d->c * d->n * d->ho * d->wo, hw = (size_t)d->h * d->w, ohw = (size_t)d->ho * d->wo;
#pragma omp parallel for schedule(static) if (4 * cp > UF_PAR_MIN)
    for (int c = 0; c < d->c; c++)
        for (int n = 0; n < d->n; n++)
            for (int a = 0; a < 4; a++) {
                size_t plane = (size_t)c * d->n + n;
                phase_plane(d, a / 2, a % 2, x + plane * hw, ph + a * cp + plane * ohw, to_phase, add);
            }
}

/* ---- forward and input gradient ---- */

/* Workspace of a run: the phases (stride 2), the packed weights, the plan. */
typedef struct run_ws {
    float *ph, *wp, *plan;
} run_ws;

static int run_ws_get(const uf_conv_dims *d, const tapset *t, int rows, uf_ws *ws, run_ws *r, uf_err *e)
{
    const size_t P = (size_t)t->n * t->h * t->w, nv = (P + NP - 1) / NP * NV, nq = (size_t)t->c * t->ntap;
    const size_t nph = d->stride == 2 ? fl(4 * sizeof(float) * d->c * P) : 0;
    const size_t nwp = fl(sizeof(float) * (size_t)(rows + MR - 1) / MR * MR * nq);
    float *p = uf_ws_get(ws, nph + nwp + plan_floats(t, t->ntap, nq, nv), e);
    if (!p)
        return -1;
    *r = (run_ws){.ph = p, .wp = p + nph, .plan = p + nph + nwp};
    return 0;
}

int uf_conv_direct_forward(const uf_conv_dims *d, const float *w, const float *x, float *y, float beta, uf_ws *ws,
                           uf_err *e)
{
    tapset t;
    fwd_taps(d, &t);
    run_ws r;
    if (run_ws_get(d, &t, d->k, ws, &r, e))
        return -1;
    const size_t kk = (size_t)d->ks * d->ks;
    pack_weights(w, d->k, d->c * t.ntap, &t, d->c * kk, kk, r.wp); /* w: (K, C, ks, ks) */
    plan pl;
    const size_t P = (size_t)t.n * t.h * t.w;
    plan_set(&t, (P + NP - 1) / NP * NV, r.plan, &pl);
    if (d->stride == 2)
        phases(d, (float *)x, r.ph, 1, 0); /* x is only read */
    run_gemm(d->k, &pl, r.wp, d->stride == 2 ? r.ph : x, y, beta);
    return 0;
}

int uf_conv_direct_dgrad(const uf_conv_dims *d, const float *w, const float *dy, float *dx, int accumulate, uf_ws *ws,
                         uf_err *e)
{
    tapset all;
    fwd_taps(d, &all);
    all.c = d->k;
    run_ws r;
    if (run_ws_get(d, &all, d->c, ws, &r, e))
        return -1;
    const size_t P = (size_t)all.n * all.h * all.w;
    const size_t kk = (size_t)d->ks * d->ks;
    for (int ph = 0; ph < (d->stride == 2 ? 4 : 1); ph++) {
        tapset t;
        dgrad_taps(d, ph, &t);
        pack_weights(w, d->c, d->k * t.ntap, &t, kk, d->c * kk, r.wp); /* w: (K, C, ks, ks), the phase's taps */
        plan pl;
        plan_set(&t, (P + NP - 1) / NP * NV, r.plan, &pl);
        if (d->stride == 2)
            run_gemm(d->c, &pl, r.wp, dy, r.ph + (size_t)ph * d->c * P, 0);
        else
            run_gemm(d->c, &pl, r.wp, dy, dx, accumulate ? 1.0f : 0.0f);
    }
    if (d->stride == 2)
        phases(d, dx, r.ph, 0, accumulate);
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
static void wgrad_chunk(int k, const plan *pl, const float *x, const float *dy, float *part, size_t v0, size_t v1)
{
    for (int k0 = 0; k0 < k; k0 += WR)
        for (int q0 = 0; q0 < pl->nq; q0 += WQ) {
            const float *rows[WR];
            int q[WQ];
            float out[WR][WQ];
            for (int r = 0; r < WR; r++)
                rows[r] = dy + (size_t)(k0 + r < k ? k0 + r : k - 1) * pl->P;
            for (int j = 0; j < WQ; j++)
                q[j] = q0 + j < pl->nq ? q0 + j : pl->nq - 1;
            wgrad_block(pl, x, rows, q, v0, v1, out);
            for (int r = 0; r < WR && k0 + r < k; r++)
                for (int j = 0; j < WQ && q0 + j < pl->nq; j++)
                    part[(size_t)(k0 + r) * pl->nq + q0 + j] += out[r][j];
        }
}

int uf_conv_direct_wgrad(const uf_conv_dims *d, const float *x, const float *dy, float *dw, uf_ws *ws, uf_err *e)
{
    tapset t;
    fwd_taps(d, &t);
    const size_t P = (size_t)t.n * t.h * t.w, nv = (P + 15) / 16, nq = (size_t)d->c * t.ntap;
    const size_t wsize = (size_t)d->k * nq;
    const int thr = (double)P * d->k * nq > UF_PAR_MIN ? uf_threads() : 1;
    const size_t nph = d->stride == 2 ? fl(4 * sizeof(float) * d->c * P) : 0, nparts = fl(sizeof(float) * wsize * thr);
    float *p = uf_ws_get(ws, nph + nparts + plan_floats(&t, t.ntap, nq, nv), e);
    if (!p)
        return -1;
    float *parts = p + nph;
    plan pl;
    plan_set(&t, nv, parts + nparts, &pl);
    if (d->stride == 2)
        phases(d, (float *)x, p, 1, 0); /* x is only read */
    const float *src = d->stride == 2 ? p : x;
    /* chunks whose dy and x rows (K + C rows) are about 1 MB, at least 64 vectors
     * (a register block's sums are reduced once per chunk), one per thread at most */
    size_t per = 262144 / (16 * ((size_t)d->k + d->c)), fair = (nv + thr - 1) / thr;
    per = per < 64 ? 64 : per;
    per = per > fair ? fair : per;
    const long nch = (long)((nv + per - 1) / per);
    const int kk = d->ks * d->ks, nt = t.ntap;
    /* one region: the partials zeroed, the chunks, then the partials summed in a fixed
     * order onto the live taps, all on the threads (serial sums kept a core waiting) */
#pragma omp parallel num_threads(thr) if (thr > 1)
    {
        float *mine = parts + (size_t)uf_thread_id() * wsize;
        for (int th = uf_thread_id(); th < thr; th += uf_team_size()) /* a smaller team leaves none unset */
            memset(parts + (size_t)th * wsize, 0, sizeof(float) * wsize);
#pragma omp barrier
#pragma omp for schedule(static)
        for (long ch = 0; ch < nch; ch++) {
            size_t v0 = (size_t)ch * per, v1 = v0 + per < nv ? v0 + per : nv;
            wgrad_chunk(d->k, &pl, src, dy, mine, v0, v1);
        }
#pragma omp for schedule(static)
        for (long kc = 0; kc < (long)d->k * d->c; kc++)
            for (int l = 0; l < nt; l++) {
                const size_t kq = (size_t)kc * nt + l;
                float sum = parts[kq];
                for (int th = 1; th < thr; th++)
                    sum += parts[th * wsize + kq];
                dw[kc * kk + t.tap[l]] += sum;
            }
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

int uf_conv_direct_dgrad(const uf_conv_dims *d, const float *w, const float *dy, float *dx, int accumulate, uf_ws *ws,
                         uf_err *e)
{
    (void)d, (void)w, (void)dy, (void)dx, (void)accumulate, (void)ws;
    return uf_fail(e, "direct convolution needs an x86-64 build with AVX-512");
}

int uf_conv_direct_wgrad(const uf_conv_dims *d, const float *x, const float *dy, float *dw, uf_ws *ws, uf_err *e)
{
    (void)d, (void)x, (void)dy, (void)dw, (void)ws;
    return uf_fail(e, "direct convolution needs an x86-64 build with AVX-512");
}

#endif
