/* PyTorch weight files read directly, without Python: the three formats
 * torch.save has written over the years, told apart by their first bytes.
 *   zip     (torch >= 1.6): <folder>/data.pkl plus one <folder>/data/<key> record
 *           per storage; the folder name varies (read with libarchive).
 *   legacy  (torch 0.4 - 1.5, and _use_new_zipfile_serialization=False): one
 *           stream of pickles (magic number, protocol 1001, system info, the
 *           object, the storage keys) followed by the raw storages, each an
 *           int64 element count and the elements. MoCo's checkpoints use it.
 *   tar     (torch < 0.4): members sys_info, pickle, tensors, storages; the
 *           old torchvision files resnet18-5c106cde.pth, resnet50-19c8e357.pth.
 * Pickles go through the safe machine of pickle.h (no code runs). Storage
 * offsets, sizes and strides are honoured and checked against the storage;
 * every tensor comes back as a contiguous copy. float16 and bfloat16 become
 * float32; int16, int8, uint8 and bool become int32 (see pyarray.h).
 * A file whose base name is a published weight file (core/sha256.h) must have
 * the published sha256. */
#ifndef UF_TORCHFILE_H
#define UF_TORCHFILE_H

#include "../core/array.h"

typedef struct uf_tensor {
    char *name;
    uf_array a; /* a contiguous copy */
} uf_tensor;

typedef struct uf_tensor_dict {
    int n;
    uf_tensor *t; /* in the file's order */
} uf_tensor_dict;

/* Loads the tensors of the dict found at key path `key` ("" = the top-level
 * object is the state dict; "state_dict" for MoCo's checkpoint; dots separate
 * nested keys, and a key that itself holds dots is matched whole first). With
 * prefix non-NULL, keeps only entries whose name starts with prefix and strips
 * it (e.g. "module.encoder_q."). Non-tensor entries are skipped; no tensor at
 * all is an error. Only the storages of the kept tensors are read. */
int uf_torch_load(const char *path, const char *key, const char *prefix, uf_tensor_dict *out, uf_err *e);
void uf_tensor_dict_free(uf_tensor_dict *d);
/* The tensor of that name, or NULL. */
const uf_tensor *uf_tensor_dict_get(const uf_tensor_dict *d, const char *name);

#endif
