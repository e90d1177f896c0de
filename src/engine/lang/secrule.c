/*
 * SecRule and SecAction (ModSecurity 2.9, reference secrule-2.9 §2-§9) → rules of the shared
 * model, evaluated with 2.x semantics (rule->lang2, rules/eval.c). This is the first slice of
 * the language; what it does not take yet is refused at start-up with the reason, never
 * accepted and ignored:
 *
 * - variables: NAME, NAME:key, NAME:/regex/ (keys matching, case-insensitive), &NAME (the
 *   count), !NAME:key and !NAME:/regex/ (exclusions), '|' lists; the rows of the variable table.
 * - operators: "@name argument", "!@name ...", and a bare pattern as @rx; every operator row.
 * - actions: id, phase, msg, logdata, severity, tag, rev, ver, maturity, accuracy, t:,
 *   deny, pass, block (the disruptive action of the phase's SecDefaultAction; pass, the
 *   built-in default, without one), status, log, nolog, auditlog, noauditlog, chain, capture,
 *   setvar (TX only), skipAfter (to a SecMarker, resolved in the plan), ctl: ruleEngine,
 *   ruleRemoveById (ids and ranges), ruleRemoveByTag, ruleRemoveTargetById,
 *   ruleRemoveTargetByTag (per transaction, tx->overrides), requestBodyProcessor (phase 1,
 *   pp_tx_set_body_processor).
 *   Not yet: skip, the other ctl:s, allow, drop, redirect, multiMatch, initcol and the rest.
 * - SecDefaultAction (one current default for the rules that follow, whatever phase it names,
 *   as ModSecurity does) and SecMarker.
 *
 * Action values may be single-quoted ('a, b'; \' is a quote), as ModSecurity writes them.
 */
#include "lang/lang.h"
#include "rules/actions/actions.h"
#include "rules/operators/operators.h"
#include "rules/transforms/transforms.h"
#include "rules/variables/collection.h"
#include "tx.h"

#include <apr_lib.h>
#include <stdlib.h>

/* ---- setvar --------------------------------------------------------------------------- */

typedef struct setvar_t {
    const pp_macro_t *name;  /* "tx.key", expanded per match */
    const pp_macro_t *value; /* NULL: unset (!tx.key) */
    bool relative;           /* value starts with + or - */
} setvar_t;

/* Runs one setvar (reference §11.2) against TX; other collections are not initialised yet
 * and are skipped as ModSecurity skips an uninitialised one. */
static void setvar_exec(pp_tx_t *tx, const void *arg)
{
    const setvar_t *sv = arg;
    pp_str_t name = pp_macro_expand(tx, sv->name);
    const char *dot = memchr(name.data, '.', name.len);
    if (!dot || (apr_size_t)(dot - name.data) != 2 || strncasecmp(name.data, "tx", 2) != 0) {
        pp_debug(tx, 3, "setvar: collection of \"%.*s\" is not available; ignored",
                 (int)name.len, name.data);
        return;
    }
    pp_str_t key = { dot + 1, name.len - (apr_size_t)(dot + 1 - name.data) };
    pp_coll_t *c = pp_tx_collection(tx);
    if (!sv->value)
        pp_coll_unset(c, key);
    else if (sv->relative)
        pp_coll_add(c, key, pp_macro_expand(tx, sv->value));
    else
        pp_coll_set(c, key, pp_macro_expand(tx, sv->value));
    pp_tx_changed(tx, PP_SRC_TX);
}

static const char *setvar_compile(apr_pool_t *cp, const char *v, pp_rule_action_t *a)
{
    setvar_t *sv = apr_pcalloc(cp, sizeof *sv);
    bool unset = v[0] == '!';
    const char *eq = strchr(v, '=');
    const char *name = unset ? v + 1 : v;
    if (unset && eq)
        return "setvar: \"!\" removes a variable and takes no value";
    sv->name = pp_macro_compile(cp, eq ? apr_pstrmemdup(cp, name, (apr_size_t)(eq - name)) : name);
    if (!unset) {
        const char *val = eq ? eq + 1 : "1";
        while (*val == ' ' || *val == '\t')
            val++;
        sv->relative = val[0] == '+' || val[0] == '-';
        sv->value = pp_macro_compile(cp, val);
    }
    a->exec = setvar_exec;
    a->arg = sv;
    return NULL;
}

/* ---- ctl ---------------------------------------------------------------------------------- */

typedef enum { CTL_REMOVE_ID, CTL_REMOVE_TAG, CTL_REMOVE_TARGET_ID, CTL_REMOVE_TARGET_TAG,
               CTL_ENGINE, CTL_BODY_PROCESSOR } ctl_kind_t;

typedef struct ctl_t {
    ctl_kind_t kind;
    const char *id_lo, *id_hi;  /* ids or an id range (numeric) */
    const pp_regex_t *tag;      /* ByTag: a regex over the rule's tags, as ModSecurity */
    const char *var, *key;      /* the target removed (key NULL: the whole variable) */
    int engine;
    const char *processor;      /* requestBodyProcessor: URLENCODED, MULTIPART, JSON, XML */
} ctl_t;

static pp_tx_overrides_t *overrides(pp_tx_t *tx)
{
    if (!tx->overrides) {
        tx->overrides = apr_pcalloc(tx->pool, sizeof *tx->overrides);
        tx->overrides->engine = PP_TRI_UNSET;
        tx->overrides->target_removals = apr_array_make(tx->pool, 2, sizeof(pp_target_removal_t));
    }
    return tx->overrides;
}

static void remove_rule(pp_tx_t *tx, unsigned ordinal)
{
    pp_tx_overrides_t *ov = overrides(tx);
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

static bool id_in(const char *id, const ctl_t *c)
{
    if (!id)
        return false;
    if (!c->id_hi)
        return strcmp(id, c->id_lo) == 0;
    char *end;
    long v = strtol(id, &end, 10);
    return !*end && v >= strtol(c->id_lo, NULL, 10) && v <= strtol(c->id_hi, NULL, 10);
}

static bool tag_in(pp_tx_t *tx, const pp_rule_t *r, const ctl_t *c)
{
    for (unsigned i = 0; i < r->ntags; i++) {
        bool m = false;
        if (pp_regex_exec(c->tag, tx->rx, pp_str_from_cstr(r->tags[i]), &m) == APR_SUCCESS && m)
            return true;
    }
    return false;
}

/* Runs a ctl: for this transaction only (the shared rules are never changed). Rules are found
 * by walking the effective list: ctl runs on a match, rarely, and the list is read-only. */
static void ctl_exec(pp_tx_t *tx, const void *arg)
{
    const ctl_t *c = arg;
    if (c->kind == CTL_ENGINE) {
        overrides(tx)->engine = c->engine;
        return;
    }
    if (c->kind == CTL_BODY_PROCESSOR) {
        /* Only before the body starts (phase 1), as in ModSecurity, where a later ctl changes
         * nothing that was parsed. */
        if (pp_tx_set_body_processor(tx, c->processor) != APR_SUCCESS)
            pp_debug(tx, 4, "ctl:requestBodyProcessor=%s: the body has started, unchanged",
                     c->processor);
        return;
    }
    const apr_array_header_t *rules = tx->cfg->effective_rules;
    for (int i = 0; rules && i < rules->nelts; i++) {
        const pp_rule_t *r = APR_ARRAY_IDX(rules, i, const pp_rule_t *);
        if (!r->lang2 || r->chain_member || r->marker)
            continue;
        bool by_id = c->kind == CTL_REMOVE_ID || c->kind == CTL_REMOVE_TARGET_ID;
        if (by_id ? !id_in(r->id, c) : !tag_in(tx, r, c))
            continue;
        if (c->kind == CTL_REMOVE_ID || c->kind == CTL_REMOVE_TAG) {
            remove_rule(tx, r->ordinal);
            continue;
        }
        pp_target_removal_t *t = apr_array_push(overrides(tx)->target_removals);
        t->ordinal = r->ordinal;
        t->var = c->var;
        t->key = c->key;
    }
}

static const char *ctl_compile(const pp_setter_ctx_t *ctx, const char *v, pp_rule_action_t *a)
{
    apr_pool_t *cp = ctx->cp;
    const char *eq = strchr(v, '=');
    if (!eq)
        return apr_psprintf(ctx->tp, "ctl:%s: expected name=value", v);
    char *name = apr_pstrmemdup(ctx->tp, v, (apr_size_t)(eq - v));
    const char *val = eq + 1;
    ctl_t *c = apr_pcalloc(cp, sizeof *c);
    if (strcasecmp(name, "ruleEngine") == 0) {
        c->kind = CTL_ENGINE;
        if (strcasecmp(val, "On") == 0)
            c->engine = PP_ENGINE_ON;
        else if (strcasecmp(val, "Off") == 0)
            c->engine = PP_ENGINE_OFF;
        else if (strcasecmp(val, "DetectionOnly") == 0)
            c->engine = PP_ENGINE_DETECTION_ONLY;
        else
            return apr_psprintf(ctx->tp, "ctl:ruleEngine: \"%s\" is not On, Off or "
                                         "DetectionOnly", val);
    } else if (strcasecmp(name, "requestBodyProcessor") == 0) {
        static const char *const known[] = { "URLENCODED", "MULTIPART", "JSON", "XML" };
        c->kind = CTL_BODY_PROCESSOR;
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            if (strcasecmp(val, known[i]) == 0)
                c->processor = known[i];
        if (!c->processor)
            return apr_psprintf(ctx->tp, "ctl:requestBodyProcessor: \"%s\" is not URLENCODED, "
                                         "MULTIPART, JSON or XML", val);
    } else if (strcasecmp(name, "ruleRemoveById") == 0 ||
               strcasecmp(name, "ruleRemoveTargetById") == 0) {
        bool target = strcasecmp(name, "ruleRemoveTargetById") == 0;
        c->kind = target ? CTL_REMOVE_TARGET_ID : CTL_REMOVE_ID;
        const char *semi = target ? strchr(val, ';') : NULL;
        if (target && !semi)
            return "ctl:ruleRemoveTargetById: expected ID;VARIABLE[:key]";
        char *ids = apr_pstrmemdup(cp, val, semi ? (apr_size_t)(semi - val) : strlen(val));
        char *dash = strchr(ids, '-');
        if (dash && dash != ids) {
            *dash = '\0';
            c->id_hi = dash + 1;
        }
        c->id_lo = ids;
        val = semi ? semi + 1 : NULL;
    } else if (strcasecmp(name, "ruleRemoveByTag") == 0 ||
               strcasecmp(name, "ruleRemoveTargetByTag") == 0) {
        bool target = strcasecmp(name, "ruleRemoveTargetByTag") == 0;
        c->kind = target ? CTL_REMOVE_TARGET_TAG : CTL_REMOVE_TAG;
        const char *semi = target ? strchr(val, ';') : NULL;
        if (target && !semi)
            return "ctl:ruleRemoveTargetByTag: expected TAG;VARIABLE[:key]";
        const char *err;
        c->tag = pp_regex_compile(cp, apr_pstrmemdup(ctx->tp, val, semi ? (apr_size_t)(semi - val)
                                                                        : strlen(val)),
                                  0, &err);
        if (!c->tag)
            return apr_psprintf(ctx->tp, "ctl:%s: %s", name, err);
        val = semi ? semi + 1 : NULL;
    } else {
        return apr_psprintf(ctx->tp, "ctl:%s is not supported yet", name);
    }
    if (c->kind == CTL_REMOVE_TARGET_ID || c->kind == CTL_REMOVE_TARGET_TAG) {
        const char *colon = strchr(val, ':');
        c->var = apr_pstrmemdup(cp, val, colon ? (apr_size_t)(colon - val) : strlen(val));
        c->key = colon ? apr_pstrdup(cp, colon + 1) : NULL;
    }
    a->exec = ctl_exec;
    a->arg = c;
    return NULL;
}

/* ---- tokenizing ----------------------------------------------------------------------- */

/* ---- actions -------------------------------------------------------------------------- */

typedef struct rule_build_t {
    pp_rule_t *rule;
    pp_actionset_t *as;
    apr_array_header_t *run;  /* pp_rule_action_t */
    apr_array_header_t *tags; /* const char * */
    apr_array_header_t *tfns; /* const pp_tfn_def_t *, the t: actions in order */
    int phase;                /* 0: not given */
    bool block;
} rule_build_t;

/* A SecDefaultAction: the base list and transformations of its phase's rules. */
typedef struct default2_t {
    const pp_actionset_t *as;
    const pp_chain_t *chain;
} default2_t;

static int phase_number(const char *v)
{
    if (strcasecmp(v, "request") == 0)
        return 2;
    if (strcasecmp(v, "response") == 0)
        return 4;
    if (strcasecmp(v, "logging") == 0)
        return 5;
    char *end;
    long n = strtol(v, &end, 10);
    return *end || n < 1 || n > 5 ? -1 : (int)n;
}

static const char *one_action(const pp_setter_ctx_t *ctx, rule_build_t *b, const char *name,
                              const char *value)
{
    apr_pool_t *cp = ctx->cp;
    pp_actionset_t *as = b->as;
    /* Actions that take no value. */
    static const char *const novalue[] = { "deny", "pass", "block", "log", "nolog", "auditlog",
                                           "noauditlog", "chain", "capture", NULL };
    for (int i = 0; novalue[i]; i++)
        if (strcasecmp(name, novalue[i]) == 0 && value)
            return apr_psprintf(ctx->tp, "action \"%s\" takes no value", name);
    if (strcasecmp(name, "deny") == 0)
        as->disruptive = PP_ACTION_DENY;
    else if (strcasecmp(name, "pass") == 0)
        as->disruptive = PP_ACTION_PASS;
    else if (strcasecmp(name, "block") == 0)
        b->block = true;
    else if (strcasecmp(name, "log") == 0)
        as->log = 1;
    else if (strcasecmp(name, "nolog") == 0)
        as->log = 0, as->auditlog = as->auditlog == PP_TRI_UNSET ? 0 : as->auditlog;
    else if (strcasecmp(name, "auditlog") == 0)
        as->auditlog = 1;
    else if (strcasecmp(name, "noauditlog") == 0)
        as->auditlog = 0;
    else if (strcasecmp(name, "chain") == 0)
        as->chain = true;
    else if (strcasecmp(name, "capture") == 0)
        b->rule->capture = true;
    else if (!value || !*value)
        return apr_psprintf(ctx->tp, "action \"%s\" needs a value (%s:...) or is not "
                                     "supported yet", name, name);
    else if (strcasecmp(name, "id") == 0)
        as->id = apr_pstrdup(cp, value);
    else if (strcasecmp(name, "rev") == 0)
        as->rev = apr_pstrdup(cp, value);
    else if (strcasecmp(name, "msg") == 0)
        as->msg = apr_pstrdup(cp, value);
    else if (strcasecmp(name, "logdata") == 0)
        b->rule->logdata = pp_macro_compile(cp, value);
    else if (strcasecmp(name, "tag") == 0)
        APR_ARRAY_PUSH(b->tags, const char *) = apr_pstrdup(cp, value);
    else if (strcasecmp(name, "ver") == 0 || strcasecmp(name, "maturity") == 0 ||
             strcasecmp(name, "accuracy") == 0)
        ; /* metadata nothing reads yet */
    else if (strcasecmp(name, "severity") == 0) {
        const char *e = pp_act_severity_parse(cp, value, as);
        if (e)
            return e;
    } else if (strcasecmp(name, "status") == 0) {
        const char *e = pp_act_status_parse(cp, value, as);
        if (e)
            return e;
    } else if (strcasecmp(name, "phase") == 0) {
        b->phase = phase_number(value);
        if (b->phase < 0)
            return apr_psprintf(ctx->tp, "invalid phase \"%s\" (1-5, request, response, "
                                         "logging)", value);
    } else if (strcasecmp(name, "t") == 0) {
        const pp_tfn_def_t *d = pp_tfn_find(value);
        if (!d)
            return apr_psprintf(ctx->tp, "unknown transformation \"%s\"", value);
        APR_ARRAY_PUSH(b->tfns, const pp_tfn_def_t *) = d;
    } else if (strcasecmp(name, "skipAfter") == 0) {
        b->rule->skip_after = apr_pstrdup(cp, value);
    } else if (strcasecmp(name, "setvar") == 0) {
        pp_rule_action_t *a = apr_array_push(b->run);
        a->name = "setvar";
        const char *e = setvar_compile(cp, value, a);
        if (e)
            return e;
    } else if (strcasecmp(name, "ctl") == 0) {
        pp_rule_action_t *a = apr_array_push(b->run);
        a->name = "ctl";
        const char *e = ctl_compile(ctx, value, a);
        if (e)
            return e;
    } else {
        return apr_psprintf(ctx->tp, "action \"%s\" is not supported yet", name);
    }
    return NULL;
}

static const char *parse_actions(const pp_setter_ctx_t *ctx, rule_build_t *b, const char *text)
{
    const char *s = text ? text : "", *err = NULL;
    char *name, *value;
    while (pp_action_item_next(ctx->tp, &s, &name, &value, &err, true)) {
        const char *e = one_action(ctx, b, name, value);
        if (e)
            return e;
    }
    return err;
}

/* ---- variables and operator ----------------------------------------------------------- */

static const char *parse_targets(const pp_setter_ctx_t *ctx, rule_build_t *b,
                                 const pp_chain_t *chain, const char *list)
{
    pp_rule_t *rule = b->rule;
    apr_array_header_t *targets = apr_array_make(ctx->cp, 4, sizeof(pp_target_t *));
    apr_array_header_t *excl = apr_array_make(ctx->cp, 1, sizeof(pp_exclusion_t));
    char *copy = apr_pstrdup(ctx->tp, list), *state;
    for (char *item = apr_strtok(copy, "|", &state); item; item = apr_strtok(NULL, "|", &state)) {
        apr_collapse_spaces(item, item);
        bool exclude = item[0] == '!';
        if (exclude)
            item++;
        bool count = item[0] == '&';
        if (count)
            item++;
        char *colon = strchr(item, ':');
        const char *key = NULL;
        const pp_regex_t *re = NULL;
        if (colon) {
            *colon = '\0';
            key = colon + 1;
            if (key[0] == '\'' && strlen(key) >= 2 && key[strlen(key) - 1] == '\'')
                key = apr_pstrmemdup(ctx->tp, key + 1, strlen(key) - 2);
            apr_size_t kl = strlen(key);
            if (key[0] == '/' && kl >= 2 && key[kl - 1] == '/') {
                /* A regular-expression key, case-insensitive as ModSecurity compiles it. */
                key = apr_pstrmemdup(ctx->cp, key + 1, kl - 2);
                const char *rerr;
                re = pp_regex_compile(ctx->cp, key, PP_RX_ICASE, &rerr);
                if (!re)
                    return apr_psprintf(ctx->tp, "%s:/%s/: %s", item, key, rerr);
            }
        }
        for (char *c = item; *c; c++)
            *c = (char)apr_toupper((unsigned char)*c);
        const pp_var_def_t *var = pp_var_find(item);
        if (!var)
            return apr_psprintf(ctx->tp, "unknown variable \"%s\"", item);
        if (exclude) {
            if (!key || !var->family || count)
                return apr_psprintf(ctx->tp, "\"!%s\": only a member of a collection can be "
                                             "excluded (!%s:name or !%s:/regex/)", item, item, item);
            pp_exclusion_t *e = apr_array_push(excl);
            e->family = var->name;
            e->by_var = true;
            e->name = apr_pstrdup(ctx->cp, key);
            e->icase = true; /* ModSecurity compares exclusion keys case-insensitively */
            e->re = re;
            continue;
        }
        if (key && var->selector == PP_SEL_NONE)
            return apr_psprintf(ctx->tp, "variable %s takes no key", item);
        if (!key && var->selector == PP_SEL_REQUIRED)
            return apr_psprintf(ctx->tp, "variable %s needs a key (%s:name)", item, item);
        pp_target_t t = { 0 };
        t.var = var;
        t.selector = key && !re ? apr_pstrdup(ctx->cp, key) : NULL;
        t.key_regex = re;
        t.key_regex_src = re ? key : NULL;
        t.count = count;
        t.label = key && !re ? apr_pstrcat(ctx->cp, var->name, ":", key, NULL) : var->name;
        t.label_names_value = (!key || re) && var->family != NULL && !count;
        t.label_colon = true;
        t.chain = chain;
        APR_ARRAY_PUSH(targets, const pp_target_t *) = pp_target_intern(ctx->cp, &t);
    }
    if (targets->nelts == 0)
        return apr_psprintf(ctx->tp, "no variable to inspect in \"%s\"", list);
    rule->targets = (const pp_target_t **)targets->elts;
    rule->ntargets = (unsigned)targets->nelts;
    rule->exclusions = (const pp_exclusion_t *)excl->elts;
    rule->nexclusions = (unsigned)excl->nelts;
    return NULL;
}

static const char *parse_operator(const pp_setter_ctx_t *ctx, const char *text, pp_operator_t *op)
{
    const char *s = text;
    while (apr_isspace(*s))
        s++;
    op->negated = s[0] == '!';
    if (op->negated)
        s++;
    const char *name = "rx", *arg = s;
    if (s[0] == '@') {
        const char *e = s + 1;
        while (*e && !apr_isspace(*e))
            e++;
        name = apr_pstrmemdup(ctx->tp, s + 1, (apr_size_t)(e - s - 1));
        while (apr_isspace(*e))
            e++;
        arg = e;
    }
    op->def = pp_op_find(name);
    if (!op->def || strcmp(name, "rx19") == 0)
        return apr_psprintf(ctx->tp, "unknown operator \"@%s\"", name);
    op->arg = apr_pstrdup(ctx->cp, arg);
    /* @pmFromFile / @ipMatchFromFile: relative names are relative to the rule file's directory,
     * as in ModSecurity. */
    const char *file = ctx->site ? ctx->site->file : NULL;
    const char *slash = file ? strrchr(file, '/') : NULL;
    pp_op_set_base_dir(ctx->cp, slash ? apr_pstrmemdup(ctx->tp, file, (apr_size_t)(slash - file))
                                      : ctx->site ? ctx->site->server_root : NULL);
    const char *err = op->def->parse(ctx->cp, op->arg, &op->compiled);
    if (err)
        return apr_psprintf(ctx->tp, "@%s: %s", name, err);
    if (op->def->needs)
        op->needs = op->def->needs(op->compiled);
    return NULL;
}

/* ---- the rule ------------------------------------------------------------------------- */

/* ModSecurity's default when no SecDefaultAction is given: phase:2,log,auditlog,pass. */
static const pp_actionset_t *default2(void)
{
    static const pp_actionset_t d = {
        .disruptive = PP_ACTION_PASS, .status = PP_TRI_UNSET, .log = 1, .auditlog = 1,
        .severity = PP_TRI_UNSET, .pause_ms = PP_TRI_UNSET,
    };
    return &d;
}

const char *pp_secrule_parse(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, const char *variables,
                             const char *op, const char *actions)
{
    pp_rule_t *rule = apr_pcalloc(ctx->cp, sizeof *rule);
    rule->directive = variables ? "SecRule" : "SecAction";
    rule->lang2 = true;
    rule->file = ctx->site && ctx->site->file ? apr_pstrdup(ctx->cp, ctx->site->file) : NULL;
    rule->line = ctx->site ? ctx->site->line : 0;
    rule_build_t b = { .rule = rule, .as = pp_actionset_create(ctx->cp),
                       .run = apr_array_make(ctx->cp, 1, sizeof(pp_rule_action_t)),
                       .tags = apr_array_make(ctx->cp, 1, sizeof(const char *)),
                       .tfns = apr_array_make(ctx->tp, 2, sizeof(const pp_tfn_def_t *)) };
    const char *err = parse_actions(ctx, &b, actions);
    pp_rule_t *starter = cfg->open_chain;
    pp_phase_t phase = starter ? starter->phase
                               : b.phase ? (pp_phase_t)b.phase : PP_PHASE_REQUEST_BODY;
    /* The SecDefaultAction in force is the base, whatever phase it names (reference §2.7:
     * one current default per context); its t: come first unless t:none. */
    const default2_t *dflt = cfg->default2[0];
    const pp_chain_t *chain = dflt ? dflt->chain : NULL;
    for (int i = 0; i < b.tfns->nelts; i++)
        chain = pp_chain_append(ctx->cp, chain, APR_ARRAY_IDX(b.tfns, i, const pp_tfn_def_t *));
    if (!err && starter && rule->skip_after)
        err = "skipAfter belongs to the first rule of a chain";
    if (!err && starter && !starter->lang2)
        err = "a SecRule cannot continue a SecFilter chain";
    if (!err && !starter && !b.as->id)
        err = "rules must have an id (id:N)";
    if (!err && starter && (b.as->id || b.phase))
        err = "id and phase belong to the first rule of a chain";
    if (!err)
        err = variables ? parse_targets(ctx, &b, chain, variables) : NULL;
    if (!err && variables)
        err = parse_operator(ctx, op, &rule->op);
    if (!err && !variables) {
        /* SecAction: one rule that always matches, on no variable. */
        rule->op.def = pp_op_find("rx");
        rule->op.arg = "";
        err = rule->op.def->parse(ctx->cp, "", &rule->op.compiled);
        pp_target_t t = { .var = pp_var_find("REQUEST_METHOD"), .label = "",
                          .label_colon = true, .missing_as_empty = true };
        const pp_target_t **ts = apr_palloc(ctx->cp, sizeof *ts);
        ts[0] = pp_target_intern(ctx->cp, &t);
        rule->targets = ts;
        rule->ntargets = 1;
        rule->always = true;
    }
    if (err)
        return apr_psprintf(ctx->tp, "%s%s%s: %s", rule->directive,
                            b.as->id ? " id " : (starter && starter->id ? " chained to id " : ""),
                            b.as->id ? b.as->id : (starter && starter->id ? starter->id : ""),
                            err);
    rule->phase = phase;
    const pp_actionset_t *base = dflt ? dflt->as : default2();
    if (b.block) /* block: the disruptive action of the phase's SecDefaultAction */
        b.as->disruptive = base->disruptive;
    rule->own = b.as;
    rule->id = b.as->id;
    rule->effective = pp_actionset_merge(ctx->cp, base, b.as);
    rule->run = (const pp_rule_action_t *)b.run->elts;
    rule->nrun = (unsigned)b.run->nelts;
    rule->tags = (const char *const *)b.tags->elts;
    rule->ntags = (unsigned)b.tags->nelts;
    if (starter) {
        starter->chain_next = rule;
        rule->chain_member = true;
    }
    cfg->open_chain = b.as->chain ? rule : NULL;
    pp_rule_register(ctx->cp, rule);
    APR_ARRAY_PUSH(cfg->rules, pp_rule_t *) = rule;
    cfg->phase_mask |= 1u << rule->phase;
    return NULL;
}

const char *pp_secrule_default_action(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx,
                                      const char *actions)
{
    pp_rule_t scratch = { 0 };
    rule_build_t b = { .rule = &scratch, .as = pp_actionset_create(ctx->cp),
                       .run = apr_array_make(ctx->tp, 1, sizeof(pp_rule_action_t)),
                       .tags = apr_array_make(ctx->tp, 1, sizeof(const char *)),
                       .tfns = apr_array_make(ctx->tp, 2, sizeof(const pp_tfn_def_t *)) };
    const char *err = parse_actions(ctx, &b, actions);
    if (!err && (b.as->id || b.as->msg || b.as->chain || b.run->nelts || scratch.skip_after ||
                 scratch.capture || b.tags->nelts || scratch.logdata))
        err = "only the phase, the disruptive action, status, logging and t: belong in a "
              "default action list";
    if (!err && b.block)
        err = "block takes its action from SecDefaultAction and cannot be one";
    if (!err && (!b.phase || b.as->disruptive == PP_TRI_UNSET))
        err = "a default action list needs a phase and a disruptive action (pass, deny)";
    if (err)
        return apr_psprintf(ctx->tp, "SecDefaultAction: %s", err);
    default2_t *d = apr_pcalloc(ctx->cp, sizeof *d);
    /* Unset parts fall back to ModSecurity's built-in phase:2,log,auditlog,pass. */
    d->as = pp_actionset_merge(ctx->cp, default2(), b.as);
    for (int i = 0; i < b.tfns->nelts; i++)
        d->chain = pp_chain_append(ctx->cp, d->chain, APR_ARRAY_IDX(b.tfns, i, const pp_tfn_def_t *));
    /* One current default, replaced by each SecDefaultAction whatever its phase, as in
     * ModSecurity (the phase it names is checked, not used). */
    cfg->default2[0] = d;
    return NULL;
}

const char *pp_secrule_marker(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, const char *name)
{
    if (cfg->open_chain)
        return "SecMarker: the rule before asks for a chain";
    pp_rule_t *rule = apr_pcalloc(ctx->cp, sizeof *rule);
    rule->directive = "SecMarker";
    rule->lang2 = true;
    rule->marker = apr_pstrdup(ctx->cp, name);
    rule->file = ctx->site && ctx->site->file ? apr_pstrdup(ctx->cp, ctx->site->file) : NULL;
    rule->line = ctx->site ? ctx->site->line : 0;
    rule->phase = PP_PHASE_NONE; /* stands in every phase (rules/plan.c) */
    rule->op.arg = "";
    pp_rule_register(ctx->cp, rule);
    APR_ARRAY_PUSH(cfg->rules, pp_rule_t *) = rule;
    return NULL;
}
