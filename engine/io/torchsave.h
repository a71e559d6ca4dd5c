/* Writing a state dict as torch.save (torch >= 1.6, zip format) writes it, so
 * that torch.load(path, weights_only=True) reads it: the reverse of
 * uf_torch_load for float32 and int64 tensors.
 *
 * The pickle (protocol 2, made by hand) uses only the globals torch's
 * weights_only unpickler allows: collections.OrderedDict,
 * torch._utils._rebuild_tensor_v2, torch.FloatStorage and torch.LongStorage;
 * each tensor owns one storage, keyed "0", "1", ... in dict order. Opcodes
 * and memo references are those Python's pickler emits for the same dict, so
 * the file is byte-identical to torch 1.13's torch.save of the loaded dict to
 * a file named archive.pth (tests/oracle/export_torch.py checks this).
 *
 * The archive is torch's (PyTorch's miniz writer): records archive/data.pkl,
 * archive/data/<key> in sorted key order, archive/version ("3\n"), all stored
 * uncompressed, each payload 64-byte aligned by an "FB" extra field of 'Z's,
 * CRC and sizes in a data descriptor after non-empty payloads, zero times,
 * then the central directory and the zip64 and plain end records. The folder
 * is "archive", as torch names it when saving to a stream, rather than the
 * file's stem: the file is written under a temporary name (core/fileio.h) and
 * renamed, and torch.load accepts any folder name.
 *
 * Limits: the whole file under 4 GiB and under 65535 records, so no zip64
 * per-record fields are needed (a ResNet-101 is about 180 MB); tensor data is
 * written in host order, which the engine assumes is little-endian. */
#ifndef UF_TORCHSAVE_H
#define UF_TORCHSAVE_H

#include "torchfile.h"

/* Writes d's tensors (UF_F32 or UF_I64, any shape including 0-d and empty) in
 * d's order as an OrderedDict; names must be distinct. Nothing is left at path
 * on failure. */
int uf_torch_save(const char *path, const uf_tensor_dict *d, uf_err *e);

#endif
