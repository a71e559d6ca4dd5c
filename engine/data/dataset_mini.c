/* The mini world's sets (datasets/mini) as data set splits, so the mini tier
 * trains through the same loader and transforms as the full tier: the images
 * are raw 8-bit grayscale like IDX; class names come from <set>-classes.tsv. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/tsv.h"
#include "dataset.h"
#include "miniset.h"

int uf_ds_mini(uf_dataset *ds, const char *root, int train, uint64_t seed, uf_err *e)
{
    (void)seed;
    const char *set = ds->name + strlen("mini-");
    char cls_path[4200];
    snprintf(ds->images, sizeof ds->images, "%s/%s-%s.mset", root, set, train ? "train" : "test");
    snprintf(cls_path, sizeof cls_path, "%s/%s-classes.tsv", root, set);
    uf_miniset ms;
    uf_tsv t;
    if (uf_miniset_read(ds->images, &ms, e))
        return -1;
    if (uf_tsv_read(cls_path, &t, e)) {
        uf_miniset_free(&ms);
        return -1;
    }
    int rc = 0, col = uf_tsv_col(&t, "name");
    if (col < 0 || t.nrows != ms.classes)
        rc = uf_fail(e, "%s: needs a 'name' column and one row per class (%d, the set has %d)", cls_path,
                     t.nrows, ms.classes);
    char **names = rc ? NULL : uf_calloc((size_t)ms.classes + 1, sizeof *names, e);
    rc = rc || names ? rc : -1;
    for (int k = 0; !rc && k < ms.classes; k++)
        names[k] = (char *)uf_tsv_at(&t, k, col);
    if (!rc)
        rc = uf_ds_set_classes(ds, ms.classes, names, e);
    const char *base = strrchr(ds->images, '/') ? strrchr(ds->images, '/') + 1 : ds->images;
    char src[4300];
    for (int i = 0; !rc && i < ms.count; i++) {
        snprintf(src, sizeof src, "%s#%d", base, i);
        rc = uf_ds_add(ds, src, ms.labels[i], e);
    }
    if (!rc) {
        ds->kind = UF_DS_RAW;
        ds->raw_h = ms.height;
        ds->raw_w = ms.width;
        ds->raw = ms.pixels; /* taken over: freed with the data set */
        ms.pixels = NULL;
    }
    free(names);
    uf_tsv_free(&t);
    uf_miniset_free(&ms);
    return rc;
}
