/* Pickle files of plain data, as released with the paper's code: a NumPy
 * array (class means and counts) or a list of strings (class_names.pkl,
 * class_concept.pkl, class_path.pkl). Read through the safe pickle machine. */
#ifndef UF_PKFILE_H
#define UF_PKFILE_H

#include "../core/array.h"

/* The array in its own element type (float16 and small integer types widen,
 * see pyarray.h); C and Fortran order are both returned in C order. */
int uf_pickle_read_array(const char *path, uf_array *out, uf_err *e);
/* A list (or tuple) of str: *strs[0..*n), each NUL-terminated. */
int uf_pickle_read_strings(const char *path, char ***strs, int *n, uf_err *e);
void uf_strings_free(char **strs, int n);

#endif
