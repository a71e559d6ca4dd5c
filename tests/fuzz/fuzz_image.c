/* JPEG and PNG decoding the way the loader does it for a training view: RandomResizedCrop's
 * region is sampled from the size in the header and only that region is decoded. The draw depends
 * on the input's length, so regions vary across inputs but replay the same. */
#include <stdint.h>

#include "data/image.h"
#include "data/transform.h"

static void crop_region(void *ctx, int W, int H, uf_region *r)
{
    uf_rrc p;
    uf_rrc_sample(W, H, 0.08, 1.0, 3.0 / 4, 4.0 / 3, *(const uf_draw *)ctx, &p);
    *r = (uf_region){.top = p.top, .rows = p.h, .left = p.left, .cols = p.w};
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uf_err e;
    uf_image im;
    uf_draw d = {1, 0, size};
    if (uf_image_decode_region(data, size, "input", crop_region, &d, &im, &e) == 0)
        uf_image_free(&im);
    return 0;
}
