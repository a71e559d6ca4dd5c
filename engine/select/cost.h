/* Ground distances between source and target class means. */
#ifndef UF_COST_H
#define UF_COST_H

#include "../core/err.h"

typedef enum uf_dist { UF_DIST_COS, UF_DIST_L2 } uf_dist;

/* S: (ns, d), T: (nt, d) -> D: (ns, nt).
 * cos: 1 - cos(S_i, T_j) (rows L2-normalised first; a zero row is an error);
 * l2:  ||S_i - T_j||_2 on the raw means. */
int uf_ground_distance(const double *S, int ns, const double *T, int nt, int d, uf_dist kind,
                       double *D, uf_err *e);

#endif
