#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/alloc.h"
#include "run/manifest.h"
#include "run/runner.h"

static const char *const help =
    "usage: uotft run [MANIFEST.ini ...] [--tier T[,T...]] [--check] [--out-root DIR] [--no-plot]\n"
    "                 [--set KEY=VALUE ...] [--threads N]\n"
    "\n"
    "Runs experiment manifests (one per table or figure, experiments/*.ini) for the given\n"
    "tiers: features (exact results from the released class means), mini (the paper in\n"
    "miniature) or full (the paper's own setting); default features,mini, the main job.\n"
    "Without manifests, runs every manifest in experiments/ that defines the tier.\n"
    "Writes, under the project root (or DIR):\n"
    "  results/<tier>/<name>.csv   long format: one row per measurement, every grid coordinate\n"
    "  results/<tier>/<name>.md    our numbers beside the paper's, and the difference\n"
    "  plots/<name>.png|svg        for manifests with a plot (features tier; other tiers\n"
    "                              under plots/<tier>/)\n"
    "--set KEY=VALUE overrides a setting of every manifest run (repeatable), e.g. the mini\n"
    "tier's folders: --set world=/tmp/mini --set features=/tmp/mini/features. Any other\n"
    "override can change the numbers: it is named in the CSV (an `overrides` column) and the\n"
    "report, and without --out-root they are written beside the manifest's own results, as\n"
    "results/<tier>/<name>.set-<hash>.csv|md, never over them.\n"
    "--check compares with the paper's numbers in the manifest and exits with status 3 if\n"
    "any differs by more than the manifest's tolerance. Progress goes to stderr.\n"
    "Examples:  uotft run\n"
    "           uotft run --tier features\n"
    "           uotft run experiments/table4.ini --tier features --check\n";

enum { O_TIER = 256, O_CHECK, O_OUT, O_NOPLOT, O_SET, O_THREADS, O_HELP };

static const struct option opts[] = {
    {"tier", required_argument, 0, O_TIER},    {"check", no_argument, 0, O_CHECK},
    {"out-root", required_argument, 0, O_OUT}, {"no-plot", no_argument, 0, O_NOPLOT},
    {"set", required_argument, 0, O_SET},
    {"threads", required_argument, 0, O_THREADS}, {"help", no_argument, 0, O_HELP},
    {0, 0, 0, 0},
};

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The .ini files of the source tree's experiments/ folder, sorted. */
/* The manifests in experiments/, sorted, in *out: their count, or -1 with e set. */
static int list_manifests(char ***out, uf_err *e)
{
    const char *dir = UOTFT_SOURCE_DIR "/experiments";
    DIR *d = opendir(dir);
    int n = 0;
    char **list = NULL;
    struct dirent *de;
    while (d && n >= 0 && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".ini") != 0)
            continue;
        char **grown = uf_realloc(list, (size_t)n + 1, sizeof *list, e);
        char *path = grown ? uf_alloc(strlen(dir) + l + 2, e) : NULL;
        if (grown)
            list = grown;
        if (!path) {
            while (n > 0)
                free(list[--n]);
            n = -1;
            break;
        }
        sprintf(path, "%s/%s", dir, de->d_name);
        list[n++] = path;
    }
    if (d)
        closedir(d);
    if (n < 0) {
        free(list);
        return -1;
    }
    qsort(list, (size_t)n, sizeof *list, cmp_str);
    *out = list;
    return n;
}

/* Runs the manifests for one tier (o->tier); with `filter`, skips those that do not define it.
 * Returns the exit status so far: 1 on an error, 3 on a missed paper number, else 0. */
static int run_tier(const char *cmd, char **paths, int n, int filter, uf_run_opts *o, int *ran)
{
    int status = 0;
    for (int i = 0; i < n; i++) {
        uf_err e;
        if (filter) {
            uf_manifest m;
            if (uf_manifest_load(paths[i], o->tier, &m, &e) == 0)
                uf_manifest_free(&m);
            else if (strstr(e.msg, "no tier"))
                continue;
        }
        int mismatches = 0;
        (*ran)++;
        if (uf_run_manifest(paths[i], o, &mismatches, &e)) {
            cli_error(cmd, &e);
            status = 1;
        } else if (mismatches && status == 0) {
            status = 3;
        }
    }
    return status;
}

int cmd_run(int argc, char **argv)
{
    const char *cmd = "run", *tier_list = "features,mini"; /* the main job */
    uf_run_opts o = {0};
    long threads = 0;
    int c, tier_given = 0;
    uf_err e;
    char **set = uf_calloc((size_t)argc, sizeof *set, &e);
    if (!set)
        return cli_error(cmd, &e);
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_TIER: tier_list = optarg; tier_given = 1; break;
        case O_CHECK: o.check = 1; break;
        case O_OUT: o.out_root = optarg; break;
        case O_NOPLOT: o.no_plot = 1; break;
        case O_SET: set[o.nset++] = optarg; break;
        case O_THREADS: if (cli_int(cmd, "--threads", optarg, 1, 1024, &threads)) { free(set); return 2; } break;
        case O_HELP: fputs(help, stdout); free(set); return 0;
        default: free(set); return cli_usage_error(cmd, "unrecognised option");
        }
    }
    cli_set_threads(threads);
    o.set = set;
    char **given = argv + optind, **all = NULL, *tiers = uf_strdup(tier_list, &e);
    int ngiven = argc - optind, nall = ngiven || !tiers ? 0 : list_manifests(&all, &e);
    if (!tiers || nall < 0) {
        free(tiers);
        free(set);
        return cli_error(cmd, &e);
    }
    int status = 0, ran = 0;
    for (char *save = NULL, *tier = strtok_r(tiers, ",", &save); tier; tier = strtok_r(NULL, ",", &save)) {
        o.tier = tier;
        int st = run_tier(cmd, ngiven ? given : all, ngiven ? ngiven : nall, !ngiven || !tier_given, &o, &ran);
        status = status == 1 || st == 1 ? 1 : status ? status : st;
    }
    if (ran == 0 && status == 0) {
        fprintf(stderr, "uotft run: no manifest defines tier '%s'\n", tiers);
        status = 1;
    }
    for (int i = 0; i < nall; i++)
        free(all[i]);
    free(all);
    free(tiers);
    free(set);
    return status;
}
