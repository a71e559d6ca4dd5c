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
 * Files in the output folder, for a run called NAME:
 *   NAME.state.ckpt  the whole training state (nn/ckpt.h with the settings as
 *                    its note; MoCo adds the key encoder and the queue as
 *                    extra tables), every ckpt_every steps and at epoch ends
 *   NAME.log.tsv     one row per step: step, epoch, lr, loss, and `params`, a
 *                    hash of the parameters and running statistics at steps
 *                    1, 2, 4, 8, ... and the last (written with each state)
 *   NAME.ckpt        the trained model alone (no optimiser state), at the end;
 *                    the state file is then removed
 * A run finds NAME.state.ckpt and continues from it: the settings must be the
 * same (the thread count included: it changes float sums), and the log is cut
 * back to the checkpoint's step, so a killed run ends bit-identical to one that
 * was never interrupted. With NAME.ckpt present and made with the same
 * settings, there is nothing to do. */
#ifndef UF_TRAIN_PRETRAIN_H
#define UF_TRAIN_PRETRAIN_H

#include <stdint.h>

#include "core/err.h"
#include "moco.h"

typedef enum uf_pretrain_method { UF_PRETRAIN_SUPERVISED, UF_PRETRAIN_MOCO } uf_pretrain_method;

typedef struct uf_pretrain_progress {
    int64_t step, total;   /* steps done, of all */
    int epoch, epochs;     /* the current epoch (from 0) */
    double loss, lr;       /* of the last step */
    double elapsed, eta;   /* seconds: this session, and the rest at its pace */
    double images_per_s;   /* this session (MoCo: query images) */
    int done;              /* the last call */
} uf_pretrain_progress;

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
    void (*progress)(void *ctx, const uf_pretrain_progress *p);
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
