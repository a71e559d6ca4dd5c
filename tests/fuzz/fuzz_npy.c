/* .npy (released class means, features): uf_npy_read takes a path, so the bytes go to a file;
 * the matrix reader's checks (dimensions, finite values) run on what it accepted. */
#include "fuzz_util.h" /* first: it sets the feature macro */

#include "io/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, "input.npy");
    uf_err e;
    uf_array a;
    double *m;
    int rows, cols;
    if (path && uf_npy_read(path, &a, &e) == 0) {
        uf_array_free(&a);
        if (uf_npy_read_matrix(path, &m, &rows, &cols, &e) == 0)
            free(m);
    }
    return 0;
}
