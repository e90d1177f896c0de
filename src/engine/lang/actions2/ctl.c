/* ctl: (reference §9.5): changes the configuration for the rest of one transaction; the
 * shared rules are never written (tx->overrides, rules/model.h). One row per ctl name: how its
 * value is checked at start-up and what it does per match. Values are checked as ModSecurity
 * 2.9.7 checks them (re_actions.c msre_action_ctl_validate), so a configuration ModSecurity
 * refuses is refused here too, with the reason. */
#include "lang/actions2/actions2.h"
#include "log/log.h"
#include "rules/select.h"
#include "tx.h"

#include <stdlib.h>

typedef struct ctl_t {
    const struct ctl_def_t *def;
    apr_array_header_t *sels;   /* ruleRemove*: the rules named (pp_rule_sel_t, rules/select.h) */
    bool target;                /* ruleRemoveTarget*: only this target of the rules */
    const char *var, *key;      /* the target removed (key NULL: the whole variable) */
    int n;                      /* the value of an On/Off, enum or number row */
    apr_int64_t limit;          /* requestBodyLimit, responseBodyLimit */
    const char *text;           /* requestBodyProcessor; auditLogParts as written */
} ctl_t;

typedef const char *(*ctl_parse_fn)(const pp_setter_ctx_t *ctx, const char *name,
                                    const char *value, ctl_t *c);
typedef void (*ctl_exec_fn)(pp_tx_t *tx, const ctl_t *c);

typedef struct ctl_def_t {
    const char *name;
    ctl_parse_fn parse;
    ctl_exec_fn exec;
} ctl_def_t;

/* ---- rule and target removal ------------------------------------------------------------ */

static void remove_rule(pp_tx_t *tx, unsigned ordinal)
{
    pp_tx_overrides_t *ov = pp_tx_overrides(tx);
    unsigned word = ordinal / 64;
    if (word >= ov->nwords) {
        unsigned n = word + 1 > 2 * ov->nwords ? word + 1 : 2 * ov->nwords;
        uint64_t *bits = apr_pcalloc(tx->pool, n * sizeof *bits);
        if (ov->nwords)
            memcpy(bits, ov->removed, ov->nwords * sizeof *bits);
        ov->removed = bits;
        ov->nwords = n;
    }
    ov->removed[word] |= 1ull << (ordinal % 64);
}

/* ByTag compares the rule's tags macro-expanded when the ctl runs, as ModSecurity does. */
static pp_str_t expanded_tag(void *ctx, const pp_rule_t *r, unsigned i)
{
    pp_tx_t *tx = ctx;
    return pp_macro_expand(tx, r->tag_macros ? r->tag_macros[i]
                                             : pp_macro_compile(tx->pool, r->tags[i]));
}

/* Rules are found by walking the effective list: ctl runs on a match, rarely, and the list
 * is read-only. The rules are selected when the ctl runs (a tag's macros expanded then). */
static void exec_remove(pp_tx_t *tx, const ctl_t *c)
{
    const apr_array_header_t *rules = tx->cfg->effective_rules;
    for (int i = 0; rules && i < rules->nelts; i++) {
        const pp_rule_t *r = APR_ARRAY_IDX(rules, i, const pp_rule_t *);
        if (!r->lang2 || r->chain_member || r->marker ||
            !pp_rule_sel_match_tags(c->sels, r, tx->rx, expanded_tag, tx))
            continue;
        if (!c->target) {
            remove_rule(tx, r->ordinal);
            continue;
        }
        pp_target_removal_t *t = apr_array_push(pp_tx_overrides(tx)->target_removals);
        t->ordinal = r->ordinal;
        t->var = c->var;
        t->key = c->key;
    }
}

static const char *parse_remove(const pp_setter_ctx_t *ctx, const char *name, const char *val,
                                ctl_t *c)
{
    apr_pool_t *cp = ctx->cp;
    c->target = strncasecmp(name, "ruleRemoveTarget", 16) == 0;
    const char *by = name + (c->target ? 16 : 10); /* "ById", "ByTag", "ByMsg" */
    pp_rule_sel_kind_t kind = strcasecmp(by, "ById") == 0    ? PP_SEL_BY_ID
                              : strcasecmp(by, "ByTag") == 0 ? PP_SEL_BY_TAG
                                                             : PP_SEL_BY_MSG;
    const char *semi = c->target ? strchr(val, ';') : NULL;
    if (c->target && (!semi || !semi[1]))
        return apr_psprintf(ctx->tp, "ctl:%s: expected %s;VARIABLE[:key]", name,
                            kind == PP_SEL_BY_ID ? "ID" : kind == PP_SEL_BY_TAG ? "TAG" : "MSG");
    /* Ids and N-M ranges, comma-separated (ModSecurity checks nothing here and ignores what is
     * not a number; a list that is not one stops start-up, as SecRuleRemoveById's does), or a
     * case-sensitive, unanchored regex, as ModSecurity. */
    const char *sel = apr_pstrmemdup(ctx->tp, val, semi ? (apr_size_t)(semi - val) : strlen(val));
    c->sels = apr_array_make(cp, 1, sizeof(pp_rule_sel_t));
    const char *err = pp_rule_sel_parse(cp, ctx->tp, kind, sel, c->sels);
    if (err)
        return apr_psprintf(ctx->tp, "ctl:%s: %s", name, err);
    if (c->target) {
        const char *t = semi + 1, *colon = strchr(t, ':');
        c->var = apr_pstrmemdup(cp, t, colon ? (apr_size_t)(colon - t) : strlen(t));
        c->key = colon ? apr_pstrdup(cp, colon + 1) : NULL;
    }
    return NULL;
}

/* ---- settings ----------------------------------------------------------------------------- */

/* On/Off (any case), as ModSecurity's parse_boolean also takes true/false, 1/0. */
static const char *parse_on_off(const pp_setter_ctx_t *ctx, const char *name, const char *val,
                                ctl_t *c)
{
    if (strcasecmp(val, "on") == 0 || strcasecmp(val, "true") == 0 || strcmp(val, "1") == 0)
        c->n = 1;
    else if (strcasecmp(val, "off") == 0 || strcasecmp(val, "false") == 0 || strcmp(val, "0") == 0)
        c->n = 0;
    else
        return apr_psprintf(ctx->tp, "ctl:%s: \"%s\" is not On or Off", name, val);
    return NULL;
}

static const char *parse_engine(const pp_setter_ctx_t *ctx, const char *name, const char *val,
                                ctl_t *c)
{
    (void)name;
    if (strcasecmp(val, "On") == 0)
        c->n = PP_ENGINE_ON;
    else if (strcasecmp(val, "Off") == 0)
        c->n = PP_ENGINE_OFF;
    else if (strcasecmp(val, "DetectionOnly") == 0)
        c->n = PP_ENGINE_DETECTION_ONLY;
    else
        return apr_psprintf(ctx->tp, "ctl:ruleEngine: \"%s\" is not On, Off or DetectionOnly", val);
    return NULL;
}

static void exec_engine(pp_tx_t *tx, const ctl_t *c)
{
    pp_tx_overrides(tx)->engine = c->n;
}

static const char *parse_audit_engine(const pp_setter_ctx_t *ctx, const char *name,
                                      const char *val, ctl_t *c)
{
    (void)name;
    if (strcasecmp(val, "On") == 0)
        c->n = PP_AUDIT_ON;
    else if (strcasecmp(val, "Off") == 0)
        c->n = PP_AUDIT_OFF;
    else if (strcasecmp(val, "RelevantOnly") == 0)
        c->n = PP_AUDIT_RELEVANT_ONLY;
    else
        return apr_psprintf(ctx->tp, "ctl:auditEngine: \"%s\" is not On, Off or RelevantOnly",
                            val);
    return NULL;
}

static void exec_audit_engine(pp_tx_t *tx, const ctl_t *c)
{
    pp_tx_overrides(tx)->audit_engine = c->n;
}

/* X, +X or -X; the parts are ModSecurity's letters A-K and Z. */
static const char *parse_audit_parts(const pp_setter_ctx_t *ctx, const char *name,
                                     const char *val, ctl_t *c)
{
    (void)name;
    const char *p = val[0] == '+' || val[0] == '-' ? val + 1 : val;
    if (!*p || strspn(p, "ABCDEFGHIJKZ") != strlen(p))
        return apr_psprintf(ctx->tp, "ctl:auditLogParts: \"%s\" is not X, +X or -X with X "
                                     "made of the parts A-K and Z", val);
    c->text = apr_pstrdup(ctx->cp, val);
    return NULL;
}

/* As ModSecurity: '+' appends the letters to the parts in force, '-' removes each. */
static void exec_audit_parts(pp_tx_t *tx, const ctl_t *c)
{
    const char *now = pp_tx_audit_parts(tx) ? pp_tx_audit_parts(tx) : PP_AUDIT_DEFAULT_PARTS;
    const char *v = c->text;
    char *parts;
    if (v[0] == '+') {
        parts = apr_pstrcat(tx->pool, now, v + 1, NULL);
    } else if (v[0] == '-') {
        parts = apr_pstrdup(tx->pool, now);
        char *d = parts;
        for (const char *s = parts; *s; s++)
            if (!strchr(v + 1, *s))
                *d++ = *s;
        *d = '\0';
    } else {
        parts = (char *)v;
    }
    pp_tx_overrides(tx)->audit_parts = parts;
    pp_debug(tx, 4, "Ctl: Set auditLogParts to %s.", parts);
}

static const char *parse_debug_level(const pp_setter_ctx_t *ctx, const char *name,
                                     const char *val, ctl_t *c)
{
    (void)name;
    char *end;
    long n = strtol(val, &end, 10);
    if (*end || end == val || n < 0 || n > 9)
        return apr_psprintf(ctx->tp, "ctl:debugLogLevel: \"%s\" is not 0-9", val);
    c->n = (int)n;
    return NULL;
}

static void exec_debug_level(pp_tx_t *tx, const ctl_t *c)
{
    pp_tx_overrides(tx)->debug_level = c->n;
}

/* ModSecurity's hard limit for both (REQUEST_BODY_HARD_LIMIT, RESPONSE_BODY_HARD_LIMIT). */
#define CTL_BODY_HARD_LIMIT 1073741824

static const char *parse_limit(const pp_setter_ctx_t *ctx, const char *name, const char *val,
                               ctl_t *c)
{
    char *end;
    apr_int64_t n = apr_strtoi64(val, &end, 10);
    if (*end || end == val || n <= 0 || n > CTL_BODY_HARD_LIMIT)
        return apr_psprintf(ctx->tp, "ctl:%s: \"%s\" is not a number of bytes from 1 to %d",
                            name, val, CTL_BODY_HARD_LIMIT);
    c->limit = n;
    return NULL;
}

/* The request body limit counts from phase 1 (the body is read after it), the response's
 * until the response body is held (phases 1-3). */
static void exec_body_limit(pp_tx_t *tx, const ctl_t *c)
{
    pp_tx_overrides(tx)->body_limit = c->limit;
}

static void exec_response_limit(pp_tx_t *tx, const ctl_t *c)
{
    pp_tx_overrides(tx)->response_limit = c->limit;
}

static void exec_body_access(pp_tx_t *tx, const ctl_t *c)
{
    pp_tx_overrides(tx)->body_access = c->n;
}

static void exec_response_access(pp_tx_t *tx, const ctl_t *c)
{
    pp_tx_overrides(tx)->response_access = c->n;
}

/* REQUEST_BODY then also holds a body no processor read (rules/variables/collect2.c). */
static void exec_force_body(pp_tx_t *tx, const ctl_t *c)
{
    pp_tx_overrides(tx)->force_body_variable = c->n;
}

static const char *parse_processor(const pp_setter_ctx_t *ctx, const char *name,
                                   const char *val, ctl_t *c)
{
    (void)name;
    static const char *const known[] = { "URLENCODED", "MULTIPART", "JSON", "XML" };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcasecmp(val, known[i]) == 0)
            c->text = known[i];
    if (!c->text)
        return apr_psprintf(ctx->tp, "ctl:requestBodyProcessor: \"%s\" is not URLENCODED, "
                                     "MULTIPART, JSON or XML", val);
    return NULL;
}

/* Only before the body starts (phase 1), as in ModSecurity, where a later ctl changes nothing
 * that was parsed. */
static void exec_processor(pp_tx_t *tx, const ctl_t *c)
{
    if (pp_tx_set_body_processor(tx, c->text) != APR_SUCCESS)
        pp_debug(tx, 4, "ctl:requestBodyProcessor=%s: the body has started, unchanged", c->text);
}

/* SecHashEngine (signed links and forms) is not implemented: Off is what is in force and is
 * accepted; On would promise a protection that does not run, so it stops start-up. */
static const char *parse_hash(const pp_setter_ctx_t *ctx, const char *name, const char *val,
                              ctl_t *c)
{
    const char *err = parse_on_off(ctx, name, val, c);
    if (!err && c->n)
        err = apr_psprintf(ctx->tp, "ctl:%s=On: hash signing of links and forms (SecHashEngine) "
                                    "is not implemented in Parapet; only Off is accepted", name);
    return err;
}

static void exec_nothing(pp_tx_t *tx, const ctl_t *c)
{
    (void)tx, (void)c;
}

/* clang-format off */
static const ctl_def_t ctls[] = {
    { "auditEngine",              parse_audit_engine, exec_audit_engine },
    { "auditLogParts",            parse_audit_parts,  exec_audit_parts },
    { "debugLogLevel",            parse_debug_level,  exec_debug_level },
    { "forceRequestBodyVariable", parse_on_off,       exec_force_body },
    { "hashEnforcement",          parse_hash,         exec_nothing },
    { "hashEngine",               parse_hash,         exec_nothing },
    { "requestBodyAccess",        parse_on_off,       exec_body_access },
    { "requestBodyLimit",         parse_limit,        exec_body_limit },
    { "requestBodyProcessor",     parse_processor,    exec_processor },
    { "responseBodyAccess",       parse_on_off,       exec_response_access },
    { "responseBodyLimit",        parse_limit,        exec_response_limit },
    { "ruleEngine",               parse_engine,       exec_engine },
    { "ruleRemoveById",           parse_remove,       exec_remove },
    { "ruleRemoveByMsg",          parse_remove,       exec_remove },
    { "ruleRemoveByTag",          parse_remove,       exec_remove },
    { "ruleRemoveTargetById",     parse_remove,       exec_remove },
    { "ruleRemoveTargetByMsg",    parse_remove,       exec_remove },
    { "ruleRemoveTargetByTag",    parse_remove,       exec_remove },
};
/* clang-format on */

static void ctl_exec(pp_tx_t *tx, const void *arg)
{
    const ctl_t *c = arg;
    c->def->exec(tx, c);
}

const char *pp_a2_ctl(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                      pp_rule_action_t *a)
{
    (void)b;
    const char *eq = strchr(v, '=');
    if (!eq)
        return apr_psprintf(ctx->tp, "ctl:%s: expected name=value", v);
    char *name = apr_pstrmemdup(ctx->tp, v, (apr_size_t)(eq - v));
    const ctl_def_t *def = NULL;
    for (size_t i = 0; i < sizeof ctls / sizeof ctls[0] && !def; i++)
        if (strcasecmp(ctls[i].name, name) == 0)
            def = &ctls[i];
    if (!def)
        return apr_psprintf(ctx->tp, "ctl:%s is not a ctl of ModSecurity 2.9 (%s)", name,
                            "auditEngine, auditLogParts, debugLogLevel, forceRequestBodyVariable, "
                            "hashEnforcement, hashEngine, requestBodyAccess, requestBodyLimit, "
                            "requestBodyProcessor, responseBodyAccess, responseBodyLimit, "
                            "ruleEngine, ruleRemoveById/ByMsg/ByTag, "
                            "ruleRemoveTargetById/ByMsg/ByTag");
    if (!eq[1])
        return apr_psprintf(ctx->tp, "ctl:%s: missing value", def->name);
    ctl_t *c = apr_pcalloc(ctx->cp, sizeof *c);
    c->def = def;
    const char *err = def->parse(ctx, def->name, eq + 1, c);
    if (err)
        return err;
    a->exec = ctl_exec;
    a->arg = c;
    return NULL;
}

/* For the registry test: every ctl name, in order. */
const char *pp_a2_ctl_name(apr_size_t i)
{
    return i < sizeof ctls / sizeof ctls[0] ? ctls[i].name : NULL;
}
