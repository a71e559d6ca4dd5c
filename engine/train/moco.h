/* MoCo v2 (He et al. 2020, Chen et al. 2020) on one device: a query encoder
 * trained by SGD, a key encoder that follows it by momentum, a queue of past
 * keys as negatives, InfoNCE with a temperature, and the 128-d MLP head on the
 * pooled feature. One step does what the official moco/builder.py forward
 * plus the optimiser step do, in that order:
 *   1. key encoder <- m key + (1 - m) query (every parameter, not the BN buffers)
 *   2. keys = normalise(key encoder(x_k)), BatchNorm shuffled: the batch is
 *      permuted and run in `groups` sub-batches, as on `groups` GPUs
 *   3. queries through the query encoder in the same `groups` (unshuffled),
 *      InfoNCE against the positive key and the queue
 *   4. the queue's oldest rows <- keys
 *   5. backward and one SGD step on the query encoder.
 * The queue pointer after s steps of batch n is (s n) mod K: every step
 * enqueues a full batch (K must be a multiple of it, as in MoCo). */
#ifndef UF_TRAIN_MOCO_H
#define UF_TRAIN_MOCO_H

#include <stdint.h>

#include "nn/resnet.h"
#include "nn/sgd.h"

typedef struct uf_moco_cfg {
    int dim;          /* head output, 128 */
    int queue;        /* K, 65536 in MoCo; a multiple of the batch */
    double m;         /* key momentum, 0.999 */
    double t;         /* temperature, 0.2 in MoCo v2 */
    int groups;       /* BatchNorm sub-batches (MoCo's GPUs); 1: one BN over the batch */
} uf_moco_cfg;

typedef struct uf_moco {
    uf_moco_cfg c;
    uf_model q, k;    /* encoders with the head "fc": Linear(F, F) -> ReLU -> Linear(F, dim) */
    uf_params queue;  /* one tensor "queue" (K, dim), unit rows */
    float *xbuf, *keys, *dz; /* a key sub-batch's images, the keys (n, dim), the head gradient */
    int *perm;
    size_t cap;       /* rows the buffers hold */
    int cap_hw;
} uf_moco;

int uf_moco_create(uf_moco *mc, const uf_arch *a, const uf_moco_cfg *c, uf_err *e);
void uf_moco_free(uf_moco *mc);
/* Query encoder by torchvision's init keyed by seed, key encoder a copy of it
 * (running statistics included), queue rows normal draws normalised. */
void uf_moco_init(uf_moco *mc, uint64_t seed);

/* One training step on n images of each view (xq, xk: (n, 3, h, w)) with the
 * learning rates already in opt; step: steps taken before this one (it keys
 * the BN shuffle with seed and places the keys in the queue). */
int uf_moco_step(uf_moco *mc, uf_sgd *opt, const float *xq, const float *xk, int n, int h, int w, uint64_t seed,
                 int64_t step, double *loss, uf_err *e);

#endif
