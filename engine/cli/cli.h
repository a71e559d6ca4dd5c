/* Shared pieces of the uotft subcommands. Each subcommand is a function
 * int cmd_X(int argc, char **argv) that returns the process exit status. */
#ifndef UF_CLI_H
#define UF_CLI_H

#include <getopt.h>

#include "core/err.h"

int cmd_select(int argc, char **argv);
int cmd_uot(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_slurm(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_data(int argc, char **argv);
/* uotft bench data (engine/cli/bench_data.c), dispatched from cmd_bench */
int bench_data(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_kmeans(int argc, char **argv);
int cmd_forward(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_pretrain(int argc, char **argv);
int cmd_finetune(int argc, char **argv);
int cmd_features(int argc, char **argv);
int cmd_probe(int argc, char **argv);
/* uotft bench kmeans (engine/cli/bench_kmeans.c); argv[0] is "kmeans" */
int bench_kmeans(int argc, char **argv);
/* uotft bench train|infer (engine/cli/bench_nn.c); argv[0] is the mode */
int bench_nn(int argc, char **argv);
/* uotft bench finetune (engine/cli/bench_finetune.c); argv[0] is "finetune" */
int bench_finetune(int argc, char **argv);

/* Prints "uotft <cmd>: error: <msg>" and returns exit status 1. */
int cli_error(const char *cmd, const uf_err *e);
/* Prints a usage problem plus a pointer to --help; returns exit status 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Strict number parsing of an option value; on failure reports and returns -1. */
int cli_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out);
int cli_double(const char *cmd, const char *opt, const char *s, double *out);
/* Threads: --threads N, else $UOTFT_THREADS, else every core. */
void cli_set_threads(long n);

/* Runs a benchmark's PyTorch side (cmdline, under popen) and reads its "nchw <images/s>" and
 * "channels_last <images/s>" lines into ips[0] and ips[1] (NAN where absent); other lines go to
 * stderr prefixed with `script`. */
void cli_torch_layouts(const char *cmdline, const char *script, double ips[2]);

#endif
