/* The mini tier's .mset image sets (header, labels, pixels, CRC) from a file. */
#include "fuzz_util.h" /* first: it sets the feature macro */

#include "data/miniset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, "input.mset");
    uf_err e;
    uf_miniset s;
    if (path && uf_miniset_read(path, &s, &e) == 0)
        uf_miniset_free(&s);
    return 0;
}
