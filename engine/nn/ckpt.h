/* The engine's own checkpoint: model, optimiser state, step and the
 * trainer's RNG counters, so a killed run resumes to the bit-identical result.
 *
 * Layout (little-endian), version 1:
 *   "UOTFTCKP"  u32 version  u32 0  u64 payload bytes  64 hex digits: sha256 of the payload
 *   payload: architecture name; heads (name, outputs, kind); train state;
 *            SGD settings and step count; the parameter and running-statistic
 *            tables (name, shape, decay flag, group, float32 values); the
 *            momentum buffers when the optimiser has taken a step.
 * Written under a temporary name and renamed. Loading checks the magic, the
 * version, the size, the checksum, and every tensor's name and shape against
 * the model (a mismatch names the tensor, both shapes and the file). */
#ifndef UF_NN_CKPT_H
#define UF_NN_CKPT_H

#include <stdint.h>

#include "resnet.h"
#include "sgd.h"

#define UF_CKPT_MAGIC "UOTFTCKP"
#define UF_CKPT_VERSION 1

/* What the trainer needs besides model and optimiser: its counters and the
 * positions of its counter-based random streams. */
typedef struct uf_train_state {
    int64_t step, epoch;
    uint64_t seed;
    uint64_t rng[4];
} uf_train_state;

int uf_ckpt_save(const char *path, const uf_model *m, const uf_sgd *opt, const uf_train_state *ts, uf_err *e);

/* Architecture and heads stored in a checkpoint, to build the model it fits. */
int uf_ckpt_read_arch(const char *path, uf_arch *a, uf_head_spec *heads, int *nheads, uf_err *e);

/* Fills m (built with the stored architecture and heads) and, when not NULL,
 * the optimiser and the train state. */
int uf_ckpt_load(const char *path, uf_model *m, uf_sgd *opt, uf_train_state *ts, uf_err *e);

/* 1 when the file starts with the checkpoint magic. */
int uf_ckpt_is(const char *path);

#endif
