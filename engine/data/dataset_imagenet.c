/* ImageNet ILSVRC-2012 (DATASETS.md 3.1). Classes are the devkit's 1000 leaf synsets in sorted-WNID
 * order (torchvision's ImageFolder order), never ILSVRC2012_ID - 1. The train tar is a tar of 1000
 * per-class tars: its members are listed once from the cached member index (one pass over the
 * 147 GB, nothing extracted). Validation labels come from the devkit's ground truth (IDs). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "dataset.h"
#include "mat.h"

enum { NLEAF = 1000 };

typedef struct leaf {
    char wnid[16];
    int id; /* ILSVRC2012_ID */
} leaf;

static int cmp_leaf(const void *a, const void *b)
{
    return strcmp(((const leaf *)a)->wnid, ((const leaf *)b)->wnid);
}

typedef struct src_label {
    char *src;
    int label;
} src_label;

static int cmp_src(const void *a, const void *b)
{
    return strcmp(((const src_label *)a)->src, ((const src_label *)b)->src);
}

static int from_train_tar(uf_dataset *ds, const leaf *sorted, uf_err *e)
{
    uf_arc_index ix;
    if (uf_arc_index_load(ds->images, NULL, &ix, e))
        return -1;
    src_label *rows = uf_calloc((size_t)ix.n, sizeof *rows, e);
    int n = 0, rc = rows ? 0 : -1;
    for (int i = 0; !rc && i < ix.n; i++) {
        const char *name = ix.name[i], *slash = strchr(name, '/');
        leaf key = {{0}, 0};
        /* "<wnid>.tar/<wnid>_<n>.JPEG" */
        if (!slash || slash - name != 13 || strncmp(slash - 4, ".tar", 4) != 0) {
            rc = uf_fail(e, "%s: member '%s' is not <wnid>.tar/<file>", ds->images, name);
            break;
        }
        memcpy(key.wnid, name, 9);
        const leaf *hit = bsearch(&key, sorted, NLEAF, sizeof *sorted, cmp_leaf);
        if (!hit)
            rc = uf_fail(e, "%s: '%s' is not one of the devkit's 1000 classes", ds->images, key.wnid);
        else
            rows[n++] = (src_label){ix.name[i], (int)(hit - sorted)};
    }
    if (!rc) {
        qsort(rows, (size_t)n, sizeof *rows, cmp_src);
        for (int i = 0; !rc && i < n; i++)
            rc = uf_ds_add(ds, rows[i].src, rows[i].label, e);
    }
    free(rows);
    uf_arc_index_free(&ix);
    return rc;
}

int uf_ds_imagenet(uf_dataset *ds, const char *root, int train, uint64_t seed, uf_err *e)
{
    (void)seed;
    char devkit[4096];
    const char *m[] = {"ILSVRC2012_devkit_t12/data/meta.mat",
                       "ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt"};
    char *b[2];
    size_t len[2];
    if (uf_ds_need(root, train ? "ILSVRC2012_img_train.tar" : "ILSVRC2012_img_val.tar", "imagenet", ds->images,
                   sizeof ds->images, e) ||
        uf_ds_need(root, "ILSVRC2012_devkit_t12.tar.gz", "imagenet", devkit, sizeof devkit, e) ||
        uf_ds_read_members(devkit, 2, m, b, len, e))
        return -1;
    uf_mat_file mf;
    int rc = uf_mat_parse(b[0], len[0], m[0], &mf, e);
    if (rc) {
        free(b[0]);
        free(b[1]);
        return -1;
    }
    const uf_mat *syn = uf_mat_var(&mf, "synsets");
    leaf byid[NLEAF + 1], sorted[NLEAF];
    memset(byid, 0, sizeof byid);
    int nleaf = 0;
    for (size_t i = 0; syn && i < syn->n; i++) {
        if (uf_mat_scalar(uf_mat_field(syn, i, "num_children")) != 0)
            continue;
        double id = uf_mat_scalar(uf_mat_field(syn, i, "ILSVRC2012_ID"));
        const char *w = uf_mat_str(uf_mat_field(syn, i, "WNID"));
        if (!(id >= 1 && id <= NLEAF) || !w || strlen(w) != 9 || byid[(int)id].id) {
            nleaf = -1;
            break;
        }
        byid[(int)id].id = (int)id;
        snprintf(byid[(int)id].wnid, sizeof byid[0].wnid, "%s", w);
        nleaf++;
    }
    if (nleaf != NLEAF)
        rc = uf_fail(e, "%s: %s: synsets lacks 1000 leaves with ILSVRC2012_ID 1..1000 and a WNID", devkit, m[0]);
    char *names[NLEAF];
    if (!rc) {
        memcpy(sorted, byid + 1, sizeof sorted);
        qsort(sorted, NLEAF, sizeof *sorted, cmp_leaf);
        for (int k = 0; k < NLEAF; k++)
            names[k] = sorted[k].wnid;
        rc = uf_ds_set_classes(ds, NLEAF, names, e);
    }
    if (!rc && train)
        rc = from_train_tar(ds, sorted, e);
    /* validation: line k of the ground truth is the ILSVRC2012_ID of ILSVRC2012_val_<k>.JPEG */
    int index_of_id[NLEAF + 1];
    for (int k = 0; !rc && k < NLEAF; k++)
        index_of_id[sorted[k].id] = k;
    char *p = b[1], *line, src[64];
    for (int k = 1; !rc && !train && (line = uf_ds_next_line(&p)); k++) {
        char *end;
        long id = strtol(line, &end, 10);
        if (end == line || *end || id < 1 || id > NLEAF)
            rc = uf_fail(e, "%s: %s line %d: '%s' is no ILSVRC2012_ID", devkit, m[1], k, line);
        else {
            snprintf(src, sizeof src, "ILSVRC2012_val_%08d.JPEG", k);
            rc = uf_ds_add(ds, src, index_of_id[id], e);
        }
    }
    uf_mat_file_free(&mf);
    free(b[0]);
    free(b[1]);
    return rc;
}
