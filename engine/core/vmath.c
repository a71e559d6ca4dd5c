#include "vmath.h"

void uf_vexp(const double *x, double *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = uf_exp1(x[i]);
}

void uf_vlog(const double *x, double *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = uf_log1(x[i]);
}

void uf_vpow(const double *x, double p, double *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = uf_exp1(p * uf_log1(x[i]));
}
