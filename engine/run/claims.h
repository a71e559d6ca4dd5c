/* The paper's claims tested on a run's own numbers: a manifest's [claims] section lists them,
 *
 *   [claims]
 *   uot_above = UOT above fine-tuning on average | approach=uot - approach=finetune > 0
 *   each_top  = UOT above fine-tuning at every top | each top: approach=uot - approach=finetune > 0
 *   top_peak  = an intermediate number of classes is best | peak top where approach=uot
 *   top_trend = more classes, lower accuracy | trend top where approach=uot decreasing
 *   recall    = accuracy follows the selection's recall | ordered top by recall where approach=uot
 *
 * A [claims.<tier>] entry with the same key replaces a claim's line for that tier (a claim that
 * names axis values, such as the backbones', which differ between tiers).
 * key = TEXT | EXPRESSION, one line each (a manifest line has 197 characters at most). TEXT is the
 * claim in words; EXPRESSION one of
 *   TERM (+|-) TERM ... OP   a paired difference per seed; OP is "> 0", ">= 0" or "~ T" (|mean| <= T).
 *                            The first TERM may have a leading '-'; the signs between terms need
 *                            white space on both sides, so that values such as uot-l2 keep their '-'.
 *   each AXIS: LINEAR        LINEAR at every value of AXIS; holds when it holds at each
 *   peak AXIS [where SEL]    the best AXIS value is neither its first nor its last
 *   trend AXIS [where SEL] decreasing|increasing   Spearman rho of the means against the axis
 *                            order <= -0.5 or >= 0.5
 *   ordered AXIS by COLUMN [where SEL]   Spearman rho of the means against COLUMN's (empty cells
 *                            left out) >= 0.8
 * A TERM or SEL is a selector: axis=value or axis=v1|v2, several joined by ','. Its value for a
 * seed is the mean over the rows it matches with that seed (other axes averaged); a seed where a
 * selector of a difference matches nothing is left out of that difference. Every axis and value
 * named must be in the grid, so that a typo is an error, not a claim tested on no rows. A claim
 * can name the first 64 values of an axis, and walk (each, peak, trend, ordered) an axis of 64
 * values at most. Values that hold '|', ',', '>' or '~', or a sign with white space around it,
 * cannot be named. */
#ifndef UF_CLAIMS_H
#define UF_CLAIMS_H

#include <stdio.h>

#include "task.h"

/* Writes "## The paper's claims on these numbers" and one table row per entry of the manifest's
 * [claims] section (file order), each evaluated on ctx->table's column `value` (accuracy), with
 * seeds paired along the grid axis named "seed"; nothing when there is no [claims] section.
 * Returns 0, or -1 with e set for a malformed claim (message names the manifest path and claim key). */
int uf_claims_report(const uf_run_ctx *ctx, const char *value, FILE *md, uf_err *e);

#endif
