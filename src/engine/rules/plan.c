/*
 * Rule plans: for an effective rule list, the chains of each phase as (first, last) index
 * pairs. The phase loop (rules/eval.c) walks its phase's pairs instead of every rule of every
 * phase, and a rule its group check ruled out is skipped without its record being read: on a
 * server the rule records are cold in the cache at the start of each request, and reading a
 * hundred of them per phase costs more than evaluating the few that matter.
 */
#include "rules/model.h"

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
        steps[r->phase][plan->nsteps[r->phase]++] = (pp_plan_step_t){ i, end };
    }
    return plan;
}
