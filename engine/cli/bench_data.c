/* uotft bench data: the loader against torchvision's DataLoader with PIL, same JPEG files, same
 * worker count, same transforms (RandomResizedCrop(224) + flip + ToTensor + Normalize), one run. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/fileio.h"
#include "core/parallel.h"
#include "data/loader.h"

static const char *const help =
    "usage: uotft bench data [--root DIR] [--images N] [--workers N] [--batch N] [--epochs N]\n"
    "                        [--python PY] [--script F] [--no-torch]\n"
    "\n"
    "Times epochs of the data loader (ImageFolder at DIR, RandomResizedCrop(224) + flip + normalise)\n"
    "and, in the same run, torchvision's ImageFolder + DataLoader with PIL on the same JPEG files with\n"
    "the same number of workers (bench/torchvision_data.py under Debian's /usr/bin/python3). Without\n"
    "--root, N synthetic 500x375 JPEGs (default 512) are written to a temporary folder first.\n"
    "Prints images/s of the best epoch of each (default 2 epochs, 2 workers, batch 64) and the ratio.\n";

enum { O_ROOT = 256, O_IMAGES, O_WORKERS, O_BATCH, O_EPOCHS, O_PY, O_SCRIPT, O_NOTORCH, O_HELP };

static const struct option opts[] = {
    {"root", required_argument, 0, O_ROOT},       {"images", required_argument, 0, O_IMAGES},
    {"workers", required_argument, 0, O_WORKERS}, {"batch", required_argument, 0, O_BATCH},
    {"epochs", required_argument, 0, O_EPOCHS},   {"python", required_argument, 0, O_PY},
    {"script", required_argument, 0, O_SCRIPT},   {"no-torch", no_argument, 0, O_NOTORCH},
    {"help", no_argument, 0, O_HELP},             {0, 0, 0, 0},
};

/* Best images/s over the epochs of our loader. */
static double ours(const uf_dataset *ds, int workers, int batch, int epochs, long *skipped, uf_err *e)
{
    uf_loader *L;
    uf_loader_cfg cfg = {.batch = batch, .size = 224, .view = UF_VIEW_WEAK, .shuffle = 1, .threads = workers,
                         .prefetch = 2, .seed = 0};
    if (uf_loader_open(&L, ds, &cfg, e))
        return -1;
    double best = 0;
    for (int ep = 0; ep < epochs; ep++) {
        double t0 = uf_now();
        long n = 0;
        uf_loader_start(L, ep);
        const uf_batch *b;
        while ((b = uf_loader_next(L)))
            n += b->n;
        double rate = n / (uf_now() - t0);
        best = rate > best ? rate : best;
        printf("# uotft  epoch %d: %ld images, %.1f images/s\n", ep, n, rate);
    }
    *skipped = uf_loader_skipped(L, NULL);
    uf_loader_close(L);
    return best;
}

static double torch_rate(const char *python, const char *script, const char *root, int workers, int batch,
                         int epochs)
{
    char cmd[8192], line[1024];
    snprintf(cmd, sizeof cmd, "'%s' '%s' run '%s' %d %d %d 2>&1", python, script, root, workers, batch, epochs);
    FILE *f = popen(cmd, "r");
    double best = -1;
    while (f && fgets(line, sizeof line, f)) {
        int ep;
        long n;
        double s;
        if (sscanf(line, "epoch %d %ld %lf", &ep, &n, &s) == 3) {
            printf("# torch  epoch %d: %ld images, %.1f images/s\n", ep, n, n / s);
            best = n / s > best ? n / s : best;
        } else {
            fprintf(stderr, "torchvision_data.py: %s", line);
        }
    }
    if (f)
        pclose(f);
    return best;
}

int bench_data(int argc, char **argv)
{
    const char *cmd = "bench data";
    const char *root = NULL, *python = "/usr/bin/python3", *script = UOTFT_SOURCE_DIR "/bench/torchvision_data.py";
    long images = 512, workers = 2, batch = 64, epochs = 2;
    int torch = 1, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_ROOT: root = optarg; break;
        case O_IMAGES: if (cli_int(cmd, "--images", optarg, 1, 10000000, &images)) return 2; break;
        case O_WORKERS: if (cli_int(cmd, "--workers", optarg, 1, 256, &workers)) return 2; break;
        case O_BATCH: if (cli_int(cmd, "--batch", optarg, 1, 4096, &batch)) return 2; break;
        case O_EPOCHS: if (cli_int(cmd, "--epochs", optarg, 1, 100, &epochs)) return 2; break;
        case O_PY: python = optarg; break;
        case O_SCRIPT: script = optarg; break;
        case O_NOTORCH: torch = 0; break;
        case O_HELP: fputs(help, stdout); return 0;
        default: return cli_usage_error(cmd, "unrecognised option");
        }
    }
    char tmp[] = "/tmp/uotft-bench-data-XXXXXX", line[8192];
    if (!root) {
        if (!mkdtemp(tmp)) {
            fprintf(stderr, "uotft bench data: cannot create a temporary folder\n");
            return 1;
        }
        root = tmp;
        snprintf(line, sizeof line, "'%s' '%s' make '%s' %ld", python, script, root, images);
        printf("# writing %ld synthetic JPEGs (500x375) to %s\n", images, root);
        fflush(stdout);
        if (system(line) != 0) {
            fprintf(stderr, "uotft bench data: %s failed (needs python3-pil and python3-numpy)\n", script);
            return 1;
        }
    }
    uf_dataset ds;
    uf_err e;
    if (uf_dataset_list(&ds, "imagefolder", root, "train", 0, &e))
        return cli_error(cmd, &e);
    printf("# data loading at 224 (RandomResizedCrop + flip + normalise), %d images, %ld workers, batch %ld;\n"
           "# a shared machine is noisy: compare the two columns of this run only\n",
           ds.n, workers, batch);
    long skipped = 0;
    double a = ours(&ds, (int)workers, (int)batch, (int)epochs, &skipped, &e);
    uf_dataset_free(&ds);
    if (a < 0)
        return cli_error(cmd, &e);
    double b = torch ? torch_rate(python, script, root, (int)workers, (int)batch, (int)epochs) : -1;
    printf("%-10s %16s %16s %8s\n", "workers", "uotft_img_per_s", "torch_img_per_s", "ratio");
    printf("%-10ld %16.1f %16.1f %7.2fx\n", workers, a, b, b > 0 ? a / b : 0.0);
    if (skipped)
        printf("# %ld corrupt images skipped\n", skipped);
    if (torch && b < 0)
        printf("# torchvision did not run: install python3-torchvision (ci/apt-packages.txt) or pass --no-torch\n");
    if (root == tmp) {
        snprintf(line, sizeof line, "rm -rf '%s'", tmp);
        if (system(line) != 0)
            fprintf(stderr, "uotft bench data: could not remove %s\n", tmp);
    }
    return 0;
}
