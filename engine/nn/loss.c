#include "loss.h"

#include <cblas.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

/* Row max and log-sum-exp of the shifted row. */
static double log_sum_exp(const float *z, int k, double *mx)
{
    double m = z[0], s = 0;
    for (int j = 1; j < k; j++)
        m = z[j] > m ? z[j] : m;
    for (int j = 0; j < k; j++)
        s += exp(z[j] - m);
    *mx = m;
    return log(s);
}

int uf_xent_hard(int n, int k, const float *logits, const int *labels, float scale, float *dlogits, double *loss,
                 uf_err *e)
{
    for (int i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= k)
            return uf_fail(e, "label %d of sample %d outside [0, %d)", labels[i], i, k);
    double total = 0;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * k;
        double m, lse = log_sum_exp(z, k, &m);
        total += lse - (z[labels[i]] - m);
        if (dlogits) {
            float *d = dlogits + (size_t)i * k;
            for (int j = 0; j < k; j++)
                d[j] = (float)(scale * (exp(z[j] - m - lse) - (j == labels[i])) / n);
        }
    }
    *loss = total / n;
    return 0;
}

double uf_xent_soft(int n, int k, const float *logits, const float *targets, float scale, float *dlogits)
{
    double total = 0;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * k, *t = targets + (size_t)i * k;
        double m, lse = log_sum_exp(z, k, &m), tsum = 0;
        for (int j = 0; j < k; j++) {
            total -= t[j] * (z[j] - m - lse);
            tsum += t[j];
        }
        if (dlogits) {
            float *d = dlogits + (size_t)i * k;
            for (int j = 0; j < k; j++)
                d[j] = (float)(scale * (exp(z[j] - m - lse) * tsum - t[j]) / n);
        }
    }
    return total / n;
}

int uf_infonce(int n, int d, int k, const float *z, const float *kpos, const float *queue, double t, float scale,
               float *dz, double *loss, uf_err *e)
{
    const int c = k + 1;
    float *q = uf_calloc((size_t)n * d, sizeof(float), e), *logits = uf_calloc((size_t)n * c, sizeof(float), e);
    float *dl = uf_calloc((size_t)n * c, sizeof(float), e), *dq = uf_calloc((size_t)n * d, sizeof(float), e);
    int *zero = uf_calloc((size_t)n, sizeof(int), e), rc = 0;
    double *inv = uf_calloc((size_t)n, sizeof(double), e);
    if (!q || !logits || !dl || !dq || !zero || !inv) {
        rc = -1;
        goto out;
    }
    for (int i = 0; i < n && !rc; i++) {
        double s = 0;
        for (int j = 0; j < d; j++)
            s += (double)z[(size_t)i * d + j] * z[(size_t)i * d + j];
        if (!(s > 0 && isfinite(s)))
            rc = uf_fail(e, "InfoNCE: query %d has norm %g", i, sqrt(s));
        inv[i] = 1 / sqrt(s);
        for (int j = 0; j < d; j++)
            q[(size_t)i * d + j] = (float)(z[(size_t)i * d + j] * inv[i]);
    }
    if (rc)
        goto out;
    /* logits: column 0 the positive, columns 1..K the queue */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, k, d, 1, q, d, queue, d, 0, logits + 1, c);
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < d; j++)
            s += (double)q[(size_t)i * d + j] * kpos[(size_t)i * d + j];
        logits[(size_t)i * c] = (float)s;
        for (int j = 0; j < c; j++)
            logits[(size_t)i * c + j] = (float)(logits[(size_t)i * c + j] / t);
    }
    if ((rc = uf_xent_hard(n, c, logits, zero, (float)(scale / t), dz ? dl : NULL, loss, e)) || !dz)
        goto out;
    /* dq = dl0 kpos + dl[1..K] queue; dz = (dq - q (q . dq)) / |z| */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, d, k, 1, dl + 1, c, queue, d, 0, dq, d);
    for (int i = 0; i < n; i++) {
        float *g = dq + (size_t)i * d;
        const float *qi = q + (size_t)i * d;
        double dot = 0;
        for (int j = 0; j < d; j++) {
            g[j] += dl[(size_t)i * c] * kpos[(size_t)i * d + j];
            dot += (double)qi[j] * g[j];
        }
        for (int j = 0; j < d; j++)
            dz[(size_t)i * d + j] = (float)((g[j] - qi[j] * dot) * inv[i]);
    }
out:
    free(q), free(logits), free(dl), free(dq), free(zero), free(inv);
    return rc;
}
