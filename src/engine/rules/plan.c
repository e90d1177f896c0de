/*
 * Rule plans: for an effective rule list, the chains of each phase as (first, last) index
 * pairs. The phase loop (rules/eval.c) walks its phase's pairs instead of every rule of every
 * phase, and a rule its group check ruled out is skipped without its record being read: on a
 * server the rule records are cold in the cache at the start of each request, and reading a
 * hundred of them per phase costs more than evaluating the few that matter.
 */
#include "rules/model.h"

/* Whether rules[i] starts g, with every member following in order. Inheritance,
 * SecFilterRemove or SecFilterImport may have split a group in this list. */
static bool group_stands(const apr_array_header_t *rules, int i, const pp_rule_group_t *g)
{
    if (!g || !g->finished || !(g->prefilter || g->needs) || i + g->members->nelts > rules->nelts)
        return false;
    for (int k = 0; k < g->members->nelts; k++)
        if (APR_ARRAY_IDX(rules, i + k, const pp_rule_t *) !=
            APR_ARRAY_IDX(g->members, k, const pp_rule_t *))
            return false;
    return true;
}

const pp_rule_plan_t *pp_rule_plan_build(apr_pool_t *p, const apr_array_header_t *rules)
{
    pp_rule_plan_t *plan = apr_pcalloc(p, sizeof *plan);
    plan->rules = rules;
    int count[PP_PLAN_PHASES] = { 0 };
    for (int i = 0; i < rules->nelts; i++) {
        const pp_rule_t *r = APR_ARRAY_IDX(rules, i, const pp_rule_t *);
        if (!r->chain_member && r->phase < PP_PLAN_PHASES)
            count[r->phase]++;
    }
    pp_plan_step_t *steps[PP_PLAN_PHASES];
    for (int ph = 0; ph < PP_PLAN_PHASES; ph++)
        plan->steps[ph] = steps[ph] = count[ph] ? apr_palloc(p, count[ph] * sizeof *steps[ph]) : NULL;
    for (int i = 0; i < rules->nelts; i++) {
        const pp_rule_t *r = APR_ARRAY_IDX(rules, i, const pp_rule_t *);
        if (r->chain_member || r->phase >= PP_PLAN_PHASES)
            continue;
        int end = i;
        while (end + 1 < rules->nelts && APR_ARRAY_IDX(rules, end + 1, pp_rule_t *)->chain_member)
            end++;
        steps[r->phase][plan->nsteps[r->phase]++] =
            (pp_plan_step_t){ i, end, group_stands(rules, i, r->group) ? r->group : NULL };
    }
    return plan;
}
