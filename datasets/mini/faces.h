/* Font faces of the mini world: the catalogue read from the build script's
 * font list, which characters each face really draws, and per-thread handles. */
#ifndef MK_FACES_H
#define MK_FACES_H

#include <ft2build.h>
#include FT_FREETYPE_H

#include "core/err.h"

enum { MK_ROLE_POOL, MK_ROLE_HAND };

typedef struct mk_face {
    char path[512];
    int index;          /* face index inside a .ttc collection */
    int role;           /* MK_ROLE_* */
    char package[64], version[64];
    char family[96], style[64];
} mk_face;

typedef struct mk_catalog {
    int n;
    mk_face *faces;
} mk_catalog;

/* Reads "role<TAB>package<TAB>version<TAB>path" lines and opens every face
 * of every file. Keeps scalable faces with a Unicode cmap; skips a face whose
 * family and style repeat an earlier one. */
int mk_catalog_load(const char *list, mk_catalog *c, uf_err *e);
void mk_catalog_free(mk_catalog *c);

/* The glyph index that face draws code point cp with, or 0 when it does not
 * really draw it: unmapped, not an outline, empty, or an outline identical to
 * the face's .notdef glyph (a box that some fonts map to characters they lack). */
FT_UInt mk_face_glyph(FT_Face face, unsigned cp);

/* One thread's FreeType library and its lazily opened faces (FreeType
 * objects must not be shared between threads). */
typedef struct mk_faces {
    FT_Library lib;
    const mk_catalog *cat;
    FT_Face *open; /* (cat->n), NULL until first used */
} mk_faces;

int mk_faces_init(mk_faces *f, const mk_catalog *cat, uf_err *e);
/* The face with catalogue index i, opened on first use. */
int mk_faces_get(mk_faces *f, int i, FT_Face *face, uf_err *e);
void mk_faces_free(mk_faces *f);

#endif
