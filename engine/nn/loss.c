#include "loss.h"

#include <math.h>
#include <stddef.h>

/* Row max and log-sum-exp of the shifted row. */
static double log_sum_exp(const float *z, int k, double *mx)
{
    double m = z[0], s = 0;
    for (int j = 1; j < k; j++)
        m = z[j] > m ? z[j] : m;
    for (int j = 0; j < k; j++)
        s += exp(z[j] - m);
    *mx = m;
    return log(s);
}

int uf_xent_hard(int n, int k, const float *logits, const int *labels, float scale, float *dlogits, double *loss,
                 uf_err *e)
{
    for (int i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= k)
            return uf_fail(e, "label %d of sample %d outside [0, %d)", labels[i], i, k);
    double total = 0;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * k;
        double m, lse = log_sum_exp(z, k, &m);
        total += lse - (z[labels[i]] - m);
        if (dlogits) {
            float *d = dlogits + (size_t)i * k;
            for (int j = 0; j < k; j++)
                d[j] = (float)(scale * (exp(z[j] - m - lse) - (j == labels[i])) / n);
        }
    }
    *loss = total / n;
    return 0;
}

double uf_xent_soft(int n, int k, const float *logits, const float *targets, float scale, float *dlogits)
{
    double total = 0;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * k, *t = targets + (size_t)i * k;
        double m, lse = log_sum_exp(z, k, &m), tsum = 0;
        for (int j = 0; j < k; j++) {
            total -= t[j] * (z[j] - m - lse);
            tsum += t[j];
        }
        if (dlogits) {
            float *d = dlogits + (size_t)i * k;
            for (int j = 0; j < k; j++)
                d[j] = (float)(scale * (exp(z[j] - m - lse) * tsum - t[j]) / n);
        }
    }
    return total / n;
}
