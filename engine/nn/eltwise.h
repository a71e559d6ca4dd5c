/* Element-wise ReLU and the NCHW <-> CNHW layout change at the model's edges. */
#ifndef UF_NN_ELTWISE_H
#define UF_NN_ELTWISE_H

#include <stddef.h>

void uf_relu_forward(float *x, size_t n);
/* d[i] = 0 where out[i] <= 0 (out: the ReLU's output) */
void uf_relu_backward(float *d, const float *out, size_t n);

// x: (A, B, S) -> y: (B, A, S); swaps the first two axes (NCHW <-> CNHW with S = H*W)
void uf_swap01(int a, int b, size_t s, const float *x, float *y);

#endif
