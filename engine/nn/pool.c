#include "pool.h"

#include <string.h>

#include "conv.h"
#include "par.h"

void uf_pool_dims_set(uf_pool_dims *d, int planes, int h, int w, int ks, int stride, int pad)
{
    *d = (uf_pool_dims){.planes = planes, .h = h, .w = w, .ks = ks, .stride = stride, .pad = pad,
                        .ho = uf_window_out(h, ks, stride, pad), .wo = uf_window_out(w, ks, stride, pad)};
}

/* The window's first maximum in scan order over input rows [h0, h1) and
 * columns [w0, w1), as an offset from the corner (hc, wc); NaN wins. */
static inline int window_max(const float *x, int w, int ks, int hc, int wc, int h0, int h1, int w0, int w1,
                             float *out)
{
    int best = (h0 - hc) * ks + (w0 - wc);
    float m = x[h0 * w + w0];
    for (int ih = h0; ih < h1; ih++)
        for (int iw = w0; iw < w1; iw++) {
            float v = x[ih * w + iw];
            if (!(v <= m) && m == m) { /* v > m, or v NaN while m is not */
                m = v;
                best = (ih - hc) * ks + (iw - wc);
            }
        }
    *out = m;
    return best;
}

/* Windows ow in [a, b), all inside the input; row: the windows' top row, shifted by -pad. */
static inline void interior_run(const float *row, int w, int s, int ks, int a, int b, float *y, uint8_t *arg)
{
    for (int ow = a; ow < b; ow++) {
        const float *c = row + ow * s;
        float m = c[0];
        int best = 0;
        for (int i = 0; i < ks; i++)
            for (int j = 0; j < ks; j++) {
                float v = c[i * w + j];
                int up = !(v <= m) && m == m;
                m = up ? v : m;
                best = up ? i * ks + j : best;
            }
        y[ow] = m;
        if (arg)
            arg[ow] = (uint8_t)best;
    }
}

void uf_maxpool_forward(const uf_pool_dims *d, const float *x, float *y, uint8_t *arg)
{
    const size_t in = (size_t)d->h * d->w, out = (size_t)d->ho * d->wo;
    const int s = d->stride, ks = d->ks;
    /* output columns whose windows lie inside the input: the loop without clipping */
    int ia = (d->pad + s - 1) / s, ib = (d->w + d->pad - ks) / s + 1;
    ib = ib > d->wo ? d->wo : ib;
    ia = ia > ib ? ib : ia;
#pragma omp parallel for schedule(static) if (in * d->planes > UF_PAR_MIN)
    for (int p = 0; p < d->planes; p++) {
        const float *xp = x + p * in;
        float *yp = y + p * out;
        uint8_t *ap = arg ? arg + p * out : NULL;
        for (int oh = 0; oh < d->ho; oh++) {
            int hc = oh * s - d->pad, h0 = hc < 0 ? 0 : hc, h1 = hc + ks < d->h ? hc + ks : d->h;
            for (int ow = 0; ow < d->wo; ow++) {
                if (ow == ia && h1 - h0 == ks) { /* interior run: fixed-size windows */
                    const float *row = xp + (size_t)hc * d->w - d->pad;
                    float *yo = yp + oh * d->wo;
                    uint8_t *ao = ap ? ap + oh * d->wo : NULL;
                    if (ks == 3) /* the ResNet stem's pool, with the window size a constant */
                        interior_run(row, d->w, s, 3, ia, ib, yo, ao);
                    else
                        interior_run(row, d->w, s, ks, ia, ib, yo, ao);
                    ow = ib;
                    if (ow >= d->wo)
                        break;
                }
                int wc = ow * s - d->pad, w0 = wc < 0 ? 0 : wc, w1 = wc + ks < d->w ? wc + ks : d->w;
                float m;
                int best = window_max(xp, d->w, ks, hc, wc, h0, h1, w0, w1, &m);
                yp[oh * d->wo + ow] = m;
                if (ap)
                    ap[oh * d->wo + ow] = (uint8_t)best;
            }
        }
    }
}

void uf_maxpool_backward(const uf_pool_dims *d, const uint8_t *arg, const float *dy, float *dx)
{
    const size_t in = (size_t)d->h * d->w, out = (size_t)d->ho * d->wo;
#pragma omp parallel for schedule(static) if (in * d->planes > UF_PAR_MIN)
    for (int p = 0; p < d->planes; p++) {
        float *dxp = dx + p * in;
        memset(dxp, 0, sizeof(float) * in);
        for (int oh = 0; oh < d->ho; oh++)
            for (int ow = 0; ow < d->wo; ow++) {
                int k = arg[p * out + (size_t)oh * d->wo + ow];
                int ih = oh * d->stride - d->pad + k / d->ks, iw = ow * d->stride - d->pad + k % d->ks;
                dxp[ih * d->w + iw] += dy[p * out + (size_t)oh * d->wo + ow];
            }
    }
}

void uf_avgpool_forward(int c, int n, int hw, const float *x, float *y)
{
#pragma omp parallel for schedule(static) if ((size_t)c * n * hw > UF_PAR_MIN)
    for (int ch = 0; ch < c; ch++)
        for (int i = 0; i < n; i++) {
            const float *xp = x + ((size_t)ch * n + i) * hw;
            double s = 0;
            for (int k = 0; k < hw; k++)
                s += xp[k];
            y[(size_t)i * c + ch] = (float)(s / hw);
        }
}

void uf_avgpool_backward(int c, int n, int hw, const float *dy, float *dx)
{
#pragma omp parallel for schedule(static) if ((size_t)c * n * hw > UF_PAR_MIN)
    for (int ch = 0; ch < c; ch++)
        for (int i = 0; i < n; i++) {
            float g = dy[(size_t)i * c + ch] / (float)hw;
            float *dxp = dx + ((size_t)ch * n + i) * hw;
            for (int k = 0; k < hw; k++)
                dxp[k] = g;
        }
}
