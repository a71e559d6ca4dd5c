#define _XOPEN_SOURCE 700
#include "manifest.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/alloc.h"
#include "../core/fileio.h"

#define MAX_DEPTH 8

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/* The entry section/key; key NULL: the section's first entry. */
static uf_kv *find(const uf_manifest *m, const char *section, const char *key)
{
    for (int i = 0; i < m->nkv; i++)
        if (strcmp(m->kv[i].section, section) == 0 && (!key || strcmp(m->kv[i].key, key) == 0))
            return &m->kv[i];
    return NULL;
}

typedef struct {
    uf_manifest *m;
    char dup[256]; /* first duplicate key, reported after parsing */
    int failed;    /* an allocation failed: err says which (inih only hears "stop") */
    uf_err err;
} parse_ctx;

static int on_entry(void *user, const char *section, const char *key, const char *value)
{
    parse_ctx *ctx = user;
    uf_manifest *m = ctx->m;
    uf_kv *old = find(m, section, key);
    if (old) {
        /* inih reports continuation lines as repeated keys: only lists may span lines */
        if (strcmp(section, "grid") != 0 && strncmp(section, "tier.", 5) != 0) {
            if (!ctx->dup[0])
                snprintf(ctx->dup, sizeof ctx->dup, "[%s] %s", section, key);
            return 0;
        }
        size_t n = strlen(old->value) + strlen(value) + 2;
        char *v = uf_alloc(n, &ctx->err);
        if (!v)
            return ctx->failed = 1, 0;
        snprintf(v, n, "%s,%s", old->value, value);
        free(old->value);
        old->value = v;
        return 1;
    }
    uf_kv *kv = uf_realloc(m->kv, (size_t)m->nkv + 1, sizeof *kv, &ctx->err);
    if (!kv)
        return ctx->failed = 1, 0;
    m->kv = kv;
    uf_kv *n = &kv[m->nkv++]; /* counted at once, so uf_manifest_free frees a partly filled entry */
    *n = (uf_kv){NULL, NULL, NULL};
    if (!(n->section = uf_strdup(section, &ctx->err)) || !(n->key = uf_strdup(key, &ctx->err)) ||
        !(n->value = uf_strdup(value, &ctx->err)))
        return ctx->failed = 1, 0;
    return 1;
}

static void free_list(char **items, int n)
{
    for (int i = 0; i < n; i++)
        free(items[i]);
    free(items);
}

/* Splits a comma/newline list into trimmed, non-empty items; returns their count, or -1. */
static int split_list(const char *list, char ***out, uf_err *e)
{
    *out = NULL;
    char *copy = uf_strdup(list, e);
    if (!copy)
        return -1;
    int n = 0, rc = 0;
    char **items = NULL;
    for (char *save = NULL, *tok = strtok_r(copy, ",\n", &save); tok && !rc; tok = strtok_r(NULL, ",\n", &save)) {
        char *t = trim(tok);
        if (!*t)
            continue;
        char **more = uf_realloc(items, (size_t)n + 1, sizeof *items, e);
        if (more)
            items = more;
        if (!more || !(items[n] = uf_strdup(t, e)))
            rc = -1;
        else
            n++;
    }
    free(copy);
    if (rc) {
        free_list(items, n);
        return -1;
    }
    *out = items;
    return n;
}

/* Whether the comma/newline list has the item (no copies: nothing to fail). */
static int list_has(const char *list, const char *item)
{
    size_t len = strlen(item);
    for (const char *p = list; *p;) {
        p += strspn(p, ", \t\r\n");
        size_t k = strcspn(p, ",\n");
        while (k && isspace((unsigned char)p[k - 1]))
            k--;
        if (k == len && strncmp(p, item, len) == 0)
            return 1;
        p += strcspn(p, ",\n");
    }
    return 0;
}

const char *uf_manifest_raw(const uf_manifest *m, const char *section, const char *key)
{
    const uf_kv *kv = find(m, section, key);
    return kv ? kv->value : NULL;
}

int uf_manifest_axis(const uf_manifest *m, const char *name)
{
    for (int a = 0; a < m->naxes; a++)
        if (strcmp(m->axes[a].name, name) == 0)
            return a;
    return -1;
}

const char *uf_manifest_meta(const uf_manifest *m, const char *key, const char *def)
{
    const char *v = uf_manifest_raw(m, "experiment", key);
    return v ? v : def;
}

int uf_manifest_has_tier(const uf_manifest *m, const char *tier)
{
    return list_has(uf_manifest_meta(m, "tiers", ""), tier);
}

/* A grid's job count is bounded, so that it cannot overflow a long and a mistyped or hostile
 * manifest is refused at once instead of starting a run with an ETA of years. */
static int check_jobs(const uf_manifest *m, uf_err *e)
{
    long n = 1;
    for (int a = 0; a < m->naxes; a++) {
        if (m->axes[a].n > UF_MAX_JOBS / n)
            return uf_fail(e, "%s: the grid has more than %ld jobs (the product of its axes' sizes, at axis '%s'); "
                              "split the experiment", m->path, (long)UF_MAX_JOBS, m->axes[a].name);
        n *= m->axes[a].n;
    }
    return 0;
}

/* --set AXIS=v1,v2: the axis takes these values (--set seed=0: a quick pass with one seed) */
static int set_axis(const uf_manifest *m, uf_axis *ax, const char *list, uf_err *e)
{
    char **values;
    int n = split_list(list, &values, e);
    if (n < 0)
        return -1;
    if (n == 0) {
        free(values);
        return uf_fail(e, "--set %s=: an axis needs at least one value", ax->name);
    }
    free_list(ax->values, ax->n);
    ax->values = values;
    ax->n = n;
    return check_jobs(m, e);
}

int uf_manifest_set(uf_manifest *m, const char *assignment, uf_err *e)
{
    const char *eq = strchr(assignment, '=');
    char key[256];
    if (!eq || eq == assignment || (size_t)(eq - assignment) >= sizeof key)
        return uf_fail(e, "'%s': expected KEY=VALUE", assignment);
    memcpy(key, assignment, (size_t)(eq - assignment));
    key[eq - assignment] = '\0';
    char *k = trim(key);
    for (int a = 0; a < m->naxes; a++)
        if (strcmp(m->axes[a].name, k) == 0)
            return set_axis(m, &m->axes[a], eq + 1, e);
    uf_kv *old = find(m, "--set", k);
    if (old) {
        char *v = uf_strdup(eq + 1, e);
        if (!v)
            return -1;
        free(old->value);
        old->value = v;
        return 0;
    }
    parse_ctx ctx = {.m = m};
    if (on_entry(&ctx, "--set", k, eq + 1))
        return 0;
    *e = ctx.err;
    return -1;
}

/* path, tier and the project root: the manifest's folder, or the one above experiments/ */
static int set_paths(uf_manifest *m, const char *path, const char *tier, uf_err *e)
{
    char real[PATH_MAX];
    if (!realpath(path, real))
        return uf_fail(e, "%s: %s", path, strerror(errno));
    char *dir = dirname(real);
    if (strcmp(strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir, "experiments") == 0)
        dir = dirname(dir);
    if (!(m->path = uf_strdup(path, e)) || !(m->tier = uf_strdup(tier, e)) || !(m->root = uf_strdup(dir, e)))
        return -1;
    return 0;
}

/* The [grid] axes, with [tier.T]'s replacements of their values. */
static int load_axes(uf_manifest *m, uf_err *e)
{
    char tsec[128];
    snprintf(tsec, sizeof tsec, "tier.%s", m->tier);
    for (int i = 0; i < m->nkv; i++) {
        if (strcmp(m->kv[i].section, "grid") != 0)
            continue;
        if (m->naxes == UF_MAX_AXES)
            return uf_fail(e, "%s: more than %d grid axes", m->path, UF_MAX_AXES);
        uf_axis *ax = &m->axes[m->naxes++];
        if (!(ax->name = uf_strdup(m->kv[i].key, e)))
            return -1;
        const char *over = uf_manifest_raw(m, tsec, ax->name);
        if ((ax->n = split_list(over ? over : m->kv[i].value, &ax->values, e)) < 0) {
            ax->n = 0;
            return -1;
        }
        if (ax->n == 0)
            return uf_fail(e, "%s: grid axis '%s' has no values", m->path, ax->name);
    }
    return 0;
}

static int parse_file(const char *path, uf_manifest *m, uf_err *e)
{
    parse_ctx ctx = {.m = m};
    int rc = ini_parse(path, on_entry, &ctx);
    if (rc == 0)
        return 0;
    if (ctx.failed)
        *e = ctx.err;
    else if (ctx.dup[0])
        uf_fail(e, "%s: duplicate key %s", path, ctx.dup);
    else if (rc < 0)
        uf_fail(e, "%s: cannot read: %s", path, strerror(errno));
    else
        uf_fail(e, "%s:%d: malformed line (expected [section] or key = value, at most 197 characters)", path, rc);
    return -1;
}

/* [experiment] include = FILE, ...: settings shared by several manifests (experiments/common/),
 * relative to the project root. The manifest's own entries win, and so do its grid axes (an
 * included `top = 40` does not replace a `top` axis); an included file's [grid] and [experiment]
 * are not taken (a manifest says itself what it computes). */
static int load_includes(uf_manifest *m, uf_err *e)
{
    const char *list = uf_manifest_meta(m, "include", NULL);
    char **files;
    int nf = list ? split_list(list, &files, e) : 0, rc = nf < 0 ? -1 : 0;
    for (int f = 0; f < nf && !rc; f++) {
        char path[PATH_MAX];
        uf_manifest inc;
        memset(&inc, 0, sizeof inc);
        snprintf(path, sizeof path, "%s/%s", m->root, files[f]);
        if (!uf_is_file(path))
            rc = uf_fail(e, "%s: include %s: no such file", m->path, path);
        else if (parse_file(path, &inc, e) == 0) {
            parse_ctx ctx = {.m = m};
            for (int i = 0; i < inc.nkv && !rc; i++) {
                const uf_kv *kv = &inc.kv[i];
                if (strcmp(kv->section, "grid") && strcmp(kv->section, "experiment") && !find(m, kv->section, kv->key) &&
                    !find(m, "grid", kv->key) && !on_entry(&ctx, kv->section, kv->key, kv->value))
                    rc = (*e = ctx.err, -1);
            }
        } else {
            rc = -1;
        }
        uf_manifest_free(&inc);
    }
    if (nf > 0)
        free_list(files, nf);
    return rc;
}

int uf_manifest_load(const char *path, const char *tier, uf_manifest *m, uf_err *e)
{
    memset(m, 0, sizeof *m);
    if (!uf_is_file(path))
        return uf_fail(e, "%s: no such manifest", path);
    int rc = parse_file(path, m, e) || set_paths(m, path, tier, e) || load_includes(m, e) ? -1 : 0;
    if (!rc && (!uf_manifest_meta(m, "name", NULL) || !uf_manifest_meta(m, "task", NULL)))
        rc = uf_fail(e, "%s: [experiment] needs name and task", path);
    if (!rc && !uf_manifest_has_tier(m, tier))
        rc = uf_fail(e, "%s: no tier '%s' (tiers: %s)", path, tier, uf_manifest_meta(m, "tiers", "none listed"));
    if (rc || load_axes(m, e) || check_jobs(m, e)) {
        uf_manifest_free(m);
        return -1;
    }
    return 0;
}

void uf_manifest_free(uf_manifest *m)
{
    for (int i = 0; i < m->nkv; i++) {
        free(m->kv[i].section);
        free(m->kv[i].key);
        free(m->kv[i].value);
    }
    free(m->kv);
    for (int a = 0; a < m->naxes; a++) {
        free(m->axes[a].name);
        free_list(m->axes[a].values, m->axes[a].n);
    }
    free(m->path);
    free(m->root);
    free(m->tier);
    memset(m, 0, sizeof *m);
}

long uf_manifest_njobs(const uf_manifest *m)
{
    long n = 1;
    for (int a = 0; a < m->naxes; a++)
        n *= m->axes[a].n;
    return n;
}

void uf_manifest_job(const uf_manifest *m, long j, int *coords)
{
    for (int a = m->naxes - 1; a >= 0; a--) {
        coords[a] = (int)(j % m->axes[a].n);
        j /= m->axes[a].n;
    }
}

/* The raw (unsubstituted) value a job sees for key, or NULL. */
/* --set first; then a key for the job's cell (".<axis value>") in the tier, then in [settings], before
 * a plain key in the tier, then in [settings]: shared settings say what an approach is
 * (`recipe.uot = labelled`) once for every tier, and a tier's plain default does not hide them. */
static const char *lookup(const uf_manifest *m, const int *coords, const char *key)
{
    for (int a = 0; a < m->naxes; a++)
        if (strcmp(m->axes[a].name, key) == 0)
            return m->axes[a].values[coords[a]];
    char tsec[128], sk[512];
    snprintf(tsec, sizeof tsec, "tier.%s", m->tier);
    const struct { const char *section; int suffixed; } order[] = {
        {"--set", 1}, {"--set", 0}, {tsec, 1}, {"settings", 1}, {tsec, 0}, {"settings", 0}};
    for (size_t s = 0; s < sizeof order / sizeof order[0]; s++) {
        for (int a = 0; a < m->naxes && order[s].suffixed; a++) {
            snprintf(sk, sizeof sk, "%s.%s", key, m->axes[a].values[coords[a]]);
            const char *v = uf_manifest_raw(m, order[s].section, sk);
            if (v)
                return v;
        }
        const char *v = order[s].suffixed ? NULL : uf_manifest_raw(m, order[s].section, key);
        if (v)
            return v;
    }
    return NULL;
}

/* Picks the first of the alternatives "a | b | ..." that exists, relative
 * to the project root; alts is modified. Returns 1 when none exists. */
static int first_existing(const uf_manifest *m, char *alts, char *buf, size_t n)
{
    char *save = NULL;
    for (char *alt = strtok_r(alts, "|", &save); alt; alt = strtok_r(NULL, "|", &save)) {
        char *t = trim(alt);
        int w = t[0] == '/' ? snprintf(buf, n, "%s", t) : snprintf(buf, n, "%s/%s", m->root, t);
        struct stat st;
        if (w >= 0 && (size_t)w < n && stat(buf, &st) == 0)
            return 0;
    }
    return 1;
}

/* The '}' that closes the '{' at open, nested pairs skipped; NULL if none. */
static const char *closing_brace(const char *open)
{
    int depth = 0;
    for (const char *p = open; *p; p++)
        if (*p == '{')
            depth++;
        else if (*p == '}' && --depth == 0)
            return p;
    return NULL;
}

static int expand(const uf_manifest *m, const int *coords, const char *in, char *out, size_t n, int depth,
                  uf_err *e)
{
    size_t k = 0;
    for (const char *p = in; *p; p++) {
        if (*p == '{') {
            const char *end = closing_brace(p);
            if (!end)
                return uf_fail(e, "%s: unclosed '{' in '%s'", m->path, in);
            char inner[256], name[256];
            size_t len = (size_t)(end - p - 1);
            if (len >= sizeof inner)
                return uf_fail(e, "%s: name too long in '%s'", m->path, in);
            memcpy(inner, p + 1, len);
            inner[len] = '\0';
            /* a name may itself hold substitutions: {lr_{recipe}} */
            if (depth >= MAX_DEPTH || expand(m, coords, inner, name, sizeof name, depth + 1, e))
                return depth >= MAX_DEPTH ? uf_fail(e, "%s: substitutions nest too deep in '%s'", m->path, in) : -1;
            const char *v = lookup(m, coords, name);
            if (!v)
                return uf_fail(e, "%s: '{%s}' in '%s' names no axis or setting", m->path, name, in);
            if (depth >= MAX_DEPTH)
                return uf_fail(e, "%s: substitutions nest too deep at '{%s}'", m->path, name);
            char sub[4096], alts[4096];
            if (expand(m, coords, v, sub, sizeof sub, depth + 1, e))
                return -1;
            if (strchr(sub, '|')) { /* a path with alternatives: substitute the one that exists */
                memcpy(alts, sub, sizeof alts);
                if (first_existing(m, alts, sub, sizeof sub))
                    return uf_fail(e, "%s: none of '%s' (setting '%s') exists; see REPRODUCE.md for how to get it",
                                   m->path, v, name);
            }
            size_t sl = strlen(sub);
            if (k + sl >= n)
                return uf_fail(e, "%s: value too long after substitution: '%s'", m->path, in);
            memcpy(out + k, sub, sl);
            k += sl;
            p = end;
        } else {
            if (k + 1 >= n)
                return uf_fail(e, "%s: value too long: '%s'", m->path, in);
            out[k++] = *p;
        }
    }
    out[k] = '\0';
    return 0;
}

int uf_job_get(const uf_manifest *m, const int *coords, const char *key, int required, char *buf, size_t n,
               uf_err *e)
{
    const char *v = lookup(m, coords, key);
    if (!v) {
        if (required)
            return uf_fail(e, "%s: setting '%s' is missing for tier %s", m->path, key, m->tier);
        return 1;
    }
    return expand(m, coords, v, buf, n, 0, e);
}

int uf_job_path(const uf_manifest *m, const int *coords, const char *key, char *buf, size_t n, uf_err *e)
{
    char val[4096];
    if (uf_job_get(m, coords, key, 1, val, sizeof val, e))
        return -1;
    char alts[4096];
    memcpy(alts, val, sizeof alts);
    if (first_existing(m, alts, buf, n) == 0)
        return 0;
    return uf_fail(e, "%s: %s: '%s' does not exist (relative paths are relative to %s); see REPRODUCE.md",
                   m->path, key, val, m->root);
}

int uf_job_double(const uf_manifest *m, const int *coords, const char *key, double def, double *out, uf_err *e)
{
    char v[256];
    int rc = uf_job_get(m, coords, key, 0, v, sizeof v, e);
    if (rc < 0)
        return -1;
    if (rc == 1) {
        *out = def;
        return 0;
    }
    char *end;
    *out = strtod(v, &end);
    if (end == v || *trim(end))
        return uf_fail(e, "%s: %s = '%s' is not a number", m->path, key, v);
    return 0;
}

int uf_job_long(const uf_manifest *m, const int *coords, const char *key, long def, long *out, uf_err *e)
{
    double v;
    if (uf_job_double(m, coords, key, (double)def, &v, e))
        return -1;
    if (v != (double)(long)v)
        return uf_fail(e, "%s: %s = %g is not an integer", m->path, key, v);
    *out = (long)v;
    return 0;
}
