#include "sgd.h"

#include <math.h>

#include "par.h"

void uf_sgd_step(uf_sgd *o, uf_params *p)
{
    const float mom = (float)o->momentum, damp = (float)(1 - o->dampening);
    const int first = o->steps == 0;
    for (int t = 0; t < p->n; t++) {
        const uf_pdesc *d = &p->d[t];
        const float lr = (float)o->lr[d->group], wd = d->decay ? (float)o->weight_decay[d->group] : 0.0f;
        float *w = p->w + d->offset, *g = p->g + d->offset, *b = p->m + d->offset;
        const long n = (long)d->count;
#pragma omp parallel for simd schedule(static) if (n > UF_PAR_MIN)
        for (long i = 0; i < n; i++) {
            float dp = g[i] + wd * w[i];
            if (mom != 0) {
                b[i] = first ? dp : mom * b[i] + damp * dp;
                dp = o->nesterov ? dp + mom * b[i] : b[i];
            }
            w[i] -= lr * dp;
        }
    }
    o->steps++;
}

double uf_multistep_lr(double base, int epoch, const int *milestones, int n, double gamma)
{
    double lr = base;
    for (int i = 0; i < n; i++)
        if (epoch >= milestones[i])
            lr *= gamma;
    return lr;
}

double uf_cosine_lr(double base, int64_t t, int64_t total)
{
    const double pi = 3.14159265358979323846;
    return base * (1 + cos(pi * (double)t / (double)total)) / 2;
}
