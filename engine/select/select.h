/* Ranking source classes (or clusters) for a target set: the paper's UOT
 * selection and its baselines (SPEC section 2). */
#ifndef UF_SELECT_H
#define UF_SELECT_H

#include <stdint.h>

#include "uot.h"

typedef enum uf_sel_method {
    UF_SEL_UOT_COS,
    UF_SEL_UOT_L2,
    UF_SEL_GOT_COS,
    UF_SEL_GOT_L2,
    UF_SEL_RANDOM,
    UF_SEL_LABEL,
} uf_sel_method;

typedef struct uf_sel_params {
    uf_sel_method method;
    uf_uot_params uot;
    double eps_c;  /* cost scale; NAN: 0.01 for cos, 0.1 for l2 */
    double gamma;  /* Greedy-OT similarity exp(-gamma EMD), 0.01 */
    uint64_t seed; /* random */
    const unsigned char *label_mask; /* label: 1 for source classes of the concept */
} uf_sel_params;

typedef struct uf_selection {
    int n;
    double *score; /* UOT: P1 row sum; GOT: exp(-gamma EMD); random: uniform; label: 1/0 */
    double *key;   /* what is ranked: log P1, -gamma EMD, or the score itself */
    int *order;    /* source indices by descending key, ties by ascending index */
    uf_uot_info uot;
} uf_selection;

void uf_sel_defaults(uf_sel_params *p);
const char *uf_sel_method_name(uf_sel_method m);
int uf_sel_method_parse(const char *name, uf_sel_method *m);
/* The eps_c actually used for p (method default when p->eps_c is NAN). */
double uf_sel_eps_c(const uf_sel_params *p);

/* S: (ns, d) source means, T: (nt, d) target means, tcounts: (nt) target
 * image counts (Greedy-OT weights). */
int uf_select(const double *S, int ns, const double *T, int nt, int d, const double *tcounts,
              const uf_sel_params *p, uf_selection *out, uf_err *e);
void uf_selection_free(uf_selection *s);

/* Sorts idx[0..n) by descending key, ties by ascending index. */
void uf_rank_desc(const double *key, int n, int *idx);

#endif
