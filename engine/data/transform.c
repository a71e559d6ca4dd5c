/* Pixel-exact ports of the Pillow 9 algorithms torchvision calls (Resample.c, Geometry.c, Filter.c,
 * Blend, ImageOps, ImageEnhance), written from their documented behaviour. Compiled with
 * -ffp-contract=off (CMakeLists.txt): PIL's float expressions must round the way PIL's do. */
#define _DEFAULT_SOURCE /* M_PI */
#include "transform.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"

const float uf_imagenet_mean[3] = {0.485f, 0.456f, 0.406f};
const float uf_imagenet_std[3] = {0.229f, 0.224f, 0.225f};

const char *const uf_ra_names[UF_RA_NOPS] = {"AutoContrast", "Brightness", "Color",     "Contrast",   "Equalize",
                                             "Identity",     "Posterize",  "Rotate",    "Sharpness",  "ShearX",
                                             "ShearY",       "Solarize",   "TranslateX", "TranslateY"};

static uint8_t clamp8(int v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* ---- Resize: PIL's two-pass separable bilinear filter, support scaled when downsampling ---- */

enum { PRECISION_BITS = 32 - 8 - 2 };

typedef struct coeffs {
    int ksize;
    int *bounds; /* per output pixel: first input pixel, count */
    int *k;      /* per output pixel: ksize fixed-point weights */
} coeffs;

static double bilinear(double x)
{
    x = x < 0 ? -x : x;
    return x < 1 ? 1 - x : 0;
}

static int precompute(int in_size, int out_size, coeffs *c, uf_err *e)
{
    double scale = (double)in_size / out_size, fscale = scale < 1 ? 1 : scale;
    double support = 1.0 * fscale;
    c->ksize = (int)ceil(support) * 2 + 1;
    c->bounds = uf_calloc(2 * (size_t)out_size, sizeof *c->bounds, e);
    c->k = uf_calloc((size_t)c->ksize * (size_t)out_size, sizeof *c->k, e);
    double *w = uf_calloc((size_t)c->ksize, sizeof *w, e);
    if (!c->bounds || !c->k || !w) {
        free(w);
        return uf_wrap(e, "resize");
    }
    for (int xx = 0; xx < out_size; xx++) {
        double center = (xx + 0.5) * scale, ww = 0, ss = 1.0 / fscale;
        int xmin = (int)(center - support + 0.5), xmax = (int)(center + support + 0.5);
        xmin = xmin < 0 ? 0 : xmin;
        xmax = (xmax > in_size ? in_size : xmax) - xmin;
        for (int x = 0; x < xmax; x++) {
            w[x] = bilinear((x + xmin - center + 0.5) * ss);
            ww += w[x];
        }
        int *k = c->k + (size_t)xx * (size_t)c->ksize;
        for (int x = 0; x < c->ksize; x++) {
            double v = x < xmax ? (ww != 0 ? w[x] / ww : w[x]) : 0;
            k[x] = v < 0 ? (int)(-0.5 + v * (1 << PRECISION_BITS)) : (int)(0.5 + v * (1 << PRECISION_BITS));
        }
        c->bounds[2 * xx] = xmin;
        c->bounds[2 * xx + 1] = xmax;
    }
    free(w);
    return 0;
}

static uint8_t clip_fixed(int ss)
{
    return clamp8(ss >> PRECISION_BITS);
}

int uf_resize(const uf_image *in, int w, int h, uf_image *out, uf_err *e)
{
    if (uf_image_alloc(out, w, h, e))
        return -1;
    if (w == in->w && h == in->h) {
        memcpy(out->px, in->px, (size_t)w * (size_t)h * 3);
        return 0;
    }
    coeffs ch = {0}, cv = {0};
    uf_image tmp = {0};
    int rc = precompute(in->w, w, &ch, e) || precompute(in->h, h, &cv, e) ? -1 : 0;
    /* horizontal pass over the rows the vertical pass reads, then the vertical pass */
    int y_first = cv.bounds ? cv.bounds[0] : 0;
    int y_last = cv.bounds ? cv.bounds[2 * h - 2] + cv.bounds[2 * h - 1] : 0;
    const uf_image *src = in;
    if (!rc && w != in->w) {
        rc = uf_image_alloc(&tmp, w, y_last - y_first, e);
        // in: (H, W, 3) rows y_first.. -> tmp: (y_last - y_first, w, 3)
        for (int y = 0; !rc && y < tmp.h; y++) {
            const uint8_t *row = in->px + (size_t)(y + y_first) * (size_t)in->w * 3;
            uint8_t *o = tmp.px + (size_t)y * (size_t)w * 3;
            for (int xx = 0; xx < w; xx++) {
                const int *k = ch.k + (size_t)xx * (size_t)ch.ksize;
                int xmin = ch.bounds[2 * xx], xmax = ch.bounds[2 * xx + 1];
                int s0 = 1 << (PRECISION_BITS - 1), s1 = s0, s2 = s0;
                for (int x = 0; x < xmax; x++) {
                    const uint8_t *p = row + 3 * (x + xmin);
                    s0 += p[0] * k[x];
                    s1 += p[1] * k[x];
                    s2 += p[2] * k[x];
                }
                o[3 * xx] = clip_fixed(s0);
                o[3 * xx + 1] = clip_fixed(s1);
                o[3 * xx + 2] = clip_fixed(s2);
            }
        }
        src = &tmp;
        for (int yy = 0; yy < h; yy++)
            cv.bounds[2 * yy] -= y_first;
    }
    int *acc = !rc && h != in->h ? uf_calloc(3 * (size_t)w, sizeof *acc, e) : NULL;
    if (!rc && h != in->h && !acc)
        rc = uf_wrap(e, "resize");
    if (!rc && h != in->h) {
        // src: (Hs, w, 3) -> out: (h, w, 3); rows accumulated whole so the loop vectorises
        // (integer sums: the order does not change the result)
        for (int yy = 0; yy < h; yy++) {
            const int *k = cv.k + (size_t)yy * (size_t)cv.ksize;
            int ymin = cv.bounds[2 * yy], ymax = cv.bounds[2 * yy + 1];
            for (int xx = 0; xx < 3 * w; xx++)
                acc[xx] = 1 << (PRECISION_BITS - 1);
            for (int y = 0; y < ymax; y++) {
                const uint8_t *row = src->px + (size_t)(y + ymin) * (size_t)w * 3;
                int ky = k[y];
                for (int xx = 0; xx < 3 * w; xx++)
                    acc[xx] += row[xx] * ky;
            }
            uint8_t *o = out->px + (size_t)yy * (size_t)w * 3;
            for (int xx = 0; xx < 3 * w; xx++)
                o[xx] = clip_fixed(acc[xx]);
        }
    } else if (!rc) {
        memcpy(out->px, src->px, (size_t)w * (size_t)h * 3);
    }
    free(acc);
    free(ch.bounds);
    free(ch.k);
    free(cv.bounds);
    free(cv.k);
    uf_image_free(&tmp);
    if (rc) {
        uf_image_free(out);
        return -1;
    }
    return 0;
}

int uf_resize_shorter(const uf_image *in, int size, uf_image *out, uf_err *e)
{
    int w = in->w, h = in->h;
    if (w <= h)
        return uf_resize(in, size, (int)((double)size * h / w), out, e);
    return uf_resize(in, (int)((double)size * w / h), size, out, e);
}

int uf_crop(const uf_image *in, int top, int left, int h, int w, uf_image *out, uf_err *e)
{
    if (uf_image_alloc(out, w, h, e))
        return -1;
    memset(out->px, 0, (size_t)w * (size_t)h * 3);
    for (int y = 0; y < h; y++) {
        int sy = top + y;
        if (sy < 0 || sy >= in->h)
            continue;
        int x0 = left < 0 ? -left : 0, x1 = left + w > in->w ? in->w - left : w;
        if (x1 > x0)
            memcpy(out->px + ((size_t)y * (size_t)w + (size_t)x0) * 3,
                   in->px + ((size_t)sy * (size_t)in->w + (size_t)(left + x0)) * 3, (size_t)(x1 - x0) * 3);
    }
    return 0;
}

int uf_center_crop(const uf_image *in, int size, uf_image *out, uf_err *e)
{
    /* torchvision pads a short side by (size - side) // 2 before, else crops at
     * int(round((side - size) / 2.0)) with Python's round (half to even) */
    int top = size > in->h ? -((size - in->h) / 2) : (int)nearbyint((in->h - size) / 2.0);
    int left = size > in->w ? -((size - in->w) / 2) : (int)nearbyint((in->w - size) / 2.0);
    return uf_crop(in, top, left, size, size, out, e);
}

void uf_hflip(uf_image *im)
{
    for (int y = 0; y < im->h; y++) {
        uint8_t *r = im->px + (size_t)y * (size_t)im->w * 3;
        for (int a = 0, b = im->w - 1; a < b; a++, b--)
            for (int k = 0; k < 3; k++) {
                uint8_t t = r[3 * a + k];
                r[3 * a + k] = r[3 * b + k];
                r[3 * b + k] = t;
            }
    }
}

void uf_to_tensor(const uf_image *im, const float mean[3], const float std[3], float *chw)
{
    size_t n = (size_t)im->w * (size_t)im->h;
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < n; i++)
            chw[c * n + i] = ((float)im->px[3 * i + c] / 255.0f - mean[c]) / std[c];
}

/* ---- sampling ---- */

enum { RNG_RRC = 0x525243, RNG_FLIP = 0x464c4950, RNG_RANDAUG = 0x52414147, RNG_JITTER = 0x4a4954 };

static double draw(uf_draw d, uint64_t stream, int k)
{
    return uf_rng_uniform(d.seed, stream, ((d.epoch << 32 | (d.sample & 0xffffffffu)) * 64) + (uint64_t)k);
}

void uf_rrc_sample(int W, int H, double smin, double smax, double rmin, double rmax, uf_draw d, uf_rrc *p)
{
    double area = (double)W * H, lr0 = log(rmin), lr1 = log(rmax);
    for (int t = 0; t < 10; t++) {
        double target = area * (smin + (smax - smin) * draw(d, RNG_RRC, 4 * t));
        double aspect = exp(lr0 + (lr1 - lr0) * draw(d, RNG_RRC, 4 * t + 1));
        int w = (int)nearbyint(sqrt(target * aspect)), h = (int)nearbyint(sqrt(target / aspect));
        if (w > 0 && w <= W && h > 0 && h <= H) {
            p->top = (int)(draw(d, RNG_RRC, 4 * t + 2) * (H - h + 1));
            p->left = (int)(draw(d, RNG_RRC, 4 * t + 3) * (W - w + 1));
            p->h = h;
            p->w = w;
            p->tries = t + 1;
            return;
        }
    }
    double in_ratio = (double)W / H;
    if (in_ratio < rmin) {
        p->w = W;
        p->h = (int)nearbyint(W / rmin);
    } else if (in_ratio > rmax) {
        p->h = H;
        p->w = (int)nearbyint(H * rmax);
    } else {
        p->w = W;
        p->h = H;
    }
    p->top = (H - p->h) / 2;
    p->left = (W - p->w) / 2;
    p->tries = 11;
}

int uf_flip_sample(uf_draw d)
{
    return draw(d, RNG_FLIP, 0) < 0.5;
}

void uf_jitter_sample(double j, double p, uf_draw d, uf_jitter *out)
{
    double lo = j < 1 ? 1 - j : 0;
    out->apply = draw(d, RNG_JITTER, 0) < p;
    out->contrast_first = draw(d, RNG_JITTER, 1) < 0.5;
    out->brightness = lo + (1 + j - lo) * draw(d, RNG_JITTER, 2);
    out->contrast = lo + (1 + j - lo) * draw(d, RNG_JITTER, 3);
}

void uf_randaug_sample(int W, int H, int n, int m, int cutout, uf_draw d, uf_randaug *p)
{
    p->n = n > 4 ? 4 : n;
    for (int i = 0; i < p->n; i++) {
        uf_ra_op *o = &p->ops[i];
        o->op = (int)(draw(d, RNG_RANDAUG, 4 * i) * UF_RA_NOPS);
        o->v = 1 + (int)(draw(d, RNG_RANDAUG, 4 * i + 1) * (m - 1));
        o->apply = draw(d, RNG_RANDAUG, 4 * i + 2) < 0.5;
        o->negate = draw(d, RNG_RANDAUG, 4 * i + 3) < 0.5;
    }
    /* CutoutAbs: a v x v box around a uniform point, clipped */
    double x = draw(d, RNG_RANDAUG, 60) * W, y = draw(d, RNG_RANDAUG, 61) * H;
    p->cut_x0 = (int)fmax(0, x - cutout / 2.0);
    p->cut_y0 = (int)fmax(0, y - cutout / 2.0);
    p->cut_x1 = (int)fmin(W, p->cut_x0 + cutout);
    p->cut_y1 = (int)fmin(H, p->cut_y0 + cutout);
}

/* ---- RandAugment ops ---- */

static void apply_lut(uf_image *im, const uint8_t lut[3][256])
{
    for (size_t i = 0; i < (size_t)im->w * (size_t)im->h * 3; i++)
        im->px[i] = lut[i % 3][im->px[i]];
}

static void histograms(const uf_image *im, long h[3][256])
{
    memset(h, 0, sizeof(long) * 3 * 256);
    for (size_t i = 0; i < (size_t)im->w * (size_t)im->h * 3; i++)
        h[i % 3][im->px[i]]++;
}

static void autocontrast(uf_image *im)
{
    long h[3][256];
    uint8_t lut[3][256];
    histograms(im, h);
    for (int c = 0; c < 3; c++) {
        int lo = 0, hi = 255;
        while (lo < 256 && !h[c][lo])
            lo++;
        while (hi >= 0 && !h[c][hi])
            hi--;
        for (int i = 0; i < 256; i++) {
            if (hi <= lo) {
                lut[c][i] = (uint8_t)i;
                continue;
            }
            double scale = 255.0 / (hi - lo), offset = -lo * scale;
            lut[c][i] = clamp8((int)(i * scale + offset));
        }
    }
    apply_lut(im, lut);
}

static void equalize(uf_image *im)
{
    long h[3][256];
    uint8_t lut[3][256];
    histograms(im, h);
    for (int c = 0; c < 3; c++) {
        long total = 0, last = 0;
        int nonzero = 0;
        for (int i = 0; i < 256; i++)
            if (h[c][i]) {
                total += h[c][i];
                last = h[c][i];
                nonzero++;
            }
        long step = nonzero <= 1 ? 0 : (total - last) / 255;
        long acc = step / 2;
        for (int i = 0; i < 256; i++) {
            lut[c][i] = step ? clamp8((int)(acc / step)) : (uint8_t)i;
            acc += h[c][i];
        }
    }
    apply_lut(im, lut);
}

/* Image.blend(degenerate, im, alpha): PIL interpolates in float and truncates (clips outside [0, 1]).
 * The degenerate image is a constant (DEG_CONST), gray (DEG_GRAY: one byte per pixel) or RGB. */
enum { DEG_CONST, DEG_GRAY, DEG_RGB };

static void blend(uf_image *im, const uint8_t *deg, int kind, double factor)
{
    float alpha = (float)factor;
    for (size_t i = 0; i < (size_t)im->w * (size_t)im->h * 3; i++) {
        int a = deg[kind == DEG_CONST ? 0 : kind == DEG_GRAY ? i / 3 : i], b = im->px[i];
        float t = (float)a + alpha * (float)(b - a);
        if (alpha >= 0 && alpha <= 1)
            im->px[i] = (uint8_t)t;
        else
            im->px[i] = t <= 0 ? 0 : t >= 255 ? 255 : (uint8_t)t;
    }
}

/* PIL's convert("L"): ITU-R 601-2 luma in 16.16 fixed point. */
static uint8_t luma(const uint8_t *p)
{
    return (uint8_t)((p[0] * 19595 + p[1] * 38470 + p[2] * 7471 + 0x8000) >> 16);
}

static int color(uf_image *im, double f, uf_err *e)
{
    size_t n = (size_t)im->w * (size_t)im->h;
    uint8_t *g = uf_alloc(n, e);
    if (!g)
        return -1;
    for (size_t i = 0; i < n; i++)
        g[i] = luma(im->px + 3 * i);
    blend(im, g, DEG_GRAY, f);
    free(g);
    return 0;
}

static void contrast(uf_image *im, double f)
{
    size_t n = (size_t)im->w * (size_t)im->h;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += luma(im->px + 3 * i);
    uint8_t mean = (uint8_t)(int)(sum / (double)n + 0.5);
    blend(im, &mean, DEG_CONST, f);
}

static void brightness(uf_image *im, double f)
{
    uint8_t black = 0;
    blend(im, &black, DEG_CONST, f); /* degenerate: a black image */
}

void uf_jitter_apply(uf_image *im, const uf_jitter *j)
{
    if (!j->apply)
        return;
    if (j->contrast_first)
        contrast(im, j->contrast);
    brightness(im, j->brightness);
    if (!j->contrast_first)
        contrast(im, j->contrast);
}

static int sharpness(uf_image *im, double f, uf_err *e)
{
    /* ImageFilter.SMOOTH: 3x3 kernel (1 1 1 / 1 5 1 / 1 1 1) / 13, borders copied */
    size_t n = (size_t)im->w * (size_t)im->h * 3;
    uint8_t *s = uf_alloc(n, e);
    if (!s)
        return -1;
    memcpy(s, im->px, n);
    const float k[9] = {1 / 13.0f, 1 / 13.0f, 1 / 13.0f, 1 / 13.0f, 5 / 13.0f, 1 / 13.0f, 1 / 13.0f, 1 / 13.0f, 1 / 13.0f};
    size_t row = (size_t)im->w * 3;
    for (int y = 1; y < im->h - 1; y++)
        for (int x = 1; x < im->w - 1; x++)
            for (int c = 0; c < 3; c++) {
                const uint8_t *p = im->px + (size_t)y * row + (size_t)x * 3 + (size_t)c;
                const uint8_t *below = p + row, *above = p - row;
                float ss = 0;
                ss += (float)below[-3] * k[0] + (float)below[0] * k[1] + (float)below[3] * k[2];
                ss += (float)p[-3] * k[3] + (float)p[0] * k[4] + (float)p[3] * k[5];
                ss += (float)above[-3] * k[6] + (float)above[0] * k[7] + (float)above[3] * k[8];
                s[(size_t)y * row + (size_t)x * 3 + (size_t)c] =
                    ss <= 0 ? 0 : ss >= 255 ? 255 : (uint8_t)(ss + 0.5f);
            }
    blend(im, s, DEG_RGB, f);
    free(s);
    return 0;
}

/* Image.transform(size, AFFINE, a, NEAREST) with black fill: PIL maps each output pixel centre
 * through a in 16.16 fixed point (affine_fixed), or exactly for pure translations (ScaleAffine). */
static int affine(uf_image *im, const double a[6], uf_err *e)
{
    uf_image out;
    if (uf_image_alloc(&out, im->w, im->h, e))
        return -1;
    memset(out.px, 0, (size_t)im->w * (size_t)im->h * 3);
    if (a[1] == 0 && a[3] == 0) {
        double yo = a[5] + a[4] * 0.5;
        for (int y = 0; y < im->h; y++, yo += a[4]) {
            int yi = yo < 0 ? -1 : (int)yo;
            double xo = a[2] + a[0] * 0.5;
            for (int x = 0; x < im->w; x++, xo += a[0]) {
                int xi = xo < 0 ? -1 : (int)xo;
                if (yi >= 0 && yi < im->h && xi >= 0 && xi < im->w)
                    memcpy(out.px + ((size_t)y * (size_t)im->w + (size_t)x) * 3,
                           im->px + ((size_t)yi * (size_t)im->w + (size_t)xi) * 3, 3);
            }
        }
    } else {
#define FIX(v) ((int)floor((v) * 65536.0 + 0.5))
        int a0 = FIX(a[0]), a1 = FIX(a[1]), a3 = FIX(a[3]), a4 = FIX(a[4]);
        int a2 = FIX(a[2] + a[0] * 0.5 + a[1] * 0.5), a5 = FIX(a[5] + a[3] * 0.5 + a[4] * 0.5);
#undef FIX
        for (int y = 0; y < im->h; y++, a2 += a1, a5 += a4) {
            int xx = a2, yy = a5;
            for (int x = 0; x < im->w; x++, xx += a0, yy += a3) {
                int xin = xx >> 16, yin = yy >> 16;
                if (xin >= 0 && xin < im->w && yin >= 0 && yin < im->h)
                    memcpy(out.px + ((size_t)y * (size_t)im->w + (size_t)x) * 3,
                           im->px + ((size_t)yin * (size_t)im->w + (size_t)xin) * 3, 3);
            }
        }
    }
    free(im->px);
    im->px = out.px;
    return 0;
}

/* Image.rotate(angle): about the centre, nearest neighbour, black outside. */
static int rotate(uf_image *im, double deg, uf_err *e)
{
    double m = fmod(deg, 360.0); /* Python's angle % 360.0 */
    m = m < 0 ? m + 360.0 : m;
    double r = -(m * (M_PI / 180.0)), cx = im->w / 2.0, cy = im->h / 2.0;
    /* PIL rounds the matrix to 15 decimals */
    double c = nearbyint(cos(r) * 1e15) / 1e15, s = nearbyint(sin(r) * 1e15) / 1e15;
    double a[6] = {c, s, 0, -s, c, 0};
    a[2] = a[0] * -cx + a[1] * -cy + a[2] + cx;
    a[5] = a[3] * -cx + a[4] * -cy + a[5] + cy;
    return affine(im, a, e);
}

int uf_ra_apply(uf_image *im, const uf_ra_op *o, uf_err *e)
{
    /* FixMatch: _float_parameter(v, max) = v * max / 10, _int_parameter = int(v * max / 10) */
    double fv9 = o->v * 0.9 / 10 + 0.05, fv3 = o->v * 0.3 / 10;
    double sign = o->negate ? -1 : 1;
    uint8_t lut[3][256];
    switch (o->op) {
    case UF_RA_AUTOCONTRAST: autocontrast(im); return 0;
    case UF_RA_BRIGHTNESS: brightness(im, fv9); return 0;
    case UF_RA_COLOR: return color(im, fv9, e);
    case UF_RA_CONTRAST: contrast(im, fv9); return 0;
    case UF_RA_EQUALIZE: equalize(im); return 0;
    case UF_RA_IDENTITY: return 0;
    case UF_RA_POSTERIZE: {
        int bits = o->v * 4 / 10 + 4, mask = ~((1 << (8 - bits)) - 1);
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 256; i++)
                lut[c][i] = (uint8_t)(i & mask);
        apply_lut(im, lut);
        return 0;
    }
    case UF_RA_ROTATE: return rotate(im, sign * (o->v * 30 / 10), e);
    case UF_RA_SHARPNESS: return sharpness(im, fv9, e);
    case UF_RA_SHEARX: return affine(im, (double[6]){1, sign * fv3, 0, 0, 1, 0}, e);
    case UF_RA_SHEARY: return affine(im, (double[6]){1, 0, 0, sign * fv3, 1, 0}, e);
    case UF_RA_SOLARIZE: {
        int threshold = 256 - o->v * 256 / 10;
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 256; i++)
                lut[c][i] = (uint8_t)(i < threshold ? i : 255 - i);
        apply_lut(im, lut);
        return 0;
    }
    case UF_RA_TRANSLATEX: return affine(im, (double[6]){1, 0, (int)(sign * fv3 * im->w), 0, 1, 0}, e);
    case UF_RA_TRANSLATEY: return affine(im, (double[6]){1, 0, 0, 0, 1, (int)(sign * fv3 * im->h)}, e);
    default: return uf_fail(e, "RandAugment: unknown op %d", o->op);
    }
}

int uf_randaug_apply(uf_image *im, const uf_randaug *p, uf_err *e)
{
    for (int i = 0; i < p->n; i++)
        if (p->ops[i].apply && uf_ra_apply(im, &p->ops[i], e))
            return -1;
    /* ImageDraw.rectangle((x0, y0, x1, y1), (127, 127, 127)): both corners included */
    for (int y = p->cut_y0; y <= p->cut_y1 && y < im->h; y++)
        for (int x = p->cut_x0; x <= p->cut_x1 && x < im->w; x++)
            memset(im->px + ((size_t)y * (size_t)im->w + (size_t)x) * 3, 127, 3);
    return 0;
}
