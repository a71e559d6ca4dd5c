#include "weights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"
#include "core/alloc.h"

static int load_table(uf_params *p, const char *arch, uf_tensor_lookup get, void *ctx, const char *source,
                      int require_heads, uf_err *e)
{
    for (int i = 0; i < p->n; i++) {
        const uf_pdesc *d = &p->d[i];
        int status = 0;
        const uf_array *a = get(ctx, d->name, &status, e);
        if (status)
            return uf_wrap(e, "%s: ", source);
        if (!a) {
            if (d->group == 1 && !require_heads)
                continue;
            return uf_fail(e, "%s: no tensor '%s', which %s needs", source, d->name, arch);
        }
        int same = a->ndim == d->ndim;
        for (int k = 0; same && k < d->ndim; k++)
            same = a->shape[k] == d->shape[k];
        if (!same) {
            char fs[128], ms[128];
            uf_shape_str(a, fs, sizeof fs);
            uf_pdesc_shape_str(d, ms, sizeof ms);
            return uf_fail(e, "%s: tensor '%s' has shape %s in the file but %s in %s", source, d->name, fs, ms, arch);
        }
        float *w = p->w + d->offset;
        if (a->dtype == UF_F32)
            memcpy(w, a->data, sizeof(float) * d->count);
        else if (a->dtype == UF_F64)
            for (size_t k = 0; k < d->count; k++)
                w[k] = (float)((const double *)a->data)[k];
        else
            return uf_fail(e, "%s: tensor '%s' is not floating point", source, d->name);
    }
    return 0;
}

int uf_model_load_named(uf_model *m, uf_tensor_lookup get, void *ctx, const char *source, int require_heads,
                        uf_err *e)
{
    if (load_table(&m->p, m->arch.name, get, ctx, source, require_heads, e))
        return -1;
    return load_table(&m->buf, m->arch.name, get, ctx, source, require_heads, e);
}

int uf_torch_state_dict(const char *path, const char *key, const char *prefix, uf_tensor_dict *d, uf_err *e)
{
    if (key)
        return uf_torch_load(path, key, prefix, d, e);
    static const char *const tries[][2] = {
        {"", NULL}, {"state_dict", "module.encoder_q."}, {"state_dict", "module."}, {"state_dict", NULL}};
    uf_err first = {{0}}, ignored;
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
        if (uf_torch_load(path, tries[i][0], tries[i][1], d, i ? &ignored : &first) == 0) {
            if (uf_tensor_dict_get(d, "conv1.weight"))
                return 0;
            uf_tensor_dict_free(d);
            if (i == 0)
                snprintf(first.msg, sizeof first.msg, "%s: no conv1.weight at the top level", path);
        }
    }
    return uf_fail(e, "%s; nor a ResNet state dict under state_dict (prefix module.encoder_q., module. or none)",
                   first.msg);
}

static const uf_array *dict_lookup(void *ctx, const char *name, int *status, uf_err *e)
{
    (void)status;
    (void)e;
    const uf_tensor *t = uf_tensor_dict_get(ctx, name);
    return t ? &t->a : NULL;
}

int uf_model_load_dict(uf_model *m, const uf_tensor_dict *d, const char *source, int require_heads, uf_err *e)
{
    return uf_model_load_named(m, dict_lookup, (void *)d, source, require_heads, e);
}

/* Appends a copy of src (NULL: zeros) as tensor name. */
static int add_tensor(uf_tensor_dict *d, const char *name, uf_dtype t, int ndim, const int64_t *shape,
                      const void *src, uf_err *e)
{
    uf_tensor *x = &d->t[d->n];
    if (!(x->name = uf_strdup(name, e)))
        return -1;
    d->n++; /* from here uf_tensor_dict_free releases it */
    if (uf_array_alloc(&x->a, t, ndim, shape, e))
        return -1;
    if (src)
        memcpy(x->a.data, src, uf_array_count(&x->a) * uf_dtype_size(t));
    return 0;
}

static int add_pdesc(uf_tensor_dict *d, const uf_params *p, int i, uf_err *e)
{
    const uf_pdesc *pd = &p->d[i];
    return add_tensor(d, pd->name, UF_F32, pd->ndim, pd->shape, p->w + pd->offset, e);
}

/* After BatchNorm b's bias: running_mean, running_var, num_batches_tracked. */
static int add_bn_buffers(uf_tensor_dict *d, const uf_model *m, int b, uf_err *e)
{
    const char *bias = m->p.d[m->bn[b].beta].name;
    char name[UF_NAME_MAX + 32];
    snprintf(name, sizeof name, "%.*snum_batches_tracked", (int)(strlen(bias) - strlen("bias")), bias);
    if (add_pdesc(d, &m->buf, m->bn[b].rmean, e) || add_pdesc(d, &m->buf, m->bn[b].rvar, e))
        return -1;
    return add_tensor(d, name, UF_I64, 0, NULL, NULL, e);
}

int uf_model_state_dict(const uf_model *m, uf_tensor_dict *out, uf_err *e)
{
    memset(out, 0, sizeof *out);
    if (!(out->t = uf_calloc((size_t)(m->p.n + m->buf.n + m->nbn), sizeof *out->t, e)))
        return -1;
    int rc = 0;
    for (int i = 0; rc == 0 && i < m->p.n; i++) {
        rc = add_pdesc(out, &m->p, i, e);
        for (int b = 0; rc == 0 && b < m->nbn; b++)
            if (m->bn[b].beta == i)
                rc = add_bn_buffers(out, m, b, e);
    }
    if (rc)
        uf_tensor_dict_free(out);
    return rc;
}

/* The head to build for a torch state dict, its size read from the file. */
static int torch_head(const uf_tensor_dict *d, uf_model_output what, const char *path, uf_head_spec *h, uf_err *e)
{
    const char *name = what == UF_OUT_MLP ? "fc.2.weight" : "fc.weight";
    const uf_tensor *t = uf_tensor_dict_get(d, name);
    if (!t || t->a.ndim != 2)
        return uf_fail(e, "%s: no 2-d tensor '%s' for %s", path, name,
                       what == UF_OUT_MLP ? "--mlp (MoCo v2's fc.0/fc.2 head)"
                                          : "the logits (a backbone without classifier: use --features or --mlp)");
    *h = (uf_head_spec){.out = (int)t->a.shape[0], .kind = what == UF_OUT_MLP ? UF_HEAD_MLP : UF_HEAD_LINEAR};
    strcpy(h->name, "fc");
    return 0;
}

int uf_model_from_file(const char *weights, const char *arch_name, const char *key, const char *prefix,
                       uf_model_output what, uf_model *m, int *head, uf_err *e)
{
    uf_arch a;
    uf_head_spec heads[UF_MAX_HEADS];
    int nh = 0;
    *head = -1;
    if (uf_ckpt_is(weights)) {
        if (uf_ckpt_read_arch(weights, &a, heads, &nh, e))
            return -1;
        if (arch_name && strcmp(arch_name, a.name) != 0)
            return uf_fail(e, "%s: a checkpoint of %s, not %s", weights, a.name, arch_name);
        if (uf_model_create(m, &a, heads, nh, e) || uf_ckpt_load(weights, m, NULL, NULL, e))
            return -1;
        for (int h = 0; h < nh && what != UF_OUT_FEATURES; h++)
            if ((what == UF_OUT_MLP) == (heads[h].kind == UF_HEAD_MLP) && (*head < 0 || !strcmp(heads[h].name, "fc")))
                *head = h;
        if (what != UF_OUT_FEATURES && *head < 0)
            return uf_fail(e, "%s: no %s head in this checkpoint", weights, what == UF_OUT_MLP ? "MLP" : "linear");
        return 0;
    }
    if (!arch_name)
        return uf_fail(e, "%s: --arch is needed with a torch.save file", weights);
    if (uf_arch_parse(arch_name, &a, e))
        return -1;
    uf_tensor_dict d = {0};
    if (uf_torch_state_dict(weights, key, prefix, &d, e))
        return -1;
    int rc = what != UF_OUT_FEATURES ? torch_head(&d, what, weights, &heads[nh++], e) : 0;
    if (rc == 0)
        rc = uf_model_create(m, &a, heads, nh, e);
    if (rc == 0 && (rc = uf_model_load_dict(m, &d, weights, 1, e)) != 0)
        uf_model_free(m);
    uf_tensor_dict_free(&d);
    *head = nh ? 0 : -1;
    return rc;
}
