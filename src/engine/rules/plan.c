/*
 * Rule plans: for an effective rule list, the chains of each phase as (first, last) index
 * pairs; a SecMarker is a step of every phase, and a skipAfter is resolved to the step after
 * its marker. The phase loop (rules/eval.c) walks its phase's pairs instead of every rule of
 * every phase, and a rule its group check or its gate in the rule index (rules/index.c) ruled
 * out is skipped without its record being read: on a server the rule records are cold in the
 * cache at the start of each request, and reading a hundred of them per phase costs more than
 * evaluating the few that matter.
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

static pp_rule_plan_t *plan_build(apr_pool_t *p, const apr_array_header_t *rules)
{
    pp_rule_plan_t *plan = apr_pcalloc(p, sizeof *plan);
    plan->rules = rules;
    int count[PP_PLAN_PHASES] = { 0 };
    for (int i = 0; i < rules->nelts; i++) {
        const pp_rule_t *r = APR_ARRAY_IDX(rules, i, const pp_rule_t *);
        if (r->marker)
            for (int ph = PP_PHASE_REQUEST_HEADERS; ph < PP_PLAN_PHASES; ph++)
                count[ph]++;
        else if (!r->chain_member && r->phase < PP_PLAN_PHASES)
            count[r->phase]++;
    }
    pp_plan_step_t *steps[PP_PLAN_PHASES];
    for (int ph = 0; ph < PP_PLAN_PHASES; ph++)
        plan->steps[ph] = steps[ph] = count[ph] ? apr_palloc(p, count[ph] * sizeof *steps[ph]) : NULL;
    for (int i = 0; i < rules->nelts; i++) {
        const pp_rule_t *r = APR_ARRAY_IDX(rules, i, const pp_rule_t *);
        if (r->marker) { /* a SecMarker stands in every phase */
            for (int ph = PP_PHASE_REQUEST_HEADERS; ph < PP_PLAN_PHASES; ph++)
                steps[ph][plan->nsteps[ph]++] = (pp_plan_step_t){ i, i, NULL, 0, NULL, false, true };
            continue;
        }
        if (r->chain_member || r->phase >= PP_PLAN_PHASES)
            continue;
        int end = i;
        while (end + 1 < rules->nelts && APR_ARRAY_IDX(rules, end + 1, pp_rule_t *)->chain_member)
            end++;
        const pp_rule_group_t *g = group_stands(rules, i, r->group) ? r->group : NULL;
        steps[r->phase][plan->nsteps[r->phase]++] =
            (pp_plan_step_t){ i, end, g, 0, NULL, r->tx_step && end == i && !g, false };
    }
    /* skipAfter: the step after the first marker of that name that follows, in the phase. */
    for (int ph = 0; ph < PP_PLAN_PHASES; ph++)
        for (int s = 0; s < plan->nsteps[ph]; s++) {
            const pp_rule_t *r = APR_ARRAY_IDX(rules, steps[ph][s].first, const pp_rule_t *);
            if (!r->skip_after)
                continue;
            int to = plan->nsteps[ph];
            for (int k = s + 1; k < plan->nsteps[ph]; k++) {
                const pp_rule_t *m = APR_ARRAY_IDX(rules, steps[ph][k].first, const pp_rule_t *);
                if (m->marker && strcmp(m->marker, r->skip_after) == 0) {
                    to = k + 1;
                    break;
                }
            }
            steps[ph][s].skip_to = to;
        }
    return plan;
}

const pp_rule_plan_t *pp_rule_plan_build(apr_pool_t *p, const apr_array_header_t *rules)
{
    pp_rule_plan_t *plan = plan_build(p, rules);
    pp_rule_index_build(p, plan);
    return plan;
}

const pp_rule_plan_t *pp_rule_plan_build_light(apr_pool_t *p, const apr_array_header_t *rules)
{
    return plan_build(p, rules);
}
