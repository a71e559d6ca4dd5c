/* uotft bench finetune: one labelled fine-tuning step (SPEC eq. 6) against the PyTorch
 * transcription in bench/torch_finetune.py, same setting and thread count, in the same run. */
#define _POSIX_C_SOURCE 200809L /* popen */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/dist.h"
#include "core/parallel.h"
#include "train/finetune.h"

static const char *const help =
    "usage: uotft bench finetune [--setting mini|full|both] [--steps N] [--threads N] [--no-torch]\n"
    "                            [--size PX] [--batch B] [--python PY]\n"
    "\n"
    "Times one step of the labelled recipe: a train-mode forward over the joint batch [target,\n"
    "source], cross-entropy on a target head and lambda x cross-entropy on a source head, backward\n"
    "and SGD (Nesterov, weight decay, heads at 10x), on random images; the engine's own step code.\n"
    "  mini: the mini backbone small:16,32,64,128:1,1,1,1 at 28 px, batch 64 + 64, 10 + 565 classes\n"
    "  full: ResNet-18 at 224 px, batch 32 + 32, 200 + 1000 classes (CUB and ImageNet)\n"
    "Unless --no-torch, bench/torch_finetune.py runs the same step under Debian's /usr/bin/python3\n"
    "in NCHW and channels_last, and the ratio is to the faster. Default --steps 20 (mini), 3 (full).\n"
    "--size and --batch (target and source batch alike) replace the setting's.\n"
    "Under mpirun (a build with UOTFT_MPI) each of the P ranks steps on its 1/P of the batch and the\n"
    "gradients are averaged, as `mpirun -np P uotft finetune`; images/s are the whole batch's, PyTorch\n"
    "is not run.\n";

typedef struct setting {
    const char *name, *arch;
    int size, batch, source_batch, kt, ks, steps;
} setting;

static const setting settings[] = {
    {"mini", "small:16,32,64,128:1,1,1,1", 28, 64, 64, 10, 565, 20},
    {"full", "resnet18", 224, 32, 32, 200, 1000, 3},
};

enum { O_SETTING = 256, O_STEPS, O_THREADS, O_NOTORCH, O_PY, O_SIZE, O_BATCH, O_HELP };
static const struct option opts[] = {
    {"setting", required_argument, 0, O_SETTING}, {"steps", required_argument, 0, O_STEPS},
    {"threads", required_argument, 0, O_THREADS}, {"no-torch", no_argument, 0, O_NOTORCH},
    {"python", required_argument, 0, O_PY},       {"size", required_argument, 0, O_SIZE},
    {"batch", required_argument, 0, O_BATCH},     {"help", no_argument, 0, O_HELP},
    {0, 0, 0, 0},
};

/* images/s of torch in NCHW and channels_last (NAN where it did not run) */
static void time_torch(const char *python, const setting *s, int steps, double ips[2])
{
    char cmdline[4096];
    snprintf(cmdline, sizeof cmdline, "OMP_NUM_THREADS=%d '%s' '%s' '%s' %d %d %d %d %d %d %d 2>&1", uf_threads(),
             python, UOTFT_SOURCE_DIR "/bench/torch_finetune.py", s->arch, s->size, s->batch, s->source_batch, s->kt,
             s->ks, steps, uf_threads());
    cli_torch_layouts(cmdline, "torch_finetune.py", ips);
}

static int run_setting(const setting *s, long steps, int torch, const char *python)
{
    uf_finetune_cfg c;
    uf_finetune_defaults(&c, UF_RECIPE_LABELLED);
    snprintf(c.arch, sizeof c.arch, "%s", s->arch);
    c.size = s->size;
    c.batch = s->batch;
    c.source_batch = s->source_batch;
    int n = steps > 0 ? (int)steps : s->steps;
    double sec, tips[2] = {NAN, NAN};
    uf_err e;
    if (uf_finetune_bench(&c, s->kt, s->ks, n, &sec, &e))
        return cli_error("bench", &e);
    if (uf_dist_rank() != 0)
        return 0;
    if (torch)
        time_torch(python, s, n, tips);
    double ips = (s->batch + s->source_batch) / sec, best = fmax(tips[0], tips[1]);
    printf("%-6s %-28s %5d %5d+%-4d %12.1f %12.1f %14.1f %8.2fx\n", s->name, s->arch, s->size, s->batch,
           s->source_batch, ips, tips[0], tips[1], ips / best);
    if (torch && isnan(best))
        printf("# PyTorch did not run: install python3-torch and python3-torchvision, or pass --no-torch\n");
    return 0;
}

int bench_finetune(int argc, char **argv)
{
    const char *cmd = "bench", *which = "both", *python = "/usr/bin/python3";
    long steps = 0, threads = 0, size = 0, batch = 0;
    int torch = 1, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_SETTING: which = optarg; break;
        case O_STEPS: if (cli_int(cmd, "--steps", optarg, 1, 1 << 20, &steps)) return 2; break;
        case O_THREADS: if (cli_int(cmd, "--threads", optarg, 1, 1024, &threads)) return 2; break;
        case O_NOTORCH: torch = 0; break;
        case O_PY: python = optarg; break;
        case O_SIZE: if (cli_int(cmd, "--size", optarg, 8, 4096, &size)) return 2; break;
        case O_BATCH: if (cli_int(cmd, "--batch", optarg, 1, 65536, &batch)) return 2; break;
        case O_HELP: fputs(help, stdout); return 0;
        default: return cli_usage_error(cmd, "unrecognised option");
        }
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (strcmp(which, "mini") && strcmp(which, "full") && strcmp(which, "both"))
        return cli_usage_error(cmd, "--setting is mini, full or both, not '%s'", which);
    cli_set_threads(threads);
    uf_err e;
    if (uf_dist_init(NULL, NULL, &e))
        return cli_error(cmd, &e);
    torch = torch && uf_dist_size() == 1;
    if (uf_dist_rank() == 0)
        printf("# one labelled fine-tuning step, %d threads x %d process(es), images/s (target + source images "
               "per step)\n", uf_threads(), uf_dist_size());
    if (uf_dist_rank() == 0)
        printf("%-6s %-28s %5s %10s %12s %12s %14s %9s\n", "set", "arch", "size", "batch", "uotft", "torch_nchw",
               "torch_chlast", "speedup");
    for (size_t k = 0; k < sizeof settings / sizeof settings[0]; k++) {
        setting s = settings[k];
        s.size = size ? (int)size : s.size;
        s.batch = s.source_batch = batch ? (int)batch : s.batch;
        if ((!strcmp(which, "both") || !strcmp(which, s.name)) && run_setting(&s, steps, torch, python))
            uf_dist_abort(1); /* the other ranks would wait for this one */
    }
    uf_dist_finalize();
    return 0;
}
