/* run/claims: a manifest's [claims] tested on a results table whose accuracies are known, every
 * form of claim with the numbers worked out by hand, and the malformed claims it must refuse.
 *
 * The grid: approach = finetune, uot; target = a, b; top = 20, 40, 60; seed = 0, 1, 2, and
 *   final_top1 = base[target] + S[seed] + (uot ? gain[target][top] + J[seed] : 0)
 *   base = {a: 80, b: 70}, S = {0, 1, 2} (cancels in a pair), J = {-0.3, 0, +0.3}
 *   gain a = {1.0, 2.0, 0.5}, gain b = {1.0, 0.0, -0.5} (top 20, 40, 60)
 * so a uot - finetune difference on seed s is (the mean gain of its rows) + J[s]: its mean over
 * the seeds is the mean gain, its standard deviation that of {-0.3, 0, 0.3} with n - 1, 0.30.
 * recall: uot a = {0.90, 0.95, 0.60}, uot b = {0.90, 0.80, 0.50}, finetune empty;
 * best_epoch = 10 + the index of top (rises with top). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "run/claims.h"

static const char *const columns[] = {"tier",       "approach",  "target",     "top", "seed", "final_top1",
                                      "best_top1", "best_epoch", "run",        "recall"};

static void fill_table(uf_table *t)
{
    static const double base[2] = {80, 70}, S[3] = {0, 1, 2}, J[3] = {-0.3, 0, 0.3};
    static const double gain[2][3] = {{1.0, 2.0, 0.5}, {1.0, 0.0, -0.5}};
    static const double recall[2][3] = {{0.90, 0.95, 0.60}, {0.90, 0.80, 0.50}};
    static const char *const approach[2] = {"finetune", "uot"}, *target[2] = {"a", "b"};
    static const char *const top[3] = {"20", "40", "60"}, *seed[3] = {"0", "1", "2"};
    uf_table_init(t, 10, columns);
    for (int ap = 0; ap < 2; ap++)
        for (int tg = 0; tg < 2; tg++)
            for (int tp = 0; tp < 3; tp++)
                for (int s = 0; s < 3; s++) {
                    char acc[32], epoch[16], rec[16] = "";
                    snprintf(acc, sizeof acc, "%.2f", base[tg] + S[s] + (ap ? gain[tg][tp] + J[s] : 0));
                    snprintf(epoch, sizeof epoch, "%d", 10 + tp);
                    if (ap)
                        snprintf(rec, sizeof rec, "%.2f", recall[tg][tp]);
                    const char *row[10] = {"mini", approach[ap], target[tg], top[tp], seed[s],
                                           acc,    acc,          epoch,      "r",     rec};
                    uf_table_add(t, row);
                }
}

static char dir[] = "/tmp/test_run_claims.XXXXXX";
static char manifest_path[4200];

/* uf_claims_report on the grid above with this [claims] section (NULL: none) and accuracy column;
 * the Markdown in *out. */
static int report(const char *claims, const char *value, char **out, uf_err *e)
{
    FILE *f = fopen(manifest_path, "w");
    fprintf(f, "[experiment]\nname = claims\ntask = finetune\ntiers = mini\n\n[grid]\napproach = finetune, uot\n"
               "target = a, b\ntop = 20, 40, 60\nseed = 0, 1, 2\n%s%s",
            claims ? "\n[claims]\n" : "", claims ? claims : "");
    fclose(f);
    uf_manifest m;
    size_t size;
    FILE *md = open_memstream(out, &size);
    int rc = uf_manifest_load(manifest_path, "mini", &m, e);
    if (rc == 0) {
        uf_run_ctx ctx = {.m = &m};
        fill_table(&ctx.table);
        rc = uf_claims_report(&ctx, value, md, e);
        uf_table_free(&ctx.table);
        uf_manifest_free(&m);
    }
    fclose(md);
    return rc;
}

static const char *const every_form =
    /* d_s = mean gain 4/6 + J[s]: +0.67 ± 0.30 */
    "mean = UOT above fine-tuning on average | approach=uot - approach=finetune > 0\n"
    /* a leading '-' and a '+': -finetune b + uot b top 60 = -0.5 + J[s]: -0.50 ± 0.30, not > 0 */
    "b60 = UOT above fine-tuning on b at top 60 | -approach=finetune, target=b + approach=uot, target=b, top=60 > 0\n"
    /* gain b averaged over top: (1 + 0 - 0.5) / 3 = 0.1667: +0.17, within 0.5 but not 0.1 */
    "alike = alike on b | approach=uot, target=b - approach=finetune, target=b ~ 0.5\n"
    "alike_tight = alike on b to 0.1 | approach=uot, target=b - approach=finetune, target=b ~ 0.1\n"
    /* seed 2 has no uot row: left out; d = 0.6667 + {-0.3, 0} = {0.3667, 0.6667}: mean 0.5167,
     * sd 0.15 * sqrt(2) = 0.2121 */
    "two_seeds = on seeds 0 and 1 | approach=uot, seed=0|1 - approach=finetune > 0\n"
    /* a: (1 + 2 + 0.5) / 3 = 1.1667, b: 0.1667; the smallest is b's */
    "each_target = above on every target | each target: approach=uot - approach=finetune > 0\n"
    /* per top, mean gain over a and b: 1.0, 1.0, 0.0: >= 0 holds at top 60, > 0 does not */
    "each_top = at least fine-tuning at every top | each top: approach=uot, target=a|b - approach=finetune >= 0\n"
    "each_top_strict = above at every top | each top: approach=uot, target=a|b - approach=finetune > 0\n"
    /* ~ 0.5 per target: a's +1.17 is the farthest from 0 and fails */
    "each_alike = alike on every target | each target: approach=uot - approach=finetune ~ 0.5\n"
    /* uot a per top: 80 + mean S 1 + gain = 82, 83, 81.5: the peak is 40, in the middle */
    "peak_a = an intermediate top is best on a | peak top where approach=uot, target=a\n"
    /* uot b: 72, 71, 70.5: the peak is at the first value */
    "peak_b = an intermediate top is best on b | peak top where approach=uot, target=b\n"
    /* uot b 72, 71, 70.5 against 0, 1, 2: ranks 3 2 1, rho = -1 */
    "trend_b = more classes, lower accuracy on b | trend top where approach=uot, target=b decreasing\n"
    /* uot a 82, 83, 81.5: ranks 2 3 1 against 1 2 3: centred (0 1 -1).(-1 0 1) = -1 over 2: -0.5 */
    "trend_a = more classes, higher accuracy on a | trend top where approach=uot, target=a increasing\n"
    /* every row, per top: finetune 76; uot 76 + (1, 1, 0) = 77, 77, 76; together 76.5, 76.5, 76.0:
     * ranks 2.5 2.5 1, centred (.5 .5 -1).(-1 0 1) = -1.5 over sqrt(2 * 1.5): -0.866 */
    "trend_all = more classes, lower accuracy | trend top decreasing\n"
    /* uot per top: accuracy 77, 77, 76 (ranks 2.5 2.5 1); recall (a + b) / 2 = 0.9, 0.875, 0.55
     * (ranks 3 2 1): centred (.5 .5 -1).(1 0 -1) = 1.5 over sqrt(1.5 * 2): 0.866 */
    "recall_uot = accuracy follows recall | ordered top by recall where approach=uot\n"
    /* target b, both approaches: 71.5, 71, 70.75; recall without finetune's empty cells 0.9, 0.8, 0.5: rho 1 */
    "recall_b = accuracy follows recall on b | ordered top by recall where target=b\n"
    /* uot b falls with top, best_epoch rises with it: rho = -1 */
    "epoch_b = accuracy follows the best epoch | ordered top by best_epoch where approach=uot, target=b\n";

static const char *const every_form_md =
    "\n## The paper's claims on these numbers\n\n"
    "Each claim of the paper for this result, tested on the final top-1 accuracy: differences are means ± "
    "standard deviation over the 3 paired seeds (the same seed for both sides).\n\n"
    "| claim | test | on our numbers | verdict |\n"
    "|---|---|---|---|\n"
    "| UOT above fine-tuning on average | `approach=uot - approach=finetune > 0` | +0.67 ± 0.30 | holds |\n"
    "| UOT above fine-tuning on b at top 60 | `-approach=finetune, target=b + approach=uot, target=b, top=60 > 0` "
    "| -0.50 ± 0.30 | does not hold |\n"
    "| alike on b | `approach=uot, target=b - approach=finetune, target=b ~ 0.5` | +0.17 ± 0.30 | holds |\n"
    "| alike on b to 0.1 | `approach=uot, target=b - approach=finetune, target=b ~ 0.1` | +0.17 ± 0.30 "
    "| does not hold |\n"
    "| on seeds 0 and 1 | `approach=uot, seed=0\\|1 - approach=finetune > 0` | +0.52 ± 0.21 (2 of 3 seeds) | holds |\n"
    "| above on every target | `each target: approach=uot - approach=finetune > 0` "
    "| +0.17 ± 0.30 (smallest, at target=b) | holds |\n"
    "| at least fine-tuning at every top | `each top: approach=uot, target=a\\|b - approach=finetune >= 0` "
    "| +0.00 ± 0.30 (smallest, at top=60) | holds |\n"
    "| above at every top | `each top: approach=uot, target=a\\|b - approach=finetune > 0` "
    "| +0.00 ± 0.30 (smallest, at top=60) | does not hold |\n"
    "| alike on every target | `each target: approach=uot - approach=finetune ~ 0.5` "
    "| +1.17 ± 0.30 (farthest from 0, at target=a) | does not hold |\n"
    "| an intermediate top is best on a | `peak top where approach=uot, target=a` | peak at top=40 (mean 83.00) "
    "| holds |\n"
    "| an intermediate top is best on b | `peak top where approach=uot, target=b` | peak at top=20 (mean 72.00) "
    "| does not hold |\n"
    "| more classes, lower accuracy on b | `trend top where approach=uot, target=b decreasing` | rho = -1.00 "
    "| holds |\n"
    "| more classes, higher accuracy on a | `trend top where approach=uot, target=a increasing` | rho = -0.50 "
    "| does not hold |\n"
    "| more classes, lower accuracy | `trend top decreasing` | rho = -0.87 | holds |\n"
    "| accuracy follows recall | `ordered top by recall where approach=uot` | rho = 0.87 | holds |\n"
    "| accuracy follows recall on b | `ordered top by recall where target=b` | rho = 1.00 | holds |\n"
    "| accuracy follows the best epoch | `ordered top by best_epoch where approach=uot, target=b` | rho = -1.00 "
    "| does not hold |\n";

static void test_every_form(void)
{
    uf_err e = {{0}};
    char *md = NULL;
    CHECK_OK(report(every_form, "final_top1", &md, &e), e);
    if (strcmp(md, every_form_md) != 0) {
        fprintf(stderr, "report:\n%s\nwanted:\n%s\n", md, every_form_md);
        check_failures++;
    }
    free(md);
}

static void test_no_claims(void)
{
    uf_err e = {{0}};
    char *md = NULL;
    CHECK_OK(report(NULL, "final_top1", &md, &e), e);
    CHECK(md && md[0] == '\0');
    free(md);
}

/* Another accuracy column is named as such (best_top1 holds the same numbers here); one that the
 * table lacks is an error. */
static void test_value_column(void)
{
    const char *claim = "mean = UOT above fine-tuning on average | approach=uot - approach=finetune > 0\n";
    uf_err e = {{0}};
    char *md = NULL;
    CHECK_OK(report(claim, "best_top1", &md, &e), e);
    CHECK(md && strstr(md, "tested on column `best_top1`: differences"));
    CHECK(md && strstr(md, "| +0.67 ± 0.30 | holds |\n"));
    free(md);
    CHECK(report(claim, "top5", &md, &e) == -1 && md[0] == '\0');
    CHECK(strstr(e.msg, ": [claims]: the results have no column 'top5'"));
    free(md);
}

/* A claim the report must refuse: -1, a message naming the manifest and the claim, nothing written
 * (the valid claim before it included). */
static void expect_error(const char *claim, const char *key, const char *reason)
{
    char claims[1024], *md = NULL;
    uf_err e = {{0}};
    snprintf(claims, sizeof claims, "fine = fine | approach=uot - approach=finetune > 0\n%s = %s\n", key, claim);
    int rc = report(claims, "final_top1", &md, &e);
    char where[4400];
    snprintf(where, sizeof where, "%s: claim %s: ", manifest_path, key);
    if (rc != -1 || strncmp(e.msg, where, strlen(where)) != 0 || !strstr(e.msg, reason) || md[0]) {
        fprintf(stderr, "'%s': rc %d, message '%s', wanted '%s...%s'\n", claim, rc, e.msg, where, reason);
        check_failures++;
    }
    free(md);
}

static void test_errors(void)
{
    expect_error("UOT above | approach=uto - approach=finetune > 0", "typo",
                 "selector 'approach=uto': 'uto' is not a value of axis approach in tier mini");
    expect_error("UOT above | aproach=uot - approach=finetune > 0", "axis", "no grid axis 'aproach'");
    expect_error("UOT above | approach=uot - approach=finetune", "no_op", "has no comparison");
    expect_error("UOT above | approach=uot approach=finetune > 0", "no_sign", "is not a value of axis approach");
    expect_error("UOT above | approach=uot - approach=finetune > 1", "bound", "the comparison must be");
    expect_error("UOT above | approach=uot - > 0", "empty", "an empty selector");
    expect_error("no expression at all", "no_bar", "expected 'TEXT | EXPRESSION'");
    expect_error("peak | peak tpo where approach=uot", "peak_axis", "no grid axis 'tpo'");
    expect_error("trend | trend top where approach=uot", "trend_dir", "decreasing' (or increasing)");
    expect_error("peak | peak top when approach=uot", "where", "expected 'where SELECTOR'");
    expect_error("ordered | ordered top by recal", "column", "the results have no column 'recal'");
    expect_error("each | each top approach=uot > 0", "each_colon", "expected 'each AXIS: DIFFERENCE'");
}

/* A well-formed claim without the results to test it (a --sample run has one cell): reported as not
 * tested, with the reason, and the other claims still evaluated. */
static void expect_untested(const char *claim, const char *reason)
{
    char claims[1024], *md = NULL;
    uf_err e = {{0}};
    snprintf(claims, sizeof claims, "fine = fine | approach=uot - approach=finetune > 0\nlate = %s\n", claim);
    int rc = report(claims, "final_top1", &md, &e);
    if (rc != 0 || !md || !strstr(md, reason) || !strstr(md, "| not tested |\n") || !strstr(md, "| holds |\n")) {
        fprintf(stderr, "'%s': rc %d (%s), wanted a 'not tested' row saying '%s':\n%s\n", claim, rc, e.msg, reason,
                md ? md : "");
        check_failures++;
    }
    free(md);
}

static void test_untested(void)
{
    expect_untested("ordered | ordered approach by recall", "fewer than two values of approach have a recall");
    /* no seed has both sides: seed 0 lacks the second term, as do the others the first */
    expect_untested("seeds | approach=uot, seed=0 - approach=finetune, seed=1 > 0",
                    "selector 'approach=finetune, seed=1' matches no result");
    /* each adds top=v to every selector: top=20 and top=40 together match nothing */
    expect_untested("each | each top: approach=uot, top=20 - approach=finetune > 0",
                    "selector 'approach=uot, top=20, top=40' matches no result");
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror(dir);
        return 1;
    }
    snprintf(manifest_path, sizeof manifest_path, "%s/claims.ini", dir);
    test_every_form();
    test_no_claims();
    test_value_column();
    test_errors();
    test_untested();
    unlink(manifest_path);
    rmdir(dir);
    CHECK_DONE();
}
