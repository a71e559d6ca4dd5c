#include "linear.h"

#include <cblas.h>

void uf_linear_forward(int n, int f, int k, const float *x, const float *w, const float *b, float *y)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < k; j++)
            y[(size_t)i * k + j] = b[j];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, k, f, 1, x, f, w, f, 1, y, k);
}

void uf_linear_backward(int n, int f, int k, const float *x, const float *w, const float *dy, float *dw, float *db,
                        float *dx, int dx_accumulate)
{
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, f, n, 1, dy, k, x, f, 1, dw, f);
    for (int j = 0; j < k; j++) {
        double s = 0;
        for (int i = 0; i < n; i++)
            s += dy[(size_t)i * k + j];
        db[j] += (float)s;
    }
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, f, k, 1, dy, k, w, f, dx_accumulate ? 1 : 0, dx,
                    f);
}
