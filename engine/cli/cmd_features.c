#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/alloc.h"
#include "core/parallel.h"
#include "core/sha256.h"
#include "features/dataset_features.h"
#include "nn/ckpt.h"
#include "nn/weights.h"

static const char *const help =
    "usage: uotft features MODEL --out DIR [--mlp] [--size S] [--batch B] [--loader-threads N]\n"
    "                      [--threads N] (mini sets | --dataset ... | --merge ...)\n"
    "  MODEL:     --ckpt F | --weights W.pth --arch A | --arch A --random-init [--seed S]\n"
    "  mini sets: [--data DIR] [--sets S1,S2,..] [--splits train[,test]]\n"
    "  a data set: --dataset NAME --root DIR [--split train|test] [--seed S] [--name SET]\n"
    "             [--keep-features] [--ckpt-every N] [--rows A:B] [--stop-after-images N]\n"
    "  shards:    --merge P1,P2,.. [--name SET]   (no MODEL)\n"
    "\n"
    "Features through a backbone in eval mode: the pooled feature, or with --mlp the MLP head's\n"
    "output (MoCo v2's 128-d projection fc.0 -> ReLU -> fc.2, as the released MoCo class means).\n"
    "MODEL: a uotft checkpoint (uotft pretrain); a torch.save file of architecture A\n"
    "(torchvision's resnet18-f37072fd.pth, MoCo's moco_v2_800ep_pretrain.pth.tar: see uotft\n"
    "forward); or A initialised as torchvision does, keyed by --seed.\n"
    "Eval view: Resize(S * 256 / 224) + CenterCrop(S); S defaults to 28 for mini sets, 224 else.\n"
    "\n"
    "Mini sets (data set mini-<set> in --data, default data/mini; sets pool,digits,fashion,hand,\n"
    "mix, split train), for each set and split:\n"
    "  DIR/<set>-<split>.features.npy float32 (images, d)   DIR/<set>-<split>.labels.npy int64\n"
    "and for the train split DIR/<set>.means.npy float64 (classes, d), <set>.counts.npy int64.\n"
    "\n"
    "--dataset: any `uotft data` set (imagenet, cub, dogs, cars, pets, sun397, aircraft, dtd,\n"
    "caltech101, ..) read in place from --root; --seed draws caltech101's split. Streams the\n"
    "images into per-class sums (memory does not grow with the images) and writes\n"
    "DIR/SET.means.npy and SET.counts.npy (SET: --name, default the data set's name); with\n"
    "--keep-features also SET.features.npy float32 (images, d) and SET.labels.npy int64.\n"
    "Resumable: every --ckpt-every N images (default 10000) DIR/SET.partial/ keeps the sums and\n"
    "the features so far; run the same command again to continue (other weights or settings\n"
    "are refused). The result is the same, byte for byte, at the same --threads and --batch.\n"
    "--rows A:B: rows [A, B) only (A, B multiples of --batch, or B the split's end), into\n"
    "DIR/SET.rows-A-B.part (sums and counts); --merge then turns parts covering the split into\n"
    "DIR/SET.means.npy and .counts.npy (SET default: merged), identical to one whole run: the\n"
    "sums are exact. --stop-after-images N stops with a checkpoint (tests). --batch defaults\n"
    "to 256 for mini sets, 64 else. Progress and ETA on stderr.\n"
    "Example: uotft features --weights resnet18-f37072fd.pth --arch resnet18 --dataset imagenet\n"
    "           --root data/imagenet --out feats/resnet18\n";

enum { O_CKPT = 256, O_ARCH, O_RANDOM, O_SEED, O_OUT, O_MLP, O_DATA, O_SETS, O_SPLITS, O_SIZE, O_BATCH,
       O_LTHREADS, O_THREADS, O_WEIGHTS, O_DATASET, O_ROOT, O_SPLIT, O_NAME, O_KEEP, O_EVERY, O_ROWS, O_MERGE,
       O_STOP, O_HELP };

static const struct option opts[] = {
    {"ckpt", required_argument, 0, O_CKPT},     {"arch", required_argument, 0, O_ARCH},
    {"random-init", no_argument, 0, O_RANDOM},  {"seed", required_argument, 0, O_SEED},
    {"out", required_argument, 0, O_OUT},       {"mlp", no_argument, 0, O_MLP},
    {"data", required_argument, 0, O_DATA},     {"sets", required_argument, 0, O_SETS},
    {"splits", required_argument, 0, O_SPLITS}, {"size", required_argument, 0, O_SIZE},
    {"batch", required_argument, 0, O_BATCH},   {"loader-threads", required_argument, 0, O_LTHREADS},
    {"threads", required_argument, 0, O_THREADS}, {"weights", required_argument, 0, O_WEIGHTS},
    {"dataset", required_argument, 0, O_DATASET}, {"root", required_argument, 0, O_ROOT},
    {"split", required_argument, 0, O_SPLIT},   {"name", required_argument, 0, O_NAME},
    {"keep-features", no_argument, 0, O_KEEP},  {"ckpt-every", required_argument, 0, O_EVERY},
    {"rows", required_argument, 0, O_ROWS},     {"merge", required_argument, 0, O_MERGE},
    {"stop-after-images", required_argument, 0, O_STOP}, {"help", no_argument, 0, O_HELP},
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

typedef struct fopts {
    const char *ckpt, *arch, *weights, *out, *data, *sets, *splits;
    const char *dataset, *root, *split, *name, *merge;
    long seed, size, batch, lthreads, threads, every, stop;
    int random, mlp, keep, begin, end, shard;
} fopts;

/* --rows A:B, 0 <= A < B */
static int parse_rows(const char *cmd, const char *s, fopts *o)
{
    char *end;
    long a = strtol(s, &end, 10), b = *end == ':' ? strtol(end + 1, &end, 10) : -1;
    if (*end || a < 0 || b <= a || b > 1L << 30)
        return cli_usage_error(cmd, "--rows expects A:B with 0 <= A < B, got '%s'", s);
    o->begin = (int)a, o->end = (int)b, o->shard = 1;
    return 0;
}

/* Parses argv into o; returns -1 when done, else the exit status (0 after --help). */
static int parse(int argc, char **argv, fopts *o)
{
    const char *cmd = "features";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_CKPT: o->ckpt = optarg; break;
        case O_ARCH: o->arch = optarg; break;
        case O_RANDOM: o->random = 1; break;
        case O_SEED: if (cli_int(cmd, "--seed", optarg, 0, 1L << 62, &o->seed)) return 2; break;
        case O_OUT: o->out = optarg; break;
        case O_MLP: o->mlp = 1; break;
        case O_DATA: o->data = optarg; break;
        case O_SETS: o->sets = optarg; break;
        case O_SPLITS: o->splits = optarg; break;
        case O_SIZE: if (cli_int(cmd, "--size", optarg, 8, 4096, &o->size)) return 2; break;
        case O_BATCH: if (cli_int(cmd, "--batch", optarg, 1, 1 << 16, &o->batch)) return 2; break;
        case O_LTHREADS: if (cli_int(cmd, "--loader-threads", optarg, 1, 256, &o->lthreads)) return 2; break;
        case O_THREADS: if (cli_int(cmd, "--threads", optarg, 1, 1024, &o->threads)) return 2; break;
        case O_WEIGHTS: o->weights = optarg; break;
        case O_DATASET: o->dataset = optarg; break;
        case O_ROOT: o->root = optarg; break;
        case O_SPLIT: o->split = optarg; break;
        case O_NAME: o->name = optarg; break;
        case O_KEEP: o->keep = 1; break;
        case O_EVERY: if (cli_int(cmd, "--ckpt-every", optarg, 0, 1L << 40, &o->every)) return 2; break;
        case O_STOP: if (cli_int(cmd, "--stop-after-images", optarg, 1, 1L << 40, &o->stop)) return 2; break;
        case O_ROWS: if (parse_rows(cmd, optarg, o)) return 2; break;
        case O_MERGE: o->merge = optarg; break;
        case O_HELP: fputs(help, stdout); return 0;
        default: return cli_usage_error(cmd, "unrecognised option");
        }
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    return -1;
}

/* Option combinations; 0 when they make sense, else the exit status of the usage error. */
static int check_options(const fopts *o)
{
    const char *cmd = "features";
    if (!o->out)
        return cli_usage_error(cmd, "--out DIR is required");
    if (o->merge)
        return o->dataset || o->ckpt || o->weights || o->random
                   ? cli_usage_error(cmd, "--merge takes part files only (no model or data set)")
                   : 0;
    if (!!o->ckpt + !!o->weights + o->random != 1)
        return cli_usage_error(cmd, "give either --ckpt F or --random-init (with --arch), or --weights W "
                                    "(with --arch)");
    if ((o->random || o->weights) && !o->arch)
        return cli_usage_error(cmd, "%s needs --arch", o->random ? "--random-init" : "--weights");
    if (o->ckpt && o->arch)
        return cli_usage_error(cmd, "--arch goes with --random-init or --weights (a checkpoint names its own)");
    if (!o->dataset && (o->root || o->name || o->keep || o->shard || o->stop || o->every >= 0))
        return cli_usage_error(cmd, "--root, --name, --keep-features, --rows, --ckpt-every and "
                                    "--stop-after-images go with --dataset");
    if (o->dataset && !o->root)
        return cli_usage_error(cmd, "--dataset needs --root DIR");
    if (o->dataset && strcmp(o->split, "train") != 0 && strcmp(o->split, "test") != 0)
        return cli_usage_error(cmd, "--split is train or test, not '%s'", o->split);
    return o->dataset ? 0 : check_splits(cmd, o->splits);
}

/* The model from --ckpt, --weights or --random-init; *head as open_model; `from` (when not NULL)
 * names it for the checkpoints (the weights file's sha256, or the random initialisation). */
static int model_for(const fopts *o, uf_model *m, int *head, char *from, size_t cap, uf_err *e)
{
    if (!o->weights) {
        if (open_model(o->ckpt, o->arch, o->random, o->seed, o->mlp, m, head, e))
            return -1;
    } else if (uf_model_from_file(o->weights, o->arch, NULL, NULL, o->mlp ? UF_OUT_MLP : UF_OUT_FEATURES, m, head,
                                  e)) {
        return -1;
    }
    const char *w = o->ckpt ? o->ckpt : o->weights, *base = w ? strrchr(w, '/') : NULL;
    char hex[65];
    if (!from) {
        return 0;
    } else if (o->random) {
        snprintf(from, cap, "random-init=%s seed=%ld", m->arch.name, o->seed);
    } else if (uf_sha256_file(w, hex, e)) {
        uf_model_free(m);
        return -1;
    } else {
        snprintf(from, cap, "weights=%s sha256=%s arch=%s", base ? base + 1 : w, hex, m->arch.name);
    }
    return 0;
}

/* --dataset: the split streamed through the model into DIR/SET.* */
static int features_dataset(const fopts *o, uf_err *e)
{
    uf_dataset ds;
    uf_model m;
    int head, rc;
    char from[1024], made_from[1400];
    if (uf_dataset_list(&ds, o->dataset, o->root, o->split, (uint64_t)o->seed, e))
        return -1;
    if ((rc = uf_dataset_open_images(&ds, NULL, e)) == 0 && (rc = model_for(o, &m, &head, from, sizeof from, e)) == 0) {
        snprintf(made_from, sizeof made_from, "%s data=%s split=%s seed=%ld", from, o->dataset, o->split, o->seed);
        uf_dsfeat_cfg c = {.ex = {.size = (int)o->size, .batch = (int)o->batch, .loader_threads = (int)o->lthreads,
                                  .head = head},
                           .dir = o->out, .name = o->name ? o->name : o->dataset, .made_from = made_from,
                           .begin = o->shard ? o->begin : 0, .end = o->shard ? o->end : ds.n, .shard = o->shard,
                           .keep_features = o->keep, .ckpt_every = o->every < 0 ? 10000 : o->every,
                           .stop_after = o->stop, .progress = 1};
        rc = uf_dataset_features(&m, &ds, &c, e);
        if (rc == 1)
            fprintf(stderr, "[features] %s: stopped after %ld images; the same command continues\n", c.name, o->stop);
        rc = rc < 0 ? -1 : 0;
        uf_model_free(&m);
    }
    uf_dataset_free(&ds);
    return rc;
}

/* --merge P1,P2,..: shards into DIR/SET.means.npy and .counts.npy */
static int merge(const fopts *o, uf_err *e)
{
    char *list = uf_strdup(o->merge, e);
    const char *parts[4096];
    int n = 0;
    if (!list)
        return -1;
    for (char *s = NULL, *p = strtok_r(list, ",", &s); p && n < 4096; p = strtok_r(NULL, ",", &s))
        parts[n++] = p;
    int rc = uf_features_merge(parts, n, o->out, o->name ? o->name : "merged", e);
    free(list);
    return rc;
}

int cmd_features(int argc, char **argv)
{
    fopts o = {.data = "data/mini", .sets = "pool,digits,fashion,hand,mix", .splits = "train", .split = "train",
               .size = -1, .batch = -1, .lthreads = 2, .every = -1};
    int status = parse(argc, argv, &o);
    if (status >= 0)
        return status;
    if ((status = check_options(&o)) != 0)
        return status;
    if (o.size < 0)
        o.size = o.dataset ? 224 : 28;
    if (o.batch < 0)
        o.batch = o.dataset ? 64 : 256;
    cli_set_threads(o.threads);
    uf_err e;
    if (o.merge)
        return merge(&o, &e) ? cli_error("features", &e) : 0;
    if (o.dataset)
        return features_dataset(&o, &e) ? cli_error("features", &e) : 0;
    uf_model m;
    int head;
    if (model_for(&o, &m, &head, NULL, 0, &e))
        return cli_error("features", &e);
    uf_extract_cfg cfg = {.size = (int)o.size, .batch = (int)o.batch, .loader_threads = (int)o.lthreads, .head = head};
    int rc = extract_all(&m, o.data, o.sets, o.splits, &cfg, o.out, &e);
    uf_model_free(&m);
    return rc ? cli_error("features", &e) : 0;
}
