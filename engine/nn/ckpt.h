/* The engine's own checkpoint: model, optimiser state, step and the
 * trainer's RNG counters, so a killed run resumes to the bit-identical result.
 *
 * Layout (little-endian), version 2:
 *   "UOTFTCKP"  u32 version  u32 0  u64 payload bytes  64 hex digits: sha256 of the payload
 *   payload: architecture name; heads (name, outputs, kind); train state;
 *            SGD settings and step count; the parameter and running-statistic
 *            tables (name, shape, decay flag, group, float32 values); the
 *            momentum buffers when the optimiser has taken a step;
 *            (version 2) the trainer's note and its extra tables.
 * Written under a temporary name and renamed, so model, optimiser and extras
 * always belong to the same step. Loading checks the magic, the version (1 or
 * 2), the size, the checksum, and every tensor's name and shape against the
 * model (a mismatch names the tensor, both shapes and the file). */
#ifndef UF_NN_CKPT_H
#define UF_NN_CKPT_H

#include <stdint.h>

#include "resnet.h"
#include "sgd.h"

#define UF_CKPT_MAGIC "UOTFTCKP"
#define UF_CKPT_VERSION 2
#define UF_CKPT_MAX_EXTRA 4

/* What the trainer needs besides model and optimiser: its counters and the
 * positions of its counter-based random streams. */
typedef struct uf_train_state {
    int64_t step, epoch;
    uint64_t seed;
    uint64_t rng[4];
} uf_train_state;

/* What a trainer keeps beside its model: its settings as text (compared on
 * resume) and further tensor tables, e.g. MoCo's key encoder and queue. */
typedef struct uf_ckpt_extra {
    char note[1024];
    int ntables;
    uf_params *tables[UF_CKPT_MAX_EXTRA];
} uf_ckpt_extra;

int uf_ckpt_save(const char *path, const uf_model *m, const uf_sgd *opt, const uf_train_state *ts, uf_err *e);
/* The same with the extras (NULL: none). */
int uf_ckpt_save_ex(const char *path, const uf_model *m, const uf_sgd *opt, const uf_train_state *ts,
                    const uf_ckpt_extra *x, uf_err *e);

/* Architecture and heads stored in a checkpoint, to build the model it fits. */
int uf_ckpt_read_arch(const char *path, uf_arch *a, uf_head_spec *heads, int *nheads, uf_err *e);

/* Fills m (built with the stored architecture and heads) and, when not NULL,
 * the optimiser and the train state. */
int uf_ckpt_load(const char *path, uf_model *m, uf_sgd *opt, uf_train_state *ts, uf_err *e);
/* The same with the extras: x->note is read, and the file must hold exactly
 * x->ntables tables of the names and shapes of x->tables, which are filled.
 * x NULL (and uf_ckpt_load) skips the extras. */
int uf_ckpt_load_ex(const char *path, uf_model *m, uf_sgd *opt, uf_train_state *ts, uf_ckpt_extra *x, uf_err *e);

/* Creates m with the stored architecture and heads and fills it (no optimiser). */
int uf_ckpt_load_model(const char *path, uf_model *m, uf_err *e);

/* 1 when the file starts with the checkpoint magic. */
int uf_ckpt_is(const char *path);

#endif
