#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/alloc.h"
#include "core/parallel.h"
#include "features/extract.h"
#include "nn/ckpt.h"

static const char *const help =
    "usage: uotft features (--ckpt F | --arch A --random-init [--seed S]) --out DIR [--mlp]\n"
    "                      [--data DIR] [--sets S1,S2,..] [--splits train[,test]] [--size S]\n"
    "                      [--batch B] [--loader-threads N] [--threads N]\n"
    "\n"
    "Per-image features of mini sets (data set mini-<set> in --data, default data/mini) through\n"
    "a backbone in eval mode: the pooled feature, or with --mlp the output of the checkpoint's\n"
    "MLP head (MoCo v2's 128-d projection, as the released MoCo class means). The backbone is\n"
    "a uotft checkpoint (uotft pretrain), or with --random-init the architecture A initialised\n"
    "as torchvision does, keyed by --seed. Eval view: Resize(S * 256 / 224) + CenterCrop(S),\n"
    "default S = 28 (a 32 x 32 glyph cropped to 28 without resampling).\n"
    "\n"
    "Writes, for each set and split (defaults: pool,digits,fashion,hand,mix and train):\n"
    "  DIR/<set>-<split>.features.npy  float32 (images, d), in the set's order\n"
    "  DIR/<set>-<split>.labels.npy    int64 (images)\n"
    "and for the train split the released means' layout, which `uotft select` and the\n"
    "manifests read:\n"
    "  DIR/<set>.means.npy   float64 (classes, d)    DIR/<set>.counts.npy  int64 (classes)\n"
    "Example: uotft features --ckpt data/mini/pretrain/moco-v2.ckpt --mlp --out feats/moco-v2\n";

enum { O_CKPT = 256, O_ARCH, O_RANDOM, O_SEED, O_OUT, O_MLP, O_DATA, O_SETS, O_SPLITS, O_SIZE, O_BATCH,
       O_LTHREADS, O_THREADS, O_HELP };

static const struct option opts[] = {
    {"ckpt", required_argument, 0, O_CKPT},     {"arch", required_argument, 0, O_ARCH},
    {"random-init", no_argument, 0, O_RANDOM},  {"seed", required_argument, 0, O_SEED},
    {"out", required_argument, 0, O_OUT},       {"mlp", no_argument, 0, O_MLP},
    {"data", required_argument, 0, O_DATA},     {"sets", required_argument, 0, O_SETS},
    {"splits", required_argument, 0, O_SPLITS}, {"size", required_argument, 0, O_SIZE},
    {"batch", required_argument, 0, O_BATCH},   {"loader-threads", required_argument, 0, O_LTHREADS},
    {"threads", required_argument, 0, O_THREADS}, {"help", no_argument, 0, O_HELP},
    {0, 0, 0, 0},
};

/* The model from a checkpoint, or a random initialisation; *head: the MLP head with --mlp, else -1. */
static int open_model(const char *ckpt, const char *arch, int random, long seed, int mlp, uf_model *m, int *head,
                      uf_err *e)
{
    *head = -1;
    if (random) {
        uf_arch a;
        if (uf_arch_parse(arch, &a, e) || uf_model_create(m, &a, NULL, 0, e))
            return -1;
        uf_model_init_weights(m, (uint64_t)seed);
    } else if (uf_ckpt_load_model(ckpt, m, e)) {
        return -1;
    }
    for (int h = 0; mlp && h < m->nhead && *head < 0; h++)
        if (m->head[h].s.kind == UF_HEAD_MLP)
            *head = h;
    if (mlp && *head < 0) {
        uf_model_free(m);
        return uf_fail(e, "%s: --mlp, but the model has no MLP head", random ? arch : ckpt);
    }
    return 0;
}

/* 0 when every name of the comma list is train or test, else the exit status of the usage error. */
static int check_splits(const char *cmd, const char *splits)
{
    uf_err e;
    char *pl = uf_strdup(splits, &e);
    if (!pl)
        return cli_error(cmd, &e);
    int status = 0;
    for (char *s2 = NULL, *split = strtok_r(pl, ",", &s2); split && !status; split = strtok_r(NULL, ",", &s2))
        if (strcmp(split, "train") != 0 && strcmp(split, "test") != 0)
            status = cli_usage_error(cmd, "--splits lists train and/or test, not '%s'", split);
    free(pl);
    return status;
}

/* Features of every set (comma list) and split into out, each reported as it is written. */
static int extract_all(uf_model *m, const char *data, const char *sets, const char *splits,
                       const uf_extract_cfg *cfg, const char *out, uf_err *e)
{
    char *sl = uf_strdup(sets, e);
    int rc = sl ? 0 : -1;
    double t0 = uf_now();
    for (char *s1 = NULL, *set = sl ? strtok_r(sl, ",", &s1) : NULL; set && rc == 0; set = strtok_r(NULL, ",", &s1)) {
        char *pl = uf_strdup(splits, e);
        rc = pl ? 0 : -1;
        for (char *s2 = NULL, *split = pl ? strtok_r(pl, ",", &s2) : NULL; split && rc == 0;
             split = strtok_r(NULL, ",", &s2))
            if ((rc = uf_features_mini(m, data, set, split, cfg, out, e)) == 0)
                fprintf(stderr, "[features] %s-%s: %s/%s-%s.features.npy (%.1f s)\n", set, split, out, set, split,
                        uf_now() - t0);
        free(pl);
    }
    free(sl);
    return rc;
}

int cmd_features(int argc, char **argv)
{
    const char *cmd = "features", *ckpt = NULL, *arch = NULL, *out = NULL, *data = "data/mini";
    const char *sets = "pool,digits,fashion,hand,mix", *splits = "train";
    long seed = 0, size = 28, batch = 256, lthreads = 2, threads = 0;
    int c, random = 0, mlp = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_CKPT: ckpt = optarg; break;
        case O_ARCH: arch = optarg; break;
        case O_RANDOM: random = 1; break;
        case O_SEED: if (cli_int(cmd, "--seed", optarg, 0, 1L << 62, &seed)) return 2; break;
        case O_OUT: out = optarg; break;
        case O_MLP: mlp = 1; break;
        case O_DATA: data = optarg; break;
        case O_SETS: sets = optarg; break;
        case O_SPLITS: splits = optarg; break;
        case O_SIZE: if (cli_int(cmd, "--size", optarg, 8, 4096, &size)) return 2; break;
        case O_BATCH: if (cli_int(cmd, "--batch", optarg, 1, 1 << 16, &batch)) return 2; break;
        case O_LTHREADS: if (cli_int(cmd, "--loader-threads", optarg, 1, 256, &lthreads)) return 2; break;
        case O_THREADS: if (cli_int(cmd, "--threads", optarg, 1, 1024, &threads)) return 2; break;
        case O_HELP: fputs(help, stdout); return 0;
        default: return cli_usage_error(cmd, "unrecognised option");
        }
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!out)
        return cli_usage_error(cmd, "--out DIR is required");
    if (!ckpt == !random)
        return cli_usage_error(cmd, "give either --ckpt F or --random-init (with --arch)");
    if (random && !arch)
        return cli_usage_error(cmd, "--random-init needs --arch");
    if (ckpt && arch)
        return cli_usage_error(cmd, "--arch goes with --random-init (a checkpoint names its own)");
    int status = check_splits(cmd, splits);
    if (status)
        return status;
    cli_set_threads(threads);

    uf_err e;
    uf_model m;
    int head;
    if (open_model(ckpt, arch, random, seed, mlp, &m, &head, &e))
        return cli_error(cmd, &e);
    uf_extract_cfg cfg = {.size = (int)size, .batch = (int)batch, .loader_threads = (int)lthreads, .head = head};
    int rc = extract_all(&m, data, sets, splits, &cfg, out, &e);
    uf_model_free(&m);
    return rc ? cli_error(cmd, &e) : 0;
}
