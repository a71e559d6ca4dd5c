/* Fine-tuning a pre-trained backbone on a target data set, alone or while also
 * training on a selected source subset: the paper's recipes (SPEC section 4)
 * and Co-Tuning, each a step function over train/trainer.h's loop.
 *
 *   finetune    CE(target head, y_t) on target images only
 *   labelled    eq. 6: one forward over [target B, source mu*B], BatchNorm over
 *               the joint batch; CE_t + lambda * CE(source head, y_s) with a
 *               source head (as many outputs as source classes) from scratch
 *   unlabelled  eq. 7: one forward over [target, weak source view, strong
 *               source view], one head; p = softmax(weak logits) held fixed
 *               (no threshold, no temperature); CE_t + lambda * soft-CE(strong, p)
 *   cotuning    You et al. 2020: p(y_s | y_t) by the direct approach (the mean
 *               of the pre-trained classifier's softmax over each target class's
 *               training images, eval mode, test view), cached as
 *               relation.npy; the source head is the pre-trained classifier
 *               `fc`, trained at the backbone's rate; CE_t + lambda *
 *               soft-CE(source head on target images, p(. | y_t)), lambda 2.3
 *
 * All: heads N(0, sqrt(2/2048)) with bias 0 (the official code's), SGD with
 * Nesterov momentum, weight decay on every tensor, heads (but Co-Tuning's
 * source head) at head_lr_mult x the backbone's rate, the rate x0.1 after
 * 60% and 80% of the epochs; an epoch is floor(target rows / B) steps (drop
 * last); source batches come from an endless shuffled stream of the subset.
 * Evaluation (top-1, eval view, target head) after epochs 0, eval_every,
 * 2 eval_every, ... and the last; the primary number is the last one's, the
 * best of them is what the official code prints (it selects on the test set).
 * With val_fraction > 0 a seeded per-class part of the training rows is held
 * out and evaluated instead of the test split (for choosing hyper-parameters).
 *
 * Run folder DIR: NAME.state.ckpt / NAME.log.tsv / NAME.ckpt (trainer.h; log
 * values loss, loss_target, loss_source), settings.txt (the settings note),
 * eval.tsv (epoch, top1, correct, images), result.tsv (key, value), and for
 * Co-Tuning relation.npy. A killed run resumes to the bit-identical result.
 *
 * Data parallelism (core/dist.h; `mpirun -np P uotft finetune`), as the official code's 4 GPUs under
 * DistributedDataParallel without SyncBN: rank r trains on the r-th contiguous share of each step's
 * target rows and of its source rows (B and mu*B divisible by P), BatchNorm over its share, the
 * gradients averaged over the ranks (the loss is the global batch's mean) and the same SGD step
 * everywhere; rank 0's running statistics are broadcast after each step. The global batch holds the
 * rows one process would draw. Rank 0 alone writes the run folder and evaluates; every rank resumes
 * from its state file. bn_groups G > 1 in one process computes the same thing in turn (ghost
 * BatchNorm, the running statistics group 0's): the single-process reference of a P = G run. */
#ifndef UF_TRAIN_FINETUNE_H
#define UF_TRAIN_FINETUNE_H

#include <stdint.h>

#include "core/err.h"
#include "trainer.h"

typedef enum uf_recipe { UF_RECIPE_FINETUNE, UF_RECIPE_LABELLED, UF_RECIPE_UNLABELLED, UF_RECIPE_COTUNING } uf_recipe;

extern const char *const uf_recipe_names[4];
int uf_recipe_parse(const char *s, uf_recipe *r);

typedef struct uf_finetune_cfg {
    uf_recipe recipe;
    const char *backbone;      /* uotft checkpoint, or a torchvision / MoCo .pth with arch */
    char arch[64];             /* for a .pth */
    char target[32];           /* uf_dataset_list names and roots */
    const char *target_root;
    char source[32];
    const char *source_root;
    const char *select;        /* selection .tsv (uotft select): the source subset */
    int top;                   /* its first rows (0: all) */
    const char *assign;        /* .npy of k-means clusters per source row: the selection names clusters */
    double source_fraction;    /* of every source class (1: all) */
    double target_fraction;    /* of every target class (1: all) */
    double longtail;           /* Pareto long tail of the target with this largest / smallest (0: none) */
    double val_fraction;       /* > 0: hold out this part of every class and evaluate it, not the test split */
    int size, epochs, batch, source_batch, eval_every, eval_batch;
    double lr, head_lr_mult, momentum, weight_decay, lambda, scale_min;
    int nesterov, no_flip;
    int bn_groups;             /* > 1: ghost BatchNorm, the joint batch cut as that many MPI ranks cut it */
    uint64_t seed;
    /* run control: not settings */
    const char *dump;          /* folder for the oracle: init.pth, each step's inputs, final.pth */
    int loader_threads, ckpt_every;
    int64_t stop_after;
    int keep_model;            /* 0: model.ckpt removed once result.tsv is written */
    int find_only;             /* 1: a finished run's result, or an error: never trains */
    void (*progress)(void *ctx, const uf_train_progress *p);
    void *progress_ctx;
} uf_finetune_cfg;

typedef struct uf_finetune_result {
    double final_top1, best_top1; /* percent */
    int best_epoch, epochs;
    int64_t steps;
    double seconds;               /* this invocation's wall time */
    int finished;                 /* 0: stopped at stop_after */
} uf_finetune_result;

/* The settings by name, for the command line (--name) and manifests (name with '_' for '-'). */
typedef enum uf_ft_type { UF_FT_INT, UF_FT_I64, UF_FT_DOUBLE, UF_FT_PATH, UF_FT_NAME } uf_ft_type;
typedef struct uf_ft_setting {
    const char *name;
    uf_ft_type type;
    size_t offset, size; /* of the field in uf_finetune_cfg */
    double lo, hi;       /* numbers: the accepted range */
} uf_ft_setting;
#define UF_FINETUNE_MAX_SETTINGS 48
extern const uf_ft_setting uf_finetune_settings[];
extern const int uf_finetune_nsettings;
/* Parses value into c's field; a path is kept as the pointer given, so it must outlive c. */
int uf_finetune_set(uf_finetune_cfg *c, const uf_ft_setting *s, const char *value, uf_err *e);

/* The paper's settings (SPEC 4), for a recipe. */
void uf_finetune_defaults(uf_finetune_cfg *c, uf_recipe r);

/* The settings as one line (the run's checkpoint note and settings.txt): every setting, the sha256
 * of the backbone and selection files, and " threads=N" last. */
int uf_finetune_note(const uf_finetune_cfg *c, char *buf, size_t n, uf_err *e);

/* Fine-tunes (or resumes, or finds finished) into dir; writes result.tsv at the end. */
int uf_finetune(const uf_finetune_cfg *c, const char *dir, uf_finetune_result *res, uf_err *e);

/* Seconds per labelled step (forward over the joint batch, both losses, backward, SGD), the run's own
 * step code on random images: c->arch, size, batch, source_batch and the optimiser settings; `steps`
 * timed after one warm-up. */
int uf_finetune_bench(const uf_finetune_cfg *c, int target_classes, int source_classes, int steps, double *sec,
                      uf_err *e);

#endif
