#include "kmeans.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/parallel.h"
#include "core/rng.h"

/* Random stream of the initialisation draws. */
#define S_INIT 0x6b6d65616e73ULL
/* Margin on Hamerly's test: the lower bounds come from float32 dot products. */
#define BOUND_EPS 1e-5

typedef struct km {
    int n, d, k, B;
    const float *X; /* (n, d) the caller's rows (possibly a mapped file): never copied, see unit_row */
    float *inv;     /* (n) 1 / |x_i|, in float: the unit row i is X[i] * inv[i], element by element */
    float *row;     /* per thread: (d) one unit row */
    float *C;       /* (k, d) unit rows */
    int32_t *a;     /* (n) centroid of each point */
    double *u, *l;  /* (n) upper bound on the distance to a[i], lower bound on the distance to any other */
    float *buf, *S; /* per thread: (B, d) gathered points, (B, k) their dot products with C */
    int *idx;       /* (n) points to recompute */
    long computed;  /* point assignments computed by GEMM */
} km;

void uf_kmeans_defaults(uf_kmeans_params *p)
{
    *p = (uf_kmeans_params){.k = 0, .iters = 20, .n_init = 1, .seed = 0, .init = UF_KMEANS_PLUSPLUS};
}

/* |x - c| for unit vectors with dot product t */
static double dist_of(double t)
{
    return t < 1 ? sqrt(2 - 2 * t) : 0;
}

static double dot_f64(const float *x, const float *y, int d)
{
    double s = 0;
    for (int j = 0; j < d; j++)
        s += (double)x[j] * y[j];
    return s;
}

/* The scale of each row of X to unit length; the first zero or non-finite row is an error. The
 * unit rows are made on the fly from these (unit_row), never stored: for ImageNet's 1.28 M x 128
 * features a normalised copy would double the memory. */
static int row_scales(const float *X, int n, int d, float *inv, uf_err *e)
{
    int bad = n;
#pragma omp parallel for reduction(min : bad)
    for (int i = 0; i < n; i++) {
        double s = dot_f64(X + (size_t)i * d, X + (size_t)i * d, d);
        if (!(s > 0) || !isfinite(s)) {
            bad = i < bad ? i : bad;
            continue;
        }
        inv[i] = (float)(1 / sqrt(s));
    }
    if (bad < n)
        return uf_fail(e, "k-means: row %d is zero or not finite: it has no direction", bad);
    return 0;
}

/* Unit row i into out (d floats): the same float products a normalised copy would hold. */
static const float *unit_row(const km *s, int i, float *out)
{
    const float *x = s->X + (size_t)i * s->d;
    for (int j = 0; j < s->d; j++)
        out[j] = x[j] * s->inv[i];
    return out;
}

/* The calling thread's row buffer. */
static float *thread_row(const km *s)
{
    return s->row + (size_t)uf_thread_id() * s->d;
}

typedef struct keyed {
    uint64_t key;
    int index;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key ? 1 : x->index - y->index;
}

/* k distinct points, the k smallest of n random keys. */
static int init_random(km *s, uint64_t seed, uf_err *e)
{
    keyed *r = uf_calloc((size_t)s->n, sizeof *r, e);
    if (!r)
        return uf_wrap(e, "k-means");
    for (int i = 0; i < s->n; i++)
        r[i] = (keyed){uf_rng_u64(seed, S_INIT, (uint64_t)i), i};
    qsort(r, (size_t)s->n, sizeof *r, cmp_keyed);
    for (int c = 0; c < s->k; c++)
        unit_row(s, r[c].index, s->C + (size_t)c * s->d);
    free(r);
    return 0;
}

/* k-means++: each next centroid is a point drawn with probability proportional
 * to its squared distance to the nearest centroid so far. */
static int init_plusplus(km *s, uint64_t seed, uf_err *e)
{
    int n = s->n, d = s->d;
    double *D = uf_calloc((size_t)n, sizeof *D, e);
    if (!D)
        return uf_wrap(e, "k-means");
    int pick = (int)(uf_rng_u64(seed, S_INIT, 0) % (uint64_t)n);
    for (int c = 0; c < s->k; c++) {
        if (c > 0) {
            double total = 0;
            for (int i = 0; i < n; i++)
                total += D[i];
            if (total > 0) {
                double r = uf_rng_uniform(seed, S_INIT, (uint64_t)c) * total, run = 0;
                pick = n - 1;
                for (int i = 0; i < n; i++) {
                    run += D[i];
                    if (run > r && D[i] > 0) {
                        pick = i;
                        break;
                    }
                }
            } else { /* fewer distinct points than k: repeat one */
                pick = (int)(uf_rng_u64(seed, S_INIT, (uint64_t)c) % (uint64_t)n);
            }
        }
        const float *x = unit_row(s, pick, s->C + (size_t)c * d);
#pragma omp parallel for
        for (int i = 0; i < n; i++) {
            double t = dist_of(dot_f64(unit_row(s, i, thread_row(s)), x, d));
            if (c == 0 || t * t < D[i])
                D[i] = t * t;
        }
    }
    free(D);
    return 0;
}

/* The index of the largest of row[0..k) (the first if tied) and the second
 * largest value. Chunks whose maximum (a branch-free, vectorisable pass)
 * cannot change the two are skipped. */
static void row_top2(const float *row, int k, int *best, float *second)
{
    enum { CHUNK = 32, LANES = 8 };
    float b1 = -INFINITY, b2 = -INFINITY;
    int at = 0;
    for (int j0 = 0; j0 < k; j0 += CHUNK) {
        int j1 = j0 + CHUNK < k ? j0 + CHUNK : k;
        if (j1 - j0 == CHUNK) {
            float m[LANES];
            for (int l = 0; l < LANES; l++)
                m[l] = row[j0 + l];
            for (int j = j0 + LANES; j < j1; j += LANES)
                for (int l = 0; l < LANES; l++)
                    m[l] = row[j + l] > m[l] ? row[j + l] : m[l];
            float cm = m[0];
            for (int l = 1; l < LANES; l++)
                cm = m[l] > cm ? m[l] : cm;
            if (cm <= b2)
                continue;
        }
        for (int j = j0; j < j1; j++) {
            if (row[j] > b2) {
                if (row[j] > b1) {
                    b2 = b1;
                    b1 = row[j];
                    at = j;
                } else {
                    b2 = row[j];
                }
            }
        }
    }
    *best = at;
    *second = b2;
}

/* Assigns points idx[0..m) by GEMM against all centroids, a block of B
 * points per step, each thread with its own buffers and a single-threaded
 * GEMM (one parallel region: no barrier per block); sets their exact upper
 * and float lower bounds. Returns how many changed centroid. */
// X[idx]: (m, d), C: (k, d) -> S: (B, k) per block -> a, u, l of those points
static long assign_rows(km *s, const int *idx, int m)
{
    int d = s->d, k = s->k, blocks = (m + s->B - 1) / s->B;
    long changed = 0;
#pragma omp parallel reduction(+ : changed)
    {
        float *buf = s->buf + (size_t)uf_thread_id() * s->B * d, *S = s->S + (size_t)uf_thread_id() * s->B * k;
#pragma omp for schedule(dynamic, 1)
        for (int blk = 0; blk < blocks; blk++) {
            int b0 = blk * s->B, nb = m - b0 < s->B ? m - b0 : s->B;
            for (int r = 0; r < nb; r++)
                unit_row(s, idx[b0 + r], buf + (size_t)r * d);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, k, d, 1.0f, buf, d, s->C, d, 0.0f, S, k);
            for (int r = 0; r < nb; r++) {
                int best;
                float b2;
                row_top2(S + (size_t)r * k, k, &best, &b2);
                int i = idx[b0 + r];
                changed += s->a[i] != best;
                s->a[i] = best;
                s->u[i] = dist_of(dot_f64(buf + (size_t)r * d, s->C + (size_t)best * d, d));
                s->l[i] = k > 1 ? dist_of(b2) : INFINITY;
            }
        }
    }
    s->computed += m;
    return changed;
}

/* Hamerly's step after the centroids moved by delta: a point keeps its
 * centroid when its upper bound stays below its lower bound; the others are
 * reassigned by GEMM. The re-seeded centroids (jumped[j]) jump anywhere, so
 * instead of lowering every bound by their jump, each point is compared with
 * them directly. Returns how many points changed centroid. */
static long assign_pruned(km *s, const double *delta, const int *jumped)
{
    int n = s->n, d = s->d, k = s->k, jmax = 0, nj = 0;
    double m1 = 0, m2 = 0;
    uf_err ignored; /* short of memory, this step recomputes every point instead: no error */
    int *jl = uf_calloc((size_t)k + 1, sizeof *jl, &ignored);
    char *flag = uf_calloc((size_t)n + 1, 1, &ignored);
    for (int j = 0; j < k; j++) {
        if (jumped[j]) {
            if (jl)
                jl[nj++] = j;
        } else if (delta[j] > m1) {
            m2 = m1;
            m1 = delta[j];
            jmax = j;
        } else if (delta[j] > m2) {
            m2 = delta[j];
        }
    }
    if (!flag || !jl || nj > k / 8) { /* short of memory, or many jumps: recompute every point */
        free(flag);
        free(jl);
        for (int i = 0; i < n; i++)
            s->idx[i] = i;
        return assign_rows(s, s->idx, n);
    }
#pragma omp parallel for
    for (int i = 0; i < n; i++) {
        int a = s->a[i];
        const float *x = unit_row(s, i, thread_row(s));
        s->u[i] += delta[a];
        s->l[i] -= a == jmax ? m2 : m1;
        flag[i] = 0;
        if (s->u[i] + BOUND_EPS >= s->l[i] || jumped[a]) {
            s->u[i] = dist_of(dot_f64(x, s->C + (size_t)a * d, d));
            flag[i] = s->u[i] + BOUND_EPS >= s->l[i] || jumped[a];
        }
        for (int q = 0; q < nj && !flag[i]; q++)
            flag[i] = dist_of(dot_f64(x, s->C + (size_t)jl[q] * d, d)) <= s->u[i] + BOUND_EPS;
    }
    int m = 0;
    for (int i = 0; i < n; i++)
        if (flag[i])
            s->idx[m++] = i;
    free(flag);
    free(jl);
    return assign_rows(s, s->idx, m);
}

/* The points grouped by centroid (a counting sort): order[start[j] .. start[j + 1] - 1] are the
 * points of centroid j, by index. start: (k + 1), order: (n). */
static void group_by_centroid(const km *s, int *start, int *order)
{
    memset(start, 0, sizeof *start * ((size_t)s->k + 1));
    for (int i = 0; i < s->n; i++)
        start[s->a[i] + 1]++;
    for (int j = 0; j < s->k; j++)
        start[j + 1] += start[j];
    int *next = start; /* each centroid's next free slot, restored below */
    for (int i = 0; i < s->n; i++)
        order[next[s->a[i]]++] = i;
    for (int j = s->k; j > 0; j--)
        start[j] = start[j - 1];
    start[0] = 0;
}

/* Cnew[j] = the normalised sum of centroid j's points (in index order, in double); empty[j] when
 * it has none or they sum to zero. Returns how many threads were short of memory. */
static int centroid_means(km *s, const int *start, const int *order, float *Cnew, int *empty)
{
    int d = s->d, nomem = 0;
#pragma omp parallel reduction(+ : nomem)
    {
        uf_err mine; /* each thread counts its failure: the caller reports it once */
        double *acc = uf_calloc((size_t)d, sizeof *acc, &mine);
        nomem += !acc;
#pragma omp for schedule(dynamic, 8)
        for (int j = 0; j < s->k; j++) {
            float *c = Cnew + (size_t)j * d;
            double norm = 0;
            if (acc) {
                memset(acc, 0, sizeof *acc * (size_t)d);
                for (int p = start[j]; p < start[j + 1]; p++) {
                    const float *x = unit_row(s, order[p], thread_row(s));
                    for (int q = 0; q < d; q++)
                        acc[q] += x[q];
                }
                for (int q = 0; q < d; q++)
                    norm += acc[q] * acc[q];
            }
            empty[j] = !(norm > 0);
            if (!empty[j])
                for (int q = 0; q < d; q++)
                    c[q] = (float)(acc[q] / sqrt(norm));
        }
        free(acc);
    }
    return nomem;
}

/* The empty centroids take the points farthest from their centroid (by the upper bound, then
 * index), the farthest first. */
static int reseed_empty(km *s, const int *empty, float *Cnew, uf_err *e)
{
    keyed *far = uf_calloc((size_t)s->n, sizeof *far, e);
    if (!far)
        return uf_wrap(e, "k-means");
    for (int i = 0; i < s->n; i++) { /* larger distance first: the key is the bound's bits, inverted */
        double u = s->u[i];
        uint64_t bits;
        memcpy(&bits, &u, sizeof bits);
        far[i] = (keyed){~bits, i};
    }
    qsort(far, (size_t)s->n, sizeof *far, cmp_keyed);
    for (int j = 0, next = 0; j < s->k; j++)
        if (empty[j])
            unit_row(s, far[next++ % s->n].index, Cnew + (size_t)j * s->d);
    free(far);
    return 0;
}

/* New centroids: the normalised means of their points; delta[j] how far centroid j moved. An
 * empty cluster (or one whose mean is zero) takes the point farthest from its centroid, the
 * farthest first; returns how many did. */
static int update(km *s, float *Cnew, double *delta, int *empty, uf_err *e)
{
    int n = s->n, d = s->d, k = s->k;
    int *start = uf_calloc((size_t)k + 1, sizeof *start, e), *order = uf_calloc((size_t)n, sizeof *order, e);
    int rc = !start || !order ? uf_wrap(e, "k-means") : 0;
    if (rc == 0) {
        group_by_centroid(s, start, order);
        if (centroid_means(s, start, order, Cnew, empty))
            rc = uf_fail(e, "k-means: out of memory");
    }
    free(start);
    free(order);
    int nempty = 0;
    for (int j = 0; j < k && rc == 0; j++)
        nempty += empty[j];
    if (rc || (nempty > 0 && reseed_empty(s, empty, Cnew, e)))
        return -1;
#pragma omp parallel for
    for (int j = 0; j < k; j++) {
        double t = 0;
        for (int q = 0; q < d; q++) {
            double v = (double)Cnew[(size_t)j * d + q] - s->C[(size_t)j * d + q];
            t += v * v;
        }
        delta[j] = sqrt(t);
    }
    return nempty;
}

/* One run from the initialisation drawn with `seed`. */
static int kmeans_once(const float *X, int n, int d, const uf_kmeans_params *p, uint64_t seed, float *centroids,
                       int32_t *assign, uf_kmeans_info *info, uf_err *e)
{
    km s = {.n = n, .d = d, .k = p->k, .C = centroids, .a = assign};
    s.B = (1 << 19) / p->k; /* a block's scores take about 2 MB */
    s.B = s.B < 32 ? 32 : s.B > 1024 ? 1024 : s.B;
    size_t nt = (size_t)uf_threads();
    float *Cnew = uf_calloc((size_t)p->k * d, sizeof *Cnew, e);
    s.X = X;
    s.inv = uf_calloc((size_t)n, sizeof *s.inv, e);
    s.row = uf_calloc(nt * d, sizeof *s.row, e);
    s.u = uf_calloc((size_t)n, sizeof *s.u, e);
    s.l = uf_calloc((size_t)n, sizeof *s.l, e);
    s.idx = uf_calloc((size_t)n, sizeof *s.idx, e);
    s.buf = uf_calloc(nt * s.B * d, sizeof *s.buf, e);
    s.S = uf_calloc(nt * s.B * p->k, sizeof *s.S, e);
    double *delta = uf_calloc((size_t)p->k, sizeof *delta, e);
    int *empty = uf_calloc((size_t)p->k, sizeof *empty, e);
    int rc = -1;
    if (!s.inv || !s.row || !Cnew || !s.u || !s.l || !s.idx || !s.buf || !s.S || !delta || !empty) {
        uf_wrap(e, "k-means: %d x %d points and %d centroids", n, d, p->k);
        goto out;
    }
    if (row_scales(X, n, d, s.inv, e) ||
        (p->init == UF_KMEANS_RANDOM ? init_random(&s, seed, e) : init_plusplus(&s, seed, e)))
        goto out;
    memset(info, 0, sizeof *info);
    for (int i = 0; i < n; i++) {
        s.a[i] = -1;
        s.idx[i] = i;
    }
    long changed = assign_rows(&s, s.idx, n);
    for (int it = 0; it < p->iters && changed > 0; it++) {
        int nempty = update(&s, Cnew, delta, empty, e);
        if (nempty < 0)
            goto out;
        info->reseeded += nempty;
        memcpy(s.C, Cnew, sizeof(float) * (size_t)p->k * d);
        changed = assign_pruned(&s, delta, empty);
        info->iterations++;
    }
    double *sq = s.u; /* reused: per-point objective terms, summed in index order */
#pragma omp parallel for
    for (int i = 0; i < n; i++) {
        double t = 0;
        const float *x = unit_row(&s, i, thread_row(&s));
        for (int q = 0; q < d; q++) {
            double v = (double)x[q] - s.C[(size_t)s.a[i] * d + q];
            t += v * v;
        }
        sq[i] = t;
    }
    info->objective = 0;
    for (int i = 0; i < n; i++)
        info->objective += sq[i];
    info->recomputed = (double)s.computed / ((double)n * (info->iterations + 1));
    rc = 0;
out:
    free(s.inv);
    free(s.row);
    free(Cnew);
    free(s.u);
    free(s.l);
    free(s.idx);
    free(s.buf);
    free(s.S);
    free(delta);
    free(empty);
    return rc;
}

int uf_kmeans(const float *X, int n, int d, const uf_kmeans_params *p, float *centroids, int32_t *assign,
              uf_kmeans_info *info, uf_err *e)
{
    if (n <= 0 || d <= 0)
        return uf_fail(e, "k-means: no data (%d x %d)", n, d);
    if (p->k <= 0 || p->k > n)
        return uf_fail(e, "k-means: k = %d must be in [1, %d], the number of points", p->k, n);
    if (p->iters < 0 || p->n_init < 1)
        return uf_fail(e, "k-means: bad iteration count %d or number of runs %d", p->iters, p->n_init);
    if (kmeans_once(X, n, d, p, p->seed, centroids, assign, info, e))
        return -1;
    if (p->n_init == 1)
        return 0;
    float *C = uf_calloc((size_t)p->k * d, sizeof *C, e);
    int32_t *A = uf_calloc((size_t)n, sizeof *A, e);
    int rc = C && A ? 0 : uf_wrap(e, "k-means");
    for (int r = 1; rc == 0 && r < p->n_init; r++) { /* run r starts from seed uf_rng(seed, S_INIT, -r) */
        uf_kmeans_info ri;
        rc = kmeans_once(X, n, d, p, uf_rng_u64(p->seed, S_INIT, (uint64_t)-r), C, A, &ri, e);
        if (rc == 0 && ri.objective < info->objective) {
            memcpy(centroids, C, sizeof(float) * (size_t)p->k * d);
            memcpy(assign, A, sizeof(int32_t) * (size_t)n);
            *info = ri;
        }
    }
    free(C);
    free(A);
    return rc;
}
