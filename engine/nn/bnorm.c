#include "bnorm.h"

#include <math.h>

#include "par.h"

/* max(v, 0) that keeps NaN and compiles to one vmaxps (fmaxf became a call) */
static inline float clamp0(float v) { return v < 0 ? 0.0f : v; }

/* Sums run in float within blocks of BLOCK elements (full SIMD width) and in
 * double across blocks, which keeps them accurate for millions of elements. */
#define BLOCK 512

/* Per-channel mean and biased variance, two passes. */
static void channel_stats(const float *y, size_t m, double *mean, double *var)
{
    double s = 0, q = 0;
    for (size_t b = 0; b < m; b += BLOCK) {
        size_t e = b + BLOCK < m ? b + BLOCK : m;
        float f = 0;
#pragma omp simd reduction(+ : f)
        for (size_t i = b; i < e; i++)
            f += y[i];
        s += f;
    }
    const double mu = s / (double)m;
    const float muf = (float)mu;
    for (size_t b = 0; b < m; b += BLOCK) {
        size_t e = b + BLOCK < m ? b + BLOCK : m;
        float f = 0;
#pragma omp simd reduction(+ : f)
        for (size_t i = b; i < e; i++)
            f += (y[i] - muf) * (y[i] - muf);
        q += f;
    }
    /* the float mean's rounding adds m (mu - muf)^2 to the sum of squares */
    *mean = mu;
    *var = q / (double)m - (mu - muf) * (mu - muf);
}

void uf_bn_forward(const uf_bn *b, const float *y, const float *add, int relu, float *out)
{
    const size_t m = b->m;
#pragma omp parallel for schedule(static) if (m * b->c > UF_PAR_MIN)
    for (int c = 0; c < b->c; c++) {
        double mu, var;
        if (b->train) {
            channel_stats(y + c * m, m, &mu, &var);
            double unbiased = m > 1 ? var * (double)m / (double)(m - 1) : var;
            b->rmean[c] = (float)((1 - UF_BN_MOMENTUM) * b->rmean[c] + UF_BN_MOMENTUM * mu);
            b->rvar[c] = (float)((1 - UF_BN_MOMENTUM) * b->rvar[c] + UF_BN_MOMENTUM * unbiased);
        } else {
            mu = b->rmean[c];
            var = b->rvar[c];
        }
        double inv = 1 / sqrt(var + UF_BN_EPS);
        b->mean[c] = (float)mu;
        b->invstd[c] = (float)inv;
        const float scale = (float)(b->gamma[c] * inv), shift = (float)(b->beta[c] - mu * b->gamma[c] * inv);
        const float *yc = y + c * m;
        float *oc = out + c * m;
        if (add) {
            const float *ac = add + c * m;
            if (relu) {
#pragma omp simd
                for (size_t i = 0; i < m; i++)
                    oc[i] = clamp0(yc[i] * scale + shift + ac[i]);
            } else {
#pragma omp simd
                for (size_t i = 0; i < m; i++)
                    oc[i] = yc[i] * scale + shift + ac[i];
            }
        } else if (relu) {
#pragma omp simd
            for (size_t i = 0; i < m; i++)
                oc[i] = clamp0(yc[i] * scale + shift);
        } else {
#pragma omp simd
            for (size_t i = 0; i < m; i++)
                oc[i] = yc[i] * scale + shift;
        }
    }
}

void uf_bn_backward(const uf_bn *b, const float *y, const float *out, int relu, const float *dout, float *dy,
                    float *dgamma, float *dbeta)
{
    const size_t m = b->m;
#pragma omp parallel for schedule(static) if (m * b->c > UF_PAR_MIN)
    for (int c = 0; c < b->c; c++) {
        const float *yc = y + c * m, *dc = dout + c * m, *oc = relu ? out + c * m : NULL;
        float *dyc = dy + c * m;
        const float mu = b->mean[c], inv = b->invstd[c];
        /* sums of dz and dz * xhat, with dz = dout gated by the ReLU mask */
        double sd = 0, sdx = 0;
        for (size_t b = 0; b < m; b += BLOCK) {
            size_t e = b + BLOCK < m ? b + BLOCK : m;
            float fd = 0, fdx = 0;
            if (relu) {
#pragma omp simd reduction(+ : fd, fdx)
                for (size_t i = b; i < e; i++) {
                    float dz = oc[i] > 0 ? dc[i] : 0.0f;
                    fd += dz;
                    fdx += dz * (yc[i] - mu);
                }
            } else {
#pragma omp simd reduction(+ : fd, fdx)
                for (size_t i = b; i < e; i++) {
                    fd += dc[i];
                    fdx += dc[i] * (yc[i] - mu);
                }
            }
            sd += fd;
            sdx += fdx;
        }
        sdx *= inv;
        dgamma[c] += (float)sdx;
        dbeta[c] += (float)sd;
        /* train: dy = gamma inv (dz - mean(dz) - xhat mean(dz xhat)); eval: dy = gamma inv dz */
        const float k = b->gamma[c] * inv;
        const float a = b->train ? (float)(sd / (double)m) : 0.0f;
        const float bx = b->train ? (float)(sdx / (double)m) : 0.0f;
        if (relu) {
#pragma omp simd
            for (size_t i = 0; i < m; i++) {
                float dz = oc[i] > 0 ? dc[i] : 0.0f;
                dyc[i] = k * (dz - a - (yc[i] - mu) * inv * bx);
            }
        } else {
#pragma omp simd
            for (size_t i = 0; i < m; i++)
                dyc[i] = k * (dc[i] - a - (yc[i] - mu) * inv * bx);
        }
    }
}
