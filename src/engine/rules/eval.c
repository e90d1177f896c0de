/*
 * The phase loop: for each rule of the phase, collect the target values (cached per
 * transaction and normalised once, see rules/target.c) → operator → on a match, the actions and
 * the flow (chain, skipnext, allow, deny). 1.9 semantics (reference §3.7, §8.4): a chain fires
 * only when every member matches, and then the last member's action list runs; skipnext counts
 * rule directives, chained ones individually. A regex that hits its resource limit counts as a
 * match (fail closed) and is logged.
 *
 * Bounded work (attack run D8): the loop counts operator runs against the request's budget
 * (rules/budget.c); the values it tests come from rules/values.c; what a matching 2.x rule
 * does (its message, its disruptive action) is in rules/outcome.c.
 */
#include "rules/actions/actions.h"
#include "rules/operators/operators.h"
#include "rules/transforms/transforms.h"
#include "rules/eval_parts.h"
#include "rules/variables/collection.h"
#include "log/log.h"
#include "tx.h"

#include <stdlib.h>


/* Whether r matches; false too when a collector failed (the transaction is then intercepted)
 * or the request has used its budget. */
static bool rule_matches(pp_tx_t *tx, const pp_rule_t *r, hit_t *hit, pp_phase_t phase)
{
    if (tx->budget.exhausted || pp_eval_rule_stopped(tx, r))
        return false;
    for (unsigned ti = 0; ti < r->ntargets; ti++) {
        const pp_target_t *t = r->targets[ti];
        const apr_array_header_t *vals = pp_eval_target_values(tx, t, phase);
        if (!vals)
            return false;
        for (int i = 0; i < vals->nelts; i++) {
            const pp_value_t *v = &APR_ARRAY_IDX(vals, i, pp_value_t);
            if (r->nexclusions && pp_eval_excluded(tx, r, t, v))
                continue;
            bool m = false, undecided = false;
            if (r->op.needs && !r->op.def->needs_index_only && !r->op.exact &&
                !pp_eval_needs_met(tx, r->op.needs, v)) {
                /* m stays false: the regex cannot match without one of its literals */
            } else {
                hit->out.want_captures = false;
                undecided = pp_rule_op_exec(tx, r, v->value, &m, &hit->out) !=
                            APR_SUCCESS;
                if (!undecided && pp_eval_count_run(tx, false, phase))
                    return false;
            }
            if (undecided)
                tx->metrics.counter[PP_METRIC_REGEX_LIMIT_HITS]++;
            if (undecided && pp_eval_fail_open(tx)) {
                pp_eval_stop_rule(tx, r, t);
                pp_eval_count_run(tx, true, phase);
                return false;
            }
            if (undecided) {
                /* A pathological pattern/input pair: undecided counts as a match (fail
                 * closed). */
                tx->budget.limit_hits++;
                hit->target = t;
                hit->name = v->name;
                hit->value = hit->out.data = v->value;
                hit->out.ncaptures = 0;
                hit->limit = true;
                return true;
            }
            if (m != r->op.negated) {
                hit->target = t;
                hit->name = v->name;
                hit->value = v->value;
                /* MATCHED_VAR(_NAME) for the rest of the rule and the rules after it. */
                tx->matched.target = t;
                tx->matched.name = v->name;
                tx->matched.value = v->value;
                pp_tx_changed(tx, PP_SRC_TX);
                if (!m) { /* a negated operator matched by not matching: the value is the data */
                    hit->out.data = v->value;
                    hit->out.ncaptures = 0;
                }
                hit->limit = false;
                return true;
            }
        }
    }
    return false;
}

/* Which members of g (standing whole at this point of the effective list, see rules/plan.c)
 * can match: bit k for member k. The others are skipped without being read. */
static uint64_t group_check(pp_tx_t *tx, const pp_rule_group_t *g, pp_phase_t phase)
{
    int n = g->size;
    uint64_t all = n == 64 ? ~0ull : (1ull << n) - 1, m = 0;
    for (unsigned ti = 0; ti < g->ntargets && m != all; ti++) {
        const apr_array_header_t *vals = pp_eval_target_values(tx, g->targets[ti], phase);
        if (!vals)
            return 0; /* a collector failed: the transaction is intercepted */
        for (int v = 0; v < vals->nelts && m != all; v++) {
            const pp_value_t *val = &APR_ARRAY_IDX(vals, v, pp_value_t);
            if (g->needs) {
                m |= pp_rx_needs_members(g->needs, val->value, pp_eval_value_sketch(tx, g->needs, val));
                continue;
            }
            bool hit = true;
            if (pp_regex_exec(g->prefilter, tx->rx, val->value, &hit) != APR_SUCCESS || hit)
                m = all;
            if (pp_eval_count_run(tx, false, phase))
                return 0;
        }
    }
    return m;
}

/* ---- 2.x rules (SecRule, SecAction) ------------------------------------------------------ */

/* ctl:ruleRemoveById/ByTag removed the rule for this transaction. */
static bool rule_removed(const pp_tx_t *tx, const pp_rule_t *r)
{
    const pp_tx_overrides_t *ov = tx->overrides;
    if (ov->engine == PP_ENGINE_OFF)
        return true; /* ctl:ruleEngine=Off: no further rule runs */
    unsigned w = r->ordinal / 64;
    return w < ov->nwords && (ov->removed[w] >> (r->ordinal % 64) & 1);
}

/* ctl:ruleRemoveTarget*: value name of target t is not tested by rule r. */
static bool target_removed_any(const pp_tx_t *tx, const pp_rule_t *r, const pp_target_t *t,
                           pp_str_t name)
{
    const apr_array_header_t *a = tx->overrides->target_removals;
    for (int i = 0; i < a->nelts; i++) {
        const pp_target_removal_t *x = &APR_ARRAY_IDX(a, i, pp_target_removal_t);
        if (x->ordinal != r->ordinal || strcasecmp(x->var, t->var->name) != 0)
            continue;
        if (!x->key)
            return true;
        const char *key = t->selector;
        if (key ? strcasecmp(key, x->key) == 0
                : name.data && name.len == strlen(x->key) &&
                      strncasecmp(name.data, x->key, name.len) == 0)
            return true;
    }
    return false;
}

/* target_removed_any, asked only when a ctl: removed a target in this transaction (any ctl:
 * action makes the overrides, and the loop asks for every value it tests: ~5,000 instructions
 * of calls over an empty list on a CRS PL1 GET). */
static inline bool target_removed(const pp_tx_t *tx, const pp_rule_t *r, const pp_target_t *t,
                                  pp_str_t name)
{
    return tx->overrides && tx->overrides->target_removals->nelts &&
           target_removed_any(tx, r, t, name);
}

/* What a 2.x rule does for one value that matched (reference secrule-2.9 §5.5): MATCHED_VAR,
 * the captures as TX:0-9, and its per-value actions (setvar), in order. */
static void matched_value2(pp_tx_t *tx, const pp_rule_t *c, const pp_target_t *t,
                           const pp_value_t *v, const pp_op_out_t *out)
{
    tx->matched.target = t;
    tx->matched.name = v->name;
    tx->matched.value = v->value;
    if (t) { /* MATCHED_VARS: every match of this rule (chain) so far */
        apr_array_header_t *a = tx->rule2.vars;
        if (!a)
            a = tx->rule2.vars = apr_array_make(tx->pool, 8, sizeof(pp_matched_t));
        if (a->nelts < a->nalloc) /* without apr_array_push's call (~90 a CRS GET) */
            ((pp_matched_t *)a->elts)[a->nelts++] = tx->matched;
        else
            APR_ARRAY_PUSH(a, pp_matched_t) = tx->matched;
    }
    if (c->capture && out->ncaptures) {
        pp_coll_t *coll = pp_tx_collection(tx);
        for (unsigned k = 0; k < out->ncaptures; k++)
            pp_coll_set_key(coll, c->capture_keys[k], out->captures[k], false);
    }
    pp_tx_changed(tx, PP_SRC_TX);
    for (unsigned k = 0; k < c->nrun; k++)
        c->run[k].exec(tx, c->run[k].arg);
}

/* Value v of target t matched c (hit->out made): matched_value2 and, for a rule that is not
 * chained, its message and disruptive action. Sets *any, and *stop when the phase must stop. */
static void take_match2(pp_tx_t *tx, const pp_rule_t *r, const pp_rule_t *c,
                        const pp_target_t *t, const pp_value_t *v, hit_t *hit, pp_phase_t phase,
                        bool *any, bool *stop)
{
    *any = true;
    hit->target = t;
    hit->name = v->name;
    hit->value = v->value;
    hit->limit = false;
    matched_value2(tx, c, t, v, &hit->out);
    if (c == r && !c->chain_next)
        *stop = pp_eval_apply_outcome2(tx, r, c, hit, phase);
}

/* Runs c's operator on one value v of target t; on a match, matched_value2 and, for a rule
 * that is not chained, its message and disruptive action. Sets *any on a match and *stop when
 * the phase must stop; returns true when the rule must end now (the budget ran out). */
static bool test_value2(pp_tx_t *tx, const pp_rule_t *r, const pp_rule_t *c,
                        const pp_target_t *t, const pp_value_t *v, hit_t *hit, pp_phase_t phase,
                        bool *any, bool *stop, bool needs_met)
{
    bool m = false;
    hit->out.want_captures = c->capture;
    hit->out.ncaptures = 0;
    pp_debug(tx, 9, "Target value: \"%s\"", pp_ms2_escape(tx->pool, v->value));
    /* An exact set decides for less than the needs check costs (pp_operator_t.exact). */
    if (!c->op.needs || needs_met || c->op.def->needs_index_only || (c->op.exact && !c->capture) ||
        pp_eval_needs_met(tx, c->op.needs, v)) {
        apr_status_t rv = pp_rule_op_exec(tx, c, v->value, &m, &hit->out);
        if (pp_eval_count_run(tx, rv != APR_SUCCESS, phase)) {
            *stop = true;
            return true;
        }
        if (rv != APR_SUCCESS) {
            if (pp_eval_fail_open(tx))
                return false;
            m = !c->op.negated; /* undecided counts as a match (fail closed) */
            hit->out.ncaptures = 0;
        }
    }
    if (m == c->op.negated)
        return false;
    if (!m || !hit->out.data.data)
        hit->out.data = v->value;
    take_match2(tx, r, c, t, v, hit, phase, any, stop);
    return false;
}

static bool same_value(const pp_value_t *a, const pp_value_t *b)
{
    return a->value.len == b->value.len &&
           (a->value.data == b->value.data || memcmp(a->value.data, b->value.data, a->value.len) == 0);
}

/* multiMatch (reference §5.3): value i of t is tested before the first transformation, after
 * each one that changed it (before the next), and at the end when the last one changed it
 * (ModSecurity 2.9.7: "Ab" through t:lowercase,t:urlDecode matches once); each match counts. lv[k] are the values after k steps of t's chain (its prefix targets). Without a
 * transformation the operator never runs, as in ModSecurity. Returns true when the rule must
 * end now. */
static bool multi_match2(pp_tx_t *tx, const pp_rule_t *r, const pp_rule_t *c,
                         const pp_target_t *t, const apr_array_header_t *const *lv,
                         unsigned depth, int i, hit_t *hit, pp_phase_t phase, bool *any,
                         bool *stop)
{
    /* always[k]: step k (lv[k-1] to lv[k]) is one ModSecurity reports changed regardless. */
    bool *always = apr_pcalloc(tx->pool, (depth + 1) * sizeof *always);
    const pp_target_t *x = t;
    for (unsigned k = depth; k > 0 && x; k--, x = x->prefix)
        always[k] = x->chain && x->chain->tfn && x->chain->tfn->always_changed;
    for (unsigned k = 0; k < depth && !*stop; k++) {
        const pp_value_t *vk = &APR_ARRAY_IDX(lv[k], i, pp_value_t);
        bool run = k == 0 || always[k] || !same_value(&APR_ARRAY_IDX(lv[k - 1], i, pp_value_t), vk);
        if (run && test_value2(tx, r, c, t, vk, hit, phase, any, stop, false))
            return true;
    }
    if (!*stop && (always[depth] || !same_value(&APR_ARRAY_IDX(lv[depth - 1], i, pp_value_t),
                                                &APR_ARRAY_IDX(lv[depth], i, pp_value_t))))
        return test_value2(tx, r, c, t, &APR_ARRAY_IDX(lv[depth], i, pp_value_t), hit, phase,
                           any, stop, false);
    return false;
}

/* The values after each step of t's chain, lv[0] untransformed .. lv[depth] = vals; NULL when
 * a collector failed. */
static const apr_array_header_t **chain_levels(pp_tx_t *tx, const pp_target_t *t,
                                               const apr_array_header_t *vals, unsigned depth,
                                               pp_phase_t phase)
{
    const apr_array_header_t **lv = apr_palloc(tx->pool, (depth + 1) * sizeof *lv);
    const pp_target_t *x = t;
    for (int k = (int)depth; k >= 0; k--, x = x ? x->prefix : NULL) {
        lv[k] = k == (int)depth ? vals : x ? pp_eval_target_values(tx, x, phase) : NULL;
        if (!lv[k] || lv[k]->nelts != vals->nelts)
            return NULL;
    }
    return lv;
}

/* The value of target t (tx_key set: TX:key or &TX:key, no transformation) as the TX row's
 * collector gives it (rules/variables/collect.c pp_var_tx_coll, rules/values.c
 * keys_and_count): the entry's value and name; &TX:key one value, "1" or "0", unnamed. False
 * when there is none (TX:key of a missing key). CRS tests ~110 of these per request (the
 * paranoia-level gates, &TX:x "@eq 0" defaults, the anomaly score checks), and this reads them
 * without making or caching a value array; test_tx_fast.c holds it to the general path. */
static bool tx_key_value(const pp_tx_t *tx, const pp_target_t *t, pp_value_t *v)
{
    const pp_coll_entry_t *e = tx->coll_tx ? pp_coll_get_key(tx->coll_tx, t->tx_key) : NULL;
    *v = (pp_value_t){ .value = { "", 0 } };
    if (t->count) {
        v->value = e ? (pp_str_t){ "1", 1 } : (pp_str_t){ "0", 1 };
        return true;
    }
    if (!e)
        return false;
    v->value = e->value;
    v->name = e->name;
    return true;
}

/* Whether every target of c is a TX key read by tx_key_value (CRS: TX:x, &TX:x, and the
 * exclusion files' &TX:x|TX:x), with nothing that needs the value arrays. */
static bool tx_keys_only(const pp_rule_t *c)
{
    if (!c->ntargets || c->nexclusions || c->multi_match)
        return false;
    for (unsigned ti = 0; ti < c->ntargets; ti++)
        if (!c->targets[ti]->tx_key)
            return false;
    return true;
}

void pp_rule_tx_finish(const apr_array_header_t *rules)
{
    for (int i = 0; rules && i < rules->nelts; i++) {
        pp_rule_t *r = APR_ARRAY_IDX(rules, i, pp_rule_t *);
        const pp_operator_t *op = &r->op;
        r->tx_keys_only = r->lang2 && !r->always && !r->marker && tx_keys_only(r);
        r->tx_cmp = r->tx_keys_only && op->def && !op->macro && !op->needs &&
                    op->def->cmp != PP_CMP_NONE && op->compiled;
        r->tx_step = r->tx_cmp && !r->chain_next && !r->chain_member;
    }
}

/* Whether value v matches c's operator, c->tx_cmp (a constant number comparison: a row with a
 * cmp column, @eq @gt @ge @lt @le, without a macro or literal needs): 1 or 0, as its exec
 * would say (operators/strops.c NUM_OP, the same pp_num_cmp). */
static inline int num_compare(const pp_rule_t *c, pp_str_t v)
{
    /* CRS's values are mostly one digit ("1", "0", a paranoia level): no atoi call. */
    const int n = v.len == 1 && v.data[0] >= '0' && v.data[0] <= '9' ? v.data[0] - '0'
                                                                     : pp_ms_atoi(v.data, v.len);
    return pp_num_cmp(c->op.def->cmp, n, *(const int *)c->op.compiled);
}

/* Evaluates 2.x rule c (starter r) on every value. Each matching value gets matched_value2;
 * for a rule that is not chained, also its message and disruptive action (a deny stops at
 * the first value). Returns whether any value matched; *stop when the phase must stop. */
static bool rule_matches2(pp_tx_t *tx, const pp_rule_t *r, const pp_rule_t *c, hit_t *hit,
                          pp_phase_t phase, bool *stop)
{
    bool single = c == r && !c->chain_next, any = false;
    if (tx->budget.exhausted)
        return false;
    /* MATCHED_VARS as this link's targets see it: the matches of the links before it (the
     * values are all generated before the operator runs, in ModSecurity). */
    tx->rule2.visible = tx->rule2.vars ? tx->rule2.vars->nelts : 0;
    if (c->always) {
        static const pp_value_t none = { { "", 0 }, { NULL, 0 }, NULL, 0 };
        pp_op_out_t out = { .ncaptures = 0 };
        matched_value2(tx, c, NULL, &none, &out);
        tx->matched.target = NULL;
        if (single)
            *stop = pp_eval_apply_outcome2(tx, r, c, hit, phase);
        return true;
    }
    if (c->tx_keys_only) {
        /* TX keys only: each one's value tested as the loop below would test it, target by
         * target (a setvar of a match before the next target is read). See tx_key_value.
         * A number comparison (CRS's paranoia-level gates, &TX:x "@eq 0" defaults, score
         * checks: ~110 a request at PL1, ~250 at PL4) is decided here (num_compare) and does
         * only what test_value2 does with that answer: count one operator run and, on a
         * match, take it; without test_value2's set-up and the operator's dispatch. A debug
         * log of level 9 gets test_value2's line for each value. */
        const bool quiet = pp_tx_debug_level(tx) < 9;
        for (unsigned ti = 0; ti < c->ntargets && !*stop; ti++) {
            const pp_target_t *t = c->targets[ti];
            pp_value_t v;
            if (!tx_key_value(tx, t, &v) || target_removed(tx, c, t, v.name))
                continue;
            int m = quiet && c->tx_cmp ? num_compare(c, v.value) : -1;
            if (m < 0) {
                if (test_value2(tx, r, c, t, &v, hit, phase, &any, stop, false))
                    return any;
                continue;
            }
            /* What test_value2 does with the operator's answer: the run counted, and on a
             * match the whole value as the data (strops.c whole), no captures. */
            if (pp_eval_count_run(tx, false, phase)) {
                *stop = true;
                return any;
            }
            if ((bool)m == c->op.negated)
                continue;
            hit->out.want_captures = c->capture;
            hit->out.ncaptures = 0;
            hit->out.data = v.value;
            take_match2(tx, r, c, t, &v, hit, phase, &any, stop);
        }
        return any;
    }
    for (unsigned ti = 0; ti < c->ntargets && !*stop; ti++) {
        const pp_target_t *t = c->targets[ti];
        const apr_array_header_t *vals = pp_eval_target_values(tx, t, phase);
        if (!vals) {
            *stop = true;
            return false;
        }
        unsigned depth = t->chain ? t->chain->depth : 0;
        const apr_array_header_t **lv = NULL;
        if (c->multi_match && depth && !(lv = chain_levels(tx, t, vals, depth, phase))) {
            *stop = true; /* a collector failed: the transaction is intercepted */
            return false;
        }
        /* A starter the rule index let through: which values hold one of its literals, as
         * the needs check would say (NULL: it checks them itself, as a multiMatch rule does:
         * its gate's references are not one per target, rules/index.c). */
        apr_size_t stride = 0;
        uint64_t bit = 0;
        const uint64_t *bits = c == r && tx->rule2.gate && !c->multi_match
                                   ? pp_rule_index_value_bits(tx, tx->rule2.gate, ti, vals,
                                                              &stride, &bit)
                                   : NULL;
        for (int i = 0; i < vals->nelts && !*stop; i++) {
            const pp_value_t *v = &APR_ARRAY_IDX(vals, i, pp_value_t);
            if (bits && !(bits[(apr_size_t)i * stride] & bit))
                continue; /* no literal: the operator cannot match, nothing happens */
            if (c->nexclusions && pp_eval_excluded(tx, c, t, v))
                continue;
            if (target_removed(tx, c, t, v->name))
                continue;
            if (c->multi_match && !lv)
                continue; /* multiMatch without a transformation: never run (ModSecurity) */
            if (lv ? multi_match2(tx, r, c, t, lv, depth, i, hit, phase, &any, stop)
                   : test_value2(tx, r, c, t, v, hit, phase, &any, stop, bits != NULL))
                return any;
        }
    }
    return any;
}

/* The end of a 2.x step (run_chain2, run_tx_step): skip/skipAfter when it matched, the rule's
 * MATCHED_VARS(_NAMES) dropped (they hold one rule's, or chain's, matches: spec §4 item 8), and
 * whether the phase stops. Phase 5 runs whole after an interception (reference secrule-2.9
 * §1.1). */
static inline bool step_end(pp_tx_t *tx, const pp_rule_t *r, bool matched, bool stop,
                            pp_phase_t phase, int *skip)
{
    if (matched && r->skip_after)
        *skip = -1;
    else if (matched && r->skip)
        *skip = r->skip;
    if (tx->rule2.vars)
        tx->rule2.vars->nelts = 0;
    tx->rule2.rule = NULL;
    return stop || (tx->verdict.intercepted && phase != PP_PHASE_LOGGING) ||
           tx->budget.exhausted;
}

/* Runs the 2.x chain starting at r; *skip = -1 when it matched and has skipAfter (the plan
 * knows where to continue). True when processing of the phase must stop. */
static bool run_chain2(pp_tx_t *tx, const pp_rule_t *r, pp_phase_t phase, int *skip)
{
    if (r->marker || (tx->overrides && rule_removed(tx, r)))
        return false;
    hit_t hit;
    hit.target = NULL;
    bool matched = true, stop = false;
    const pp_rule_t *last = r;
    tx->rule2.rule = r;
    /* ModSecurity 2.9's debug lines for a rule (levels 4 and 5), the rule named by its
     * ordinal where ModSecurity prints a pointer. */
    for (const pp_rule_t *c = r; c && matched && !stop; c = c->chain_next) {
        pp_debug(tx, 4, "Recipe: Invoking rule %x; [file \"%s\"] [line \"%d\"]%s%s%s.",
                 c->ordinal, c->file ? c->file : "", c->line, c->id ? " [id \"" : "",
                 c->id ? c->id : "", c->id ? "\"]" : "");
        if (pp_tx_debug_level(tx) >= 5) { /* the rule's text is made only for the log */
            const char *text = pp_rule_unparsed(tx->pool, c);
            pp_debug(tx, 5, "Rule %x: %s", c->ordinal, text ? text : c->directive);
        }
        matched = rule_matches2(tx, r, c, &hit, phase, &stop);
        pp_debug(tx, 4, "Rule returned %d.", matched ? 1 : 0);
        last = c;
    }
    if (matched && !stop && r->chain_next)
        stop = pp_eval_apply_outcome2(tx, r, last, &hit, phase);
    return step_end(tx, r, matched, stop, phase, skip);
}

/* Whether run_tx_step may stand in for run_chain2 on r now: the budget not spent and, when a
 * ctl: action made overrides in this transaction (CRS's 901340 ctl:forceRequestBodyVariable on
 * every GET), none that changes how r runs: the engine on, r not removed, no target removed,
 * a debug level below 4 (quiet: the configured one, when there are no overrides). */
static inline bool tx_step_plain(const pp_tx_t *tx, const pp_rule_t *r, bool quiet)
{
    const pp_tx_overrides_t *ov = tx->overrides;
    if (tx->budget.exhausted)
        return false;
    if (!ov)
        return quiet;
    return !ov->target_removals->nelts && !rule_removed(tx, r) && pp_tx_debug_level(tx) < 4;
}

/* run_chain2 for a step with tx_step (one rule, TX keys only, a constant number comparison),
 * when nothing unusual is in force (tx_step_plain: no rule or target removed by ctl:, the
 * engine on, a debug log below level 4, which logs every rule run, the budget not spent). It
 * does what run_chain2 and rule_matches2 do then, without their set-up, debug checks and
 * dispatch: each key read straight from TX (tx_key_value), the comparison made (num_compare),
 * one operator run counted, and a match taken as test_value2 takes it (MATCHED_VAR(S),
 * setvar, message, disruptive action); skip/skipAfter as run_chain2 sets them. CRS: ~105 a
 * request at PL1 (paranoia-level gates, &TX:x "@eq 0" defaults). test_tx_fast.c holds it to
 * the general path. */
static bool run_tx_step(pp_tx_t *tx, const pp_rule_t *r, pp_phase_t phase, int *skip)
{
    hit_t hit;
    hit.target = NULL;
    bool any = false, stop = false;
    tx->rule2.rule = r;
    tx->rule2.visible = tx->rule2.vars ? tx->rule2.vars->nelts : 0;
    for (unsigned ti = 0; ti < r->ntargets && !stop; ti++) {
        const pp_target_t *t = r->targets[ti];
        pp_value_t v;
        if (!tx_key_value(tx, t, &v))
            continue;
        const int m = num_compare(r, v.value);
        if (pp_eval_count_run(tx, false, phase)) {
            stop = true;
            break;
        }
        if ((bool)m == r->op.negated)
            continue;
        hit.out.want_captures = r->capture;
        hit.out.ncaptures = 0;
        hit.out.data = v.value;
        take_match2(tx, r, r, t, &v, &hit, phase, &any, &stop);
    }
    return step_end(tx, r, any, stop, phase, skip);
}

/* Evaluates the chain starting at rules[i] and applies its outcome. Returns true when
 * processing of the phase must stop; sets *skip for skipnext. */
static bool run_chain(pp_tx_t *tx, const apr_array_header_t *rules, int i, pp_phase_t phase,
                      int *skip)
{
    const pp_rule_t *r = APR_ARRAY_IDX(rules, i, const pp_rule_t *), *last = r;
    if (r->lang2)
        return run_chain2(tx, r, phase, skip);
    hit_t hit;
    hit.target = NULL;
    bool matched = true;
    for (const pp_rule_t *c = r; c && matched; c = c->chain_next) {
        matched = rule_matches(tx, c, &hit, phase);
        last = c;
    }
    pp_debug(tx, 4, "Rule %s:%d (%s) %s", r->file ? r->file : "?", r->line, r->op.arg,
             matched ? "matched" : "did not match");
    if (!matched)
        return tx->verdict.intercepted || tx->budget.exhausted;
    if (pp_eval_apply_outcome(tx, last, &hit, phase))
        return true;
    if (last->own && last->own->skipnext)
        *skip = last->own->skipnext;
    return tx->verdict.intercepted;
}

static void run_steps(pp_tx_t *tx, pp_phase_t phase);

apr_status_t pp_eval_phase(pp_tx_t *tx, pp_phase_t phase)
{
    if (!(tx->cfg->phase_mask & (1u << phase)) || tx->budget.exhausted || tx->rules_off ||
        (tx->phases_allowed & (1u << phase)))
        return APR_SUCCESS;
    pp_eval_budget_t *b = &tx->budget;
    unsigned stopped = b->stopped ? apr_hash_count(b->stopped) : 0, skips = b->stopped_skips;
    b->cpu_mark = 0;
    tx->phase_now = phase;
    static const char *const names[PP_PLAN_PHASES] = {
        [PP_PHASE_REQUEST_HEADERS] = "REQUEST_HEADERS", [PP_PHASE_REQUEST_BODY] = "REQUEST_BODY",
        [PP_PHASE_RESPONSE_HEADERS] = "RESPONSE_HEADERS",
        [PP_PHASE_RESPONSE_BODY] = "RESPONSE_BODY", [PP_PHASE_LOGGING] = "LOGGING"
    };
    if (names[phase] && pp_cfg_has_rules2(tx->cfg, phase))
        pp_debug(tx, 4, "Starting phase %s.", names[phase]);
    run_steps(tx, phase);
    pp_eval_stop_clock(b);
    pp_eval_summarise(tx, stopped, skips);
    return APR_SUCCESS;
}

/* The plan of the transaction's effective rule list (made per request for a merged
 * configuration, once). */
static const pp_rule_plan_t *plan_for(pp_tx_t *tx)
{
    const apr_array_header_t *rules = tx->cfg->effective_rules;
    const pp_rule_plan_t *plan = tx->cfg->plan;
    if (plan && plan->rules == rules)
        return plan;
    if (!tx->early.plan || tx->early.plan->rules != rules)
        tx->early.plan = pp_rule_plan_build_light(tx->pool, rules);
    return tx->early.plan;
}

/* The rule index's answer for a gated step (rules/index.c). OPEN (evaluate it) wherever the
 * rule would not only test its values: removed by ctl: or the engine turned off (run_chain2
 * says so without reading a value), the budget spent, or a debug log of level 4 or more, which
 * records every rule that runs as ModSecurity does. */
static pp_gate_t gate_check(pp_tx_t *tx, const pp_rule_plan_t *plan, const pp_rule_gate_t *g,
                            pp_phase_t phase)
{
    if (tx->budget.exhausted || pp_tx_debug_level(tx) >= 4)
        return PP_GATE_OPEN;
    if (tx->overrides) {
        const pp_tx_overrides_t *ov = tx->overrides;
        unsigned w = g->ordinal / 64;
        if (ov->engine == PP_ENGINE_OFF ||
            (w < ov->nwords && (ov->removed[w] >> (g->ordinal % 64) & 1)))
            return PP_GATE_OPEN;
    }
    pp_gate_t gate = pp_rule_index_gate(tx, plan->index, g, phase);
    if (gate == PP_GATE_OPEN)
        tx->rule2.gate = g; /* the index read the values: the rule may ask it per value */
    return gate;
}

static void run_steps(pp_tx_t *tx, pp_phase_t phase)
{
    const apr_array_header_t *rules = tx->cfg->effective_rules;
    const pp_rule_plan_t *plan = plan_for(tx);
    const pp_plan_step_t *steps = plan->steps[phase];
    int skip = 0;
    /* A phase after an interception runs no rule, except phase 5 (reference secrule-2.9 §1.1). */
    bool stop = tx->verdict.intercepted && phase != PP_PHASE_LOGGING;
    /* Steps pp_eval_before_body already found not to match, on the same values. */
    int first = phase == PP_PHASE_REQUEST_BODY && tx->early.plan_done == plan ? tx->early.steps : 0;
    /* The configured debug level, which only a ctl: override changes (run_tx_step needs none). */
    const bool quiet = pp_cfg_int(tx->cfg->debug_level, 0) < 4;
    for (int s = first; s < plan->nsteps[phase] && !stop; s++) {
        /* A SecMarker does nothing and skipnext does not count it (below, ModSecurity skips
         * placeholders before it counts): CRS has ~40 in every phase, each of which stopped
         * the index walk and went through run_chain. */
        if (steps[s].marker)
            continue;
        if (skip > 0) {
            /* skipnext counts rule directives and a chain counts each link, so the count can
             * end inside a chain, which is then skipped whole. It stops at zero: a negative
             * count is run_chain's skipAfter signal, and reading it here sent the loop back to
             * step 0 for ever (fuzz_plan_diff: 3.6 million matches from one request). */
            /* 2.x (skip:N) counts a chain as one rule and no marker (ModSecurity skips
             * placeholders before it counts). */
            const pp_rule_t *sr = APR_ARRAY_IDX(rules, steps[s].first, const pp_rule_t *);
            if (sr->marker)
                continue;
            skip -= sr->lang2 ? 1 : steps[s].last - steps[s].first + 1;
            if (skip < 0)
                skip = 0;
            continue;
        }
        bool walked = false;
        if (steps[s].gate && !tx->budget.exhausted && pp_tx_debug_level(tx) < 4) {
            /* The phase-level skip: the gated steps that cannot match are passed over in one
             * walk of the index (rules/index.c), which stops at the next step to run. */
            const pp_rule_gate_t *open;
            bool failed;
            s = pp_rule_index_walk(tx, plan->index, steps, s, plan->nsteps[phase], phase, &open,
                                   &failed);
            if (failed) /* as the rule stops when a collector fails */
                break;
            if (s == plan->nsteps[phase])
                break;
            /* A gated step its gate let through (NULL: ctl: left the rule to itself, as in
             * gate_check), or the next step without a gate. */
            if (steps[s].gate)
                tx->rule2.gate = open;
            walked = true;
        }
        const pp_rule_group_t *g = steps[s].group;
        if (steps[s].gate && !walked) { /* the step-by-step check (gate_check says why) */
            pp_gate_t gate = gate_check(tx, plan, steps[s].gate, phase);
            if (gate == PP_GATE_FAILED) /* as the rule stops when a collector fails */
                break;
            if (gate == PP_GATE_CLOSED)
                continue; /* it cannot match: nothing it would do happens */
        }
        if (!g) {
            const pp_rule_t *r = APR_ARRAY_IDX(rules, steps[s].first, const pp_rule_t *);
            stop = steps[s].tx_step && tx_step_plain(tx, r, quiet)
                       ? run_tx_step(tx, r, phase, &skip)
                       : run_chain(tx, rules, steps[s].first, phase, &skip);
            tx->rule2.gate = NULL;
            if (skip < 0) { /* skipAfter: continue after the marker */
                s = steps[s].skip_to - 1;
                skip = 0;
            }
            continue;
        }
        /* A group: its members are single rules without flow actions, one step each, so
         * only the members its check leaves are evaluated, in order, and the others are not
         * even read. */
        uint64_t may = group_check(tx, g, phase);
        stop = tx->verdict.intercepted || tx->budget.exhausted;
        for (; may && !stop; may &= may - 1)
            stop = run_chain(tx, rules, steps[s + __builtin_ctzll(may)].first, phase, &skip);
        s += g->size - 1;
    }
}

/* ---- before the body ------------------------------------------------------------------------ */

static bool step_needs_body(const apr_array_header_t *rules, const pp_plan_step_t *st)
{
    for (int i = st->first; i <= st->last; i++) {
        const pp_rule_t *r = APR_ARRAY_IDX(rules, i, const pp_rule_t *);
        if (r->lang2) /* 2.x rules have their own phases: the early 1.9 pass stops here */
            return true;
        for (unsigned t = 0; t < r->ntargets; t++)
            if (r->targets[t]->var->phase > PP_PHASE_REQUEST_HEADERS)
                return true;
    }
    return false;
}

/* An answer that needs no body: not proxy, which forwards the request body and so must wait
 * for the full evaluation. */
static bool denies(const pp_actionset_t *as)
{
    return as->disruptive == PP_ACTION_DENY || as->disruptive == PP_ACTION_REDIRECT;
}

/* 1.9 rules all run after the body is read (§1.2), yet a rule that reads only the request line
 * and headers does not need it (attack run D9: a 200 MB body was spooled before a query-string
 * rule denied). The leading steps of the inbound phase that need no body are evaluated now, in
 * order: if the first one that matches denies (or redirects), the request is refused before the
 * body is read; that is the verdict the full evaluation would reach, since the steps before it
 * do not match on values the body cannot change. At any other match (pass, allow, skipnext,
 * proxy: mod_proxy forwards the body) this stops, and the full evaluation takes over from that
 * step. One difference stays: implicit checks of the body (§5.2), which 1.9 runs before every
 * rule, cannot run yet, so such a request is refused by the rule rather than by the check. */
void pp_eval_before_body(pp_tx_t *tx)
{
    const pp_phase_t phase = PP_PHASE_REQUEST_BODY;
    if (!(tx->cfg->phase_mask & (1u << phase)) || tx->verdict.intercepted ||
        tx->budget.exhausted || tx->early.plan_done || tx->rules_off)
        return;
    const apr_array_header_t *rules = tx->cfg->effective_rules;
    const pp_rule_plan_t *plan = plan_for(tx);
    const pp_plan_step_t *steps = plan->steps[phase];
    pp_eval_budget_t *b = &tx->budget;
    b->cpu_mark = 0;
    int s = 0;
    for (; s < plan->nsteps[phase] && !step_needs_body(rules, &steps[s]); s++) {
        const pp_rule_t *r = APR_ARRAY_IDX(rules, steps[s].first, const pp_rule_t *), *last = r;
        hit_t hit;
        hit.target = NULL;
        bool matched = true;
        for (const pp_rule_t *c = r; c && matched; c = c->chain_next) {
            matched = rule_matches(tx, c, &hit, phase);
            last = c;
        }
        if (tx->verdict.intercepted || b->exhausted)
            break;
        if (!matched)
            continue;
        if (denies(pp_eval_effective_actions(tx, last))) {
            pp_debug(tx, 4, "Rule %s:%d (%s) matched before the request body was read",
                     r->file ? r->file : "?", r->line, r->op.arg);
            pp_eval_apply_outcome(tx, last, &hit, phase);
        }
        break;
    }
    pp_eval_stop_clock(b);
    tx->early.plan_done = plan;
    tx->early.steps = s;
}
