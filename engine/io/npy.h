/* NumPy .npy files, format 1.0 and 2.0, C order, little-endian f8/f4/i8/i4.
 * Anything else (Fortran order, other types, object arrays, a size that does
 * not match the shape) is rejected with the file name and the reason. */
#ifndef UF_NPY_H
#define UF_NPY_H

#include "../core/array.h"

int uf_npy_read(const char *path, uf_array *a, uf_err *e);

/* The same checks, but a->data points into a read-only map of the file: pages come from disk as
 * they are read and cost no heap (ImageNet's 1.28 M x 128 features for k-means). a->data is valid
 * until uf_npy_unmap(m); never uf_array_free it. */
typedef struct uf_npy_mapping {
    void *base;
    size_t len;
} uf_npy_mapping;
int uf_npy_map(const char *path, uf_array *a, uf_npy_mapping *m, uf_err *e);
void uf_npy_unmap(uf_npy_mapping *m);
/* Writes byte-for-byte what numpy.save (1.24) writes, through a temporary
 * file renamed into place. */
int uf_npy_write(const char *path, const uf_array *a, uf_err *e);
/* The bytes uf_npy_write puts before a's data (a->data unused), for a file written row by row;
 * returns their count, or -1 when they do not fit in cap. */
#define UF_NPY_HEADER_MAX 1024
int uf_npy_header(const uf_array *a, char *out, size_t cap);

/* Convenience for feature files: a finite float matrix (rows, cols) as
 * double. A 1-D array is read as (n, 1). NaN or Inf are rejected. */
int uf_npy_read_matrix(const char *path, double **data, int *rows, int *cols, uf_err *e);
/* A 1-D array of non-negative finite numbers (image counts, masses). */
int uf_npy_read_vector(const char *path, double **data, int *n, uf_err *e);

#endif
