/* Source-class metadata: a TSV with at least the columns `concept` and
 * `name` (and optionally `index`, which must then count 0, 1, ...), one row
 * per source class in the order of the means, e.g. imagenet-classes.tsv. */
#ifndef UF_CLASSES_H
#define UF_CLASSES_H

#include "../core/tsv.h"

typedef struct uf_classes {
    int n;
    const char **concept; /* n */
    const char **name;    /* n */
    uf_tsv table;
} uf_classes;

int uf_classes_read(const char *path, uf_classes *c, uf_err *e);
void uf_classes_free(uf_classes *c);
/* mask[i] = 1 for classes of the concept; returns how many there are. */
int uf_classes_mask(const uf_classes *c, const char *concept, unsigned char *mask);

#endif
