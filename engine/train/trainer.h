/* One training loop for every trainer (pre-training, fine-tuning): the run
 * folder, the settings checked on resume, the step log with parameter hashes,
 * state checkpoints, the final model and progress. A trainer supplies its own
 * step (forward / zero_grad / backward / update, llm.c's shape) and, where it
 * needs them, hooks at the start and end of each epoch; everything around
 * them is here, once.
 *
 * Files in the run folder, for a run called NAME:
 *   NAME.state.ckpt  the whole training state (nn/ckpt.h, the settings as its
 *                    note, the trainer's extra tables), every ckpt_every steps
 *                    and at epoch ends
 *   NAME.log.tsv     one row per step: step, epoch, lr, the step's values
 *                    (loss, loss parts), and `params`, a hash of the parameters
 *                    and running statistics at steps 1, 2, 4, 8, ... and the
 *                    last (written with each state)
 *   NAME.ckpt        the trained model alone (no optimiser state), at the end;
 *                    the state file is then removed
 * A run that finds NAME.state.ckpt continues from it: the settings must be the
 * same (the thread count included: it changes float sums), and the log is cut
 * back to the checkpoint's step, so a killed run ends bit-identical to one
 * that was never interrupted. With NAME.ckpt present and made with the same
 * settings (on any thread count) there is nothing to do. */
#ifndef UF_TRAIN_TRAINER_H
#define UF_TRAIN_TRAINER_H

#include <stdint.h>

#include "core/err.h"
#include "nn/ckpt.h"

#define UF_TRAINER_VALUES 4

typedef struct uf_train_progress {
    int64_t step, total;   /* steps done, of all */
    int epoch, epochs;     /* the current epoch (from 0) */
    double loss, lr;       /* of the last step (loss: its first value) */
    double elapsed, eta;   /* seconds: this session, and the rest at its pace */
    double images_per_s;   /* this session */
    int done;              /* the last call */
} uf_train_progress;

/* What a trainer plugs into the loop. ctx is the trainer's own state. */
typedef struct uf_trainer_ops {
    /* Before the first step of `epoch` this session runs, which is batch `first` of it (0 unless
     * resumed mid-epoch): start the loaders there. */
    int (*begin_epoch)(void *ctx, int epoch, int first, uf_err *e);
    /* One optimisation step, the run's `step`-th (from 0) in `epoch`: sets the learning rates,
     * trains, and returns the learning rate to log and the step's values. */
    int (*step)(void *ctx, int64_t step, int epoch, double *lr, double *values, uf_err *e);
    /* After the last step of `epoch`, before its state is saved (fine-tuning evaluates here); NULL: none. */
    int (*end_epoch)(void *ctx, int epoch, uf_err *e);
} uf_trainer_ops;

typedef struct uf_trainer_cfg {
    const char *dir, *name;
    char note[1024];       /* the settings as one line, ending " threads=N" (uf_trainer_note_threads) */
    int epochs;
    int64_t steps_per_epoch;
    int images_per_step;   /* for progress */
    int nvalues;           /* values per step, 1..UF_TRAINER_VALUES */
    const char *value_names[UF_TRAINER_VALUES]; /* their log columns, e.g. "loss" */
    int ntables;           /* extra tensor tables kept in the state (MoCo's key encoder, queue) */
    uf_params *tables[UF_CKPT_MAX_EXTRA];
    /* run control: not settings (a resumed run may change them) */
    int ckpt_every;        /* steps between state checkpoints (0: at epoch ends only) */
    int64_t stop_after;    /* stop with a state checkpoint once this many steps are done; 0: run to the end */
    int no_final;          /* 1: no NAME.ckpt at the end (the caller records a finished run itself) */
    int read_only;         /* 1: reads the run folder but writes nothing (an MPI rank other than 0: rank 0
                              keeps the folder, the others train the same model beside it) */
    void (*progress)(void *ctx, const uf_train_progress *p);
    void *progress_ctx;
} uf_trainer_cfg;

typedef struct uf_trainer {
    uf_trainer_cfg c;
    uf_model *m;
    uf_sgd *opt;
    uf_train_state ts;
    int64_t total;
    char state[4200], log[4200], final[4200];
    char *rows;            /* the log's rows so far */
    size_t len, cap;
} uf_trainer;

typedef enum uf_trainer_start { UF_TRAINER_FRESH, UF_TRAINER_RESUMED, UF_TRAINER_DONE } uf_trainer_start;

/* Appends " threads=N" (this process's thread count) to a settings note. */
void uf_trainer_note_threads(char *note, size_t n);

/* Opens a run of model m with optimiser opt (both set up by the caller) in c->dir: removes a killed
 * run's temporaries, then *start is
 *   UF_TRAINER_DONE     NAME.ckpt exists with these settings: m holds the trained model;
 *   UF_TRAINER_RESUMED  m, opt, t->ts and the extra tables hold the state's step;
 *   UF_TRAINER_FRESH    nothing there (the folder is made): initialise m, then run.
 * Files made with other settings are refused with both notes in the message. */
int uf_trainer_open(uf_trainer *t, const uf_trainer_cfg *c, uf_model *m, uf_sgd *opt, uint64_t seed,
                    uf_trainer_start *start, uf_err *e);
/* Trains to the end (or stop_after): *finished is 1 when NAME.ckpt was written. */
int uf_trainer_run(uf_trainer *t, const uf_trainer_ops *ops, void *ctx, int *finished, uf_err *e);
void uf_trainer_close(uf_trainer *t);

/* The settings part of a note (without " threads=N"), for comparisons across thread counts. */
size_t uf_trainer_settings_len(const char *note);
/* The step log's `params`: the first 16 hex digits of the sha256 of the model's parameters and
 * running statistics. */
int uf_trainer_params_hash(const uf_model *m, char out[17], uf_err *e);

#endif
