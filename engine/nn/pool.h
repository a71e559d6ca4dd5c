/* Pooling on (C, N, H, W) activations; every (c, n) plane is contiguous. */
#ifndef UF_NN_POOL_H
#define UF_NN_POOL_H

#include <stdint.h>

typedef struct uf_pool_dims {
    int planes, h, w;        /* planes = C*N */
    int ks, stride, pad;
    int ho, wo;
} uf_pool_dims;

void uf_pool_dims_set(uf_pool_dims *d, int planes, int h, int w, int ks, int stride, int pad);

/* Max pooling as torch: padding never wins, ties go to the first maximum in
 * scan order (row by row), NaN propagates. x: (planes, H, W) -> y: (planes,
 * Ho, Wo); when arg is not NULL it receives each maximum's offset in its
 * window (row-major in ks x ks, from the window's unclipped corner). */
void uf_maxpool_forward(const uf_pool_dims *d, const float *x, float *y, uint8_t *arg);
/* Routes dy to each window's maximum. arg, dy: (planes, Ho, Wo) -> dx: (planes, H, W) (overwritten) */
void uf_maxpool_backward(const uf_pool_dims *d, const uint8_t *arg, const float *dy, float *dx);

/* Global average pool. x: (C, N, HW) -> y: (N, C) */
void uf_avgpool_forward(int c, int n, int hw, const float *x, float *y);
/* dy: (N, C) -> dx: (C, N, HW) (overwritten) */
void uf_avgpool_backward(int c, int n, int hw, const float *dy, float *dx);

#endif
