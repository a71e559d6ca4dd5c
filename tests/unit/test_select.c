/* Selection methods: Greedy-OT's score, ranking order, random and label-based
 * selection, cost matrices, and the class table reader on the real file. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"
#include "select/classes.h"
#include "select/cost.h"
#include "select/select.h"

enum { NS = 40, NT = 7, D = 5 };

static void features(double *S, double *T, double *counts)
{
    for (int k = 0; k < NS * D; k++)
        S[k] = uf_rng_uniform(4, 1, (uint64_t)k) - 0.3;
    for (int k = 0; k < NT * D; k++)
        T[k] = uf_rng_uniform(4, 2, (uint64_t)k) - 0.2;
    for (int j = 0; j < NT; j++)
        counts[j] = 1 + j * 3;
}

/* -log(score)/gamma is the count-weighted mean ground distance, computed here
 * independently from the definitions. */
static void test_got(void)
{
    double S[NS * D], T[NT * D], c[NT];
    features(S, T, c);
    double total = 0;
    for (int j = 0; j < NT; j++)
        total += c[j];
    for (int cos = 0; cos < 2; cos++) {
        uf_sel_params p;
        uf_sel_defaults(&p);
        p.method = cos ? UF_SEL_GOT_COS : UF_SEL_GOT_L2;
        uf_selection sel;
        uf_err e;
        CHECK_OK(uf_select(S, NS, T, NT, D, c, &p, &sel, &e), e);
        for (int i = 0; i < NS; i++) {
            double emd = 0;
            for (int j = 0; j < NT; j++) {
                double dot = 0, ns = 0, nt = 0, l2 = 0;
                for (int k = 0; k < D; k++) {
                    double s = S[i * D + k], t = T[j * D + k];
                    dot += s * t;
                    ns += s * s;
                    nt += t * t;
                    l2 += (s - t) * (s - t);
                }
                emd += c[j] / total * (cos ? 1 - dot / sqrt(ns * nt) : sqrt(l2));
            }
            CHECK_CLOSE(-log(sel.score[i]) / 0.01, emd, 1e-10, 1e-12);
        }
        for (int r = 1; r < NS; r++)
            CHECK(sel.score[sel.order[r - 1]] >= sel.score[sel.order[r]]);
        uf_selection_free(&sel);
    }
}

static void test_rank_ties(void)
{
    double key[6] = {1, 3, 3, -INFINITY, 3, 2};
    int idx[6];
    uf_rank_desc(key, 6, idx);
    int want[6] = {1, 2, 4, 5, 0, 3};
    CHECK(memcmp(idx, want, sizeof want) == 0);
}

static void test_random_and_label(void)
{
    double S[NS * D], T[NT * D], c[NT];
    features(S, T, c);
    uf_sel_params p;
    uf_sel_defaults(&p);
    p.method = UF_SEL_RANDOM;
    uf_selection a, b, d;
    uf_err e;
    p.seed = 3;
    CHECK_OK(uf_select(S, NS, T, NT, D, c, &p, &a, &e), e);
    CHECK_OK(uf_select(S, NS, T, NT, D, c, &p, &b, &e), e);
    p.seed = 4;
    CHECK_OK(uf_select(S, NS, T, NT, D, c, &p, &d, &e), e);
    CHECK(memcmp(a.order, b.order, sizeof(int) * NS) == 0);
    CHECK(memcmp(a.order, d.order, sizeof(int) * NS) != 0);
    int seen[NS] = {0};
    for (int r = 0; r < NS; r++)
        seen[a.order[r]]++;
    for (int i = 0; i < NS; i++)
        CHECK(seen[i] == 1);
    uf_selection_free(&a);
    uf_selection_free(&b);
    uf_selection_free(&d);

    unsigned char mask[NS] = {0};
    mask[5] = mask[17] = mask[30] = 1;
    p.method = UF_SEL_LABEL;
    p.label_mask = mask;
    CHECK_OK(uf_select(S, NS, T, NT, D, c, &p, &a, &e), e);
    CHECK(a.order[0] == 5 && a.order[1] == 17 && a.order[2] == 30 && a.score[a.order[3]] == 0);
    uf_selection_free(&a);
    p.label_mask = NULL;
    CHECK(uf_select(S, NS, T, NT, D, c, &p, &a, &e) != 0);
}

static void test_cost(void)
{
    double S[2 * 2] = {3, 4, 0, 0}, T[2] = {1, 0}, D2[2];
    uf_err e;
    CHECK_OK(uf_ground_distance(S, 1, T, 1, 2, UF_DIST_COS, D2, &e), e);
    CHECK_CLOSE(D2[0], 1 - 0.6, 1e-15, 0);
    CHECK_OK(uf_ground_distance(S, 2, T, 1, 2, UF_DIST_L2, D2, &e), e);
    CHECK_CLOSE(D2[0], sqrt(4 + 16), 1e-15, 0);
    CHECK_CLOSE(D2[1], 1, 1e-15, 0);
    CHECK(uf_ground_distance(S, 2, T, 1, 2, UF_DIST_COS, D2, &e) != 0); /* zero row */
    CHECK(strstr(e.msg, "source row 1"));
}

/* The real ImageNet class table: 59 birds, 118 dogs at 151..268. */
static void test_classes(const char *ref)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/released-class-means/imagenet-classes.tsv", ref);
    uf_classes c;
    uf_err e;
    CHECK_OK(uf_classes_read(path, &c, &e), e);
    CHECK(c.n == 1000);
    unsigned char mask[1000];
    CHECK(uf_classes_mask(&c, "bird", mask) == 59);
    CHECK(uf_classes_mask(&c, "dog", mask) == 118);
    for (int i = 0; i < 1000; i++)
        CHECK(mask[i] == (i >= 151 && i <= 268));
    CHECK(strcmp(c.name[0], "tench, Tinca tinca") == 0);
    uf_classes_free(&c);
}

int main(void)
{
    test_got();
    test_rank_ties();
    test_random_and_label();
    test_cost();
    test_classes(UF_REF);
    CHECK_DONE();
}
