/* MATLAB 5 MAT-files (ImageNet devkit, Stanford Cars and Dogs labels), parsed in memory; the
 * accessors the readers use then walk what was accepted. */
#include <stdint.h>

#include "data/mat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uf_err e;
    uf_mat_file f;
    if (uf_mat_parse(data, size, "input", &f, &e))
        return 0;
    for (int i = 0; i < f.nvars; i++) {
        const uf_mat *v = f.vars[i];
        uf_mat_str(v);
        uf_mat_scalar(v);
        for (int k = 0; v->kind == UF_MAT_STRUCT && k < v->nfields; k++)
            uf_mat_str(uf_mat_field(v, 0, v->fields[k]));
    }
    uf_mat_file_free(&f);
    return 0;
}
