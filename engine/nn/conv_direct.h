/* Direct convolution with AVX-512 for same-size stride-1 convs (the 3x3 convs
 * of a ResNet that keep the map's size) and stride-2 convs of kernel size 3 or
 * more (the 3x3 ones and the 7x7 stem; their input split into its four
 * phases, row and column parity), on the engine's (C, N, H, W) activations:
 * an implicit GEMM that reads each tap's shifted input straight from the
 * activation through per-tap padding bit masks, so there is no im2col copy
 * and no GEMM packing of the activations. Selected at run time with
 * UOTFT_CONV=direct on a CPU with AVX-512F; otherwise (and for every other
 * conv) the im2col + OpenBLAS path runs. Results for a given thread count are
 * bit-identical run to run; they differ from the im2col path's by float
 * rounding only. */
#ifndef UF_NN_CONV_DIRECT_H
#define UF_NN_CONV_DIRECT_H

#include "conv.h"

/* 1 unless UOTFT_CONV=im2col, when the CPU has AVX-512F and d has one of the shapes above */
int uf_conv_direct_ok(const uf_conv_dims *d);
/* "direct" or "im2col": the path this process takes for the shapes above. Products stamped with it
 * (the mini tier's features) are remade when it changes, since the two round differently. */
const char *uf_conv_path(void);

/* x: (C, N, H, W), w: (K, C, ks, ks) -> y: (K, N, Ho, Wo) = conv(x) + beta y */
int uf_conv_direct_forward(const uf_conv_dims *d, const float *w, const float *x, float *y, float beta, uf_ws *ws,
                           uf_err *e);

/* dy: (K, N, Ho, Wo) -> dx: (C, N, H, W), overwritten or (accumulate) added to */
int uf_conv_direct_dgrad(const uf_conv_dims *d, const float *w, const float *dy, float *dx, int accumulate, uf_ws *ws,
                         uf_err *e);

/* x: (C, N, H, W), dy: (K, N, Ho, Wo) -> dw: (K, C, ks, ks) += the weight gradient */
int uf_conv_direct_wgrad(const uf_conv_dims *d, const float *x, const float *dy, float *dw, uf_ws *ws, uf_err *e);

#endif
