/* ResNets as torchvision builds them (BasicBlock / Bottleneck with the stride
 * on the 3x3 conv, 1x1-conv + BN downsample), with parameter names equal to
 * torchvision's state_dict keys, plus linear heads (or the MoCo v2 MLP head)
 * on the pooled feature, and a small variant for 32 x 32 inputs.
 *
 * Architecture names:
 *   resnet18 resnet34 resnet50 resnet101   torchvision's (7x7/2 stem + max pool)
 *   small:W1,W2,..:B1,B2,..[:bottleneck]   3x3/1 stem of width W1, no max pool,
 *                                          stage i has width Wi and Bi blocks,
 *                                          stride 2 from the second stage on
 *
 * Activations are kept channel-major, (C, N, H, W), inside the model; the
 * input is NCHW and the outputs (pooled feature, head outputs) are (N, D). */
#ifndef UF_NN_RESNET_H
#define UF_NN_RESNET_H

#include <stdint.h>

#include "bnorm.h"
#include "conv.h"
#include "params.h"

#define UF_MAX_STAGES 8
#define UF_MAX_CONVS 256
#define UF_MAX_BLOCKS 64
#define UF_MAX_HEADS 8

typedef struct uf_arch {
    char name[64];
    int bottleneck;   /* 0 BasicBlock (expansion 1), 1 Bottleneck (expansion 4) */
    int small_stem;   /* 3x3 stride-1 stem without max pool */
    int stages;
    int width[UF_MAX_STAGES], blocks[UF_MAX_STAGES];
} uf_arch;

int uf_arch_parse(const char *s, uf_arch *a, uf_err *e);
/* Width of the pooled feature. */
int uf_arch_feature_dim(const uf_arch *a);

typedef enum uf_head_kind { UF_HEAD_LINEAR, UF_HEAD_MLP } uf_head_kind;

/* A head on the pooled feature: "name.weight/.bias" (linear) or MoCo v2's
 * "name.0.*" Linear(F, F) -> ReLU -> "name.2.*" Linear(F, out). */
typedef struct uf_head_spec {
    char name[32];
    int out;
    uf_head_kind kind;
} uf_head_spec;

typedef struct uf_conv_layer {
    int w;                   /* parameter index */
    int cin, cout, ks, stride, pad;
    uf_conv_dims d;          /* for the planned input size */
} uf_conv_layer;

typedef struct uf_bn_layer {
    int gamma, beta, rmean, rvar; /* parameter / buffer indices */
    uf_bn bn;
} uf_bn_layer;

typedef struct uf_block {
    int nconv;                    /* 2 (basic) or 3 (bottleneck) */
    int conv[3], bn[3], ds_conv, ds_bn; /* ds: -1 without downsample */
    size_t x, y[3], r[2], yd, zd, out;  /* activation offsets in the arena */
} uf_block;

typedef struct uf_head {
    uf_head_spec s;
    int w0, b0, w2, b2;           /* linear: w0, b0 only */
    size_t hidden, out;           /* arena offsets */
} uf_head;

typedef struct uf_model {
    uf_arch arch;
    uf_params p;                  /* parameters, gradients, momentum */
    uf_params buf;                /* BatchNorm running statistics */
    int nconv, nbn, nblock, nhead, feat_dim;
    uf_conv_layer conv[UF_MAX_CONVS];
    uf_bn_layer bn[UF_MAX_CONVS];
    uf_block block[UF_MAX_BLOCKS];
    uf_head head[UF_MAX_HEADS];
    float *stats;                 /* per-BN mean and invstd of the last forward */
    uf_ws ws;
    /* plan for the current input size */
    int n, h, w, keep;
    size_t xin, y0, r0, p0, feat, actmax, arena_cap;
    float *arena;
    float *grad[3], *dfeat, *dhidden; /* dhidden: an MLP head's hidden gradient */
    size_t grad_cap;
    uint8_t *poolarg;             /* the stem max pool's arg-max offsets, kept for backward */
    size_t poolarg_cap;
    int train, have_acts;         /* the last forward's mode; it kept activations */
} uf_model;

/* Builds the parameter table (torchvision order and names) and allocates it;
 * weights are zero until uf_model_init_weights or a load. */
int uf_model_create(uf_model *m, const uf_arch *a, const uf_head_spec *heads, int nheads, uf_err *e);
void uf_model_free(uf_model *m);
/* torchvision's initialisation: conv kaiming_normal(fan_out, relu), BN 1/0,
 * Linear U(-1/sqrt(fan_in), 1/sqrt(fan_in)); draws keyed by (seed, tensor). */
void uf_model_init_weights(uf_model *m, uint64_t seed);
/* Re-initialises one head's tensors only (a new classifier on loaded weights). */
void uf_model_init_head(uf_model *m, int head, uint64_t seed);
int uf_model_head_find(const uf_model *m, const char *name);

/* x: (N, 3, H, W) float32 -> features (N, F) and every head's output (N, out).
 * train: BatchNorm uses (and updates) batch statistics; grad: keep what
 * uf_model_backward needs (otherwise activations share a few buffers). */
int uf_model_forward(uf_model *m, const float *x, int n, int h, int w, int train, int grad, uf_err *e);
const float *uf_model_features(const uf_model *m);
const float *uf_model_head_out(const uf_model *m, int head);

/* dlogits[h]: (N, out_h) gradient of the loss for head h, or NULL; adds the
 * gradients of every parameter to m->p.g (call uf_params_zero_grad first). */
int uf_model_backward(uf_model *m, const float *const *dlogits, uf_err *e);

/* Floating-point operations (2 per multiply-add) of the convolutions and
 * linear layers for the planned batch: forward, or forward + backward. */
double uf_model_flops(const uf_model *m, int train);

#endif
