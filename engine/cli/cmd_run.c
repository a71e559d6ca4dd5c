#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cli.h"
#include "core/alloc.h"
#include "core/parallel.h"
#include "run/manifest.h"
#include "run/plan.h"
#include "run/runner.h"

static const char *const help =
    "usage: uotft run [MANIFEST.ini ...] [--tier T[,T...]] [--check] [--out-root DIR] [--no-plot]\n"
    "                 [--set KEY=VALUE ...] [--sample] [--plan] [--jobs N] [--shard I/N] [--collect]\n"
    "                 [--prepare-only] [--threads N]\n"
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
    "--sample runs only the jobs a manifest's `sample` setting names (one cell, one seed: the\n"
    "regression sample CI compares with the committed results; use it with --out-root).\n"
    "Fine-tuning runs live in their own folders (the `runs` setting), named by their settings:\n"
    "a run asked for twice, or by two manifests, is computed once, and a killed `uotft run`\n"
    "started again goes on from the runs it finished. Progress and the ETA of the whole\n"
    "invocation go to stderr.\n"
    "--jobs N runs a fine-tuning manifest's jobs in N worker processes first (each run with the\n"
    "thread count its manifest sets, `threads`), then writes the tables; the numbers are the\n"
    "same as with one process. Default: one worker per core.\n"
    "--shard I/N runs only the distinct runs k of the named manifests (as --plan lists them)\n"
    "with k mod N = I, and writes no tables: what each --jobs worker does, and how a Slurm array\n"
    "task (uotft slurm) takes its share; runs are found in the shared `runs` folder.\n"
    "--collect writes the tables, reports and figures from finished runs only (an unfinished one\n"
    "is an error, never trained): after every shard is done, the same bytes as one whole run.\n"
    "--prepare-only runs the tiers' preparation alone; with --shard I/N only its sharded part\n"
    "(the full tier: rows I of N of ImageNet's features, for both backbones), which a later\n"
    "--prepare-only without --shard merges exactly before going on.\n"
    "(--progress DONE/TOTAL/SECONDS is set by --jobs for its workers: their progress counts\n"
    "the whole run, and they stop when it does.)\n"
    "--plan prints what the run would do instead of doing it: the preparation's stages and every\n"
    "distinct fine-tuning run (a run two jobs or manifests ask for is listed once), each with its\n"
    "estimated cost in core-hours and the disk it keeps, and the totals, with wall times on\n"
    "2 to 256 cores. The costs come from training and inference rates measured here first\n"
    "(a few seconds each); split sizes from the data when it is there, else the manifest's.\n"
    "--check compares with the paper's numbers in the manifest and exits with status 3 if\n"
    "any differs by more than the manifest's tolerance.\n"
    "Examples:  uotft run\n"
    "           uotft run --tier features\n"
    "           uotft run experiments/table4.ini --tier features --check\n";

enum {
    O_TIER = 256, O_CHECK, O_OUT, O_NOPLOT, O_SET, O_SAMPLE, O_PLAN, O_COLLECT, O_PREPARE,
    O_JOBS, O_SHARD, O_PROGRESS, O_THREADS, O_HELP
};

static const struct option opts[] = {
    {"tier", required_argument, 0, O_TIER},    {"check", no_argument, 0, O_CHECK},
    {"out-root", required_argument, 0, O_OUT}, {"no-plot", no_argument, 0, O_NOPLOT},
    {"set", required_argument, 0, O_SET},      {"sample", no_argument, 0, O_SAMPLE},
    {"plan", no_argument, 0, O_PLAN},         {"collect", no_argument, 0, O_COLLECT},
    {"prepare-only", no_argument, 0, O_PREPARE},
    {"jobs", required_argument, 0, O_JOBS},    {"shard", required_argument, 0, O_SHARD},
    {"progress", required_argument, 0, O_PROGRESS},
    {"threads", required_argument, 0, O_THREADS}, {"help", no_argument, 0, O_HELP},
    {0, 0, 0, 0},
};

/* --shard I/N */
static int parse_shard(const char *arg, uf_run_opts *o)
{
    int used = 0;
    if (sscanf(arg, "%d/%d%n", &o->shard_i, &o->shard_n, &used) != 2 || arg[used] || o->shard_n < 1 ||
        o->shard_i < 0 || o->shard_i >= o->shard_n)
        return -1;
    return 0;
}

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

/* Whether the manifest defines o->tier: 1, 0, or -1 with e set for any other load error. */
static int has_tier(const char *path, const uf_run_opts *o, uf_err *e)
{
    uf_manifest m;
    if (uf_manifest_load(path, o->tier, &m, e) == 0) {
        uf_manifest_free(&m);
        return 1;
    }
    return strstr(e->msg, "no tier") ? 0 : -1;
}

/* The jobs of every manifest this invocation runs, for the whole run's ETA (errors surface later). */
static long count_all_jobs(char **paths, int n, int filter, const char *tier_list, uf_run_opts o)
{
    long total = 0;
    char tiers[256], *save = NULL;
    snprintf(tiers, sizeof tiers, "%s", tier_list);
    for (char *tier = strtok_r(tiers, ",", &save); tier; tier = strtok_r(NULL, ",", &save))
        for (int i = 0; i < n; i++) {
            uf_err e;
            o.tier = tier;
            long k = filter && has_tier(paths[i], &o, &e) != 1 ? 0 : uf_run_count_jobs(paths[i], &o, &e);
            total += k > 0 ? k : 0;
        }
    return total;
}

/* The manifests that define o->tier (all of them without `filter`), in *kept (freed by the caller). */
static int tier_manifests(char **paths, int n, int filter, const uf_run_opts *o, char ***kept, int *nkept,
                          uf_err *e)
{
    *nkept = 0;
    if (!(*kept = uf_calloc((size_t)n + 1, sizeof **kept, e)))
        return -1;
    for (int i = 0; i < n; i++)
        if (!filter || has_tier(paths[i], o, e) != 0)
            (*kept)[(*nkept)++] = paths[i];
    return 0;
}

/* The distinct runs of the tier's manifests, which --shard I/N deals out. */
static int shard_keys(const char *cmd, char **paths, int n, int filter, const uf_run_opts *o, uf_run_keys *keys)
{
    uf_err e;
    char **kept;
    int nkept;
    int rc = tier_manifests(paths, n, filter, o, &kept, &nkept, &e) || uf_run_distinct(kept, nkept, o, keys, &e)
                 ? cli_error(cmd, &e)
                 : 0;
    free(kept);
    return rc;
}

/* Runs the manifests for one tier (o->tier); with `filter`, skips those that do not define it.
 * Returns the exit status so far: 1 on an error, 3 on a missed paper number, else 0. */
static int run_tier(const char *cmd, char **paths, int n, int filter, uf_run_opts *o, int *ran, double t0)
{
    int status = 0;
    uf_run_keys keys = {0};
    if (o->shard_n && !o->prepare_only && shard_keys(cmd, paths, n, filter, o, &keys))
        return 1;
    o->keys = &keys;
    for (int i = 0; i < n; i++) {
        uf_err e;
        if (filter && has_tier(paths[i], o, &e) == 0)
            continue;
        int mismatches = 0;
        (*ran)++;
        if (uf_run_manifest(paths[i], o, &mismatches, &e)) {
            cli_error(cmd, &e);
            status = 1;
        } else if (mismatches && status == 0) {
            status = 3;
        }
        long njobs = uf_run_count_jobs(paths[i], o, &e);
        o->done_jobs += njobs > 0 ? njobs : 0;
        o->elapsed = uf_now() - t0;
    }
    uf_run_keys_free(&keys);
    o->keys = NULL;
    return status;
}

/* --plan for one tier: the manifests that define it, planned together so a run two of them ask
 * for is counted once. */
static int plan_tier(const char *cmd, char **paths, int n, int filter, const uf_run_opts *o, int *ran)
{
    uf_err e;
    char **kept;
    int nkept;
    int rc = tier_manifests(paths, n, filter, o, &kept, &nkept, &e) ||
                     (nkept && uf_run_plan(kept, nkept, o, stdout, &e))
                 ? cli_error(cmd, &e)
                 : 0;
    *ran += nkept;
    free(kept);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    const char *cmd = "run", *tier_list = "features,mini"; /* the main job */
    uf_run_opts o = {0};
    long threads = 0, jobs = sysconf(_SC_NPROCESSORS_ONLN);
    int c, tier_given = 0, progress_given = 0, plan = 0;
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
        case O_SAMPLE: o.sample = 1; break;
        case O_PLAN: plan = 1; break;
        case O_COLLECT: o.collect = 1; break;
        case O_PREPARE: o.prepare_only = 1; break;
        case O_JOBS: if (cli_int(cmd, "--jobs", optarg, 1, 256, &jobs)) { free(set); return 2; } break;
        case O_SHARD: if (parse_shard(optarg, &o)) { free(set); return cli_usage_error(cmd, "--shard I/N: 0 <= I < N"); } break;
        case O_PROGRESS: progress_given = sscanf(optarg, "%ld/%ld/%lf", &o.done_jobs, &o.total_jobs, &o.elapsed) == 3; break;
        case O_THREADS: if (cli_int(cmd, "--threads", optarg, 1, 1024, &threads)) { free(set); return 2; } break;
        case O_HELP: fputs(help, stdout); free(set); return 0;
        default: free(set); return cli_usage_error(cmd, "unrecognised option");
        }
    }
    if (progress_given) /* a worker of --jobs (workers.h): it stops when the run that started it does */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
    cli_set_threads(threads);
    o.set = set;
    o.workers = (int)jobs;
    char **given = argv + optind, **all = NULL, *tiers = uf_strdup(tier_list, &e);
    int ngiven = argc - optind, nall = ngiven || !tiers ? 0 : list_manifests(&all, &e);
    if (!tiers || nall < 0) {
        free(tiers);
        free(set);
        return cli_error(cmd, &e);
    }
    int status = 0, ran = 0;
    if (!progress_given && !plan)
        o.total_jobs = count_all_jobs(ngiven ? given : all, ngiven ? ngiven : nall, !ngiven || !tier_given, tier_list, o);
    double t0 = uf_now() - o.elapsed;
    for (char *save = NULL, *tier = strtok_r(tiers, ",", &save); tier; tier = strtok_r(NULL, ",", &save)) {
        o.tier = tier;
        int filter = !ngiven || !tier_given;
        int st = plan ? plan_tier(cmd, ngiven ? given : all, ngiven ? ngiven : nall, filter, &o, &ran)
                      : run_tier(cmd, ngiven ? given : all, ngiven ? ngiven : nall, filter, &o, &ran, t0);
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
