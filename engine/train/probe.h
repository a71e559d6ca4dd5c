/* Linear probe of a frozen backbone: multinomial logistic regression on
 * standardised features, fitted by L-BFGS in double precision. The objective
 * is scikit-learn's LogisticRegression(multi_class="multinomial", C):
 *   sum_i -log softmax(W x_i + b)_{y_i} + |W|^2 / (2 C)     (b not penalised),
 * started from zero, so the two can be compared on the same features. */
#ifndef UF_TRAIN_PROBE_H
#define UF_TRAIN_PROBE_H

#include "core/err.h"

typedef struct uf_probe_params {
    double C;      /* inverse regularisation strength, scikit-learn's C (1.0) */
    int max_iter;  /* L-BFGS iterations at most (100, as scikit-learn) */
    double tol;    /* stop when the largest gradient entry is below tol times the initial one */
} uf_probe_params;

typedef struct uf_probe_info {
    int iterations, evaluations, converged;
    double objective;
} uf_probe_info;

void uf_probe_defaults(uf_probe_params *p);

/* Standardises the columns of Xtr (n rows) and Xte (m rows) in place with the
 * mean and standard deviation of Xtr (a constant column is only centred). */
void uf_standardise(float *Xtr, int n, float *Xte, int m, int d);

/* W: (k, d + 1) out, row c = class c's weights then its bias; y in [0, k). */
int uf_probe_fit(const float *X, const int *y, int n, int d, int k, const uf_probe_params *p, double *W,
                 uf_probe_info *info, uf_err *e);

/* Fraction of rows whose largest score is their label (ties: the lowest class). */
double uf_probe_accuracy(const float *X, const int *y, int n, int d, int k, const double *W);

typedef struct uf_probe_result {
    int n_train, n_test, d, k;
    double train_acc, test_acc;
    uf_probe_info info;
} uf_probe_result;

/* The probe on uotft features' files: fits on dir/<set>-train.features.npy
 * and .labels.npy (standardised), evaluates on dir/<set>-test.*. */
int uf_probe_files(const char *dir, const char *set, const uf_probe_params *p, uf_probe_result *r, uf_err *e);

#endif
