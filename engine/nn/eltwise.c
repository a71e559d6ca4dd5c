#include "eltwise.h"

#include <string.h>

#include "par.h"

void uf_relu_forward(float *x, size_t n)
{
#pragma omp parallel for simd schedule(static) if (n > UF_PAR_MIN)
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] > 0 ? x[i] : 0.0f;
}

void uf_relu_backward(float *d, const float *out, size_t n)
{
#pragma omp parallel for simd schedule(static) if (n > UF_PAR_MIN)
    for (size_t i = 0; i < n; i++)
        d[i] = out[i] > 0 ? d[i] : 0.0f;
}

void uf_swap01(int a, int b, size_t s, const float *x, float *y)
{
#pragma omp parallel for collapse(2) schedule(static) if ((size_t)a * b * s > UF_PAR_MIN)
    for (int i = 0; i < a; i++)
        for (int j = 0; j < b; j++)
            memcpy(y + ((size_t)j * a + i) * s, x + ((size_t)i * b + j) * s, sizeof(float) * s);
}
