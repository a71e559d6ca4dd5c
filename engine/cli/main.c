/* uotft: one CLI over the engine library; each subcommand has --help. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/dist.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} commands[] = {
    {"run", cmd_run, "run experiment manifests: results/<tier>/*.csv|md and plots"},
    {"slurm", cmd_slurm, "a tier as Slurm batch jobs: sharded preparation, an array of runs, the tables"},
    {"select", cmd_select, "rank source classes for a target set (UOT, Greedy-OT, random, label)"},
    {"uot", cmd_uot, "solve one unbalanced OT problem given a cost matrix (.npy)"},
    {"convert", cmd_convert, "NumPy pickles to .npy and class tables; list or extract PyTorch weights"},
    {"kmeans", cmd_kmeans, "spherical k-means of feature rows (.npy): centroids and assignments"},
    {"forward", cmd_forward, "a ResNet's logits, pooled features or MoCo head output for images (.npy)"},
    {"export", cmd_export, "a model (checkpoint or weights) as a PyTorch state dict (.pth, zip format)"},
    {"pretrain", cmd_pretrain, "pre-train a backbone on the mini pool: supervised or MoCo v2 (resumable)"},
    {"finetune", cmd_finetune, "fine-tune a backbone: plain, labelled / unlabelled source reuse, Co-Tuning (resumable)"},
    {"features", cmd_features, "per-image features, class means and counts (.npy) through a backbone"},
    {"probe", cmd_probe, "linear probe: multinomial logistic regression on standardised features"},
    {"bench", cmd_bench, "speed benchmarks against the reference implementations"},
    {"data", cmd_data, "data sets: list a split, show an image, per-class counts"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: uotft <command> [options]\n\n"
               "Replication suite for \"Improved Fine-Tuning by Better Leveraging Pre-Training Data\"\n"
               "(Liu et al., NeurIPS 2022).\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'uotft <command> --help' for a command's options.\n"
               "Threads: --threads N on any command, or UOTFT_THREADS; default all cores.\n");
}

/* UOTFT_THREADS is held to the range of --threads: a 0 or a typo would otherwise mean "every core"
 * silently (an empty value counts as unset). */
static int threads_env_ok(const char *cmd)
{
    const char *env = getenv("UOTFT_THREADS");
    long n;
    return !env || !*env || cli_int(cmd, "UOTFT_THREADS", env, 1, 1024, &n) == 0;
}

/* Under mpirun with P > 1 only fine-tuning (and its benchmark) splits its work over the processes;
 * any other command, or any command of a build without MPI, would run P times over the same files. */
static int mpi_ok(int argc, char **argv)
{
    const int p = uf_dist_launched();
    const int splits = strcmp(argv[1], "finetune") == 0 || (strcmp(argv[1], "bench") == 0 && argc > 2 &&
                                                            strcmp(argv[2], "finetune") == 0);
    if (p <= 1 || (splits && uf_dist_built()))
        return 1;
    if (!uf_dist_built())
        fprintf(stderr, "uotft %s: error: started by mpirun with %d processes, but this uotft was built without "
                        "MPI (install libopenmpi-dev and rebuild: CMake's UOTFT_MPI)\n", argv[1], p);
    else
        fprintf(stderr, "uotft %s: error: started by mpirun with %d processes: only `finetune` and `bench "
                        "finetune` run data-parallel; run it without mpirun\n", argv[1], p);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("uotft %s\n", UOTFT_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return threads_env_ok(argv[1]) && mpi_ok(argc, argv) ? commands[i].fn(argc - 1, argv + 1) : 2;
    fprintf(stderr, "uotft: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
