/* The full tier's preparation (prepare.h): downloads verified, features of ImageNet's training images
 * and of every target's through both backbones, class means and counts, k-means clusters. */
#define _DEFAULT_SOURCE /* flock */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/fileio.h"
#include "../core/parallel.h"
#include "../core/sha256.h"
#include "../data/dataset.h"
#include "../features/dataset_features.h"
#include "../io/npy.h"
#include "../nn/conv_direct.h"
#include "../nn/weights.h"
#include "plan.h"
#include "prepare.h"
#include "prepare_stages.h"

const char *const uf_full_targets[UF_FULL_NTARGETS] = {"cub", "dogs", "cars", "pets", "sun397", "aircraft", "dtd",
                                                       "caltech101"};
const uf_full_model uf_full_models[UF_FULL_NMODELS] = {
    {"supervised-resnet18", 0, 0},
    {"moco-v2-resnet50", 1, 1},
};

/* The backbones a linear probe compares: each published one's pooled feature (MoCo's backbone, its MLP
 * head dropped, as MoCo's own linear evaluation), and ResNet-18 as initialised, never trained. */
static const struct probe_model {
    const char *folder, *weights_of; /* weights_of: the uf_full_models entry (NULL: random init) */
} probe_models[] = {
    {"supervised-resnet18-probe", "supervised-resnet18"},
    {"moco-v2-resnet50-probe", "moco-v2-resnet50"},
    {"random-resnet18-probe", NULL},
};

/* A tier setting (the first job's view), as given; relative paths made absolute. */
static int setting(const uf_manifest *m, const char *key, int path, char *buf, size_t n, uf_err *e)
{
    int coords[UF_MAX_AXES] = {0};
    char v[4096];
    if (uf_job_get(m, coords, key, 1, v, sizeof v, e))
        return -1;
    int w = path && v[0] != '/' ? snprintf(buf, n, "%s/%s", m->root, v) : snprintf(buf, n, "%s", v);
    return w >= 0 && (size_t)w < n ? 0 : uf_fail(e, "%s: %s: too long", m->path, key);
}

/* Rows of a data set's split ("train" or "test"): listed when it is there, else the
 * `<split>_images.<set>` setting; -1 when neither, -2 on an error. */
static double split_rows(const uf_manifest *m, const char *data, const char *set, const char *split, uf_err *e)
{
    char root[4200], key[64], v[64];
    snprintf(root, sizeof root, "%s/%s", data, set);
    long n = uf_dataset_count(set, root, split, 0);
    if (n >= 0)
        return (double)n;
    snprintf(key, sizeof key, "%s_images.%s", split, set);
    int coords[UF_MAX_AXES] = {0};
    int rc = uf_job_get(m, coords, key, 0, v, sizeof v, e);
    return rc < 0 ? -2 : rc ? -1 : atof(v);
}

static uf_plan_stage *stage(uf_plan_stage *stages, int cap, int *n)
{
    if (*n >= cap)
        return NULL;
    memset(&stages[*n], 0, sizeof stages[*n]);
    return &stages[(*n)++];
}

/* Features of one model: ImageNet's training images, then the targets'. */
static int plan_features(const uf_manifest *m, const char *data, const uf_full_model *fm, int size,
                         uf_plan_stage *stages, int cap, int *n, double *imagenet_rows, uf_err *e)
{
    char key[96], arch[64];
    snprintf(key, sizeof key, "arch_%s", fm->name);
    if (setting(m, key, 0, arch, sizeof arch, e))
        return -1;
    double rows = split_rows(m, data, "imagenet", "train", e), targets = 0;
    for (int t = 0; t < UF_FULL_NTARGETS && rows > -2; t++) {
        double r = split_rows(m, data, uf_full_targets[t], "train", e);
        targets = r < 0 || targets < 0 ? -1 : targets + r;
        rows = r < -1 ? -2 : rows;
    }
    if (rows < -1)
        return -1;
    int d = fm->head ? 128 : 512;
    uf_plan_stage *s = stage(stages, cap, n), *t = s ? stage(stages, cap, n) : NULL;
    if (!t)
        return 0;
    snprintf(s->what, sizeof s->what, "features %s: ImageNet train (resumable)", fm->name);
    snprintf(t->what, sizeof t->what, "features %s: the 8 targets' train", fm->name);
    snprintf(s->arch, sizeof s->arch, "%s", arch), snprintf(t->arch, sizeof t->arch, "%s", arch);
    s->size = t->size = size;
    s->images = rows, t->images = targets;
    /* means and counts; the MoCo features kept per image for k-means (float32) with their labels */
    s->disk_bytes = 1000.0 * d * 8 + (fm->kmeans && rows > 0 ? rows * (d * 4 + 8) : 0);
    *imagenet_rows = rows;
    return 0;
}

/* The linear probes' features: the probe set's train and test splits through each backbone. */
static int plan_probes(const uf_manifest *m, const char *data, int size, uf_plan_stage *stages, int cap, int *n,
                       uf_err *e)
{
    char set[64], key[96], arch[64] = "resnet18";
    if (setting(m, "probe_set", 0, set, sizeof set, e))
        return -1;
    double rows = split_rows(m, data, set, "train", e), test = rows < -1 ? -2 : split_rows(m, data, set, "test", e);
    if (rows < -1 || test < -1)
        return -1;
    for (size_t k = 0; k < sizeof probe_models / sizeof probe_models[0]; k++) {
        uf_plan_stage *s = stage(stages, cap, n);
        snprintf(key, sizeof key, "arch_%s", probe_models[k].weights_of ? probe_models[k].weights_of : "");
        if (!s || (probe_models[k].weights_of && setting(m, key, 0, arch, sizeof arch, e)))
            return s ? -1 : 0;
        snprintf(s->what, sizeof s->what, "linear-probe features %s: %s train and test", probe_models[k].folder, set);
        snprintf(s->arch, sizeof s->arch, "%s", probe_models[k].weights_of ? arch : "resnet18");
        s->size = size;
        s->images = rows < 0 || test < 0 ? -1 : rows + test;
        s->disk_bytes = s->images > 0 ? s->images * (2048 * 4 + 8) : 0;
    }
    return 0;
}

int uf_prepare_full_plan(const uf_manifest *m, uf_plan_stage *stages, int cap, int *n, uf_err *e)
{
    char data[4096], sz[32], kv[2][32];
    *n = 0;
    if (setting(m, "downloads", 1, data, sizeof data, e) || setting(m, "size", 0, sz, sizeof sz, e) ||
        setting(m, "kmeans", 0, kv[0], sizeof kv[0], e) || setting(m, "kmeans_1x", 0, kv[1], sizeof kv[1], e))
        return -1;
    uf_plan_stage *s = stage(stages, cap, n);
    if (s)
        snprintf(s->what, sizeof s->what, "verify the downloads (sha256; once per file)");
    for (int k = 0; k < UF_FULL_NMODELS; k++) {
        double rows = -1;
        const uf_full_model *fm = &uf_full_models[k];
        if (plan_features(m, data, fm, atoi(sz), stages, cap, n, &rows, e))
            return -1;
        for (int c = 0; fm->kmeans && c < 2; c++) {
            double K = atof(kv[c]);
            if (!(s = stage(stages, cap, n)))
                break;
            snprintf(s->what, sizeof s->what, "k-means K = %s of %s's ImageNet features", kv[c], fm->name);
            /* at most 20 Lloyd iterations of a (rows x 128) x (128 x K) product; Hamerly's bounds skip most */
            s->gflop = rows > 0 ? 20 * 2.0 * rows * 128 * K / 1e9 : 0;
            s->disk_bytes = rows > 0 ? rows * 4 + K * 128 * 8 : 0;
        }
    }
    return plan_probes(m, data, atoi(sz), stages, cap, n, e);
}

/* ---- 1. the downloads, verified ---- */

/* The recipes' names: the 9 data sets and the 2 weight files. */
static const char *const downloads[] = {"imagenet", "cub", "dogs", "cars", "pets", "sun397", "aircraft", "dtd",
                                        "caltech101", "resnet18", "mocov2"};
#define NDOWNLOADS (sizeof downloads / sizeof downloads[0])

/* "<file>\t<bytes>\t<mtime>\n" for every file of the recipe as it is now, appended to buf. */
static int recipe_state(const char *recipes, const char *data, const char *name, char *buf, size_t cap, uf_err *e)
{
    char path[4200], *text, *save = NULL;
    size_t len, used = strlen(buf);
    snprintf(path, sizeof path, "%s/%s.tsv", recipes, name);
    if (uf_read_file(path, &text, &len, e))
        return -1;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#' || line[strspn(line, " \t\r")] == '\0')
            continue;
        line[strcspn(line, "\t")] = '\0';
        char file[4400];
        struct stat st;
        snprintf(file, sizeof file, "%s/%s/%s", data, name, line);
        int w = stat(file, &st) == 0 ? snprintf(buf + used, cap - used, "%s/%s\t%lld\t%lld\n", name, line,
                                                (long long)st.st_size, (long long)st.st_mtime)
                                     : snprintf(buf + used, cap - used, "%s/%s\tmissing\n", name, line);
        used += w > 0 ? (size_t)w : 0;
        if (used >= cap) {
            free(text);
            return uf_fail(e, "%s: too many files", path);
        }
    }
    free(text);
    return 0;
}

/* Runs datasets/verify for every download whose files changed since they were last verified (their
 * sizes and times are kept in <store>/verified.tsv): a checksum of 150 GB is done once. state: the
 * sha256 of those sizes and times, what the products are made from. A shard of a sharded preparation
 * verifies nothing (the merge does, once, not once per shard). */
static int verify_downloads(const uf_manifest *m, const char *data, const char *store, int shard, char state[65],
                            uf_err *e)
{
    char recipes[4096], stamp[4200], *now = NULL, *before = NULL;
    size_t cap = 1 << 16, len = 0;
    if (setting(m, "recipes", 1, recipes, sizeof recipes, e) || !(now = uf_calloc(cap, 1, e)))
        return -1;
    int rc = 0;
    for (size_t i = 0; i < NDOWNLOADS && !rc; i++)
        rc = recipe_state(recipes, data, downloads[i], now, cap, e);
    if (!rc && uf_sha256_mem(now, strlen(now), state))
        rc = uf_fail(e, "sha256 failed");
    if (rc || shard) {
        free(now);
        return rc;
    }
    snprintf(stamp, sizeof stamp, "%s/verified.tsv", store);
    if (!rc && uf_is_file(stamp) && uf_read_file(stamp, &before, &len, e) == 0 && strcmp(before, now) == 0) {
        free(now), free(before);
        return 0;
    }
    free(before);
    if (strchr(recipes, '\'') || strchr(m->root, '\'') || strchr(data, '\''))
        rc = uf_fail(e, "%s: paths with quotes are not supported for verifying the downloads", data);
    for (size_t i = 0; i < NDOWNLOADS && !rc; i++) {
        char cmd[13000];
        snprintf(cmd, sizeof cmd, "UOTFT_RECIPES='%s' sh '%s/datasets/verify' --dest '%s/%s' %s >&2", recipes, m->root,
                 data, downloads[i], downloads[i]);
        fprintf(stderr, "[prepare full] verifying %s\n", downloads[i]);
        if (system(cmd) != 0)
            rc = uf_fail(e, "%s/%s: verification failed (datasets/fetch %s, or see the message above)", data,
                         downloads[i], downloads[i]);
    }
    uf_out o;
    if (!rc && !(rc = uf_mkdirs(store, e)) && !(rc = uf_out_open(&o, stamp, e))) {
        fputs(now, o.f);
        rc = uf_out_commit(&o, e);
    }
    free(now);
    return rc;
}

/* ---- 2. features ---- */

typedef struct full_paths {
    char data[4096], store[4096], features[4096], classes[4096];
    int size;
} full_paths;

enum { FEATURE_BATCH = 64 };

/* Rows [begin, end) of shard i of n over a split of `rows` rows: whole batches (an image's features
 * depend on the batch it is computed in), the last shard to the end. */
static void shard_rows(int rows, int i, int n, int *begin, int *end)
{
    long batches = (rows + FEATURE_BATCH - 1) / FEATURE_BATCH;
    *begin = (int)(batches * i / n) * FEATURE_BATCH;
    *end = (int)(batches * (i + 1) / n) * FEATURE_BATCH;
    *end = *end < rows ? *end : rows;
}

/* 1 when every output of base (B.means/counts, or B.part for a shard; with keep B.features and
 * B.labels) is there. */
static int outputs_done(const char *base, int shard, int keep)
{
    static const char *const kinds[] = {".means.npy", ".counts.npy", ".features.npy", ".labels.npy"};
    char out[4600];
    snprintf(out, sizeof out, "%s.part", base);
    int done = !shard || uf_is_file(out);
    for (int k = shard ? 2 : 0; k < (keep ? 4 : 2); k++) {
        snprintf(out, sizeof out, "%s%s", base, kinds[k]);
        done = done && uf_is_file(out);
    }
    return done;
}

/* One set's training split (or shard i of n of it) through the model into dir: its means and
 * counts (a shard: its sums, <set>.rows-B-E.part), and with keep the per-image features; skipped
 * when its outputs are there (made from the folder's source, claim_folder). */
static int features_of_set(const full_paths *p, uf_model *m, int head, const char *dir, const char *source,
                           const char *set, int keep, int shard_i, int shard_n, uf_err *e)
{
    char root[4200], base[4400];
    uf_dataset ds;
    snprintf(root, sizeof root, "%s/%s", p->data, set);
    if (uf_dataset_list(&ds, set, root, "train", 0, e))
        return -1;
    uf_dsfeat_cfg c = {.ex = {.size = p->size, .batch = FEATURE_BATCH, .loader_threads = 2, .head = head},
                       .dir = dir, .name = set, .made_from = source, .begin = 0, .end = ds.n, .shard = shard_n > 0,
                       .keep_features = keep, .ckpt_every = 10000, .progress = 1};
    if (shard_n)
        shard_rows(ds.n, shard_i, shard_n, &c.begin, &c.end);
    if (shard_n)
        snprintf(base, sizeof base, "%s/%s.rows-%d-%d", dir, set, c.begin, c.end);
    else
        snprintf(base, sizeof base, "%s/%s", dir, set);
    int rc = outputs_done(base, shard_n > 0, keep) || c.begin >= c.end ? 0 : uf_dataset_open_images(&ds, NULL, e);
    if (!rc && !outputs_done(base, shard_n > 0, keep) && c.begin < c.end) {
        fprintf(stderr, "[prepare full] features of %s, images %d to %d of %d, into %s\n", set, c.begin, c.end, ds.n,
                dir);
        rc = uf_dataset_features(m, &ds, &c, e) ? -1 : 0;
    }
    uf_dataset_free(&ds);
    return rc;
}

/* ---- merging the shards of a sharded preparation ---- */

static int cmp_part(const void *a, const void *b)
{
    int x = 0, y = 0;
    sscanf(strrchr(*(char *const *)a, '/'), "/%*[^.].rows-%d", &x);
    sscanf(strrchr(*(char *const *)b, '/'), "/%*[^.].rows-%d", &y);
    return (x > y) - (x < y);
}

/* The rows of the shards' per-image files (<set>.rows-B-E.<kind>.npy, in row order) as one
 * <set>.<kind>.npy, the bytes a whole run writes. */
static int concat_rows(char **parts, int n, const char *dir, const char *set, const char *kind, uf_err *e)
{
    char path[4400], header[UF_NPY_HEADER_MAX];
    uf_array a[64], whole;
    uf_npy_mapping maps[64];
    int mapped = 0, rc = n > 64 ? uf_fail(e, "%s: more than 64 shards", dir) : 0;
    for (; !rc && mapped < n; mapped++) {
        size_t len = strlen(parts[mapped]) - strlen(".part");
        snprintf(path, sizeof path, "%.*s.%s.npy", (int)len, parts[mapped], kind);
        if (uf_npy_map(path, &a[mapped], &maps[mapped], e))
            break;
    }
    rc = rc || mapped < n ? -1 : 0;
    whole = n ? a[0] : (uf_array){0};
    for (int i = 1; !rc && i < n; i++)
        whole.shape[0] += a[i].shape[0];
    int hlen = rc ? -1 : uf_npy_header(&whole, header, sizeof header);
    uf_out o;
    snprintf(path, sizeof path, "%s/%s.%s.npy", dir, set, kind);
    if (!rc && (hlen < 0 || uf_out_open(&o, path, e)))
        rc = hlen < 0 ? uf_fail(e, "%s: header too long", path) : -1;
    for (int i = 0; !rc && i <= n; i++)
        if (i == 0)
            fwrite(header, 1, (size_t)hlen, o.f);
        else
            fwrite(a[i - 1].data, uf_dtype_size(a[i - 1].dtype) * (size_t)(a[i - 1].ndim > 1 ? a[i - 1].shape[1] : 1),
                   (size_t)a[i - 1].shape[0], o.f);
    if (!rc)
        rc = uf_out_commit(&o, e);
    for (int i = 0; i < mapped; i++)
        uf_npy_unmap(&maps[i]);
    return rc;
}

/* When shards of a sharded preparation (--prepare-only --shard) left <set>.rows-B-E.part files in
 * dir: their sums merged exactly into the set's means and counts, their per-image features joined. */
static int merge_shards(const char *dir, const char *set, int keep, uf_err *e)
{
    char pattern[4400];
    glob_t g;
    snprintf(pattern, sizeof pattern, "%s/%s.rows-*.part", dir, set);
    if (glob(pattern, 0, NULL, &g) != 0)
        return 0;
    qsort(g.gl_pathv, g.gl_pathc, sizeof *g.gl_pathv, cmp_part);
    fprintf(stderr, "[prepare full] merging %zu shards of %s in %s\n", (size_t)g.gl_pathc, set, dir);
    int rc = uf_features_merge((const char *const *)g.gl_pathv, (int)g.gl_pathc, dir, set, e);
    if (!rc && keep)
        rc = concat_rows(g.gl_pathv, (int)g.gl_pathc, dir, set, "features", e) ||
             concat_rows(g.gl_pathv, (int)g.gl_pathc, dir, set, "labels", e);
    globfree(&g);
    return rc;
}

/* dir/source.txt names what the folder's outputs are made from: another source clears them (a
 * shard of a sharded preparation refuses instead: the others' work is in there), so a set found done
 * (features_of_set) is one of this source. Under a lock on <dir>.lock: shards start together. */
static int claim_unlocked(const char *dir, const char *source, int shard, uf_err *e)
{
    char path[4400], *before = NULL;
    size_t len;
    snprintf(path, sizeof path, "%s/source.txt", dir);
    if (uf_is_file(path) && uf_read_file(path, &before, &len, e) == 0 && strcmp(before, source) == 0) {
        free(before);
        return 0;
    }
    free(before);
    if (shard && uf_is_file(path))
        return uf_fail(e, "%s: made from other weights, data or settings (its source.txt); a shard does not clear it",
                       dir);
    char cmd[4400];
    if (strchr(dir, '\'') != NULL)
        return uf_fail(e, "%s: paths with quotes are not supported", dir);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    uf_out o;
    if (system(cmd) != 0 || uf_mkdirs(dir, e) || uf_out_open(&o, path, e))
        return uf_is_dir(dir) ? -1 : uf_fail(e, "%s: cannot clear it", dir);
    fputs(source, o.f);
    return uf_out_commit(&o, e);
}

static int claim_folder(const char *dir, const char *source, int shard, uf_err *e)
{
    char lock[4400], parent[4400];
    snprintf(lock, sizeof lock, "%s.lock", dir);
    snprintf(parent, sizeof parent, "%s", dir);
    *strrchr(parent, '/') = '\0';
    int fd = uf_mkdirs(parent, e) ? -1 : open(lock, O_RDWR | O_CREAT, 0644);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) {
        if (fd >= 0)
            close(fd);
        return uf_fail(e, "%s: cannot lock: %s", lock, strerror(errno));
    }
    int rc = claim_unlocked(dir, source, shard, e);
    close(fd);
    return rc;
}

/* The outputs stamp.tsv lists: every set's means and counts, the kept features, the class table. */
static int output_names(const uf_full_model *fm, char files[][128])
{
    int n = 0;
    for (int s = -1; s < UF_FULL_NTARGETS; s++) {
        const char *set = s < 0 ? "imagenet" : uf_full_targets[s];
        snprintf(files[n++], 128, "%s.means.npy", set);
        snprintf(files[n++], 128, "%s.counts.npy", set);
    }
    if (fm->kmeans) {
        snprintf(files[n++], 128, "imagenet.features.npy");
        snprintf(files[n++], 128, "imagenet.labels.npy");
    }
    snprintf(files[n++], 128, "imagenet-classes.tsv");
    return n;
}

/* What the model's folder is made from; the model loaded. */
static int model_source(const full_paths *p, const uf_manifest *m, const uf_full_model *fm, const char *data_sum,
                        char *source, size_t n, char *weights, char *arch, uf_err *e)
{
    char key[96], hex[65];
    snprintf(key, sizeof key, "arch_%s", fm->name);
    if (setting(m, key, 0, arch, 64, e))
        return -1;
    snprintf(key, sizeof key, "weights_%s", fm->name);
    if (setting(m, key, 1, weights, 4096, e) || uf_sha256_file(weights, hex, e))
        return -1;
    snprintf(source, n, "weights=sha256:%s arch=%s output=%s size=%d downloads=sha256:%s conv=%s", hex, arch,
             fm->head ? "mlp" : "pooled", p->size, data_sum, uf_conv_path());
    return 0;
}

/* The model's folder: every set's features (after merging the shards of ImageNet's, if a sharded
 * preparation left them), or with shard_n > 0 only shard i of ImageNet's. */
static int features(const full_paths *p, const uf_manifest *m, const uf_full_model *fm, const char *data_sum,
                    int shard_i, int shard_n, uf_err *e)
{
    double t0 = uf_now();
    char arch[64], weights[4096], source[1024], dir[4200], to[4400], base[4400];
    char files[UF_STAMP_MAX_FILES][128];
    snprintf(dir, sizeof dir, "%s/%s", p->features, fm->name);
    if (model_source(p, m, fm, data_sum, source, sizeof source, weights, arch, e))
        return -1;
    if (!shard_n && uf_stamp_ok(dir, source)) {
        fprintf(stderr, "[prepare full] features %s: verified (%.1f s)\n", fm->name, uf_now() - t0);
        return 0;
    }
    uf_model model;
    int head, rc = claim_folder(dir, source, shard_n > 0, e);
    if (rc || uf_model_from_file(weights, arch, NULL, NULL, fm->head ? UF_OUT_MLP : UF_OUT_FEATURES, &model, &head, e))
        return -1;
    snprintf(base, sizeof base, "%s/imagenet", dir);
    if (!shard_n && !outputs_done(base, 0, fm->kmeans))
        rc = merge_shards(dir, "imagenet", fm->kmeans, e);
    for (int s = -1; s < (shard_n ? 0 : UF_FULL_NTARGETS) && !rc; s++)
        rc = features_of_set(p, &model, head, dir, source, s < 0 ? "imagenet" : uf_full_targets[s],
                             s < 0 && fm->kmeans, shard_i, s < 0 ? shard_n : 0, e);
    uf_model_free(&model);
    if (rc || shard_n)
        return rc;
    snprintf(to, sizeof to, "%s/imagenet-classes.tsv", dir);
    if (uf_copy_file(p->classes, to, e) || uf_stamp_write(dir, source, files, output_names(fm, files), e))
        return -1;
    fprintf(stderr, "[prepare full] features %s: done (%.1f s)\n", fm->name, uf_now() - t0);
    return 0;
}

/* ---- 3. k-means ---- */

/* K clusters of the model's ImageNet features into <model>-kmeans<suffix>/. */
static int clusters(const full_paths *p, const uf_full_model *fm, int k, const char *suffix, uf_err *e)
{
    char from[4200], dir[4300], features[4300], labels[4300];
    snprintf(from, sizeof from, "%s/%s", p->features, fm->name);
    snprintf(dir, sizeof dir, "%s-kmeans%s", from, suffix);
    snprintf(features, sizeof features, "%s/imagenet.features.npy", from);
    snprintf(labels, sizeof labels, "%s/imagenet.labels.npy", from);
    uf_cluster_job j = {.tag = "[prepare full]", .from = from, .features = features, .labels = labels,
                        .classes = p->classes, .set = "imagenet", .dir = dir, .k = k, .targets = uf_full_targets,
                        .ntargets = UF_FULL_NTARGETS};
    return uf_prepare_clusters(&j, e);
}

/* ---- 4. linear-probe features (experiments/backbones.ini) ---- */


/* The model and what it is made from: the weights file's sum, or the random initialisation. */
static int probe_model(const full_paths *p, const uf_manifest *m, const struct probe_model *pm, const char *data_sum,
                       uf_model *model, char *source, size_t n, uf_err *e)
{
    char weights[4096], arch[64];
    int head;
    if (!pm->weights_of) {
        uf_arch a;
        if (uf_arch_parse("resnet18", &a, e) || uf_model_create(model, &a, NULL, 0, e))
            return -1;
        uf_model_init_weights(model, 0);
        snprintf(source, n, "random=resnet18 seed=0 size=%d downloads=sha256:%s conv=%s probe", p->size, data_sum,
                 uf_conv_path());
        return 0;
    }
    uf_full_model pooled = {pm->weights_of, 0, 0}; /* the backbone's pooled feature, whatever its head */
    if (model_source(p, m, &pooled, data_sum, source, n - 8, weights, arch, e))
        return -1;
    strcat(source, " probe");
    return uf_model_from_file(weights, arch, NULL, NULL, UF_OUT_FEATURES, model, &head, e);
}

/* features/<model>-probe/: the probe set's per-image pooled features, train and test splits, as uotft
 * features writes them (<set>-<split>.features.npy, .labels.npy) for uf_probe_files. */
static int probe_features(const full_paths *p, const uf_manifest *m, const struct probe_model *pm,
                          const char *data_sum, const char *set, uf_err *e)
{
    char dir[4400], source[1024], root[4200], files[UF_STAMP_MAX_FILES][128];
    uf_model model;
    snprintf(dir, sizeof dir, "%s/%s", p->features, pm->folder);
    if (probe_model(p, m, pm, data_sum, &model, source, sizeof source, e))
        return -1;
    int rc = 0, nf = 0;
    if (!uf_stamp_ok(dir, source) && !(rc = claim_folder(dir, source, 0, e))) {
        snprintf(root, sizeof root, "%s/%s", p->data, set);
        for (int split = 0; split < 2 && !rc; split++) {
            uf_dataset ds;
            char name[96];
            snprintf(name, sizeof name, "%s-%s", set, split ? "test" : "train");
            uf_dsfeat_cfg c = {.ex = {.size = p->size, .batch = FEATURE_BATCH, .loader_threads = 2, .head = -1},
                               .dir = dir, .name = name, .made_from = source, .keep_features = 1, .progress = 1};
            rc = uf_dataset_list(&ds, set, root, split ? "test" : "train", 0, e) || uf_dataset_open_images(&ds, NULL, e);
            char base[4500];
            snprintf(base, sizeof base, "%s/%s", dir, name);
            c.end = ds.n;
            if (!rc && !outputs_done(base, 0, 1))
                rc = uf_dataset_features(&model, &ds, &c, e) ? -1 : 0;
            uf_dataset_free(&ds);
            snprintf(files[nf++], 128, "%s.features.npy", name);
            snprintf(files[nf++], 128, "%s.labels.npy", name);
        }
        if (!rc)
            rc = uf_stamp_write(dir, source, files, nf, e);
    }
    uf_model_free(&model);
    return rc;
}

int uf_prepare_full_manifest(const uf_manifest *m, int shard_i, int shard_n, uf_err *e)
{
    double t0 = uf_now();
    full_paths p;
    char size[32], kv[2][32], data_sum[65];
    if (setting(m, "downloads", 1, p.data, sizeof p.data, e) || setting(m, "store", 1, p.store, sizeof p.store, e) ||
        setting(m, "features", 1, p.features, sizeof p.features, e) || setting(m, "size", 0, size, sizeof size, e) ||
        setting(m, "kmeans", 0, kv[0], sizeof kv[0], e) || setting(m, "kmeans_1x", 0, kv[1], sizeof kv[1], e))
        return -1;
    int coords[UF_MAX_AXES] = {0};
    if (uf_job_path(m, coords, "imagenet_classes", p.classes, sizeof p.classes, e))
        return -1;
    p.size = atoi(size);
    if (verify_downloads(m, p.data, p.store, shard_n > 0, data_sum, e))
        return -1;
    /* the weights' sums in the recipes the downloads were verified with (core/sha256.h): a world
     * other than the published one (the fixtures) has its own */
    char recipes[4096];
    if (setting(m, "recipes", 1, recipes, sizeof recipes, e) || setenv("UOTFT_RECIPES", recipes, 1) != 0)
        return -1;
    for (int k = 0; k < UF_FULL_NMODELS; k++) {
        const uf_full_model *fm = &uf_full_models[k];
        if (features(&p, m, fm, data_sum, shard_i, shard_n, e))
            return -1;
        if (!shard_n && fm->kmeans && (clusters(&p, fm, atoi(kv[0]), "", e) || clusters(&p, fm, atoi(kv[1]), "-1x", e)))
            return -1;
    }
    char probe_set[64];
    if (!shard_n && setting(m, "probe_set", 0, probe_set, sizeof probe_set, e))
        return -1;
    for (size_t k = 0; !shard_n && k < sizeof probe_models / sizeof probe_models[0]; k++)
        if (probe_features(&p, m, &probe_models[k], data_sum, probe_set, e))
            return -1;
    if (shard_n)
        fprintf(stderr, "[prepare full] shard %d of %d: done (%.1f s); merge with uotft run --prepare-only\n", shard_i,
                shard_n, uf_now() - t0);
    else
        fprintf(stderr, "[prepare full] ready (%.1f s)\n", uf_now() - t0);
    return 0;
}
