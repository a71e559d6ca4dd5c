/* Reports shared by tasks whose rows are (metric, value, paper, diff): the
 * paper's number for a cell, a pivot table beside it, and --check. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "task.h"

/* "<value of every axis with more than one value>" joined by '/'. */
static void cell_key(const uf_manifest *m, const int *coords, char *buf, size_t n)
{
    size_t k = 0;
    buf[0] = '\0';
    for (int a = 0; a < m->naxes; a++)
        if (m->axes[a].n > 1 && k < n)
            k += (size_t)snprintf(buf + k, n - k, "%s%s", k ? "/" : "", m->axes[a].values[coords[a]]);
}

double uf_paper_value(const uf_manifest *m, const int *coords)
{
    char key[1024];
    cell_key(m, coords, key, sizeof key);
    const char *v = uf_manifest_raw(m, "paper", key);
    return v ? atof(v) : NAN;
}

/* Table row of the given metric whose axis values equal coords (all axes), or -1. */
static int find_row(const uf_run_ctx *ctx, const int *coords, const char *metric)
{
    const uf_table *t = &ctx->table;
    const uf_manifest *m = ctx->m;
    int cm = 1 + m->naxes;
    for (int r = 0; r < t->nrows; r++) {
        if (strcmp(uf_table_at(t, r, cm), metric) != 0)
            continue;
        int a = 0;
        while (a < m->naxes && strcmp(uf_table_at(t, r, 1 + a), m->axes[a].values[coords[a]]) == 0)
            a++;
        if (a == m->naxes)
            return r;
    }
    return -1;
}

int uf_report_pivot(const uf_run_ctx *ctx, FILE *md, uf_err *e)
{
    const uf_manifest *m = ctx->m;
    const uf_table *t = &ctx->table;
    const char *metric = uf_manifest_meta(m, "metric", "recall");
    int ra = uf_manifest_axis(m, uf_manifest_meta(m, "rows", ""));
    int ca = uf_manifest_axis(m, uf_manifest_meta(m, "cols", ""));
    if (ra < 0 || ca < 0 || ra == ca)
        return uf_fail(e, "%s: [experiment] rows and cols must name two different grid axes", m->path);
    int cv = 2 + m->naxes, cp = 3 + m->naxes, cd = 4 + m->naxes;
    long njobs = uf_manifest_njobs(m);
    int coords[UF_MAX_AXES];
    int compared = 0;
    /* one table per combination of the other axes: the jobs whose row and col coordinates are 0 */
    for (long j = 0; j < njobs; j++) {
        uf_manifest_job(m, j, coords);
        if (coords[ra] != 0 || coords[ca] != 0)
            continue;
        int heading = 0;
        for (int a = 0; a < m->naxes; a++)
            if (a != ra && a != ca && m->axes[a].n > 1) {
                fprintf(md, heading ? ", %s %s" : "\n### %s %s", m->axes[a].name, m->axes[a].values[coords[a]]);
                heading = 1;
            }
        fprintf(md, "%s\n| %s \\ %s |", heading ? "\n" : "", m->axes[ra].name, m->axes[ca].name);
        for (int c = 0; c < m->axes[ca].n; c++)
            fprintf(md, " %s |", m->axes[ca].values[c]);
        fprintf(md, "\n|---|");
        for (int c = 0; c < m->axes[ca].n; c++)
            fprintf(md, "---:|");
        fprintf(md, "\n");
        for (int r = 0; r < m->axes[ra].n; r++) {
            coords[ra] = r;
            fprintf(md, "| %s |", m->axes[ra].values[r]);
            for (int c = 0; c < m->axes[ca].n; c++) {
                coords[ca] = c;
                int row = find_row(ctx, coords, metric);
                if (row < 0) {
                    fprintf(md, " – |");
                } else if (*uf_table_at(t, row, cp)) {
                    fprintf(md, " **%s** (paper %s, Δ %s) |", uf_table_at(t, row, cv), uf_table_at(t, row, cp),
                            uf_table_at(t, row, cd));
                    compared++;
                } else {
                    fprintf(md, " %s |", uf_table_at(t, row, cv));
                }
            }
            fprintf(md, "\n");
        }
        coords[ra] = coords[ca] = 0;
    }
    fprintf(md, "\nValues: %s%s.\n", metric,
            compared ? "; bold is ours, beside the paper's number and our difference from it" : "");
    return 0;
}

int uf_check_paper(const uf_run_ctx *ctx, FILE *out, int *mismatches, uf_err *e)
{
    const uf_manifest *m = ctx->m;
    const uf_table *t = &ctx->table;
    const char *metric = uf_manifest_meta(m, "metric", "recall");
    double tol = atof(uf_manifest_meta(m, "tolerance", "0.005"));
    int cv = 2 + m->naxes, coords[UF_MAX_AXES], expected = 0, bad = 0;
    for (int i = 0; i < m->nkv; i++)
        expected += strcmp(m->kv[i].section, "paper") == 0;
    if (expected == 0)
        return uf_fail(e, "%s: --check needs a [paper] section", m->path);
    int found = 0;
    for (long j = 0; j < uf_manifest_njobs(m); j++) {
        uf_manifest_job(m, j, coords);
        double paper = uf_paper_value(m, coords);
        if (isnan(paper))
            continue;
        found++;
        int row = find_row(ctx, coords, metric);
        double ours = row < 0 ? NAN : atof(uf_table_at(t, row, cv));
        if (!(fabs(ours - paper) <= tol)) {
            char key[1024] = "";
            for (int a = 0, k = 0; a < m->naxes; a++)
                if (m->axes[a].n > 1)
                    k += snprintf(key + k, sizeof key - (size_t)k, "%s%s", k ? "/" : "", m->axes[a].values[coords[a]]);
            fprintf(out, "MISMATCH %s %s: ours %.2f, paper %.2f (tolerance %g)\n", key, metric, ours, paper, tol);
            bad++;
        }
    }
    if (found != expected)
        return uf_fail(e, "%s: %d [paper] entries name no job of the grid (keys are the values of the axes with "
                          "more than one value, joined by '/')",
                       m->path, expected - found);
    fprintf(out, "%s: %d of %d values match the paper (tolerance %g)\n", uf_manifest_meta(m, "name", "?"),
            found - bad, found, tol);
    *mismatches = bad;
    return 0;
}
