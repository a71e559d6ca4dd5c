/* SGD exactly as torch.optim.SGD (foreach off, as on CPU), per parameter:
 *   d = g + wd * w                       (wd: the group's weight decay, 0 where the tensor's flag is off)
 *   b = d on the first step, else b = momentum * b + (1 - dampening) * d
 *   d = d + momentum * b  (Nesterov)  or  d = b
 *   w = w - lr * d                       (lr: the group's learning rate)
 * Weight decay thus enters the momentum buffer, as in torch. Learning-rate
 * groups are the descriptor table's `group` (0 backbone, 1 heads at 10x). */
#ifndef UF_NN_SGD_H
#define UF_NN_SGD_H

#include <stdint.h>

#include "params.h"

#define UF_SGD_GROUPS 4

typedef struct uf_sgd {
    double momentum, dampening;
    int nesterov;
    double lr[UF_SGD_GROUPS], weight_decay[UF_SGD_GROUPS];
    int64_t steps; /* steps taken; the momentum buffers exist once it is positive */
} uf_sgd;

void uf_sgd_step(uf_sgd *o, uf_params *p);

/* torch.optim.lr_scheduler.MultiStepLR: base * gamma^(number of milestones <= epoch). */
double uf_multistep_lr(double base, int epoch, const int *milestones, int n, double gamma);

/* torch.optim.lr_scheduler.CosineAnnealingLR with eta_min 0, stepped per iteration: t of total. */
double uf_cosine_lr(double base, int64_t t, int64_t total);

#endif
