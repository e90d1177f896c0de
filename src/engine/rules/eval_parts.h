/*
 * Internal header of the phase loop's parts: the values a rule tests (rules/values.c) and the
 * evaluation budget (rules/budget.c), both called from rules/eval.c.
 */
#ifndef PP_RULES_EVAL_PARTS_H
#define PP_RULES_EVAL_PARTS_H

#include "rules/model.h"
#include "tx.h"

/* ---- values.c ---- */

/* Collected and transformed values of t, cached per transaction and source generation. NULL
 * when the collector failed: the transaction is then intercepted with 500 (fail closed). */
const apr_array_header_t *pp_eval_target_values(pp_tx_t *tx, const pp_target_t *t,
                                                pp_phase_t phase);
/* The sketch of v for checking needs, or NULL to search directly. */
const pp_sketch_t *pp_eval_value_sketch(pp_tx_t *tx, const pp_rx_needs_t *needs,
                                        const pp_value_t *v);
/* Whether v holds one of the literals without which the operator cannot match. */
bool pp_eval_needs_met(pp_tx_t *tx, const pp_rx_needs_t *needs, const pp_value_t *v);
/* Whether r excludes value v of target t (!VAR:name, !VAR:/re/), exclusion by exclusion. */
bool pp_eval_excluded_each(pp_tx_t *tx, const pp_rule_t *r, const pp_target_t *t,
                           const pp_value_t *v);

/* Whether r excludes value v of target t. Usually one test: the value was marked with the
 * configuration's exclusions that name it when it was collected, and r's are a mask of them. */
static inline bool pp_eval_excluded(pp_tx_t *tx, const pp_rule_t *r, const pp_target_t *t,
                                    const pp_value_t *v)
{
    if ((v->excl & PP_EXCL_KNOWN) && r->excl_set && r->excl_set == t->excl_set)
        return (v->excl & r->excl_mask) != 0;
    return pp_eval_excluded_each(tx, r, t, v);
}

/* ---- budget.c ---- */

/* SecFilterRegexLimitFailOpen On. */
bool pp_eval_fail_open(const pp_tx_t *tx);
/* Reading the thread CPU clock is a system call: often enough that a budget overshoots by
 * at most this many runs (each bounded by the match limit), rarely enough to cost nothing. */
#define PP_EVAL_CHECK_EVERY 64

/* True once the request has used SecRuleEvalTimeLimit (pp_eval_count_run's check). */
bool pp_eval_over_budget(pp_tx_t *tx, pp_phase_t phase);

/* Counts an operator run; true when the budget says stop (the request is then rejected, or,
 * fail open, its remaining rules skipped). Checked every PP_EVAL_CHECK_EVERY runs and after
 * each limit hit; inline, as the loop counts ~250 runs a CRS GET. */
static inline bool pp_eval_count_run(pp_tx_t *tx, bool limit_hit, pp_phase_t phase)
{
    pp_eval_budget_t *b = &tx->budget;
    b->limit_hits += limit_hit;
    if (++b->op_runs % PP_EVAL_CHECK_EVERY != 0 && !limit_hit)
        return false;
    return pp_eval_over_budget(tx, phase);
}
/* Fail open: rule r stops for this request, said once in the log. */
void pp_eval_stop_rule(pp_tx_t *tx, const pp_rule_t *r, const pp_target_t *t);
/* Whether r was stopped (counted as a skipped evaluation). */
bool pp_eval_rule_stopped(pp_tx_t *tx, const pp_rule_t *r);
/* End of a phase: adds the CPU time the phase used since its clock started. */
void pp_eval_stop_clock(pp_eval_budget_t *b);
/* One log line per phase for what fail open let through. */
void pp_eval_summarise(pp_tx_t *tx, unsigned stopped_before, unsigned skips_before);

/* A value that matched (eval.c, outcome.c). */
typedef struct hit_t {
    const pp_target_t *target;
    pp_str_t name;
    pp_str_t value;    /* the (transformed) value that matched: MATCHED_VAR */
    pp_op_out_t out;   /* the operator's matched data and captures */
    bool limit;
} hit_t;

/* outcome.c: where hit matched, as the log names it; a 1.9 rule's effective actions; the
 * outcome of a 1.9 rule (chain, r its last member) that matched, and of a 2.x rule r (or chain,
 * last: the link that matched last): true when the phase must stop. */
const char *pp_eval_location(pp_tx_t *tx, const hit_t *hit);
const pp_actionset_t *pp_eval_effective_actions(pp_tx_t *tx, const pp_rule_t *r);
bool pp_eval_apply_outcome(pp_tx_t *tx, const pp_rule_t *r, const hit_t *hit, pp_phase_t phase);
bool pp_eval_apply_outcome2(pp_tx_t *tx, const pp_rule_t *r, const pp_rule_t *last,
                            const hit_t *hit, pp_phase_t phase);

#endif
