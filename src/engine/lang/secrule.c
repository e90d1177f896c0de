/*
 * SecRule and SecAction (ModSecurity 2.9, reference secrule-2.9 §2-§9) → rules of the shared
 * model, evaluated with 2.x semantics (rule->lang2, rules/eval.c). This is the first slice of
 * the language; what it does not take yet is refused at start-up with the reason, never
 * accepted and ignored:
 *
 * - variables: NAME, NAME:key, NAME:/regex/ (keys matching, case-insensitive), &NAME (the
 *   count), !NAME:key and !NAME:/regex/ (exclusions), '|' lists; the rows of the variable table.
 * - operators: "@name argument", "!@name ...", and a bare pattern as @rx; every operator row.
 * - actions: the rows of the action table (lang/actions2/table.c); an action that is not
 *   there is refused with its name.
 * - SecDefaultAction (one current default for the rules that follow, whatever phase it names,
 *   as ModSecurity does) and SecMarker.
 *
 * Action values may be single-quoted ('a, b'; \' is a quote), as ModSecurity writes them.
 */
#include "lang/lang.h"
#include "lang/actions2/actions2.h"
#include "rules/actions/actions.h"
#include "rules/operators/operators.h"
#include "rules/transforms/transforms.h"
#include "rules/variables/collection.h"
#include "tx.h"

#include <apr_lib.h>
#include <stdlib.h>

/* ---- tokenizing ----------------------------------------------------------------------- */

/* ---- actions -------------------------------------------------------------------------- */

typedef pp_rule_build_t rule_build_t;

/* A SecDefaultAction: the base list and transformations of its phase's rules. */
typedef struct default2_t {
    const pp_actionset_t *as;
    const pp_chain_t *chain;
} default2_t;

/* One action through the table (lang/actions2/table.c). */
static const char *one_action(const pp_setter_ctx_t *ctx, rule_build_t *b, const char *name,
                              const char *value)
{
    const pp_action2_def_t *d = pp_action2_find(name);
    if (!d)
        return apr_psprintf(ctx->tp, pp_action2_pending(name) ? "action \"%s\" is not supported yet"
                                                               : "unknown action \"%s\"", name);
    if (d->arity == PP_A2_NOVALUE && value)
        return apr_psprintf(ctx->tp, "action \"%s\" takes no value", d->name);
    if (d->arity == PP_A2_VALUE && (!value || !*value))
        return apr_psprintf(ctx->tp, "action \"%s\" needs a value (%s:...)", d->name, d->name);
    pp_rule_action_t *run = NULL;
    if (d->when == PP_A2_MATCH) {
        run = apr_array_push(b->run);
        run->name = d->name;
    }
    return d->compile(ctx, b, value, run);
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

/* The rule's targets and exclusions from a variable list. With append (SecRuleUpdateTarget*)
 * the list is added to what the rule has, skipping targets it already tests; a non-NULL
 * replaced names the target (as written, "ARGS:foo") whose place the first new one takes. */
static const char *targets_from(const pp_setter_ctx_t *ctx, pp_rule_t *rule,
                                const pp_chain_t *chain, const char *list, bool append,
                                const char *replaced)
{
    apr_array_header_t *targets = apr_array_make(ctx->cp, 4, sizeof(pp_target_t *));
    apr_array_header_t *excl = apr_array_make(ctx->cp, 1, sizeof(pp_exclusion_t));
    int replace_at = -1;
    if (append) {
        for (unsigned i = 0; i < rule->ntargets; i++) {
            if (replaced && replace_at < 0 && strcasecmp(rule->targets[i]->label, replaced) == 0) {
                replace_at = targets->nelts;
                continue;
            }
            APR_ARRAY_PUSH(targets, const pp_target_t *) = rule->targets[i];
        }
        for (unsigned i = 0; i < rule->nexclusions; i++)
            *(pp_exclusion_t *)apr_array_push(excl) = rule->exclusions[i];
    }
    int before = targets->nelts;
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
            pp_exclusion_intern(ctx->cp, e);
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
        if (rule->xmlns && strcmp(var->name, "XML") == 0) {
            t.xmlns = rule->xmlns; /* the rule's namespace prefixes for XPath */
            t.xmlns_key = rule->xmlns_key;
        }
        const pp_target_t *it = pp_target_intern(ctx->cp, &t);
        bool dup = false;
        for (int i = 0; append && i < targets->nelts; i++)
            dup = dup || APR_ARRAY_IDX(targets, i, const pp_target_t *) == it;
        if (!dup)
            APR_ARRAY_PUSH(targets, const pp_target_t *) = it;
    }
    if (replace_at >= 0 && targets->nelts > before) {
        /* The first new target takes the replaced one's place. */
        const pp_target_t **ts = (const pp_target_t **)targets->elts;
        const pp_target_t *first = ts[before];
        memmove(&ts[replace_at + 1], &ts[replace_at], (apr_size_t)(before - replace_at) * sizeof *ts);
        ts[replace_at] = first;
    }
    if (targets->nelts == 0)
        return apr_psprintf(ctx->tp, "no variable to inspect in \"%s\"", list);
    rule->targets = (const pp_target_t **)targets->elts;
    rule->ntargets = (unsigned)targets->nelts;
    pp_rule_set_exclusions(rule, (const pp_exclusion_t *)excl->elts, (unsigned)excl->nelts);
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
    op->name = apr_pstrdup(ctx->cp, name);
    if (!op->def || strcasecmp(name, "rx19") == 0)
        return apr_psprintf(ctx->tp, "unknown operator \"@%s\"", name);
    op->arg = arg; /* the caller's text lives in ctx->cp (pp_secrule_parse) */
    /* @pmFromFile / @ipMatchFromFile: relative names are relative to the rule file's directory,
     * as in ModSecurity. */
    const char *file = ctx->site ? ctx->site->file : NULL;
    const char *slash = file ? strrchr(file, '/') : NULL;
    pp_op_set_base_dir(ctx->cp, slash ? apr_pstrmemdup(ctx->tp, file, (apr_size_t)(slash - file))
                                      : ctx->site ? ctx->site->server_root : NULL);
    /* An argument with "%{" of a row that expands (reference §8.1): with references it is
     * parsed per transaction (rules/oparg.c), so nothing is derived from the template here (no
     * prefilter literals); without, what ModSecurity makes of it is parsed now (@rx escapes). */
    const char *parsed = op->arg;
    if (op->def->expand && strstr(op->arg, "%{")) {
        const pp_macro_t *m = pp_macro_compile(ctx->cp, op->arg);
        if (pp_macro_has_refs(m)) {
            op->macro = m;
            return NULL;
        }
        parsed = op->def->expand(ctx->cp, pp_str_from_cstr(op->arg));
    }
    const char *err = op->def->parse(ctx->cp, parsed, &op->compiled);
    if (err)
        return apr_psprintf(ctx->tp, "@%s: %s", name, err);
    if (op->def->needs)
        op->needs = op->def->needs(op->compiled);
    op->exact = op->def->exact && op->def->exact(op->compiled);
    if (op->def->warn)
        pp_cfg_warn(ctx, apr_psprintf(ctx->tp, "@%s: %s", op->def->name, op->def->warn));
    return NULL;
}

/* msg and tags are expanded per match: their templates are compiled here, once. */
static void compile_templates(apr_pool_t *cp, pp_rule_t *rule)
{
    rule->msg_macro =
        rule->own && rule->own->msg ? pp_macro_compile_shared(cp, rule->own->msg) : NULL;
    const pp_macro_t **t = apr_palloc(cp, sizeof *t * (rule->ntags + 1));
    for (unsigned i = 0; i < rule->ntags; i++)
        t[i] = pp_macro_compile_shared(cp, rule->tags[i]);
    rule->tag_macros = t;
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

/* The rule's file name: the previous rule's copy when it came from the same file (rules of a
 * file are read one after another; CRS: ~800 copies saved). */
static const char *rule_file(const pp_cfg_t *cfg, const pp_setter_ctx_t *ctx)
{
    const char *file = ctx->site ? ctx->site->file : NULL;
    if (!file)
        return NULL;
    if (cfg->rules->nelts) {
        const pp_rule_t *prev = APR_ARRAY_IDX(cfg->rules, cfg->rules->nelts - 1, pp_rule_t *);
        if (prev->file && strcmp(prev->file, file) == 0)
            return prev->file;
    }
    return apr_pstrdup(ctx->cp, file);
}

const char *pp_secrule_parse(pp_cfg_t *cfg, const pp_setter_ctx_t *ctx, const char *variables,
                             const char *op, const char *actions)
{
    pp_rule_t *rule = apr_pcalloc(ctx->cp, sizeof *rule);
    rule->directive = variables ? "SecRule" : "SecAction";
    rule->lang2 = true;
    rule->file = rule_file(cfg, ctx);
    rule->line = ctx->site ? ctx->site->line : 0;
    rule_build_t b = { .rule = rule, .as = pp_actionset_create(ctx->cp),
                       .run = apr_array_make(ctx->cp, 1, sizeof(pp_rule_action_t)),
                       .tags = apr_array_make(ctx->cp, 1, sizeof(const char *)),
                       .tfns = apr_array_make(ctx->tp, 2, sizeof(const pp_tfn_def_t *)) };
    const char *err = parse_actions(ctx, &b, actions);
    if (b.xmlns) { /* xmlns: prefix, URI, ..., NULL for the XML targets (targets_from) */
        rule->xmlns_key = apr_array_pstrcat(ctx->cp, b.xmlns, '\x02');
        APR_ARRAY_PUSH(b.xmlns, const char *) = NULL;
        rule->xmlns = (const char *const *)b.xmlns->elts;
    }
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
    /* ModSecurity refuses a second rule with an id already used in the same context, even
     * one SecRuleRemoveById took out. */
    if (!err && !starter && b.as->id) {
        if (!cfg->ids2)
            cfg->ids2 = apr_hash_make(ctx->cp);
        const pp_rule_t *first = apr_hash_get(cfg->ids2, b.as->id, APR_HASH_KEY_STRING);
        if (first)
            err = apr_psprintf(ctx->tp, "another rule with the same id is at %s:%d",
                               first->file ? first->file : "?", first->line);
        else
            apr_hash_set(cfg->ids2, b.as->id, APR_HASH_KEY_STRING, rule);
    }
    /* A link carries no metadata and no disruptive action (reference §2.6; ModSecurity
     * refuses them at start-up; tag is not checked). */
    if (!err && starter && (b.as->disruptive != PP_TRI_UNSET || b.block))
        err = "disruptive actions belong to the first rule of a chain";
    if (!err && starter && (b.as->msg || b.as->rev || b.as->severity != PP_TRI_UNSET ||
                            rule->logdata || rule->ver || rule->maturity || rule->accuracy))
        err = "msg, rev, severity, logdata, ver, maturity and accuracy belong to the first rule "
              "of a chain";
    if (!err && starter && (b.as->id || b.phase))
        err = "id and phase belong to the first rule of a chain";
    if (!err)
        err = variables ? targets_from(ctx, rule, chain, variables, false, NULL) : NULL;
    if (!err && variables) {
        rule->op_text = op;
        err = parse_operator(ctx, op, &rule->op);
    }
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
    rule->base = base;
    rule->id = b.as->id;
    rule->effective = pp_actionset_merge(ctx->cp, base, b.as);
    /* Phase 5 takes pass, allow and allow:request only, inherited from SecDefaultAction too:
     * ModSecurity 2.9.7 refuses the rest at start-up (tests/e2e/test_ms2_phases.py). */
    int d = rule->effective->disruptive;
    if (phase == PP_PHASE_LOGGING && !starter && d != PP_ACTION_PASS && d != PP_ACTION_ALLOW &&
        d != PP_ACTION_ALLOW_REQUEST)
        return apr_psprintf(ctx->tp, "%s id %s: disruptive actions cannot be specified in the "
                            "logging phase (phase 5 takes pass, allow or allow:request)",
                            rule->directive, b.as->id);
    rule->run = (const pp_rule_action_t *)b.run->elts;
    rule->nrun = (unsigned)b.run->nelts;
    rule->tags = (const char *const *)b.tags->elts;
    rule->ntags = (unsigned)b.tags->nelts;
    compile_templates(ctx->cp, rule);
    if (starter) {
        starter->chain_next = rule;
        rule->chain_member = true;
    }
    cfg->open_chain = b.as->chain ? rule : NULL;
    pp_rule_register(ctx->cp, rule);
    APR_ARRAY_PUSH(cfg->rules, pp_rule_t *) = rule;
    cfg->phase_mask |= 1u << rule->phase;
    cfg->phase_mask2 |= 1u << rule->phase;
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

/* ---- SecRuleUpdateTarget* / SecRuleUpdateActionById (lang/secrule_edit.c) ------------------ */

const char *pp_secrule_add_targets(const pp_setter_ctx_t *ctx, pp_rule_t *rule,
                                   const char *list, const char *replaced)
{
    if (rule->always || rule->marker)
        return NULL; /* a SecAction tests no variable: nothing to update */
    const pp_chain_t *chain = rule->ntargets ? rule->targets[0]->chain : NULL;
    return targets_from(ctx, rule, chain, list, true, replaced);
}

const char *pp_secrule_update_actions(const pp_setter_ctx_t *ctx, pp_rule_t *rule,
                                      const char *actions)
{
    pp_actionset_t *as = pp_actionset_create(ctx->cp);
    if (rule->own)
        *as = *rule->own;
    rule_build_t b = { .rule = rule, .as = as,
                       .run = apr_array_make(ctx->cp, (int)rule->nrun + 1, sizeof(pp_rule_action_t)),
                       .tags = apr_array_make(ctx->cp, (int)rule->ntags + 1, sizeof(const char *)),
                       .tfns = apr_array_make(ctx->tp, 2, sizeof(const pp_tfn_def_t *)) };
    for (unsigned i = 0; i < rule->nrun; i++)
        *(pp_rule_action_t *)apr_array_push(b.run) = rule->run[i];
    for (unsigned i = 0; i < rule->ntags; i++)
        APR_ARRAY_PUSH(b.tags, const char *) = rule->tags[i];
    bool chained = as->chain;
    const char *old_id = as->id;
    const char *skip_after = rule->skip_after;
    const char *err = parse_actions(ctx, &b, actions);
    if (!err && (as->id != old_id && (!old_id || !as->id || strcmp(old_id, as->id) != 0)))
        err = "the id of a rule cannot be changed";
    if (!err && b.phase && (pp_phase_t)b.phase != rule->phase)
        err = "the phase of a rule cannot be changed";
    if (!err && as->chain != chained)
        err = "chain cannot be added or removed by an update";
    if (!err && rule->chain_member && (as->disruptive != rule->own->disruptive || b.block ||
                                       rule->skip_after != skip_after))
        err = "disruptive actions and skipAfter belong to the first rule of a chain";
    if (err)
        return err;
    /* New t: extend the rule's transformations (t:none starts again), as ModSecurity appends. */
    if (b.tfns->nelts && rule->ntargets && !rule->always) {
        const pp_chain_t *chain = rule->targets[0]->chain;
        const pp_target_t **ts = apr_palloc(ctx->cp, rule->ntargets * sizeof *ts);
        for (int i = 0; i < b.tfns->nelts; i++)
            chain = pp_chain_append(ctx->cp, chain, APR_ARRAY_IDX(b.tfns, i, const pp_tfn_def_t *));
        for (unsigned i = 0; i < rule->ntargets; i++) {
            pp_target_t t = *rule->targets[i];
            t.chain = chain;
            t.prefix = NULL;
            ts[i] = pp_target_intern(ctx->cp, &t);
        }
        rule->targets = ts;
    }
    const pp_actionset_t *base = rule->base ? rule->base : default2();
    if (b.block)
        as->disruptive = base->disruptive;
    rule->own = as;
    rule->effective = pp_actionset_merge(ctx->cp, base, as);
    rule->run = (const pp_rule_action_t *)b.run->elts;
    rule->nrun = (unsigned)b.run->nelts;
    rule->tags = (const char *const *)b.tags->elts;
    rule->ntags = (unsigned)b.tags->nelts;
    compile_templates(ctx->cp, rule);
    return NULL;
}
