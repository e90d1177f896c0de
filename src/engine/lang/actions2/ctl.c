/* ctl: (reference §9.5): changes the configuration for the rest of one transaction; the
 * shared rules are never written (tx->overrides, rules/model.h). */
#include "lang/actions2/actions2.h"
#include "tx.h"

#include <stdlib.h>

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

const char *pp_a2_ctl(const pp_setter_ctx_t *ctx, pp_rule_build_t *b, const char *v,
                      pp_rule_action_t *a)
{
    (void)b;
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
