/*
 * Setters for the rule directives (reference §2.2, §3): SecFilter, SecFilterSelective, the
 * default and signature action lists (each governs the rules that follow it in the same
 * context), SecFilterActionsRestricted / SecFilterInheritanceMandatory (parse-time switches),
 * SecFilterImport / SecFilterRemove.
 */
#include "lang/lang.h"
#include "log/log.h"

const char *pp_set_secfilter(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                             const void *extra, int argc, char **argv)
{
    return pp_secfilter_parse(cfg, ctx, NULL, argv[0], argc > 1 ? argv[1] : NULL);
}

const char *pp_set_secfilter_selective(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                                       const void *extra, int argc, char **argv)
{
    return pp_secfilter_parse(cfg, ctx, argv[0], argv[1], argc > 2 ? argv[2] : NULL);
}

/* The rule just compiled keeps its texts as written (its operator's already: the parse
 * pointed op.arg into it); pp_rule_unparsed makes the directive's text from them only when a
 * log asks (the escaped text of every CRS rule was ~0.6 MB of every worker). */
static void keep_texts(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, const char *targets,
                       const char *actions)
{
    pp_rule_t *r = APR_ARRAY_IDX(cfg->rules, cfg->rules->nelts - 1, pp_rule_t *);
    r->targets_text = targets ? apr_pstrdup(ctx->cp, targets) : NULL;
    r->actions_text = actions ? apr_pstrdup(ctx->cp, actions) : NULL;
}

/* As ModSecurity prints it: each argument log-escaped in double quotes, the operator with its
 * implicit "@rx" made explicit. The actions are the rule's own, as written (ModSecurity merges
 * the SecDefaultAction's into its text). */
const char *pp_rule_unparsed(apr_pool_t *p, const pp_rule_t *rule)
{
    if (!rule->lang2 || rule->marker || (!rule->targets_text && !rule->actions_text))
        return NULL;
    if (!rule->targets_text)
        return apr_psprintf(p, "SecAction \"%s\"",
                            pp_ms2_escape(p, pp_str_from_cstr(rule->actions_text)));
    const char *op = rule->op_text ? rule->op_text : "";
    bool negated = *op == '!';
    op += negated;
    return apr_psprintf(p, "SecRule \"%s\" \"%s%s%s\"%s%s%s",
                        pp_ms2_escape(p, pp_str_from_cstr(rule->targets_text)),
                        negated ? "!" : "", *op == '@' ? "" : "@rx ",
                        pp_ms2_escape(p, pp_str_from_cstr(op)), rule->actions_text ? " \"" : "",
                        rule->actions_text
                            ? pp_ms2_escape(p, pp_str_from_cstr(rule->actions_text)) : "",
                        rule->actions_text ? "\"" : "");
}

const char *pp_set_secrule(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                           const void *extra, int argc, char **argv)
{
    /* In cp: the rule keeps it as op_text, and its op.arg points into it. */
    const char *op = apr_pstrdup(ctx->cp, argv[1]);
    const char *err = pp_secrule_parse(cfg, ctx, argv[0], op, argc > 2 ? argv[2] : NULL);
    if (!err)
        keep_texts(cfg, ctx, argv[0], argc > 2 ? argv[2] : NULL);
    return err;
}

const char *pp_set_secaction(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                             const void *extra, int argc, char **argv)
{
    const char *err = pp_secrule_parse(cfg, ctx, NULL, NULL, argv[0]);
    if (!err)
        keep_texts(cfg, ctx, NULL, argv[0]);
    return err;
}

const char *pp_set_default_action2(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                                   const void *extra, int argc, char **argv)
{
    return pp_secrule_default_action(cfg, ctx, argv[0]);
}

const char *pp_set_marker(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                          const void *extra, int argc, char **argv)
{
    return pp_secrule_marker(cfg, ctx, argv[0]);
}

const char *pp_set_rule_engine(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                               const void *extra, int argc, char **argv)
{
    static const struct {
        const char *name;
        int value;
    } modes[] = { { "Off", PP_ENGINE_OFF }, { "On", PP_ENGINE_ON },
                  { "DetectionOnly", PP_ENGINE_DETECTION_ONLY } };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcasecmp(argv[0], modes[i].name) == 0) {
            *(int *)slot = modes[i].value;
            /* As ModSecurity: DetectionOnly makes both body limits process partially. */
            if (modes[i].value == PP_ENGINE_DETECTION_ONLY)
                cfg->body_limit_action = cfg->response_limit_action = PP_LIMIT_PROCESS_PARTIAL;
            return NULL;
        }
    return apr_psprintf(ctx->tp, "%s: \"%s\" is not one of On, Off or DetectionOnly", ctx->name,
                        argv[0]);
}

static const char *parse_list(const pp_setter_ctx_t *ctx, const char *text, pp_actionset_t **as)
{
    const char *warning = NULL;
    const char *err = pp_actionlist_parse(ctx->cp, text, false, as, &warning);
    if (err)
        return apr_psprintf(ctx->tp, "%s: %s", ctx->name, err);
    if (warning)
        pp_cfg_warn(ctx, warning);
    return NULL;
}

/* A default list is complete by itself: what it leaves unset comes from the built-in default,
 * so a later rule never depends on the order of contexts for its status. */
const char *pp_set_default_action(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                                  const void *extra, int argc, char **argv)
{
    pp_actionset_t *as;
    const char *err = parse_list(ctx, argv[0], &as);
    if (err)
        return err;
    if (as->chain || as->skipnext)
        return apr_psprintf(ctx->tp, "%s: chain and skipnext cannot be default actions",
                            ctx->name);
    if (as->disruptive == PP_TRI_UNSET)
        as->disruptive = PP_ACTION_DENY;
    if (as->log == PP_TRI_UNSET)
        as->log = 1;
    cfg->cur_default = as;
    cfg->default_action = as;
    return NULL;
}

const char *pp_set_signature_action(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                                    const void *extra, int argc, char **argv)
{
    pp_actionset_t *as;
    const char *err = parse_list(ctx, argv[0], &as);
    if (err)
        return err;
    cfg->cur_signature = as;
    return NULL;
}

const char *pp_set_flag_parse(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                              const void *extra, int argc, char **argv)
{
    int v;
    const char *err = pp_set_flag(cfg, ctx, &v, NULL, argc, argv);
    if (err)
        return err;
    if (strcmp(ctx->name, "SecFilterActionsRestricted") == 0)
        cfg->actions_restricted = v;
    else
        cfg->mandatory = v;
    return NULL;
}

static const char *push_ids(const pp_setter_ctx_t *ctx, apr_array_header_t **ids, int argc,
                            char **argv)
{
    if (!*ids)
        *ids = apr_array_make(ctx->cp, argc, sizeof(const char *));
    for (int i = 0; i < argc; i++)
        APR_ARRAY_PUSH(*ids, const char *) = apr_pstrdup(ctx->cp, argv[i]);
    return NULL;
}

const char *pp_set_import(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                          const void *extra, int argc, char **argv)
{
    return push_ids(ctx, &cfg->imports, argc, argv);
}

const char *pp_set_remove(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                          const void *extra, int argc, char **argv)
{
    return push_ids(ctx, &cfg->removes, argc, argv);
}

/* SecRuleRemoveById/ByTag/ByMsg, SecRuleUpdateTargetById/ByTag/ByMsg, SecRuleUpdateActionById
 * (lang/secrule_edit.c). */
static pp_rule_sel_kind_t sel_kind(const char *directive)
{
    apr_size_t n = strlen(directive);
    if (n > 3 && strcasecmp(directive + n - 3, "Tag") == 0)
        return PP_SEL_BY_TAG;
    if (n > 3 && strcasecmp(directive + n - 3, "Msg") == 0)
        return PP_SEL_BY_MSG;
    return PP_SEL_BY_ID;
}

const char *pp_set_rule_remove(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                               const void *extra, int argc, char **argv)
{
    return pp_secrule_remove(cfg, ctx, sel_kind(ctx->name), argc, argv);
}

const char *pp_set_rule_update_target(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                                      const void *extra, int argc, char **argv)
{
    return pp_secrule_update_target(cfg, ctx, sel_kind(ctx->name), argv[0], argv[1],
                                    argc > 2 ? argv[2] : NULL);
}

const char *pp_set_rule_update_action(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, void *slot,
                                      const void *extra, int argc, char **argv)
{
    return pp_secrule_update_action(cfg, ctx, argv[0], argv[1]);
}
