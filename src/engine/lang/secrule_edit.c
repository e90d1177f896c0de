/*
 * Configuration-time rule editing (reference secrule-2.9 §3, §2.8): SecRuleRemoveById/ByTag/
 * ByMsg, SecRuleUpdateTargetById/ByTag/ByMsg and SecRuleUpdateActionById, applied the way
 * ModSecurity 2.9 applies them:
 * - a removal takes the rules already defined in the same context out at once (a chain goes
 *   whole), and is remembered: inherited rules it names are left out when the context is
 *   merged under its parent (config/config.c, filter_into);
 * - an update changes the rules already defined in the same context and nothing else; when no
 *   rule matches it silently does nothing, as in ModSecurity.
 * Everything happens at start-up; nothing here runs per request.
 */
#include "lang/lang.h"
#include "rules/select.h"
#include <stdlib.h>

/* Calls fn for each chain starter of cfg's own rules that a selector names. */
typedef const char *(*edit_fn)(const pp_setter_ctx_t *ctx, pp_rule_t *starter, void *arg);

static const char *each_selected(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx,
                                 const apr_array_header_t *sels, edit_fn fn, void *arg)
{
    pp_rx_state_t *rx = pp_rx_state_create(ctx->tp);
    for (int i = 0; i < cfg->rules->nelts; i++) {
        pp_rule_t *r = APR_ARRAY_IDX(cfg->rules, i, pp_rule_t *);
        if (!r->lang2 || r->chain_member || r->marker || !pp_rule_sel_match(sels, r, rx))
            continue;
        const char *err = fn(ctx, r, arg);
        if (err)
            return apr_psprintf(ctx->tp, "rule %s (%s:%d): %s", r->id ? r->id : "?",
                                r->file ? r->file : "?", r->line, err);
    }
    return NULL;
}

const char *pp_secrule_remove(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, pp_rule_sel_kind_t kind,
                              int argc, char **argv)
{
    if (!cfg->rule_removals)
        cfg->rule_removals = apr_array_make(ctx->cp, 2, sizeof(pp_rule_sel_t));
    apr_array_header_t *sels = apr_array_make(ctx->tp, 2, sizeof(pp_rule_sel_t));
    for (int i = 0; i < argc; i++) {
        const char *err = pp_rule_sel_parse(ctx->cp, ctx->tp, kind, argv[i], sels);
        if (err)
            return apr_psprintf(ctx->tp, "%s: %s", ctx->name, err);
    }
    apr_array_cat(cfg->rule_removals, sels);
    /* Rules already defined here go now, whole chains at a time. */
    pp_rx_state_t *rx = pp_rx_state_create(ctx->tp);
    apr_array_header_t *rules = cfg->rules;
    int out = 0;
    bool drop = false;
    for (int i = 0; i < rules->nelts; i++) {
        pp_rule_t *r = APR_ARRAY_IDX(rules, i, pp_rule_t *);
        if (!r->chain_member)
            drop = r->lang2 && !r->marker && pp_rule_sel_match(sels, r, rx);
        if (drop) {
            if (cfg->open_chain == r)
                cfg->open_chain = NULL;
            continue;
        }
        APR_ARRAY_IDX(rules, out++, pp_rule_t *) = r;
    }
    rules->nelts = out;
    return NULL;
}

typedef struct update_target_t {
    const char *list, *replaced;
} update_target_t;

/* The targets go to the rule and to every link of its chain (ModSecurity's behaviour). */
static const char *add_targets(const pp_setter_ctx_t *ctx, pp_rule_t *starter, void *arg)
{
    const update_target_t *u = arg;
    for (pp_rule_t *r = starter; r; r = (pp_rule_t *)r->chain_next) {
        /* Targets are split on ',' (a '|' list inside one item is parsed as a list). */
        char *copy = apr_pstrdup(ctx->tp, u->list), *state;
        for (char *item = apr_strtok(copy, ",", &state); item; item = apr_strtok(NULL, ",", &state)) {
            const char *err = pp_secrule_add_targets(ctx, r, item, u->replaced);
            if (err)
                return err;
        }
    }
    return NULL;
}

const char *pp_secrule_update_target(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx,
                                     pp_rule_sel_kind_t kind, const char *selector,
                                     const char *targets, const char *replaced)
{
    apr_array_header_t *sels = apr_array_make(ctx->tp, 2, sizeof(pp_rule_sel_t));
    const char *err = pp_rule_sel_parse(ctx->cp, ctx->tp, kind, selector, sels);
    update_target_t u = { targets, replaced };
    if (!err)
        err = each_selected(cfg, ctx, sels, add_targets, &u);
    return err ? apr_psprintf(ctx->tp, "%s: %s", ctx->name, err) : NULL;
}

typedef struct update_action_t {
    const char *actions;
    int offset;
} update_action_t;

static const char *update_actions(const pp_setter_ctx_t *ctx, pp_rule_t *starter, void *arg)
{
    const update_action_t *u = arg;
    pp_rule_t *r = starter;
    for (int i = 0; r && i < u->offset; i++)
        r = (pp_rule_t *)r->chain_next;
    if (!r)
        return apr_psprintf(ctx->tp, "the chain has no link at offset %d", u->offset);
    return pp_secrule_update_actions(ctx, r, u->actions);
}

const char *pp_secrule_update_action(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx,
                                     const char *idspec, const char *actions)
{
    /* ID or ID:OFFSET (OFFSET: the link of the chain, 0 = the rule itself). */
    const char *colon = strchr(idspec, ':');
    update_action_t u = { actions, 0 };
    const char *id = idspec;
    if (colon) {
        char *end;
        long off = strtol(colon + 1, &end, 10);
        if (*end || off < 0 || colon[1] == '\0')
            return apr_psprintf(ctx->tp, "%s: \"%s\": expected ID or ID:OFFSET", ctx->name, idspec);
        u.offset = (int)off;
        id = apr_pstrmemdup(ctx->tp, idspec, (apr_size_t)(colon - idspec));
    }
    apr_array_header_t *sels = apr_array_make(ctx->tp, 1, sizeof(pp_rule_sel_t));
    const char *err = pp_rule_sel_parse(ctx->cp, ctx->tp, PP_SEL_BY_ID, id, sels);
    if (!err)
        err = each_selected(cfg, ctx, sels, update_actions, &u);
    return err ? apr_psprintf(ctx->tp, "%s: %s", ctx->name, err) : NULL;
}
