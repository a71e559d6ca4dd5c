/* A data set split as (source, label) rows, read from the files exactly as their publishers ship
 * them (DATASETS.md), plus random access to each row's image. `root` is the folder where
 * datasets/fetch put the data set's files. Row order is the split file's order where the data set
 * has one, else sorted by source. */
#ifndef UF_DATA_DATASET_H
#define UF_DATA_DATASET_H

#include <stdint.h>

#include "archive.h"
#include "core/err.h"
#include "image.h"

typedef struct uf_dataset {
    char name[32];
    int n;
    char **source; /* path inside the archive (nested archives joined with '/') or the folder */
    int *label;    /* 0 .. nclasses-1 */
    int nclasses;
    char **classes;
    char images[4096]; /* the archive holding the images, or the folder (imagefolder), or the IDX file */
    int kind;          /* how images are stored: UF_DS_ARCHIVE, UF_DS_FOLDER, UF_DS_RAW */
    uf_arc_store store;
    int store_open;
    uint8_t *raw; /* UF_DS_RAW (IDX): n grayscale images of raw_h x raw_w */
    int raw_h, raw_w;
} uf_dataset;

enum { UF_DS_ARCHIVE, UF_DS_FOLDER, UF_DS_RAW };

/* The data set names, comma-separated. */
const char *uf_dataset_names(void);
/* Lists split "train" or "test" of a data set; seed only matters where the split is drawn
 * (caltech101). */
int uf_dataset_list(uf_dataset *ds, const char *name, const char *root, const char *split, uint64_t seed,
                    uf_err *e);
/* Prepares random access to the images (indexes archives once; cache_dir NULL: beside them). */
int uf_dataset_open_images(uf_dataset *ds, const char *cache_dir, uf_err *e);
/* Row i's decoded image, RGB. After uf_dataset_open_images it is a random access (thread-safe);
 * before, the archive is streamed up to the image, which suits a single look. */
int uf_dataset_image(const uf_dataset *ds, int i, uf_image *im, uf_err *e);
/* The same, decoding only the region choose() picks (uf_image_decode_region). */
int uf_dataset_image_region(const uf_dataset *ds, int i, uf_region_fn choose, void *ctx, uf_image *im, uf_err *e);
void uf_dataset_free(uf_dataset *ds);
/* The split's image count, or -1 when it cannot be listed (for a plan: not downloaded yet). */
long uf_dataset_count(const char *name, const char *root, const char *split, uint64_t seed);

/* ---- for the readers (dataset_*.c) ---- */

/* Appends a row; the source is copied. */
int uf_ds_add(uf_dataset *ds, const char *source, int label, uf_err *e);
/* Sets the class names (copied). */
int uf_ds_set_classes(uf_dataset *ds, int n, char *const *names, uf_err *e);
/* Reads several members of one archive in a single pass; a member name that starts with '*'
 * matches any member whose name ends with the rest ("*Training_01.txt"). bufs are NUL-terminated. */
int uf_ds_read_members(const char *archive, int n, const char *const *members, char **bufs, size_t *lens,
                       uf_err *e);
/* The next line of a text buffer (CR stripped), advancing *p; NULL at the end. */
char *uf_ds_next_line(char **p);
/* "<root>/<file>" when it exists, else an error naming the data set and the missing file. */
int uf_ds_need(const char *root, const char *file, const char *dsname, char *out, size_t cap, uf_err *e);

typedef int (*uf_ds_reader)(uf_dataset *ds, const char *root, int train, uint64_t seed, uf_err *e);
int uf_ds_imagenet(uf_dataset *ds, const char *root, int train, uint64_t seed, uf_err *e);
int uf_ds_cub(uf_dataset *ds, const char *root, int train, uint64_t seed, uf_err *e);
int uf_ds_dogs(uf_dataset *ds, const char *root, int train, uint64_t seed, uf_err *e);
int uf_ds_cars(uf_dataset *ds, const char *root, int train, uint64_t seed, uf_err *e);
int uf_ds_pets(uf_dataset *ds, const char *root, int train, uint64_t seed, uf_err *e);
int uf_ds_sun397(uf_dataset *ds, const char *root, int train, uint64_t seed, uf_err *e);
int uf_ds_aircraft(uf_dataset *ds, const char *root, int train, uint64_t seed, uf_err *e);
int uf_ds_dtd(uf_dataset *ds, const char *root, int train, uint64_t seed, uf_err *e);
int uf_ds_caltech101(uf_dataset *ds, const char *root, int train, uint64_t seed, uf_err *e);
int uf_ds_imagefolder(uf_dataset *ds, const char *root, int train, uint64_t seed, uf_err *e);
int uf_ds_idx(uf_dataset *ds, const char *root, int train, uint64_t seed, uf_err *e);
/* mini-<set>: root is the mini world's folder (data/mini); ds->name carries the set. */
int uf_ds_mini(uf_dataset *ds, const char *root, int train, uint64_t seed, uf_err *e);

#endif
