/* Manifest tasks over source-class selection (features tier, and the mini
 * tier's selection stage): `recall` measures how many classes of a concept
 * a method selects (Table 4, Figure 4a); `selection` lists what was picked. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../select/select.h"
#include "task.h"

void uf_job_selection_free(uf_job_selection *j)
{
    uf_selection_free(&j->sel);
    free(j->mask);
}

int uf_job_select(uf_run_ctx *ctx, const int *coords, int need_concept, uf_job_selection *out, uf_err *e)
{
    const uf_manifest *m = ctx->m;
    memset(out, 0, sizeof *out);
    char sm[4096], sc[4096], tm[4096], tc[4096], cp[4096], method[64], concept[256], solver[32];
    const uf_matrix *S, *Sc, *T, *Tc;
    if (uf_job_path(m, coords, "source_means", sm, sizeof sm, e) ||
        uf_job_path(m, coords, "source_counts", sc, sizeof sc, e) ||
        uf_job_path(m, coords, "target_means", tm, sizeof tm, e) ||
        uf_job_path(m, coords, "target_counts", tc, sizeof tc, e) ||
        uf_inputs_matrix(&ctx->inputs, sm, &S, e) || uf_inputs_matrix(&ctx->inputs, sc, &Sc, e) ||
        uf_inputs_matrix(&ctx->inputs, tm, &T, e) || uf_inputs_matrix(&ctx->inputs, tc, &Tc, e))
        return -1;
    if (S->cols != T->cols)
        return uf_fail(e, "feature dimensions differ: %s has %d, %s has %d", sm, S->cols, tm, T->cols);
    if (Sc->cols != 1 || Sc->rows != S->rows || Tc->cols != 1 || Tc->rows != T->rows)
        return uf_fail(e, "counts do not match the means: %s (%d x %d) for %d classes, %s (%d x %d) for %d",
                       sc, Sc->rows, Sc->cols, S->rows, tc, Tc->rows, Tc->cols, T->rows);

    uf_sel_defaults(&out->p);
    long top, seed, iters;
    if (uf_job_get(m, coords, "method", 1, method, sizeof method, e))
        return -1;
    if (uf_sel_method_parse(method, &out->p.method))
        return uf_fail(e, "%s: unknown method '%s'", m->path, method);
    if (uf_job_double(m, coords, "eps_c", NAN, &out->p.eps_c, e) ||
        uf_job_double(m, coords, "eps", out->p.uot.eps, &out->p.uot.eps, e) ||
        uf_job_double(m, coords, "tau1", out->p.uot.tau1, &out->p.uot.tau1, e) ||
        uf_job_double(m, coords, "tau2", out->p.uot.tau2, &out->p.uot.tau2, e) ||
        uf_job_double(m, coords, "tol", out->p.uot.tol, &out->p.uot.tol, e) ||
        uf_job_double(m, coords, "gamma", out->p.gamma, &out->p.gamma, e) ||
        uf_job_long(m, coords, "max_iter", out->p.uot.max_iter, &iters, e) ||
        uf_job_long(m, coords, "top", 100, &top, e) || uf_job_long(m, coords, "seed", 0, &seed, e))
        return -1;
    out->p.uot.max_iter = (int)iters;
    out->p.seed = (uint64_t)seed;
    int rc = uf_job_get(m, coords, "solver", 0, solver, sizeof solver, e);
    if (rc < 0 || (rc == 0 && uf_uot_solver_parse(solver, &out->p.uot.solver)))
        return rc < 0 ? -1 : uf_fail(e, "%s: unknown solver '%s'", m->path, solver);
    if (top < 1 || top > S->rows)
        return uf_fail(e, "%s: top = %ld, but %s has %d source classes", m->path, top, sm, S->rows);

    rc = uf_job_get(m, coords, "classes", 0, cp, sizeof cp, e);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        if (uf_job_path(m, coords, "classes", cp, sizeof cp, e) || uf_inputs_classes(&ctx->inputs, cp, &out->classes, e))
            return -1;
        if (out->classes->n != S->rows)
            return uf_fail(e, "%s lists %d classes but %s has %d", cp, out->classes->n, sm, S->rows);
    }
    rc = uf_job_get(m, coords, "concept", need_concept || out->p.method == UF_SEL_LABEL, concept, sizeof concept, e);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        if (!out->classes)
            return uf_fail(e, "%s: a concept needs the classes setting (a class table)", m->path);
        if (!(out->mask = uf_alloc((size_t)S->rows, e)))
            return -1;
        out->concept_total = uf_classes_mask(out->classes, concept, out->mask);
        if (out->concept_total == 0)
            return uf_fail(e, "%s: no class has the concept '%s'", cp, concept);
        out->p.label_mask = out->mask;
    }
    if (uf_select(S->data, S->rows, T->data, T->rows, S->cols, Tc->data, &out->p, &out->sel, e))
        return -1;
    out->k = (int)top;
    if (out->p.method == UF_SEL_LABEL && out->concept_total < out->k)
        out->k = out->concept_total;
    return 0;
}

static int is_uot(uf_sel_method m) { return m == UF_SEL_UOT_COS || m == UF_SEL_UOT_L2; }

/* ---- recall ------------------------------------------------------------ */

static const char *const recall_cols[] = {"metric", "value", "paper", "diff"};

static void add_metric(uf_run_ctx *ctx, const int *coords, const char *metric, const char *value, double paper,
                       double ours)
{
    char p[32] = "", d[32] = "";
    if (!isnan(paper)) {
        snprintf(p, sizeof p, "%.2f", paper);
        snprintf(d, sizeof d, "%+.2f", ours - paper);
    }
    const char *vals[] = {metric, value, p, d};
    uf_run_add_row(ctx, coords, vals);
}

static int recall_job(uf_run_ctx *ctx, const int *coords, uf_err *e)
{
    uf_job_selection js;
    if (uf_job_select(ctx, coords, 1, &js, e)) {
        uf_job_selection_free(&js);
        return -1;
    }
    int hits = 0;
    for (int r = 0; r < js.k; r++)
        hits += js.mask[js.sel.order[r]];
    double recall = 100.0 * hits / js.concept_total;
    char v[64];
    snprintf(v, sizeof v, "%.2f", recall);
    add_metric(ctx, coords, "recall", v, uf_paper_value(ctx->m, coords), atof(v));
    snprintf(v, sizeof v, "%d", hits);
    add_metric(ctx, coords, "selected_of_concept", v, NAN, 0);
    snprintf(v, sizeof v, "%d", js.concept_total);
    add_metric(ctx, coords, "concept_classes", v, NAN, 0);
    if (is_uot(js.p.method)) {
        snprintf(v, sizeof v, "%d", js.sel.uot.iterations);
        add_metric(ctx, coords, "uot_iterations", v, NAN, 0);
        add_metric(ctx, coords, "uot_converged", js.sel.uot.converged ? "1" : "0", NAN, 0);
    }
    uf_job_selection_free(&js);
    return 0;
}

const uf_task uf_task_recall = {
    .name = "recall",
    .ncols = 4,
    .cols = recall_cols,
    .run_job = recall_job,
    .report = uf_report_pivot,
    .check = uf_check_paper,
};

/* ---- selection --------------------------------------------------------- */

static const char *const selection_cols[] = {"rank", "index", "concept", "name", "score"};

static int selection_job(uf_run_ctx *ctx, const int *coords, uf_err *e)
{
    uf_job_selection js;
    if (uf_job_select(ctx, coords, 0, &js, e)) {
        uf_job_selection_free(&js);
        return -1;
    }
    if (!js.classes) {
        uf_job_selection_free(&js);
        return uf_fail(e, "%s: the selection task needs the classes setting (names and concepts)", ctx->m->path);
    }
    for (int r = 0; r < js.k; r++) {
        int i = js.sel.order[r];
        char rank[16], idx[16], score[32];
        snprintf(rank, sizeof rank, "%d", r + 1);
        snprintf(idx, sizeof idx, "%d", i);
        snprintf(score, sizeof score, "%.6g", js.sel.score[i]);
        const char *vals[] = {rank, idx, js.classes->concept[i], js.classes->name[i], score};
        uf_run_add_row(ctx, coords, vals);
    }
    uf_job_selection_free(&js);
    return 0;
}

/* The concepts of rows [r0, r1), each once with its count, most frequent first. */
static int concept_histogram(const uf_table *t, int r0, int r1, int c_concept, FILE *md, uf_err *e)
{
    int n = r1 - r0, nd = 0, *cnt = uf_calloc((size_t)n, sizeof *cnt, e);
    int *rep = cnt ? uf_calloc((size_t)n, sizeof *rep, e) : NULL;
    if (!rep) {
        free(cnt);
        return -1;
    }
    for (int r = r0; r < r1; r++) {
        int k = 0;
        while (k < nd && strcmp(uf_table_at(t, rep[k], c_concept), uf_table_at(t, r, c_concept)) != 0)
            k++;
        if (k == nd)
            rep[nd++] = r;
        cnt[k]++;
    }
    for (int done = 0; done < nd; done++) {
        int best = -1;
        for (int k = 0; k < nd; k++)
            if (cnt[k] >= 0 && (best < 0 || cnt[k] > cnt[best]))
                best = k;
        fprintf(md, "%s %s %d", done ? "," : "", uf_table_at(t, rep[best], c_concept), cnt[best]);
        cnt[best] = -1;
    }
    free(cnt);
    free(rep);
    return 0;
}

/* Per job: the concept histogram of everything selected, then the first
 * `show` classes by name. */
static int selection_report(const uf_run_ctx *ctx, FILE *md, uf_err *e)
{
    const uf_table *t = &ctx->table;
    const uf_manifest *m = ctx->m;
    int na = m->naxes, c_rank = 1 + na, c_concept = 3 + na, c_name = 4 + na, c_score = 5 + na;
    long show;
    int coords0[UF_MAX_AXES] = {0};
    if (uf_job_long(m, coords0, "show", 20, &show, e))
        return -1;
    for (int r0 = 0; r0 < t->nrows;) {
        int r1 = r0 + 1;
        while (r1 < t->nrows && atoi(uf_table_at(t, r1, c_rank)) != 1)
            r1++;
        fprintf(md, "\n## ");
        for (int a = 0; a < na; a++)
            if (m->axes[a].n > 1)
                fprintf(md, "%s%s", a ? " · " : "", uf_table_at(t, r0, 1 + a));
        fprintf(md, "\n\nConcepts among the %d selected:", r1 - r0);
        if (concept_histogram(t, r0, r1, c_concept, md, e))
            return -1;
        fprintf(md, ".\n\n| rank | class | concept | score |\n|---:|---|---|---:|\n");
        for (int r = r0; r < r1 && r - r0 < show; r++)
            fprintf(md, "| %s | %s | %s | %s |\n", uf_table_at(t, r, c_rank), uf_table_at(t, r, c_name),
                    uf_table_at(t, r, c_concept), uf_table_at(t, r, c_score));
        r0 = r1;
    }
    return 0;
}

const uf_task uf_task_selection = {
    .name = "selection",
    .ncols = 5,
    .cols = selection_cols,
    .run_job = selection_job,
    .report = selection_report,
    .check = NULL,
};
