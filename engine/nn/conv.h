/* Conv2d (square kernel, no bias) as im2col + OpenBLAS sgemm.
 *
 * Activations are channel-major, (C, N, H, W) ("CNHW"): the whole batch's
 * output positions form the columns of one matrix, so the GEMM is
 * W (K, C*k*k) x col (C*k*k, N*Ho*Wo) -> y (K, N*Ho*Wo) and writes the output
 * in place, a 1x1 stride-1 conv is a single GEMM on the input itself (no
 * im2col), and BatchNorm reduces over one contiguous block per channel.
 * The im2col matrix is built in tiles of whole output rows, so the workspace
 * stays bounded (about UF_CONV_TILE floats per buffer) at any batch or size. */
#ifndef UF_NN_CONV_H
#define UF_NN_CONV_H

#include <stddef.h>

#include "core/err.h"

/* floats per im2col tile (a tile is at least one output row) */
#define UF_CONV_TILE (1u << 18)
#define UF_CONV_MIN_COLS 512

#define UF_CONV_MAX_KS 8

typedef struct uf_conv_dims {
    int n, c, h, w;          /* input (C, N, H, W) */
    int k, ks, stride, pad;  /* output channels, kernel size (at most UF_CONV_MAX_KS), stride, padding */
    int ho, wo;              /* output spatial size */
    /* kernel taps i*ks + j that read the input at some output position; the
     * others see only padding (a 3x3 conv on a 1 x 1 map uses 1 of 9), and
     * the GEMMs skip them */
    int ntap;
    unsigned char tap[UF_CONV_MAX_KS * UF_CONV_MAX_KS];
} uf_conv_dims;

/* Scratch memory that grows on demand and is reused across calls: a main
 * buffer and an auxiliary one that a nested use of the main one keeps. */
typedef struct uf_ws {
    float *p, *aux;
    size_t cap, aux_cap;
} uf_ws;

float *uf_ws_get(uf_ws *ws, size_t n, uf_err *e);
float *uf_ws_aux(uf_ws *ws, size_t n, uf_err *e);
void uf_ws_free(uf_ws *ws);

/* Output size of a sliding window (conv or pool) along one axis. */
static inline int uf_window_out(int in, int ks, int stride, int pad) { return (in + 2 * pad - ks) / stride + 1; }

void uf_conv_dims_set(uf_conv_dims *d, int n, int c, int h, int w, int k, int ks, int stride, int pad);
/* Multiply-adds of one forward pass. */
double uf_conv_macs(const uf_conv_dims *d);

/* x: (C, N, H, W), w: (K, C, ks, ks) -> y: (K, N, Ho, Wo) */
int uf_conv_forward(const uf_conv_dims *d, const float *w, const float *x, float *y, uf_ws *ws, uf_err *e);

/* dy: (K, N, Ho, Wo) -> dw: (K, C, ks, ks) accumulated (+=), and, when dx is
 * not NULL, dx: (C, N, H, W), overwritten or (dx_accumulate) added to. */
int uf_conv_backward(const uf_conv_dims *d, const float *w, const float *x, const float *dy, float *dw, float *dx,
                     int dx_accumulate, uf_ws *ws, uf_err *e);

#endif
