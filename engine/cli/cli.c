#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dist.h"
#include "core/parallel.h"

int cli_error(const char *cmd, const uf_err *e)
{
    if (uf_dist_size() > 1) /* which process of an MPI job */
        fprintf(stderr, "uotft %s (rank %d of %d): error: %s\n", cmd, uf_dist_rank(), uf_dist_size(), e->msg);
    else
        fprintf(stderr, "uotft %s: error: %s\n", cmd, e->msg);
    return 1;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "uotft %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'uotft %s --help'.\n", cmd);
    va_end(ap);
    return 2;
}

int cli_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        cli_usage_error(cmd, "%s expects an integer in [%ld, %ld], got '%s'", opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_double(const char *cmd, const char *opt, const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || isnan(v)) {
        cli_usage_error(cmd, "%s expects a number, got '%s'", opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

void cli_set_threads(long n)
{
    if (n <= 0) {
        const char *env = getenv("UOTFT_THREADS");
        n = env ? strtol(env, NULL, 10) : 0;
    }
    uf_set_threads((int)n);
}

void cli_torch_layouts(const char *cmdline, const char *script, double ips[2])
{
    char line[512];
    ips[0] = ips[1] = NAN;
    FILE *f = popen(cmdline, "r");
    while (f && fgets(line, sizeof line, f)) {
        char layout[64];
        double v;
        if (sscanf(line, "%63s %lf", layout, &v) == 2 && (!strcmp(layout, "nchw") || !strcmp(layout, "channels_last")))
            ips[strcmp(layout, "nchw") != 0] = v;
        else
            fprintf(stderr, "%s: %s", script, line);
    }
    if (f)
        pclose(f);
}
