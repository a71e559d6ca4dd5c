/* Python pickles (the released NumPy pickles): the machine on the bytes in memory, then the file
 * readers built on it (pkfile.c: an array, or a list of strings) on the same bytes. */
#include "fuzz_util.h" /* first: it sets the feature macro */

#include "io/pickle.h"
#include "io/pkfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uf_err e;
    uf_pk_doc doc = {0};
    const uf_pk *root;
    size_t used;
    uf_pk_opts o = {.name = "input"};
    int rc = uf_pk_load(data, size, &o, &doc, &root, &used, &e);
    uf_pk_doc_free(&doc);
    const char *path = rc == 0 ? fuzz_file(data, size, "input.pkl") : NULL;
    uf_array a;
    char **strs;
    int n;
    if (path && uf_pickle_read_array(path, &a, &e) == 0)
        uf_array_free(&a);
    if (path && uf_pickle_read_strings(path, &strs, &n, &e) == 0)
        uf_strings_free(strs, n);
    return 0;
}
