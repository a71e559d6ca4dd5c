/* Softmax cross-entropy, mean over the batch, as torch.nn.CrossEntropyLoss
 * with class-index targets or with probability targets (pseudo-labels,
 * Co-Tuning). The loss is returned in double; with dlogits not NULL its
 * gradient times `scale` (a loss weight) is written there. */
#ifndef UF_NN_LOSS_H
#define UF_NN_LOSS_H

#include "core/err.h"

// logits: (N, K), labels: (N) in [0, K) -> loss; dlogits: (N, K)
int uf_xent_hard(int n, int k, const float *logits, const int *labels, float scale, float *dlogits, double *loss,
                 uf_err *e);

// logits: (N, K), targets: (N, K) -> loss = mean_n -sum_k t log softmax; dlogits: (N, K)
double uf_xent_soft(int n, int k, const float *logits, const float *targets, float scale, float *dlogits);

/* MoCo's InfoNCE: q = z / |z| row by row, logits [q . kpos, q queue^T] / t, cross-entropy with the
 * positive key as class 0 (uf_xent_hard on the logits); dz is the gradient with respect to z. */
// z: (N, D), kpos: (N, D), queue: (K, D), keys of unit length -> loss; dz: (N, D)
int uf_infonce(int n, int d, int k, const float *z, const float *kpos, const float *queue, double t, float scale,
               float *dz, double *loss, uf_err *e);

#endif
