/* Pre-training a backbone on a data set split (the mini world's pool):
 * supervised cross-entropy, or MoCo v2 without labels (train/moco.h).
 *
 * Steps per epoch = floor(rows / batch) (the last partial batch is dropped,
 * as MoCo's loader does); the learning rate follows a cosine over all steps;
 * SGD with momentum. Views: RandomResizedCrop(size, scale [scale_min, 1]),
 * no flips (a mirrored glyph is another character), optionally RandAugment
 * (the loader's strong view); MoCo's two views come from two loaders that
 * differ only in their view seed.
 *
 * The run folder (NAME.state.ckpt, NAME.log.tsv with one loss per step,
 * NAME.ckpt), resuming and progress are train/trainer.h's; MoCo keeps its key
 * encoder and queue as the state's extra tables. */
#ifndef UF_TRAIN_PRETRAIN_H
#define UF_TRAIN_PRETRAIN_H

#include <stdint.h>

#include "core/err.h"
#include "moco.h"
#include "trainer.h"

typedef enum uf_pretrain_method { UF_PRETRAIN_SUPERVISED, UF_PRETRAIN_MOCO } uf_pretrain_method;

typedef struct uf_pretrain_cfg {
    uf_pretrain_method method;
    char arch[64];
    char data_set[32];     /* uf_dataset_list name, e.g. mini-pool */
    const char *data_root; /* its folder, e.g. data/mini */
    int size, epochs, batch;
    double lr, momentum, weight_decay;
    int nesterov;
    double scale_min;      /* RandomResizedCrop's smallest area fraction */
    int strong;            /* RandAugment(2, 10) + cutout on top of the crop */
    double jitter;         /* brightness and contrast jitter (loader.h), 0: none */
    uint64_t seed;
    uf_moco_cfg moco;
    /* run control: not settings (a resumed run may change them) */
    int loader_threads;
    int ckpt_every;        /* steps between state checkpoints (0: at epoch ends only) */
    int64_t stop_after;    /* stop with a state checkpoint once this many steps are done; 0: run to the end */
    void (*progress)(void *ctx, const uf_train_progress *p);
    void *progress_ctx;
} uf_pretrain_cfg;

/* The mini tier's settings for each method (see the .c file for why). */
void uf_pretrain_defaults(uf_pretrain_cfg *c, uf_pretrain_method method);

/* The settings as one line of text (the checkpoints' note). */
void uf_pretrain_note(const uf_pretrain_cfg *c, char *buf, size_t n);

/* Trains (or resumes) into dir as NAME; *finished is 1 when NAME.ckpt was
 * written (or already there), 0 when the run stopped at stop_after. */
int uf_pretrain(const uf_pretrain_cfg *c, const char *dir, const char *name, int *finished, uf_err *e);

#endif
