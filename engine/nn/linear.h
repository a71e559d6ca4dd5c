/* Fully connected layer, torch.nn.Linear: y = x W^T + b. */
#ifndef UF_NN_LINEAR_H
#define UF_NN_LINEAR_H

// x: (N, F), w: (K, F), b: (K) -> y: (N, K)
void uf_linear_forward(int n, int f, int k, const float *x, const float *w, const float *b, float *y);

/* dy: (N, K) -> dw: (K, F) +=, db: (K) +=, and when dx is not NULL
 * dx: (N, F) overwritten or (dx_accumulate) added to. */
void uf_linear_backward(int n, int f, int k, const float *x, const float *w, const float *dy, float *dw, float *db,
                        float *dx, int dx_accumulate);

#endif
