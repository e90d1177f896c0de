/* Disruptive actions and status (reference §9.1): what a matching rule does to the request. */
#include "lang/actions2/actions2.h"
#include "rules/actions/actions.h"

#include <stdlib.h>

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

/* allow, allow:phase, allow:request (reference §9.1): which later phases still run is decided
 * in the loop (rules/eval.c). */
const char *pp_a2_allow(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                        pp_rule_action_t *run)
{
    (void)run;
    if (!v)
        b->as->disruptive = PP_ACTION_ALLOW;
    else if (strcasecmp(v, "phase") == 0)
        b->as->disruptive = PP_ACTION_ALLOW_PHASE;
    else if (strcasecmp(v, "request") == 0)
        b->as->disruptive = PP_ACTION_ALLOW_REQUEST;
    else
        return apr_psprintf(ctx->tp, "allow:%s: allow takes no value, \"phase\" or \"request\"", v);
    return NULL;
}

const char *pp_a2_drop(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                       pp_rule_action_t *run)
{
    (void)ctx, (void)v, (void)run;
    b->as->disruptive = PP_ACTION_DROP;
    return NULL;
}

/* redirect:URL, macro-expanded when it intercepts. */
const char *pp_a2_redirect(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                           pp_rule_action_t *run)
{
    (void)run;
    b->as->disruptive = PP_ACTION_REDIRECT;
    b->as->url = apr_pstrdup(ctx->cp, v);
    return NULL;
}

/* proxy:URL needs mod_proxy: a host that cannot proxy refuses the rule at start-up rather
 * than answering 500 to every request it matches. */
const char *pp_a2_proxy(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                        pp_rule_action_t *run)
{
    (void)run;
    if (ctx->site && ctx->site->no_proxy)
        return "proxy: needs mod_proxy, which is not loaded (LoadModule proxy_module and "
               "proxy_http_module before this rule)";
    b->as->disruptive = PP_ACTION_PROXY;
    b->as->url = apr_pstrdup(ctx->cp, v);
    return NULL;
}

/* pause:ms (macro-expanded): sleep before an interception, at most PP_PAUSE_MAX_MS; as the
 * disruptive action it then lets the request through as allow does (ModSecurity). */
const char *pp_a2_pause(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                        pp_rule_action_t *run)
{
    (void)run;
    const pp_macro_t *m = pp_macro_compile(ctx->cp, v);
    if (!pp_macro_has_refs(m)) {
        char *end;
        long ms = strtol(v, &end, 10);
        if (*end || end == v || ms < 0)
            return apr_psprintf(ctx->tp, "pause:%s: a number of milliseconds", v);
        if (ms > PP_PAUSE_MAX_MS)
            pp_cfg_warn(ctx, apr_psprintf(ctx->tp, "pause:%ld is longer than Parapet's bound; "
                                                   "the request is paused %d ms",
                                          ms, PP_PAUSE_MAX_MS));
    }
    b->as->disruptive = PP_ACTION_PAUSE;
    b->rule->pause = m;
    return NULL;
}
