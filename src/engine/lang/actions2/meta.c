/* Metadata actions (reference §9.3): what a rule is, logged with its matches. */
#include "lang/actions2/actions2.h"
#include "rules/actions/actions.h"

const char *pp_a2_id(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                     pp_rule_action_t *run)
{
    (void)run;
    /* ModSecurity takes digits only, greater than zero. */
    const char *p = v;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p || p == v || strspn(v, "0") == strlen(v))
        return apr_psprintf(ctx->tp, "id \"%s\": a rule id is a number greater than 0", v);
    b->as->id = apr_pstrdup(ctx->cp, v);
    return NULL;
}

const char *pp_a2_rev(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                      pp_rule_action_t *run)
{
    (void)run;
    b->as->rev = apr_pstrdup(ctx->cp, v);
    return NULL;
}

const char *pp_a2_msg(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                      pp_rule_action_t *run)
{
    (void)run;
    b->as->msg = apr_pstrdup(ctx->cp, v);
    return NULL;
}

const char *pp_a2_logdata(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                          pp_rule_action_t *run)
{
    (void)run;
    b->rule->logdata = pp_macro_compile_shared(ctx->cp, v);
    return NULL;
}

const char *pp_a2_tag(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                      pp_rule_action_t *run)
{
    (void)run;
    APR_ARRAY_PUSH(b->tags, const char *) = apr_pstrdup(ctx->cp, v);
    return NULL;
}

const char *pp_a2_severity(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                           pp_rule_action_t *run)
{
    (void)run;
    return pp_act_severity_parse(ctx->cp, v, b->as);
}

/* ver, maturity, accuracy: kept on the rule for the log line ([ver "..."] and so on). */
const char *pp_a2_ver(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                      pp_rule_action_t *run)
{
    (void)run;
    b->rule->ver = apr_pstrdup(ctx->cp, v);
    return NULL;
}

const char *pp_a2_maturity(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                           pp_rule_action_t *run)
{
    (void)run;
    b->rule->maturity = apr_pstrdup(ctx->cp, v);
    return NULL;
}

const char *pp_a2_accuracy(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                           pp_rule_action_t *run)
{
    (void)run;
    b->rule->accuracy = apr_pstrdup(ctx->cp, v);
    return NULL;
}

/* xmlns:prefix=URI: a namespace prefix for the XPath of this rule's XML:/... targets. */
const char *pp_a2_xmlns(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                        pp_rule_action_t *run)
{
    (void)run;
    const char *eq = strchr(v, '=');
    if (!eq || eq == v || !eq[1])
        return apr_psprintf(ctx->tp, "xmlns:%s: expected prefix=URI", v);
    if (!b->xmlns)
        b->xmlns = apr_array_make(ctx->cp, 4, sizeof(const char *));
    APR_ARRAY_PUSH(b->xmlns, const char *) = apr_pstrmemdup(ctx->cp, v, (apr_size_t)(eq - v));
    APR_ARRAY_PUSH(b->xmlns, const char *) = apr_pstrdup(ctx->cp, eq + 1);
    return NULL;
}
