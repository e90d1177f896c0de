/*
 * Target interning. A target is a variable, a selector and a transformation chain; every 1.9
 * rule on ARGS uses the same one, so a transaction collects and transforms each distinct target
 * once and every rule reuses the result (the per-transaction cache is indexed by the slot handed
 * out here). A target whose chain has steps has a prefix target (same variable and selector,
 * the chain without its last step), interned with it: the cache keeps the values of a prefix
 * that other targets or rules share, so a chain's prefixes are computed once per value. Rules get their
 * ordinals here too. The registry lives in the configuration pool's user data: one per
 * configuration generation, no globals.
 */
#include "rules/model.h"

#include <apr_hash.h>

typedef struct intern_registry_t {
    apr_hash_t *by_key;
    unsigned count;
    unsigned rules; /* rule ordinals handed out */
} intern_registry_t;

static intern_registry_t *registry(apr_pool_t *cp)
{
    void *data = NULL;
    apr_pool_userdata_get(&data, "parapet-targets", cp);
    if (!data) {
        intern_registry_t *r = apr_pcalloc(cp, sizeof *r);
        r->by_key = apr_hash_make(cp);
        apr_pool_userdata_set(r, "parapet-targets", apr_pool_cleanup_null, cp);
        data = r;
    }
    return data;
}

static pp_target_t *intern(apr_pool_t *cp, const pp_target_t *t)
{
    intern_registry_t *r = registry(cp);
    const pp_chain_t *chain = t->chain && t->chain->depth ? t->chain : NULL;
    const char *key = apr_psprintf(cp, "%s\x01%s\x01%u\x01%d\x01%s\x01%d%d%d\x01%s\x01%s",
                                   t->var->name, t->selector ? t->selector : "",
                                   chain ? chain->id : 0, t->missing_as_empty, t->label,
                                   t->label_names_value, t->label_colon, t->count,
                                   t->key_regex_src ? t->key_regex_src : "",
                                   t->xmlns_key ? t->xmlns_key : "");
    pp_target_t *found = apr_hash_get(r->by_key, key, APR_HASH_KEY_STRING);
    if (found)
        return found;
    found = apr_pmemdup(cp, t, sizeof *t);
    found->chain = chain;
    found->direct = false;
    found->prefix_uses = 0;
    found->prefix = NULL;
    if (chain) {
        /* The prefix target first: its values are what this one's last step transforms. */
        pp_target_t p = *t;
        p.chain = chain->prefix;
        pp_target_t *prefix = intern(cp, &p);
        prefix->prefix_uses++;
        found->prefix = prefix;
    }
    found->slot = r->count++;
    found->source = pp_var_source(t->var);
    apr_hash_set(r->by_key, key, APR_HASH_KEY_STRING, found);
    return found;
}

const pp_target_t *pp_target_intern(apr_pool_t *cp, const pp_target_t *t)
{
    pp_target_t *found = intern(cp, t);
    found->direct = true;
    return found;
}

/* Runs per request from many threads: it must only read. A configuration without rules has no
 * registry, and creating one here would write to the shared configuration pool. */
unsigned pp_target_slot_count(apr_pool_t *cp)
{
    void *data = NULL;
    apr_pool_userdata_get(&data, "parapet-targets", cp);
    return data ? ((const intern_registry_t *)data)->count : 0;
}

void pp_rule_register(apr_pool_t *cp, pp_rule_t *rule)
{
    rule->ordinal = registry(cp)->rules++;
}

unsigned pp_rule_count(apr_pool_t *cp)
{
    void *data = NULL;
    apr_pool_userdata_get(&data, "parapet-targets", cp);
    return data ? ((const intern_registry_t *)data)->rules : 0;
}
