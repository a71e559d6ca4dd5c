#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/parallel.h"
#include "train/pretrain.h"

static const char *const help =
    "usage: uotft pretrain --method supervised|moco --out DIR [--name NAME] [--data DIR] [--set SET]\n"
    "                      [--arch A] [--size S] [--epochs N] [--batch B] [--lr LR] [--momentum M]\n"
    "                      [--wd WD] [--nesterov 0|1] [--scale-min F] [--strong 0|1] [--jitter J] [--seed S]\n"
    "                      [--queue K] [--dim D] [--key-momentum M] [--temperature T] [--bn-groups G]\n"
    "                      [--loader-threads N] [--ckpt-every N] [--stop-after N] [--threads N] [--quiet]\n"
    "\n"
    "Pre-trains a backbone on a data set's training split (default mini-pool in data/mini):\n"
    "supervised cross-entropy, or MoCo v2 without labels (momentum key encoder, a queue of\n"
    "negatives, InfoNCE, 128-d MLP head, BatchNorm shuffled over --bn-groups sub-batches).\n"
    "Defaults are the mini tier's (engine/train/pretrain.c); SGD with a cosine learning rate\n"
    "per step; views: RandomResizedCrop(S, scale F-1) without flips, with --strong 1 also\n"
    "RandAugment(2, 10) and a cutout; --jitter J > 0 adds brightness and contrast jitter\n"
    "(factors in [1 - J, 1 + J], with probability 0.8, as MoCo v2's colour jitter).\n"
    "\n"
    "Writes DIR/NAME.ckpt (the model; NAME defaults to supervised or moco-v2) and\n"
    "DIR/NAME.log.tsv (step, epoch, lr, loss, a parameter hash at steps 1, 2, 4, ... and the\n"
    "last). While training, DIR/NAME.state.ckpt holds the whole state every --ckpt-every steps\n"
    "(default 100) and at epoch ends: run the same command again to resume a killed run; it\n"
    "ends bit-identical to an uninterrupted one (same settings and --threads required).\n"
    "--stop-after N stops after step N with a state checkpoint (a reduced run). Progress and\n"
    "ETA go to stderr.\n"
    "Example: uotft pretrain --method moco --out data/mini/pretrain\n";

enum { O_METHOD = 256, O_OUT, O_NAME, O_DATA, O_SET, O_ARCH, O_SIZE, O_EPOCHS, O_BATCH, O_LR, O_MOM, O_WD,
       O_NEST, O_SMIN, O_STRONG, O_JITTER, O_SEED, O_QUEUE, O_DIM, O_KMOM, O_TEMP, O_GROUPS, O_LTHREADS, O_EVERY, O_STOP,
       O_THREADS, O_QUIET, O_HELP };

static const struct option opts[] = {
    {"method", required_argument, 0, O_METHOD}, {"out", required_argument, 0, O_OUT},
    {"name", required_argument, 0, O_NAME},     {"data", required_argument, 0, O_DATA},
    {"set", required_argument, 0, O_SET},       {"arch", required_argument, 0, O_ARCH},
    {"size", required_argument, 0, O_SIZE},     {"epochs", required_argument, 0, O_EPOCHS},
    {"batch", required_argument, 0, O_BATCH},   {"lr", required_argument, 0, O_LR},
    {"momentum", required_argument, 0, O_MOM},  {"wd", required_argument, 0, O_WD},
    {"nesterov", required_argument, 0, O_NEST}, {"scale-min", required_argument, 0, O_SMIN},
    {"strong", required_argument, 0, O_STRONG}, {"jitter", required_argument, 0, O_JITTER},
    {"seed", required_argument, 0, O_SEED},
    {"queue", required_argument, 0, O_QUEUE},   {"dim", required_argument, 0, O_DIM},
    {"key-momentum", required_argument, 0, O_KMOM}, {"temperature", required_argument, 0, O_TEMP},
    {"bn-groups", required_argument, 0, O_GROUPS}, {"loader-threads", required_argument, 0, O_LTHREADS},
    {"ckpt-every", required_argument, 0, O_EVERY}, {"stop-after", required_argument, 0, O_STOP},
    {"threads", required_argument, 0, O_THREADS}, {"quiet", no_argument, 0, O_QUIET},
    {"help", no_argument, 0, O_HELP},           {0, 0, 0, 0},
};

typedef struct shown {
    const char *name;
    double last; /* when progress was last printed */
} shown;

static void clock_str(double s, char *buf, size_t n)
{
    long t = (long)(s + 0.5);
    snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

/* A progress line every 5 s and at the end. */
static void progress(void *ctx, const uf_train_progress *p)
{
    shown *s = ctx;
    if (!p->done && p->elapsed - s->last < 5)
        return;
    s->last = p->elapsed;
    char el[32], eta[32];
    clock_str(p->elapsed, el, sizeof el);
    clock_str(p->eta, eta, sizeof eta);
    fprintf(stderr, "[pretrain %s] step %lld/%lld, epoch %d/%d, loss %.4f, lr %.4g | %.0f img/s, %s elapsed, ETA %s\n",
            s->name, (long long)p->step, (long long)p->total, p->epoch + 1, p->epochs, p->loss, p->lr,
            p->images_per_s, el, eta);
}

static int parse_method(const char *s, uf_pretrain_method *m)
{
    if (strcmp(s, "supervised") == 0)
        *m = UF_PRETRAIN_SUPERVISED;
    else if (strcmp(s, "moco") == 0)
        *m = UF_PRETRAIN_MOCO;
    else
        return -1;
    return 0;
}

int cmd_pretrain(int argc, char **argv)
{
    const char *cmd = "pretrain", *out = NULL, *name = NULL;
    int c, quiet = 0;
    long threads = 0, v;
    double d;
    uf_pretrain_method method = UF_PRETRAIN_SUPERVISED;
    /* the method decides the defaults: find it first */
    optind = 1;
    opterr = 0;
    int have_method = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == O_HELP) {
            fputs(help, stdout);
            return 0;
        }
        if (c == O_METHOD) {
            if (parse_method(optarg, &method))
                return cli_usage_error(cmd, "--method is supervised or moco, not '%s'", optarg);
            have_method = 1;
        }
    }
    opterr = 1;
    if (!have_method)
        return cli_usage_error(cmd, "--method supervised|moco is required");
    uf_pretrain_cfg cfg;
    uf_pretrain_defaults(&cfg, method);
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_METHOD: break;
        case O_OUT: out = optarg; break;
        case O_NAME: name = optarg; break;
        case O_DATA: cfg.data_root = optarg; break;
        case O_SET:
            if (strlen(optarg) >= sizeof cfg.data_set)
                return cli_usage_error(cmd, "--set: name too long");
            strcpy(cfg.data_set, optarg);
            break;
        case O_ARCH:
            if (strlen(optarg) >= sizeof cfg.arch)
                return cli_usage_error(cmd, "--arch: name too long");
            strcpy(cfg.arch, optarg);
            break;
        case O_SIZE: if (cli_int(cmd, "--size", optarg, 8, 4096, &v)) return 2; cfg.size = (int)v; break;
        case O_EPOCHS: if (cli_int(cmd, "--epochs", optarg, 1, 100000, &v)) return 2; cfg.epochs = (int)v; break;
        case O_BATCH: if (cli_int(cmd, "--batch", optarg, 2, 65536, &v)) return 2; cfg.batch = (int)v; break;
        case O_LR: if (cli_double(cmd, "--lr", optarg, &cfg.lr)) return 2; break;
        case O_MOM: if (cli_double(cmd, "--momentum", optarg, &cfg.momentum)) return 2; break;
        case O_WD: if (cli_double(cmd, "--wd", optarg, &cfg.weight_decay)) return 2; break;
        case O_NEST: if (cli_int(cmd, "--nesterov", optarg, 0, 1, &v)) return 2; cfg.nesterov = (int)v; break;
        case O_SMIN:
            if (cli_double(cmd, "--scale-min", optarg, &d)) return 2;
            if (!(d > 0 && d <= 1)) return cli_usage_error(cmd, "--scale-min must be in (0, 1]");
            cfg.scale_min = d;
            break;
        case O_STRONG: if (cli_int(cmd, "--strong", optarg, 0, 1, &v)) return 2; cfg.strong = (int)v; break;
        case O_JITTER:
            if (cli_double(cmd, "--jitter", optarg, &d)) return 2;
            if (!(d >= 0 && d <= 1)) return cli_usage_error(cmd, "--jitter must be in [0, 1]");
            cfg.jitter = d;
            break;
        case O_SEED: if (cli_int(cmd, "--seed", optarg, 0, 1L << 62, &v)) return 2; cfg.seed = (uint64_t)v; break;
        case O_QUEUE: if (cli_int(cmd, "--queue", optarg, 1, 1 << 24, &v)) return 2; cfg.moco.queue = (int)v; break;
        case O_DIM: if (cli_int(cmd, "--dim", optarg, 1, 65536, &v)) return 2; cfg.moco.dim = (int)v; break;
        case O_KMOM: if (cli_double(cmd, "--key-momentum", optarg, &cfg.moco.m)) return 2; break;
        case O_TEMP: if (cli_double(cmd, "--temperature", optarg, &cfg.moco.t)) return 2; break;
        case O_GROUPS: if (cli_int(cmd, "--bn-groups", optarg, 1, 4096, &v)) return 2; cfg.moco.groups = (int)v; break;
        case O_LTHREADS: if (cli_int(cmd, "--loader-threads", optarg, 1, 256, &v)) return 2; cfg.loader_threads = (int)v; break;
        case O_EVERY: if (cli_int(cmd, "--ckpt-every", optarg, 0, 1L << 40, &v)) return 2; cfg.ckpt_every = (int)v; break;
        case O_STOP: if (cli_int(cmd, "--stop-after", optarg, 1, 1L << 40, &v)) return 2; cfg.stop_after = v; break;
        case O_THREADS: if (cli_int(cmd, "--threads", optarg, 1, 1024, &threads)) return 2; break;
        case O_QUIET: quiet = 1; break;
        default: return cli_usage_error(cmd, "unrecognised option");
        }
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!out)
        return cli_usage_error(cmd, "--out DIR is required");
    if (!name)
        name = method == UF_PRETRAIN_MOCO ? "moco-v2" : "supervised";
    cli_set_threads(threads);
    shown s = {.name = name, .last = -1e9};
    if (!quiet) {
        cfg.progress = progress;
        cfg.progress_ctx = &s;
    }
    uf_err e;
    int finished;
    double t0 = uf_now();
    if (uf_pretrain(&cfg, out, name, &finished, &e))
        return cli_error(cmd, &e);
    if (!quiet)
        fprintf(stderr, "[pretrain %s] %s in %.1f s: %s/%s.%s\n", name, finished ? "done" : "stopped", uf_now() - t0,
                out, name, finished ? "ckpt" : "state.ckpt");
    return 0;
}
