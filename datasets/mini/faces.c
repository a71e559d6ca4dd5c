#define _POSIX_C_SOURCE 200809L
#include "faces.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include FT_OUTLINE_H

static int open_face(FT_Library lib, const char *path, int index, FT_Face *face, uf_err *e)
{
    FT_Error err = FT_New_Face(lib, path, index, face);
    if (err)
        return uf_fail(e, "%s: FreeType cannot open face %d (error %d)", path, index, err);
    if (FT_Select_Charmap(*face, FT_ENCODING_UNICODE)) {
        FT_Done_Face(*face);
        *face = NULL;
    }
    return 0;
}

static int add_face(mk_catalog *c, int *cap, const mk_face *f, uf_err *e)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->faces[i].family, f->family) == 0 && strcmp(c->faces[i].style, f->style) == 0)
            return 0;
    if (c->n == *cap) {
        *cap = *cap ? 2 * *cap : 256;
        mk_face *p = realloc(c->faces, sizeof *p * (size_t)*cap);
        if (!p)
            return uf_fail(e, "out of memory");
        c->faces = p;
    }
    c->faces[c->n++] = *f;
    return 0;
}

int mk_catalog_load(const char *list, mk_catalog *c, uf_err *e)
{
    memset(c, 0, sizeof *c);
    FILE *in = fopen(list, "r");
    if (!in)
        return uf_fail(e, "%s: cannot open the font list", list);
    FT_Library lib;
    if (FT_Init_FreeType(&lib)) {
        fclose(in);
        return uf_fail(e, "FreeType does not initialise");
    }
    char line[1024];
    int cap = 0, lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, in)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        mk_face f;
        memset(&f, 0, sizeof f);
        char role[16];
        if (sscanf(line, "%15[^\t]\t%63[^\t]\t%63[^\t]\t%511[^\t]", role, f.package, f.version, f.path) != 4 ||
            (strcmp(role, "pool") != 0 && strcmp(role, "hand") != 0)) {
            rc = uf_fail(e, "%s:%d: expected role<TAB>package<TAB>version<TAB>path", list, lineno);
            break;
        }
        f.role = strcmp(role, "pool") == 0 ? MK_ROLE_POOL : MK_ROLE_HAND;
        for (int idx = 0, nfaces = 1; rc == 0 && idx < nfaces; idx++) {
            FT_Face face;
            if ((rc = open_face(lib, f.path, idx, &face, e)) != 0)
                break;
            if (!face)
                continue; /* no Unicode cmap: a symbol-encoded font */
            nfaces = (int)face->num_faces;
            f.index = idx;
            snprintf(f.family, sizeof f.family, "%s", face->family_name ? face->family_name : "?");
            snprintf(f.style, sizeof f.style, "%s", face->style_name ? face->style_name : "?");
            if (FT_IS_SCALABLE(face))
                rc = add_face(c, &cap, &f, e);
            FT_Done_Face(face);
        }
    }
    fclose(in);
    FT_Done_FreeType(lib);
    if (rc == 0 && c->n == 0)
        rc = uf_fail(e, "%s: no usable font face", list);
    if (rc)
        mk_catalog_free(c);
    return rc;
}

void mk_catalog_free(mk_catalog *c)
{
    free(c->faces);
    memset(c, 0, sizeof *c);
}

static int same_outline(const FT_Outline *a, const FT_Outline *b)
{
    return a->n_points == b->n_points && a->n_contours == b->n_contours &&
           memcmp(a->points, b->points, sizeof *a->points * (size_t)a->n_points) == 0 &&
           memcmp(a->contours, b->contours, sizeof *a->contours * (size_t)a->n_contours) == 0;
}

FT_UInt mk_face_glyph(FT_Face face, unsigned cp)
{
    FT_UInt gi = FT_Get_Char_Index(face, cp);
    if (gi == 0 || FT_Load_Glyph(face, 0, FT_LOAD_NO_SCALE))
        return 0;
    FT_Outline notdef;
    if (face->glyph->format != FT_GLYPH_FORMAT_OUTLINE ||
        FT_Outline_New(face->glyph->library, (FT_UInt)face->glyph->outline.n_points,
                       face->glyph->outline.n_contours, &notdef))
        notdef.n_points = -1; /* nothing to compare with */
    else
        FT_Outline_Copy(&face->glyph->outline, &notdef);
    int ok = FT_Load_Glyph(face, gi, FT_LOAD_NO_SCALE) == 0 && face->glyph->format == FT_GLYPH_FORMAT_OUTLINE &&
             face->glyph->outline.n_contours > 0 && face->glyph->outline.n_points > 2 &&
             !(notdef.n_points >= 0 && same_outline(&face->glyph->outline, &notdef));
    if (notdef.n_points >= 0)
        FT_Outline_Done(face->glyph->library, &notdef);
    return ok ? gi : 0;
}

int mk_faces_init(mk_faces *f, const mk_catalog *cat, uf_err *e)
{
    memset(f, 0, sizeof *f);
    f->cat = cat;
    f->open = calloc((size_t)cat->n + 1, sizeof *f->open);
    if (!f->open || FT_Init_FreeType(&f->lib)) {
        free(f->open);
        return uf_fail(e, "FreeType does not initialise");
    }
    return 0;
}

int mk_faces_get(mk_faces *f, int i, FT_Face *face, uf_err *e)
{
    if (!f->open[i]) {
        if (open_face(f->lib, f->cat->faces[i].path, f->cat->faces[i].index, &f->open[i], e))
            return -1;
        if (!f->open[i])
            return uf_fail(e, "%s: face %d lost its Unicode cmap", f->cat->faces[i].path, f->cat->faces[i].index);
    }
    *face = f->open[i];
    return 0;
}

void mk_faces_free(mk_faces *f)
{
    if (f->open)
        for (int i = 0; i < f->cat->n; i++)
            if (f->open[i])
                FT_Done_Face(f->open[i]);
    free(f->open);
    if (f->lib)
        FT_Done_FreeType(f->lib);
    memset(f, 0, sizeof *f);
}
