/* Throughput measurements (throughput.h). */
#include "throughput.h"

#include <cblas.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "nn/loss.h"
#include "nn/sgd.h"

double uf_sgemm_gflops(void)
{
    const int n = 2048;
    uf_err ignored; /* short of memory the rate is reported as 0: a benchmark goes on without it */
    float *a = uf_calloc((size_t)n * n, sizeof(float), &ignored);
    float *b = uf_calloc((size_t)n * n, sizeof(float), &ignored);
    float *c = uf_calloc((size_t)n * n, sizeof(float), &ignored);
    double best = 0;
    for (long i = 0; a && b && c && i < (long)n * n; i++) {
        a[i] = (float)uf_rng_uniform(1, 1, (uint64_t)i);
        b[i] = (float)uf_rng_uniform(1, 2, (uint64_t)i);
    }
    for (int r = 0; a && b && c && r < 3; r++) {
        double t = uf_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
        t = uf_now() - t;
        best = 2.0 * n * n * n / t / 1e9 > best ? 2.0 * n * n * n / t / 1e9 : best;
    }
    free(a), free(b), free(c);
    return best;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define CHAINS 24 /* independent accumulators: enough to cover the FMA latency on both pipes */
#define FMA_ITERS 30000000L /* about 0.1 s a thread */

/* FMA_ITERS x CHAINS vector FMAs; the sum is returned so that the loop is not dropped */
__attribute__((target("avx512f"))) static float fma_loop_512(void)
{
    __m512 acc[CHAINS], mul = _mm512_set1_ps(0.999f), add = _mm512_set1_ps(1e-3f);
    for (int c = 0; c < CHAINS; c++)
        acc[c] = _mm512_set1_ps((float)c);
    for (long i = 0; i < FMA_ITERS; i++)
        _Pragma("GCC unroll 24") for (int c = 0; c < CHAINS; c++) acc[c] = _mm512_fmadd_ps(acc[c], mul, add);
    for (int c = 1; c < CHAINS; c++)
        acc[0] = _mm512_add_ps(acc[0], acc[c]);
    return _mm512_reduce_add_ps(acc[0]);
}

__attribute__((target("avx2,fma"))) static float fma_loop_256(void)
{
    __m256 acc[CHAINS], mul = _mm256_set1_ps(0.999f), add = _mm256_set1_ps(1e-3f);
    for (int c = 0; c < CHAINS; c++)
        acc[c] = _mm256_set1_ps((float)c);
    for (long i = 0; i < FMA_ITERS; i++)
        _Pragma("GCC unroll 24") for (int c = 0; c < CHAINS; c++) acc[c] = _mm256_fmadd_ps(acc[c], mul, add);
    float lanes[8], sum = 0;
    for (int c = 1; c < CHAINS; c++)
        acc[0] = _mm256_add_ps(acc[0], acc[c]);
    _mm256_storeu_ps(lanes, acc[0]);
    for (int l = 0; l < 8; l++)
        sum += lanes[l];
    return sum;
}

double uf_fma_peak_gflops(void)
{
    const int wide = __builtin_cpu_supports("avx512f");
    if (!wide && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")))
        return 0;
    const int threads = uf_threads();
    double best = 0;
    volatile float sink = 0;
    for (int r = 0; r < 3; r++) {
        double t = uf_now();
#pragma omp parallel num_threads(threads)
        {
            float s = wide ? fma_loop_512() : fma_loop_256();
#pragma omp atomic
            sink += s;
        }
        t = uf_now() - t;
        double rate = 2.0 * (wide ? 16 : 8) * CHAINS * FMA_ITERS * threads / t / 1e9;
        best = rate > best ? rate : best;
    }
    return best;
}
#else
double uf_fma_peak_gflops(void) { return 0; }
#endif

/* One training step (or eval forward) on images (batch, 3, size, size) with their labels. */
static int step(uf_model *m, int train, const float *images, const int *labels, int batch, int size, float *dlogits,
                uf_err *e)
{
    uf_sgd opt = {.momentum = 0.9, .nesterov = 1, .lr = {0.01, 0.01}, .weight_decay = {1e-4, 1e-4}};
    if (uf_model_forward(m, images, batch, size, size, train, train, e))
        return -1;
    if (!train)
        return 0;
    double loss;
    const float *grads[1] = {dlogits};
    if (uf_xent_hard(batch, 1000, uf_model_head_out(m, 0), labels, 1, dlogits, &loss, e))
        return -1;
    uf_params_zero_grad(&m->p);
    if (uf_model_backward(m, grads, e))
        return -1;
    uf_sgd_step(&opt, &m->p);
    return 0;
}

/* Seconds per step (after one warm-up step) on random images. */
static int seconds_per_step(uf_model *m, int train, int batch, int size, int steps, double *sec, uf_err *e)
{
    size_t npix = (size_t)batch * 3 * size * size;
    float *images = uf_alloc_floats(npix, e);                    /* (batch, 3, size, size) */
    float *dlogits = images ? uf_alloc_floats((size_t)batch * 1000, e) : NULL; /* (batch, 1000) */
    int *labels = dlogits ? uf_calloc((size_t)batch, sizeof(int), e) : NULL;
    int rc = labels ? 0 : -1;
    for (size_t i = 0; !rc && i < npix; i++)
        images[i] = (float)(uf_rng_uniform(3, 1, i) * 2 - 1);
    for (int i = 0; !rc && i < batch; i++)
        labels[i] = (int)(uf_rng_u64(3, 2, (uint64_t)i) % 1000);
    double t0 = 0;
    for (int s = 0; s <= steps && !rc; s++) {
        if (s == 1)
            t0 = uf_now();
        rc = step(m, train, images, labels, batch, size, dlogits, e);
    }
    *sec = (uf_now() - t0) / steps;
    free(images), free(dlogits), free(labels);
    return rc;
}

int uf_measure_throughput(const uf_arch *a, int train, int batch, int size, int steps, uf_throughput *out,
                          uf_err *e)
{
    uf_model m;
    uf_head_spec head = {"fc", 1000, UF_HEAD_LINEAR};
    if (uf_model_create(&m, a, &head, 1, e))
        return -1;
    uf_model_init_weights(&m, 1);
    double sec = 0;
    int rc = seconds_per_step(&m, train, batch, size, steps, &sec, e);
    out->gflops = uf_model_flops(&m, train) / sec / 1e9;
    out->images_per_s = batch / sec;
    out->params = (long)m.p.total;
    uf_model_free(&m);
    return rc;
}
