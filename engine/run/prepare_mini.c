/* The mini tier's preparation (prepare.h): world, backbones, features, k-means. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/fileio.h"
#include "core/parallel.h"
#include "core/sha256.h"
#include "core/tsv.h"
#include "features/extract.h"
#include "features/kmeans.h"
#include "io/npy.h"
#include "nn/ckpt.h"
#include "nn/conv_direct.h"
#include "prepare.h"
#include "prepare_stages.h"
#include "train/pretrain.h"

/* The mini world's targets (datasets/mini/README.md). */
static const char *const targets[] = {"digits", "fashion", "hand", "mix"};
#define NTARGETS 4

static void say(const char *fmt, const char *a, double t0)
{
    fprintf(stderr, "[prepare mini] ");
    fprintf(stderr, fmt, a);
    fprintf(stderr, " (%.1f s)\n", uf_now() - t0);
}

/* ---- 1. the world ---- */

/* 0 when every file SHA256SUMS lists has its sum; else -1 naming the first that does not. */
static int world_verify(const char *world, uf_err *e)
{
    char path[4200], *buf;
    size_t len;
    snprintf(path, sizeof path, "%s/SHA256SUMS", world);
    if (uf_read_file(path, &buf, &len, e))
        return -1;
    int rc = 0, files = 0;
    for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line && !rc; line = strtok_r(NULL, "\n", &save)) {
        char hex[65], file[4400];
        if (strlen(line) < 67 || line[64] != ' ' || line[65] != ' ') {
            rc = uf_fail(e, "%s: malformed line '%.80s'", path, line);
            break;
        }
        snprintf(file, sizeof file, "%s/%s", world, line + 66);
        if (uf_sha256_file(file, hex, e) || memcmp(hex, line, 64) != 0)
            rc = uf_fail(e, "%s: missing or changed (SHA256SUMS)", file);
        files++;
    }
    free(buf);
    if (!rc && files == 0)
        rc = uf_fail(e, "%s: lists no file", path);
    return rc;
}

static int world_build(const uf_mini_paths *p, uf_err *e)
{
    char exe[4096], cmd[13000];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return uf_fail(e, "cannot find this executable's folder (for uotft-mkmini)");
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0';
    if (strchr(exe, '\'') || strchr(p->root, '\'') || strchr(p->world, '\''))
        return uf_fail(e, "paths with quotes are not supported for building the mini world");
    snprintf(cmd, sizeof cmd, "sh '%s/datasets/mini/build' --out '%s' --bin '%s/uotft-mkmini' >&2", p->root, p->world,
             exe);
    if (system(cmd) != 0)
        return uf_fail(e, "datasets/mini/build failed (see above); it needs the packages of ci/apt-packages.txt");
    return world_verify(p->world, e);
}

/* ---- 2. the backbones ---- */

typedef struct shown {
    const char *name;
    double last;
} shown;

static void progress(void *ctx, const uf_train_progress *pr)
{
    shown *s = ctx;
    if (!pr->done && pr->elapsed - s->last < 10)
        return;
    s->last = pr->elapsed;
    fprintf(stderr, "[prepare mini] pretrain %s: step %lld/%lld, epoch %d/%d, loss %.4f | %.0f img/s, ETA %.0f s\n",
            s->name, (long long)pr->step, (long long)pr->total, pr->epoch + 1, pr->epochs, pr->loss,
            pr->images_per_s, pr->eta);
}

/* ckpt: the committed checkpoint when there is one (it must load), else the one trained here. */
static int backbone(const uf_mini_paths *p, uf_pretrain_method method, const char *name, char *ckpt, size_t n,
                    uf_err *e)
{
    double t0 = uf_now();
    snprintf(ckpt, n, "%s/%s.ckpt", p->committed, name);
    if (uf_is_file(ckpt)) {
        uf_model m;
        if (uf_ckpt_load_model(ckpt, &m, e))
            return uf_wrap(e, "the committed backbone: ");
        uf_model_free(&m);
        say("%s: the committed checkpoint", ckpt, t0);
        return 0;
    }
    uf_pretrain_cfg c;
    uf_pretrain_defaults(&c, method);
    c.data_root = p->world;
    shown s = {name, -1e9};
    c.progress = progress;
    c.progress_ctx = &s;
    int finished;
    if (uf_pretrain(&c, p->pretrain, name, &finished, e))
        return -1;
    snprintf(ckpt, n, "%s/%s.ckpt", p->pretrain, name);
    say("pretrain %s: done", name, t0);
    return 0;
}

/* ---- 3. features ---- */

typedef struct feature_job {
    const char *folder;
    int model;     /* 0 supervised, 1 MoCo, -1 random initialisation */
    int mlp;       /* the MLP head's output instead of the pooled feature */
    int probe;     /* the pool's test split too (linear probe) */
    int select;    /* the targets' training splits too (selection) */
} feature_job;

static const feature_job feature_jobs[] = {
    {"supervised", 0, 0, 1, 1},
    {"moco-v2", 1, 1, 0, 1},
    {"moco-v2-backbone", 1, 0, 1, 0},
    {"random", -1, 0, 1, 0},
};

static int features(const uf_mini_paths *p, const feature_job *j, const char *ckpt, const char *world_sum,
                    uf_err *e)
{
    double t0 = uf_now();
    char dir[4200], source[1024], hex[65], files[UF_STAMP_MAX_FILES][128];
    snprintf(dir, sizeof dir, "%s/%s", p->features, j->folder);
    uf_pretrain_cfg d;
    uf_pretrain_defaults(&d, UF_PRETRAIN_SUPERVISED);
    if (j->model >= 0 && uf_sha256_file(ckpt, hex, e))
        return -1;
    /* the conv path too: the two round differently, and a checkpoint-free random model would
     * otherwise keep features made by the other one */
    snprintf(source, sizeof source, "model=%s%s output=%s size=%d world=%s conv=%s",
             j->model >= 0 ? "sha256:" : "random:", j->model >= 0 ? hex : d.arch, j->mlp ? "mlp" : "pooled", d.size,
             world_sum, uf_conv_path());
    if (uf_stamp_ok(dir, source)) {
        say("features %s: verified", j->folder, t0);
        return 0;
    }
    uf_model m;
    uf_arch a;
    if (j->model >= 0 ? uf_ckpt_load_model(ckpt, &m, e)
                      : uf_arch_parse(d.arch, &a, e) || uf_model_create(&m, &a, NULL, 0, e))
        return -1;
    if (j->model < 0)
        uf_model_init_weights(&m, 0);
    uf_extract_cfg c = {.size = d.size, .batch = 256, .loader_threads = 2, .head = j->mlp ? 0 : -1};
    if (j->mlp && (m.nhead < 1 || m.head[0].s.kind != UF_HEAD_MLP)) {
        uf_model_free(&m);
        return uf_fail(e, "%s: no MLP head", ckpt);
    }
    int nf = 0, rc = 0;
    const char *sets[1 + NTARGETS] = {"pool"};
    for (int t = 0; t < NTARGETS; t++)
        sets[1 + t] = targets[t];
    for (int s = 0; s < (j->select ? 1 + NTARGETS : 1) && !rc; s++)
        for (int test = 0; test <= (s == 0 && j->probe) && !rc; test++) {
            const char *split = test ? "test" : "train";
            if ((rc = uf_features_mini(&m, p->world, sets[s], split, &c, dir, e)))
                break;
            snprintf(files[nf++], 128, "%s-%s.features.npy", sets[s], split);
            snprintf(files[nf++], 128, "%s-%s.labels.npy", sets[s], split);
            if (!test) {
                snprintf(files[nf++], 128, "%s.means.npy", sets[s]);
                snprintf(files[nf++], 128, "%s.counts.npy", sets[s]);
            }
        }
    uf_model_free(&m);
    char from[4200], to[4300];
    snprintf(from, sizeof from, "%s/pool-classes.tsv", p->world);
    snprintf(to, sizeof to, "%s/pool-classes.tsv", dir);
    snprintf(files[nf++], 128, "pool-classes.tsv");
    if (rc || uf_copy_file(from, to, e) || uf_stamp_write(dir, source, files, nf, e))
        return -1;
    say("features %s: extracted", j->folder, t0);
    return 0;
}

/* ---- 4. k-means ---- */

/* K = mult x the pool's classes, into <model>-kmeans<suffix>/ */
static int kmeans(const uf_mini_paths *p, const char *model, int mult, const char *suffix, uf_err *e)
{
    char from[4200], dir[4200], features[4300], labels[4300], classes[4300];
    snprintf(from, sizeof from, "%s/%s", p->features, model);
    snprintf(dir, sizeof dir, "%s/%s-kmeans%s", p->features, model, suffix);
    snprintf(features, sizeof features, "%s/pool-train.features.npy", from);
    snprintf(labels, sizeof labels, "%s/pool-train.labels.npy", from);
    snprintf(classes, sizeof classes, "%s/pool-classes.tsv", p->world);
    uf_cluster_job j = {.tag = "[prepare mini]", .from = from, .features = features, .labels = labels,
                        .classes = classes, .set = "pool", .dir = dir, .k = -mult, .targets = targets,
                        .ntargets = NTARGETS};
    return uf_prepare_clusters(&j, e);
}

int uf_prepare_mini(const uf_mini_paths *p, uf_err *e)
{
    double t0 = uf_now();
    char sums[4200], world_sum[65], ckpt[2][4200];
    if (world_verify(p->world, e) == 0) {
        say("world %s: verified", p->world, t0);
    } else {
        say("world %s: building", p->world, t0);
        if (world_build(p, e))
            return -1;
        say("world %s: built", p->world, t0);
    }
    snprintf(sums, sizeof sums, "%s/SHA256SUMS", p->world);
    if (uf_sha256_file(sums, world_sum, e) ||
        backbone(p, UF_PRETRAIN_SUPERVISED, "supervised", ckpt[0], sizeof ckpt[0], e) ||
        backbone(p, UF_PRETRAIN_MOCO, "moco-v2", ckpt[1], sizeof ckpt[1], e))
        return -1;
    for (size_t j = 0; j < sizeof feature_jobs / sizeof feature_jobs[0]; j++) {
        const feature_job *fj = &feature_jobs[j];
        if (features(p, fj, fj->model >= 0 ? ckpt[fj->model] : NULL, world_sum, e))
            return -1;
    }
    /* K = 2 x the pool's classes, as the paper's 2000 clusters for ImageNet's 1000 classes, and
     * 1 x (Table 2's 1000) */
    if (kmeans(p, "supervised", 2, "", e) || kmeans(p, "moco-v2", 2, "", e) || kmeans(p, "supervised", 1, "-1x", e) ||
        kmeans(p, "moco-v2", 1, "-1x", e))
        return -1;
    say("%s", "ready", t0);
    return 0;
}

int uf_prepare_mini_manifest(const uf_manifest *m, int shard_i, int shard_n, uf_err *e)
{
    if (shard_n && shard_i) /* nothing here is sharded: shard 0 prepares it all */
        return 0;
    int coords[UF_MAX_AXES] = {0};
    char world[4096], pretrain[4096], committed[4096], features[4096];
    const char *keys[4] = {"world", "pretrain", "committed", "features"};
    char *vals[4] = {world, pretrain, committed, features};
    for (int k = 0; k < 4; k++) {
        char v[2048];
        if (uf_job_get(m, coords, keys[k], 1, v, sizeof v, e))
            return -1;
        snprintf(vals[k], 4096, "%s%s%s", v[0] == '/' ? "" : m->root, v[0] == '/' ? "" : "/", v);
    }
    uf_mini_paths p = {.root = m->root, .world = world, .pretrain = pretrain, .committed = committed,
                       .features = features};
    return uf_prepare_mini(&p, e);
}
