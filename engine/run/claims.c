/* The paper's claims tested on a run's numbers (claims.h): each [claims] entry is parsed into a
 * claim, evaluated on the results table, and becomes a row of the report's claims table. All
 * entries are evaluated before anything is written, so a malformed one leaves no half table. */
#define _POSIX_C_SOURCE 200809L
#include "claims.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"

enum {
    MAX_VALUES = 64, /* values of an axis a claim names or walks: one bit each in a selector */
    MAX_TERMS = 8,
    TEXT_LEN = 256,
};
#define ANY UINT64_MAX
/* Accuracies have 2 decimals: means this close are equal and a mean this close to a bound is on
 * it (the rest is the rounding of the sums), so "+0.00" never reads as above 0, "0.50" as beyond
 * ~ 0.5, nor two equal means as ranked. */
#define NEAR 1e-9

typedef struct selector {
    uint64_t allow[UF_MAX_AXES]; /* bit v: the axis's value v matches (ANY: no condition on the axis) */
    char text[TEXT_LEN];         /* as written, for messages */
} selector;

enum form { LINEAR, EACH, PEAK, TREND, ORDERED };
enum op { GREATER, AT_LEAST, ABOUT };

typedef struct claim {
    enum form form;
    int nterms, sign[MAX_TERMS]; /* LINEAR, EACH: the sum of sign[t] * term[t] */
    selector term[MAX_TERMS];
    enum op op;
    double tolerance; /* ABOUT: holds when |mean| <= tolerance */
    int axis;         /* the axis EACH, PEAK, TREND and ORDERED walk */
    selector where;   /* PEAK, TREND, ORDERED: the rows they average */
    int direction;    /* TREND: -1 decreasing, +1 increasing */
    int column;       /* ORDERED: the table column the accuracy is ranked against */
} claim;

typedef struct results {
    const uf_manifest *m;
    const uf_table *t;
    int nrows, seed_axis, nseeds; /* seed_axis -1: no seed axis, all rows are one seed */
    int *coords;                  /* row r's index in axis a's values at r * naxes + a; -1: not a grid value */
    double *value;                /* row r's accuracy; NAN where the cell is empty */
    double *paired;               /* scratch: one difference per seed */
} results;

typedef struct diff {
    double mean, sd;
    int nseeds, holds;
} diff;

/* A claim's row of the report. */
typedef struct verdict {
    const char *line; /* the manifest's "TEXT | EXPRESSION" */
    char shown[TEXT_LEN];
    int holds;
    int untested; /* no results to test it on; shown says why */
} verdict;

/* ---- parsing ---- */

static char *trim(char *s)
{
    s += strspn(s, " \t");
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* The next white-space-delimited word of *p, cut off in place ("" at the end). */
static char *next_word(char **p)
{
    char *word = *p + strspn(*p, " \t");
    char *end = word + strcspn(word, " \t");
    *p = *end ? end + 1 : end;
    *end = '\0';
    return word;
}

/* Whether *p starts with the word k; if so *p moves past it. */
static int keyword(char **p, const char *k)
{
    size_t n = strlen(k);
    if (strncmp(*p, k, n) != 0 || !isspace((unsigned char)(*p)[n]))
        return 0;
    *p += n;
    return 1;
}

static int value_index(const uf_axis *ax, const char *value)
{
    for (int v = 0; v < ax->n; v++)
        if (strcmp(ax->values[v], value) == 0)
            return v;
    return -1;
}

static void match_all(selector *s)
{
    for (int a = 0; a < UF_MAX_AXES; a++)
        s->allow[a] = ANY;
    s->text[0] = '\0';
}

/* "axis=v1|v2" narrows s to those values of the axis. */
static int parse_condition(const uf_manifest *m, char *cond, selector *s, uf_err *e)
{
    char *eq = strchr(cond, '=');
    if (!eq)
        return uf_fail(e, "selector '%s': '%s' is not axis=value", s->text, trim(cond));
    *eq = '\0';
    const char *name = trim(cond);
    int a = uf_manifest_axis(m, name);
    if (a < 0)
        return uf_fail(e, "selector '%s': no grid axis '%s'", s->text, name);
    uint64_t set = 0;
    char *save = NULL;
    for (char *tok = strtok_r(eq + 1, "|", &save); tok; tok = strtok_r(NULL, "|", &save)) {
        const char *value = trim(tok);
        int v = value_index(&m->axes[a], value);
        if (v < 0)
            return uf_fail(e, "selector '%s': '%s' is not a value of axis %s in tier %s", s->text, value, name,
                           m->tier);
        if (v >= MAX_VALUES)
            return uf_fail(e, "selector '%s': a claim can name the first %d values of an axis only", s->text,
                           MAX_VALUES);
        set |= (uint64_t)1 << v;
    }
    if (!set)
        return uf_fail(e, "selector '%s': no value for axis %s", s->text, name);
    s->allow[a] &= set; /* an axis named twice: both conditions */
    return 0;
}

/* "axis=value, axis=v1|v2, ..." (AND); every name must be in the grid, so that a typo is an error
 * instead of a claim silently tested on no rows. */
static int parse_selector(const uf_manifest *m, char *text, selector *s, uf_err *e)
{
    match_all(s);
    text = trim(text);
    snprintf(s->text, sizeof s->text, "%s", text);
    if (!*text)
        return uf_fail(e, "an empty selector (expected axis=value)");
    char *save = NULL;
    for (char *cond = strtok_r(text, ",", &save); cond; cond = strtok_r(NULL, ",", &save))
        if (parse_condition(m, cond, s, e))
            return -1;
    return 0;
}

/* The next '+' or '-' between terms: one with white space on both sides (or at the end, where it
 * lacks its term), so that values such as uot-l2 or moco-v2-resnet50 keep theirs. */
static char *next_sign(char *p)
{
    for (char *s = p; *s; s++) {
        int spaced = s > p && isspace((unsigned char)s[-1]) && (!s[1] || isspace((unsigned char)s[1]));
        if ((*s == '+' || *s == '-') && spaced)
            return s;
    }
    return NULL;
}

/* "[-] TERM (+|-) TERM ..." */
static int parse_terms(const uf_manifest *m, char *text, claim *c, uf_err *e)
{
    char *p = trim(text);
    int sign = 1;
    if (*p == '-') {
        sign = -1;
        p++;
    }
    for (c->nterms = 0;;) {
        char *sep = next_sign(p);
        int next = sep && *sep == '-' ? -1 : 1;
        if (sep)
            *sep = '\0';
        if (c->nterms == MAX_TERMS)
            return uf_fail(e, "more than %d terms", MAX_TERMS);
        c->sign[c->nterms] = sign;
        if (parse_selector(m, p, &c->term[c->nterms++], e))
            return -1;
        if (!sep)
            return 0;
        sign = next;
        p = sep + 1;
    }
}

/* "TERMS > 0", "TERMS >= 0" or "TERMS ~ T" */
static int parse_linear(const uf_manifest *m, char *text, claim *c, uf_err *e)
{
    char *op = strpbrk(text, ">~"), *end;
    if (!op)
        return uf_fail(e, "'%s' has no comparison ('> 0', '>= 0' or '~ T' at the end)", trim(text));
    c->op = *op == '~' ? ABOUT : op[1] == '=' ? AT_LEAST : GREATER;
    char *bound = op + 1 + (c->op == AT_LEAST);
    c->tolerance = strtod(bound, &end);
    if (end == bound || *trim(end) || !(c->tolerance >= 0) || (c->op != ABOUT && c->tolerance != 0))
        return uf_fail(e, "'%s': the comparison must be '> 0', '>= 0' or '~ T' with T a number >= 0", trim(op));
    *op = '\0';
    c->form = LINEAR;
    return parse_terms(m, text, c, e);
}

/* An axis a claim walks: one bit per value in a selector. */
static int walk_axis(const uf_manifest *m, const char *name, int *axis, uf_err *e)
{
    if ((*axis = uf_manifest_axis(m, name)) < 0)
        return uf_fail(e, "no grid axis '%s'", name);
    if (m->axes[*axis].n > MAX_VALUES)
        return uf_fail(e, "axis %s has %d values; a claim can walk %d at most", name, m->axes[*axis].n, MAX_VALUES);
    return 0;
}

/* "" (every row) or "where SELECTOR" */
static int parse_where(const uf_manifest *m, char *rest, selector *where, uf_err *e)
{
    char *p = trim(rest);
    match_all(where);
    if (!*p)
        return 0;
    const char *word = next_word(&p);
    if (strcmp(word, "where") != 0)
        return uf_fail(e, "expected 'where SELECTOR' or nothing after the axis, not '%s'", word);
    return parse_selector(m, p, where, e);
}

static int parse_each(const uf_manifest *m, char *p, claim *c, uf_err *e)
{
    char *colon = strchr(p, ':');
    if (!colon)
        return uf_fail(e, "expected 'each AXIS: DIFFERENCE'");
    *colon = '\0';
    if (walk_axis(m, trim(p), &c->axis, e) || parse_linear(m, colon + 1, c, e))
        return -1;
    c->form = EACH;
    return 0;
}

/* "AXIS [where SELECTOR] decreasing|increasing" */
static int parse_trend(const uf_manifest *m, char *p, claim *c, uf_err *e)
{
    p = trim(p);
    char *last = p + strlen(p);
    while (last > p && !isspace((unsigned char)last[-1]))
        last--;
    c->direction = strcmp(last, "decreasing") == 0 ? -1 : strcmp(last, "increasing") == 0 ? 1 : 0;
    if (!c->direction)
        return uf_fail(e, "expected 'trend AXIS [where SELECTOR] decreasing' (or increasing)");
    *last = '\0';
    c->form = TREND;
    return walk_axis(m, next_word(&p), &c->axis, e) || parse_where(m, p, &c->where, e) ? -1 : 0;
}

/* "AXIS by COLUMN [where SELECTOR]" */
static int parse_ordered(const results *d, char *p, claim *c, uf_err *e)
{
    c->form = ORDERED;
    if (walk_axis(d->m, next_word(&p), &c->axis, e))
        return -1;
    if (strcmp(next_word(&p), "by") != 0)
        return uf_fail(e, "expected 'ordered AXIS by COLUMN [where SELECTOR]'");
    const char *column = next_word(&p);
    if ((c->column = uf_table_col(d->t, column)) < 0)
        return uf_fail(e, "the results have no column '%s'", column);
    return parse_where(d->m, p, &c->where, e);
}

static int parse_claim(const results *d, char *expr, claim *c, uf_err *e)
{
    char *p = trim(expr);
    memset(c, 0, sizeof *c);
    if (keyword(&p, "each"))
        return parse_each(d->m, p, c, e);
    if (keyword(&p, "peak")) {
        c->form = PEAK;
        return walk_axis(d->m, next_word(&p), &c->axis, e) || parse_where(d->m, p, &c->where, e) ? -1 : 0;
    }
    if (keyword(&p, "trend"))
        return parse_trend(d->m, p, c, e);
    if (keyword(&p, "ordered"))
        return parse_ordered(d, p, c, e);
    return parse_linear(d->m, p, c, e);
}

/* ---- evaluation ---- */

/* s with axis=value added (AND): what EACH, PEAK, TREND and ORDERED evaluate at each value. */
static selector narrowed(const selector *s, const uf_manifest *m, int axis, int value)
{
    selector n = *s;
    if (axis < 0)
        return n;
    n.allow[axis] &= (uint64_t)1 << value;
    size_t len = strlen(n.text);
    snprintf(n.text + len, sizeof n.text - len, "%s%s=%s", len ? ", " : "", m->axes[axis].name,
             m->axes[axis].values[value]);
    return n;
}

static int no_result(const selector *s, uf_err *e)
{
    return uf_fail(e, "selector '%s' matches no result", s->text[0] ? s->text : "(every row)");
}

static int row_matches(const results *d, int r, const selector *s, int seed)
{
    const int *at = d->coords + (long)r * d->m->naxes;
    if (d->seed_axis >= 0 && at[d->seed_axis] != seed)
        return 0;
    for (int a = 0; a < d->m->naxes; a++)
        if (s->allow[a] != ANY && (at[a] < 0 || at[a] >= MAX_VALUES || !(s->allow[a] >> at[a] & 1)))
            return 0;
    return 1;
}

/* Mean of col over the rows the selector matches with this seed; NAN when there is none. */
static double seed_mean(const results *d, const selector *s, const double *col, int seed)
{
    double sum = 0;
    int n = 0;
    for (int r = 0; r < d->nrows; r++)
        if (!isnan(col[r]) && row_matches(d, r, s, seed)) {
            sum += col[r];
            n++;
        }
    return n ? sum / n : NAN;
}

/* For each value of the axis, the mean over seeds of the selector's seed means with axis=value,
 * NAN where it matches nothing: an error when need_all, since no claim can be read then. */
static int axis_means(const results *d, const selector *where, int axis, const double *col, int need_all,
                      double *out, uf_err *e)
{
    for (int v = 0; v < d->m->axes[axis].n; v++) {
        selector s = narrowed(where, d->m, axis, v);
        double sum = 0;
        int n = 0;
        for (int seed = 0; seed < d->nseeds; seed++) {
            double x = seed_mean(d, &s, col, seed);
            if (!isnan(x)) {
                sum += x;
                n++;
            }
        }
        out[v] = n ? sum / n : NAN;
        if (!n && need_all)
            return no_result(&s, e);
    }
    return 0;
}

/* Mean and sample standard deviation (n - 1; 0 for one value). */
static void mean_sd(const double *x, int n, double *mean, double *sd)
{
    double sum = 0, ss = 0;
    for (int i = 0; i < n; i++)
        sum += x[i];
    *mean = sum / n;
    for (int i = 0; i < n; i++)
        ss += (x[i] - *mean) * (x[i] - *mean);
    *sd = n > 1 ? sqrt(ss / (n - 1)) : 0;
}

/* Ranks 1..n, tied values sharing their average rank; means equal but for the rounding of their
 * sums are tied, or the order of two equal accuracies would be decided by the last bit. */
static void ranks(const double *x, int n, double *rank)
{
    for (int i = 0; i < n; i++) {
        int below = 0, equal = 0;
        for (int j = 0; j < n; j++) {
            below += x[j] < x[i] - NEAR;
            equal += fabs(x[j] - x[i]) <= NEAR;
        }
        rank[i] = below + (equal + 1) / 2.0;
    }
}

/* Spearman's rho: Pearson's correlation of the ranks; 0 when a side is constant (it has no order). */
static double spearman(const double *x, const double *y, int n)
{
    double rx[MAX_VALUES], ry[MAX_VALUES], mid = (n + 1) / 2.0, sxy = 0, sxx = 0, syy = 0;
    ranks(x, n, rx);
    ranks(y, n, ry);
    for (int i = 0; i < n; i++) {
        sxy += (rx[i] - mid) * (ry[i] - mid);
        sxx += (rx[i] - mid) * (rx[i] - mid);
        syy += (ry[i] - mid) * (ry[i] - mid);
    }
    return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : 0;
}

/* The claim's signed sum of terms per seed (with axis=value added when axis >= 0), over the seeds
 * where every term has a result: the same seed on both sides cancels what the seed alone moves. */
static int eval_difference(const results *d, const claim *c, int axis, int value, diff *out, uf_err *e)
{
    selector sel[MAX_TERMS];
    for (int t = 0; t < c->nterms; t++)
        sel[t] = narrowed(&c->term[t], d->m, axis, value);
    int n = 0, missing = -1;
    for (int seed = 0; seed < d->nseeds; seed++) {
        double sum = 0;
        int t = 0;
        for (; t < c->nterms; t++) {
            double x = seed_mean(d, &sel[t], d->value, seed);
            if (isnan(x))
                break;
            sum += c->sign[t] * x;
        }
        if (t == c->nterms)
            d->paired[n++] = sum;
        else if (missing < 0)
            missing = t;
    }
    if (!n)
        return no_result(&sel[missing], e);
    mean_sd(d->paired, n, &out->mean, &out->sd);
    out->mean = fabs(out->mean) < NEAR ? 0 : out->mean;
    out->nseeds = n;
    out->holds = c->op == GREATER    ? out->mean > NEAR
                 : c->op == AT_LEAST ? out->mean > -NEAR
                                     : fabs(out->mean) < c->tolerance + NEAR;
    return 0;
}

static void show_diff(const diff *dv, int nseeds, char *buf, size_t n)
{
    int len = snprintf(buf, n, "%+.2f ± %.2f", dv->mean, dv->sd);
    if (dv->nseeds < nseeds && len > 0 && (size_t)len < n)
        snprintf(buf + len, n - (size_t)len, " (%d of %d seeds)", dv->nseeds, nseeds);
}

static int eval_linear(const results *d, const claim *c, verdict *v, uf_err *e)
{
    diff dv;
    if (eval_difference(d, c, -1, 0, &dv, e))
        return -1;
    show_diff(&dv, d->nseeds, v->shown, sizeof v->shown);
    v->holds = dv.holds;
    return 0;
}

/* How far a value of an EACH claim is from failing: the difference, or for '~' minus its size. */
static double margin(const claim *c, const diff *dv)
{
    return c->op == ABOUT ? -fabs(dv->mean) : dv->mean;
}

static int eval_each(const results *d, const claim *c, verdict *v, uf_err *e)
{
    const uf_axis *ax = &d->m->axes[c->axis];
    diff worst = {0}, dv;
    int at = -1, holds = 1;
    for (int i = 0; i < ax->n; i++) {
        if (eval_difference(d, c, c->axis, i, &dv, e))
            return -1;
        holds &= dv.holds;
        if (at < 0 || margin(c, &dv) < margin(c, &worst)) {
            worst = dv;
            at = i;
        }
    }
    show_diff(&worst, d->nseeds, v->shown, sizeof v->shown);
    size_t len = strlen(v->shown);
    snprintf(v->shown + len, sizeof v->shown - len, " (%s, at %s=%s)", c->op == ABOUT ? "farthest from 0" : "smallest",
             ax->name, ax->values[at]);
    v->holds = holds;
    return 0;
}

static int eval_peak(const results *d, const claim *c, verdict *v, uf_err *e)
{
    const uf_axis *ax = &d->m->axes[c->axis];
    double means[MAX_VALUES];
    if (axis_means(d, &c->where, c->axis, d->value, 1, means, e))
        return -1;
    int best = 0;
    for (int i = 1; i < ax->n; i++)
        best = means[i] > means[best] + NEAR ? i : best; /* of equal means, the first */
    snprintf(v->shown, sizeof v->shown, "peak at %s=%s (mean %.2f)", ax->name, ax->values[best], means[best]);
    v->holds = best > 0 && best < ax->n - 1;
    return 0;
}

static int eval_trend(const results *d, const claim *c, verdict *v, uf_err *e)
{
    int n = d->m->axes[c->axis].n;
    double position[MAX_VALUES], means[MAX_VALUES];
    if (axis_means(d, &c->where, c->axis, d->value, 1, means, e))
        return -1;
    for (int i = 0; i < n; i++)
        position[i] = i;
    double rho = spearman(position, means, n);
    snprintf(v->shown, sizeof v->shown, "rho = %.2f", rho);
    v->holds = c->direction < 0 ? rho < -0.5 + NEAR : rho > 0.5 - NEAR;
    return 0;
}

/* Column c as numbers, NAN for an empty cell (a run without a selection has no recall). */
static int read_numbers(const uf_table *t, int c, double *out, uf_err *e)
{
    for (int r = 0; r < t->nrows; r++) {
        const char *cell = uf_table_at(t, r, c);
        char *end;
        if (!*cell) {
            out[r] = NAN;
            continue;
        }
        out[r] = strtod(cell, &end);
        if (end == cell || *end)
            return uf_fail(e, "column %s holds '%s', not a number", t->cols[c], cell);
    }
    return 0;
}

static int eval_ordered(const results *d, const claim *c, verdict *v, uf_err *e)
{
    const uf_axis *ax = &d->m->axes[c->axis];
    const char *name = d->t->cols[c->column];
    double acc[MAX_VALUES], other[MAX_VALUES];
    double *col = uf_calloc((size_t)d->nrows, sizeof *col, e);
    int rc = !col || read_numbers(d->t, c->column, col, e) || axis_means(d, &c->where, c->axis, d->value, 1, acc, e);
    if (!rc)
        axis_means(d, &c->where, c->axis, col, 0, other, e);
    free(col);
    if (rc)
        return -1;
    int n = 0; /* the values where the column has numbers */
    for (int i = 0; i < ax->n; i++)
        if (!isnan(other[i])) {
            acc[n] = acc[i];
            other[n++] = other[i];
        }
    if (n < 2)
        return uf_fail(e, "fewer than two values of %s have a %s", ax->name, name);
    double rho = spearman(acc, other, n);
    int len = snprintf(v->shown, sizeof v->shown, "rho = %.2f", rho);
    if (n < ax->n && len > 0 && (size_t)len < sizeof v->shown)
        snprintf(v->shown + len, sizeof v->shown - (size_t)len, " (the %d values of %s with a %s)", n, ax->name, name);
    v->holds = rho > 0.8 - NEAR;
    return 0;
}

/* One [claims] entry, "TEXT | EXPRESSION", parsed and evaluated. */
static int judge(const results *d, const char *line, verdict *v, uf_err *e)
{
    char expr[1024];
    const char *bar = strchr(line, '|');
    v->line = line;
    if (!bar || line + strspn(line, " \t") == bar || strlen(bar + 1) >= sizeof expr)
        return uf_fail(e, "expected 'TEXT | EXPRESSION' (at most %zu characters)", sizeof expr - 1);
    snprintf(expr, sizeof expr, "%s", bar + 1);
    claim c;
    if (parse_claim(d, expr, &c, e))
        return -1;
    /* a claim that is well formed but lacks results (a --sample run has one cell) is reported
     * untested, not an error: the rest of the report still says what the results are */
    uf_err why;
    int rc;
    switch (c.form) {
    case EACH: rc = eval_each(d, &c, v, &why); break;
    case PEAK: rc = eval_peak(d, &c, v, &why); break;
    case TREND: rc = eval_trend(d, &c, v, &why); break;
    case ORDERED: rc = eval_ordered(d, &c, v, &why); break;
    default: rc = eval_linear(d, &c, v, &why); break;
    }
    if (rc) {
        v->untested = 1;
        snprintf(v->shown, sizeof v->shown, "%.*s", (int)sizeof v->shown - 1, why.msg);
    }
    return 0;
}

/* ---- report ---- */

static int results_load(const uf_run_ctx *ctx, const char *value, results *d, uf_err *e)
{
    const uf_manifest *m = ctx->m;
    const uf_table *t = &ctx->table;
    *d = (results){.m = m, .t = t, .nrows = t->nrows, .seed_axis = uf_manifest_axis(m, "seed")};
    d->nseeds = d->seed_axis >= 0 ? m->axes[d->seed_axis].n : 1;
    int cv = uf_table_col(t, value);
    if (cv < 0 || t->ncols < 1 + m->naxes)
        return uf_fail(e, "the results have no column '%s' or no column per grid axis", value);
    if (!(d->coords = uf_calloc((size_t)t->nrows * (size_t)m->naxes, sizeof *d->coords, e)) ||
        !(d->value = uf_calloc((size_t)t->nrows, sizeof *d->value, e)) ||
        !(d->paired = uf_calloc((size_t)d->nseeds, sizeof *d->paired, e)))
        return -1;
    for (int r = 0; r < t->nrows; r++) /* the table's columns: tier, then the axes in grid order */
        for (int a = 0; a < m->naxes; a++)
            d->coords[(long)r * m->naxes + a] = value_index(&m->axes[a], uf_table_at(t, r, 1 + a));
    return read_numbers(t, cv, d->value, e);
}

static void results_free(results *d)
{
    free(d->coords);
    free(d->value);
    free(d->paired);
}

/* s[0..n) without the white space around it, '|' escaped so that it does not end the table cell. */
static void put_cell(FILE *md, const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s))
        s++, n--;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '|')
            fputc('\\', md);
        fputc(s[i], md);
    }
}

static void print_section(const results *d, const char *value, const verdict *v, int n, FILE *md)
{
    char measure[128];
    if (strcmp(value, "final_top1") == 0)
        snprintf(measure, sizeof measure, "the final top-1 accuracy");
    else
        snprintf(measure, sizeof measure, "column `%s`", value);
    fprintf(md, "\n## The paper's claims on these numbers\n\n"
                "Each claim of the paper for this result, tested on %s: differences are means ± standard deviation "
                "over the %d paired seed%s (the same seed for both sides).\n\n"
                "| claim | test | on our numbers | verdict |\n|---|---|---|---|\n",
            measure, d->nseeds, d->nseeds > 1 ? "s" : "");
    for (int i = 0; i < n; i++) {
        const char *bar = strchr(v[i].line, '|');
        fputs("| ", md);
        put_cell(md, v[i].line, (size_t)(bar - v[i].line));
        fputs(" | `", md);
        put_cell(md, bar + 1, strlen(bar + 1));
        fprintf(md, "` | %s | %s |\n", v[i].shown, v[i].untested ? "not tested" : v[i].holds ? "holds" : "does not hold");
    }
}

int uf_claims_report(const uf_run_ctx *ctx, const char *value, FILE *md, uf_err *e)
{
    const uf_manifest *m = ctx->m;
    int nclaims = 0;
    for (int i = 0; i < m->nkv; i++)
        nclaims += strcmp(m->kv[i].section, "claims") == 0;
    if (!nclaims)
        return 0;
    results d;
    verdict *v = NULL;
    int rc = results_load(ctx, value, &d, e);
    if (rc)
        uf_wrap(e, "%s: [claims]", m->path);
    else if (!(v = uf_calloc((size_t)nclaims, sizeof *v, e)))
        rc = -1;
    char tier_claims[128];
    snprintf(tier_claims, sizeof tier_claims, "claims.%s", m->tier);
    for (int i = 0, k = 0; !rc && i < m->nkv; i++) {
        const uf_kv *kv = &m->kv[i];
        if (strcmp(kv->section, "claims") != 0)
            continue;
        /* [claims.<tier>] restates a claim in the tier's own axis values (its backbones' names) */
        const char *tier_value = uf_manifest_raw(m, tier_claims, kv->key);
        if ((rc = judge(&d, tier_value ? tier_value : kv->value, &v[k++], e)))
            uf_wrap(e, "%s: claim %s", m->path, kv->key);
    }
    if (!rc)
        print_section(&d, value, v, nclaims, md);
    free(v);
    results_free(&d);
    return rc;
}
