#define _POSIX_C_SOURCE 200809L
#include "dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/fileio.h"

static const struct {
    const char *name;
    uf_ds_reader read;
} readers[] = {
    {"imagenet", uf_ds_imagenet}, {"cub", uf_ds_cub},           {"dogs", uf_ds_dogs},
    {"cars", uf_ds_cars},         {"pets", uf_ds_pets},         {"sun397", uf_ds_sun397},
    {"aircraft", uf_ds_aircraft}, {"dtd", uf_ds_dtd},           {"caltech101", uf_ds_caltech101},
    {"imagefolder", uf_ds_imagefolder}, {"idx", uf_ds_idx},
    {"mini-", uf_ds_mini}, /* a prefix: mini-<set> names a set of the mini world */
};

const char *uf_dataset_names(void)
{
    return "imagenet, cub, dogs, cars, pets, sun397, aircraft, dtd, caltech101, imagefolder, idx, "
           "mini-<set> (pool, digits, fashion, hand, mix)";
}

int uf_dataset_list(uf_dataset *ds, const char *name, const char *root, const char *split, uint64_t seed,
                    uf_err *e)
{
    memset(ds, 0, sizeof *ds);
    int train = strcmp(split, "train") == 0;
    if (!train && strcmp(split, "test") != 0)
        return uf_fail(e, "split must be train or test, not '%s'", split);
    if (!uf_is_dir(root))
        return uf_fail(e, "%s: no such folder (the data set's files, as datasets/fetch puts them)", root);
    for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++) {
        size_t l = strlen(readers[i].name);
        int prefix = readers[i].name[l - 1] == '-';
        if (prefix ? strncmp(name, readers[i].name, l) != 0 || !name[l] : strcmp(name, readers[i].name) != 0)
            continue;
        snprintf(ds->name, sizeof ds->name, "%s", name);
        if (readers[i].read(ds, root, train, seed, e)) {
            uf_dataset_free(ds);
            return uf_wrap(e, "%s %s split", name, split);
        }
        for (int k = 0; k < ds->n; k++)
            if (ds->label[k] < 0 || ds->label[k] >= ds->nclasses) {
                int bad = ds->label[k];
                uf_dataset_free(ds);
                return uf_fail(e, "%s %s split: label %d outside 0..%d", name, split, bad, ds->nclasses - 1);
            }
        return 0;
    }
    return uf_fail(e, "unknown data set '%s' (one of %s)", name, uf_dataset_names());
}

int uf_dataset_open_images(uf_dataset *ds, const char *cache_dir, uf_err *e)
{
    if (ds->kind != UF_DS_ARCHIVE || ds->store_open)
        return 0;
    if (uf_arc_store_open(&ds->store, ds->images, cache_dir, ds->n, ds->source, e))
        return -1;
    ds->store_open = 1;
    return 0;
}

int uf_dataset_image(const uf_dataset *ds, int i, uf_image *im, uf_err *e)
{
    return uf_dataset_image_region(ds, i, NULL, NULL, im, e);
}

int uf_dataset_image_region(const uf_dataset *ds, int i, uf_region_fn choose, void *ctx, uf_image *im, uf_err *e)
{
    if (i < 0 || i >= ds->n)
        return uf_fail(e, "%s: row %d outside 0..%d", ds->name, i, ds->n - 1);
    if (ds->kind == UF_DS_RAW) {
        if (uf_image_alloc(im, ds->raw_w, ds->raw_h, e))
            return -1;
        const uint8_t *g = ds->raw + (size_t)i * (size_t)ds->raw_w * (size_t)ds->raw_h;
        for (size_t k = 0; k < (size_t)ds->raw_w * (size_t)ds->raw_h; k++)
            im->px[3 * k] = im->px[3 * k + 1] = im->px[3 * k + 2] = g[k];
        char what[4200];
        snprintf(what, sizeof what, "%s#%d", ds->images, i);
        return uf_image_crop_to(im, what, choose, ctx, e);
    }
    void *buf = NULL;
    size_t len = 0;
    char what[8300];
    snprintf(what, sizeof what, "%s/%s", ds->images, ds->source[i]);
    int rc;
    if (ds->kind == UF_DS_FOLDER) {
        char *b;
        rc = uf_read_file(what, &b, &len, e);
        buf = b;
    } else if (!ds->store_open) { /* one image: found by streaming, no index needed */
        rc = uf_arc_read_member(ds->images, ds->source[i], &buf, &len, e);
    } else {
        rc = uf_arc_store_get(&ds->store, i, &buf, &len, e);
    }
    if (!rc)
        rc = uf_image_decode_region(buf, len, what, choose, ctx, im, e);
    free(buf);
    return rc;
}

long uf_dataset_count(const char *name, const char *root, const char *split, uint64_t seed)
{
    uf_dataset ds;
    uf_err ignored; /* the caller's plan falls back on its settings */
    if (!uf_is_dir(root) || uf_dataset_list(&ds, name, root, split, seed, &ignored))
        return -1;
    long n = ds.n;
    uf_dataset_free(&ds);
    return n;
}

void uf_dataset_free(uf_dataset *ds)
{
    for (int i = 0; i < ds->n; i++)
        free(ds->source[i]);
    free(ds->source);
    free(ds->label);
    for (int k = 0; k < ds->nclasses; k++)
        free(ds->classes[k]);
    free(ds->classes);
    if (ds->store_open)
        uf_arc_store_close(&ds->store);
    free(ds->raw);
    memset(ds, 0, sizeof *ds);
}

int uf_ds_add(uf_dataset *ds, const char *source, int label, uf_err *e)
{
    if ((ds->n & (ds->n - 1)) == 0) { /* capacity doubles at powers of two */
        size_t cap = ds->n ? 2 * (size_t)ds->n : 1;
        char **s = uf_realloc(ds->source, cap, sizeof *s, e);
        if (s)
            ds->source = s;
        int *l = s ? uf_realloc(ds->label, cap, sizeof *l, e) : NULL;
        if (l)
            ds->label = l;
        if (!s || !l)
            return -1;
    }
    if (!(ds->source[ds->n] = uf_strdup(source, e)))
        return -1;
    ds->label[ds->n++] = label;
    return 0;
}

int uf_ds_set_classes(uf_dataset *ds, int n, char *const *names, uf_err *e)
{
    if (!(ds->classes = uf_calloc((size_t)n + 1, sizeof *ds->classes, e)))
        return -1;
    ds->nclasses = n;
    for (int k = 0; k < n; k++) {
        if (!names[k]) /* a reader's table with a hole: an error, not a crash in strdup */
            return uf_fail(e, "class %d has no name", k + 1);
        if (!(ds->classes[k] = uf_strdup(names[k], e)))
            return -1;
    }
    return 0;
}

typedef struct members_ctx {
    int n, left;
    const char *const *want;
    char **bufs;
    size_t *lens;
} members_ctx;

static int member_matches(const char *want, const char *name)
{
    if (want[0] != '*')
        return strcmp(want, name) == 0;
    size_t n = strlen(name), k = strlen(want + 1);
    return n >= k && strcmp(name + n - k, want + 1) == 0 && (n == k || name[n - k - 1] == '/');
}

static int take_members(void *ctx, const uf_arc_entry *en, uf_err *e)
{
    members_ctx *c = ctx;
    for (int i = 0; i < c->n; i++) {
        if (c->bufs[i] || !member_matches(c->want[i], en->name))
            continue;
        if (en->size < 0 || en->size > (1 << 30))
            return uf_fail(e, "%s: member too large (%lld bytes)", en->name, (long long)en->size);
        if (!(c->bufs[i] = uf_alloc((size_t)en->size + 1, e)))
            return uf_wrap(e, "%s", en->name);
        if (uf_arc_entry_read(en, c->bufs[i], e))
            return -1;
        c->bufs[i][en->size] = '\0';
        c->lens[i] = (size_t)en->size;
        return --c->left == 0 ? 1 : 0;
    }
    return 0;
}

int uf_ds_read_members(const char *archive, int n, const char *const *members, char **bufs, size_t *lens,
                       uf_err *e)
{
    members_ctx c = {n, n, members, bufs, lens};
    for (int i = 0; i < n; i++)
        bufs[i] = NULL;
    int rc = uf_arc_walk(archive, NULL, take_members, &c, e);
    for (int i = 0; !rc && i < n; i++)
        if (!bufs[i])
            rc = uf_fail(e, "%s: no member %s", archive, members[i][0] == '*' ? members[i] + 1 : members[i]);
    if (rc)
        for (int i = 0; i < n; i++) {
            free(bufs[i]);
            bufs[i] = NULL;
        }
    return rc;
}

char *uf_ds_next_line(char **p)
{
    if (!*p || !**p)
        return NULL;
    char *line = *p, *nl = strchr(line, '\n');
    if (nl) {
        *nl = '\0';
        *p = nl + 1;
    } else {
        *p = line + strlen(line);
    }
    size_t n = strlen(line);
    if (n && line[n - 1] == '\r')
        line[n - 1] = '\0';
    return line;
}

int uf_ds_need(const char *root, const char *file, const char *dsname, char *out, size_t cap, uf_err *e)
{
    snprintf(out, cap, "%s/%s", root, file);
    if (!uf_is_file(out))
        return uf_fail(e, "%s: missing (datasets/fetch %s, or --root pointing at its files)", out, dsname);
    return 0;
}
