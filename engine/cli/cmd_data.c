/* uotft data list|show|stats: the data set readers from the command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/alloc.h"
#include "core/fileio.h"
#include "data/dataset.h"
#include "data/image.h"

static const char *const help =
    "usage: uotft data list  --dataset NAME --root DIR --split train|test [--out FILE.tsv] [--seed N]\n"
    "       uotft data show  --dataset NAME --root DIR [--split train|test] --index I --out IMG.png [--seed N]\n"
    "       uotft data stats --dataset NAME --root DIR [--split train|test] [--seed N]\n"
    "\n"
    "NAME: imagenet, cub, dogs, cars, pets, sun397, aircraft, dtd, caltech101, imagefolder, idx.\n"
    "DIR: the folder where datasets/fetch NAME put the data set's files, archives as downloaded\n"
    "(imagefolder: root/class/image, or root/train and root/test; idx: the four IDX files).\n"
    "\n"
    "list   writes one 'source<TAB>label' row per image of the split (source: the path inside the\n"
    "       archive or folder), to FILE.tsv or standard output, and prints the count.\n"
    "show   decodes row I of the split (the order of 'data list') and writes it as a PNG.\n"
    "stats  prints the image count per class of each split (both unless --split).\n"
    "--seed draws the caltech101 split (30 training images per class; default 0).\n";

enum { O_DATASET = 256, O_ROOT, O_SPLIT, O_OUT, O_INDEX, O_SEED, O_THREADS, O_HELP };

static const struct option opts[] = {
    {"dataset", required_argument, 0, O_DATASET}, {"root", required_argument, 0, O_ROOT},
    {"split", required_argument, 0, O_SPLIT},     {"out", required_argument, 0, O_OUT},
    {"index", required_argument, 0, O_INDEX},     {"seed", required_argument, 0, O_SEED},
    {"threads", required_argument, 0, O_THREADS}, {"help", no_argument, 0, O_HELP},
    {0, 0, 0, 0},
};

static int do_list(const uf_dataset *ds, const char *out)
{
    uf_err e;
    uf_out o;
    FILE *f = stdout;
    if (out) {
        if (uf_out_open(&o, out, &e))
            return cli_error("data list", &e);
        f = o.f;
    }
    fprintf(f, "source\tlabel\n");
    for (int i = 0; i < ds->n; i++)
        fprintf(f, "%s\t%d\n", ds->source[i], ds->label[i]);
    if (out && uf_out_commit(&o, &e))
        return cli_error("data list", &e);
    fprintf(out ? stdout : stderr, "%d images, %d classes%s%s\n", ds->n, ds->nclasses, out ? " -> " : "",
            out ? out : "");
    return 0;
}

static int do_show(const uf_dataset *ds, long index, const char *out)
{
    uf_err e;
    uf_image im;
    if (index >= ds->n)
        return cli_usage_error("data show", "--index %ld is past the split's %d images", index, ds->n);
    if (uf_dataset_image(ds, (int)index, &im, &e) || uf_image_write_png(out, &im, &e))
        return cli_error("data show", &e);
    printf("%s (label %d, %s): %dx%d -> %s\n", ds->source[index], ds->label[index], ds->classes[ds->label[index]],
           im.w, im.h, out);
    uf_image_free(&im);
    return 0;
}

/* The per-class table of the listed splits (have[s]), counted into count[s]. */
static void print_stats(const uf_dataset ds[2], const int have[2], long *const count[2])
{
    const uf_dataset *ref = have[0] ? &ds[0] : &ds[1];
    for (int s = 0; s < 2; s++)
        for (int i = 0; have[s] && i < ds[s].n; i++)
            if (ds[s].label[i] < ref->nclasses)
                count[s][ds[s].label[i]]++;
    printf("label\tclass%s%s\n", have[0] ? "\ttrain" : "", have[1] ? "\ttest" : "");
    for (int k = 0; k < ref->nclasses; k++) {
        printf("%d\t%s", k, ref->classes[k]);
        for (int s = 0; s < 2; s++)
            if (have[s])
                printf("\t%ld", count[s][k]);
        printf("\n");
    }
    printf("total\t%d classes", ref->nclasses);
    for (int s = 0; s < 2; s++)
        if (have[s])
            printf("\t%d", ds[s].n);
    printf("\n");
}

static int do_stats(const char *name, const char *root, const char *split, long seed)
{
    uf_dataset ds[2];
    static const char *const splits[] = {"train", "test"};
    int have[2] = {0, 0};
    uf_err e;
    for (int s = 0; s < 2; s++) {
        if (split && strcmp(split, splits[s]) != 0)
            continue;
        if (uf_dataset_list(&ds[s], name, root, splits[s], (uint64_t)seed, &e)) {
            for (int k = 0; k < s; k++)
                if (have[k])
                    uf_dataset_free(&ds[k]);
            return cli_error("data stats", &e);
        }
        have[s] = 1;
    }
    size_t nc = (size_t)(have[0] ? &ds[0] : &ds[1])->nclasses;
    long *count[2] = {uf_calloc(nc, sizeof(long), &e), uf_calloc(nc, sizeof(long), &e)};
    int ok = count[0] && count[1];
    if (ok)
        print_stats(ds, have, count);
    for (int s = 0; s < 2; s++) {
        free(count[s]);
        if (have[s])
            uf_dataset_free(&ds[s]);
    }
    return ok ? 0 : cli_error("data stats", &e);
}

int cmd_data(int argc, char **argv)
{
    const char *cmd = "data";
    const char *name = NULL, *root = NULL, *split = NULL, *out = NULL;
    long index = -1, seed = 0, threads = 0;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *what = argv[1];
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DATASET: name = optarg; break;
        case O_ROOT: root = optarg; break;
        case O_SPLIT: split = optarg; break;
        case O_OUT: out = optarg; break;
        case O_INDEX: if (cli_int(cmd, "--index", optarg, 0, 1L << 31, &index)) return 2; break;
        case O_SEED: if (cli_int(cmd, "--seed", optarg, 0, 1L << 62, &seed)) return 2; break;
        case O_THREADS: if (cli_int(cmd, "--threads", optarg, 1, 1024, &threads)) return 2; break;
        case O_HELP: fputs(help, stdout); return 0;
        default: return cli_usage_error(cmd, "unrecognised option");
        }
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (strcmp(what, "list") != 0 && strcmp(what, "show") != 0 && strcmp(what, "stats") != 0)
        return cli_usage_error(cmd, "unknown action '%s' (list, show, stats)", what);
    if (!name || !root)
        return cli_usage_error(cmd, "--dataset and --root are required");
    if (split && strcmp(split, "train") != 0 && strcmp(split, "test") != 0)
        return cli_usage_error(cmd, "--split must be train or test, not '%s'", split);
    cli_set_threads(threads);
    if (strcmp(what, "stats") == 0)
        return do_stats(name, root, split, seed);
    if (strcmp(what, "list") == 0 && !split)
        return cli_usage_error(cmd, "data list needs --split train|test");
    if (strcmp(what, "show") == 0 && (index < 0 || !out))
        return cli_usage_error(cmd, "data show needs --index I and --out IMG.png");
    uf_dataset ds;
    uf_err e;
    if (uf_dataset_list(&ds, name, root, split ? split : "train", (uint64_t)seed, &e))
        return cli_error(cmd, &e);
    int rc = strcmp(what, "list") == 0 ? do_list(&ds, out) : do_show(&ds, index, out);
    uf_dataset_free(&ds);
    return rc;
}
