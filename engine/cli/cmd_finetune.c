#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/dist.h"
#include "core/parallel.h"
#include "train/finetune.h"

static const char *const help =
    "usage: uotft finetune --recipe finetune|labelled|unlabelled|cotuning --backbone CKPT|PTH --target SET\n"
    "                      --out DIR [--source SET --select TOP.tsv [--top K] [--assign CLUSTERS.npy]]\n"
    "                      [settings below] [--seed S] [--threads N] [--quiet]\n"
    "\n"
    "Fine-tunes a pre-trained backbone on a target data set (SPEC section 4):\n"
    "  finetune    target head only\n"
    "  labelled    eq. 6: joint batch [target, source]; CE_t + lambda CE(source head, y_s)\n"
    "  unlabelled  eq. 7: joint batch [target, weak source, strong source]; one head;\n"
    "              CE_t + lambda soft-CE(strong, softmax(weak)) (no threshold, no temperature)\n"
    "  cotuning    Co-Tuning: CE_t + lambda soft-CE(pre-trained fc on target, p(y_s | y_t))\n"
    "SGD (Nesterov), weight decay on every tensor, heads at --head-lr-mult x --lr (Co-Tuning's\n"
    "source head at --lr), the rate x0.1 after 60% and 80% of the epochs; an epoch is one pass\n"
    "over the target's training rows (drop last); source batches from an endless shuffled stream\n"
    "of the selected subset. Top-1 on the test split after epochs 1, 1 + E, 1 + 2E, ... (E =\n"
    "--eval-every) and the last; with --val-fraction F on a held-out part of the training set.\n"
    "\n"
    "Data:     --target SET --target-root DIR   (uotft data names; mini-* sets live in data/mini)\n"
    "          --source SET --source-root DIR --select TOP.tsv (uotft select) --top K\n"
    "          --assign A.npy: the selection names k-means clusters, A gives each source image's\n"
    "          --source-fraction F  --target-fraction F  (of every class, seeded)\n"
    "          --longtail R (Pareto class sizes, largest / smallest = R)  --val-fraction F\n"
    "Settings: --size --epochs --batch --source-batch --eval-every --eval-batch --lr --head-lr-mult\n"
    "          --momentum --wd --lambda --scale-min --nesterov 0|1 --no-flip 0|1 --arch (for a .pth)\n"
    "          defaults: the paper's (224 px, 100 epochs, 256 + 256, lr 0.003, wd 1e-4, lambda 1;\n"
    "          Co-Tuning 2.3; finetune 0)\n"
    "Run:      --loader-threads N --ckpt-every N --stop-after N --dump DIR (oracle inputs)\n"
    "          --keep-model 0 (remove model.ckpt once result.tsv is written; the run is still found again)\n"
    "MPI:      mpirun -np P uotft finetune ... (a build with UOTFT_MPI): P processes share every step's\n"
    "          batch, rank r the r-th contiguous part of the target and of the source rows (--batch and\n"
    "          --source-batch divisible by P), BatchNorm over each part (DistributedDataParallel without\n"
    "          SyncBN), gradients averaged, rank 0's running statistics broadcast; the same rows as one\n"
    "          process draws. Rank 0 writes DIR and evaluates; DIR must be one folder every rank reads\n"
    "          (resume with the same mpirun line). --threads N per process (Open MPI binds each rank to a\n"
    "          core: add --bind-to none, or --map-by slot:PE=N, for N > 1).\n"
    "          --bn-groups G: one process computes what G ranks would (ghost BatchNorm, running statistics\n"
    "          of group 0), the reference an MPI run is checked against. Default 1.\n"
    "\n"
    "DIR gets settings.txt, model.log.tsv (loss, loss_target, loss_source per step), eval.tsv,\n"
    "result.tsv (final_top1 = the last evaluation, best_top1 = the best one, as the official code\n"
    "prints), model.ckpt, and for Co-Tuning relation.npy. Run the same command again to resume a\n"
    "killed run: it ends bit-identical (same settings and --threads). Progress and ETA on stderr.\n"
    "Example: uotft finetune --recipe labelled --backbone results/mini/pretrain/supervised.ckpt \\\n"
    "           --target mini-digits --source mini-pool --select top.tsv --size 28 --out runs/d\n";

enum { O_RECIPE = 1000, O_OUT, O_THREADS, O_QUIET, O_HELP };

typedef struct shown {
    double last;
} shown;

static void progress(void *ctx, const uf_train_progress *p)
{
    shown *s = ctx;
    if (!p->done && p->elapsed - s->last < 5)
        return;
    s->last = p->elapsed;
    fprintf(stderr, "[finetune] step %lld/%lld, epoch %d/%d, loss %.4f, lr %.4g | %.0f img/s, %.0f s elapsed, "
                    "ETA %.0f s\n",
            (long long)p->step, (long long)p->total, p->epoch + 1, p->epochs, p->loss, p->lr, p->images_per_s,
            p->elapsed, p->eta);
}

/* The recipe decides the defaults: found first. */
static int find_recipe(int argc, char **argv, const struct option *opts, uf_recipe *r, int *asked_help)
{
    int c, found = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == O_HELP)
            *asked_help = 1;
        if (c == O_RECIPE) {
            if (uf_recipe_parse(optarg, r))
                return cli_usage_error("finetune", "--recipe is finetune, labelled, unlabelled or cotuning, not '%s'",
                                       optarg);
            found = 1;
        }
    }
    opterr = 1;
    optind = 1;
    return found || *asked_help ? 0 : cli_usage_error("finetune", "--recipe is required");
}

/* Every setting of uf_finetune_settings as --name (its index), then the command's own options. */
static void build_options(struct option *opts)
{
    const int n = uf_finetune_nsettings;
    for (int k = 0; k < n; k++)
        opts[k] = (struct option){uf_finetune_settings[k].name, required_argument, 0, k};
    opts[n] = (struct option){"recipe", required_argument, 0, O_RECIPE};
    opts[n + 1] = (struct option){"out", required_argument, 0, O_OUT};
    opts[n + 2] = (struct option){"threads", required_argument, 0, O_THREADS};
    opts[n + 3] = (struct option){"quiet", no_argument, 0, O_QUIET};
    opts[n + 4] = (struct option){"help", no_argument, 0, O_HELP};
    opts[n + 5] = (struct option){0, 0, 0, 0};
}

static int run(uf_finetune_cfg *c, const char *out, uf_recipe recipe);

int cmd_finetune(int argc, char **argv)
{
    const char *cmd = "finetune", *out = NULL;
    struct option opts[UF_FINETUNE_MAX_SETTINGS + 6];
    uf_recipe recipe = UF_RECIPE_FINETUNE;
    int c, quiet = 0, asked_help = 0;
    long threads = 0;
    build_options(opts);
    if (find_recipe(argc, argv, opts, &recipe, &asked_help))
        return 2;
    if (asked_help) {
        fputs(help, stdout);
        return 0;
    }
    uf_finetune_cfg cfg;
    uf_err e;
    uf_finetune_defaults(&cfg, recipe);
    cfg.target_root = cfg.source_root = "data/mini";
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c >= 0 && c < uf_finetune_nsettings) {
            if (uf_finetune_set(&cfg, &uf_finetune_settings[c], optarg, &e))
                return cli_usage_error(cmd, "%s", e.msg);
        } else if (c == O_OUT) {
            out = optarg;
        } else if (c == O_THREADS) {
            if (cli_int(cmd, "--threads", optarg, 1, 1024, &threads))
                return 2;
        } else if (c == O_QUIET) {
            quiet = 1;
        } else if (c != O_RECIPE) {
            return cli_usage_error(cmd, "unrecognised option");
        }
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!out || !cfg.backbone || !cfg.target[0])
        return cli_usage_error(cmd, "--backbone, --target and --out are required");
    cli_set_threads(threads);
    shown s = {.last = -1e9};
    if (!quiet) {
        cfg.progress = progress;
        cfg.progress_ctx = &s;
    }
    return run(&cfg, out, recipe);
}

/* Fine-tunes; under mpirun every rank runs this, rank 0 reports. A rank's error ends the whole job
 * (the others would wait for it in their next collective forever). */
static int run(uf_finetune_cfg *c, const char *out, uf_recipe recipe)
{
    const char *cmd = "finetune";
    uf_finetune_result r;
    uf_err e;
    if (uf_dist_init(NULL, NULL, &e))
        return cli_error(cmd, &e);
    if (uf_finetune(c, out, &r, &e)) {
        cli_error(cmd, &e);
        if (uf_dist_size() > 1)
            uf_dist_abort(1);
        return 1;
    }
    const int rank = uf_dist_rank();
    uf_dist_finalize();
    if (rank != 0)
        return 0;
    if (r.finished)
        printf("%s %s: final top-1 %.2f%%, best %.2f%% (epoch %d), %lld steps, %.1f s\n", uf_recipe_names[recipe],
               c->target, r.final_top1, r.best_top1, r.best_epoch + 1, (long long)r.steps, r.seconds);
    else
        printf("%s %s: stopped after step %lld (state in %s)\n", uf_recipe_names[recipe], c->target,
               (long long)r.steps, out);
    return 0;
}
