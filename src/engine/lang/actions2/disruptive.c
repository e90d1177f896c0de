/* Disruptive actions and status (reference §9.1): what a matching rule does to the request. */
#include "lang/actions2/actions2.h"
#include "rules/actions/actions.h"

const char *pp_a2_deny(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                       pp_rule_action_t *run)
{
    (void)ctx, (void)v, (void)run;
    b->as->disruptive = PP_ACTION_DENY;
    return NULL;
}

const char *pp_a2_pass(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                       pp_rule_action_t *run)
{
    (void)ctx, (void)v, (void)run;
    b->as->disruptive = PP_ACTION_PASS;
    return NULL;
}

/* block: resolved when the rule is finished, from the SecDefaultAction in force. */
const char *pp_a2_block(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                        pp_rule_action_t *run)
{
    (void)ctx, (void)v, (void)run;
    b->block = true;
    return NULL;
}

const char *pp_a2_status(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                         pp_rule_action_t *run)
{
    (void)run;
    return pp_act_status_parse(ctx->cp, v, b->as);
}
