/*
 * SecFilter and SecFilterSelective → rules (reference §3). A keyword is a case-insensitive
 * PCRE2 regex, '!' in front inverts it (§3.4); SecFilter inspects THE_REQUEST and POST_PAYLOAD
 * (§3.2); SecFilterSelective takes a '|' list of locations where '!ARG_x' style items exclude
 * single members (§3.5). OUTPUT / OUTPUT_STATUS rules run in the outbound phase (§7).
 * Action lists are laid over SecFilterSignatureAction and the default list in force (§8.3).
 */
#include "lang/lang.h"
#include "rules/transforms/transforms.h"

static const char *build_operator(const pp_setter_ctx_t *ctx, const char *keyword,
                                  pp_operator_t *op)
{
    op->negated = keyword[0] == '!';
    op->arg = apr_pstrdup(ctx->cp, op->negated ? keyword + 1 : keyword);
    op->def = pp_op_find("rx19");
    const char *err = op->def->parse(ctx->cp, op->arg, &op->compiled);
    if (!err && op->def->needs)
        op->needs = op->def->needs(op->compiled);
    op->exact = !err && op->def->exact && op->def->exact(op->compiled);
    return err;
}

static const char *secfilter_targets(const pp_setter_ctx_t *ctx, pp_rule_t *rule)
{
    const pp_target_t **t = apr_palloc(ctx->cp, 2 * sizeof *t);
    pp_exclusion_t unused;
    const char *err = pp_names19_resolve(ctx->cp, ctx->tp, "THE_REQUEST", false, &t[0], &unused);
    if (!err)
        err = pp_names19_resolve(ctx->cp, ctx->tp, "POST_PAYLOAD", false, &t[1], &unused);
    if (err)
        return err;
    /* A plain SecFilter tests the body only when there is one: an inverted keyword must not fire
     * on every GET because the missing body was tested as "". */
    pp_target_t body = *t[1];
    body.missing_as_empty = false;
    t[1] = pp_target_intern(ctx->cp, &body);
    rule->targets = t;
    rule->ntargets = 2;
    return NULL;
}

static const char *selective_targets(const pp_setter_ctx_t *ctx, const char *locations,
                                     pp_rule_t *rule)
{
    apr_array_header_t *targets = apr_array_make(ctx->cp, 4, sizeof(pp_target_t *));
    apr_array_header_t *excl = apr_array_make(ctx->cp, 1, sizeof(pp_exclusion_t));
    char *list = apr_pstrdup(ctx->tp, locations), *state;
    for (char *item = apr_strtok(list, "|", &state); item; item = apr_strtok(NULL, "|", &state)) {
        bool exclude = item[0] == '!';
        const pp_target_t *t = NULL;
        pp_exclusion_t ex = { 0 };
        const char *err = pp_names19_resolve(ctx->cp, ctx->tp, exclude ? item + 1 : item,
                                             exclude, &t, &ex);
        if (err)
            return err;
        if (exclude) {
            pp_exclusion_intern(ctx->cp, &ex);
            APR_ARRAY_PUSH(excl, pp_exclusion_t) = ex;
        }
        else
            APR_ARRAY_PUSH(targets, const pp_target_t *) = t;
    }
    if (targets->nelts == 0)
        return apr_psprintf(ctx->tp, "no location to inspect in \"%s\"", locations);
    /* 1.9's ARGS is one combined string; with argument exclusions it has to be tested
     * argument by argument ("name=value") so that the excluded ones can be skipped. */
    for (int i = 0; i < targets->nelts && excl->nelts; i++) {
        const pp_target_t **t = &APR_ARRAY_IDX(targets, i, const pp_target_t *);
        if (strcmp((*t)->var->name, "ARGS_COMBINED") == 0)
            *t = pp_names19_args_pairs(ctx->cp);
    }
    rule->targets = (const pp_target_t **)targets->elts;
    rule->ntargets = (unsigned)targets->nelts;
    pp_rule_set_exclusions(rule, (const pp_exclusion_t *)excl->elts, (unsigned)excl->nelts);
    return NULL;
}

/* All targets of a rule must exist in the same 1.9 phase. */
static const char *assign_phase(const pp_setter_ctx_t *ctx, pp_rule_t *rule)
{
    rule->phase = PP_PHASE_REQUEST_BODY;
    for (unsigned i = 0; i < rule->ntargets; i++) {
        pp_phase_t p = rule->targets[i]->var->phase >= PP_PHASE_RESPONSE_HEADERS
                           ? PP_PHASE_RESPONSE_BODY : PP_PHASE_REQUEST_BODY;
        if (i > 0 && p != rule->phase)
            return apr_psprintf(ctx->tp, "OUTPUT locations cannot be mixed with request locations "
                                         "in one rule");
        rule->phase = p;
    }
    return NULL;
}

static const char *attach_actions(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, const char *actions,
                                  pp_rule_t *rule)
{
    if (actions) {
        pp_actionset_t *own;
        const char *warning = NULL;
        const char *err = pp_actionlist_parse(ctx->cp, actions, cfg->actions_restricted, &own,
                                              &warning);
        if (err)
            return err;
        if (warning)
            pp_cfg_warn(ctx, warning);
        rule->own = own;
        rule->id = own->id;
        rule->signature = cfg->cur_signature;
        rule->mandatory = own->mandatory;
    }
    rule->mandatory = rule->mandatory || cfg->mandatory;
    rule->bound_default = cfg->cur_default;
    if (rule->bound_default) {
        const pp_actionset_t *base = rule->own
            ? pp_actionset_merge(ctx->cp, rule->bound_default, rule->signature)
            : rule->bound_default;
        rule->effective = rule->own ? pp_actionset_merge(ctx->cp, base, rule->own) : base;
    }
    return NULL;
}

static const char *link_chain(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, pp_rule_t *rule)
{
    if (cfg->open_chain) {
        if (cfg->open_chain->phase != rule->phase)
            return apr_psprintf(ctx->tp, "chain and skipnext cannot be used with OUTPUT rules");
        cfg->open_chain->chain_next = rule;
        rule->chain_member = true;
    }
    bool chains = rule->own && rule->own->chain;
    if ((chains || (rule->own && rule->own->skipnext)) && rule->phase == PP_PHASE_RESPONSE_BODY)
        return apr_psprintf(ctx->tp, "chain and skipnext cannot be used with OUTPUT rules");
    cfg->open_chain = chains ? rule : NULL;
    return NULL;
}

const char *pp_secfilter_parse(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, const char *locations,
                               const char *keyword, const char *actions)
{
    pp_rule_t *rule = apr_pcalloc(ctx->cp, sizeof *rule);
    rule->directive = locations ? "SecFilterSelective" : "SecFilter";
    rule->file = ctx->site && ctx->site->file ? apr_pstrdup(ctx->cp, ctx->site->file) : NULL;
    rule->line = ctx->site ? ctx->site->line : 0;
    const char *err = build_operator(ctx, keyword, &rule->op);
    if (!err)
        err = locations ? selective_targets(ctx, locations, rule) : secfilter_targets(ctx, rule);
    if (!err)
        err = assign_phase(ctx, rule);
    if (!err)
        err = attach_actions(cfg, ctx, actions, rule);
    if (!err)
        err = link_chain(cfg, ctx, rule);
    if (err)
        return apr_psprintf(ctx->tp, "%s: %s", rule->directive, err);
    pp_rule_group_join(ctx->cp, cfg->rules->nelts ? APR_ARRAY_IDX(cfg->rules, cfg->rules->nelts - 1,
                                                                  pp_rule_t *)
                                                  : NULL,
                       rule);
    pp_rule_register(ctx->cp, rule);
    APR_ARRAY_PUSH(cfg->rules, pp_rule_t *) = rule;
    cfg->phase_mask |= 1u << rule->phase;
    return NULL;
}
