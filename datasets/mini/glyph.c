#include "glyph.h"

#include <string.h>

#include FT_OUTLINE_H

#include "core/rng.h"

/* The glyph's box must fit this many pixels (the rest is margin for the offset). */
#define MK_FIT 28.0

static double lerp(double lo, double hi, double u)
{
    return lo + (hi - lo) * u;
}

void mk_jitter_none(mk_jitter *j)
{
    *j = (mk_jitter){.em_px = 26, .aspect = 1, .ink = 255};
}

void mk_jitter_draw(uint64_t seed, uint64_t stream, uint64_t key, mk_jitter *j)
{
    double u[12];
    for (int k = 0; k < 12; k++)
        u[k] = uf_rng_uniform(seed, 2 * stream, key * 16 + (uint64_t)k);
    j->em_px = lerp(22, 30, u[0]);
    j->angle = lerp(-0.2, 0.2, u[1]);
    j->shear = lerp(-0.25, 0.25, u[2]);
    j->aspect = lerp(0.8, 1.2, u[3]);
    j->bold_px = lerp(-0.25, 0.8, u[4]);
    j->dx = lerp(-2, 2, u[5]);
    j->dy = lerp(-2, 2, u[6]);
    j->blur = u[7] < 0.5 ? 0 : lerp(0, 1, u[8]);
    j->ink = lerp(170, 255, u[9]);
    j->paper = lerp(0, 40, u[10]);
    j->noise = lerp(0, 14, u[11]);
}

/* sin and cos of |x| <= 0.25 by their Taylor series (error < 1e-9). */
static void sincos_small(double x, double *s, double *c)
{
    double x2 = x * x;
    *s = x * (1 - x2 / 6 * (1 - x2 / 20 * (1 - x2 / 42 * (1 - x2 / 72))));
    *c = 1 - x2 / 2 * (1 - x2 / 12 * (1 - x2 / 30 * (1 - x2 / 56)));
}

static FT_Fixed fixed16(double v)
{
    double r = v * 65536.0;
    return (FT_Fixed)(r < 0 ? -(long)(0.5 - r) : (long)(r + 0.5));
}

static FT_Pos pos26(double px)
{
    double r = px * 64.0;
    return (FT_Pos)(r < 0 ? -(long)(0.5 - r) : (long)(r + 0.5));
}

int mk_glyph_render(FT_Face face, FT_UInt gi, const mk_jitter *j, uint64_t seed, uint64_t stream, uint64_t key,
                    uint8_t *out, uf_err *e)
{
    if (FT_Load_Glyph(face, gi, FT_LOAD_NO_SCALE) || face->glyph->format != FT_GLYPH_FORMAT_OUTLINE)
        return uf_fail(e, "%s %s: glyph %u does not load as an outline", face->family_name, face->style_name, gi);
    FT_Outline *o = &face->glyph->outline;
    double units = face->units_per_EM > 0 ? face->units_per_EM : 1000, scale = j->em_px / units;
    /* stroke weight in font units, before any scaling */
    FT_Pos bold = (FT_Pos)(j->bold_px / scale);
    if (bold != 0 && FT_Outline_EmboldenXY(o, bold, bold))
        return uf_fail(e, "%s %s: glyph %u cannot be emboldened", face->family_name, face->style_name, gi);
    /* font units -> 26.6 pixels: rotation * shear * aspect * scale */
    double s, c;
    sincos_small(j->angle, &s, &c);
    double a = 64 * scale * j->aspect, d = 64 * scale;
    double m[4] = {c * a, c * j->shear * d - s * d, s * a, s * j->shear * d + c * d};
    FT_Matrix mat = {fixed16(m[0]), fixed16(m[1]), fixed16(m[2]), fixed16(m[3])};
    FT_Outline_Transform(o, &mat);
    FT_BBox box;
    FT_Outline_Get_CBox(o, &box);
    double w = (box.xMax - box.xMin) / 64.0, h = (box.yMax - box.yMin) / 64.0;
    double big = w > h ? w : h;
    if (big > MK_FIT) { /* too large for the canvas: shrink to fit */
        FT_Fixed f = fixed16(MK_FIT / big);
        FT_Matrix shrink = {f, 0, 0, f};
        FT_Outline_Transform(o, &shrink);
        FT_Outline_Get_CBox(o, &box);
    }
    FT_Outline_Translate(o, pos26(MK_SIDE / 2.0 + j->dx) - (box.xMin + box.xMax) / 2,
                         pos26(MK_SIDE / 2.0 + j->dy) - (box.yMin + box.yMax) / 2);
    unsigned char cover[MK_SIDE * MK_SIDE];
    memset(cover, 0, sizeof cover);
    FT_Bitmap bm;
    memset(&bm, 0, sizeof bm);
    bm.rows = MK_SIDE;
    bm.width = MK_SIDE;
    bm.pitch = MK_SIDE;
    bm.buffer = cover;
    bm.num_grays = 256;
    bm.pixel_mode = FT_PIXEL_MODE_GRAY;
    if (FT_Outline_Get_Bitmap(face->glyph->library, o, &bm))
        return uf_fail(e, "%s %s: glyph %u does not rasterise", face->family_name, face->style_name, gi);

    // cover: (32, 32) coverage 0..255 -> out: (32, 32) grey levels
    double v[MK_SIDE * MK_SIDE], t[MK_SIDE * MK_SIDE];
    int peak = 0;
    for (int i = 0; i < MK_SIDE * MK_SIDE; i++)
        peak = cover[i] > peak ? cover[i] : peak;
    if (peak == 0)
        return uf_fail(e, "%s %s: glyph %u leaves no ink", face->family_name, face->style_name, gi);
    /* hairlines thinner than a pixel still reach full ink */
    for (int i = 0; i < MK_SIDE * MK_SIDE; i++)
        v[i] = (double)cover[i] / peak;
    if (j->blur > 0) { /* separable [1 2 1] / 4, edges clamped */
        for (int y = 0; y < MK_SIDE; y++)
            for (int x = 0; x < MK_SIDE; x++) {
                int l = x > 0 ? x - 1 : x, r = x < MK_SIDE - 1 ? x + 1 : x;
                t[y * MK_SIDE + x] = (v[y * MK_SIDE + l] + 2 * v[y * MK_SIDE + x] + v[y * MK_SIDE + r]) / 4;
            }
        for (int y = 0; y < MK_SIDE; y++)
            for (int x = 0; x < MK_SIDE; x++) {
                int u = y > 0 ? y - 1 : y, dn = y < MK_SIDE - 1 ? y + 1 : y;
                double b = (t[u * MK_SIDE + x] + 2 * t[y * MK_SIDE + x] + t[dn * MK_SIDE + x]) / 4;
                v[y * MK_SIDE + x] = (1 - j->blur) * v[y * MK_SIDE + x] + j->blur * b;
            }
    }
    for (int i = 0; i < MK_SIDE * MK_SIDE; i++) {
        /* approximately normal noise: the sum of 4 uniforms (16 bits each of one
         * draw) has mean 2 and variance 1/3 */
        uint64_t r = uf_rng_u64(seed, 2 * stream + 1, key * MK_SIDE * MK_SIDE + (uint64_t)i);
        double n = ((r & 0xffff) + (r >> 16 & 0xffff) + (r >> 32 & 0xffff) + (r >> 48) + 2.0) / 65536.0;
        double g = j->paper + (j->ink - j->paper) * v[i] + j->noise * (n - 2) * 1.7320508075688772;
        out[i] = g <= 0 ? 0 : g >= 255 ? 255 : (uint8_t)(g + 0.5);
    }
    return 0;
}
