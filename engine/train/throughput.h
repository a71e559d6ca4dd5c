/* How fast this machine trains and runs a network: what `uotft bench` prints beside PyTorch's
 * numbers, and what `uotft run --plan` turns into core-hours. */
#ifndef UF_TRAIN_THROUGHPUT_H
#define UF_TRAIN_THROUGHPUT_H

#include "core/err.h"
#include "nn/resnet.h"

typedef struct uf_throughput {
    double images_per_s; /* at uf_threads() threads */
    double gflops;       /* 2 per multiply-add (uf_model_flops) */
    long params;         /* floats of the model's parameters (its checkpoint holds them and their momentum) */
} uf_throughput;

/* Times `steps` steps after one warm-up on random images of size x size, a fresh model with a
 * 1000-class head: train = forward (BatchNorm in train mode), cross-entropy, backward and an SGD
 * step (momentum 0.9, Nesterov, weight decay 1e-4); else the eval-mode forward. */
int uf_measure_throughput(const uf_arch *a, int train, int batch, int size, int steps, uf_throughput *out,
                          uf_err *e);

/* GFLOP/s of a 2048^3 OpenBLAS sgemm, best of 3 (0 when short of memory). */
double uf_sgemm_gflops(void);

/* The cores' float32 multiply-add ceiling in GFLOP/s at uf_threads() threads: every thread
 * runs 24 independent FMA chains in the widest vectors the CPU has (AVX-512F, else AVX2 +
 * FMA), best of 3; 0 on other CPUs. OpenBLAS's sgemm on this machine runs AVX2 kernels
 * (OPENBLAS_CORETYPE), so on an AVX-512 CPU its rate is about half of this one. */
double uf_fma_peak_gflops(void);

#endif
