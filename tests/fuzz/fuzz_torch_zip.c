/* PyTorch weight files as torch >= 1.6 writes them (zip), though uf_torch_load tells the formats
 * apart by their first bytes, so mutations reach the others too: a top-level state dict. */
#include "fuzz_util.h" /* first: it sets the feature macro */

#include "io/torchfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, "input.pth");
    uf_err e;
    uf_tensor_dict d;
    if (path && uf_torch_load(path, "", NULL, &d, &e) == 0)
        uf_tensor_dict_free(&d);
    return 0;
}
