#define _POSIX_C_SOURCE 200809L /* setenv, popen */
/* uotft bench train|infer: ResNet training steps or inference against
 * PyTorch on the same setting and thread count, in the same run, with the
 * OpenBLAS sgemm peak measured alongside. */
#define _POSIX_C_SOURCE 200809L /* popen */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/alloc.h"
#include "core/parallel.h"
#include "nn/conv_direct.h"
#include "nn/resnet.h"
#include "train/throughput.h"

static const char *const help =
    "usage: uotft bench train|infer [--arch A] [--size S] [--batch B] [--steps N] [--threads N]\n"
    "                               [--conv im2col|direct|both] [--no-torch] [--python PY] [--torch-script F]\n"
    "\n"
    "train: forward (BatchNorm in train mode), cross-entropy on a 1000-class head, backward\n"
    "and an SGD step (momentum 0.9, Nesterov, weight decay 1e-4) on random images;\n"
    "infer: the eval-mode forward. Defaults: --arch resnet18 --size 224 --batch 64 --steps 3,\n"
    "after one warm-up step. Prints images/s, GFLOP/s (2 per multiply-add of the\n"
    "convolutions and linear layers; training counts forward, weight and input gradients)\n"
    "and its share of two ceilings measured in the same run: %sgemm, the OpenBLAS sgemm rate\n"
    "(2048^3, best of 3), and %fma, the cores' multiply-add peak (independent FMA chains in\n"
    "the widest vectors the CPU has; the direct conv path does not use sgemm, so it can pass\n"
    "100% of the first, never of the second).\n"
    "Unless --no-torch, runs bench/torch_resnet.py under Debian's /usr/bin/python3 with\n"
    "the same setting and thread count, in NCHW and channels_last, and prints the ratio to\n"
    "the faster. Timings on a shared machine are noisy; there, set OMP_WAIT_POLICY=passive\n"
    "(both sides inherit it): spinning OpenMP threads otherwise steal the busy core.\n"
    "--conv sets UOTFT_CONV (engine/nn/conv_direct.h) for our side; both times im2col, then\n"
    "direct, and prints a row for each (last column: the path). Default: UOTFT_CONV as set\n"
    "(unset: direct where the CPU has AVX-512F).\n"
    "bench/nn_speed_table.sh prints the rows of the speed table.\n";

enum { O_ARCH = 256, O_SIZE, O_BATCH, O_STEPS, O_THREADS, O_NOTORCH, O_PY, O_SCRIPT, O_CONV, O_HELP };

static const struct option opts[] = {
    {"arch", required_argument, 0, O_ARCH},       {"size", required_argument, 0, O_SIZE},
    {"batch", required_argument, 0, O_BATCH},     {"steps", required_argument, 0, O_STEPS},
    {"threads", required_argument, 0, O_THREADS}, {"no-torch", no_argument, 0, O_NOTORCH},
    {"python", required_argument, 0, O_PY},       {"torch-script", required_argument, 0, O_SCRIPT},
    {"conv", required_argument, 0, O_CONV},       {"help", no_argument, 0, O_HELP},
    {0, 0, 0, 0},
};

/* images/s and GFLOP/s of our side on a fresh model */
static int time_path(const char *arch_name, int train, int batch, int size, int steps, double *ips,
                     double *gflops, uf_err *e)
{
    uf_arch a;
    uf_throughput t;
    if (uf_arch_parse(arch_name, &a, e) || uf_measure_throughput(&a, train, batch, size, steps, &t, e))
        return -1;
    *ips = t.images_per_s, *gflops = t.gflops;
    return 0;
}

/* images/s of torch in NCHW and channels_last (NAN when it did not run) */
static void time_torch(const char *python, const char *script, const char *mode, const char *arch, int size,
                       int batch, int steps, double ips[2])
{
    char cmdline[4096];
    snprintf(cmdline, sizeof cmdline, "OMP_NUM_THREADS=%d '%s' '%s' %s %s %d %d %d %d 2>&1", uf_threads(), python,
             script, mode, arch, size, batch, steps, uf_threads());
    cli_torch_layouts(cmdline, "torch_resnet.py", ips);
}

int bench_nn(int argc, char **argv)
{
    const char *cmd = "bench";
    const char *mode = argv[0], *arch_name = "resnet18", *python = "/usr/bin/python3";
    const char *script = UOTFT_SOURCE_DIR "/bench/torch_resnet.py";
    long size = 224, batch = 64, steps = 3, threads = 0;
    const char *conv = NULL;
    int torch = 1, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_ARCH: arch_name = optarg; break;
        case O_SIZE: if (cli_int(cmd, "--size", optarg, 8, 4096, &size)) return 2; break;
        case O_BATCH: if (cli_int(cmd, "--batch", optarg, 1, 1 << 16, &batch)) return 2; break;
        case O_STEPS: if (cli_int(cmd, "--steps", optarg, 1, 1 << 20, &steps)) return 2; break;
        case O_THREADS: if (cli_int(cmd, "--threads", optarg, 1, 1024, &threads)) return 2; break;
        case O_NOTORCH: torch = 0; break;
        case O_PY: python = optarg; break;
        case O_SCRIPT: script = optarg; break;
        case O_CONV: conv = optarg; break;
        case O_HELP: fputs(help, stdout); return 0;
        default: return cli_usage_error(cmd, "unrecognised option");
        }
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    static const char *const paths[] = {"im2col", "direct"};
    int p0 = 0, p1 = -1; /* the paths to time, [p0, p1]; none: UOTFT_CONV as set */
    if (conv && strcmp(conv, "both") == 0)
        p1 = 1;
    else if (conv && (strcmp(conv, "im2col") == 0 || strcmp(conv, "direct") == 0))
        p0 = p1 = strcmp(conv, "direct") == 0;
    else if (conv)
        return cli_usage_error(cmd, "--conv must be im2col, direct or both, not '%s'", conv);
    cli_set_threads(threads);
    const int train = strcmp(mode, "train") == 0;
    const char *label = uf_conv_path();
    double peak = uf_sgemm_gflops(), fma = uf_fma_peak_gflops(), ips[2], gflops[2];
    int n = p1 < 0 ? 1 : p1 - p0 + 1;
    for (int k = 0; k < n; k++) {
        if (p1 >= 0)
            setenv("UOTFT_CONV", paths[p0 + k], 1);
        uf_err e;
        if (time_path(arch_name, train, (int)batch, (int)size, (int)steps, &ips[k], &gflops[k], &e))
            return cli_error(cmd, &e);
    }
    double tips[2] = {NAN, NAN};
    if (torch)
        time_torch(python, script, mode, arch_name, (int)size, (int)batch, (int)steps, tips);
    printf("# %s %s, %ld x %ld, batch %ld, %d threads, %ld steps after a warm-up; sgemm %.1f GFLOP/s, "
           "FMA peak %.1f GFLOP/s\n",
           mode, arch_name, size, size, batch, uf_threads(), steps, peak, fma);
    printf("%-10s %-8s %6s %6s %12s %10s %8s %8s %12s %14s %9s %7s\n", "mode", "arch", "size", "batch",
           "uotft_img/s", "GFLOP/s", "%sgemm", "%fma", "torch_nchw", "torch_chlast", "speedup", "conv");
    double best = fmax(tips[0], tips[1]); /* NAN when torch did not run */
    for (int k = 0; k < n; k++)
        printf("%-10s %-8s %6ld %6ld %12.2f %10.1f %7.1f%% %7.1f%% %12.2f %14.2f %8.2fx %7s\n", mode, arch_name, size,
               batch, ips[k], gflops[k], 100 * gflops[k] / peak, 100 * gflops[k] / fma, tips[0], tips[1],
               ips[k] / best, p1 < 0 ? label : paths[p0 + k]);
    if (torch && isnan(best))
        printf("# PyTorch did not run: install python3-torch and python3-torchvision, or pass --no-torch\n");
    return 0;
}
