/* PyTorch's legacy (pickle stream + raw storages) and tar containers, read the way MoCo's
 * checkpoint is: the dict under "state_dict", entries kept and renamed by a prefix. */
#include "fuzz_util.h" /* first: it sets the feature macro */

#include "io/torchfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, "input.pth.tar");
    uf_err e;
    uf_tensor_dict d;
    if (path && uf_torch_load(path, "state_dict", "module.encoder_q.", &d, &e) == 0)
        uf_tensor_dict_free(&d);
    return 0;
}
