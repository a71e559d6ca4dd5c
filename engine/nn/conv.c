#include "conv.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "conv_direct.h"
#include "core/alloc.h"
#include "core/parallel.h"
#include "par.h"

static float *grow(float **p, size_t *cap, size_t n, uf_err *e)
{
    if (n > *cap) {
        free(*p);
        *p = uf_alloc_floats(n, e);
        *cap = *p ? n : 0;
    }
    return *p;
}

float *uf_ws_get(uf_ws *ws, size_t n, uf_err *e) { return grow(&ws->p, &ws->cap, n, e); }
float *uf_ws_aux(uf_ws *ws, size_t n, uf_err *e) { return grow(&ws->aux, &ws->aux_cap, n, e); }

void uf_ws_free(uf_ws *ws)
{
    free(ws->p);
    free(ws->aux);
    *ws = (uf_ws){0};
}

/* Output positions o in [0, out) whose input position o*stride - pad + k lies inside [0, size): [lo, hi). */
static void valid_range(int k, int stride, int pad, int size, int out, int *lo, int *hi)
{
    int a = pad - k, b = size + pad - k;
    *lo = a <= 0 ? 0 : (a + stride - 1) / stride;
    *hi = b <= 0 ? 0 : (b + stride - 1) / stride;
    if (*lo > out)
        *lo = out;
    if (*hi > out)
        *hi = out;
    if (*hi < *lo)
        *hi = *lo;
}

void uf_conv_dims_set(uf_conv_dims *d, int n, int c, int h, int w, int k, int ks, int stride, int pad)
{
    d->n = n;
    d->c = c;
    d->h = h;
    d->w = w;
    d->k = k;
    d->ks = ks;
    d->stride = stride;
    d->pad = pad;
    d->ho = uf_window_out(h, ks, stride, pad);
    d->wo = uf_window_out(w, ks, stride, pad);
    d->ntap = 0;
    for (int i = 0; i < ks; i++)
        for (int j = 0; j < ks; j++) {
            int rlo, rhi, clo, chi;
            valid_range(i, stride, pad, h, d->ho, &rlo, &rhi);
            valid_range(j, stride, pad, w, d->wo, &clo, &chi);
            if (rhi > rlo && chi > clo)
                d->tap[d->ntap++] = (unsigned char)(i * ks + j);
        }
}

double uf_conv_macs(const uf_conv_dims *d)
{
    return (double)d->k * d->c * d->ks * d->ks * d->n * d->ho * d->wo;
}

static int is_pointwise(const uf_conv_dims *d) { return d->ks == 1 && d->stride == 1 && d->pad == 0; }

/* dst: `rows` output rows of one tap whose input rows start at src (already
 * offset by j - pad); columns outside [lo, hi) are zero. */
static void copy_rows(const uf_conv_dims *d, const float *src, int rows, int lo, int hi, float *dst)
{
    const int wo = d->wo, s = d->stride;
    if (s == 1 && wo == d->w) {
        /* consecutive input rows are contiguous: one shifted copy, then the padding columns */
        size_t n = (size_t)rows * wo;
        if (n > (size_t)lo + (wo - hi))
            memcpy(dst + lo, src + lo, sizeof(float) * (n - lo - (wo - hi)));
        for (int r = 0; r < rows; r++) {
            for (int ow = 0; ow < lo; ow++)
                dst[r * wo + ow] = 0;
            for (int ow = hi; ow < wo; ow++)
                dst[r * wo + ow] = 0;
        }
        return;
    }
    for (int r = 0; r < rows; r++, dst += wo, src += (size_t)s * d->w) {
        for (int ow = 0; ow < lo; ow++)
            dst[ow] = 0;
        for (int ow = lo; ow < hi; ow++)
            dst[ow] = src[ow * s];
        for (int ow = hi; ow < wo; ow++)
            dst[ow] = 0;
    }
}

/* Stride-1 convs that keep the map's size (most 3x3 convs of a ResNet): since
 * ho*wo == h*w, output position p of a tap (i, j) reads input position
 * p + (i - pad) w + (j - pad) of its channel's (N, H, W) block, so an im2col
 * row is one shifted copy, and a col2im row one shifted add, once the
 * entries that fall on padding are zeroed. */
static int same_size_s1(const uf_conv_dims *d) { return d->stride == 1 && d->ho == d->h && d->wo == d->w; }

/* The part [a, b) of a tile row (output rows [r0, r1)) whose shifted source
 * lies inside the channel block; returns the source offset of entry 0. */
static long shifted_span(const uf_conv_dims *d, int i, int j, int r0, int r1, long *a, long *b)
{
    long off = (long)r0 * d->w + (long)(i - d->pad) * d->w + (j - d->pad), total = (long)d->n * d->h * d->w;
    long t = (long)(r1 - r0) * d->wo;
    *a = off < 0 ? -off : 0;
    *b = total - off < t ? total - off : t;
    if (*b < *a)
        *b = *a;
    return off;
}

/* Maps narrower than this zero padding entries through per-tap masks as long
 * as a tile (a vector select over the row; tiles then hold whole images),
 * wider ones row by row. */
#define MASK_WO 16

// mask: (ntap, rows*Wo) for tiles of `rows` output rows starting at an image's top; 1 where the tap reads the input
static void tap_masks(const uf_conv_dims *d, int rows, unsigned char *mask)
{
    for (int l = 0; l < d->ntap; l++) {
        int i = d->tap[l] / d->ks, j = d->tap[l] % d->ks, lo, hi, vlo, vhi;
        valid_range(j, 1, d->pad, d->w, d->wo, &lo, &hi);
        valid_range(i, 1, d->pad, d->h, d->ho, &vlo, &vhi);
        for (int r = 0; r < rows; r++)
            for (int ow = 0; ow < d->wo; ow++)
                *mask++ = r % d->ho >= vlo && r % d->ho < vhi && ow >= lo && ow < hi;
    }
}

/* row: tap l's entries for output rows [r0, r1); zeroes those that read
 * padding, with the tap's mask m when there is one (a last, shorter tile uses
 * its first entries) */
static void zero_padding(const uf_conv_dims *d, int l, const unsigned char *m, int r0, int r1, float *row)
{
    const int wo = d->wo;
    if (m) {
        const long t = (long)(r1 - r0) * wo;
#pragma omp simd
        for (long q = 0; q < t; q++)
            row[q] = m[q] ? row[q] : 0.0f;
        return;
    }
    int i = d->tap[l] / d->ks, j = d->tap[l] % d->ks, lo, hi, vlo, vhi;
    valid_range(j, 1, d->pad, d->w, wo, &lo, &hi);
    valid_range(i, 1, d->pad, d->h, d->ho, &vlo, &vhi);
    for (int r = r0; r < r1; r++, row += wo) {
        int oh = r % d->ho;
        if (oh < vlo || oh >= vhi) {
            memset(row, 0, sizeof(float) * (size_t)wo);
            continue;
        }
        for (int ow = 0; ow < lo; ow++)
            row[ow] = 0;
        for (int ow = hi; ow < wo; ow++)
            row[ow] = 0;
    }
}

// x: (C, N, H, W) -> col: (C*ntap, (r1-r0)*Wo) for output rows r = n*Ho + oh in [r0, r1)
static void im2col(const uf_conv_dims *d, const float *x, int r0, int r1, const unsigned char *masks, size_t mlen,
                   float *col)
{
    const int nt = d->ntap, wo = d->wo, s = d->stride;
    const size_t t = (size_t)(r1 - r0) * wo, block = (size_t)d->n * d->h * d->w;
#pragma omp parallel for schedule(static) if (t * d->c * nt > UF_PAR_MIN)
    for (int row = 0; row < d->c * nt; row++) {
        int c = row / nt, i = d->tap[row % nt] / d->ks, j = d->tap[row % nt] % d->ks, lo, hi, vlo, vhi;
        float *dst = col + (size_t)row * t;
        if (same_size_s1(d)) {
            long a, b, off = shifted_span(d, i, j, r0, r1, &a, &b);
            memcpy(dst + a, x + c * block + off + a, sizeof(float) * (size_t)(b - a));
            /* [0, a) and [b, t) read outside the block: zeroed too */
            zero_padding(d, row % nt, masks ? masks + (size_t)(row % nt) * mlen : NULL, r0, r1, dst);
            continue;
        }
        valid_range(j, s, d->pad, d->w, wo, &lo, &hi);
        valid_range(i, s, d->pad, d->h, d->ho, &vlo, &vhi);
        /* per image: zero rows above and below the input, copy the rest */
        for (int r = r0; r < r1;) {
            int n = r / d->ho, oh = r % d->ho, end = (n + 1) * d->ho < r1 ? (n + 1) * d->ho : r1;
            int a = oh > vlo ? oh : vlo, b = end - n * d->ho < vhi ? end - n * d->ho : vhi;
            const float *plane = x + ((size_t)c * d->n + n) * d->h * d->w;
            float *out = dst + (size_t)(r - r0) * wo;
            if (b <= a) {
                memset(out, 0, sizeof(float) * (size_t)(end - r) * wo);
            } else {
                memset(out, 0, sizeof(float) * (size_t)(a - oh) * wo);
                copy_rows(d, plane + (a * s - d->pad + i) * d->w - d->pad + j, b - a, lo, hi,
                          out + (size_t)(a - oh) * wo);
                memset(out + (size_t)(b - oh) * wo, 0, sizeof(float) * (size_t)(end - n * d->ho - b) * wo);
            }
            r = end;
        }
    }
}

// col: (C*ntap, (r1-r0)*Wo) -> dx: (C, N, H, W), added; one thread per channel, so no races.
// Same-size stride-1 convs zero col's padding entries (it is scratch) and add it shifted.
static void col2im(const uf_conv_dims *d, float *col, int r0, int r1, const unsigned char *masks, size_t mlen,
                   float *dx)
{
    const int nt = d->ntap, wo = d->wo, s = d->stride;
    const size_t t = (size_t)(r1 - r0) * wo, block = (size_t)d->n * d->h * d->w;
#pragma omp parallel for schedule(static) if (t * d->c * nt > UF_PAR_MIN)
    for (int c = 0; c < d->c; c++)
        for (int l = 0; l < nt; l++) {
            int i = d->tap[l] / d->ks, j = d->tap[l] % d->ks, lo, hi;
            float *src = col + (size_t)(c * nt + l) * t;
            if (same_size_s1(d)) {
                long a, b, off = shifted_span(d, i, j, r0, r1, &a, &b);
                zero_padding(d, l, masks ? masks + (size_t)l * mlen : NULL, r0, r1, src);
                float *dst = dx + c * block + off;
#pragma omp simd
                for (long q = a; q < b; q++)
                    dst[q] += src[q];
                continue;
            }
            valid_range(j, s, d->pad, d->w, wo, &lo, &hi);
            for (int r = r0; r < r1; r++, src += wo) {
                int n = r / d->ho, ih = r % d->ho * s - d->pad + i;
                if (ih < 0 || ih >= d->h)
                    continue;
                float *dst = dx + (((size_t)c * d->n + n) * d->h + ih) * d->w - d->pad + j;
                for (int ow = lo; ow < hi; ow++)
                    dst[ow * s] += src[ow];
            }
        }
}

// w: (K, C*ks*ks) -> wl: (K, C*ntap), the live taps' columns
static void gather_taps(const uf_conv_dims *d, const float *w, float *wl)
{
    const int kk = d->ks * d->ks;
    for (size_t kc = 0; kc < (size_t)d->k * d->c; kc++)
        for (int l = 0; l < d->ntap; l++)
            wl[kc * d->ntap + l] = w[kc * kk + d->tap[l]];
}

// dwl: (K, C*ntap) -> dw: (K, C*ks*ks), added
static void scatter_taps(const uf_conv_dims *d, const float *dwl, float *dw)
{
    const int kk = d->ks * d->ks;
    for (size_t kc = 0; kc < (size_t)d->k * d->c; kc++)
        for (int l = 0; l < d->ntap; l++)
            dw[kc * kk + d->tap[l]] += dwl[kc * d->ntap + l];
}

/* Output rows per tile: whole rows, about UF_CONV_TILE floats of im2col;
 * whole images when padding masks are used. */
static int tile_rows(const uf_conv_dims *d, int *masked)
{
    size_t per_row = (size_t)d->c * d->ntap * d->wo;
    size_t rows = UF_CONV_TILE / per_row, wide = (UF_CONV_MIN_COLS + d->wo - 1) / d->wo;
    rows = rows < wide ? wide : rows;
    int total = d->n * d->ho;
    rows = rows < 1 ? 1 : rows > (size_t)total ? (size_t)total : rows;
    *masked = same_size_s1(d) && d->wo < MASK_WO && rows >= (size_t)d->ho;
    if (*masked)
        rows -= rows % d->ho;
    return (int)rows;
}

/* Workspace: im2col tile(s); with dead taps the live weights (and their
 * gradient); for narrow same-size maps the padding masks; per-thread tiles
 * and weight gradients when tiles run in parallel. */
typedef struct conv_ws {
    float *col, *dcol, *wl, *dwl, *dwt;
    unsigned char *masks;
    int rows, tiles, thr; /* rows per tile, tiles, threads running tiles (1: one at a time) */
    size_t tile;          /* floats of one tile */
} conv_ws;

/* grads: room for the weight gradients; dcol: for the column gradients (col2im) */
static int carve(const uf_conv_dims *d, int grads, int dcol, uf_ws *ws, conv_ws *c, uf_err *e)
{
    const size_t ckl = (size_t)d->c * d->ntap, wsize = (size_t)d->k * ckl;
    const size_t nw = d->ntap < d->ks * d->ks ? wsize * (grads ? 2 : 1) : 0;
    int masked;
    c->rows = tile_rows(d, &masked);
    c->tiles = (d->n * d->ho + c->rows - 1) / c->rows;
    /* Each thread builds its own tile and runs a one-thread GEMM on it while
     * there are tiles enough to share; col2im, whose tiles overlap in dx, and
     * the rest go one tile at a time with threaded kernels. */
    c->thr = !dcol && uf_threads() > 1 && c->tiles >= 2 * uf_threads() ? uf_threads() : 1;
    c->tile = ckl * c->rows * d->wo;
    const size_t ncol = c->tile * (dcol ? 2 : c->thr), ndwt = grads && c->thr > 1 ? wsize * c->thr : 0;
    const size_t nmask = masked ? ((size_t)d->ntap * c->rows * d->wo + 3) / 4 : 0; /* in floats */
    float *p = uf_ws_get(ws, ncol + nw + ndwt + nmask, e);
    if (!p)
        return -1;
    c->col = p;
    c->dcol = dcol ? p + c->tile : NULL;
    c->wl = nw ? p + ncol : NULL;
    c->dwl = nw && grads ? c->wl + wsize : NULL;
    c->dwt = ndwt ? p + ncol + nw : NULL;
    c->masks = nmask ? (unsigned char *)(p + ncol + nw + ndwt) : NULL;
    if (c->masks)
        tap_masks(d, c->rows, c->masks);
    return 0;
}

/* One tile of output rows: im2col, then y[rows] = w col + beta y[rows]. */
static void forward_tile(const uf_conv_dims *d, const conv_ws *c, const float *w, const float *x, float *y,
                         float beta, int ti)
{
    const int ckl = d->c * d->ntap, rows = d->n * d->ho, p = rows * d->wo;
    int r0 = ti * c->rows, r1 = r0 + c->rows < rows ? r0 + c->rows : rows, t = (r1 - r0) * d->wo;
    float *col = c->col + (size_t)uf_thread_id() * c->tile;
    im2col(d, x, r0, r1, c->masks, (size_t)c->rows * d->wo, col);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d->k, t, ckl, 1, w, ckl, col, t, beta,
                y + (size_t)r0 * d->wo, p);
}

/* y = conv(x) + beta y */
static int forward(const uf_conv_dims *d, const float *w, const float *x, float *y, float beta, uf_ws *ws, uf_err *e)
{
    const int p = d->n * d->ho * d->wo;
    if (is_pointwise(d)) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d->k, p, d->c, 1, w, d->c, x, p, beta, y, p);
        return 0;
    }
    if (uf_conv_direct_ok(d))
        return uf_conv_direct_forward(d, w, x, y, beta, ws, e);
    conv_ws c;
    if (carve(d, 0, 0, ws, &c, e))
        return -1;
    if (c.wl) {
        gather_taps(d, w, c.wl);
        w = c.wl;
    }
    /* Tiles run on the threads with single-threaded sgemm, or one at a time
     * with OpenBLAS threading inside. Never wrap the serial loop in an
     * inactive parallel region: OpenBLAS's own region would then nest and
     * create fresh threads on every call (hundreds per training step). */
    if (c.thr > 1) {
#pragma omp parallel for schedule(static) num_threads(c.thr)
        for (int ti = 0; ti < c.tiles; ti++)
            forward_tile(d, &c, w, x, y, beta, ti);
    } else {
        for (int ti = 0; ti < c.tiles; ti++)
            forward_tile(d, &c, w, x, y, beta, ti);
    }
    return 0;
}

int uf_conv_forward(const uf_conv_dims *d, const float *w, const float *x, float *y, uf_ws *ws, uf_err *e)
{
    return forward(d, w, x, y, 0, ws, e);
}

/* The input gradient of a same-size stride-1 conv with pad = (ks - 1) / 2 is
 * the same-size conv of dy with the kernel transposed (C <-> K) and flipped:
 * a GEMM with inner dimension K*ks*ks instead of K, and no col2im. */
static int backward_data_as_conv(const uf_conv_dims *d, const float *w, const float *dy, float *dx, int accumulate,
                                 uf_ws *ws, uf_err *e)
{
    const int kk = d->ks * d->ks;
    float *wt = uf_ws_aux(ws, (size_t)d->k * d->c * kk, e);
    if (!wt)
        return -1;
    // w: (K, C, ks, ks) -> wt: (C, K, ks, ks), each kernel rotated by 180 degrees
    for (int k = 0; k < d->k; k++)
        for (int c = 0; c < d->c; c++)
            for (int q = 0; q < kk; q++)
                wt[((size_t)c * d->k + k) * kk + q] = w[((size_t)k * d->c + c) * kk + (kk - 1 - q)];
    uf_conv_dims t;
    uf_conv_dims_set(&t, d->n, d->k, d->h, d->w, d->c, d->ks, 1, d->pad);
    return forward(&t, wt, dy, dx, accumulate ? 1.0f : 0.0f, ws, e);
}

/* One tile of rows: the weight gradient into the thread's partial (or dwl),
 * and with dx_col the input gradient through col2im. */
static void backward_tile(const uf_conv_dims *d, const conv_ws *c, const float *wl, const float *x, const float *dy,
                          float *dwl, float *dx_col, int ti)
{
    const int ckl = d->c * d->ntap, rows = d->n * d->ho, p = rows * d->wo;
    const size_t wsize = (size_t)d->k * ckl;
    int r0 = ti * c->rows, r1 = r0 + c->rows < rows ? r0 + c->rows : rows, t = (r1 - r0) * d->wo;
    const float *dyt = dy + (size_t)r0 * d->wo;
    float *col = c->col + (size_t)uf_thread_id() * c->tile, *dwk = c->dwt ? c->dwt + uf_thread_id() * wsize : dwl;
    im2col(d, x, r0, r1, c->masks, (size_t)c->rows * d->wo, col);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d->k, ckl, t, 1, dyt, p, col, t, 1, dwk, ckl);
    if (dx_col) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ckl, t, d->k, 1, wl, ckl, dyt, p, 0, c->dcol, t);
        col2im(d, c->dcol, r0, r1, c->masks, (size_t)c->rows * d->wo, dx_col);
    }
}

int uf_conv_backward(const uf_conv_dims *d, const float *w, const float *x, const float *dy, float *dw, float *dx,
                     int dx_accumulate, uf_ws *ws, uf_err *e)
{
    const int ckl = d->c * d->ntap, rows = d->n * d->ho;
    const int p = rows * d->wo;
    if (is_pointwise(d)) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d->k, d->c, p, 1, dy, p, x, p, 1, dw, d->c);
        if (dx)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d->c, p, d->k, 1, w, d->c, dy, p,
                        dx_accumulate ? 1 : 0, dx, p);
        return 0;
    }
    if (uf_conv_direct_ok(d)) {
        if (uf_conv_direct_wgrad(d, x, dy, dw, ws, e))
            return -1;
        return dx ? uf_conv_direct_dgrad(d, w, dy, dx, dx_accumulate, ws, e) : 0;
    }
    /* the input gradient comes from col2im here, or as a conv of dy afterwards */
    const int as_conv = dx && same_size_s1(d) && 2 * d->pad == d->ks - 1;
    float *dx_col = as_conv ? NULL : dx;
    conv_ws c;
    if (carve(d, 1, dx_col != NULL, ws, &c, e))
        return -1;
    const float *wl = w;
    float *dwl = dw;
    if (c.wl) {
        gather_taps(d, w, c.wl);
        wl = c.wl;
        memset(c.dwl, 0, sizeof(float) * (size_t)d->k * ckl);
        dwl = c.dwl;
    }
    if (dx_col && !dx_accumulate)
        memset(dx_col, 0, sizeof(float) * (size_t)d->c * d->n * d->h * d->w);
    const size_t wsize = (size_t)d->k * ckl;
    if (c.dwt)
        memset(c.dwt, 0, sizeof(float) * wsize * c.thr);
    if (c.thr > 1) { /* as in forward(): no inactive region around the serial loop */
#pragma omp parallel for schedule(static) num_threads(c.thr)
        for (int ti = 0; ti < c.tiles; ti++)
            backward_tile(d, &c, wl, x, dy, dwl, dx_col, ti);
    } else {
        for (int ti = 0; ti < c.tiles; ti++)
            backward_tile(d, &c, wl, x, dy, dwl, dx_col, ti);
    }
    for (int k = 0; c.dwt && k < c.thr; k++) /* the threads' partial sums, in a fixed order */
#pragma omp simd
        for (size_t i = 0; i < wsize; i++)
            dwl[i] += c.dwt[k * wsize + i];
    if (c.wl)
        scatter_taps(d, c.dwl, dw);
    return as_conv ? backward_data_as_conv(d, w, dy, dx, dx_accumulate, ws, e) : 0;
}
