/* BatchNorm2d with PyTorch's semantics, on channel-major activations
 * (C, M) with M = N*H*W contiguous per channel. Training: batch mean and
 * biased variance normalise; the running mean and the unbiased variance
 * update with momentum 0.1. Eval: running statistics. eps 1e-5.
 * The forward fuses an optional residual add and ReLU, so a block's tail
 * (bn -> + identity -> relu) is one pass over memory. */
#ifndef UF_NN_BNORM_H
#define UF_NN_BNORM_H

#include <stddef.h>

#define UF_BN_EPS 1e-5
#define UF_BN_MOMENTUM 0.1

typedef struct uf_bn {
    int c;
    size_t m;                /* elements per channel: N*H*W */
    int train;               /* batch statistics (1) or running statistics (0) */
    const float *gamma, *beta;
    float *rmean, *rvar;     /* running statistics, updated in training */
    float *mean, *invstd;    /* (C) statistics the last forward normalised with */
} uf_bn;

// y: (C, M) -> out: (C, M) = [relu](gamma (y - mean) invstd + beta [+ add]); out may alias y or add
void uf_bn_forward(const uf_bn *b, const float *y, const float *add, int relu, float *out);

/* dout: (C, M) gradient of out; with relu, out is the forward's output (its
 * mask gates dout). -> dy: (C, M) (may alias dout); dgamma, dbeta: (C) += */
void uf_bn_backward(const uf_bn *b, const float *y, const float *out, int relu, const float *dout, float *dy,
                    float *dgamma, float *dbeta);

#endif
