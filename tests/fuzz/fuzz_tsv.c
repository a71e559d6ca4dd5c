/* Tab-separated tables (class lists, selections, member indexes) from a file; every cell is
 * touched so that a bad pointer into the buffer shows. */
#include "fuzz_util.h" /* first: it sets the feature macro */

#include <string.h>

#include "core/tsv.h"

/* Where the lengths go, so the compiler cannot drop the reads. */
static volatile size_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, "input.tsv");
    uf_err e;
    uf_tsv t;
    if (!path || uf_tsv_read(path, &t, &e))
        return 0;
    size_t total = 0;
    for (int c = 0; c < t.ncols; c++)
        total += strlen(t.header[c]);
    for (int r = 0; r < t.nrows; r++)
        for (int c = 0; c < t.ncols; c++)
            total += strlen(uf_tsv_at(&t, r, c));
    uf_tsv_col(&t, "name");
    uf_tsv_free(&t);
    sink = total;
    return 0;
}
