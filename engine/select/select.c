#include "select.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/rng.h"
#include "cost.h"

static const char *const method_names[] = {"uot-cos", "uot-l2", "got-cos", "got-l2", "random", "label"};

const char *uf_sel_method_name(uf_sel_method m) { return method_names[m]; }

int uf_sel_method_parse(const char *name, uf_sel_method *m)
{
    for (int i = 0; i < (int)(sizeof method_names / sizeof method_names[0]); i++)
        if (strcmp(name, method_names[i]) == 0) {
            *m = (uf_sel_method)i;
            return 0;
        }
    return -1;
}

void uf_sel_defaults(uf_sel_params *p)
{
    memset(p, 0, sizeof *p);
    p->method = UF_SEL_UOT_COS;
    uf_uot_defaults(&p->uot);
    p->eps_c = NAN;
    p->gamma = 0.01;
}

double uf_sel_eps_c(const uf_sel_params *p)
{
    if (!isnan(p->eps_c))
        return p->eps_c;
    return p->method == UF_SEL_UOT_L2 ? 0.1 : 0.01;
}

/* Random draws for selection use their own stream of the counter RNG. */
#define RNG_STREAM_SELECT 0x73656c656374ULL /* "select" */

static const double *rank_key;

static int cmp_desc(const void *x, const void *y)
{
    int i = *(const int *)x, j = *(const int *)y;
    double a = rank_key[i], b = rank_key[j];
    if (a > b)
        return -1;
    if (a < b)
        return 1;
    return (i > j) - (i < j);
}

void uf_rank_desc(const double *key, int n, int *idx)
{
    for (int i = 0; i < n; i++)
        idx[i] = i;
    rank_key = key; /* qsort has no context argument; ranking is not reentrant */
    qsort(idx, (size_t)n, sizeof *idx, cmp_desc);
    rank_key = NULL;
}

int uf_select(const double *S, int ns, const double *T, int nt, int d, const double *tcounts,
              const uf_sel_params *p, uf_selection *out, uf_err *e)
{
    memset(out, 0, sizeof *out);
    out->n = ns;
    out->score = uf_calloc((size_t)ns, sizeof(double), e);
    out->key = uf_calloc((size_t)ns, sizeof(double), e);
    out->order = uf_calloc((size_t)ns, sizeof(int), e);
    double *D = NULL;
    int rc = -1;
    if (!out->score || !out->key || !out->order)
        goto out;
    switch (p->method) {
    case UF_SEL_RANDOM:
        for (int i = 0; i < ns; i++)
            out->score[i] = out->key[i] = uf_rng_uniform(p->seed, RNG_STREAM_SELECT, (uint64_t)i);
        break;
    case UF_SEL_LABEL:
        if (!p->label_mask) {
            uf_fail(e, "label-based selection needs the source classes' concepts");
            goto out;
        }
        for (int i = 0; i < ns; i++)
            out->score[i] = out->key[i] = p->label_mask[i] ? 1.0 : 0.0;
        break;
    default: {
        int cos = p->method == UF_SEL_UOT_COS || p->method == UF_SEL_GOT_COS;
        D = uf_calloc((size_t)ns * nt, sizeof(double), e);
        if (!D || uf_ground_distance(S, ns, T, nt, d, cos ? UF_DIST_COS : UF_DIST_L2, D, e))
            goto out;
        if (p->method == UF_SEL_GOT_COS || p->method == UF_SEL_GOT_L2) {
            /* EMD from one source class to the count-weighted target set is
             * the weighted mean ground distance. */
            double total = 0;
            for (int j = 0; j < nt; j++)
                total += tcounts[j];
            if (!(total > 0)) {
                uf_fail(e, "Greedy-OT: target image counts sum to zero");
                goto out;
            }
            for (int i = 0; i < ns; i++) {
                double emd = 0;
                for (int j = 0; j < nt; j++)
                    emd += tcounts[j] / total * D[(size_t)i * nt + j];
                out->key[i] = -p->gamma * emd;
                out->score[i] = exp(out->key[i]);
            }
        } else {
            double eps_c = uf_sel_eps_c(p);
            if (!(eps_c > 0)) {
                uf_fail(e, "eps_c must be positive (got %g)", eps_c);
                goto out;
            }
            for (size_t k = 0; k < (size_t)ns * nt; k++)
                D[k] /= eps_c;
            double *a = uf_calloc((size_t)ns, sizeof(double), e), *b = uf_calloc((size_t)nt, sizeof(double), e);
            if (!a || !b) {
                free(a);
                free(b);
                goto out;
            }
            for (int i = 0; i < ns; i++)
                a[i] = 1.0;
            for (int j = 0; j < nt; j++)
                b[j] = 1.0;
            int r = uf_uot_solve(D, ns, nt, a, b, &p->uot, out->score, out->key, NULL, &out->uot, e);
            free(a);
            free(b);
            if (r)
                goto out;
        }
    }
    }
    uf_rank_desc(out->key, ns, out->order);
    rc = 0;
out:
    free(D);
    if (rc)
        uf_selection_free(out);
    return rc;
}

void uf_selection_free(uf_selection *s)
{
    free(s->score);
    free(s->key);
    free(s->order);
    memset(s, 0, sizeof *s);
}
