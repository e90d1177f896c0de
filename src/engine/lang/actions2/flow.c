/* Flow actions (reference §9.2) and t:, which shape how a rule is evaluated. */
#include "lang/actions2/actions2.h"
#include "rules/transforms/transforms.h"

#include <stdlib.h>

const char *pp_a2_chain(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                        pp_rule_action_t *run)
{
    (void)ctx, (void)v, (void)run;
    b->as->chain = true;
    return NULL;
}

const char *pp_a2_phase(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                        pp_rule_action_t *run)
{
    (void)run;
    int n = -1;
    if (strcasecmp(v, "request") == 0)
        n = 2;
    else if (strcasecmp(v, "response") == 0)
        n = 4;
    else if (strcasecmp(v, "logging") == 0)
        n = 5;
    else {
        char *end;
        long l = strtol(v, &end, 10);
        if (!*end && l >= 1 && l <= 5)
            n = (int)l;
    }
    if (n < 0)
        return apr_psprintf(ctx->tp, "invalid phase \"%s\" (1-5, request, response, logging)", v);
    b->phase = n;
    return NULL;
}

const char *pp_a2_skip_after(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                             pp_rule_action_t *run)
{
    (void)run;
    b->rule->skip_after = apr_pstrdup(ctx->cp, v);
    return NULL;
}

const char *pp_a2_t(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                    pp_rule_action_t *run)
{
    (void)run;
    const pp_tfn_def_t *d = pp_tfn_find(v);
    if (!d)
        return apr_psprintf(ctx->tp, "unknown transformation \"%s\"", v);
    APR_ARRAY_PUSH(b->tfns, const pp_tfn_def_t *) = d;
    return NULL;
}

/* skip:N: after a match of the whole chain, skip the next N rules or chains of the phase
 * (markers not counted); N <= 0 or not a number is 1, as ModSecurity's atoi. */
const char *pp_a2_skip(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                       pp_rule_action_t *run)
{
    (void)ctx, (void)run;
    int n = atoi(v);
    b->rule->skip = n > 0 ? n : 1;
    return NULL;
}

/* multiMatch (reference §5.3): the operator runs on the value before each transformation that
 * changes it, and on the end result (rules/eval.c). */
const char *pp_a2_multi_match(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                              pp_rule_action_t *run)
{
    (void)ctx, (void)v, (void)run;
    b->rule->multi_match = true;
    return NULL;
}
