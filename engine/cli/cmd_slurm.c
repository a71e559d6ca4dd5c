/* uotft slurm: a tier as Slurm batch jobs (engine/run/slurm.h writes the scripts). */
#define _GNU_SOURCE
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "core/alloc.h"
#include "core/fileio.h"
#include "run/manifest.h"
#include "run/plan.h"
#include "run/slurm.h"

static const char *const help =
    "usage: uotft slurm [MANIFEST.ini ...] --tier T [--partition P] [--cpus C] [--mem M] [--time H:M:S]\n"
    "                   [--array-max N] [--shards N] [--prepare-shards K] [--out DIR] [--out-root DIR]\n"
    "                   [--set KEY=VALUE ...] [--submit] [--threads N]\n"
    "\n"
    "Writes a tier's `uotft run` as four Slurm batch jobs into DIR (default slurm/<tier>/ under the\n"
    "project root), each to start when the one before it succeeded (--dependency=afterok), and prints\n"
    "the sbatch commands that submit them; --submit submits them (sh DIR/submit.sh) and prints the job ids.\n"
    "  prepare.sbatch        array of K tasks: the preparation, each task its share of ImageNet's features\n"
    "  prepare-merge.sbatch  the shards merged, k-means clusters, the rest of the preparation\n"
    "  runs.sbatch           array of N tasks: `uotft run --shard I/N --jobs 1`, the distinct runs split N ways\n"
    "  collect.sbatch        tables, reports and figures from the finished runs (results/<tier>/, plots/)\n"
    "  submit.sh             the sbatch commands, in order\n"
    "Without manifests: every manifest in experiments/ that defines the tier. Every script runs the\n"
    "same uotft binary (this one) on the same manifests with the same --set and --out-root, written\n"
    "as absolute paths (a relative path in a --set value is the project root's, as for uotft run), from\n"
    "the project root, so the nodes need the project and the data on a shared file system. Each\n"
    "job logs to DIR/logs/<stage>-<job id>[_<task>].log. Finished runs are kept (the `runs` setting):\n"
    "submitting again, after a failure or a time limit, goes on from them.\n"
    "  --cpus C          cores per task (default 8); every uotft run gets --threads C\n"
    "  --shards N        tasks of the runs' array (default: the distinct runs `uotft run --plan` counts,\n"
    "                    at most 1000, Slurm's default MaxArraySize)\n"
    "  --prepare-shards K  tasks of the preparation's array (default 8)\n"
    "  --array-max N     at most N tasks of an array at once (sbatch --array=...%N)\n"
    "  --time H:M:S      every job's time limit ([D-]H:M:S). Default, from the plan's costs in core-hours\n"
    "                    (`uotft run --plan`, written to DIR/plan.txt): twice the costliest run over C\n"
    "                    cores for a runs task, twice the whole preparation over K x C cores for a\n"
    "                    preparation task and over C for the merge (it finishes what a shard left),\n"
    "                    1 hour to collect; 15 minutes at least, 24 hours where the plan cannot cost them\n"
    "  --mem M           memory per job (sbatch --mem, e.g. 32G); default: the partition's\n"
    "  --partition P     default: the cluster's default partition\n"
    "  --threads N       threads of this command's plan (its rates are measured here), not of the jobs\n"
    "Example:  uotft slurm --tier full --partition cpu --cpus 16 --array-max 64 --submit\n";

enum { O_TIER = 256, O_PARTITION, O_CPUS, O_MEM, O_TIME, O_ARRAY_MAX, O_SHARDS, O_PREP_SHARDS, O_OUT, O_OUT_ROOT,
       O_SET, O_SUBMIT, O_THREADS, O_HELP };

static const struct option opts[] = {
    {"tier", required_argument, 0, O_TIER},         {"partition", required_argument, 0, O_PARTITION},
    {"cpus", required_argument, 0, O_CPUS},         {"mem", required_argument, 0, O_MEM},
    {"time", required_argument, 0, O_TIME},         {"array-max", required_argument, 0, O_ARRAY_MAX},
    {"shards", required_argument, 0, O_SHARDS},     {"prepare-shards", required_argument, 0, O_PREP_SHARDS},
    {"out", required_argument, 0, O_OUT},           {"out-root", required_argument, 0, O_OUT_ROOT},
    {"set", required_argument, 0, O_SET},           {"submit", no_argument, 0, O_SUBMIT},
    {"threads", required_argument, 0, O_THREADS},   {"help", no_argument, 0, O_HELP},
    {0, 0, 0, 0},
};

typedef struct slurm_cmd {
    const char *tier, *partition, *mem, *out, *out_root;
    long cpus, array_max, shards, prepare_shards, threads, time_s;
    int submit, nset;
    char **set;         /* as given */
    char **manifests;   /* absolute */
    int nmanifests;
    char **args;        /* the shared `uotft run` arguments, each allocated */
    int nargs;
    char root[4096], dir[4096], exe[4096], command[4096];
} slurm_cmd;

static const char *const cmd = "slurm";

/* [D-]H:M:S as seconds, or -1. */
static long parse_time(const char *s)
{
    long d = 0, h, m, sec;
    int used = 0;
    if (strchr(s, '-') && sscanf(s, "%ld-%n", &d, &used) != 1)
        return -1;
    const char *t = s + used;
    int n = 0;
    if (sscanf(t, "%ld:%ld:%ld%n", &h, &m, &sec, &n) != 3 || t[n] || d < 0 || h < 0 || m < 0 || m > 59 || sec < 0 ||
        sec > 59)
        return -1;
    return ((d * 24 + h) * 60 + m) * 60 + sec;
}

static int parse_opt(slurm_cmd *c, int o)
{
    switch (o) {
    case O_TIER: c->tier = optarg; return 0;
    case O_PARTITION: c->partition = optarg; return 0;
    case O_MEM: c->mem = optarg; return 0;
    case O_OUT: c->out = optarg; return 0;
    case O_OUT_ROOT: c->out_root = optarg; return 0;
    case O_SET: c->set[c->nset++] = optarg; return 0;
    case O_SUBMIT: c->submit = 1; return 0;
    case O_CPUS: return cli_int(cmd, "--cpus", optarg, 1, 4096, &c->cpus) ? 2 : 0;
    case O_ARRAY_MAX: return cli_int(cmd, "--array-max", optarg, 1, 1000000, &c->array_max) ? 2 : 0;
    case O_SHARDS: return cli_int(cmd, "--shards", optarg, 1, 1000000, &c->shards) ? 2 : 0;
    case O_PREP_SHARDS: return cli_int(cmd, "--prepare-shards", optarg, 1, 100000, &c->prepare_shards) ? 2 : 0;
    case O_THREADS: return cli_int(cmd, "--threads", optarg, 1, 1024, &c->threads) ? 2 : 0;
    case O_TIME:
        c->time_s = parse_time(optarg);
        return c->time_s > 0 ? 0 : cli_usage_error(cmd, "--time expects [D-]H:M:S, got '%s'", optarg);
    case O_HELP: fputs(help, stdout); return 1;
    default: return cli_usage_error(cmd, "unrecognised option");
    }
}

/* Options into c; 0 to go on, else the exit status (--help: 0). */
static int parse_args(slurm_cmd *c, int argc, char **argv)
{
    int o, rc;
    size_t k = (size_t)snprintf(c->command, sizeof c->command, "uotft"); /* before getopt reorders argv */
    for (int i = 0; i < argc && k < sizeof c->command; i++)
        k += (size_t)snprintf(c->command + k, sizeof c->command - k, " %s", argv[i]);
    for (char *p = c->command; *p; p++) /* it becomes a comment line of each script */
        *p = *p == '\n' || *p == '\r' ? ' ' : *p;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1)
        if ((rc = parse_opt(c, o)))
            return rc == 1 ? -1 : rc;
    return c->tier ? 0 : cli_usage_error(cmd, "--tier is required");
}

/* Loads the manifest for the tier with every --set: 1 when it defines the tier, 0 when it does not,
 * -1 with e set on any other error. The first one's project root goes to c->root. */
static int check_manifest(slurm_cmd *c, const char *path, uf_err *e)
{
    uf_manifest m;
    if (uf_manifest_load(path, c->tier, &m, e))
        return strstr(e->msg, "no tier") ? 0 : -1;
    int rc = 1;
    for (int i = 0; i < c->nset && rc == 1; i++)
        rc = uf_manifest_set(&m, c->set[i], e) ? -1 : 1;
    if (rc == 1 && !c->root[0])
        snprintf(c->root, sizeof c->root, "%s", m.root);
    uf_manifest_free(&m);
    return rc;
}

/* The manifests given (each must define the tier), else experiments/'s that define it; absolute. */
static int find_manifests(slurm_cmd *c, char **given, int ngiven, uf_err *e)
{
    glob_t g = {0};
    if (!ngiven && glob(UOTFT_SOURCE_DIR "/experiments/*.ini", 0, NULL, &g) == 0) /* sorted */
        given = g.gl_pathv, ngiven = (int)g.gl_pathc;
    int rc = (c->manifests = uf_calloc((size_t)ngiven + 1, sizeof *c->manifests, e)) ? 0 : -1;
    for (int i = 0; i < ngiven && !rc; i++) {
        int has = check_manifest(c, given[i], e);
        if (has == 0 && !g.gl_pathc)
            has = uf_fail(e, "%s: no tier '%s'", given[i], c->tier);
        if (has == 1 && !(c->manifests[c->nmanifests++] = realpath(given[i], NULL)))
            has = uf_fail(e, "%s: cannot resolve its path", given[i]);
        rc = has < 0 ? -1 : 0;
    }
    globfree(&g);
    if (!rc && !c->nmanifests)
        rc = uf_fail(e, "no manifest defines tier '%s'", c->tier);
    return rc;
}

/* A copy of path, absolute: relative ones are base's. */
static char *absolute(const char *base, const char *path, uf_err *e)
{
    if (path[0] == '/')
        return uf_strdup(path, e);
    char *p = uf_alloc(strlen(base) + strlen(path) + 2, e);
    if (p)
        sprintf(p, "%s/%s", base, path);
    return p;
}

/* KEY=VALUE with a relative path for VALUE (a '/' in it, not a "{key}" template or an "a | b" list)
 * written against the project root, where uotft run resolves it anyway: the scripts show where it points. */
static char *set_arg(const slurm_cmd *c, const char *kv, uf_err *e)
{
    const char *v = strchr(kv, '=');
    if (!v || v[1] == '/' || !strchr(v, '/') || strpbrk(v, "{| "))
        return uf_strdup(kv, e);
    char *p = uf_alloc(strlen(kv) + strlen(c->root) + 2, e);
    if (p)
        sprintf(p, "%.*s=%s/%s", (int)(v - kv), kv, c->root, v + 1);
    return p;
}

/* arg (NULL: its allocation failed, e says why) onto c->args */
static int push(slurm_cmd *c, char *arg)
{
    if (!arg)
        return -1;
    c->args[c->nargs++] = arg;
    return 0;
}

/* What every `uotft run` line shares: manifests, --tier, --set, --out-root; absolute paths. */
static int run_args(slurm_cmd *c, uf_err *e)
{
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd))
        return uf_fail(e, "cannot read the working directory");
    if (!(c->args = uf_calloc((size_t)c->nmanifests + 2 * (size_t)c->nset + 4, sizeof *c->args, e)))
        return -1;
    int rc = 0;
    for (int i = 0; i < c->nmanifests && !rc; i++)
        rc = push(c, uf_strdup(c->manifests[i], e));
    rc = rc || push(c, uf_strdup("--tier", e)) || push(c, uf_strdup(c->tier, e));
    for (int i = 0; i < c->nset && !rc; i++)
        rc = push(c, uf_strdup("--set", e)) || push(c, set_arg(c, c->set[i], e));
    if (!rc && c->out_root)
        rc = push(c, uf_strdup("--out-root", e)) || push(c, absolute(cwd, c->out_root, e));
    return rc ? -1 : 0;
}

/* DIR absolute (default <root>/slurm/<tier>), and this binary's path, for the scripts. */
static int paths(slurm_cmd *c, uf_err *e)
{
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd))
        return uf_fail(e, "cannot read the working directory");
    int w = c->out && c->out[0] == '/' ? snprintf(c->dir, sizeof c->dir, "%s", c->out)
            : c->out                   ? snprintf(c->dir, sizeof c->dir, "%s/%s", cwd, c->out)
                                       : snprintf(c->dir, sizeof c->dir, "%s/slurm/%s", c->root, c->tier);
    if (w < 0 || (size_t)w >= sizeof c->dir)
        return uf_fail(e, "the scripts' folder: path too long");
    if (strpbrk(c->dir, " \t\n'")) /* #SBATCH --output takes no quotes; submit.sh's is single-quoted */
        return uf_fail(e, "%s: the scripts' folder may not contain white space or quotes", c->dir);
    ssize_t n = readlink("/proc/self/exe", c->exe, sizeof c->exe - 1);
    if (n <= 0)
        return uf_fail(e, "cannot find the uotft binary (/proc/self/exe)");
    c->exe[n] = '\0';
    return 0;
}

/* The plan of the manifests (written to DIR/plan.txt): what N and the time limits default from. */
static int plan(const slurm_cmd *c, uf_plan_summary *s, uf_err *e)
{
    char path[4200];
    uf_out o;
    uf_run_opts ro = {.tier = c->tier, .nset = c->nset, .set = c->set};
    snprintf(path, sizeof path, "%s/plan.txt", c->dir);
    fprintf(stderr, "uotft slurm: planning %d manifest(s) for tier %s (uotft run --plan) into %s\n", c->nmanifests,
            c->tier, path);
    if (uf_out_open(&o, path, e))
        return -1;
    if (uf_run_plan_summary(c->manifests, c->nmanifests, &ro, o.f, s, e)) {
        uf_out_abort(&o);
        return -1;
    }
    return uf_out_commit(&o, e);
}

/* Twice the core-seconds over the cores, in whole minutes, 15 minutes at least: a limit too short
 * loses the work, one too long only waits longer in the queue. */
static long limit_s(double core_s, double cores)
{
    long s = (long)(2 * core_s / cores / 60 + 1) * 60;
    return s > 900 ? s : 900;
}

/* The time limits and the runs' task count, given or from the plan. */
static void sizes(const slurm_cmd *c, const uf_plan_summary *p, uf_slurm_spec *s)
{
    s->shards = (int)(c->shards ? c->shards : p->nruns < 1 ? 1 : p->nruns > 1000 ? 1000 : p->nruns);
    s->prepare_shards = c->prepare_shards ? (int)c->prepare_shards : 8;
    int k = uf_slurm_tasks(s, UF_SLURM_PREPARE);
    s->time_s[UF_SLURM_PREPARE] = limit_s(p->prepare_core_s, (double)k * (double)c->cpus);
    s->time_s[UF_SLURM_MERGE] = limit_s(p->prepare_core_s, (double)c->cpus);
    s->time_s[UF_SLURM_RUNS] = limit_s(p->run_core_s_max, (double)c->cpus);
    s->time_s[UF_SLURM_COLLECT] = 3600;
    int unknown[UF_SLURM_NSTAGES] = {p->prepare_unknown, p->prepare_unknown, p->runs_unknown, 0};
    for (int st = 0; st < UF_SLURM_NSTAGES; st++) {
        if (unknown[st] && c->time_s <= 0)
            fprintf(stderr, "uotft slurm: %s: %d stage(s) or run(s) without a cost in the plan: 24 hours "
                            "(--time sets it)\n", uf_slurm_script_name(st), unknown[st]);
        if (c->time_s > 0 || unknown[st])
            s->time_s[st] = c->time_s > 0 ? c->time_s : 86400;
    }
}

/* Writes the scripts, then prints the sbatch commands or submits them. */
static int write_and_submit(slurm_cmd *c, uf_err *e)
{
    uf_plan_summary p = {0};
    if (paths(c, e) || uf_mkdirs(c->dir, e) || ((!c->shards || c->time_s <= 0) && plan(c, &p, e)))
        return cli_error(cmd, e);
    uf_slurm_spec s = {.exe = c->exe, .root = c->root, .tier = c->tier, .dir = c->dir, .args = c->args,
                       .nargs = c->nargs, .partition = c->partition, .mem = c->mem, .cpus = (int)c->cpus,
                       .array_max = (int)c->array_max, .command = c->command};
    sizes(c, &p, &s);
    if (uf_slurm_write(&s, e))
        return cli_error(cmd, e);
    fprintf(stderr, "uotft slurm: wrote %s/{prepare,prepare-merge,runs,collect}.sbatch and submit.sh: "
                    "%d runs task(s)\n", c->dir, s.shards);
    if (!c->submit) {
        fprintf(stderr, "uotft slurm: submit with these commands, or sh %s/submit.sh:\n", c->dir);
        uf_slurm_print_submit(stdout, &s);
        return 0;
    }
    char sh[4200];
    snprintf(sh, sizeof sh, "sh '%s/submit.sh'", c->dir); /* paths() refused quotes in it */
    fflush(stdout);
    int st = system(sh);
    if (st != 0) {
        uf_fail(e, "%s/submit.sh failed (exit status %d, sbatch said why above): the jobs it printed were submitted",
                c->dir, st > 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        return cli_error(cmd, e);
    }
    return 0;
}

int cmd_slurm(int argc, char **argv)
{
    slurm_cmd c = {.cpus = 8};
    uf_err e;
    if (!(c.set = uf_calloc((size_t)argc, sizeof *c.set, &e)))
        return cli_error(cmd, &e);
    int rc = parse_args(&c, argc, argv);
    if (rc == 0) {
        cli_set_threads(c.threads);
        rc = find_manifests(&c, argv + optind, argc - optind, &e) || run_args(&c, &e) ? cli_error(cmd, &e)
                                                                                      : write_and_submit(&c, &e);
    }
    for (int i = 0; i < c.nmanifests; i++)
        free(c.manifests[i]);
    for (int i = 0; i < c.nargs; i++)
        free(c.args[i]);
    free(c.manifests), free(c.args), free(c.set);
    return rc < 0 ? 0 : rc;
}
