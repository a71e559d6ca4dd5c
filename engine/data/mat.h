/* MATLAB Level-5 MAT-files (the v5/v6/v7 container, not v7.3/HDF5): the format of the ImageNet
 * devkit's meta.mat and the Stanford Cars and Dogs label files. Reads zlib-compressed elements
 * (miCOMPRESSED, i.e. -v7), numeric and logical arrays (values converted to double), char arrays,
 * cell arrays and struct arrays, in either byte order. Sparse, object and function-handle arrays
 * are refused with a message. */
#ifndef UF_DATA_MAT_H
#define UF_DATA_MAT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef enum uf_mat_kind { UF_MAT_NUM, UF_MAT_CHAR, UF_MAT_CELL, UF_MAT_STRUCT } uf_mat_kind;

/* MATLAB's array classes (mxCLASS), kept so callers can tell int32 from double. */
enum { UF_MX_CELL = 1, UF_MX_STRUCT = 2, UF_MX_CHAR = 4, UF_MX_DOUBLE = 6, UF_MX_SINGLE = 7, UF_MX_INT8 = 8,
       UF_MX_UINT8 = 9, UF_MX_INT16 = 10, UF_MX_UINT16 = 11, UF_MX_INT32 = 12, UF_MX_UINT32 = 13,
       UF_MX_INT64 = 14, UF_MX_UINT64 = 15 };

typedef struct uf_mat uf_mat;
struct uf_mat {
    uf_mat_kind kind;
    int mxclass;      /* UF_MX_* */
    int logical;      /* a logical array (stored as uint8) */
    int complex;      /* had an imaginary part, which is dropped */
    char name[64];    /* variable name; empty inside cells and structs */
    int ndim;
    int64_t dims[8];
    size_t n;         /* element count: the product of dims */
    double *num;      /* NUM: n values, column-major (int64 beyond 2^53 loses precision) */
    char **rows;      /* CHAR: dims[0] UTF-8 strings, row r = the characters (r, :) in column order */
    uf_mat **cell;    /* CELL: n elements, column-major */
    int nfields;      /* STRUCT: field names, and n * nfields values, element i's field f at */
    char **fields;    /*   field[i * nfields + f] */
    uf_mat **field;
};

typedef struct uf_mat_file {
    char header[117]; /* the descriptive text, NUL-terminated */
    int nvars;
    uf_mat **vars;
} uf_mat_file;

/* Reads every variable of a MAT-file. */
int uf_mat_read(const char *path, uf_mat_file *f, uf_err *e);
/* The same from bytes already in memory (e.g. a member of an archive); `what` names them in errors. */
int uf_mat_parse(const void *buf, size_t len, const char *what, uf_mat_file *f, uf_err *e);
void uf_mat_file_free(uf_mat_file *f);

/* The variable with that name, or NULL. */
const uf_mat *uf_mat_var(const uf_mat_file *f, const char *name);
/* Element i's value of a struct field, or NULL when v is no struct, i >= n or the field is absent. */
const uf_mat *uf_mat_field(const uf_mat *v, size_t i, const char *name);
/* The string of a one-row char array ("" for an empty one), or NULL when v is no char array. */
const char *uf_mat_str(const uf_mat *v);
/* The first value of a numeric array, or NAN when v is none or empty. */
double uf_mat_scalar(const uf_mat *v);

#endif
