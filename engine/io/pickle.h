/* A safe reader of Python pickles (protocols 2-4, plus the Python 2 string and
 * integer opcodes of old torch files). It builds a tree of values and never
 * runs code: a global (module.name) is looked up in a fixed allow list of what
 * `pickle.dump` of NumPy arrays and `torch.save` of tensors, state dicts and
 * checkpoints need, and calling it (REDUCE) runs our own constructor for it.
 * Any other global (os.system, builtins.eval, ...) and any opcode outside the
 * list is refused with the file name and the reason.
 *
 * Memory is bounded (every length is checked against the bytes left, the memo
 * index against the input size, and all nodes count against a budget of a
 * few times the input size) and the machine is iterative: no input can make
 * it recurse, crash or allocate without bound. */
#ifndef UF_PICKLE_H
#define UF_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"
#include "pyarray.h"

typedef enum uf_pk_type {
    UF_PK_NONE,
    UF_PK_BOOL,
    UF_PK_INT,     /* i */
    UF_PK_BIGINT,  /* an integer beyond 64 bits: s, len hold its little-endian two's complement */
    UF_PK_FLOAT,   /* f */
    UF_PK_STR,     /* s (NUL-terminated), len: UTF-8 (Python 2 strings: their bytes) */
    UF_PK_BYTES,   /* s, len */
    UF_PK_TUPLE,   /* items[0..n) */
    UF_PK_LIST,    /* items[0..n) */
    UF_PK_DICT,    /* n entries in insertion order: key items[2k], value items[2k+1]; i = 1: an OrderedDict */
    UF_PK_GLOBAL,  /* an allow-listed class or function: g (and elem for storage/tensor types) */
    UF_PK_NDARRAY, /* numpy.ndarray: elem, ndim, shape, stride (elements), base = its data (BYTES) */
    UF_PK_DTYPE,   /* numpy.dtype: elem, i = byte order character */
    UF_PK_STORAGE, /* a torch storage (made by a persistent-load hook): s = key; numel elements of type
                    * elem from element offset on (a view when offset > 0) */
    UF_PK_TENSOR,  /* a torch tensor: ndim, shape, stride, offset (elements), base = its STORAGE */
} uf_pk_type;

typedef enum uf_pk_global {
    UF_PKG_NP_RECONSTRUCT,    /* numpy.core.multiarray._reconstruct */
    UF_PKG_NP_NDARRAY,        /* numpy.ndarray */
    UF_PKG_NP_DTYPE,          /* numpy.dtype */
    UF_PKG_ORDERED_DICT,      /* collections.OrderedDict */
    UF_PKG_CODECS_ENCODE,     /* _codecs.encode (bytes in protocol 2) */
    UF_PKG_REBUILD_TENSOR,    /* torch._utils._rebuild_tensor */
    UF_PKG_REBUILD_TENSOR_V2, /* torch._utils._rebuild_tensor_v2 */
    UF_PKG_REBUILD_PARAMETER, /* torch._utils._rebuild_parameter */
    UF_PKG_STORAGE_TYPE,      /* torch[.cuda].FloatStorage, ...: elem */
    UF_PKG_TENSOR_TYPE,       /* torch[.cuda].FloatTensor, ... (legacy tar format): elem */
} uf_pk_global;

typedef struct uf_pk uf_pk;
struct uf_pk {
    uf_pk_type type;
    int64_t i;
    double f;
    char *s;
    size_t len;
    uf_pk **items;
    size_t n, cap;
    uf_pk_global g;
    uf_pyelem elem;
    int ndim, built;
    int64_t *shape, *stride; /* ndim each */
    int64_t offset, numel;
    uf_pk *base;
};

/* Owns every node of one or more loads; nodes may be shared (the memo). */
typedef struct uf_pk_doc {
    uf_pk **nodes;
    size_t n_nodes, cap_nodes;
    size_t bytes, max_bytes; /* what the nodes hold, and the budget (0: set by the first load) */
} uf_pk_doc;

/* BINPERSID: turns a persistent id into a value (torch storages). Returns a
 * node made with uf_pk_new in doc, or NULL with e filled. */
typedef uf_pk *(*uf_pk_persid_fn)(void *ctx, uf_pk_doc *doc, const uf_pk *pid, uf_err *e);

typedef struct uf_pk_opts {
    const char *name;       /* the file (and member) named in messages */
    uf_pk_persid_fn persid; /* NULL: persistent ids are refused */
    void *ctx;
} uf_pk_opts;

/* Runs the pickle that starts at buf[0] and ends with STOP, within len bytes;
 * *root is the result (a node of doc), *used the bytes through STOP (pickles
 * may follow each other, as in the legacy torch format). */
int uf_pk_load(const void *buf, size_t len, const uf_pk_opts *o, uf_pk_doc *doc, const uf_pk **root,
               size_t *used, uf_err *e);
void uf_pk_doc_free(uf_pk_doc *doc);

/* A fresh node of type t owned by doc (for persistent-load hooks). */
uf_pk *uf_pk_new(uf_pk_doc *doc, uf_pk_type t, uf_err *e);
/* Allocates n int64 counted against doc's budget (freed with the doc). */
int64_t *uf_pk_alloc_dims(uf_pk_doc *doc, int n, uf_err *e);

/* "str", "dict", "numpy.ndarray", ... */
const char *uf_pk_type_name(const uf_pk *v);
/* The value of a dict entry whose key is the string key, or NULL. */
const uf_pk *uf_pk_dict_get(const uf_pk *dict, const char *key);
/* Strict accessors: v must be of the type. */
int uf_pk_is_str(const uf_pk *v, const char *s);
/* An INT or BOOL that fits int64. */
int uf_pk_int(const uf_pk *v, int64_t *out);

#endif
