/* Readers for users' own data: an ImageFolder tree (root/class/image, torchvision's layout and
 * order) and IDX files (MNIST, Fashion-MNIST; gzip-compressed or not). */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "core/alloc.h"
#include "core/fileio.h"
#include "dataset.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* torchvision's IMG_EXTENSIONS */
static int image_name(const char *f)
{
    static const char *const ext[] = {".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"};
    const char *dot = strrchr(f, '.');
    for (size_t i = 0; dot && i < sizeof ext / sizeof ext[0]; i++)
        if (strcasecmp(dot, ext[i]) == 0)
            return 1;
    return 0;
}

typedef struct names {
    char **v;
    int n, cap;
} names;

static int names_add(names *s, const char *a, const char *b, uf_err *e)
{
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 64;
        char **nv = uf_realloc(s->v, (size_t)cap, sizeof *nv, e);
        if (!nv)
            return -1;
        s->v = nv;
        s->cap = cap;
    }
    size_t len = strlen(a) + strlen(b) + 2;
    if (!(s->v[s->n] = uf_alloc(len, e)))
        return -1;
    snprintf(s->v[s->n++], len, "%s%s%s", a, *a && *b ? "/" : "", b);
    return 0;
}

static void names_free(names *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
}

/* Entries of dir (relative to base) that are folders (want_dirs) or image files, recursively for files. */
static int scan(const char *base, const char *rel, int want_dirs, names *out, uf_err *e)
{
    char path[8192];
    snprintf(path, sizeof path, "%s%s%s", base, *rel ? "/" : "", rel);
    DIR *d = opendir(path);
    if (!d)
        return uf_fail(e, "%s: cannot open folder", path);
    struct dirent *de;
    int rc = 0;
    while (!rc && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char full[8448];
        snprintf(full, sizeof full, "%s/%s", path, de->d_name);
        if (uf_is_dir(full)) {
            char sub[8192];
            snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
            rc = want_dirs ? names_add(out, "", de->d_name, e) : scan(base, sub, 0, out, e);
        } else if (!want_dirs && image_name(de->d_name)) {
            rc = names_add(out, rel, de->d_name, e);
        }
    }
    closedir(d);
    return rc;
}

int uf_ds_imagefolder(uf_dataset *ds, const char *root, int train, uint64_t seed, uf_err *e)
{
    (void)seed;
    /* root/train and root/test (or root/val) when present, as the paper's code lays them out */
    const char *sub[] = {train ? "train" : "test", train ? "train" : "val"};
    snprintf(ds->images, sizeof ds->images, "%s", root);
    for (int i = 0; i < 2; i++) {
        char p[4096];
        if (snprintf(p, sizeof p, "%s/%s", root, sub[i]) < (int)sizeof p && uf_is_dir(p)) {
            memcpy(ds->images, p, sizeof p);
            break;
        }
    }
    ds->kind = UF_DS_FOLDER;
    names cls = {0};
    int rc = scan(ds->images, "", 1, &cls, e);
    if (!rc && cls.n == 0)
        rc = uf_fail(e, "%s: no class folders", ds->images);
    if (!rc) {
        qsort(cls.v, (size_t)cls.n, sizeof *cls.v, cmp_str);
        rc = uf_ds_set_classes(ds, cls.n, cls.v, e);
    }
    for (int k = 0; !rc && k < cls.n; k++) {
        names files = {0};
        rc = scan(ds->images, cls.v[k], 0, &files, e);
        if (!rc && files.n == 0)
            rc = uf_fail(e, "%s/%s: no image files", ds->images, cls.v[k]);
        if (!rc)
            qsort(files.v, (size_t)files.n, sizeof *files.v, cmp_str);
        for (int i = 0; !rc && i < files.n; i++)
            rc = uf_ds_add(ds, files.v[i], k, e);
        names_free(&files);
    }
    names_free(&cls);
    return rc;
}

/* ---- IDX ---- */

static int read_gz(const char *path, uint8_t **buf, size_t *len, uf_err *e)
{
    gzFile g = gzopen(path, "rb");
    if (!g)
        return uf_fail(e, "%s: cannot open", path);
    size_t cap = 1 << 20, n = 0;
    uint8_t *b = uf_alloc(cap, e);
    int r = 1;
    while (b && (r = gzread(g, b + n, (unsigned)(cap - n))) > 0) {
        n += (size_t)r;
        if (n == cap) {
            uint8_t *nb = uf_realloc(b, cap, 2, e);
            if (!nb)
                free(b);
            b = nb;
            cap *= 2;
        }
    }
    int errnum = 0;
    /* formatted before gzclose, which frees the message gzerror points into */
    if (b && r < 0)
        uf_fail(e, "%s: corrupt or truncated gzip data (%s)", path, gzerror(g, &errnum));
    gzclose(g);
    if (!b)
        return uf_wrap(e, "%s", path);
    if (r < 0) {
        free(b);
        return -1;
    }
    *buf = b;
    *len = n;
    return 0;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* An IDX file of unsigned bytes with ndim dimensions: returns the dims and the data. */
static int idx_parse(const char *path, const uint8_t *b, size_t len, int ndim, uint32_t *dims, uf_err *e)
{
    if (len < 4 + 4 * (size_t)ndim || b[0] || b[1] || b[2] != 0x08 || b[3] != ndim)
        return uf_fail(e, "%s: not an IDX file of unsigned bytes with %d dimensions", path, ndim);
    size_t n = 1;
    for (int d = 0; d < ndim; d++) {
        dims[d] = be32(b + 4 + 4 * d);
        n *= dims[d];
    }
    if (len != 4 + 4 * (size_t)ndim + n)
        return uf_fail(e, "%s: %zu data bytes, the header says %zu (truncated?)", path, len - 4 - 4 * (size_t)ndim, n);
    return 0;
}

static int find_idx(const char *root, const char *stem, char *out, size_t cap, uf_err *e)
{
    snprintf(out, cap, "%s/%s.gz", root, stem);
    if (uf_is_file(out))
        return 0;
    snprintf(out, cap, "%s/%s", root, stem);
    return uf_is_file(out) ? 0 : uf_fail(e, "%s(.gz): missing", out);
}

int uf_ds_idx(uf_dataset *ds, const char *root, int train, uint64_t seed, uf_err *e)
{
    (void)seed;
    char lab_path[4200];
    const char *pre = train ? "train" : "t10k";
    char stem[64];
    snprintf(stem, sizeof stem, "%s-images-idx3-ubyte", pre);
    if (find_idx(root, stem, ds->images, sizeof ds->images, e))
        return -1;
    snprintf(stem, sizeof stem, "%s-labels-idx1-ubyte", pre);
    if (find_idx(root, stem, lab_path, sizeof lab_path, e))
        return -1;
    uint8_t *img = NULL, *lab = NULL;
    size_t ni, nl;
    uint32_t di[3] = {0, 0, 0}, dl[1] = {0};
    int rc = read_gz(ds->images, &img, &ni, e);
    if (!rc)
        rc = read_gz(lab_path, &lab, &nl, e);
    if (!rc)
        rc = idx_parse(ds->images, img, ni, 3, di, e);
    if (!rc)
        rc = idx_parse(lab_path, lab, nl, 1, dl, e);
    if (!rc && (di[0] != dl[0] || di[1] == 0 || di[2] == 0))
        rc = uf_fail(e, "%s: %u images for %u labels", ds->images, di[0], dl[0]);
    int ncls = 0;
    for (uint32_t i = 0; !rc && i < dl[0]; i++)
        ncls = lab[8 + i] + 1 > ncls ? lab[8 + i] + 1 : ncls;
    char *names[256], buf[256][12];
    for (int k = 0; k < ncls; k++) {
        snprintf(buf[k], sizeof buf[k], "%d", k);
        names[k] = buf[k];
    }
    if (!rc)
        rc = uf_ds_set_classes(ds, ncls, names, e);
    const char *base = strrchr(ds->images, '/') + 1;
    char src[4300];
    for (uint32_t i = 0; !rc && i < dl[0]; i++) {
        snprintf(src, sizeof src, "%s#%u", base, i);
        rc = uf_ds_add(ds, src, lab[8 + i], e);
    }
    if (!rc) {
        ds->kind = UF_DS_RAW;
        ds->raw_h = (int)di[1];
        ds->raw_w = (int)di[2];
        if ((ds->raw = uf_alloc(ni - 16, e)))
            memcpy(ds->raw, img + 16, ni - 16);
        else
            rc = -1;
    }
    free(img);
    free(lab);
    return rc;
}
