/* The data of a fine-tuning run (train/finetune.h): the target's training rows
 * (long tail, fraction, validation split), the rows it is evaluated on, the
 * selected source subset, and the loaders over them. Every choice is a
 * function of the settings and the seed. */
#ifndef UF_TRAIN_FTDATA_H
#define UF_TRAIN_FTDATA_H

#include "data/loader.h"
#include "data/rows.h"
#include "finetune.h"

typedef struct uf_ftdata {
    uf_dataset target, test, source; /* test: the test split (unused with a validation split) */
    int have[3];
    uf_rows train, eval, src;        /* eval: rows of `test`, or the held-out rows of `target` */
    const uf_dataset *eval_ds;
    int source_classes;              /* outputs of a labelled source head */
} uf_ftdata;

int uf_ftdata_open(uf_ftdata *d, const uf_finetune_cfg *c, uf_err *e);
void uf_ftdata_free(uf_ftdata *d);

/* Loaders: the target's training view (batch B), and the source's weak (view 1) and strong (view 2)
 * views of the same rows in the same order (batch mu*B). parts > 1: only the part-th contiguous
 * share of every batch (an MPI rank's; uf_loader_cfg.parts). */
int uf_ftdata_target_loader(const uf_ftdata *d, const uf_finetune_cfg *c, int parts, int part, uf_loader **L,
                            uf_err *e);
int uf_ftdata_source_loader(const uf_ftdata *d, const uf_finetune_cfg *c, int strong, int parts, int part,
                            uf_loader **L, uf_err *e);

#endif
