/* Logging actions (reference §9.4) and capture. */
#include "lang/actions2/actions2.h"

const char *pp_a2_log(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                      pp_rule_action_t *run)
{
    (void)ctx, (void)v, (void)run;
    b->as->log = 1;
    return NULL;
}

/* nolog also takes the message out of the audit log, unless auditlog says otherwise
 * (before or after it). */
const char *pp_a2_nolog(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                        pp_rule_action_t *run)
{
    (void)ctx, (void)v, (void)run;
    b->as->log = 0;
    if (b->as->auditlog == PP_TRI_UNSET)
        b->as->auditlog = 0;
    return NULL;
}

const char *pp_a2_auditlog(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                           pp_rule_action_t *run)
{
    (void)ctx, (void)v, (void)run;
    b->as->auditlog = 1;
    return NULL;
}

const char *pp_a2_noauditlog(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                             pp_rule_action_t *run)
{
    (void)ctx, (void)v, (void)run;
    b->as->auditlog = 0;
    return NULL;
}

const char *pp_a2_capture(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                          pp_rule_action_t *run)
{
    (void)ctx, (void)v, (void)run;
    b->rule->capture = true;
    return NULL;
}
