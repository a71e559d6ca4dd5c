/* Filling a model's tensors from a named source (a PyTorch state dict, a
 * folder of .npy files), with a shape check per tensor: a mismatch names the
 * tensor, both shapes and the source. */
#ifndef UF_NN_WEIGHTS_H
#define UF_NN_WEIGHTS_H

#include "core/array.h"
#include "io/torchfile.h"
#include "resnet.h"

/* Returns the tensor called name, or NULL when the source has none (with
 * *e filled and -1 in *status on a read error). */
typedef const uf_array *(*uf_tensor_lookup)(void *ctx, const char *name, int *status, uf_err *e);

/* Copies every parameter and running statistic of m from the source. Backbone
 * tensors must be present; head tensors (learning-rate group 1) are loaded
 * when present, otherwise left as they are unless require_heads. Tensors of
 * the source that the model lacks are ignored. Float32 or float64 values. */
int uf_model_load_named(uf_model *m, uf_tensor_lookup get, void *ctx, const char *source, int require_heads,
                        uf_err *e);

/* The ResNet state dict in a torch.save file (any format io/torchfile.h
 * reads): at key/prefix when key is not NULL, else the first of: the top-level
 * object, "state_dict" with prefix "module.encoder_q." (MoCo), "module."
 * (DataParallel) or none, that holds conv1.weight. */
int uf_torch_state_dict(const char *path, const char *key, const char *prefix, uf_tensor_dict *d, uf_err *e);

/* uf_model_load_named over a loaded state dict; source names it in messages. */
int uf_model_load_dict(uf_model *m, const uf_tensor_dict *d, const char *source, int require_heads, uf_err *e);

/* The reverse: m's tensors as torchvision's state_dict holds them, as owned
 * copies (free with uf_tensor_dict_free), for io/torchsave.h. Parameters in
 * the model's (torchvision's) order, each BatchNorm's running_mean,
 * running_var and num_batches_tracked right after its bias, as
 * nn.Module.state_dict() orders a module's parameters before its buffers.
 * num_batches_tracked (int64, 0-d) is 0: torch reads it only for BatchNorm
 * with momentum=None (a cumulative average), which torchvision never builds
 * and the engine has no counter for, and strict loading wants the key. */
int uf_model_state_dict(const uf_model *m, uf_tensor_dict *out, uf_err *e);

/* What a caller wants out of the network. */
typedef enum uf_model_output { UF_OUT_LOGITS, UF_OUT_FEATURES, UF_OUT_MLP } uf_model_output;

/* Builds and fills m from a uotft checkpoint (arch_name NULL, or its own) or a torch.save file
 * (arch_name needed; key/prefix as uf_torch_state_dict, NULL: found), with the head `what` asks
 * for (a linear fc, MoCo v2's fc.0/fc.2 MLP, or none); *head: its index, -1 for the features. */
int uf_model_from_file(const char *weights, const char *arch_name, const char *key, const char *prefix,
                       uf_model_output what, uf_model *m, int *head, uf_err *e);

#endif
